"""The DVC remote in CI, run in act against real servers on 127.0.0.1.

- SSH: a private sshd that lets in only a user other than the one running the
  tests; the workflow must log in as the ``DVC_SSH_USER`` it is given, and only
  after OpenSSH accepted the server's host key.
- HTTP: a server that demands basic authentication; DVC must send the
  credentials from the secrets.
- The read-only remote: a plain HTTPS(-like) mirror that runs without any
  setting, for a project whose storage remote CI cannot reach and for forks.
"""

from __future__ import annotations

import base64
import getpass
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from support.actions_engine import GitHubRepository
from support.helpers import Baked, bake
from support.servers import LOOPBACK, SSHServer, StaticHTTPServer, sshd_unavailable

pytestmark = pytest.mark.slow

CI_USER = "dvc-ci"
COMMIT = ("git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "--quiet")


def other_user() -> str:
    """A system account for CI on the SSH server, created once (root only)."""
    if os.geteuid() != 0:
        pytest.skip("logging in as another user needs root's sshd")
    found = subprocess.run(["getent", "passwd", CI_USER], capture_output=True)
    if found.returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", CI_USER],
            check=True,
        )
        # An unlocked account without a password: OpenSSH refuses locked ones.
        subprocess.run(["usermod", "--password", "*", CI_USER], check=True)
    return CI_USER


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SSHServer]:
    """A private sshd on loopback for CI_USER (tests/support/servers.py)."""
    reason = sshd_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to start sshd: {reason}")
        pytest.skip(reason)
    with SSHServer(tmp_path / "sshd", user=other_user()) as server:
        yield server


def use_remote(project: Baked, url: str, name: str = "storage") -> None:
    """Point a remote of the project somewhere else and commit it, as a user would."""
    project.run("dvc", "remote", "modify", name, "url", url)
    project.run(*COMMIT, "--no-verify", "--all", "-m", f"Move the {name} remote")


@pytest.mark.parametrize("host_key", ["the server's", "an impostor's"])
def test_ssh_logs_in_as_the_configured_user_after_checking_the_host_key(
    tmp_path: Path, baked_venv: Path, sshd: SSHServer, host_key: str
) -> None:
    assert sshd.user != getpass.getuser()
    storage = sshd.shared_dir() / "storage"
    storage.mkdir()
    shutil.chown(storage, user=sshd.user)
    project = bake(tmp_path / "bake", dvc_remote="ssh", venv=baked_venv)
    use_remote(project, f"ssh://{LOOPBACK}:{sshd.port}{storage}")
    repo = GitHubRepository(project, tmp_path / "github")
    impostor = host_key == "an impostor's"
    repo.secrets["DVC_SSH_KEY"] = sshd.client_key.read_text().strip()
    repo.vars["DVC_SSH_USER"] = sshd.user
    repo.vars["DVC_SSH_KNOWN_HOSTS"] = sshd.known_hosts_line(
        key=sshd.client_key if impostor else None
    ).strip()

    run = repo.run("train.yml", "schedule")
    if impostor:
        assert run["train"].result == "failure"
        assert any("Host key verification failed" in line for line in run["train"].output)
        assert not list(storage.iterdir())
        return
    assert run["train"].result == "success", run.describe()
    pushed = [p for p in storage.rglob("*") if p.is_file()]
    assert pushed, "the train job pushed data, model and run cache"
    assert {p.owner() for p in pushed} == {sshd.user}
    # The key went to the job's temporary directory, never to ~/.ssh.
    assert not (repo.home / ".ssh").exists()


class BasicAuthHandler(SimpleHTTPRequestHandler):
    """Serves files only to requests with the expected basic credentials."""

    expected = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        given = self.headers.get("Authorization", "")
        self.seen.append(given)
        if given != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="dvc"')
            self.end_headers()
            return
        super().do_GET()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


def test_http_credentials_reach_the_server(tmp_path: Path, baked_venv: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()

    class Handler(BasicAuthHandler):
        expected = "Basic " + base64.b64encode(b"ci-user:s3cr3t").decode()
        seen: list[str] = []

    server = ThreadingHTTPServer((LOOPBACK, 0), partial(Handler, directory=str(served)))
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        project = bake(tmp_path / "bake", dvc_remote="http", venv=baked_venv)
        use_remote(project, f"http://{LOOPBACK}:{server.server_port}/dvc")
        repo = GitHubRepository(project, tmp_path / "github")
        repo.secrets.update(DVC_HTTP_USER="ci-user", DVC_HTTP_PASSWORD="s3cr3t")
        run = repo.run("testing.yml", "push", job="pipeline")
        assert run.returncode == 0, run.describe()
        assert Handler.seen and set(Handler.seen) == {Handler.expected}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mirrored(tmp_path: Path, baked_venv: Path) -> Iterator[Baked]:
    """A trained project whose local storage remote has a read-only HTTP mirror."""
    mirror_dir = tmp_path / "mirror"
    mirror_dir.mkdir()
    with StaticHTTPServer(mirror_dir) as mirror:
        project = bake(tmp_path / "bake", dvc_read_remote_url=mirror.url, venv=baked_venv)
        project.run("dvc", "repro")
        project.run("dvc", "push", "--run-cache")
        shutil.copytree(
            tmp_path / "bake" / "ml-project-dvc-storage", mirror_dir, dirs_exist_ok=True
        )
        project.run("git", "add", "--all")
        project.run(*COMMIT, "--no-verify", "-m", "Trained")
        yield project


def test_the_read_only_remote_serves_runs_without_credentials(
    tmp_path: Path, mirrored: Baked
) -> None:
    repo = GitHubRepository(mirrored, tmp_path / "github")
    # The storage remote is a directory on a workstation: CI pulls the mirror.
    run = repo.run("testing.yml", "push", job="pipeline")
    assert run.returncode == 0, run.describe()
    output = "\n".join(run["pipeline"].output)
    assert "Pulling from the DVC remote 'readonly'" in output
    assert "Stage 'train' didn't change, skipping" in output, output[-3000:]
