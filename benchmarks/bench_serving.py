"""Serving figures for the baked model server (``benchmarks/bench.py`` runs this).

Bakes the default project, runs its pipeline (``dvc repro``), starts the app
under uvicorn on a free loopback port beside its floor (``serving_floor.py``: a
minimal FastAPI endpoint that parses the same body, builds the DataFrame and
calls the same model's ``predict_proba``), and sends both the same bounded
load from a few concurrent clients, in alternating rounds: single-record
requests, then batch requests. Prints the requests per second and the p50/p95
latency of each, the app's throughput as a ratio to its floor's (goal:
``FLOOR_GOAL`` or more), the model call's own cost, and the bad-neighbour run.

The server, the load and the bad-neighbour run are ``tests/support/load.py``,
which ``tests/serving/`` uses too: the tests and the figures share one
implementation.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from support.helpers import Baked, bake, ensure_baked_venv
from support.load import (
    CLIENTS,
    NEIGHBOUR_SECONDS,
    LoadResult,
    ModelServer,
    prepared_rows,
    report_neighbour,
    run_bad_neighbour,
    run_load,
)

SINGLE_REQUESTS = 600
BATCH_REQUESTS = 100
BATCH_SIZE = 100
# Rounds of app and floor, alternating; each row is the median of the rounds.
ROUNDS = 3
# The app's requests per second, as a share of its floor's, single and batch.
FLOOR_GOAL = 0.9
FLOOR_MODULE = Path(__file__).with_name("serving_floor.py")


def report(name: str, result: LoadResult, rows_per_request: int = 1) -> None:
    """Print one line of figures."""
    rows = result.requests_per_second * rows_per_request
    p50, p95 = (result.percentile(share) * 1000 for share in (0.50, 0.95))
    print(
        f"serving {name:<20} {result.requests_per_second:7.1f} req/s ({rows:8.1f} rows/s)"
        f"   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   errors {result.errors}/{result.sent}"
    )


def median_run(results: list[LoadResult]) -> LoadResult:
    """The round with the median throughput."""
    return sorted(results, key=lambda result: result.requests_per_second)[len(results) // 2]


def side_by_side(
    app: ModelServer, floor: ModelServer, payload: Any, requests: int
) -> tuple[LoadResult, LoadResult]:
    """The same load on ``app`` and ``floor``, alternating for ``ROUNDS`` rounds."""
    runs: dict[str, list[LoadResult]] = {"app": [], "floor": []}
    for _ in range(ROUNDS):
        for name, server in (("app", app), ("floor", floor)):
            runs[name].append(run_load(f"{server.url}/predict", payload, requests=requests))
    return median_run(runs["app"]), median_run(runs["floor"])


def report_ratio(name: str, app: LoadResult, floor: LoadResult, rows: int = 1) -> bool:
    """Print the app's row, its floor's and their ratio; True when it meets the goal."""
    report(name, app, rows)
    report(f"{name} (floor)", floor, rows)
    ratio = app.requests_per_second / floor.requests_per_second
    verdict = "OK" if ratio >= FLOOR_GOAL else "UNDER GOAL"
    print(f"serving {name:<20} x{ratio:5.2f} of the floor   goal >= {FLOOR_GOAL}: {verdict}")
    return ratio >= FLOOR_GOAL


def report_model_call(project: Baked, rows: list[dict[str, float]], scratch: Path) -> None:
    """Print the milliseconds of one ``predict_proba`` call (serving_floor.py)."""
    rows_file = scratch / "rows.json"
    rows_file.write_text(json.dumps(rows))
    printed = project.run("python", str(FLOOR_MODULE), str(rows_file)).stdout
    for name, milliseconds in json.loads(printed).items():
        print(f"model call {name:<24} {milliseconds:7.2f} ms (median predict_proba)")


def main() -> int:
    """Bake, train, serve app and floor, load both; print the figures."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        project = bake(scratch / "serving", venv=venv)
        project.run("dvc", "repro")
        rows = prepared_rows(project)
        batch = (rows * (BATCH_SIZE // len(rows) + 1))[:BATCH_SIZE]
        single_body, batch_body = {"instances": rows[:1]}, {"instances": batch}
        floor_log = scratch / "floor.log"
        with (
            ModelServer(project, scratch / "server.log") as server,
            ModelServer(
                project, floor_log, factory="serving_floor:create_app", app_dir=FLOOR_MODULE.parent
            ) as floor,
        ):
            for running in (server, floor):  # warm-up
                run_load(f"{running.url}/predict", single_body, requests=50)
                run_load(f"{running.url}/predict", batch_body, requests=10)
            single = side_by_side(server, floor, single_body, SINGLE_REQUESTS)
            batched = side_by_side(server, floor, batch_body, BATCH_REQUESTS)
            max_body_bytes = yaml.safe_load(project.read("params.yaml"))["serve"]["max_body_bytes"]
            neighbour = run_bad_neighbour(
                server.url, server.running.pid, rows[0], max_body_bytes, NEIGHBOUR_SECONDS
            )
        print(
            f"serving load: {CLIENTS} concurrent clients, keep-alive, one uvicorn worker each;"
            f" app and floor alternate, median of {ROUNDS} rounds"
        )
        report_ratio("single", *single)
        report_ratio(f"batch of {BATCH_SIZE}", *batched, BATCH_SIZE)
        report_model_call(project, rows, scratch)
        report_neighbour(neighbour)
    errors = sum(result.errors for result in (*single, *batched))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
