"""List the template changes that ``cruft update`` did not apply, and exit 1 if any.

cruft applies the difference between two renders of the template (the commit
in the last committed ``.cruft.json`` and the one it was just updated to) and
says "Good work" even when part of it could not apply:

* the template removed a file the team edited: the deletion does not apply,
  the file stays, and nothing is said;
* the template added a file the project already had: the team's file stays;
* a changed template file whose change did not land at all;
* an answer was switched (``--variables-to-update``): files of the option
  inside team-owned paths (``[tool.cruft] skip``) are neither added nor removed.

This script renders both template commits itself, with the answers from
``.cruft.json``, compares them with the work tree, and prints one line per file
to resolve by hand. Run it from the project root after ``cruft update``, before
committing (``make template-update`` does both).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from io import BytesIO
from pathlib import Path
from typing import Any

from cookiecutter.generate import generate_context, generate_files
from cookiecutter.prompt import prompt_for_config


class NotLinked(Exception):
    """The project has no committed link to its template."""


def committed_cruft_state(root: Path) -> dict[str, Any]:
    """``.cruft.json`` as committed (before the update), from git."""
    shown = subprocess.run(
        ["git", "show", "HEAD:.cruft.json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0 or not (root / ".cruft.json").is_file():
        raise NotLinked(
            ".cruft.json is missing or not committed: link the project to its"
            " template and commit .cruft.json first (docs/updating.md)"
        )
    state: dict[str, Any] = json.loads(shown.stdout)
    return state


def render(template: str, commit: str, answers: dict[str, Any], scratch: Path) -> Path:
    """Bake ``template`` at ``commit`` with ``answers``, as cruft does; the project.

    Like cruft, it renders into a fresh temporary directory with ``_commit`` in
    the context, so the template's hook only shapes files (no git, no output).
    """
    clone = scratch
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", template, str(clone / "git")],
        check=True,
    )
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=clone / "git",
        capture_output=True,
        check=True,
    ).stdout
    checkout = clone / "files"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(checkout, filter="data")
    sys.path.insert(0, str(checkout))  # the template's local Jinja extensions
    try:
        given = {k: v for k, v in answers.items() if not k.startswith("_")}
        context = generate_context(
            context_file=str(checkout / "cookiecutter.json"), extra_context=given
        )
        context["cookiecutter"] = prompt_for_config(context, no_input=True)
        context["cookiecutter"].update(_template=template, _commit=commit)
        output = tempfile.mkdtemp()
        project = generate_files(
            repo_dir=str(checkout),
            context=context,
            overwrite_if_exists=True,
            output_dir=output,
        )
    finally:
        sys.path.remove(str(checkout))
    return Path(project)


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` outside ``.git``, with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != ".git"
    }


def skipped(path: str, skip: list[str]) -> bool:
    """True for a path that cruft never touches (``[tool.cruft] skip``)."""
    return any(
        path == entry or path.startswith(entry.rstrip("/") + "/") for entry in skip
    )


def switched_answer_advice(path: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """What to do with a team-owned file that switched answers change."""
    if path not in new:
        return "the switched answers remove it: delete it"
    if path not in old:
        return "the switched answers add it: copy it from a fresh bake"
    return "the switched answers change it: merge it with a fresh bake"


def unapplied(
    old: dict[str, bytes],
    new: dict[str, bytes],
    project: dict[str, bytes],
    skip: list[str],
    answers_changed: bool,
) -> list[str]:
    """One line per template change that the project does not have."""
    problems = []
    for path in sorted(old.keys() | new.keys()):
        if path == ".cruft.json" or old.get(path) == new.get(path):
            continue
        here = project.get(path)
        if skipped(path, skip):
            # By design cruft never changes team-owned paths; but switched
            # answers change what they must hold, so they need a hand.
            if answers_changed and here != new.get(path):
                problems.append(f"{path}: {switched_answer_advice(path, old, new)}")
            continue
        if path not in new and here is not None:
            problems.append(
                f"{path}: the template removed it, your edited copy is still here"
            )
        elif path not in old and here != new[path]:
            problems.append(
                f"{path}: the template added it, but the project has its own version"
            )
        elif path in old and path in new and here == old[path]:
            problems.append(
                f"{path}: the template changed it, the change did not apply"
            )
    return problems


def main() -> int:
    """Compare both renders with the work tree; print what is left to do."""
    root = Path.cwd()
    try:
        before = committed_cruft_state(root)
    except NotLinked as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    after = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    skip = [
        *after.get("skip", []),
        *pyproject.get("tool", {}).get("cruft", {}).get("skip", []),
    ]
    old_answers = before["context"]["cookiecutter"]
    new_answers = after["context"]["cookiecutter"]
    with tempfile.TemporaryDirectory() as scratch:
        renders = [
            render(after["template"], state["commit"], answers, Path(scratch) / name)
            for name, state, answers in (
                ("old", before, old_answers),
                ("new", after, new_answers),
            )
        ]
        old, new = (files(project) for project in renders)
        for project in renders:
            shutil.rmtree(project.parent)
    problems = unapplied(old, new, files(root), skip, old_answers != new_answers)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(
            f"{len(problems)} template change(s) need a hand: see docs/updating.md",
            file=sys.stderr,
        )
        return 1
    print("Every template change is in the project.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
