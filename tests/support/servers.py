"""Throwaway servers on 127.0.0.1 that the tests' clients talk to.

* :class:`StaticHTTPServer`: Python's ``http.server`` serving one directory
  read-only (an HTTP remote for ``dvc pull``, a built docs site), recording
  each request.
* :class:`S3Server`: moto's S3-compatible server (``ThreadedMotoServer``), as a
  user would run MinIO.
* :class:`JSONServer`: canned JSON answers by method and path
  (pytest-httpserver), over HTTPS with a throwaway certificate for 127.0.0.1
  (trustme; a client trusts it through ``SSL_CERT_FILE``) or plain HTTP;
  :class:`ServingApp` gives it the answers of a deployed model server.
* :class:`SSHServer`: a real OpenSSH ``sshd`` with its own throwaway host key,
  client key, port and configuration file; nothing of the machine's own sshd
  setup is used or changed.

Each one is a context manager that stops only the thread or process it started.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import trustme
from moto.server import ThreadedMotoServer
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LOOPBACK = "127.0.0.1"
SSHD_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])

# --- Processes (sshd here; `make docs-serve`, a container's CMD, uvicorn elsewhere) ---
# Not pytest-xprocess: it keeps one process per name across test sessions (it
# reuses one still running, under .pytest_cache) and waits for a log line,
# where these are per-test servers on a fresh port, ready when the port accepts
# a connection (sshd at LogLevel ERROR logs nothing when it is).


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Return once ``port`` accepts connections; fail with the server's log if it died."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    state = "did not listen" if process.poll() is None else f"exited {process.returncode}"
    raise RuntimeError(f"{process.args!r} {state} on {port}:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate one process this module started (by its handle, never by name)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_server(command: list[str], port: int, log: Path) -> subprocess.Popen:
    """Start a server process logging to ``log``; return once it listens on ``port``."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        wait_for_port(port, process, log)
    except BaseException:
        stop_process(process)
        raise
    return process


def get_json(url: str) -> tuple[int, dict]:
    """``GET url`` from a JSON app: (status, body), an error's status and body too."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# --- HTTP servers in a thread of the test process ---------------------------------


class StaticHTTPServer:
    """Serve ``directory`` over plain HTTP on loopback; GET and HEAD only.

    The standard library's file server, not pytest-httpserver: that one answers
    the requests a test registers, not a directory tree (a folder's
    ``index.html``, HEAD, 404 for what is missing), which the docs site and
    DVC's HTTP remote need.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.requests: list[str] = []
        requests = self.requests

        class QuietHandler(SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                requests.append(f"{self.command} {self.path} {code}")

        handler = functools.partial(QuietHandler, directory=str(directory))
        self._server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


# (method, path without the query, request body or None) -> (status, JSON answer)
Handler = Callable[[str, str, object], tuple[int, object]]


class JSONServer:
    """Answer every request with ``handler``'s JSON (pytest-httpserver), recording each.

    With ``tls_dir``, serve HTTPS with a certificate for 127.0.0.1 from a
    throwaway authority (trustme), whose certificate is written there
    (``self.cert``): a client trusts it through ``SSL_CERT_FILE``.
    """

    def __init__(self, handler: Handler, tls_dir: Path | None = None) -> None:
        self.cert: Path | None = None
        context = None
        if tls_dir is not None:
            authority = trustme.CA()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            authority.issue_cert(LOOPBACK).configure_cert(context)
            tls_dir.mkdir(parents=True, exist_ok=True)
            self.cert = tls_dir / "ca.pem"
            authority.cert_pem.write_to_path(str(self.cert))
        self._server = HTTPServer(host=LOOPBACK, port=0, ssl_context=context, threaded=True)

        def answer(request: Request) -> Response:
            path = raw_path(request).split("?")[0]
            status, data = handler(request.method, path, json_body(request))
            return Response(json.dumps(data), status, content_type="application/json")

        self._server.expect_request(re.compile(".*")).respond_with_handler(answer)

    def __enter__(self) -> Self:
        self._server.start()
        self.address = f"{LOOPBACK}:{self._server.port}"
        self.url = self._server.url_for("").rstrip("/")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    @property
    def requests(self) -> list[tuple[str, str, object, dict]]:
        """Every request so far: method, path (with ``?query`` when it has one), JSON body
        or None, headers."""
        return [
            (request.method, raw_path(request), json_body(request), dict(request.headers))
            for request, _ in self._server.log
        ]


def raw_path(request: Request) -> str:
    """The path and query as the client sent them (``%20`` stays ``%20``; werkzeug's server)."""
    return str(request.environ["REQUEST_URI"])


def json_body(request: Request) -> object:
    """The request's JSON body, or None when it has none."""
    data = request.get_data()
    return json.loads(data) if data else None


class S3Server:
    """moto's S3-compatible server (``ThreadedMotoServer``) on a loopback port.

    moto keeps its buckets in the test process: each server starts from none
    (moto's ``/moto-api/reset``), as a fresh ``moto_server`` process would.
    """

    # moto accepts any keys; DVC still needs some, as it would for MinIO.
    ACCESS_KEY_ID = "loopback-test-key"
    SECRET_ACCESS_KEY = "loopback-test-secret"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)

    def __enter__(self) -> S3Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        urllib.request.urlopen(
            urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=30
        ).close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    def client(self):
        """A boto3 S3 client for this server (boto3 comes with moto)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.ACCESS_KEY_ID,
            aws_secret_access_key=self.SECRET_ACCESS_KEY,
        )

    def credentials_env(self) -> dict[str, str]:
        """The environment of a DVC command that uses this server's keys and
        nothing of the machine's own AWS configuration."""
        return {
            "AWS_ACCESS_KEY_ID": self.ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": self.SECRET_ACCESS_KEY,
            "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials"),
        }

    def create_bucket(self, name: str) -> None:
        """Create an empty bucket, as an administrator would before the first push."""
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


