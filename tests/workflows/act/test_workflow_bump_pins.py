"""The template repository's bump-pins workflow, run in act on a git copy of the
template, against stand-ins on 127.0.0.1: PyPI's JSON API (package_index.py),
GitHub's releases and git refs (github_api.py), and
peter-evans/create-pull-request with GitHub's refusals (create_pull_request.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import bump_pins
from support.actions_engine import GitHubRepository, Run
from support.cruft_support import copy_template
from support.helpers import TEMPLATE_DIR, Baked
from support.servers import JSONServer
from support.standins.create_pull_request import write_action
from support.standins.github_api import GitHubAPI, Release
from support.pins import PINS
from support.standins.package_index import PackageIndex

pytestmark = pytest.mark.slow

WORKFLOW = "bump-pins.yml"
OLD = "2026-01-05T10:00:00Z"
NEW_CHECKOUT = ("1" * 40, "v7.1.0")


def days_ago(days: int) -> str:
    """An ISO 8601 time ``days`` before now."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sources() -> tuple[PackageIndex, GitHubAPI]:
    """Every pin's current release, plus a newer black and a newer checkout."""
    index = PackageIndex()
    for name, version in bump_pins.owned_packages(TEMPLATE_DIR).items():
        index.add(name, version, OLD)
    index.add("black", "26.11.0", days_ago(10))
    api = GitHubAPI()
    for action, (sha, tag) in PINS.items():
        repo = "/".join(action.split("/")[:2])
        api.add(repo, Release(tag, sha, OLD))
    api.add("actions/checkout", Release(NEW_CHECKOUT[1], NEW_CHECKOUT[0], days_ago(10)))
    return index, api


@pytest.fixture
def servers() -> Iterator[dict[str, str]]:
    """The stand-ins serving; the environment that points the tool at them."""
    index, api = sources()
    with JSONServer(index) as pypi, JSONServer(api) as github:
        yield {"BUMP_PINS_INDEX_URL": f"{pypi.url}/pypi", "GITHUB_API_URL": github.url}


def on_github(root: Path, allow_pull_requests: bool = True) -> GitHubRepository:
    """A git copy of the template pushed to a fake GitHub."""
    template = copy_template(root / "template")
    repo = GitHubRepository(Baked(template.path), root / "github", locked=False)
    repo.folders["peter-evans/create-pull-request"] = write_action(root / "cpr")
    repo.github.update(actions_can_create_prs=allow_pull_requests)
    return repo


def on_branch(repo: GitHubRepository, path: str) -> str:
    """A file as the bump-pins branch of origin holds it."""
    return repo.git_origin("show", f"bump-pins:{path}")


def errors(run: Run) -> str:
    """Every error of the bump job, as one text."""
    return "\n".join(run["bump"].errors + run["bump"].output)


