"""One hostile client cannot stall the model server or leave it bloated.

The baked app runs under uvicorn on 127.0.0.1. One client keeps sending the
bodies of ``support.load.hostile_bodies`` (12 MB of unknown keys with and
without Content-Length, a body of unknown keys just under the limit, deep
nesting, invalid UTF-8) for ``NEIGHBOUR_SECONDS``, while ``GET /health`` is
polled. The bounds are stated in ``tests/support/load.py``; ``make bench``
prints the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.load import (
    HEALTH_P99_BOUND,
    MEMORY_BOUND_MB,
    NEIGHBOUR_SECONDS,
    ModelServer,
    prepared_rows,
    report_neighbour,
    run_bad_neighbour,
    run_load,
)
from support.helpers import Baked, bake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    project = bake(tmp_path_factory.mktemp("neighbour"), venv=baked_venv)
    project.run("dvc", "repro")
    return project


def test_health_stays_fast_and_memory_returns_while_a_client_misbehaves(
    trained: Baked, tmp_path: Path
) -> None:
    rows = prepared_rows(trained)
    limit = yaml.safe_load(trained.read("params.yaml"))["serve"]["max_body_bytes"]
    with ModelServer(trained, tmp_path / "uvicorn.log") as server:
        run_load(f"{server.url}/predict", {"instances": rows[:1]}, requests=50)  # warm-up
        result = run_bad_neighbour(
            server.url, server.running.pid, rows[0], limit, NEIGHBOUR_SECONDS
        )
        report_neighbour(result)
        assert server.running.poll() is None
        after = run_load(f"{server.url}/predict", {"instances": rows[:1]}, requests=50)
    log = server.log.read_text()

    assert result.health.errors == 0
    assert result.health.percentile(0.99) < HEALTH_P99_BOUND
    assert result.after_mb - result.baseline_mb < MEMORY_BOUND_MB
    statuses = result.statuses
    assert set(statuses["12 MB of unknown keys"]) == {413}
    # Sent without a length, the body is cut off at the limit: the server
    # answers 413 and hangs up while the client is still sending.
    assert set(statuses["12 MB of unknown keys, chunked"]) <= {413, None}
    for name in ("just under the limit, unknown keys", "deep nesting", "invalid UTF-8"):
        assert set(statuses[name]) == {422}, name
    # uvicorn's access log shows the 413s the chunked client could not read.
    assert log.count('/predict HTTP/1.1" 413') > len(statuses["12 MB of unknown keys"])
    assert " 500 " not in log and "Traceback" not in log
    assert after.errors == 0
