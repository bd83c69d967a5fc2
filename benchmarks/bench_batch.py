"""Batch scoring and the drift check (``make bench``): speed and peak memory.

Bakes a default project, trains it, writes a table of 1,000,000 and one of
5,000,000 rows (training rows drawn at random), and runs on each, every one a
fresh process as a user runs it:

- the floor: a process that only imports pandas and reads the same table,
  ``batch.chunk_size`` rows at a time, as both commands read it;
- ``batch``: scores every row;
- ``drift``: compares the table with the training data.

Peak memory is the whole process's maximum resident set size (``wait4``). It
must not grow with the size of the input, only with ``batch.chunk_size``: the
goal is that each command's ratio to the floor at 5,000,000 rows is at most
``GROWTH_GOAL`` times its ratio at 1,000,000 rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench_commands import Sample, measure
from support.helpers import Baked, bake, ensure_baked_venv

SIZES = (1_000_000, 5_000_000)
# A bounded command's peak memory, as a ratio to the floor, may grow this much
# from the smaller table to the larger one (noise of the allocator, not rows).
GROWTH_GOAL = 1.1

# Runs in the baked project's virtualenv: writes a table of N rows, in parts,
# so that the generator itself never holds the table.
GENERATE = """
import sys
import numpy as np
import pandas as pd
rows, target, part = int(sys.argv[1]), sys.argv[2], 500_000
train = pd.read_csv("data/prepared/train.csv").drop(columns=["target"])
rng = np.random.default_rng(0)
for start in range(0, rows, part):
    picked = rng.integers(0, len(train), min(part, rows - start))
    train.iloc[picked].to_csv(
        target, mode="a" if start else "w", header=not start, index=False,
        float_format="%.6g",
    )
"""

# The floor: pandas imported, the table read as batch.read_chunks reads it.
FLOOR = """
import sys
import pandas as pd
with pd.read_csv(
    sys.argv[1], chunksize=int(sys.argv[2]), keep_default_na=False, na_values=[""]
) as reader:
    for chunk in reader:
        pass
"""


def run_size(project: Baked, rows: int, chunk: str, scratch: Path) -> dict[str, Sample]:
    """The floor, ``batch`` and ``drift`` on a generated table of ``rows`` rows."""
    table = scratch / f"input-{rows}.csv"
    project.run("python", "-c", GENERATE, str(rows), str(table), timeout=3600)
    env = project.env()
    python = str(project.venv / "bin" / "python") if project.venv else "python"
    module = [python, "-m", project.package]
    commands = {
        "floor": [python, "-c", FLOOR, str(table), chunk],
        "batch": [*module, "batch", "--input", str(table), "--output", str(scratch / "p.csv")],
        "drift": [*module, "drift", "--input", str(table), "--report", str(scratch / "d.json")],
    }
    samples = {name: measure(command, project.path, env) for name, command in commands.items()}
    table.unlink()
    return samples


def main() -> int:
    """Print rows per second and peak memory of each command, beside the floor."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        project = bake(scratch / "batch", venv=venv)
        for command in ("ingest", "prepare", "train"):
            project.run("python", "-m", project.package, command)
        chunk = project.read("params.yaml").split("chunk_size: ")[1].split()[0]
        print(
            "batch and drift: peak memory (max RSS of the process) beside a floor that"
            f" imports pandas and reads the same table {chunk} rows at a time"
        )
        ratios: dict[str, list[float]] = {"batch": [], "drift": []}
        for rows in SIZES:
            samples = run_size(project, rows, chunk, scratch)
            floor = samples["floor"]
            print(
                f"{'floor':<6} {rows:>9,} rows {rows / floor.seconds:>9,.0f} rows/s"
                f"   peak {floor.peak_mb:6.0f} MiB"
            )
            for name in ratios:
                sample = samples[name]
                ratio = sample.peak_mb / floor.peak_mb
                ratios[name].append(ratio)
                print(
                    f"{name:<6} {rows:>9,} rows {rows / sample.seconds:>9,.0f} rows/s"
                    f"   peak {sample.peak_mb:6.0f} MiB   {ratio:5.2f}x the floor"
                )
        for name, (small, large) in ratios.items():
            growth = large / small
            verdict = "OK" if growth <= GROWTH_GOAL else "OVER GOAL"
            print(
                f"{name} peak memory from {SIZES[0]:,} to {SIZES[1]:,} rows:"
                f" x{growth:.2f} of its floor ratio   goal <= {GROWTH_GOAL}: {verdict}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
