# /// script
# requires-python = ">=3.11"
# dependencies = ["packaging==26.4"]
# ///
"""Bump the pins the template bakes, and the pins that must move with them.

    uv run tools/bump_pins.py [--summary FILE]

Two kinds of pin, each moved to the newest release at least ``COOLDOWN_DAYS``
old (Dependabot's cooldown in .github/dependabot.yml), never backwards:

* actions, ``uses: owner/repo@<commit SHA> # <tag>`` in the baked workflows and
  local actions and in templates/ci/, with the table of verified pins that
  tests/support/pins.py holds (``PINS``). The newest release is GitHub's
  "latest release" (GET /repos/{owner}/{repo}/releases/latest,
  https://docs.github.com/en/rest/releases/releases#get-the-latest-release); its
  tag becomes a commit SHA through GET /repos/{owner}/{repo}/git/ref/tags/{tag}
  (https://docs.github.com/en/rest/git/refs#get-a-reference) and, for an
  annotated tag, GET /repos/{owner}/{repo}/git/tags/{sha}
  (https://docs.github.com/en/rest/git/tags#get-a-tag).
* Python packages pinned ``name==version`` in ``PIN_FILES``: the baked
  pre-commit hooks and the dev extra that matches them, the uv of the
  Dockerfile and of the template's Makefile, and the template's own tools
  where they pin the same packages. A package moves in every file at once.
  The newest version comes from PyPI's JSON API (GET /pypi/<name>/json,
  https://docs.pypi.org/api/json/): final releases, not yanked, within
  ``HOLD``.

GitHub's address is ``GITHUB_API_URL`` (set on every Actions runner), with
``GH_TOKEN`` when set; the package index's is ``BUMP_PINS_INDEX_URL`` (default
https://pypi.org/pypi). The summary (Markdown, for the pull request) lists
every change and every pin left as it was, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
BAKED = "{{cookiecutter.project_slug}}"
COOLDOWN_DAYS = 7
# Files whose ``name==version`` pins this tool keeps: every package pinned in
# one of them moves in all of them at once.
PIN_FILES = (
    f"{BAKED}/.pre-commit-config.yaml",
    f"{BAKED}/pyproject.toml",
    f"{BAKED}/Dockerfile",
    f"{BAKED}/.github/workflows/template-update.yml",
    ".pre-commit-config.yaml",
    "Makefile",
    "requirements-bake.txt",
    "tools/bump_pins.py",
)
# The template's test tools: Dependabot bumps them, except the packages of
# PIN_FILES (its ignore list), which move here with the rest of their pins.
REQUIREMENTS = "requirements.txt"
# Packages held below a version, with the reason.
HOLD = {"typer": ("<0.29", "cruft 2.16's update prompt fails with typer 0.29")}
# Where actions are pinned: the baked workflows and actions, the CI macros.
ACTION_GLOBS = (f"{BAKED}/.github/**/*.yml", "templates/ci/*.j2")
PINS_TABLE = "tests/support/pins.py"

PACKAGE_PIN = re.compile(
    r"(?<![\w.-])([A-Za-z0-9][A-Za-z0-9._-]*)(\[[\w,-]+\])?==([0-9][0-9A-Za-z.+!-]*)"
)
ACTION_PIN = re.compile(r"uses:\s*([\w.-]+/[\w.-]+(?:/[\w./-]+)?)@([0-9a-f]{40})\s+#\s*(\S+)")
TABLE_PIN = re.compile(r'"([\w.-]+/[\w.-]+(?:/[\w./-]+)?)": \("([0-9a-f]{40})", "([^"]+)"\)')


class BumpError(Exception):
    """A source that answered with something other than what its API promises."""


@dataclass(frozen=True)
class Change:
    """One pin: what it is, from, to (``None``: kept), and why."""

    name: str
    old: str
    new: str | None
    note: str = ""


def get_json(url: str, token: str = "") -> Any:
    """GET ``url`` as JSON; ``None`` for a 404 (no such project, release or tag)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise BumpError(f"{url}: HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise BumpError(f"{url}: {error.reason}") from error


def is_old_enough(uploaded: str, now: datetime) -> bool:
    """Whether an ISO 8601 time is at least the cooldown before ``now``."""
    when = datetime.fromisoformat(uploaded.replace("Z", "+00:00"))
    return now - when >= timedelta(days=COOLDOWN_DAYS)


def newest_version(project: dict[str, Any], hold: str, now: datetime) -> Version | None:
    """The newest final, unyanked release old enough and within ``hold``."""
    allowed = SpecifierSet(hold)
    found = []
    for text, files in project["releases"].items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        live = [f for f in files if not f.get("yanked")]
        if version.is_prerelease or version.is_devrelease or not live:
            continue
        first = min(f["upload_time_iso_8601"] for f in live)
        if version in allowed and is_old_enough(first, now):
            found.append(version)
    return max(found, default=None)


def package_pins(text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` in ``text``."""
    return {m.group(1).lower(): m.group(3) for m in PACKAGE_PIN.finditer(text)}


def replace_package(text: str, name: str, old: str, new: str) -> str:
    """``text`` with ``name==old`` (extras kept) replaced by ``name==new``."""
    pattern = re.compile(
        rf"(?<![\w.-])({re.escape(name)}(?:\[[\w,-]+\])?)=={re.escape(old)}(?![\w.+!-])",
        re.IGNORECASE,
    )
    return pattern.sub(lambda m: f"{m.group(1)}=={new}", text)


def read_files(root: Path, paths: list[str]) -> dict[str, str]:
    """The text of each path under ``root`` that exists."""
    return {p: (root / p).read_text() for p in paths if (root / p).is_file()}


def owned_packages(root: Path) -> dict[str, str]:
    """name -> version of every package pinned in ``PIN_FILES``."""
    pinned: dict[str, str] = {}
    for text in read_files(root, list(PIN_FILES)).values():
        pinned.update(package_pins(text))
    return pinned


def bump_packages(texts: dict[str, str], root: Path, index: str, now: datetime) -> list[Change]:
    """Move every package of ``PIN_FILES`` to its newest version, in ``texts``."""
    changes = []
    for name, old in sorted(owned_packages(root).items()):
        hold, reason = HOLD.get(name, ("", ""))
        project = get_json(f"{index}/{name}/json")
        if project is None:
            changes.append(Change(name, old, None, "not on the package index"))
            continue
        newest = newest_version(project, hold, now)
        note = f"held {hold}: {reason}" if hold else ""
        if newest is None or newest <= Version(old):
            changes.append(Change(name, old, None, note))
            continue
        for path, text in texts.items():
            texts[path] = replace_package(text, name, old, str(newest))
        changes.append(Change(name, old, str(newest), note))
    return changes


def action_pins(root: Path) -> dict[str, tuple[str, str]]:
    """action -> (SHA, tag) of every pinned action in the baked files."""
    found: dict[str, tuple[str, str]] = {}
    for pattern in ACTION_GLOBS:
        for path in sorted(root.glob(pattern)):
            for match in ACTION_PIN.finditer(path.read_text()):
                found[match.group(1)] = (match.group(2), match.group(3))
    return found


def commit_of_tag(api: str, repo: str, tag: str, token: str) -> str:
    """The commit SHA a tag names (through its tag object when annotated)."""
    ref = get_json(f"{api}/repos/{repo}/git/ref/tags/{tag}", token)
    if ref is None:
        raise BumpError(f"{repo}: its latest release names tag {tag}, which does not exist")
    target = ref["object"]
    while target["type"] == "tag":
        target = get_json(f"{api}/repos/{repo}/git/tags/{target['sha']}", token)["object"]
    if target["type"] != "commit":
        raise BumpError(f"{repo}: tag {tag} names a {target['type']}, not a commit")
    return str(target["sha"])


def newest_action(
    api: str, repo: str, tag: str, token: str, now: datetime
) -> tuple[str, str] | str:
    """(SHA, tag) of the release to pin, or why the pin stays."""
    release = get_json(f"{api}/repos/{repo}/releases/latest", token)
    if release is None:
        return "no release on GitHub"
    latest = release["tag_name"]
    try:
        newer = Version(latest) > Version(tag)
    except InvalidVersion:
        return f"latest release {latest} is not a version"
    if not newer:
        return ""
    if not is_old_enough(release["published_at"], now):
        return f"{latest} is younger than {COOLDOWN_DAYS} days"
    return commit_of_tag(api, repo, latest, token), latest


def replace_action(text: str, old: tuple[str, str], new: tuple[str, str]) -> str:
    """Every line pinning SHA ``old[0]`` pins ``new[0]``, its tag ``new[1]``."""
    tag = re.compile(rf"(?<![\w.]){re.escape(old[1])}(?![\w.])")
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if old[0] in line:
            lines[number] = tag.sub(new[1], line.replace(old[0], new[0]))
    return "".join(lines)


def action_files(root: Path) -> list[str]:
    """The files that pin actions, the PINS table last."""
    found = [p for g in ACTION_GLOBS for p in sorted(root.glob(g))]
    return [str(p.relative_to(root)) for p in found] + [PINS_TABLE]


def bump_actions(
    texts: dict[str, str], root: Path, api: str, token: str, now: datetime
) -> list[Change]:
    """Move every pinned action to its newest release, in ``texts`` and the table."""
    table = {m.group(1): (m.group(2), m.group(3)) for m in TABLE_PIN.finditer(texts[PINS_TABLE])}
    changes = []
    for action, (sha, tag) in sorted(action_pins(root).items()):
        if table.get(action) != (sha, tag):
            raise BumpError(f"{action}: pinned {tag} ({sha}), not in {PINS_TABLE}'s PINS")
        repo = "/".join(action.split("/")[:2])
        found = newest_action(api, repo, tag, token, now)
        if isinstance(found, str):
            changes.append(Change(action, tag, None, found))
            continue
        for path in action_files(root):
            texts[path] = replace_action(texts[path], (sha, tag), found)
        note = "a new major version: read its release notes" if is_major(tag, found[1]) else ""
        changes.append(Change(action, tag, found[1], note))
    return changes


def is_major(old: str, new: str) -> bool:
    """Whether ``new`` starts a new major version."""
    return Version(new).major > Version(old).major


def summary(changes: list[Change]) -> str:
    """The pull request's body: what moved, then what stayed and why."""
    moved = [c for c in changes if c.new]
    kept = [c for c in changes if not c.new and c.note]
    lines = [f"Pins bumped by tools/bump_pins.py (releases at least {COOLDOWN_DAYS} days old).", ""]
    if moved:
        lines += ["| pin | from | to | note |", "| --- | --- | --- | --- |"]
        lines += [f"| `{c.name}` | {c.old} | {c.new} | {c.note} |" for c in moved]
    else:
        lines.append("Every pin is current.")
    if kept:
        lines += ["", "Kept:", ""]
        lines += [f"- `{c.name}` {c.old}: {c.note}" for c in kept]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Bump every pin under the repository root; write the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the template repository")
    parser.add_argument("--summary", type=Path, help="write the Markdown summary here")
    args = parser.parse_args(argv)
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    index = os.environ.get("BUMP_PINS_INDEX_URL", "https://pypi.org/pypi").rstrip("/")
    token = os.environ.get("GH_TOKEN", "")
    now = datetime.now(timezone.utc)
    paths = action_files(args.root) + list(PIN_FILES) + [REQUIREMENTS]
    texts = read_files(args.root, paths)
    try:
        changes = bump_actions(texts, args.root, api, token, now)
        changes += bump_packages(texts, args.root, index, now)
    except BumpError as error:
        # Nothing is written: a half-bumped pin set would disagree with itself.
        print(f"bump_pins: {error}", file=sys.stderr)
        return 1
    for path, text in texts.items():
        if (args.root / path).read_text() != text:
            (args.root / path).write_text(text)
    text = summary(changes)
    if args.summary:
        args.summary.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
