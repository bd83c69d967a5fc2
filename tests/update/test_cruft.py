"""Template updates with cruft never lose a team's work.

The template under test is the current working tree. Each module run copies it
into a throwaway git repository (commit A on ``main``); scenarios that need a
newer template commit it on their own branch, through a separate worktree, so
``main`` stays at A and the scenarios do not see each other's changes. Every
cruft and cookiecutter command runs as a subprocess with a private ``TMPDIR``,
so what the renders leave in the temp directory can be checked exactly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cruft_support import (
    COOKIECUTTER_HOOK_FILE,
    RELEASE_B,
    RELEASE_B_PATHS,
    SLUG,
    Template,
    changed_paths,
    create,
    cruft,
    diff_paths,
    git,
    snapshot,
)
from support.helpers import bake, bake_cli, combination_id, combinations

# cruft round trips of several seconds each: in `make test`, not `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_bake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default bake (cookiecutter API), read only."""
    return bake(tmp_path_factory.mktemp("bake")).path


def test_cruft_create_matches_cookiecutter_and_starts_in_sync(
    template: Template, env: dict, tmp_path: Path
) -> None:
    project = create(env, template, tmp_path / "cruft")
    baked = bake_cli(tmp_path / "cookiecutter", template=template.path, env=env)
    assert baked.returncode == 0, baked.stderr
    plain = tmp_path / "cookiecutter" / SLUG

    cruft_files = snapshot(project)
    assert cruft_files.pop(".cruft.json")
    assert cruft_files == snapshot(plain)
    # Both are git repositories on main whose first commit holds every template file.
    for root in (project, plain):
        assert git(root, "branch", "--show-current").stdout == "main\n"
        first = git(root, "rev-list", "--max-parents=0", "HEAD").stdout.strip()
        tracked = git(root, "ls-tree", "-r", "--name-only", first).stdout.split()
        assert set(tracked) == set(cruft_files)
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == git(template.path, "rev-parse", "main").stdout.strip()

    diff = cruft(env, project, "diff", "--exit-code")
    assert diff.stdout == ""
    cruft(env, project, "check", "--checkout", "main")


# Runs cruft's command line with cookiecutter's generate_files wrapped, to record
# what each render looks like right after the hooks ran, before cruft moves it.
SPY = """
import json, sys
from pathlib import Path
import cruft._commands.utils.generate as generate
from cruft._cli import app

renders = []
original = generate.generate_files

def spy(*args, **kwargs):
    project = Path(original(*args, **kwargs))
    renders.append({
        "project": str(project),
        "git": (project / ".git").exists(),
        "siblings": sorted(p.name for p in project.parent.iterdir()),
    })
    return str(project)

generate.generate_files = spy
try:
    app(sys.argv[2:], standalone_mode=False)
finally:
    Path(sys.argv[1]).write_text(json.dumps(renders))
"""


def test_rerenders_have_no_side_effects_outside_their_temp_dir(
    template: Template, env: dict, temp_root: Path, tmp_path: Path
) -> None:
    template.branch("rerender")
    project = create(env, template, tmp_path / "out")
    template.commit("rerender", RELEASE_B)
    spy = tmp_path / "spy.py"
    spy.write_text(SPY)
    outside = sorted(p.name for p in (tmp_path / "out").iterdir())
    temp_before = {p.name for p in temp_root.iterdir()}

    renders = []
    for command in (["diff"], ["update", "--skip-apply-ask", "--checkout", "rerender"]):
        record = tmp_path / "renders.json"
        result = subprocess.run(
            [sys.executable, str(spy), str(record), *command],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        renders += json.loads(record.read_text())

    assert len(renders) == 3  # diff renders once, update twice
    for render in renders:
        assert Path(render["project"]).parent.parent == temp_root
        assert render["git"] is False, f"git init ran in the render {render['project']}"
        # No local DVC remote ({slug}-dvc-storage) or anything else next to it.
        assert render["siblings"] == [SLUG]
    new = {p for p in temp_root.iterdir() if p.name not in temp_before}
    assert all(p.is_file() and COOKIECUTTER_HOOK_FILE.fullmatch(p.name) for p in new), new
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == outside
    assert [p for p in (tmp_path / "out").rglob(".git")] == [project / ".git"]
    assert changed_paths(project) == RELEASE_B_PATHS


def test_cruft_create_in_a_mktemp_directory_is_a_real_bake(
    template: Template, env: dict, temp_root: Path
) -> None:
    """A `mktemp -d` directory is not one of cruft's renders: git is initialised."""
    output_dir = temp_root / "tmp.Xy3kQ9ab1Z"
    try:
        project = create(env, template, output_dir)
        assert git(project, "log", "--format=%s").stdout.splitlines() == [
            "Track the template link",
            "Initial commit from the ml-cicd template",
        ]
        assert (output_dir / f"{SLUG}-dvc-storage").is_dir()
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)


def test_a_cookiecutter_project_can_be_linked(
    template: Template, env: dict, tmp_path: Path
) -> None:
    answers = {"dvc_remote": "s3", "serving": False, "license": "Apache-2.0"}
    baked = bake_cli(
        tmp_path, *(f"{k}={v}" for k, v in answers.items()), template=template.path, env=env
    )
    assert baked.returncode == 0, baked.stderr
    project = tmp_path / SLUG

    # Linked with the wrong answers (the defaults), cruft diff shows it.
    cruft(env, project, "link", "--no-input", str(template.path))
    wrong = cruft(env, project, "diff", "--exit-code", check=False)
    assert wrong.returncode == 1 and {"LICENSE", ".dvc/config"} <= diff_paths(wrong.stdout)
    (project / ".cruft.json").unlink()

    # Linked with the answers the project was made with: in sync, and current.
    cruft(
        env,
        project,
        "link",
        "--no-input",
        "--extra-context",
        json.dumps(answers),
        str(template.path),
    )
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Link the template")
    assert cruft(env, project, "diff", "--exit-code").stdout == ""
    cruft(env, project, "check")


@pytest.fixture(scope="module")
def release_b(template: Template) -> tuple[str, str]:
    """The branch every combination updates to, and its commit: release B on top of A."""
    template.branch("round-trip")
    return "round-trip", template.commit("round-trip", RELEASE_B)


@pytest.mark.parametrize("answers", [pytest.param(c, id=combination_id(c)) for c in combinations()])
def test_every_combination_survives_create_then_update(
    template: Template, env: dict, release_b: tuple[str, str], tmp_path: Path, answers: dict
) -> None:
    branch, commit = release_b
    project = create(env, template, tmp_path, **answers)
    before = snapshot(project)
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", branch)
    assert changed_paths(project) == RELEASE_B_PATHS
    assert not list(project.rglob("*.rej"))
    after = snapshot(project)
    assert set(after) == set(before) | {".editorconfig"}
    assert after["Makefile"] == before["Makefile"] + b"# Added by template release B.\n"
    state = json.loads(after[".cruft.json"])
    # At B (what `cruft check` compares), with the same answers: booleans stay booleans.
    assert state["commit"] == commit
    assert {k: state["context"]["cookiecutter"][k] for k in answers} == answers