def sshd_path() -> str | None:
    """The OpenSSH server binary, also where root's PATH lacks the sbin directories."""
    return shutil.which("sshd", path=SSHD_SEARCH_PATH)


def sshd_unavailable() -> str | None:
    """Why a private sshd cannot be started on this machine, or None when it can."""
    if sshd_path() is None:
        return "sshd is not installed (Debian: apt-get install openssh-server; .ci/run does it)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed (Debian: apt-get install openssh-client)"
    # As root, sshd insists on its privilege-separation directory (compiled in).
    privsep = Path("/run/sshd")
    if os.geteuid() == 0 and not privsep.is_dir():
        try:
            privsep.mkdir(mode=0o755, parents=True)
        except OSError as error:
            return f"sshd needs {privsep}, which cannot be created: {error}"
    return None


class SSHServer:
    """A private sshd on loopback that lets one user in with a throwaway key.

    The user is the current one unless ``user`` names another (which needs root:
    only root's sshd can log in as someone else). Hand-written: no kept library
    starts a real OpenSSH server (DVC's sftp and ssh remotes need the real one).
    """

    def __init__(self, workdir: Path, user: str | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.user = user or getpass.getuser()
        self.host_key = workdir / "ssh_host_ed25519_key"
        self.client_key = workdir / "client_ed25519_key"
        self.config = workdir / "sshd_config"
        self._process: subprocess.Popen | None = None
        self._shared: Path | None = None

    def shared_dir(self) -> Path:
        """A folder the server's user can reach: the workdir, or for another user
        a world-traversable one beside it (pytest's temp folders are private)."""
        if self.user == getpass.getuser():
            return self.workdir
        if self._shared is None:
            self._shared = Path(tempfile.mkdtemp(prefix="sshd-shared-"))
            self._shared.chmod(0o755)
        return self._shared

    def known_hosts_line(self, key: Path | None = None) -> str:
        """The ``known_hosts`` entry of this server (``[host]:port`` form).

        ``key`` names another key pair, to write an entry that must not match.
        """
        public = (key or self.host_key).with_suffix(".pub")
        key_type, encoded = public.read_text().split()[:2]
        return f"[{LOOPBACK}]:{self.port} {key_type} {encoded}\n"

    def _write_keys_and_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for key in (self.host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dvc-test", "-f", str(key)],
                check=True,
                capture_output=True,
            )
        authorized = self.shared_dir() / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        authorized.chmod(0o644 if self.user != getpass.getuser() else 0o600)
        self.config.write_text(
            "\n".join(
                [
                    f"ListenAddress {LOOPBACK}",
                    f"Port {self.port}",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    # The key files live under the world-writable temp directory.
                    "StrictModes no",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )

    def __enter__(self) -> SSHServer:
        self._write_keys_and_config()
        # -D: stay in the foreground (this handle can stop it); -e: log to the file.
        command = [str(sshd_path()), "-D", "-e", "-f", str(self.config)]
        self._process = start_server(command, self.port, self.workdir / "sshd.log")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            stop_process(self._process)
        if self._shared is not None:
            shutil.rmtree(self._shared, ignore_errors=True)


class ServingApp:
    """A deployed model server's answers, for a :class:`JSONServer`: ``/health``
    with the SHA-256 of the model it is told to serve, and ``/predict``."""

    def __init__(self, sha256: str = "") -> None:
        self.sha256 = sha256

    def __call__(self, method: str, path: str, body: object) -> tuple[int, dict]:
        if path == "/health":
            return 200, {"status": "ok", "model": {"sha256": self.sha256}, "metrics": {}}
        instances = body.get("instances", []) if isinstance(body, dict) else []
        predictions = [{"prediction": 1, "probability": 0.9} for _ in instances]
        return 200, {"model_version": self.sha256[:12], "predictions": predictions}


class CloudRunIngress:
    """Cloud Run in front of one service's container, for a :class:`JSONServer`.

    A service answers a call without credentials only when its IAM policy lets
    ``allUsers`` invoke it (``roles/run.invoker``); else Google's front end
    answers 403 before the container sees the call
    (https://cloud.google.com/run/docs/authenticating/public). The stand-in of
    deploy-cloudrun writes each service's invokers to ``cloud.json``
    (``cloud_run_invokers``): none for a service it created.
    """

    def __init__(self, app: Handler, cloud_json: Path, service: str) -> None:
        self.app, self.cloud_json, self.service = app, cloud_json, service

    def __call__(self, method: str, path: str, body: object) -> tuple[int, object]:
        cloud = json.loads(self.cloud_json.read_text())
        if "allUsers" not in cloud.get("cloud_run_invokers", {}).get(self.service, []):
            return 403, {"error": "Forbidden: your client does not have permission"}
        return self.app(method, path, body)
