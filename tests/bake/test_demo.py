"""`make demo`, run as a newcomer runs it, leaves a trained, committed and pushed project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.helpers import TEMPLATE_DIR, Baked, clean_env

pytestmark = pytest.mark.slow


def test_demo_leaves_the_project_committed_and_pushed(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    result = subprocess.run(
        ["make", "demo", f"DEMO_DIR={demo_dir}"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        env=clean_env({"UV_PYTHON_DOWNLOADS": "never"}),
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    project = Baked(demo_dir / "ml-project")
    assert f"The demo project is {project.path}" in result.stdout
    assert project.run("git", "status", "--porcelain", "--untracked-files=all").stdout == ""
    committed = project.run("git", "ls-files").stdout.split()
    assert {"dvc.lock", "reports/metrics.json", "reports/plots/roc.png"} <= set(committed)
    log = project.run("git", "log", "--format=%s").stdout.splitlines()
    assert log[0] == "Train the first model" and len(log) == 2
    dvc = str(project.path / ".venv" / "bin" / "dvc")
    status = project.run(dvc, "status", "--cloud").stdout
    assert "Cache and remote 'storage' are in sync" in status
