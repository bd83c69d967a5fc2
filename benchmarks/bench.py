"""Speed figures for the template (``make bench``); targets live here, not in tests.

Prints:
- bake time with hooks vs ``--accept-hooks no`` (goal: ratio <= 1.5),
- the baked project's everyday commands beside their floors (bench_commands.py),
- the model server's throughput and latency (bench_serving.py),
- batch scoring and the drift check: rows/s and peak memory at 1M and 5M rows
  beside a floor that reads the same table in chunks (bench_batch.py),
- the template's own fast tier against its goal, and the full run with
  ``BENCH_FULL_SUITE=1`` (bench_suite.py).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support.helpers import bake_cli, keep_bytecode

BAKE_GOAL_RATIO = 1.5
BAKE_REPEATS = 7


def bake_seconds(out: Path, hooks: str) -> float:
    """Wall time of one CLI bake into ``out`` with ``--accept-hooks <hooks>``."""
    start = time.perf_counter()
    result = bake_cli(out, "--accept-hooks", hooks)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return seconds


def report_bake_overhead(scratch: Path) -> None:
    """Bake with and without hooks, alternately (both see the same machine);
    the hooks (git init + first commit) must stay cheap."""
    times: dict[str, list[float]] = {"yes": [], "no": []}
    for index in range(BAKE_REPEATS):
        for hooks in ("no", "yes"):
            times[hooks].append(bake_seconds(scratch / f"bake-hooks-{hooks}-{index}", hooks))
    with_hooks, without = (statistics.median(times[hooks]) for hooks in ("yes", "no"))
    ratio = with_hooks / without
    verdict = "OK" if ratio <= BAKE_GOAL_RATIO else "OVER GOAL"
    print(f"bake with hooks        {with_hooks:7.3f} s (median of {BAKE_REPEATS})")
    print(f"bake --accept-hooks no {without:7.3f} s (median of {BAKE_REPEATS}, alternating)")
    print(f"hooks ratio            {ratio:7.2f}   goal <= {BAKE_GOAL_RATIO}: {verdict}")


def main() -> int:
    """Run every benchmark and print its figures."""
    # Timings of a user's machine, which keeps compiled modules.
    keep_bytecode()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        report_bake_overhead(scratch)
    for extra in ("bench_commands.py", "bench_serving.py", "bench_batch.py", "bench_suite.py"):
        subprocess.run([sys.executable, str(Path(__file__).with_name(extra))], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
