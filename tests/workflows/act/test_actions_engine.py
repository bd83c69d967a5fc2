"""The Actions engine harness itself: what act does differently from GitHub's
runner is made up for here, so that a workflow test fails only for the workflow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.actions_engine import GitHubRepository
from support.helpers import (
    bake,
    clean_env,
    compile_uv_cache,
    install_uv,
    site_packages,
    uv,
)

pytestmark = pytest.mark.slow

LOUD_FAILURE = """\
name: Loud failure
on: push
permissions: {}
jobs:
  fail:
    runs-on: ubuntu-latest
    steps:
      - name: Print a lot, then fail
        run: |
          seq 1 20000
          echo "::error title=Last words::printed just before the step failed"
          exit 1
"""


def test_a_failing_step_keeps_its_last_lines(tmp_path: Path) -> None:
    """act closes a failing step's terminal without reading what is left in it;
    GitHub keeps every line, so the harness must too."""
    project = bake(tmp_path / "bake")
    project.set_git_identity()
    workflow = project.path / ".github" / "workflows" / "loud-failure.yml"
    workflow.write_text(LOUD_FAILURE)
    project.run("git", "add", str(workflow))
    project.run("git", "commit", "-q", "-m", "A step that fails loudly", "--no-verify")
    repo = GitHubRepository(project, tmp_path / "github")
    for _ in range(3):
        run = repo.run("loud-failure.yml", "push")
        assert run["fail"].result == "failure", run.describe()
        assert "printed just before the step failed" in run["fail"].errors, run.describe()
        assert "20000" in run["fail"].output, run.describe()


def test_a_jobs_fresh_virtualenv_starts_with_compiled_bytecode(
    tmp_path: Path, baked_venv: Path
) -> None:
    """Every act job makes a new .venv; uv links the bytecode compiled in its
    cache into it, so the job's first import of scikit-learn compiles nothing.
    A wheel with scripts (jmespath's ``jp.py``) still installs: uv refuses a
    ``__pycache__`` among them."""
    compile_uv_cache(baked_venv)
    venv = tmp_path / "job-venv"
    python = str(baked_venv / "bin" / "python")
    env = clean_env({"UV_PYTHON_DOWNLOADS": "never"})
    subprocess.run([uv(), "venv", "-q", "--python", python, str(venv)], check=True, env=env)
    subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "-q",
            "--offline",
            "--python",
            str(venv),
            "scikit-learn",
            "jmespath",
        ],
        check=True,
        env=env,
    )
    tag = sys.implementation.cache_tag
    assert (site_packages(venv) / "sklearn" / "__pycache__" / f"__init__.{tag}.pyc").is_file()


# A uv that logs its arguments, says them on stderr (as uv reports progress),
# and fails offline when the cache lacks something.
RECORDING_UV = """\
#!/bin/sh
echo "$@" >> "{log}"
echo "uv $*" >&2
case " $* " in *" --offline "*) exit {offline_status};; esac
exit {online_status}
"""


@pytest.mark.parametrize(
    "command", [["lock", "-q"], ["sync", "--locked"], ["build"], ["pip", "install", "cruft"]]
)
@pytest.mark.parametrize(
    ("offline_status", "online_status", "attempts"),
    [(0, 0, ["--offline"]), (2, 0, ["--offline", ""]), (2, 1, ["--offline", ""])],
    ids=["in the cache", "not in the cache", "not on the index either"],
)
def test_the_jobs_uv_works_from_its_cache_and_else_asks_the_index(
    tmp_path: Path, command: list[str], offline_status: int, online_status: int, attempts: list
) -> None:
    log = tmp_path / "calls.log"
    real = tmp_path / "real-uv"
    real.write_text(
        RECORDING_UV.format(log=log, offline_status=offline_status, online_status=online_status)
    )
    real.chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    standin = install_uv(tools, str(real))

    result = subprocess.run([standin, *command], capture_output=True, text=True, check=False)
    other = subprocess.run([standin, "cache", "dir"], check=False)

    assert result.returncode == (0 if offline_status == 0 else online_status)
    assert other.returncode == online_status
    calls = [" ".join([*command, flag]).strip() for flag in attempts]
    assert log.read_text().splitlines() == [*calls, "cache dir"]
    # Only the attempt that counts is heard: a failed one from the cache is not.
    assert result.stderr.splitlines() == [f"uv {calls[-1]}"]


def test_a_lock_from_the_cache_is_the_index_lock(tmp_path: Path) -> None:
    """What a job's first ``make setup`` writes when uv resolves from its cache is
    the uv.lock that asking the index gives now (not ``add_lock_file``'s, which
    a test run may have made days ago)."""
    env = clean_env({"UV_PYTHON_DOWNLOADS": "never"})
    online = bake(tmp_path / "online")
    subprocess.run([uv(), "lock", "-q"], cwd=online.path, env=env, check=True)
    expected = online.read("uv.lock")
    project = bake(tmp_path / "offline")
    standin = install_uv(tmp_path)
    subprocess.run([standin, "lock", "-q"], cwd=project.path, env=env, check=True)

    assert (project.path / "uv.lock").read_text() == expected
