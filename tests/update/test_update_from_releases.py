"""A project from every release, with a team's work, updated to this release.

Each release of CHANGELOG.md (its commit, from this repository's history) and
the working tree as the newest release are committed and tagged in a throwaway
template repository. For each older release, a project is made with ``cruft
create --checkout vX.Y.Z``, installed (``make setup``), given a team's edits (a
parameter, a change in ``src/``, a module and a test of its own) and
committed; then updated with exactly the commands of docs/updating.md, and
the baked project's own gates run as a user runs them: ``make repro``, ``make
test``, ``make lint``, ``make docs``. A step by hand is taken only where the
release entry names it. The team's edits must all be there afterwards.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cruft_support import SLUG, Template, copy_working_tree, cruft, git
from support.helpers import TEMPLATE_DIR, Baked, clean_env

pytestmark = pytest.mark.slow

CHANGELOG = (TEMPLATE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
# "## 0.3.0 (2026-12-03)" then "Commit: `0d2fdf9`." (the newest: "the one tagged").
RELEASES = re.findall(
    r"^## (\d+\.\d+\.\d+) \(.*?\)\n\nCommit: `?([0-9a-f]{7,40}|the one)", CHANGELOG, re.M
)
NEWEST = RELEASES[0][0]
OLDER = [(version, commit) for version, commit in RELEASES[1:]]
UPDATING = (TEMPLATE_DIR / "docs" / "updating.md").read_text(encoding="utf-8")

FEATURES = '''"""The team's own features."""


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or 0.0 for a zero denominator."""
    return numerator / denominator if denominator else 0.0
'''
FEATURES_TEST = """from {package}.features import ratio


def test_ratio() -> None:
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(1.0, 0.0) == 0.0
"""
SRC_EDIT = "\n\n# The team's note: retrain when the data changes.\n"


def empty(path: Path) -> None:
    """Remove every file of the work tree at ``path`` (``git add --all`` then
    records the next release's files, deletions included)."""
    for entry in path.iterdir():
        if entry.is_dir() and entry.name != ".git":
            shutil.rmtree(entry)
        elif entry.is_file():
            entry.unlink()


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The template's releases, oldest first, each tagged; main is the newest."""
    path = tmp_path_factory.mktemp("releases") / "ml-cicd"
    path.mkdir()
    git(path, "init", "--quiet")
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")
    for version, commit in reversed(OLDER):
        present = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=TEMPLATE_DIR, check=False
        )
        assert present.returncode == 0, f"{commit} ({version}) is not here: clone with history"
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit],
            cwd=TEMPLATE_DIR,
            capture_output=True,
            check=True,
        ).stdout
        empty(path)
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
        git(path, "add", "--all")
        git(path, "commit", "--quiet", "-m", f"Release {version}")
        git(path, "tag", f"v{version}")
    empty(path)
    copy_working_tree(path)
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", f"Release {NEWEST}")
    git(path, "tag", f"v{NEWEST}")
    return Template(path)


def test_every_release_is_listed_with_its_commit() -> None:
    assert [version for version, _ in RELEASES][:3] == ["2.0.0", "1.1.0", "1.0.0"]
    assert {"afb8934", "857436b", "0d2fdf9", "c1cb594", "281154f"} <= {c for _, c in OLDER}
    assert f'"_release": "{NEWEST}"' in (TEMPLATE_DIR / "cookiecutter.json").read_text()


@pytest.mark.parametrize("version", [version for version, _ in OLDER])
def test_a_project_from_an_older_release_updates_and_stays_green(
    releases: Template, version: str, tmp_path: Path
) -> None:
    # uv and cruft on PATH, as a user has them.
    extra = {
        "TMPDIR": str(tmp_path),
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": f"{clean_env()['PATH']}:{Path(sys.executable).parent}",
    }
    env = clean_env(extra)
    out = tmp_path / "out"
    out.mkdir()
    cruft(env, out, "create", "--no-input", "--checkout", f"v{version}", str(releases.path))
    project = Baked(out / SLUG)
    git(project.path, "add", ".cruft.json")
    git(project.path, "commit", "--quiet", "-m", "Track the template link")
    project.run("make", "setup", extra_env=extra, timeout=900)

    # The team's work: a parameter, a change in src/, a module and a test of its own.
    package = project.path / "src" / project.package
    params = project.path / "params.yaml"
    params.write_text(re.sub(r"(?m)^(\s+)C: 1\.0$", r"\g<1>C: 0.5", params.read_text(), count=1))
    assert "C: 0.5" in params.read_text()
    with (package / "predict.py").open("a") as handle:
        handle.write(SRC_EDIT)
    (package / "features.py").write_text(FEATURES)
    (project.path / "tests" / "test_features.py").write_text(
        FEATURES_TEST.format(package=package.name)
    )
    git(project.path, "add", "--all")
    git(project.path, "commit", "--quiet", "-m", "The team's work")

    # The update, as docs/updating.md gives it to take the first step by hand.
    commands = [
        "git switch -c template-update",
        f".venv/bin/cruft update --skip-apply-ask --checkout v{NEWEST}",
        ".venv/bin/python tools/check_template_update.py",
        "make setup",
    ]
    assert "\n".join(commands) in UPDATING
    git(project.path, "switch", "--quiet", "-c", "template-update")
    updated = project.run(*commands[1].split(), extra_env=extra)
    assert "Good work" in updated.stdout + updated.stderr
    checked = project.run(*commands[2].split(), extra_env=extra, check=False)
    report = checked.stdout + checked.stderr
    if version in ("0.1.0", "0.2.0"):
        # The step by hand that 1.0.0's entry names: the model settings moved.
        assert checked.returncode != 0, report
        assert "error: params.yaml: release 1.0.0:" in report, report
        text = params.read_text()
        assert "<<<<<<<" in text
        params.write_text(resolve_model_settings(text))
    else:
        assert checked.returncode == 0, report
    assert "migrated: " in report, report
    project.run("make", "setup", extra_env=extra, timeout=900)

    for target in ("repro", "test", "lint", "docs"):
        project.run("make", target, extra_env=extra, timeout=1200)

    # Every edit of the team is there.
    assert "C: 0.5" in params.read_text()
    # 2.0.0 moved predict.py into model/: the team's edit moved with it.
    assert not (package / "predict.py").exists()
    assert (package / "model" / "predict.py").read_text().endswith(SRC_EDIT)
    assert (package / "features.py").read_text() == FEATURES
    assert (project.path / "tests" / "test_features.py").exists()
    assert "features" in project.read("site/api/index.html")


def resolve_model_settings(text: str) -> str:
    """Keep the template's side of the conflict, with the team's C under model.<type>."""
    resolved = re.sub(r"<<<<<<< .*?\n.*?=======\n(.*?)>>>>>>> [^\n]*\n", r"\1", text, flags=re.S)
    return re.sub(r"(?m)^(\s+)C: 1\.0$", r"\g<1>C: 0.5", resolved, count=1)
