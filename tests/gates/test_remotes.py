"""DVC remotes work for real: push, fresh clone, pull, byte for byte, on 127.0.0.1.

Round trips run against real servers on loopback: a local directory, that same
directory served read-only over HTTP, moto's S3-compatible server (configured the
way a MinIO user would: endpoint and keys in ``.dvc/config.local``) and a private
OpenSSH sshd. Google Cloud Storage and Azure get what can be checked without an
account: the configuration DVC reads back. What a bake writes and refuses for
each remote, without any server, is in test_remotes_bake.py.

The pipeline really runs once per test run (``pipeline_run``, shared by the
xdist workers). Each project under test starts from its committed results and a
copy of its DVC cache, so its ``dvc repro`` restores the stages from DVC's
run-cache instead of training again, as on a machine with a shared cache. Each
round trip prints how long its push and its pull took.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from support.helpers import CREDENTIAL_KEYS, SLUG, Baked, bake, clean_env, file_lock
from support.servers import S3Server, SSHServer, StaticHTTPServer, sshd_unavailable

# Every test uses bakes with the shared baked virtualenv.
pytestmark = pytest.mark.slow

IDENTITY = ["-c", "user.name=Remote Tester", "-c", "user.email=remote@example.com"]


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long the block took (shown with ``pytest -s`` or in the report)."""
    start = time.monotonic()
    yield
    print(f"\n[remotes] {label}: {time.monotonic() - start:.1f}s")


def commit_all(project: Baked, message: str) -> None:
    """Commit every change, dvc.lock included, as a user would after ``dvc repro``."""
    project.run("git", "add", "--all")
    project.run("git", *IDENTITY, "commit", "--quiet", "--no-verify", "-m", message)


