"""The baked project's everyday commands, each beside the floor it is judged by.

Every row runs its command and its floor process alternately, in the same run
(so both see the same machine), and prints the medians, their ratio, the
command's peak memory and whether the ratio meets its goal:

- ``check`` and ``gate`` against ``python -c pass`` (they read a few small
  files and must not load pandas or scikit-learn);
- each DVC stage process against a process that only imports the libraries
  that stage uses (the rest is its work), and ``ingest`` of a CSV file (a
  team's own data) against importing pandas: only the bundled dataset needs
  scikit-learn;
- ``dvc repro --force`` against the stages run one after another by a shell,
  after ``dvc --version`` (what DVC adds to running the stages);
- ``make repro`` with nothing changed against ``dvc repro`` with nothing changed;
- the baked ``make test`` against one ``dvc repro --force`` (the suite runs the
  pipeline end to end once, and everything else in one process);
- ``make lint`` with each ``linter`` answer (black and flake8, or Ruff) against
  mypy alone on the same files (the part both linters share);
- ``make setup`` on a machine without uv, cold (empty package cache) and warm,
  against creating a bare virtualenv (``python3 -m venv``).

Goals are ratios, so they hold on a slow machine and a fast one alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from support.helpers import Baked, bake, ensure_baked_venv

# The libraries each stage imports (its floor).
STAGE_IMPORTS = {
    "ingest": "import pandas, sklearn.datasets",
    "prepare": "import pandas, pandera.pandas",  # the raw table's data contract
    "train": "import joblib, pandas, sklearn.linear_model, sklearn.pipeline, sklearn.preprocessing",
    "evaluate": "import joblib, matplotlib.pyplot, pandas, sklearn.metrics",
}
QUICK_GOAL = 18.0  # check, gate: 0.3 s where `python -c pass` takes 17 ms
STAGE_GOAL = 1.6  # a stage: its imports plus a little work
REPRO_GOAL = 1.3  # dvc repro --force: the stages plus little of DVC's own
NOOP_GOAL = 1.3  # make repro, nothing changed: dvc repro's no-op plus check and gate
TEST_GOAL = 1.6  # baked make test: one end-to-end pipeline plus in-process tests
SETUP_COLD_GOAL = 30.0  # make setup without uv, empty cache: seconds
LINT_GOAL = 6.0  # make lint: mypy (warm cache) plus pre-commit: 4.7x black-flake8, 3.0x ruff here


@dataclass
class Sample:
    """One process: its wall time and peak resident memory."""

    seconds: float
    peak_mb: float


def measure(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run ``command`` once; it must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{error}")
    return Sample(seconds, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    """The median time and the highest peak memory of several runs."""
    return Sample(statistics.median(s.seconds for s in samples), max(s.peak_mb for s in samples))


def side_by_side(
    command: Sequence[str], floor: Sequence[str], project: Baked, repeats: int
) -> tuple[Sample, Sample]:
    """Medians of ``command`` and ``floor``, run alternately ``repeats`` times each."""
    env = project.env()
    runs: dict[str, list[Sample]] = {"command": [], "floor": []}
    for _ in range(repeats):
        runs["floor"].append(measure(floor, project.path, env))
        runs["command"].append(measure(command, project.path, env))
    return median(runs["command"]), median(runs["floor"])


def row(name: str, command: Sample, floor: Sample, floor_name: str, goal: float) -> float:
    """Print one row; return the ratio."""
    ratio = command.seconds / floor.seconds
    verdict = "OK" if ratio <= goal else "OVER GOAL"
    print(
        f"{name:<28} {command.seconds:8.3f} s {command.peak_mb:7.0f} MB   "
        f"{floor_name:<26} {floor.seconds:8.3f} s   x{ratio:6.2f}   goal <= {goal}: {verdict}"
    )
    return ratio


def csv_source_params(project: Baked) -> Path:
    """A copy of the project's settings whose data source is a CSV file (a copy
    of the bundled dataset's snapshot), snapshotted outside the pipeline's files."""
    scratch = project.path / "bench-csv"
    scratch.mkdir(exist_ok=True)
    params = yaml.safe_load(project.read("params.yaml"))
    source = scratch / "rows.csv"
    shutil.copyfile(project.path / params["paths"]["raw"], source)
    params["data"]["source"] = str(source)
    params["paths"]["raw"] = str(scratch / "snapshot.csv")
    path = scratch / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def report_commands(project: Baked) -> None:
    """Every row but setup, in one baked project whose pipeline has run."""
    python, package = "python", project.package
    pass_floor = [python, "-c", "pass"]
    project.run("dvc", "repro")
    print(f"{'command':<28} {'median':>10} {'peak':>10}   {'floor':<26} {'median':>10}")
    for quick in ("check", "gate"):
        sample, floor = side_by_side([python, "-m", package, quick], pass_floor, project, 7)
        row(quick, sample, floor, "python -c pass", QUICK_GOAL)
    for stage, imports in STAGE_IMPORTS.items():
        sample, floor = side_by_side(
            [python, "-m", package, stage], [python, "-c", imports], project, 3
        )
        row(f"stage {stage}", sample, floor, "its imports only", STAGE_GOAL)
    ingest_csv = [python, "-m", package, "ingest", "--params", str(csv_source_params(project))]
    sample, floor = side_by_side(ingest_csv, [python, "-c", "import pandas"], project, 3)
    row("stage ingest (a CSV file)", sample, floor, "import pandas", STAGE_GOAL)
    # dvc repro --force: its floor is the stages themselves, one after another,
    # plus DVC starting up (one shell running them, alternating with DVC).
    chain = " && ".join(["dvc --version", *(f"{python} -m {package} {s}" for s in STAGE_IMPORTS)])
    repro, floor = side_by_side(["dvc", "repro", "--force"], ["sh", "-c", chain], project, 3)
    row("dvc repro --force", repro, floor, "stages + dvc --version", REPRO_GOAL)
    make = ["make", "repro", f"VENV={project.venv}"]
    sample, floor = side_by_side(make, ["dvc", "repro"], project, 3)
    row("make repro (no change)", sample, floor, "dvc repro (no change)", NOOP_GOAL)
    tests, repro = side_by_side(
        ["make", "test", f"VENV={project.venv}"], ["dvc", "repro", "--force"], project, 3
    )
    row("make test (baked)", tests, repro, "dvc repro --force", TEST_GOAL)


def report_lint(scratch: Path, venv: Path) -> None:
    """``make lint`` for each linter answer, after a first run has built the
    git hook environments (as ``make setup`` does)."""
    for linter in ("black-flake8", "ruff"):
        project = bake(scratch / f"lint-{linter}", venv=venv, linter=linter)
        project.make("lint")
        make = ["make", "lint", f"VENV={venv}"]
        sample, floor = side_by_side(make, [str(venv / "bin" / "mypy")], project, 3)
        row(f"make lint ({linter})", sample, floor, "mypy alone", LINT_GOAL)


def report_setup(scratch: Path) -> None:
    """``make setup`` without uv on PATH, with an empty and with a warm uv cache."""
    outer = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != outer)
    if shutil.which("uv", path=path):
        print("make setup (no uv)          skipped: uv is on PATH outside the test tools")
        return
    cache = scratch / "uv-cache"
    for label in ("cold", "warm"):
        project = bake(scratch / f"setup-{label}")
        env = {**project.env(), "PATH": path, "UV_CACHE_DIR": str(cache)}
        env["UV_PYTHON_DOWNLOADS"] = "never"
        floor = measure(["python3", "-m", "venv", str(scratch / f"venv-{label}")], scratch, env)
        sample = measure(["make", "setup"], project.path, env)
        goal = f"goal <= {SETUP_COLD_GOAL:.0f} s" if label == "cold" else ""
        met = sample.seconds <= SETUP_COLD_GOAL
        verdict = "" if not goal else (": OK" if met else ": OVER GOAL")
        print(
            f"{'make setup, no uv, ' + label:<28} {sample.seconds:8.3f} s "
            f"{sample.peak_mb:7.0f} MB   {'python3 -m venv':<26} {floor.seconds:8.3f} s"
            f"   {goal}{verdict}"
        )


def main() -> int:
    """Bake the default project, train it, and print every row."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        report_commands(bake(scratch / "commands", venv=venv))
        report_lint(scratch, venv)
        report_setup(scratch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
