"""The documented commands run as written: a failing one turns the suite red.

Every shell block of a baked docs page carries a marker on the line right above
its fence (an HTML comment, shown on no page): ``<!-- docs-test: run -->`` when
a reader can run it in a baked project as it stands (no cloud account, no
secret, no server that runs until stopped), ``<!-- docs-test: skip: <reason> -->``
otherwise. A block without one fails ``test_every_shell_block_is_marked``, in
every combination of answers.

The run blocks of every page, in the order of the site's navigation and of each
page, make one bash script. It runs in one bake per DVC remote type that needs
no cloud account and can be served here: ``local`` (the default, a directory
beside the project), ``ssh`` (a real OpenSSH ``sshd`` on 127.0.0.1, set up as
docs/remotes.md tells a reader) and ``none`` (given a directory as its remote,
as that page says) and ``http`` (a web server on 127.0.0.1 that stores DVC's
uploads: ``standins/http_storage.py``), each with an origin that is a bare
repository beside it. The test names the block that failed. The bakes that
try a remote type skip the pages whose blocks never reach the remote
(``NO_REMOTE_PAGES``: the default bake runs them).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.helpers import Baked, bake, combinations, combination_id
from support.servers import SSHServer, sshd_unavailable
from support.standins.http_storage import Storage

RUN = "<!-- docs-test: run -->"
SKIP = re.compile(r"<!-- docs-test: skip: (\S.*\S) -->")
FENCE = re.compile(r"^\s*```(bash|sh)\s*$")
NAV_PAGE = re.compile(r"^\s*- [^:]+: (\S+\.md)\s*$")
IDENTITY = {
    "GIT_AUTHOR_NAME": "Reader",
    "GIT_AUTHOR_EMAIL": "reader@example.com",
    "GIT_COMMITTER_NAME": "Reader",
    "GIT_COMMITTER_EMAIL": "reader@example.com",
}


@dataclass(frozen=True)
class Block:
    """A shell block of a page: its fence's line number, marker and commands."""

    line: int
    marker: str
    commands: str

    @property
    def runs(self) -> bool:
        return self.marker == RUN


def shell_blocks(text: str) -> list[Block]:
    """Every bash or sh block of a page, with the marker above its fence ("" if none)."""
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines):
        if not FENCE.match(line):
            continue
        above = lines[number - 1].strip() if number else ""
        marker = above if above == RUN or SKIP.fullmatch(above) else ""
        end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
        commands = "\n".join(row.strip() for row in lines[number + 1 : end])
        blocks.append(Block(number + 1, marker, commands))
    return blocks


def marked_blocks(text: str) -> list[tuple[int, str]]:
    """The blocks to run: (the fence's line number, the commands)."""
    return [(block.line, block.commands) for block in shell_blocks(text) if block.runs]


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


# Pages whose run blocks never reach the DVC remote: the bakes that exist to
# try a remote type skip them (the default bake runs them); the experiments and
# plots of docs/pipeline.md are half of a run's time. Its `compare --champion`
# would fall back to the remote only when DVC's cache lacks the champion, and
# in these runs the cache has it (the onboarding page trained it): the
# fallback is the baked test_compare.py's and the training workflow's.
# ``test_the_pages_the_remote_bakes_skip_never_reach_the_remote`` keeps it true.
NO_REMOTE_PAGES = ("docs/pipeline.md",)
REMOTE_COMMAND = re.compile(
    r"\bdvc (push|pull|fetch|artifacts get|exp (push|pull))\b"
    r"|\bdvc (status|gc)\b.*(\s-c\b|--cloud)|--pull\b|\bmake (push|pull)\b"
)


def script_of(project: Baked, skip: tuple[str, ...] = ()) -> str:
    """Every run block in order (but those of the pages in ``skip``), each
    announced by the place it comes from."""
    parts = ["set -euo pipefail"]
    for page in pages_in_nav_order(project):
        if page in skip:
            continue
        for line, commands in marked_blocks(project.read(page)):
            parts.append(f"echo '>>> {page}:{line}' >&2")
            parts.append(commands)
    return "\n".join(parts) + "\n"


def test_the_scan_reads_each_blocks_marker() -> None:
    text = "\n".join(
        [
            "# Page",
            "```bash",
            "no marker",
            "```",
            RUN,
            "```bash",
            "make a",
            "make b",
            "```",
            "<!-- docs-test: skip: needs a cloud -->",
            "```sh",
            "cloud login",
            "```",
            "1. A step:",
            "   " + RUN,
            "   ```bash",
            "   make c",
            "   ```",
            "<!-- docs-test: skip: -->",
            "```bash",
            "x",
            "```",
        ]
    )
    blocks = shell_blocks(text)
    assert [block.marker for block in blocks] == [
        "",
        RUN,
        "<!-- docs-test: skip: needs a cloud -->",
        RUN,
        "",  # a skip gives its reason
    ]
    assert marked_blocks(text) == [(6, "make a\nmake b"), (16, "make c")]


BAKES = [
    pytest.param(answers, id=f"{platform}-{combination_id(answers)}")
    for platform in ("github", "azure-pipelines")
    for answers in combinations(platform)
]


