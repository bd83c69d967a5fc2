"""Migrations that move team-owned files (cookiecutter.json's ``moves``).

A major release may move the package's modules into subpackages. cruft never
touches ``src/`` and ``tests/``, so ``tools/check_template_update.py`` moves the
team's file with their edits merged in, and lists, file:line, the team's own
imports of a moved module (and paths naming it) to change by hand.

One cruft round trip (slow) is shared by the scenario's tests; the import finder
also gets fast tests that call it directly.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from support.cruft_support import (
    PACKAGE,
    PROJECT,
    Template,
    check_update,
    create,
    cruft,
    git,
    replace_first_line,
)
from support.helpers import TEMPLATE_DIR

TOOL = TEMPLATE_DIR / PROJECT / "tools" / "check_template_update.py"
PKG = "ml_project"  # the default package_name
# Release 9.0.0 moves a module (only config.py imports it) and three test files.
MOVES = {
    "src/{package_name}/yaml_rules.py": "src/{package_name}/checks/yaml_rules.py",
    "tests/test_cli.py": "tests/cli/test_cli.py",
    "tests/test_config.py": "tests/config/test_config.py",
    "tests/conftest.py": "tests/shared/conftest.py",
}
WHY = "release 9.0.0: a test"
# The updated project, the check's result, and that of the check run again.
Moved = tuple[Path, subprocess.CompletedProcess, subprocess.CompletedProcess]
TEAM_RULES = '''"""The team's own rules."""

