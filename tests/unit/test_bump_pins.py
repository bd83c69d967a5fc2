"""tools/bump_pins.py against stand-ins of PyPI's JSON API and GitHub's REST API
on 127.0.0.1 (tests/support/standins/package_index.py, github_api.py), in a small
repository laid out as the template is; and its agreement with the template's
own pins and Dependabot's settings."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

import bump_pins
from support.helpers import TEMPLATE_DIR
from support.servers import JSONServer
from support.standins.create_pull_request import token_permissions
from support.standins.github_api import GitHubAPI, Release
from support.pins import PINS
from support.standins.package_index import PackageIndex

OLD = "2026-01-05T10:00:00Z"
SHA = {name: name[0] * 40 for name in ("a", "b", "c", "d", "e")}
BAKED = "{{cookiecutter.project_slug}}"


def days_ago(days: int) -> str:
    """An ISO 8601 time ``days`` before now."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def layout(root: Path) -> None:
    """The files the tool reads, as small as the rules need."""
    files = {
        f"{BAKED}/.pre-commit-config.yaml": 'additional_dependencies: ["black==1.0.0"]\n',
        f"{BAKED}/pyproject.toml": '    "black==1.0.0",\n    "pandas>=2.2",\n',
        f"{BAKED}/Dockerfile": 'RUN pip install --no-cache-dir "uv==0.1.0"\n',
        f"{BAKED}/.github/workflows/template-update.yml": (
            "    steps:\n"
            f"      - uses: actions/checkout@{SHA['a']} # v1.0.0\n"
            f"      - uses: docker/login-action@{SHA['c']} # v4.1.0\n"
            '      - run: uv pip install "cruft==2.16.0" "typer==0.28.0"\n'
        ),
        "templates/ci/deploy.j2": (
            f"      - uses: actions/checkout@{SHA['a']} # v1.0.0\n"
            f"      - uses: superfly/flyctl-actions/setup-flyctl@{SHA['d']} # 1.6\n"
        ),
        "tests/support/pins.py": (
            "PINS = {\n"
            f'    "actions/checkout": ("{SHA["a"]}", "v1.0.0"),\n'
            f'    "docker/login-action": ("{SHA["c"]}", "v4.1.0"),\n'
            f'    "superfly/flyctl-actions/setup-flyctl": ("{SHA["d"]}", "1.6"),\n'
            "}\n"
        ),
        "Makefile": '\t$(BIN)/python -m pip install "uv==0.1.0"\n',
        "requirements.txt": "black==1.0.0\npytest==8.0.0\nuv==0.1.0\n",
        "requirements-bake.txt": "cruft==2.16.0\ntyper==0.28.0\n",
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def index() -> PackageIndex:
    """black has a final release old enough, a newer yanked one, a newer
    pre-release and a newest one inside the cooldown; typer's newest is held."""
    found = PackageIndex()
    for version, uploaded, yanked in (
        ("1.0.0", OLD, False),
        ("2.0.0", OLD, False),
        ("2.1.0", OLD, True),
        ("3.0.0rc1", OLD, False),
        ("2.2.0", days_ago(1), False),
    ):
        found.add("black", version, uploaded, yanked)
    found.add("uv", "0.1.0", OLD)
    found.add("uv", "0.2.0", days_ago(8))
    found.add("cruft", "2.16.0", OLD)
    found.add("typer", "0.28.0", OLD)
    found.add("typer", "0.28.2", OLD)
    found.add("typer", "0.29.0", OLD)
    found.add("pytest", "9.0.0", OLD)
    return found


def github() -> GitHubAPI:
    """checkout: a new major, annotated; login-action: its newest release is a
    day old; flyctl-actions: no release at all."""
    api = GitHubAPI()
    api.add("actions/checkout", Release("v1.0.0", SHA["a"], OLD))
    api.add("actions/checkout", Release("v2.0.0", SHA["b"], days_ago(30), annotated=True))
    api.add("actions/checkout", Release("v3.0.0-beta", "f" * 40, days_ago(20), prerelease=True))
    api.add("docker/login-action", Release("v4.1.0", SHA["c"], OLD))
    api.add("docker/login-action", Release("v4.2.0", SHA["e"], days_ago(1)))
    return api


@pytest.fixture
def sources(monkeypatch: pytest.MonkeyPatch):
    """Both stand-ins serving; the tool pointed at them."""
    with JSONServer(index()) as pypi, JSONServer(github()) as api:
        monkeypatch.setenv("BUMP_PINS_INDEX_URL", f"{pypi.url}/pypi")
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        yield pypi, api


def snapshot(root: Path) -> dict[str, str]:
    """Every file's text."""
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_packages_move_together_to_the_newest_release_allowed(
    tmp_path: Path, sources, capsys: pytest.CaptureFixture[str]
) -> None:
    layout(tmp_path)

    assert bump_pins.main(["--root", str(tmp_path), "--summary", str(tmp_path / "s.md")]) == 0

    files = snapshot(tmp_path)
    # black: 2.0.0 (2.1.0 is yanked, 3.0.0rc1 a pre-release, 2.2.0 a day old).
    assert (
        files[f"{BAKED}/.pre-commit-config.yaml"] == 'additional_dependencies: ["black==2.0.0"]\n'
    )
    assert files[f"{BAKED}/pyproject.toml"] == '    "black==2.0.0",\n    "pandas>=2.2",\n'
    # uv everywhere; pytest is Dependabot's (requirements.txt alone pins it).
    assert files["requirements.txt"] == "black==2.0.0\npytest==8.0.0\nuv==0.2.0\n"
    assert files["Makefile"] == '\t$(BIN)/python -m pip install "uv==0.2.0"\n'
    assert files[f"{BAKED}/Dockerfile"] == 'RUN pip install --no-cache-dir "uv==0.2.0"\n'
    # typer stays below 0.29, in both files that pin it.
    assert files["requirements-bake.txt"] == "cruft==2.16.0\ntyper==0.28.2\n"
    assert (
        '"cruft==2.16.0" "typer==0.28.2"' in files[f"{BAKED}/.github/workflows/template-update.yml"]
    )
    summary = files["s.md"]
    assert "| `black` | 1.0.0 | 2.0.0 |  |" in summary
    assert "| `typer` | 0.28.0 | 0.28.2 | held <0.29: cruft 2.16's update prompt" in summary
    assert summary == capsys.readouterr().out


def test_actions_move_by_commit_sha_with_their_tag_and_the_pins_table(
    tmp_path: Path, sources
) -> None:
    layout(tmp_path)

    assert bump_pins.main(["--root", str(tmp_path), "--summary", str(tmp_path / "s.md")]) == 0

    files = snapshot(tmp_path)
    workflow = files[f"{BAKED}/.github/workflows/template-update.yml"]
    # v2.0.0 is an annotated tag: the pin is the commit it tags, not the tag object.
    assert f"actions/checkout@{SHA['b']} # v2.0.0\n" in workflow
    assert f"actions/checkout@{SHA['b']} # v2.0.0\n" in files["templates/ci/deploy.j2"]
    assert f'"actions/checkout": ("{SHA["b"]}", "v2.0.0"),' in files["tests/support/pins.py"]
    # login-action's v4.2.0 is a day old: kept. flyctl-actions has no release: kept.
    assert f"docker/login-action@{SHA['c']} # v4.1.0" in workflow
    assert f"setup-flyctl@{SHA['d']} # 1.6" in files["templates/ci/deploy.j2"]
    summary = files["s.md"]
    assert "| `actions/checkout` | v1.0.0 | v2.0.0 | a new major version" in summary
    assert "- `docker/login-action` v4.1.0: v4.2.0 is younger than 7 days" in summary
    assert "- `superfly/flyctl-actions/setup-flyctl` 1.6: no release on GitHub" in summary


def test_a_pin_missing_from_the_table_is_refused_and_nothing_is_written(
    tmp_path: Path, sources, capsys: pytest.CaptureFixture[str]
) -> None:
    layout(tmp_path)
    table = tmp_path / "tests/support/pins.py"
    table.write_text(
        table.read_text().replace(f'("{SHA["c"]}", "v4.1.0")', f'("{SHA["e"]}", "v4.2.0")')
    )
    before = snapshot(tmp_path)

    assert bump_pins.main(["--root", str(tmp_path)]) == 1

    assert capsys.readouterr().err == (
        f"bump_pins: docker/login-action: pinned v4.1.0 ({SHA['c']}),"
        " not in tests/support/pins.py's PINS\n"
    )
    assert snapshot(tmp_path) == before


def test_an_index_error_is_one_line_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layout(tmp_path)
    before = snapshot(tmp_path)

    def unavailable(method: str, path: str, body: object) -> tuple[int, dict]:
        return 503, {"message": "Service Unavailable"}

    with JSONServer(unavailable) as pypi, JSONServer(github()) as api:
        monkeypatch.setenv("BUMP_PINS_INDEX_URL", f"{pypi.url}/pypi")
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        assert bump_pins.main(["--root", str(tmp_path)]) == 1

    error = capsys.readouterr().err
    assert re.fullmatch(r"bump_pins: http://127\.0\.0\.1:\d+/pypi/black/json: HTTP 503 .*\n", error)
    assert snapshot(tmp_path) == before


def test_the_tool_finds_every_verified_pin_of_the_template() -> None:
    assert bump_pins.action_pins(TEMPLATE_DIR) == PINS


def test_dependabot_leaves_the_tools_packages_to_it() -> None:
    """A Dependabot bump of a package the tool keeps in step would leave that
    package's other pins behind (and the tests that compare them red)."""
    config = yaml.safe_load((TEMPLATE_DIR / ".github" / "dependabot.yml").read_text())
    (pip,) = [u for u in config["updates"] if u["package-ecosystem"] == "pip"]
    ignored = {entry["dependency-name"] for entry in pip["ignore"]}
    requirements = bump_pins.package_pins((TEMPLATE_DIR / "requirements.txt").read_text())
    assert ignored == set(bump_pins.owned_packages(TEMPLATE_DIR)) & set(requirements)


def test_the_workflow_runs_the_tested_tool_and_proposes_one_pull_request() -> None:
    workflow = yaml.safe_load((TEMPLATE_DIR / ".github/workflows/bump-pins.yml").read_text())
    assert set(workflow[True]) == {"schedule", "workflow_dispatch"}
    (job,) = workflow["jobs"].values()
    runs = [s.get("run", "") for s in job["steps"]]
    assert any(r.startswith("uv run --no-project tools/bump_pins.py") for r in runs)
    assert "gh workflow run template-ci.yml --ref bump-pins" in runs
    uses = {s["uses"].split("@")[0]: s for s in job["steps"] if "uses" in s}
    assert uses["peter-evans/create-pull-request"]["with"]["branch"] == "bump-pins"


# --- the stand-ins' rules ------------------------------------------------------


def test_github_api_latest_release_skips_pre_releases_and_drafts_and_404s_without() -> None:
    api = github()
    assert api("GET", "/repos/actions/checkout/releases/latest", None)[1]["tag_name"] == "v2.0.0"
    status, body = api("GET", "/repos/superfly/flyctl-actions/releases/latest", None)
    assert (status, body["message"], body["status"]) == (404, "Not Found", "404")
    # An annotated tag's ref names its tag object; the tag object names the commit.
    status, ref = api("GET", "/repos/actions/checkout/git/ref/tags/v2.0.0", None)
    assert ref["object"]["type"] == "tag" and ref["object"]["sha"] != SHA["b"]
    status, tag = api("GET", f"/repos/actions/checkout/git/tags/{ref['object']['sha']}", None)
    assert tag["object"] == {"type": "commit", "sha": SHA["b"]}
    assert api("GET", "/repos/actions/checkout/git/ref/tags/v9.9.9", None)[0] == 404


def test_package_index_answers_projects_by_normalized_name_and_404s_others() -> None:
    found = index()
    status, body = found("GET", "/pypi/Black/json", None)
    assert status == 200 and body["releases"]["2.1.0"][0]["yanked"] is True
    assert found("GET", "/pypi/nothing-here/json", None) == (404, {"message": "Not Found"})


@pytest.mark.parametrize(
    ("workflow", "expected"),
    [
        # A job's permissions replace the workflow's; a scope not listed is none.
        (
            {
                "permissions": {"contents": "write"},
                "jobs": {"j": {"permissions": {"issues": "write"}}},
            },
            {"issues": "write"},
        ),
        ({"permissions": {"contents": "write"}, "jobs": {"j": {}}}, {"contents": "write"}),
        # Neither: the repository's default (read, since 2023).
        ({"jobs": {"j": {}}}, {"contents": "read", "packages": "read"}),
        ({"permissions": {}, "jobs": {"j": {}}}, {}),
    ],
)
def test_the_workflow_token_has_the_jobs_permissions(workflow: dict, expected: dict) -> None:
    assert token_permissions(workflow, "j") == expected


def test_an_unreachable_index_is_one_line_naming_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layout(tmp_path)
    before = snapshot(tmp_path)
    with JSONServer(github()) as api:
        monkeypatch.setenv("BUMP_PINS_INDEX_URL", "http://127.0.0.1:9/pypi")
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        assert bump_pins.main(["--root", str(tmp_path)]) == 1

    assert capsys.readouterr().err == (
        "bump_pins: http://127.0.0.1:9/pypi/black/json: [Errno 111] Connection refused\n"
    )
    assert snapshot(tmp_path) == before


def test_every_file_that_pins_a_package_is_kept_by_the_tool() -> None:
    """A pin added to a file the tool does not read would never move."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    pinning = {
        relative
        for relative in filter(None, listed)
        if not relative.startswith("tests/")
        and not relative.endswith(".md")
        and (TEMPLATE_DIR / relative).is_file()
        and bump_pins.PACKAGE_PIN.search((TEMPLATE_DIR / relative).read_text(errors="replace"))
    }
    assert pinning == {*bump_pins.PIN_FILES, bump_pins.REQUIREMENTS}