def test_the_pins_are_proposed_in_one_pull_request_whose_ci_runs(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    repo = on_github(tmp_path)

    run = repo.run(WORKFLOW, "schedule", env=servers)

    assert run["bump"].result == "success", run.describe()
    (pull,) = repo.github["pulls"]
    assert (pull["head"], pull["base"], pull["author"]) == (
        "bump-pins",
        "main",
        "github-actions[bot]",
    )
    assert "| `black` | 26.10.1 | 26.11.0 |" in pull["body"]
    assert "| `actions/checkout` | v7.0.1 | v7.1.0 |" in pull["body"]
    assert "black==26.11.0" in on_branch(
        repo, "{{cookiecutter.project_slug}}/.pre-commit-config.yaml"
    )
    assert '"black==26.11.0"' in on_branch(repo, "{{cookiecutter.project_slug}}/pyproject.toml")
    assert "black==26.11.0" in on_branch(repo, "requirements.txt").split()
    sha, tag = NEW_CHECKOUT
    assert f"actions/checkout@{sha} # {tag}" in on_branch(
        repo, "{{cookiecutter.project_slug}}/.github/workflows/testing.yml"
    )
    assert f'"actions/checkout": ("{sha}", "{tag}"),' in on_branch(repo, "tests/support/pins.py")
    # The template's own CI is Dependabot's: untouched.
    assert on_branch(repo, ".github/workflows/template-ci.yml") == repo.git_origin(
        "show", "main:.github/workflows/template-ci.yml"
    )
    # A pull request opened with GITHUB_TOKEN starts no workflow: the suite is dispatched.
    assert [(d["workflow"], d["ref"]) for d in repo.github["dispatches"]] == [
        ("template-ci.yml", "bump-pins")
    ]

    # Next week, the same news: the open pull request is updated, not doubled.
    run = repo.run(WORKFLOW, "schedule", env=servers)

    assert run["bump"].result == "success", run.describe()
    assert len(repo.github["pulls"]) == 1
    assert len(repo.github["dispatches"]) == 2


def test_github_refuses_when_actions_may_not_open_pull_requests(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    """A new repository's default: the branch is pushed, the pull request refused."""
    repo = on_github(tmp_path, allow_pull_requests=False)

    run = repo.run(WORKFLOW, "workflow_dispatch", env=servers)

    assert run["bump"].result == "failure", run.describe()
    assert "GitHub Actions is not permitted to create or approve pull requests." in errors(run)
    assert repo.github["pulls"] == [] and repo.github["dispatches"] == []


@pytest.mark.parametrize(
    ("permission", "without", "refusal"),
    [
        (
            "      pull-requests: write # open its pull request\n",
            "",
            "Resource not accessible by integration",
        ),
        (
            "contents: write # push",
            "contents: read # push",
            "Permission to Acme/ml-project.git denied to github-actions[bot].",
        ),
    ],
    ids=["pull-requests", "contents"],
)
def test_github_refuses_a_token_without_a_permission_it_needs(
    tmp_path: Path, servers: dict[str, str], permission: str, without: str, refusal: str
) -> None:
    repo = on_github(tmp_path)
    workflow = repo.project.path / ".github" / "workflows" / WORKFLOW
    text = workflow.read_text()
    assert permission in text
    workflow.write_text(text.replace(permission, without))
    repo.commit("Drop a permission", paths=[f".github/workflows/{WORKFLOW}"])
    repo.push("main")

    run = repo.run(WORKFLOW, "workflow_dispatch", env=servers)

    assert run["bump"].result == "failure", run.describe()
    assert refusal in errors(run)
    assert repo.github["pulls"] == []


def test_a_source_that_fails_proposes_nothing(tmp_path: Path) -> None:
    """No index at all (the connection is refused): one line, no branch."""
    repo = on_github(tmp_path)
    index, api = sources()
    with JSONServer(api) as github:
        env = {"BUMP_PINS_INDEX_URL": "http://127.0.0.1:9/pypi", "GITHUB_API_URL": github.url}
        run = repo.run(WORKFLOW, "schedule", env=env)

    assert run["bump"].result == "failure", run.describe()
    refused = "bump_pins: http://127.0.0.1:9/pypi/black/json: [Errno 111] Connection refused"
    assert refused in run["bump"].output, run.describe()
    assert repo.github["pulls"] == []
    branches = subprocess.run(
        ["git", "-C", str(repo.origin), "branch", "--list", "bump-pins"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert branches == ""


def test_a_workflow_change_on_main_gets_a_new_branch_not_a_refused_push(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    """Main changed a workflow since last week's branch (Dependabot's action
    bumps do): pushing the branch reset onto main changes that workflow, which
    GitHub refuses to GITHUB_TOKEN. The branch is deleted (GitHub closes its
    pull request) and pushed anew, with a new pull request."""
    repo = on_github(tmp_path)
    run = repo.run(WORKFLOW, "schedule", env=servers)
    assert run["bump"].result == "success", run.describe()
    ci = repo.project.path / ".github" / "workflows" / "template-ci.yml"
    ci.write_text(ci.read_text().replace("timeout-minutes: 45", "timeout-minutes: 50"))
    repo.commit("Give the suite more time", paths=[".github/workflows/template-ci.yml"])
    repo.push("main")

    run = repo.run(WORKFLOW, "schedule", env=servers)

    assert run["bump"].result == "success", run.describe()
    first, second = repo.github["pulls"]
    assert (first["state"], second["state"]) == ("closed", "open")
    assert "timeout-minutes: 50" in on_branch(repo, ".github/workflows/template-ci.yml")
    assert any("pushed anew" in notice for notice in run["bump"].notices), run.describe()
