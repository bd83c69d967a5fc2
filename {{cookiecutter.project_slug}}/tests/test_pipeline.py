"""End to end: run every step with ``python -m <package>``, as DVC and CI do.

Each command runs in its own Python process inside a temporary folder, with a
copy of the project's params.yaml whose output paths point into that folder.
The processes start before the first test (conftest.py, ``end_to_end_run``);
this test waits for them and checks what they wrote.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml


@pytest.mark.end_to_end
def test_pipeline_runs_end_to_end(
    end_to_end_results: dict[str, subprocess.CompletedProcess[str]],
    end_to_end_dir: Path,
) -> None:
    for command, result in end_to_end_results.items():
        assert result.returncode == 0, f"{command} failed:\n{result.stderr}"
    commands = ["ingest", "prepare", "train", "evaluate", "gate"]
    assert list(end_to_end_results) == commands

    settings = yaml.safe_load((end_to_end_dir / "params.yaml").read_text())
    paths = {name: Path(value) for name, value in settings["paths"].items()}
    for path in paths.values():
        assert path.is_file(), f"{path} was not written"

    metrics = json.loads(paths["metrics"].read_text())
    assert sorted(metrics) == ["accuracy", "f1", "roc_auc"]
    assert all(0.0 <= value <= 1.0 for value in metrics.values())
