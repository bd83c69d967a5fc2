"""A git copy of the template and the cruft commands, for the update tests.

``Template`` is the working tree's template committed as A in a throwaway
repository; scenarios commit newer template releases on branches of their own.
``create`` makes a project with ``cruft create`` as a user would. Shared by
test_cruft.py (cruft itself) and test_workflow_template_update.py (the
workflow that runs it every week); the fixtures are in conftest.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from support.helpers import TEMPLATE_DIR, clean_env

BIN = Path(sys.executable).parent
SLUG = "ml-project"  # the default project_slug; no test here changes project_name
PROJECT = "{{cookiecutter.project_slug}}"
PACKAGE = f"{PROJECT}/src/{{{{cookiecutter.package_name}}}}"
TEAM = ("-c", "user.name=Team", "-c", "user.email=team@example.com", "-c", "commit.gpgsign=false")
# The files a team owns: `[tool.cruft] skip` in the baked pyproject.toml.
TEAM_OWNED = ("README.md", "docs/model-card.md", "dvc.yaml", "params.yaml", "src", "tests")
# cookiecutter renders each hook into a NamedTemporaryFile(delete=False) and never
# removes it (cookiecutter/hooks.py::run_script_with_context): the only thing a
# render may leave in the temp directory.
COOKIECUTTER_HOOK_FILE = re.compile(r"tmp\w{8}\.py")


Change = Callable[[str], str]


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run git in ``cwd`` with the team's identity available."""
    result = subprocess.run(
        ["git", *TEAM, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert not check or result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result


def append(line: str) -> Change:
    return lambda text: text + line + "\n"


def replace_first_line(line: str) -> Change:
    return lambda text: line + "\n" + text.split("\n", 1)[1]


class Template:
    """A git copy of the template: ``main`` at commit A, one branch per scenario."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def branch(self, name: str) -> None:
        """A branch at commit A that a scenario moves later with ``commit``."""
        git(self.path, "branch", name, "main")

    def commit(self, branch: str, changes: dict[str, Change]) -> str:
        """Commit ``changes`` (template path -> edit) on ``branch``; return the commit."""
        worktree = self.path.parent / f"worktree-{branch}"
        git(self.path, "worktree", "add", "--quiet", str(worktree), branch)
        for relative, change in changes.items():
            file = worktree / relative
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(change(file.read_text() if file.exists() else ""))
        git(worktree, "add", "--all")
        git(worktree, "commit", "--quiet", "-m", f"Template change on {branch}")
        commit = git(worktree, "rev-parse", "HEAD").stdout.strip()
        git(self.path, "worktree", "remove", "--force", str(worktree))
        return commit


# A template release: a changed template-owned file and a new one (rendered).
RELEASE_B: dict[str, Change] = {
    f"{PROJECT}/Makefile": append("# Added by template release B."),
    f"{PROJECT}/.editorconfig": lambda _: (
        "# Editor settings for {{ cookiecutter.project_name }}\nroot = true\n"
    ),
}
RELEASE_B_PATHS = {"Makefile", ".editorconfig", ".cruft.json"}


def check_update(
    project: Path, env: dict | None = None, python: str | Path = sys.executable
) -> subprocess.CompletedProcess:
    """Run the baked ``tools/check_template_update.py`` in ``project`` (with the
    test tools' Python unless another is given)."""
    return subprocess.run(
        [str(python), "tools/check_template_update.py"],
        cwd=project,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def cruft(env: dict, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the cruft command line."""
    result = subprocess.run(
        [str(BIN / "cruft"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (
        not check or result.returncode == 0
    ), f"cruft {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def create(env: dict, template: Template, output_dir: Path, *options: str, **answers) -> Path:
    """``cruft create --no-input``, then the documented commit of ``.cruft.json``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    extra = ["--extra-context", json.dumps(answers)] if answers else []
    created = cruft(env, output_dir, "create", "--no-input", *options, *extra, str(template.path))
    project = output_dir / SLUG
    # The hook committed everything before cruft wrote .cruft.json (CR-3), and
    # said how to commit it.
    assert 'git add .cruft.json && git commit -m "Track the template link"' in created.stdout
    assert git(project, "status", "--porcelain").stdout == "?? .cruft.json\n"
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Track the template link")
    assert git(project, "status", "--porcelain").stdout == ""
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a project outside .git, with its content."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".git"
    }


def changed_paths(project: Path) -> set[str]:
    """Paths that differ from HEAD (staged, unstaged or untracked)."""
    status = git(project, "status", "--porcelain", "--untracked-files=all").stdout
    return {line[3:] for line in status.splitlines()}


def diff_paths(diff: str) -> set[str]:
    """The paths a cruft diff touches (both sides of every header)."""
    paths = set()
    for a, b in re.findall(
        r"^diff --git upstream-template-old/(\S+) upstream-template-new/(\S+)$", diff, re.MULTILINE
    ):
        paths |= {a, b}
    return paths


def copy_working_tree(path: Path) -> None:
    """Copy the working tree's template files (what git would commit) into ``path``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = TEMPLATE_DIR / relative
        if source.is_file():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / relative)


def copy_template(path: Path) -> Template:
    """The working tree's template files (what git would commit), committed as A."""
    copy_working_tree(path)
    git(path, "init", "--quiet")
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "A")
    return Template(path)
