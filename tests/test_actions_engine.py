"""The Actions engine harness itself: what act does differently from GitHub's
runner is made up for here, so that a workflow test fails only for the workflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions_engine import GitHubRepository
from helpers import bake

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
