"""Speed figures for the template (``make bench``); targets live here, not in tests.

Prints:
- bake time with hooks vs ``--accept-hooks no`` (goal: ratio <= 1.5),
- the baked project's everyday commands beside their floors (bench_commands.py),
- the model server's throughput and latency (bench_serving.py),
- batch scoring: rows/s and peak memory (bench_batch.py).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helpers import bake_cli, keep_bytecode

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
        assert result is not None and result.returncode == 0, result and result.stderr
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


def main() -> int:
    """Run every benchmark and print its figures."""
    # Timings of a user's machine, which keeps compiled modules.
    keep_bytecode()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        report_bake_overhead(scratch)
    for extra in ("bench_commands.py", "bench_serving.py", "bench_batch.py"):
        subprocess.run([sys.executable, str(Path(__file__).with_name(extra))], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