def clone(project: Baked, destination: Path) -> Baked:
    """A fresh ``git clone`` of the project: what a teammate or CI starts from."""
    subprocess.run(
        ["git", "clone", "--quiet", str(project.path), str(destination)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    return Baked(destination, project.answers, project.venv)


def lock_outputs(project: Baked) -> dict[str, str]:
    """Every pipeline output recorded in dvc.lock -> its md5."""
    lock = yaml.safe_load(project.read("dvc.lock"))
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
    }


def dvc_managed(project: Baked) -> dict[str, str]:
    """The outputs kept out of git (DVC-cached, git-ignored) -> md5: what a pull restores."""
    outputs = lock_outputs(project)
    ignored = project.run("git", "check-ignore", *outputs, check=False).stdout.split()
    return {path: outputs[path] for path in ignored}


def remote_objects(project: Baked) -> set[str]:
    """Where DVC 3 stores the cached outputs inside a remote (``files/md5/ab/cdef...``)."""
    return {f"files/md5/{md5[:2]}/{md5[2:]}" for md5 in dvc_managed(project).values()}


def reuse_pipeline_run(source: Baked, project: Baked) -> None:
    """Give ``project`` the results of the one real pipeline run, then commit.

    What a merge of the run's commit brings (dvc.lock and the small outputs kept
    in git) is copied over, with a copy of the DVC cache (as on a machine with a
    shared cache). ``dvc repro`` then runs nothing: it checks the cached stages
    out from DVC's run-cache (only ``train`` runs).
    """
    shutil.copytree(source.path / ".dvc" / "cache", project.path / ".dvc" / "cache")
    in_git = set(lock_outputs(source)) - set(dvc_managed(source))
    for relative in ["dvc.lock", *in_git]:
        (project.path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source.path / relative, project.path / relative)
    with timed(f"{project.answers.get('dvc_remote', 'local')} dvc repro from the run-cache"):
        result = project.run("dvc", "repro")
    assert "Stage 'prepare' is cached - skipping run" in result.stdout, result.stdout
    # train writes an uncached record (reports/training.json) that DVC's
    # run-cache cannot restore.
    assert re.findall(r"Running stage '(\w+)'", result.stdout) == ["train"], result.stdout
    commit_all(project, "Run the pipeline")


def push(project: Baked, label: str, *args: str, extra_env: dict | None = None) -> None:
    """``dvc push``, timed (each test then looks for the objects on the server side)."""
    with timed(f"{label} push"):
        project.run("dvc", "push", *args, extra_env=extra_env)


def assert_pull_restores_everything(
    source: Baked, copy: Baked, label: str, *args: str, extra_env: dict | None = None
) -> None:
    """``dvc pull`` in a clone restores each output byte for byte; status is clean."""
    pulled = dvc_managed(source)
    assert pulled, "the pipeline should leave DVC-managed outputs"
    assert not any((copy.path / path).exists() for path in pulled), "git must not carry them"
    with timed(f"{label} pull"):
        copy.run("dvc", "pull", *args, extra_env=extra_env)
    for path in lock_outputs(source):
        assert (copy.path / path).read_bytes() == (source.path / path).read_bytes(), path
    status = copy.run("dvc", "status", "--json", extra_env=extra_env)
    assert json.loads(status.stdout) == {}, status.stdout


def assert_no_credentials_committed(project: Baked) -> None:
    """``.dvc/config`` has no secret, and the git-ignored config.local stays untracked."""
    config = project.read(".dvc/config")
    assert not [key for key in CREDENTIAL_KEYS if key in config], config
    ignored = project.run("git", "check-ignore", ".dvc/config.local", check=False)
    assert ignored.returncode == 0, ".dvc/config.local must be git-ignored"
    assert project.run("git", "status", "--porcelain").stdout == ""


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """A default project whose pipeline ran, once for the whole test run.

    Under pytest-xdist every worker shares it (a file lock in the run's common
    temporary directory), so the model is trained once, not once per worker.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's directory, common to all the workers
    seed = base / "remotes-pipeline-run"
    with file_lock(base / "remotes-pipeline-run.lock"):
        if not (seed / "done").exists():
            shutil.rmtree(seed, ignore_errors=True)
            project = bake(seed, venv=baked_venv)
            with timed("pipeline (dvc repro, once per test run)"):
                project.run("dvc", "repro")
            commit_all(project, "Run the pipeline")
            (seed / "done").touch()
    return Baked(seed / SLUG, {}, baked_venv)


@pytest.fixture(scope="module")
def http_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticHTTPServer]:
    """An HTTP server on loopback serving the directory the local project is baked in."""
    base = tmp_path_factory.mktemp("remotes")
    with StaticHTTPServer(base) as server:
        yield server


@pytest.fixture(scope="module")
def local_project(pipeline_run: Baked, http_served: StaticHTTPServer, baked_venv: Path) -> Baked:
    """The default (local remote) project, with the HTTP server as its read-only remote.

    The local remote ``../ml-project-dvc-storage`` is the directory the HTTP
    server publishes at ``/ml-project-dvc-storage``. The pipeline's results are
    committed.
    """
    read_url = f"{http_served.url}/{SLUG}-dvc-storage"
    project = bake(http_served.directory, venv=baked_venv, dvc_read_remote_url=read_url)
    reuse_pipeline_run(pipeline_run, project)
    return project


def test_local_remote_round_trip(local_project: Baked) -> None:
    storage = local_project.path.parent / f"{SLUG}-dvc-storage"
    assert local_project.read(".dvc/config").count(f"url = ../../{SLUG}-dvc-storage\n") == 1
    push(local_project, "local")
    stored = {p.relative_to(storage).as_posix() for p in storage.rglob("*") if p.is_file()}
    assert remote_objects(local_project) <= stored

    # A sibling clone: the relative remote path points at the same directory.
    copy = clone(local_project, local_project.path.parent / f"{SLUG}-local-clone")
    assert_pull_restores_everything(local_project, copy, "local")
    assert_no_credentials_committed(copy)


def test_http_read_only_remote_pull(local_project: Baked, http_served: StaticHTTPServer) -> None:
    push(local_project, "http (push to the local remote it serves)")
    copy = clone(local_project, local_project.path.parent / f"{SLUG}-http-clone")
    remotes = [line.split() for line in copy.run("dvc", "remote", "list").stdout.splitlines()]
    assert ["readonly", f"{http_served.url}/{SLUG}-dvc-storage"] in remotes, remotes
    del http_served.requests[:]
    assert_pull_restores_everything(local_project, copy, "http", "--remote", "readonly")
    fetched = {
        request.split()[1].removeprefix(f"/{SLUG}-dvc-storage/")
        for request in http_served.requests
        if request.startswith("GET ") and request.endswith(" 200")
    }
    assert remote_objects(local_project) <= fetched, http_served.requests


def test_s3_round_trip_with_a_local_endpoint(
    pipeline_run: Baked, tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(tmp_path / "work", venv=baked_venv, dvc_remote="s3")
    bucket = f"{SLUG}-dvc"
    assert project.answers["dvc_remote"] == "s3"
    assert f"url = s3://{bucket}/storage\n" in project.read(".dvc/config")
    # No stray credentials from the machine; DVC must use config.local's keys.
    aws_env = {
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with S3Server(tmp_path / "moto") as s3:
        s3.create_bucket(bucket)

        def configure(target: Baked) -> None:
            for option, value in (
                ("endpointurl", s3.url),
                ("access_key_id", s3.ACCESS_KEY_ID),
                ("secret_access_key", s3.SECRET_ACCESS_KEY),
            ):
                target.run("dvc", "remote", "modify", "--local", "storage", option, value)

        reuse_pipeline_run(pipeline_run, project)
        configure(project)
        push(project, "s3", extra_env=aws_env)
        assert_no_credentials_committed(project)
        assert {f"storage/{key}" for key in remote_objects(project)} <= set(s3.keys(bucket))

        copy = clone(project, tmp_path / "clone")
        configure(copy)  # config.local is not in git: each clone sets its own
        assert_pull_restores_everything(project, copy, "s3", extra_env=aws_env)
        assert_no_credentials_committed(copy)


def sftp_host_key_check(sshd: SSHServer, known_hosts: Path) -> subprocess.CompletedProcess:
    """The OpenSSH check docs/remotes.md recommends before DVC connects over SSH."""
    return subprocess.run(
        [
            "sftp",
            "-b",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-i",
            str(sshd.client_key),
            "-P",
            str(sshd.port),
            f"{sshd.user}@127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )


def test_ssh_round_trip_with_a_private_sshd(
    pipeline_run: Baked, tmp_path: Path, baked_venv: Path
) -> None:
    reason = sshd_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to start sshd: {reason}")
        pytest.skip(reason)
    storage = tmp_path / "server-side" / "dvc-storage"
    with SSHServer(tmp_path / "sshd") as sshd:
        url = f"ssh://127.0.0.1:{sshd.port}{storage}"
        project = bake(tmp_path / "work", venv=baked_venv, dvc_remote="ssh", dvc_remote_url=url)
        assert f"url = {url}\n" in project.read(".dvc/config")
        # What CI does with DVC_SSH_KNOWN_HOSTS and DVC_SSH_KEY (see docs/remotes.md).
        home = tmp_path / "home"
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
        ssh_env = {"HOME": str(home), "SSH_AUTH_SOCK": ""}

        def configure(target: Baked) -> None:
            target.run("dvc", "remote", "modify", "--local", "storage", "user", sshd.user)
            target.run(
                "dvc", "remote", "modify", "--local", "storage", "keyfile", str(sshd.client_key)
            )

        # DVC's SSH client does not check host keys (sshfs connects with
        # known_hosts=None), so docs/remotes.md has CI check them with OpenSSH
        # first. That check passes here, and refuses a host key it does not know.
        assert sftp_host_key_check(sshd, home / ".ssh" / "known_hosts").returncode == 0
        impostor = tmp_path / "impostor_known_hosts"
        impostor.write_text(sshd.known_hosts_line(key=sshd.client_key))
        refused = sftp_host_key_check(sshd, impostor)
        assert refused.returncode != 0 and "Host key verification failed" in refused.stderr

        reuse_pipeline_run(pipeline_run, project)
        configure(project)
        push(project, "ssh", extra_env=ssh_env)
        assert_no_credentials_committed(project)
        stored = {p.relative_to(storage).as_posix() for p in storage.rglob("*") if p.is_file()}
        assert remote_objects(project) <= stored

        copy = clone(project, tmp_path / "clone")
        configure(copy)
        assert_pull_restores_everything(project, copy, "ssh", extra_env=ssh_env)


@pytest.mark.parametrize(
    "remote,url,read_url",
    [
        ("gs", f"gs://{SLUG}-dvc/storage", f"https://storage.googleapis.com/{SLUG}-dvc/storage"),
        ("azure", f"azure://{SLUG}-dvc/storage", ""),
    ],
)
def test_cloud_remote_configuration_reads_back(
    tmp_path: Path, baked_venv: Path, remote: str, url: str, read_url: str
) -> None:
    project = bake(
        tmp_path / "work", venv=baked_venv, dvc_remote=remote, dvc_read_remote_url=read_url
    )
    listed = project.run("dvc", "remote", "list").stdout.splitlines()
    expected = [["storage", url, "(default)"]] + ([["readonly", read_url]] if read_url else [])
    assert [line.split() for line in listed] == expected
    settings = set(project.run("dvc", "config", "--list").stdout.splitlines())
    assert {"core.remote=storage", f"remote.storage.url={url}"} <= settings
    assert (f"remote.readonly.url={read_url}" in settings) is bool(read_url)
    assert_no_credentials_committed(project)
