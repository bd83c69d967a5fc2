"""The stand-ins' own rules, each as GitHub or the cloud states it (the source
is named beside each rule in the stand-in): the fake ``gh``, the origin's push
refusals, the events' payloads. No act run: what the workflows do with these
rules is proven in test_workflow_*.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.helpers import STANDINS
from support.actions_engine import GitHubRepository
from support.standins.fake_github import PERSONAL_TOKEN, PR_TOKEN, WORKFLOW_TOKEN, Repository

IDENTITY = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"]


def gh(state: Path, *args: str) -> subprocess.CompletedProcess:
    """The fake gh, as a job runs it."""
    env = {**os.environ, "FAKE_GITHUB_STATE": str(state), "GH_TOKEN": WORKFLOW_TOKEN}
    return subprocess.run(
        [sys.executable, str(STANDINS / "fake_github.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_gh_issue_list_keeps_to_the_state_asked_for(tmp_path: Path) -> None:
    repository = Repository.create(tmp_path / "github.json")
    repository.update(
        issues=[
            {"number": 1, "title": "Old alert", "body": "", "state": "closed"},
            {"number": 2, "title": "New alert", "body": "", "state": "open"},
        ]
    )

    def listed(*state: str) -> list[int]:
        found = gh(repository.path, "issue", "list", *state, "--json", "number,title")
        return [issue["number"] for issue in json.loads(found.stdout)]

    assert listed("--state", "open") == [2]
    assert listed() == [2]
    assert listed("--state", "closed") == [1]
    assert listed("--state", "all") == [1, 2]


def test_the_schedule_event_carries_no_repository() -> None:
    """Every other event carries the repository, and its default branch."""
    sha = "a" * 40
    assert GitHubRepository.payload("schedule", sha, ref="refs/heads/main", actor="dev") == {
        "schedule": "17 3 * * 1"
    }
    for event, extra in (
        ("push", {}),
        ("workflow_dispatch", {}),
        ("repository_dispatch", {}),
        ("release", {"tag": "v1.0.0"}),
        ("pull_request", {"base_sha": sha}),
    ):
        payload = GitHubRepository.payload(event, sha, **extra)
        assert payload["repository"]["default_branch"] == "main", event


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, Path]:
    """A GitHub repository with a workflow on main (pushed by a person), and
    a clone where main then changed the workflow, as Dependabot's update does."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / "fake_github.py"}" pre-receive\n'
    )
    hook.chmod(0o755)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)

    def commit(path: str, text: str) -> None:
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
        subprocess.run(["git", "-C", str(work), "add", path], check=True)
        subprocess.run(["git", "-C", str(work), *IDENTITY, "commit", "-qm", path], check=True)

    commit(".github/workflows/train.yml", "uses: actions/checkout@v1\n")
    commit("dvc.lock", "model: 1\n")
    last_week = ["HEAD~1:refs/heads/main", "HEAD:refs/heads/retrain"]
    subprocess.run(["git", "-C", str(work), "push", "-q", str(bare), *last_week], check=True)
    subprocess.run(["git", "-C", str(work), "reset", "-q", "--hard", "HEAD~1"], check=True)
    commit(".github/workflows/train.yml", "uses: actions/checkout@v2\n")
    subprocess.run(["git", "-C", str(work), "push", "-q", str(bare), "main"], check=True)
    commit("dvc.lock", "model: 2\n")
    return bare, work


def push(work: Path, bare: Path, token: str, *refspec: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GH_TOKEN": token}
    return subprocess.run(
        ["git", "-C", str(work), "push", str(bare), *refspec],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        (
            WORKFLOW_TOKEN,
            "refusing to allow a GitHub App to create or update workflow"
            " `.github/workflows/train.yml` without `workflows` permission",
        ),
        (
            PR_TOKEN,
            "refusing to allow a Personal Access Token to create or update workflow"
            " `.github/workflows/train.yml` without `workflow` scope",
        ),
    ],
    ids=["GITHUB_TOKEN", "token-without-workflows"],
)
def test_github_refuses_a_ref_update_that_changes_a_workflow(
    origin: tuple[Path, Path], token: str, refusal: str
) -> None:
    """Last week's branch reset onto main, whose workflow changed since: the
    update's diff changes the workflow, though its own commit does not."""
    bare, work = origin
    refused = push(work, bare, token, "--force", "HEAD:refs/heads/retrain")
    assert refused.returncode != 0
    assert refusal in refused.stderr
    # Deleting the branch, then creating it from main's commits, is no such update.
    assert push(work, bare, token, "--delete", "retrain").returncode == 0
    created = push(work, bare, token, "HEAD:refs/heads/retrain")
    assert created.returncode == 0, created.stderr
    # A token with the Workflows permission may update it.
    subprocess.run(["git", "-C", str(work), "reset", "-q", "--hard", "HEAD~2"], check=True)
    assert push(work, bare, PERSONAL_TOKEN, "--force", "HEAD:refs/heads/retrain").returncode == 0


def test_the_http_storage_takes_dvcs_chunked_upload_and_refuses_what_a_server_would(
    tmp_path: Path,
) -> None:
    """POST with a chunked body stores the object; GET and HEAD serve it; a
    missing object is a 404; a path out of the storage is a 403; a body over
    the limit is a 413 (rules and sources in standins/http_storage.py)."""
    import http.client

    from support.standins import http_storage

    with http_storage.Storage(tmp_path / "served") as storage:
        port = storage.server_address[1]

        def request(method: str, path: str, **kwargs: object) -> tuple[int, bytes]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, **kwargs)  # type: ignore[arg-type]
            response = connection.getresponse()
            body = response.read()
            connection.close()
            return response.status, body

        chunks = iter([b"first half, ", b"second half"])
        status, _ = request("POST", "/store/ab/cdef", body=chunks, encode_chunked=True)
        assert status == 200
        assert (storage.root / "store" / "ab" / "cdef").read_bytes() == b"first half, second half"
        assert request("GET", "/store/ab/cdef") == (200, b"first half, second half")
        assert request("HEAD", "/store/ab/cdef")[0] == 200
        assert request("GET", "/store/ab/missing")[0] == 404
        assert request("GET", "/../../etc/passwd")[0] == 403
        http_storage.MAX_BODY, limit = 8, http_storage.MAX_BODY
        try:
            assert request("PUT", "/store/big", body=b"x" * 9)[0] == 413
        finally:
            http_storage.MAX_BODY = limit
        assert not (storage.root / "store" / "big").exists()
