"""Template updates that cruft applies only in part are caught.

``cruft update`` exits 0, leaves no ``.rej`` and moves ``.cruft.json`` when
the template removes a file the team edited, adds a file the team already
has, or when an answer is switched (its files under team-owned paths are
neither added nor removed). The baked ``tools/check_template_update.py``
renders both template commits and lists what is left to do by hand.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.helpers import bake
from support.cruft_support import PROJECT, Template, check_update, create, cruft, git

# cruft round trips of several seconds each: in `make test`, not `make test-fast`.
pytestmark = pytest.mark.slow


def commit_removal(repo: Template, branch: str, relative: str) -> None:
    """Remove ``relative`` from the template on ``branch``, as a release would."""
    worktree = repo.path.parent / f"worktree-{branch}-rm"
    git(repo.path, "worktree", "add", "--quiet", str(worktree), branch)
    git(worktree, "rm", "--quiet", relative)
    git(worktree, "commit", "--quiet", "-m", f"Remove {relative}")
    git(repo.path, "worktree", "remove", "--force", str(worktree))


def update(user_env: dict, project: Path, *options: str) -> subprocess.CompletedProcess:
    """``cruft update`` as the workflow runs it; cruft itself must report success."""
    result = cruft(user_env, project, "update", "--skip-apply-ask", *options)
    assert not list(project.rglob("*.rej"))
    return result


def team_commit(project: Path, changes: dict[str, str]) -> None:
    for relative, text in changes.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team work")


@pytest.mark.parametrize("edited", [True, False], ids=["edited", "untouched"])
def test_a_file_the_template_removes(
    template: Template, env: dict, tmp_path: Path, edited: bool  # noqa: F811
) -> None:
    branch = f"removes-{'edited' if edited else 'untouched'}"
    template.branch(branch)
    template.commit(branch, {f"{PROJECT}/docs/old-notes.md": lambda _: "# Old notes\n"})
    project = create(env, template, tmp_path / "out", "--checkout", branch)
    if edited:
        team_commit(project, {"docs/old-notes.md": "# Old notes\n\nOur additions.\n"})
    commit_removal(template, branch, f"{PROJECT}/docs/old-notes.md")

    update(env, project, "--checkout", branch)
    result = check_update(project)

    # cruft deletes a file the team never edited; it silently keeps an edited one.
    assert (project / "docs/old-notes.md").exists() is edited
    if edited:
        assert result.returncode == 1
        assert (
            "error: docs/old-notes.md: the template removed it, your edited copy is still here"
            in result.stderr
        )
    else:
        assert result.returncode == 0, result.stderr
        assert "Every template change is in the project." in result.stdout


def test_a_file_the_template_adds_that_the_team_has(
    template: Template, env: dict, tmp_path: Path  # noqa: F811
) -> None:
    template.branch("adds-existing")
    project = create(env, template, tmp_path / "out", "--checkout", "adds-existing")
    team_commit(project, {".editorconfig": "# Ours\nroot = true\n"})
    template.commit("adds-existing", {f"{PROJECT}/.editorconfig": lambda _: "# Template\n"})

    update(env, project, "--checkout", "adds-existing")
    result = check_update(project)

    # With full history git's three-way apply leaves conflict markers in it.
    assert (project / ".editorconfig").read_text() != "# Template\n"
    assert result.returncode == 1
    assert "error: .editorconfig: the template added it, but the project has its own" in (
        result.stderr
    )


def test_switching_serving_off_lists_the_files_to_delete(
    template: Template, env: dict, tmp_path: Path  # noqa: F811
) -> None:
    project = create(env, template, tmp_path / "out")
    package = next((project / "src").iterdir()).name

    update(env, project, "--variables-to-update", '{"serving": false}')
    result = check_update(project)

    # fastapi left pyproject.toml, but the team-owned serving code stayed.
    assert "fastapi" not in (project / "pyproject.toml").read_text()
    assert (project / f"src/{package}/serving/app.py").exists()
    assert result.returncode == 1
    for leftover in (
        f"src/{package}/serving/app.py",
        f"src/{package}/serving/command.py",
        "tests/test_serve.py",
        "tests/test_serve_command.py",
    ):
        assert f"error: {leftover}: the switched answers remove it: delete it" in result.stderr
    # Team-owned files whose template version depends on the answer: the serve
    # section of params.yaml; serving lives in its own modules, not in the core ones.
    assert "error: params.yaml: the switched answers change it" in result.stderr
    for core in ("config.py", "cli.py"):
        assert f"src/{package}/{core}" not in result.stderr


def test_unchanged_answers_and_template_need_nothing(
    template: Template, env: dict, tmp_path: Path  # noqa: F811
) -> None:
    project = create(env, template, tmp_path / "out")

    result = check_update(project)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_unlinked_project_gets_one_line_of_advice(tmp_path: Path) -> None:
    project = bake(tmp_path).path

    result = check_update(project)

    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: .cruft.json is missing: this project was made with plain cookiecutter"
    )
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
