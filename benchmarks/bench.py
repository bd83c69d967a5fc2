"""Speed figures for the template (``make bench``); targets live here, not in tests.

Prints:
- bake time with hooks vs ``--accept-hooks no`` (goal: ratio <= 1.5),
- the baked project's ``dvc repro`` time,
- the baked project's test-suite time,
- then bench_serving.py and bench_batch.py (batch scoring: rows/s, peak memory).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import Baked, bake, bake_cli, ensure_baked_venv  # noqa: E402

BAKE_GOAL_RATIO = 1.5
BAKE_REPEATS = 7


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_bake_seconds(scratch: Path, hooks: str) -> float:
    """Median wall time of a CLI bake with ``--accept-hooks <hooks>``."""
    times = []
    for index in range(BAKE_REPEATS):
        out = scratch / f"bake-hooks-{hooks}-{index}"
        result = None

        def run() -> None:
            nonlocal result
            result = bake_cli(out, "--accept-hooks", hooks)

        times.append(timed(run))
        assert result.returncode == 0, result.stderr
    return statistics.median(times)


def report_bake_overhead(scratch: Path) -> None:
    """Bake with and without hooks; the hooks (git init + first commit) must stay cheap."""
    with_hooks = median_bake_seconds(scratch, "yes")
    without = median_bake_seconds(scratch, "no")
    ratio = with_hooks / without
    verdict = "OK" if ratio <= BAKE_GOAL_RATIO else "OVER GOAL"
    print(f"bake with hooks        {with_hooks:7.3f} s (median of {BAKE_REPEATS})")
    print(f"bake --accept-hooks no {without:7.3f} s (median of {BAKE_REPEATS})")
    print(f"hooks ratio            {ratio:7.2f}   goal <= {BAKE_GOAL_RATIO}: {verdict}")


def report_pipeline_and_tests(project: Baked) -> None:
    """Time the baked project's pipeline and its own test suite."""
    repro = timed(lambda: project.run("dvc", "repro"))
    print(f"baked dvc repro        {repro:7.3f} s")
    tests = timed(lambda: project.run("pytest", "-q"))
    print(f"baked test suite       {tests:7.3f} s")


def main() -> int:
    """Run every benchmark and print its figures."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        report_bake_overhead(scratch)
        project = bake(scratch / "pipeline", venv=venv)
        report_pipeline_and_tests(project)
        for name in ("bench_serving.py", "bench_batch.py"):
            extra = Path(__file__).with_name(name)
            if extra.exists():
                subprocess.run([sys.executable, str(extra)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
