"""Finish a template update: its migrations, the lock, and what cruft left undone.

``make template-update`` runs, in order:

1. ``python tools/check_template_update.py --release``: the template release to
   update to (its newest ``vX.Y.Z`` tag), or one line on what to do first when
   the project is not linked to its template (made with plain cookiecutter);
2. ``cruft update --checkout <that release>``, which asks before applying;
3. ``python tools/check_template_update.py``, from the project root, before
   committing (this script as the update just left it).

The third step renders the template at the commit of the last committed
``.cruft.json`` and at the new one, with the recorded answers, and then:

* applies the migrations of the releases the update crosses (cookiecutter.json's
  ``_migrations``): a release that changes the contract between the template's
  files and the team's (docs/updating.md) merges the template's changes into
  the team-owned paths it names, three ways, so the team's edits stay; each file
  is listed for review, and a conflict is left with its markers and listed. A
  release that moves team-owned files (the entry's ``moves``: old path -> new
  path, ``{package_name}`` filled in) moves the team's file with the same
  merge, and lists the team's imports of a moved module in ``src/`` and
  ``tests/`` (and lines naming a moved path in the entry's other files), which
  it never rewrites;
* runs ``uv lock`` when the update changed ``pyproject.toml`` and the project
  has a ``uv.lock`` (``make setup`` installs only what the lock says);
* lists what cruft reports as done but did not do (it says "Good work" all the
  same): the template removed a file the team edited (the file stays), added a
  file the project already had, changed a file whose change did not land, or an
  answer was switched (``--variables-to-update``) and files of the option inside
  team-owned paths (``[tool.cruft] skip``) were neither added nor removed.

It prints one ``error: <path>: <what to do>`` line (``<path>:<line>`` for a
reference to a moved file) per change left to do by hand, and exits 1 when
there is one.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from cookiecutter.generate import generate_context, generate_files
from cookiecutter.prompt import prompt_for_config

# The template release this file comes from (cookiecutter.json's _release).
RELEASE = "v{{ cookiecutter._release }}"
RELEASE_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
# A team-owned file that switched answers change, by (in the old render, in the new).
SWITCHED = {
    (True, False): "the switched answers remove it: delete it",
    (False, True): "the switched answers add it: copy it from a fresh bake",
    (True, True): "the switched answers change it: merge it with a fresh bake",
}
# Larger files are not searched for references to moved files.
MAX_SCANNED = 1_000_000
# What to change where a team's Python file names a moved module, by how.
CHANGE = {"imports": "import", "names": "name"}


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
    if not (root / ".cruft.json").is_file():
        raise NotLinked(
            ".cruft.json is missing: this project was made with plain cookiecutter."
            f" Link it once with `cruft link --checkout {RELEASE} <the template's"
            " URL>` (the release it was made from), then `git add .cruft.json &&"
            ' git commit -m "Track the template link"` (docs/updating.md)'
        )
    if shown.returncode != 0:
        raise NotLinked(
            ".cruft.json is missing or not committed: commit it first"
            " (git add .cruft.json && git commit; docs/updating.md)"
        )
    state: dict[str, Any] = json.loads(shown.stdout)
    return state


def newest_release(template: str) -> str | None:
    """The highest ``vX.Y.Z`` tag of the template repository, if it has one."""
    listed = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", template],
        capture_output=True,
        text=True,
        check=False,
    )
    versions = []
    for line in listed.stdout.splitlines():
        tag = line.rpartition("refs/tags/")[2]
        match = RELEASE_TAG.fullmatch(tag)
        if match:
            versions.append((tuple(int(part) for part in match.groups()), tag))
    return max(versions)[1] if versions else None


def release_to_update_to(root: Path) -> str:
    """What ``cruft update --checkout`` takes: the newest release, else the
    branch or tag recorded in ``.cruft.json`` (``main`` when none is)."""
    state = committed_cruft_state(root)
    release = newest_release(state["template"])
    if release is not None:
        return release
    fallback = str(state.get("checkout") or "main")
    print(
        f"warning: the template {state['template']} has no release tags (vX.Y.Z):"
        f" updating to {fallback}",
        file=sys.stderr,
    )
    return fallback


def render(template: str, commit: str, answers: dict[str, Any], scratch: Path) -> Path:
    """Bake ``template`` at ``commit`` with ``answers``, as cruft does; the project.

    Like cruft, it renders into a fresh temporary directory with ``_commit`` in
    the context, so the template's hook only shapes files (no git, no output).
    The template's checkout is ``scratch/template``; the caller removes the
    project's directory.
    """
    checkout = scratch / "template"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", template, str(checkout)],
        check=True,
    )
    subprocess.run(
        ["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", commit],
        cwd=checkout,
        check=True,
    )
    sys.path.insert(0, str(checkout))  # the template's own Jinja extensions
    try:
        given = {k: v for k, v in answers.items() if not k.startswith("_")}
        context = generate_context(
            context_file=str(checkout / "cookiecutter.json"), extra_context=given
        )
        context["cookiecutter"] = prompt_for_config(context, no_input=True)
        context["cookiecutter"].update(_template=template, _commit=commit)
        project = generate_files(
            repo_dir=str(checkout),
            context=context,
            overwrite_if_exists=True,
            # A fresh directory of the system's temp dir, as cruft renders: the
            # template's hook then only shapes files (no git, no local remote).
            output_dir=tempfile.mkdtemp(),
        )
    finally:
        sys.path.remove(str(checkout))
        # The next render is another commit: it must import its own modules.
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(str(checkout)):
                del sys.modules[name]
    return Path(project)


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` outside ``.git``, with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != ".git"
    }


def files_at(root: Path, paths: set[str]) -> dict[str, bytes]:
    """The files of ``paths`` that exist under ``root``, with their bytes (the
    project's side of the comparison: never its virtualenv, data or models)."""
    return {
        path: (root / path).read_bytes() for path in paths if (root / path).is_file()
    }


def under(path: str, entries: list[str]) -> bool:
    """True for ``path`` equal to an entry or inside an entry's directory."""
    return any(
        path == entry or path.startswith(entry.rstrip("/") + "/") for entry in entries
    )


def public(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers a person gave (cookiecutter's private ``_`` keys left out)."""
    return {k: v for k, v in answers.items() if not k.startswith("_")}


def switched(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when an answer both renders have was given another value."""
    old, new = public(old), public(new)
    return any(old[key] != new[key] for key in old.keys() & new.keys())


def migrations_crossed(old: Path, new: Path) -> list[dict[str, Any]]:
    """The ``_migrations`` entries of the new template that the old one lacks."""

    def table(checkout: Path) -> list[dict[str, Any]]:
        context = json.loads((checkout / "cookiecutter.json").read_text("utf-8"))
        entries: list[dict[str, Any]] = context.get("_migrations", [])
        return entries

    done = {entry["release"] for entry in table(old)}
    return [entry for entry in table(new) if entry["release"] not in done]


def merge(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """``git merge-file``: the team's text with the template's change; clean?"""
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for name, text in (("yours", ours), ("before", base), ("template", theirs)):
            paths.append(Path(scratch) / name)
            paths[-1].write_bytes(text)
        merged = subprocess.run(
            ["git", "merge-file", "--stdout", *map(str, paths)],
            capture_output=True,
            check=False,
        )
    if merged.returncode < 0 or merged.returncode > 127:
        raise RuntimeError(merged.stderr.decode(errors="replace"))
    return merged.stdout, merged.returncode == 0


def moves(entry: dict[str, Any], package: str) -> dict[str, str]:
    """The entry's moves (old path -> new path), with ``{package_name}`` filled."""
    return {
        source.format(package_name=package): target.format(package_name=package)
        for source, target in entry.get("moves", {}).items()
    }


def moves_that_count(
    entry: dict[str, Any], package: str, old: dict[str, bytes], new: dict[str, bytes]
) -> dict[str, str]:
    """The entry's moves that both renders have: a move the renders lack (an
    answer left the file out, or the old release had no such file) is no move."""
    return {
        source: destination
        for source, destination in moves(entry, package).items()
        if source in old and destination in new
    }


def move(
    root: Path,
    source: str,
    target: str,
    sides: tuple[bytes, bytes, bytes],
    why: str,
) -> tuple[list[str], list[str]]:
    """Write the merge of ``sides`` (the team's ``source``, the old render's, the
    new render's ``target``) at ``target``, delete ``source``; (changed, problems)."""
    merged, clean = merge(*sides)
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    (root / target).write_bytes(merged)
    (root / source).unlink()
    if clean:
        return [f"{source} -> {target}: moved and merged ({why})"], []
    return [], [moved_with_conflict(source, target, why)]


def moved_with_conflict(source: str, target: str, why: str) -> str:
    """The line for a moved file whose merge left conflict markers."""
    return (
        f"{source} -> {target}: {why}; moved, but the merge conflicts: resolve"
        f" the <<<<<<< markers in {target}"
    )


def migrate(
    root: Path,
    entry: dict[str, Any],
    old: dict[str, bytes],
    new: dict[str, bytes],
    project: dict[str, bytes],
    package: str,
    moving: set[str],
) -> tuple[list[str], list[str]]:
    """Apply one migration to the work tree; (files changed, problems).

    ``moving``: both paths of every move of the update's migrations, which only
    their own entry's move touches (an older entry of the same update that
    merges ``src`` would otherwise remove the team's file and add the new one).
    """
    changed, problems = [], []
    why = f"release {entry['release']}: {entry['reason']}"
    moved = moves_that_count(entry, package, old, new)
    for source, destination in sorted(moved.items()):
        if source not in project:
            # Deleted by the team (it stays deleted), or moved by an earlier
            # run of this check, which may have left a conflict to resolve.
            if has_markers(project.get(destination)):
                problems.append(moved_with_conflict(source, destination, why))
            continue
        if destination in project:
            problems.append(
                f"{source} -> {destination}: {why}; {destination} is yours"
                f" already: rename it, run this check again (it moves {source}"
                " there with your edits), then merge the two"
            )
            continue
        sides = (project[source], old[source], new[destination])
        done, left = move(root, source, destination, sides, why)
        changed += done
        problems += left
    for path in sorted(p for p in old.keys() | new.keys() if under(p, entry["paths"])):
        if path in moving:
            continue
        here, before, now = project.get(path), old.get(path), new.get(path)
        if before == now or here == now:
            continue
        target = root / path
        if now is None:  # the template removed it
            if here == before:
                target.unlink()
                changed.append(f"{path}: removed ({why})")
            elif here is not None:
                problems.append(
                    f"{path}: {why}; the template removed it and you edited it:"
                    " delete it or keep it"
                )
            continue
        if here is None:
            if before is None:  # new in the template
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(now)
                changed.append(f"{path}: added ({why})")
            continue  # the team deleted it: it stays deleted
        merged, clean = merge(here, before or b"", now)
        target.write_bytes(merged)
        if clean:
            changed.append(f"{path}: merged ({why})")
        else:
            problems.append(
                f"{path}: {why}; the merge conflicts: resolve the <<<<<<< markers"
            )
    return changed, problems + stale_references(root, entry, moved, package)


def has_markers(text: bytes | None) -> bool:
    """True for a file that still holds a merge conflict's ``<<<<<<<`` line."""
    return text is not None and any(
        line.startswith(b"<<<<<<< ") for line in text.splitlines()
    )


def shadowed(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> list[str]:
    """One line per module of the team's that a folder the update adds hides
    (``src/p/model.py`` beside a new ``src/p/model/``: Python imports the folder)."""
    problems = []
    for path in sorted(new.keys() - old.keys()):
        if not (path.startswith("src/") and path.endswith("/__init__.py")):
            continue
        folder = path.removesuffix("__init__.py")
        module = folder.removesuffix("/") + ".py"
        if (root / module).is_file() and module not in old:
            problems.append(
                f"{module}: the update adds the folder {folder}, which Python"
                " imports instead of your module: rename your module (and its"
                " imports)"
            )
    return problems


def module_of(path: str) -> str | None:
    """The module a Python file of ``src/`` holds (``src/p/a/b.py``: ``p.a.b``)."""
    if not (path.startswith("src/") and path.endswith(".py")):
        return None
    parts = path.removeprefix("src/").removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(node: ast.ImportFrom, path: str) -> str:
    """The module a ``from ... import`` names, a relative one resolved against
    the package of the file at ``path`` (``src/p/a/b.py`` is in ``p.a``)."""
    if not node.level:
        return node.module or ""
    package = path.removeprefix("src/").split("/")[:-1]
    if node.level > len(package):
        return ""  # beyond the top-level package: Python refuses it
    parts = package[: len(package) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def named_modules(tree: ast.Module, path: str) -> list[tuple[int, str, list[str]]]:
    """(line, "imports" or "names", dotted names) of each import of ``tree`` and
    of each string (a mock target); ``from a import b`` gives ``a`` and ``a.b``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((node.lineno, "imports", [name.name for name in node.names]))
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node, path)
            names = [base, *(f"{base}.{name.name}" for name in node.names)]
            found.append((node.lineno, "imports", names))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, "names", [node.value]))
    return found


def python_references(
    path: str, text: str, modules: dict[str, str]
) -> list[tuple[int, str, str]]:
    """(line, "imports" or "names", old module) for each import or string of the
    Python file ``path`` that names a moved module (``modules``: old -> new);
    none when the file does not parse (conflict markers)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    found = []
    for line, kind, names in sorted(named_modules(tree, path)):
        for old in sorted(modules):
            if any(
                name == old or name.startswith((f"{old}.", f"{old}:")) for name in names
            ):
                found.append((line, kind, old))
    return found


def missing_modules(
    path: str, text: str, package: str, existing: set[str]
) -> list[tuple[int, str]]:
    """(line, module) for each import in the Python file ``path`` of a module of
    ``package`` that is not in ``existing`` (a relative import written for the
    file's place before a release moved it); none when the file does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = absolute(node, path)
            if module.split(".")[0] == package and module not in existing:
                found.append((node.lineno, module))
    return sorted(found)


def team_files(root: Path, paths: list[str]) -> list[str]:
    """The files under ``paths`` that git sees (tracked, or new and not ignored),
    up to ``MAX_SCANNED`` bytes: never a virtualenv, a cache or a build."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
        + paths,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(
        {
            path
            for path in listed.stdout.split("\0")
            if path
            and (root / path).is_file()
            and (root / path).stat().st_size <= MAX_SCANNED
        }
    )


def stale_references(
    root: Path, entry: dict[str, Any], moved: dict[str, str], package: str
) -> list[str]:
    """One line per place in the work tree that still names a file ``moved``
    (old path -> new path): an import or a mock target of a moved module in the
    Python files of ``src/`` and ``tests/``, an import in ``src/`` of a module
    that is not there (a relative import in a moved file), a moved path in the
    entry's other files (``dvc.yaml``)."""
    if not moved:
        return []
    modules = {}
    for source, target in moved.items():
        old_module, new_module = module_of(source), module_of(target)
        if old_module and new_module:
            modules[old_module] = new_module
    release = f"release {entry['release']}"
    problems = []
    scanned = team_files(root, ["src", "tests", *entry["paths"]])
    existing = {module for path in scanned if (module := module_of(path))}
    for path in scanned:
        try:
            text = (root / path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.endswith(".py") and under(path, ["src", "tests"]):
            for line, kind, old in python_references(path, text, modules):
                problems.append(
                    f"{path}:{line}: {kind} {old}, which {release} moved to"
                    f" {modules[old]}: change the {CHANGE[kind]}"
                )
            for line, module in missing_modules(path, text, package, existing):
                if any(
                    module == old or module.startswith(f"{old}.") for old in modules
                ):
                    continue  # named above, with its new module
                problems.append(
                    f"{path}:{line}: imports {module}, which is not in the package"
                    f" ({release} moved this file or the module: see"
                    f" {nearest(module, existing)}): change the import"
                )
        elif under(path, entry["paths"]):
            for number, content in enumerate(text.splitlines(), start=1):
                for source in sorted(s for s in moved if s in content):
                    problems.append(
                        f"{path}:{number}: names {source}, which {release} moved to"
                        f" {moved[source]}: change the path"
                    )
    return problems


def nearest(module: str, existing: set[str]) -> str:
    """The modules of ``existing`` named as ``module`` ends, or "CHANGELOG.md"."""
    name = module.rpartition(".")[2]
    alike = sorted(m for m in existing if m.rpartition(".")[2] == name)
    return ", ".join(alike) or "CHANGELOG.md"


def relock(root: Path) -> tuple[list[str], list[str]]:
    """``uv lock`` when the update changed pyproject.toml; (done, problems)."""
    if not (root / "uv.lock").is_file():
        return [], []
    unchanged = subprocess.run(
        ["git", "diff", "--quiet", "HEAD", "--", "pyproject.toml"],
        cwd=root,
        check=False,
    )
    if unchanged.returncode == 0:
        return [], []
    uv = root / ".venv" / "bin" / "uv"
    command = [str(uv) if uv.is_file() else "uv", "lock", "--quiet"]
    try:
        locked = subprocess.run(command, cwd=root, check=False)
    except FileNotFoundError:
        return [], ["uv.lock: uv is not installed: run make setup, then uv lock"]
    if locked.returncode != 0:
        return [], ["uv.lock: uv lock failed (above): fix pyproject.toml, uv lock"]
    return [
        "uv.lock: locked again for the new pyproject.toml: review and commit it"
    ], []


def unapplied(
    old: dict[str, bytes],
    new: dict[str, bytes],
    project: dict[str, bytes],
    skip: list[str],
    answers_switched: bool,
    migrated: list[str],
) -> list[str]:
    """One line per template change that the project does not have."""
    problems = []
    for path in sorted(old.keys() | new.keys()):
        if path == ".cruft.json" or old.get(path) == new.get(path):
            continue
        here = project.get(path)
        if under(path, skip):
            # By design cruft never changes team-owned paths, and the template's
            # files rely on them only through the contract (docs/updating.md).
            # Switched answers, though, change what they must hold.
            # (A migration has merged its paths with the new render already.)
            if answers_switched and not under(path, migrated) and here != new.get(path):
                problems.append(f"{path}: {SWITCHED[(path in old, path in new)]}")
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


def finish(root: Path) -> int:
    """Migrations, the lock, then the check; print what is left to do."""
    before = committed_cruft_state(root)
    after = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    skip = [
        *after.get("skip", []),
        *pyproject.get("tool", {}).get("cruft", {}).get("skip", []),
    ]
    old_answers = before["context"]["cookiecutter"]
    new_answers = after["context"]["cookiecutter"]
    with tempfile.TemporaryDirectory() as scratch:
        renders = {}
        for name, state, answers in (
            ("old", before, old_answers),
            ("new", after, new_answers),
        ):
            (Path(scratch) / name).mkdir()
            renders[name] = render(
                after["template"], state["commit"], answers, Path(scratch) / name
            )
        old, new = files(renders["old"]), files(renders["new"])
        for project in renders.values():
            shutil.rmtree(project.parent)
        crossed = migrations_crossed(
            Path(scratch) / "old" / "template", Path(scratch) / "new" / "template"
        )
    changed, problems = [], []
    migrated: list[str] = []
    rendered = old.keys() | new.keys()
    package = new_answers["package_name"]
    moving = {
        path
        for entry in crossed
        for pair in moves_that_count(entry, package, old, new).items()
        for path in pair
    }
    for entry in crossed:
        done, left = migrate(
            root, entry, old, new, files_at(root, rendered), package, moving
        )
        changed += done
        problems += left
        migrated += entry["paths"]
    problems += shadowed(root, old, new)
    done, left = relock(root)
    changed += done
    problems += left
    problems += unapplied(
        old,
        new,
        files_at(root, rendered),
        skip,
        switched(old_answers, new_answers),
        migrated,
    )
    for line in changed:
        print(f"migrated: {line}")
    if changed:
        print("Review these changes (git diff) before you commit them.")
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


def main(argv: list[str] | None = None) -> int:
    """``--release``: the checkout to update to; otherwise finish the update."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--release",
        action="store_true",
        help="print the template release to update to (before cruft update)",
    )
    options = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if options.release:
            print(release_to_update_to(root))
            return 0
        return finish(root)
    except NotLinked as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
