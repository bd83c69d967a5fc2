"""End to end: run every step with ``python -m <package>``, as DVC and CI do.

Each command runs in its own Python process inside a temporary folder, with a
copy of the project's params.yaml whose output paths point into that folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import {{ cookiecutter.package_name }} as package

# The commands DVC's stages run, then the quality gate, in order.
PIPELINE_COMMANDS = ("ingest", "prepare", "train", "evaluate", "gate")


def run_command(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <package> <args>`` in ``workdir`` and return the result."""
    src_dir = Path(package.__file__).resolve().parents[1]
    env = dict(os.environ)
    python_path = [str(src_dir), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(part for part in python_path if part)
    return subprocess.run(
        [sys.executable, "-m", package.__name__, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pipeline_runs_end_to_end(
    tmp_path: Path,
    project_params_in: Callable[[Path], dict[str, Any]],
    write_params: Callable[[dict[str, Any]], Path],
) -> None:
    settings = project_params_in(tmp_path)
    params_file = write_params(settings)
    for command in PIPELINE_COMMANDS:
        result = run_command(tmp_path, command, "--params", str(params_file))
        assert result.returncode == 0, f"{command} failed:\n{result.stderr}"

    paths = {name: Path(value) for name, value in settings["paths"].items()}
    for path in paths.values():
        assert path.is_file(), f"{path} was not written"

    metrics = json.loads(paths["metrics"].read_text())
    assert sorted(metrics) == ["accuracy", "f1", "roc_auc"]
    assert all(0.0 <= value <= 1.0 for value in metrics.values())