from . import yaml_rules
from .yaml_rules import check_shape
from .config import load_params
'''
# The team's edit of the moved module: an import written for its old place.
RULES_EDIT = "from .errors import DataError  # the team's\n# the team's own rule\n"
TEAM_TEST = f"""import {PKG}.yaml_rules
from {PKG} import config, yaml_rules
from {PKG}.yaml_rules import ShapeError


def test_patched(monkeypatch):
    monkeypatch.setattr("{PKG}.yaml_rules.check_shape", print)
    assert "{PKG}.yaml_rules:check_shape"
"""


def tool() -> ModuleType:
    """The template's tools/check_template_update.py, imported as it is (its one
    Jinja expression is inside a string)."""
    spec = importlib.util.spec_from_file_location("check_template_update", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declare_moves(text: str) -> str:
    """cookiecutter.json with a release 9.0.0 whose migration moves ``MOVES``,
    after a release 8.9.0 whose migration merges ``src`` and ``tests`` without
    moves: one update crosses both, as an update from 1.0.0 to 2.0.0 crosses
    1.1.0's entry, and the older entry must leave the moved paths to the move."""
    context = json.loads(text)
    context["_migrations"].append(
        {"release": "8.9.0", "paths": ["src", "tests"], "reason": "an older entry"}
    )
    context["_migrations"].append(
        {
            "release": "9.0.0",
            "paths": ["src", "tests", "dvc.yaml"],
            "reason": "a test",
            "moves": MOVES,
        }
    )
    return json.dumps(context, indent=2) + "\n"


def move_files(template: Template, branch: str, moves: dict[str, str]) -> None:
    """Commit ``git mv`` of template paths (old -> new) on ``branch``."""
    worktree = template.path.parent / f"worktree-{branch}-moves"
    git(template.path, "worktree", "add", "--quiet", str(worktree), branch)
    for old, new in moves.items():
        (worktree / new).parent.mkdir(parents=True, exist_ok=True)
        git(worktree, "mv", old, new)
    git(worktree, "commit", "--quiet", "-m", f"Moves on {branch}")
    git(template.path, "worktree", "remove", "--force", str(worktree))


def in_template(path: str) -> str:
    """A baked path's place in the template (``src/{package_name}/x`` -> its file)."""
    return f"{PROJECT}/" + path.replace("src/{package_name}", PACKAGE.split("/", 1)[1])


@pytest.fixture(scope="module")
def moved(template: Template, env: dict, tmp_path_factory: pytest.TempPathFactory) -> Moved:
    """A team's project updated with cruft to release 9.0.0, which moves
    ``MOVES``; the project, the check's result and that of the check run again
    (as docs/updating.md says to, after changing what it listed).

    The team edited yaml_rules.py, imports it from a module and a test of its
    own (and names its path in dvc.yaml), deleted tests/test_cli.py, already
    has a tests/config/test_config.py of its own, and changed the first line of
    tests/conftest.py, which the release changes too.
    """
    project = create(env, template, tmp_path_factory.mktemp("moves") / "out")
    package = project / "src" / PKG
    rules = package / "yaml_rules.py"
    rules.write_text(rules.read_text() + RULES_EDIT)
    # A module of the team's own that the release's new checks/ folder hides.
    (package / "checks.py").write_text("# the team's own checks\n")
    (package / "team_rules.py").write_text(TEAM_RULES)
    (project / "tests" / "test_team_rules.py").write_text(TEAM_TEST)
    # Half-resolved work does not parse: the finder skips it.
    (project / "tests" / "test_wip.py").write_text(f"from {PKG}.yaml_rules import (\n")
    dvc = project / "dvc.yaml"
    dvc.write_text(dvc.read_text() + f"# our lint stage reads src/{PKG}/yaml_rules.py\n")
    (project / "tests" / "test_cli.py").unlink()
    (project / "tests" / "config").mkdir()
    (project / "tests" / "config" / "test_config.py").write_text("# the team's own\n")
    conftest = project / "tests" / "conftest.py"
    conftest.write_text(replace_first_line("# the team's first line")(conftest.read_text()))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team work")

    template.branch("moves")
    move_files(
        template, "moves", {in_template(old): in_template(new) for old, new in MOVES.items()}
    )
    moved_rules = in_template(MOVES["src/{package_name}/yaml_rules.py"])
    template.commit(
        "moves",
        {
            "cookiecutter.json": declare_moves,
            moved_rules: lambda text: "# moved in 9.0.0\n" + text,
            in_template("tests/shared/conftest.py"): replace_first_line("# 9.0.0's first line"),
            in_template("src/{package_name}/checks/__init__.py"): lambda _: '"""Checks."""\n',
            in_template("src/{package_name}/config.py"): lambda text: text.replace(
                "from .yaml_rules import", "from .checks.yaml_rules import"
            ),
        },
    )
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", "moves")
    checked = check_update(project, env)
    return project, checked, check_update(project, env)


@pytest.mark.slow  # a cruft round trip
def test_a_move_carries_the_team_s_edits_to_the_new_path(
    moved: Moved,
) -> None:
    project, checked, _ = moved
    old, new = f"src/{PKG}/yaml_rules.py", f"src/{PKG}/checks/yaml_rules.py"

    assert f"migrated: {old} -> {new}: moved and merged ({WHY})" in checked.stdout
    assert not (project / old).exists()
    text = (project / new).read_text()
    assert text.startswith("# moved in 9.0.0\n") and text.endswith(RULES_EDIT)
    # The template's own files follow through the regular merge (the first
    # entry crossed merges them), which leaves the moved paths to the move.
    assert f"migrated: src/{PKG}/checks/__init__.py: added (release 8.9.0" in checked.stdout
    assert "the template removed it" not in checked.stderr
    config = (project / "src" / PKG / "config.py").read_text()
    assert "from .checks.yaml_rules import ShapeError, check_shape" in config
    # Left for review: a rename in the work tree, nothing committed.
    status = git(project, "status", "--porcelain", "--untracked-files=all").stdout
    assert f" D {old}" in status and f"?? {new}" in status


@pytest.mark.slow  # a cruft round trip
def test_the_team_s_imports_of_a_moved_module_are_listed(
    moved: Moved,
) -> None:
    project, checked, _ = moved
    old, new = f"{PKG}.yaml_rules", f"{PKG}.checks.yaml_rules"
    dvc_line = len((project / "dvc.yaml").read_text().splitlines())
    rules = (project / "src" / PKG / "checks" / "yaml_rules.py").read_text().splitlines()
    rules_line = rules.index(RULES_EDIT.splitlines()[0]) + 1

    errors = {line for line in checked.stderr.splitlines() if line.startswith("error:")}

    assert checked.returncode == 1, checked.stderr
    imports = f"{old}, which release 9.0.0 moved to {new}: change the import"
    named = f"{old}, which release 9.0.0 moved to {new}: change the name"
    assert errors - {collision_line(), conflict_line()} == {
        f"error: dvc.yaml:{dvc_line}: names src/{PKG}/yaml_rules.py, which release"
        f" 9.0.0 moved to src/{PKG}/checks/yaml_rules.py: change the path",
        f"error: src/{PKG}/team_rules.py:3: imports {imports}",
        f"error: src/{PKG}/team_rules.py:4: imports {imports}",
        f"error: tests/test_team_rules.py:1: imports {imports}",
        f"error: tests/test_team_rules.py:2: imports {imports}",
        f"error: tests/test_team_rules.py:3: imports {imports}",
        f"error: tests/test_team_rules.py:7: names {named}",
        f"error: tests/test_team_rules.py:8: names {named}",
        # The team's relative import in the moved file now points nowhere.
        f"error: src/{PKG}/checks/yaml_rules.py:{rules_line}: imports {PKG}.checks.errors,"
        f" which is not in the package (release 9.0.0 moved this file or the module:"
        f" see {PKG}.errors): change the import",
        f"error: src/{PKG}/checks.py: the update adds the folder src/{PKG}/checks/,"
        " which Python imports instead of your module: rename your module (and its imports)",
    }
    # Nothing is rewritten in the team's files: they review and change them.
    assert (project / "src" / PKG / "team_rules.py").read_text() == TEAM_RULES
    assert (project / "tests" / "test_team_rules.py").read_text() == TEAM_TEST


@pytest.mark.slow  # a cruft round trip
def test_a_moved_file_the_team_deleted_stays_deleted(
    moved: Moved,
) -> None:
    project, checked, _ = moved

    assert not (project / "tests" / "test_cli.py").exists()
    assert not (project / "tests" / "cli").exists()
    assert "test_cli.py" not in checked.stdout + checked.stderr


def collision_line() -> str:
    old, new = "tests/test_config.py", "tests/config/test_config.py"
    return (
        f"error: {old} -> {new}: {WHY}; {new} is yours already: rename it, run this"
        f" check again (it moves {old} there with your edits), then merge the two"
    )


@pytest.mark.slow  # a cruft round trip
def test_a_move_onto_a_file_of_the_team_is_listed_and_leaves_both(
    moved: Moved,
) -> None:
    project, checked, _ = moved

    assert collision_line() in checked.stderr.splitlines()
    # Both files as the team committed them.
    assert not git(
        project, "status", "--porcelain", "--", "tests/config", "tests/test_config.py"
    ).stdout


def conflict_line() -> str:
    old, new = "tests/conftest.py", "tests/shared/conftest.py"
    return (
        f"error: {old} -> {new}: {WHY}; moved, but the merge conflicts: resolve the"
        f" <<<<<<< markers in {new}"
    )


@pytest.mark.slow  # a cruft round trip
def test_a_move_that_conflicts_leaves_the_markers_at_the_new_path(
    moved: Moved,
) -> None:
    project, checked, _ = moved

    assert conflict_line() in checked.stderr.splitlines()
    assert not (project / "tests" / "conftest.py").exists()
    text = (project / "tests" / "shared" / "conftest.py").read_text()
    assert "<<<<<<<" in text
    assert "# the team's first line" in text and "# 9.0.0's first line" in text


@pytest.mark.slow  # a cruft round trip
def test_the_check_run_again_still_lists_the_conflict_of_a_moved_file(
    moved: Moved,
) -> None:
    _, first, again = moved

    assert again.returncode == 1, again.stderr
    assert conflict_line() in again.stderr.splitlines()
    # What the first run moved stays moved: nothing is moved or merged twice.
    assert "moved and merged" in first.stdout and "moved and merged" not in again.stdout


def test_the_finder_resolves_relative_imports_against_the_file() -> None:
    finder = tool().python_references
    modules = {"p.data": "p.pipeline.prepare"}
    text = (
        "from .data import load\n"
        "from . import data, config\n"
        "from .. import data as other\n"
        "from ..data import x\n"
        "from .pipeline.prepare import load\n"
        "from .database import y\n"
    )

    assert finder("src/p/cli.py", text, modules) == [
        (1, "imports", "p.data"),
        (2, "imports", "p.data"),
    ]
    assert finder("src/p/sub/mod.py", text, modules) == [
        (3, "imports", "p.data"),
        (4, "imports", "p.data"),
    ]
    assert finder("src/p/sub/__init__.py", text, modules) == finder(
        "src/p/sub/mod.py", text, modules
    )


def test_the_finder_sees_absolute_imports_and_mock_targets() -> None:
    finder = tool().python_references
    modules = {"p.data": "p.pipeline.prepare", "p.serve": "p.serving.app"}
    text = (
        "import p.data\n"
        "import p.data as d, os\n"
        "from p.data import load\n"
        "from p import data, serve\n"
        "import p\n"
        "def test(monkeypatch):\n"
        "    monkeypatch.setattr('p.serve.create_app', None)\n"
        "    monkeypatch.setattr('p.data', 'p.database')\n"
    )

    assert finder("tests/test_x.py", text, modules) == [
        (1, "imports", "p.data"),
        (2, "imports", "p.data"),
        (3, "imports", "p.data"),
        (4, "imports", "p.data"),
        (4, "imports", "p.serve"),
        (7, "names", "p.serve"),
        (8, "names", "p.data"),
    ]
    assert finder("tests/test_x.py", "<<<<<<< yours\nimport p.data\n", modules) == []
