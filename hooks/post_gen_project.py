"""Shape the generated project, then make it a git repository with a first commit.

Two kinds of step, kept apart on purpose:

* Render steps depend only on the answers (removing the files of features that
  are off). They always run, so every render of the same answers is identical,
  which ``cruft update`` relies on.
* Bootstrap steps touch the world (``git init``, the first commit, the local DVC
  remote directory). They are skipped when cruft re-renders the template in a
  temporary directory, and each one only warns when its tool is missing, so a
  bake never loses the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# cookiecutter.json as the template holds it (jinja_filters.install passes it as
# [key, value] pairs in the file's order): the choices are read, never restated.
TEMPLATE_OPTIONS: dict = dict(json.loads(r"""{{ template_options | tojson }}"""))
# The deploy targets that deploy somewhere: every choice but "none".
DEPLOYING = tuple(target for target in TEMPLATE_OPTIONS["deploy_target"] if target != "none")

# File or directory (relative to the project root; ``{package_name}`` is filled in)
# -> the answers under which it is kept. Everything not listed is always kept.
# This table is the only place where a feature decides whether a whole file exists.
KEEP_ONLY_WHEN: dict[str, dict[str, tuple]] = {
    "src/{package_name}/serving": {"serving": (True,)},
    "tests/test_serve.py": {"serving": (True,)},
    "tests/test_serve_command.py": {"serving": (True,)},
    "tests/test_serve_limits.py": {"serving": (True,)},
    "Dockerfile": {"serving": (True,)},
    ".dockerignore": {"serving": (True,)},
    "docs/serving.md": {"serving": (True,)},
    "fly.toml": {"deploy_target": ("fly",)},
    ".github/actions/deploy": {"deploy_target": DEPLOYING},
    ".github/actions/image": {"serving": (True,)},
    ".github": {"ci_platform": ("github",)},
    "azure-pipelines.yml": {"ci_platform": ("azure-pipelines",)},
    "azure-pipelines/release.yml": {"ci_platform": ("azure-pipelines",), "serving": (True,)},
    "azure-pipelines": {"ci_platform": ("azure-pipelines",)},
    "docs/azure-devops.md": {"ci_platform": ("azure-pipelines",)},
    "tools/azure_pr_thread.py": {"ci_platform": ("azure-pipelines",)},
    "tools/smoke_test.py": {"serving": (True,)},
    "tools/deploy_container_app.sh": {"deploy_target": ("azure-container-apps",)},
    ".flake8": {"linter": ("black-flake8",)},
}

FIRST_COMMIT_MESSAGE = "Initial commit from the ml-cicd template"
# The names tempfile.mkdtemp() gives: "tmp" and 8 characters of
# tempfile._RandomNameSequence.characters.
PYTHON_TEMP_NAME = re.compile(r"tmp[a-z0-9_]{8}")


# A template address that another machine can reach: a URL, git's scp-like
# user@host:path, or cookiecutter's abbreviations (cookiecutter/config.py:
# DEFAULT_CONFIG["abbreviations"]). A path, or file://, is this machine's only.
REACHABLE_TEMPLATE = re.compile(r"(?:https?|ssh|git)://|[\w.-]+@[\w.-]+:|(?:gh|gl|bb):")


def warn(message: str) -> None:
    """Print a warning that does not stop the bake."""
    print(f"WARNING: {message}", file=sys.stderr)


def load_answers() -> dict:
    """The answers, rendered by cookiecutter as JSON and parsed back as data."""
    return json.loads(r"""{{ cookiecutter | tojson }}""")


def paths_to_remove(answers: dict) -> list[str]:
    """Project-relative paths whose feature is off for these answers."""
    removed = []
    for pattern, conditions in KEEP_ONLY_WHEN.items():
        keep = all(answers[key] in allowed for key, allowed in conditions.items())
        if not keep:
            removed.append(pattern.format(package_name=answers["package_name"]))
    return removed


def remove_disabled_files(answers: dict, root: Path) -> None:
    """Delete the files and directories of disabled features (idempotent)."""
    for relative in paths_to_remove(answers):
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def is_cruft_rerender(answers: dict, root: Path) -> bool:
    """True when cruft renders the template again to compute an update or a diff.

    cruft puts ``_commit`` into the context (``generate_cookiecutter_context``),
    plain cookiecutter never does. For ``cruft update`` and ``cruft diff`` it
    renders into a fresh ``tempfile.TemporaryDirectory()`` and moves the files
    out afterwards (``utils/generate.py::_generate_output``), so the project
    directory sits directly inside a ``tmp*`` directory of the system temp dir.
    ``cruft create`` renders into the user's real output directory instead, so
    it still gets its git repository, even inside a ``mktemp -d`` directory
    (named ``tmp.XXXXXXXXXX``, which the name check below rejects).
    """
    if "_commit" not in answers:
        return False
    parent = root.resolve().parent
    temp_root = Path(tempfile.gettempdir()).resolve()
    return parent.parent == temp_root and PYTHON_TEMP_NAME.fullmatch(parent.name) is not None


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command without a shell; never raises for a failing command."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def inside_git_work_tree(path: Path) -> bool:
    """True when ``path`` already belongs to a git work tree (a monorepo, say)."""
    result = run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path)
    return result.returncode == 0 and result.stdout.strip() == "true"


def enclosing_work_tree(path: Path) -> Path | None:
    """The top of the git work tree that ``path`` (existing or not) would be in."""
    existing = path
    while not existing.is_dir():
        existing = existing.parent
    result = run(["git", "rev-parse", "--show-toplevel"], cwd=existing)
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def create_local_remote(answers: dict, root: Path) -> None:
    """Create the directory of a ``local`` DVC remote, outside every git work tree.

    Inside one (a bake in a monorepo puts ``../<slug>-dvc-storage`` there), the
    data ``dvc push`` writes would show up as untracked files of that
    repository: warn and create nothing.
    """
    if answers["dvc_remote"] != "local":
        return
    storage = (root / answers["dvc_remote_url"]).resolve()
    outer = enclosing_work_tree(storage) if shutil.which("git") else None
    if outer is not None:
        warn(
            f"the local DVC remote {storage} would be inside the git work tree {outer}:"
            " not creating it. Point it outside that repository before `dvc push`:"
            " dvc remote modify storage url /path/outside/the/repository"
        )
        return
    try:
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        warn(f"could not create the DVC remote directory {storage}: {error}")


def git_commit_command(answers: dict) -> list[str]:
    """``git commit`` with the answered identity passed on the command line only."""
    return [
        "git",
        "-c",
        f"user.name={answers['author_name']}",
        "-c",
        f"user.email={answers['author_email']}",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        FIRST_COMMIT_MESSAGE,
    ]


def init_git_repository(answers: dict, root: Path) -> bool:
    """``git init`` on branch ``main`` and make the first commit; False if skipped."""
    if shutil.which("git") is None:
        warn("git is not installed: the project was created without a git repository.")
        return False
    if (root / ".git").exists():
        print("A git repository already exists here: leaving it as it is.")
        return False
    if inside_git_work_tree(root):
        warn("the project is inside another git work tree: not creating a nested repository.")
        return False
    steps = (
        ["git", "init", "--quiet"],
        # Works on every git version, whatever init.defaultBranch says.
        ["git", "symbolic-ref", "HEAD", "refs/heads/main"],
        ["git", "add", "--all"],
        git_commit_command(answers),
    )
    for command in steps:
        result = run(command, cwd=root)
        if result.returncode != 0:
            step = " ".join(command[:2])
            warn(f"`{step} ...` failed, the project is kept: {result.stderr.strip()}")
            return False
    return True


def warn_local_template(answers: dict) -> None:
    """With cruft, warn when .cruft.json will record a path on this machine."""
    template = str(answers.get("_template", ""))
    if "_commit" not in answers or REACHABLE_TEMPLATE.match(template):
        return
    warn(
        f".cruft.json records the template as {template}, a path on this machine:"
        " no teammate and no template-update run can update from it. Before you"
        ' commit .cruft.json, set its "template" to the repository\'s URL (or create'
        " from the URL: cruft create https://github.com/<owner>/ml-cicd)."
    )


# The README's first run ("Start a project"), after `cd <project_slug>`; a test
# keeps the two the same.
FIRST_RUN = (
    "make setup                   # .venv with the project and its tools; writes uv.lock",
    "make repro                   # train: the DVC pipeline and its quality gate",
    "git add uv.lock dvc.lock reports/ data/ models/",
    'git commit -m "Lock the dependencies, train the first model"',
    "make push                    # data and model to the DVC remote",
    "make docs-serve              # the site on http://127.0.0.1:8001",
)
# `make demo` sets it to 0: the demo runs those steps itself.
NEXT_STEPS_SWITCH = "ML_CICD_NEXT_STEPS"


def print_next_steps(answers: dict) -> None:
    """Tell the user what to do next: the README's first run (unless switched off)."""
    if os.environ.get(NEXT_STEPS_SWITCH) == "0":
        return
    steps = [f"cd {answers['project_slug']}"]
    # `cruft create` writes .cruft.json only after this hook has committed.
    if "_commit" in answers:
        steps.append('git add .cruft.json && git commit -m "Track the template link"')
    steps.extend(FIRST_RUN)
    lines = "".join(f"  {step}\n" for step in steps)
    print(f"\nCreated {answers['project_slug']}. Next:\n{lines}")


def main() -> int:
    """Render steps always; bootstrap steps only for a real (non-cruft-update) bake."""
    answers = load_answers()
    root = Path.cwd()
    remove_disabled_files(answers, root)
    if is_cruft_rerender(answers, root):
        return 0
    create_local_remote(answers, root)
    init_git_repository(answers, root)
    warn_local_template(answers)
    print_next_steps(answers)
    return 0


def remove_own_file() -> None:
    """Delete this rendered hook, every answer in it, from the temporary directory.

    cookiecutter (hooks.run_script_with_context) writes the rendered script to
    a NamedTemporaryFile(delete=False) and runs it, and never deletes it.
    A hook imported from elsewhere (the unit tests) keeps its file.
    """
    own = Path(__file__)
    if own.parent == Path(tempfile.gettempdir()) and own.name.startswith("tmp"):
        own.unlink(missing_ok=True)


if __name__ == "__main__":
    remove_own_file()
    raise SystemExit(main())
