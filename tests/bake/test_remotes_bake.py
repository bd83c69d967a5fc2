"""What a bake writes and refuses for each DVC remote, without any server.

``.dvc/config`` is byte for byte what DVC itself writes; the dev extra installs
exactly the DVC plugins the remotes need; a bad remote URL is refused before
anything is written; a bake never opens a network connection. The remotes at
work (push, clone, pull on 127.0.0.1) are in test_remotes.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from support.helpers import SLUG, Baked, bake, bake_cli, clean_env


@pytest.mark.slow
def test_dvc_config_is_what_dvc_itself_writes(tmp_path: Path, baked_venv: Path) -> None:
    """Byte for byte, so that DVC's own edits of .dvc/config never churn the file."""
    url, read_url = "gs://bucket-name/dvc", "https://storage.googleapis.com/bucket-name/dvc"
    project = bake(
        tmp_path / "work", dvc_remote="gs", dvc_remote_url=url, dvc_read_remote_url=read_url
    )
    reference = Baked(tmp_path / "reference", venv=baked_venv)
    reference.path.mkdir()
    reference.run("git", "init", "--quiet")
    reference.run("dvc", "init", "--quiet")
    reference.run("dvc", "remote", "add", "--default", "storage", url)
    reference.run("dvc", "remote", "modify", "storage", "verify", "true")
    reference.run("dvc", "remote", "add", "readonly", read_url)
    reference.run("dvc", "remote", "modify", "readonly", "verify", "true")
    assert project.read(".dvc/config") == reference.read(".dvc/config")


def dvc_extras(baked_venv: Path) -> tuple[set[str], list[str]]:
    """The extras the installed DVC declares, and its unconditional requirements."""
    probe = (
        "import importlib.metadata as m, json; d = m.metadata('dvc');"
        "print(json.dumps([d.get_all('Provides-Extra'), d.get_all('Requires-Dist')]))"
    )
    out = subprocess.run(
        [str(baked_venv / "bin" / "python"), "-c", probe],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    extras, requires = json.loads(out)
    return set(extras), [r for r in requires if "extra ==" not in r]


@pytest.mark.slow
def test_dev_extra_installs_exactly_the_plugins_the_remotes_need(
    tmp_path: Path, baked_venv: Path
) -> None:
    extras, unconditional = dvc_extras(baked_venv)
    # http(s) remotes need no extra: dvc-http is one of DVC's own requirements.
    assert any(req.startswith("dvc-http") for req in unconditional), unconditional
    cases: list[tuple[dict[str, Any], str]] = [
        ({"dvc_remote": "local"}, "dvc"),
        ({"dvc_remote": "http"}, "dvc"),
        ({"dvc_remote": "none"}, "dvc"),
        ({"dvc_remote": "s3"}, "dvc[s3]"),
        ({"dvc_remote": "gs"}, "dvc[gs]"),
        ({"dvc_remote": "azure"}, "dvc[azure]"),
        ({"dvc_remote": "ssh"}, "dvc[ssh]"),
        ({"dvc_remote": "local", "dvc_read_remote_url": "https://example.com/dvc"}, "dvc"),
        ({"dvc_remote": "gs", "dvc_read_remote_url": "s3://public-bucket/dvc"}, "dvc[gs,s3]"),
        ({"dvc_remote": "s3", "dvc_read_remote_url": "s3://public-bucket/dvc"}, "dvc[s3]"),
    ]
    for index, (answers, requirement) in enumerate(cases):
        project = bake(tmp_path / str(index), **answers)
        dev = tomllib.loads(project.read("pyproject.toml"))["project"]["optional-dependencies"]
        dvc = [d for d in dev["dev"] if d.startswith("dvc")]
        assert dvc == [f"{requirement}>=3.67,<4"], answers
        named = set(requirement.removeprefix("dvc[").removesuffix("]").split(",")) - {"dvc"}
        assert named <= extras, f"{named - extras} are not extras of dvc"


REFUSED_URLS = [
    ("local", "s3://bucket/path"),
    ("local", "storage"),  # inside the project: git would see the pushed data
    ("local", "~/dvc-storage"),  # DVC does not expand ~
    ("s3", "gs://bucket/path"),
    ("gs", "gs://"),
    ("azure", "azure://"),
    ("azure", "https://account.blob.core.windows.net/container"),
    ("ssh", "ssh://host-without-path"),
    ("ssh", "ssh://user:secret@host/path"),
    ("http", "http://dvc.example.com/store"),  # plain http only on loopback
    ("http", "https://user:secret@dvc.example.com/store"),
    ("none", "s3://bucket/path"),
]


@pytest.mark.parametrize(
    "remote,url", REFUSED_URLS, ids=[f"{r}-{i}" for i, (r, _) in enumerate(REFUSED_URLS)]
)
def test_invalid_remote_url_is_refused_and_leaves_nothing(
    tmp_path: Path, remote: str, url: str
) -> None:
    out = tmp_path / "out"
    result = bake_cli(out, f"dvc_remote={remote}", f"dvc_remote_url={url}")
    assert result.returncode != 0
    assert "ERROR: dvc_remote_url: " in result.stderr, result.stderr
    assert f"for dvc_remote={remote} (got {url!r})" in result.stderr, result.stderr
    assert list(out.iterdir()) == []
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    "remote,read_url",
    [("local", "/srv/dvc-readonly"), ("none", "https://dvc.example.com/store")],
)
def test_invalid_read_remote_url_is_refused(tmp_path: Path, remote: str, read_url: str) -> None:
    out = tmp_path / "out"
    result = bake_cli(out, f"dvc_remote={remote}", f"dvc_read_remote_url={read_url}")
    assert result.returncode != 0
    assert "ERROR: dvc_read_remote_url: " in result.stderr, result.stderr
    assert f"(got {read_url!r})" in result.stderr
    assert list(out.iterdir()) == []


NETWORK_GUARD = '''\
"""Loaded by every Python process of the bake: any network connection is logged and refused."""
import os
import socket

_LOG = os.environ["NETWORK_GUARD_LOG"]
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _refuse(what):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {what}\\n")
    raise OSError(f"network access during the bake: {what}")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect {address!r}")
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect_ex {address!r}")
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    _refuse(f"getaddrinfo {host!r}")


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo
'''


def test_bake_never_contacts_a_remote(tmp_path: Path) -> None:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    log = tmp_path / "network.log"
    env = clean_env({"PYTHONPATH": str(guard), "NETWORK_GUARD_LOG": str(log)})

    # The guard works: a connection attempt is refused and logged.
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "network access during the bake" in probe.stderr
    assert log.read_text().strip()
    log.unlink()

    for remote, read_url in (("ssh", "https://dvc.example.com/store"), ("s3", "s3://other/x")):
        out = tmp_path / remote
        result = bake_cli(out, f"dvc_remote={remote}", f"dvc_read_remote_url={read_url}", env=env)
        assert result.returncode == 0, result.stderr
        assert (out / SLUG / ".dvc" / "config").is_file()
    assert not log.exists(), log.read_text()
