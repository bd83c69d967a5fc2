"""The documented commands run as written: a failing one turns the suite red.

A shell block of a baked docs page that a reader can run in a baked project
(no cloud, no secret, no server that runs until stopped) carries the line
``<!-- docs-test: run -->`` right above its fence; the HTML comment shows on no
page. The test runs every such block of every page, in the order of the site's
navigation and of each page, as one bash script in a default bake whose origin
is a bare repository beside it, and names the block that failed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from helpers import Baked, bake

pytestmark = pytest.mark.slow

MARK = "<!-- docs-test: run -->"
BLOCK_START = re.compile(r"^```(bash|sh)\s*$")
NAV_PAGE = re.compile(r"^\s*- [^:]+: (\S+\.md)\s*$")
IDENTITY = {
    "GIT_AUTHOR_NAME": "Reader",
    "GIT_AUTHOR_EMAIL": "reader@example.com",
    "GIT_COMMITTER_NAME": "Reader",
    "GIT_COMMITTER_EMAIL": "reader@example.com",
}


def marked_blocks(text: str) -> list[tuple[int, str]]:
    """The shell blocks under ``MARK``: (the fence's line number, the commands)."""
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        fence = number + 1
        assert fence < len(lines) and BLOCK_START.match(
            lines[fence]
        ), f"line {number + 1}: {MARK} must stand right above a bash fence"
        end = lines.index("```", fence + 1)
        blocks.append((fence + 1, "\n".join(lines[fence + 1 : end])))
    return blocks


def pages_in_nav_order(project: Baked) -> list[str]:
    """The docs pages as the site's navigation lists them."""
    nav = (project.path / "mkdocs.yml").read_text().split("\nnav:\n", 1)[1]
    pages = []
    for line in nav.splitlines():
        if not line.strip():
            break
        match = NAV_PAGE.match(line)
        if match:
            pages.append(f"docs/{match[1]}")
    return pages


def script_of(project: Baked) -> str:
    """Every marked block in order, each announced by the place it comes from."""
    parts = ["set -euo pipefail"]
    for page in pages_in_nav_order(project):
        for line, commands in marked_blocks(project.read(page)):
            parts.append(f"echo '>>> {page}:{line}' >&2")
            parts.append(commands)
    return "\n".join(parts) + "\n"


def test_the_scan_finds_marked_blocks_only() -> None:
    text = "\n".join(
        ["# Page", "```bash", "not this", "```", MARK, "```bash", "make a", "make b", "```"]
    )
    assert marked_blocks(text) == [(6, "make a\nmake b")]
    with pytest.raises(AssertionError, match="right above a bash fence"):
        marked_blocks(f"{MARK}\n\n```bash\nmake a\n```")


def test_documented_commands_run_as_written(tmp_path: Path, baked_venv: Path) -> None:
    project = bake(tmp_path / "bake", venv=baked_venv)
    origin = tmp_path / "origin.git"
    project.run("git", "init", "--quiet", "--bare", str(origin))
    project.run("git", "remote", "add", "origin", str(origin))
    project.run("git", "push", "--quiet", "origin", "main")
    script = script_of(project)
    assert script.count(">>> ") >= 5, script
    env = project.env({**IDENTITY, "VENV": str(baked_venv)})
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=project.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    started = re.findall(r"^>>> (\S+)$", result.stderr, re.MULTILINE)
    failed = started[-1] if started else "before the first block"
    assert result.returncode == 0, (
        f"the block at {failed} failed (exit {result.returncode})\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
