"""Batch scoring figures (``make bench``): rows per second and peak memory.

Bakes a default project, trains it, writes a table of 100,000 and one of
1,000,000 rows (training rows drawn at random), and scores each with the baked
``batch`` command in a fresh process. Peak memory is that process's maximum
resident set size: it must not grow with the size of the input, only with
``batch.chunk_size``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from helpers import Baked, bake, ensure_baked_venv

SIZES = (100_000, 1_000_000)

# Runs in the baked project's virtualenv: writes a table of N rows.
GENERATE = """
import sys
import numpy as np
import pandas as pd
rows, target = int(sys.argv[1]), sys.argv[2]
train = pd.read_csv("data/prepared/train.csv").drop(columns=["target"])
picked = np.random.default_rng(0).integers(0, len(train), rows)
train.iloc[picked].to_csv(target, index=False, float_format="%.6g")
"""

# Runs in the baked project's virtualenv: one batch run, timed, with its peak memory.
SCORE = """
import json, resource, sys, time
from {package}.cli import main
start = time.perf_counter()
code = main(["batch", "--input", sys.argv[1], "--output", sys.argv[2]])
seconds = time.perf_counter() - start
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"code": code, "seconds": seconds, "peak_mib": peak_mib}}))
"""


def score(project: Baked, rows: int, scratch: Path) -> dict:
    """Score a generated table of ``rows`` rows; return seconds and peak MiB."""
    table = scratch / f"input-{rows}.csv"
    project.run("python", "-c", GENERATE, str(rows), str(table), timeout=1800)
    result = project.run(
        "python",
        "-c",
        SCORE.format(package=project.package),
        str(table),
        str(scratch / f"predictions-{rows}.csv"),
        timeout=3600,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["code"] == 0, result.stderr
    table.unlink()
    return figures


def main() -> int:
    """Print rows per second and peak memory for each input size."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        project = bake(scratch / "batch", venv=venv)
        for command in ("ingest", "prepare", "train"):
            project.run("python", "-m", project.package, command)
        chunk = project.read("params.yaml").split("chunk_size: ")[1].split()[0]
        for rows in SIZES:
            figures = score(project, rows, scratch)
            print(
                f"batch {rows:>9,} rows   {rows / figures['seconds']:>9,.0f} rows/s"
                f"   peak {figures['peak_mib']:6.0f} MiB   (chunk_size {chunk})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
