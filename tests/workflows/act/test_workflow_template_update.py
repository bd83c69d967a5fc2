"""The weekly template-update workflow, run in act on projects made with cruft.

The template is a git copy of the working tree (cruft_support.Template) at a
local path, which the workflow's ``cruft check`` and ``cruft update`` reach as
they would reach GitHub. What the workflow proposes is read back from the
branch it pushed and the pull request or issue it opened on the fake GitHub.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from support.actions_engine import PERSONAL_TOKEN, GitHubRepository, Run
from support.cruft_support import (
    PROJECT,
    RELEASE_B,
    RELEASE_B_PATHS,
    Template,
    copy_template,
    create,
    cruft,
    diff_paths,
    git,
    replace_first_line,
    snapshot,
)
from support.helpers import TEMPLATE_DIR, Baked

pytestmark = pytest.mark.slow


WORKFLOW = "template-update.yml"
ISSUE_TITLE = "Update from the ml-cicd template"


def on_github(project: Path, root: Path, token: bool = True) -> GitHubRepository:
    """The project pushed to a new repository; with the TEMPLATE_UPDATE_TOKEN secret."""
    repo = GitHubRepository(Baked(project), root)
    if token:
        repo.secrets["TEMPLATE_UPDATE_TOKEN"] = PERSONAL_TOKEN
    return repo


def proposed(repo: GitHubRepository, project: Path) -> set[str]:
    """Fetch the pushed template-update branch into the project; the paths it changes."""
    git(project, "fetch", "--quiet", str(repo.origin), "template-update")
    return set(git(project, "diff", "--name-only", "HEAD", "FETCH_HEAD").stdout.split())


def assert_result(run: Run, **expected: str) -> None:
    """Each named job ended as expected (``skipped`` when it never started)."""
    assert {job: run[job].result for job in expected} == expected, run.describe()


def conflicting_project(template: Template, env: dict, root: Path, branch: str) -> Path:
    """A project whose first Makefile line the team and the template's next
    release on ``branch`` both change."""
    template.branch(branch)
    project = create(env, template, root / "out", "--checkout", branch)
    makefile = project / "Makefile"
    makefile.write_text(replace_first_line("# The team's first line.")(makefile.read_text()))
    git(project, "commit", "--quiet", "--all", "-m", "Team edit")
    template.commit(branch, {f"{PROJECT}/Makefile": replace_first_line("# The template's.")})
    return project


def test_update_is_proposed_and_keeps_the_team_work(
    template: Template, env: dict, tmp_path: Path
) -> None:
    template.branch("release-b")
    project = create(env, template, tmp_path / "out", "--checkout", "release-b")
    package = next((project / "src").iterdir()).name
    # The team works: its own files, and two template-owned files.
    for relative in (
        "README.md",
        "params.yaml",
        f"src/{package}/pipeline/train.py",
        "tests/test_train.py",
    ):
        (project / relative).write_text((project / relative).read_text() + "# Team edit.\n")
    makefile = project / "Makefile"
    makefile.write_text("# Team note at the top.\n" + makefile.read_text())
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team work")
    before = snapshot(project)
    # Release B changes a template-owned file and adds one.
    template.commit("release-b", RELEASE_B)
    repo = on_github(project, tmp_path / "github")

    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="success", notify="skipped")
    (pull,) = repo.github["pulls"]
    assert (pull["head"], pull["author"]) == ("template-update", "repo-owner")
    assert proposed(repo, project) == RELEASE_B_PATHS
    git(project, "merge", "--quiet", "--ff-only", "FETCH_HEAD")
    after = snapshot(project)
    assert after[".editorconfig"] == b"# Editor settings for ML Project\nroot = true\n"
    assert after["Makefile"].startswith(b"# Team note at the top.\n")
    assert after["Makefile"].endswith(b"# Added by template release B.\n")
    assert {k: after[k] for k in before if k not in RELEASE_B_PATHS} == {
        k: v for k, v in before.items() if k not in RELEASE_B_PATHS
    }

    # Merged: the project is current, and the next week proposes nothing.
    repo.push("main")
    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="success", notify="skipped")
    assert len(repo.github["pulls"]) == 1 and repo.github["issues"] == []
    assert diff_paths(cruft(env, project, "diff").stdout) == {"Makefile"}


def test_conflicts_fail_the_run_and_ask_once_for_a_manual_update(
    template: Template, env: dict, tmp_path: Path
) -> None:
    project = conflicting_project(template, env, tmp_path, "conflict")
    repo = on_github(project, tmp_path / "github")

    # Full history (fetch-depth: 0): conflict markers, which the run refuses.
    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="failure", notify="success")
    assert any("conflict with this project's edits" in e for e in run["update"].errors)
    assert any("edits in: Makefile." in e for e in run["update"].errors), run.describe()
    assert repo.github["pulls"] == []
    (issue,) = repo.github["issues"]
    assert issue["title"] == ISSUE_TITLE and "docs/updating.md" in issue["body"]

    # Next week, the same conflict: a comment on that issue, not a second one.
    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="failure", notify="success")
    assert len(repo.github["issues"]) == 1
    assert [c["issue"] for c in repo.github["comments"]] == [issue["number"]]


def test_shallow_history_leaves_rej_files_that_cannot_be_committed(
    template: Template, env: dict, tmp_path: Path
) -> None:
    """Without the blobs of the three-way merge cruft writes *.rej (the workflow
    checks out the whole history); the baked pre-commit hook refuses them."""
    project = conflicting_project(template, env, tmp_path, "shallow")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", project.as_uri(), str(shallow))
    applied = cruft(env, shallow, "update", "--skip-apply-ask", "--checkout", "shallow")
    assert "*.rej files" in applied.stdout + applied.stderr
    assert (shallow / "Makefile.rej").is_file()

    def rej_hook(path: str) -> subprocess.CompletedProcess:
        command = [str(Path(env["PATH"].split(":")[0]) / "pre-commit")]
        command += ["run", "forbid-rej-files", "--files", path]
        return subprocess.run(
            command, cwd=shallow, env=env, capture_output=True, text=True, timeout=300
        )

    hook = rej_hook("Makefile.rej")
    assert hook.returncode == 1 and "Failed" in hook.stdout, hook.stdout + hook.stderr
    assert rej_hook("Makefile").returncode == 0


def test_without_a_token_the_update_is_asked_for_in_an_issue(
    template: Template, env: dict, tmp_path: Path
) -> None:
    template.branch("no-token")
    project = create(env, template, tmp_path / "out", "--checkout", "no-token")
    template.commit("no-token", RELEASE_B)
    repo = on_github(project, tmp_path / "github", token=False)
    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="success", notify="success")
    assert repo.github["pulls"] == []
    (issue,) = repo.github["issues"]
    assert "TEMPLATE_UPDATE_TOKEN" in issue["body"]


def test_a_template_that_cannot_be_checked_is_a_warning_not_an_update(
    template: Template, env: dict, tmp_path: Path
) -> None:
    """cruft check exits 1 for "out of date" and for "cannot check" alike."""
    project = create(env, template, tmp_path / "out")
    cruft_json = project / ".cruft.json"
    cruft_json.write_text(
        cruft_json.read_text().replace(str(template.path), "/nonexistent/ml-cicd")
    )
    git(project, "commit", "--quiet", "--all", "-m", "The template moved away")
    repo = on_github(project, tmp_path / "github")
    run = repo.run(WORKFLOW, "schedule")
    assert_result(run, update="success", notify="skipped")
    assert any("could not compare this project" in w for w in run["update"].warnings)
    assert repo.github["issues"] == [] and repo.github["pulls"] == []


def test_workflow_updates_with_a_token_and_full_history(default_project: Baked) -> None:
    """What the template-update workflow relies on beyond the shared workflow rules."""
    workflow = yaml.safe_load(default_project.read(f".github/workflows/{WORKFLOW}"))
    jobs = workflow["jobs"]
    assert jobs["update"]["permissions"] == {"contents": "read"}
    assert jobs["notify"]["permissions"] == {"issues": "write"}
    steps = {
        s.get("id") or s.get("name") or s["uses"].split("@")[0]: s for s in jobs["update"]["steps"]
    }
    # cruft's three-way merge needs the blobs of earlier commits (CR-5).
    assert steps["actions/checkout"]["with"] == {"fetch-depth": 0, "persist-credentials": False}
    # Nothing restored from a cache can slip into the pull request: the set-up
    # action keeps uv's cache off unless a job names one (cache-suffix).
    assert steps["$/.github/actions/setup"]["with"] == {"install": "false"}
    # The branch is pushed with a token that may change workflow files (CR-9).
    assert steps["publish-pull-request"]["with"]["token"] == "${{ secrets.TEMPLATE_UPDATE_TOKEN }}"
    # The cruft the workflow installs is the one these tests run.
    requirements = (TEMPLATE_DIR / "requirements.txt").read_text().splitlines()
    for package in ("cruft==", "typer=="):  # typer: the pair whose prompt works
        pinned = next(line for line in requirements if line.startswith(package))
        assert f'"{pinned}"' in steps["Install cruft"]["run"]


def test_the_workflow_updates_to_the_newest_release(env: dict, tmp_path: Path) -> None:
    # A template with releases: the project follows v1.0.0, v1.1.0 is out. The
    # workflow moves it to the newest release, not to what .cruft.json recorded.
    template = copy_template(tmp_path / "template" / "ml-cicd")
    git(template.path, "tag", "v1.0.0")
    template.branch("next")
    git(template.path, "tag", "v1.1.0", template.commit("next", RELEASE_B))
    project = create(env, template, tmp_path / "out", "--checkout", "v1.0.0")
    repo = on_github(project, tmp_path / "github")

    run = repo.run(WORKFLOW, "schedule")

    assert_result(run, update="success", notify="skipped")
    assert proposed(repo, project) == RELEASE_B_PATHS
    git(project, "merge", "--quiet", "--ff-only", "FETCH_HEAD")
    assert json.loads((project / ".cruft.json").read_text())["checkout"] == "v1.1.0"
