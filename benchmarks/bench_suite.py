"""The template's own test tiers, timed (``benchmarks/bench.py`` runs this).

``make test-fast`` has a goal of its own, at most ``FAST_GOAL`` seconds on
2 cores; the full run's goal is ``FULL_GOAL`` seconds, timed only with
``BENCH_FULL_SUITE=1`` (it takes as long as CI). Each run gets a scratch
``--basetemp`` and no cache provider, so it leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from support.helpers import TEMPLATE_DIR

FAST_GOAL = 60.0
FULL_GOAL = 12 * 60.0
# The Makefile's test and test-fast commands.
TEST = ["-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]
TIERS = {"make test-fast": ([*TEST, "-m", "not slow"], FAST_GOAL), "make test": (TEST, FULL_GOAL)}


def timed_run(arguments: list[str]) -> tuple[float, str]:
    """Wall seconds of one pytest run of the suite and its closing line."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        start = time.perf_counter()
        result = subprocess.run(
            [*command, f"--basetemp={scratch}/run", *arguments],
            cwd=TEMPLATE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    return seconds, (lines[-1] if lines else result.stderr.strip()[-200:])


def main() -> int:
    tiers = ["make test-fast"]
    if os.environ.get("BENCH_FULL_SUITE") == "1":
        tiers.append("make test")
    for name in tiers:
        arguments, goal = TIERS[name]
        seconds, summary = timed_run(arguments)
        verdict = "OK" if seconds <= goal else "OVER GOAL"
        print(f"suite {name:<15} {seconds:7.1f} s   goal <= {goal:.0f} s: {verdict}   ({summary})")
    if len(tiers) == 1:
        print("suite make test        (BENCH_FULL_SUITE=1 times it too: as long as CI)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
