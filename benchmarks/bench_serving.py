"""Serving figures for the baked model server (``benchmarks/bench.py`` runs this).

Bakes the default project, runs its pipeline (``dvc repro``), starts the app
under uvicorn on a free loopback port, and sends a bounded load from a few
concurrent clients: single-record requests, then batch requests. Prints the
requests per second and the p50/p95 latency of each.

``tests/test_serving.py`` imports ``ModelServer`` and ``run_load`` from here,
so the test and the figures share one implementation. The load goes only to
127.0.0.1 and stops by itself: after its request count or its time limit.
"""

from __future__ import annotations

import csv
import http.client
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import Baked, bake, ensure_baked_venv  # noqa: E402
from servers import LOOPBACK, free_port, stop_process  # noqa: E402

SINGLE_REQUESTS = 2000
BATCH_REQUESTS = 300
BATCH_SIZE = 100
CLIENTS = 4


class ModelServer:
    """The baked project's app under ``uvicorn --factory`` on a free loopback port.

    A context manager: it starts the process, waits until ``GET /health``
    answers 200, and stops only the process it started.
    """

    def __init__(self, project: Baked, log: Path, startup_timeout: float = 120) -> None:
        self.project = project
        self.log = log
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The uvicorn command line (what the Docker image runs, on another port)."""
        return [
            "uvicorn",
            "--factory",
            f"{self.project.package}.serve:create_app",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]

    def __enter__(self) -> ModelServer:
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.project.path,
                env=self.project.env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            wait_until_healthy(self.url, self.process, self.log, self.startup_timeout)
        except BaseException:
            stop_process(self.process)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            stop_process(self.process)


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Return once ``url/health`` answers 200; fail with the log if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise RuntimeError(f"the server was not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class LoadResult:
    """What a load run measured; latencies are in seconds, sorted."""

    sent: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def requests_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """The latency below which ``share`` (0-1) of the requests finished."""
        if not self.latencies:
            return float("nan")
        index = min(len(self.latencies) - 1, max(0, round(share * len(self.latencies)) - 1))
        return self.latencies[index]


def _client(url: str, body: bytes, count: int, deadline: float) -> tuple[list[float], int]:
    """One client: ``count`` POSTs on one keep-alive connection, until ``deadline``."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                connection.request("POST", parsed.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                failed = response.status != 200
            except (OSError, http.client.HTTPException):
                failed = True
                connection.close()  # reconnects on the next request
            latencies.append(time.perf_counter() - start)
            errors += failed
    finally:
        connection.close()
    return latencies, errors


def run_load(
    url: str, payload: Any, requests: int, clients: int = CLIENTS, time_limit: float = 120
) -> LoadResult:
    """POST ``payload`` (as JSON) to ``url`` ``requests`` times from ``clients`` threads.

    Each client has its own keep-alive connection and sends its share of the
    requests one after the other. The run stops after ``requests`` requests or
    ``time_limit`` seconds, whichever comes first; a non-200 answer or a
    connection error counts as an error.
    """
    body = json.dumps(payload).encode()
    shares = [requests // clients + (index < requests % clients) for index in range(clients)]
    start = time.perf_counter()
    deadline = time.monotonic() + time_limit
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda share: _client(url, body, share, deadline), shares))
    seconds = time.perf_counter() - start
    latencies = sorted(latency for client, _ in results for latency in client)
    return LoadResult(
        sent=len(latencies),
        errors=sum(errors for _, errors in results),
        seconds=seconds,
        latencies=latencies,
    )


def prepared_rows(project: Baked, label: str = "target") -> list[dict[str, float]]:
    """The test-set rows of a project after ``dvc repro``, without their label."""
    with (project.path / "data" / "prepared" / "test.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    return [{k: float(v) for k, v in row.items() if k != label} for row in rows]


def report(name: str, result: LoadResult, rows_per_request: int = 1) -> None:
    """Print one line of figures."""
    rows = result.requests_per_second * rows_per_request
    p50, p95 = (result.percentile(share) * 1000 for share in (0.50, 0.95))
    print(
        f"serving {name:<13} {result.requests_per_second:7.1f} req/s ({rows:8.1f} rows/s)"
        f"   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   errors {result.errors}/{result.sent}"
    )


def main() -> int:
    """Bake, train, serve, load; print the figures."""
    venv = ensure_baked_venv()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        project = bake(scratch / "serving", venv=venv)
        project.run("dvc", "repro")
        rows = prepared_rows(project)
        batch = (rows * (BATCH_SIZE // len(rows) + 1))[:BATCH_SIZE]
        with ModelServer(project, scratch / "server.log") as server:
            run_load(f"{server.url}/predict", {"instances": rows[:1]}, requests=50)  # warm-up
            single = run_load(
                f"{server.url}/predict", {"instances": rows[:1]}, requests=SINGLE_REQUESTS
            )
            batched = run_load(
                f"{server.url}/predict", {"instances": batch}, requests=BATCH_REQUESTS
            )
        print(f"serving load: {CLIENTS} concurrent clients, keep-alive, one uvicorn worker")
        report("single", single)
        report(f"batch of {BATCH_SIZE}", batched, BATCH_SIZE)
    return 0 if single.errors == 0 and batched.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