@pytest.mark.parametrize("answers", BAKES)
def test_every_shell_block_is_marked(tmp_path: Path, answers: dict) -> None:
    """Run, or skip with its reason: no block is left out of the run by accident."""
    project = bake(tmp_path, **answers)
    unmarked = [
        f"{page}:{block.line}: {block.commands.splitlines()[0]}"
        for page in sorted((project.path / "docs").glob("*.md"))
        for block in shell_blocks(page.read_text(encoding="utf-8"))
        if not block.marker
    ]
    assert unmarked == [], "\n".join(unmarked)


def run_documented_commands(
    project: Baked, tmp_path: Path, extra_env: dict[str, str], skip: tuple[str, ...] = ()
) -> None:
    """Give ``project`` an origin and run every run block (but those of the
    pages in ``skip``), naming the one that fails."""
    origin = tmp_path / "origin.git"
    project.run("git", "init", "--quiet", "--bare", str(origin))
    project.run("git", "remote", "add", "origin", str(origin))
    project.run("git", "push", "--quiet", "origin", "main")
    script = script_of(project, skip)
    assert script.count(">>> ") >= 5, script
    env = project.env({**IDENTITY, "VENV": str(project.venv), **extra_env})
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


@pytest.mark.slow
def test_documented_commands_run_as_written(tmp_path: Path, baked_venv: Path) -> None:
    """The default bake: a local remote, the directory beside the project."""
    project = bake(tmp_path / "bake", venv=baked_venv)
    run_documented_commands(project, tmp_path, {})


@pytest.mark.slow
def test_documented_commands_run_as_written_once_a_remote_is_added(
    tmp_path: Path, baked_venv: Path
) -> None:
    """A bake without a remote (dvc_remote=none), given one as docs/remotes.md
    tells its reader (``dvc remote add --default storage <url>``, committed):
    a directory here."""
    project = bake(tmp_path / "bake", venv=baked_venv, dvc_remote="none", dvc_remote_url="")
    storage = tmp_path / "storage"
    storage.mkdir()
    project.run("dvc", "remote", "add", "--default", "storage", str(storage))
    project.run(
        "git", "commit", "--quiet", ".dvc/config", "-m", "Add the DVC remote", extra_env=IDENTITY
    )
    run_documented_commands(project, tmp_path, {}, skip=NO_REMOTE_PAGES)
    assert any(path.is_file() for path in storage.rglob("*")), "nothing reached the remote"


@pytest.mark.slow
def test_documented_commands_run_as_written_with_an_ssh_remote(
    tmp_path: Path, baked_venv: Path
) -> None:
    """An ssh bake, its remote a private sshd on 127.0.0.1, the reader's account
    set as docs/remotes.md says (``dvc remote modify --local storage user`` and
    ``keyfile``), the server's host key in ``~/.ssh/known_hosts``."""
    reason = sshd_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to start sshd: {reason}")
        pytest.skip(reason)
    with SSHServer(tmp_path / "sshd") as sshd:
        storage = sshd.shared_dir() / "dvc-storage"
        url = f"ssh://127.0.0.1:{sshd.port}{storage}"
        project = bake(tmp_path / "bake", venv=baked_venv, dvc_remote="ssh", dvc_remote_url=url)
        project.run("dvc", "remote", "modify", "--local", "storage", "user", sshd.user)
        project.run(
            "dvc", "remote", "modify", "--local", "storage", "keyfile", str(sshd.client_key)
        )
        home = tmp_path / "home"
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
        run_documented_commands(
            project, tmp_path, {"HOME": str(home), "SSH_AUTH_SOCK": ""}, skip=NO_REMOTE_PAGES
        )
        assert any(path.is_file() for path in storage.rglob("*")), "nothing reached the remote"


@pytest.mark.slow
def test_documented_commands_run_as_written_with_an_http_remote(
    tmp_path: Path, baked_venv: Path
) -> None:
    """An http bake, its remote a storage server on 127.0.0.1 that takes DVC's
    uploads (POST, chunked) and serves them back."""
    with Storage(tmp_path / "served") as storage:
        url = f"{storage.url}/dvc-storage"
        project = bake(tmp_path / "bake", venv=baked_venv, dvc_remote="http", dvc_remote_url=url)
        run_documented_commands(project, tmp_path, {}, skip=NO_REMOTE_PAGES)
        stored = [path for path in (storage.root / "dvc-storage").rglob("*") if path.is_file()]
        assert stored, storage.requests
        assert ("POST", f"/dvc-storage/{stored[0].relative_to(storage.root / 'dvc-storage')}") in [
            (method, path) for method, path in storage.requests
        ]


def test_the_pages_the_remote_bakes_skip_never_reach_the_remote(tmp_path: Path) -> None:
    project = bake(tmp_path)
    pages = pages_in_nav_order(project)
    assert set(NO_REMOTE_PAGES) <= set(pages)
    reaching = [
        f"{page}:{line}: {match[0]}"
        for page in NO_REMOTE_PAGES
        for line, commands in marked_blocks(project.read(page))
        for match in [REMOTE_COMMAND.search(commands)]
        if match
    ]
    assert reaching == []
    # The pattern sees the remote commands of the pages the remote bakes run.
    assert REMOTE_COMMAND.search(script_of(project, NO_REMOTE_PAGES))
