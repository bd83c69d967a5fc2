"""Serving figures for the baked model server (``benchmarks/bench.py`` runs this).

Bakes the default project, runs its pipeline (``dvc repro``), starts the app
under uvicorn on a free loopback port beside its floor (``serving_floor.py``: a
minimal FastAPI endpoint that parses the same body, builds the DataFrame and
calls the same model's ``predict_proba``), and sends both the same bounded
load from a few concurrent clients, in alternating rounds: single-record
requests, then batch requests. Prints the requests per second and the p50/p95
latency of each, the app's throughput as a ratio to its floor's (goal:
``FLOOR_GOAL`` or more), the model call's own cost, and the bad-neighbour run.

``tests/test_serving.py`` imports ``ModelServer`` and ``run_load`` from here,
so the test and the figures share one implementation. The load goes only to
127.0.0.1 and stops by itself: after its request count or its time limit.
"""

from __future__ import annotations

import csv
import http.client
import json
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers import Baked, bake, ensure_baked_venv
from servers import LOOPBACK, free_port, stop_process

SINGLE_REQUESTS = 600
BATCH_REQUESTS = 100
BATCH_SIZE = 100
CLIENTS = 4
# Rounds of app and floor, alternating; each row is the median of the rounds.
ROUNDS = 3
# The app's requests per second, as a share of its floor's, single and batch.
FLOOR_GOAL = 0.9
FLOOR_MODULE = Path(__file__).with_name("serving_floor.py")
# The "bad neighbour" run: while one client keeps sending hostile bodies (the
# largest is a million unknown keys, about 12 MB), GET /health is polled. Its
# p99 latency must stay below HEALTH_P99_BOUND seconds, and the server's
# resident memory must come back within MEMORY_BOUND_MB of where it started.
NEIGHBOUR_SECONDS = 8.0
HEALTH_P99_BOUND = 0.5
MEMORY_BOUND_MB = 60.0
FLOOD_KEYS = 1_000_000


class ModelServer:
    """The baked project's app under ``uvicorn --factory`` on a free loopback port.

    A context manager: it starts the process, waits until ``GET /health``
    answers 200, and stops only the process it started.
    """

    def __init__(
        self,
        project: Baked,
        log: Path,
        startup_timeout: float = 120,
        factory: str = "",
        app_dir: Path | None = None,
    ) -> None:
        self.project = project
        self.log = log
        self.startup_timeout = startup_timeout
        # Another app than the project's own (the floor), and the folder it is in.
        self.factory = factory or f"{project.package}.serve:create_app"
        self.app_dir = app_dir
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> subprocess.Popen:
        """The server's process, inside the ``with`` block."""
        assert self.process is not None, "start the server with `with ModelServer(...)`"
        return self.process

    def command(self) -> list[str]:
        """The uvicorn command line (what the Docker image runs, on another port)."""
        app_dir = ["--app-dir", str(self.app_dir)] if self.app_dir else []
        return [
            "uvicorn",
            "--factory",
            self.factory,
            *app_dir,
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
    connection = http.client.HTTPConnection(parsed.netloc, timeout=30)
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


def resident_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def hostile_bodies(row: dict[str, float], max_body_bytes: int) -> dict[str, tuple[bytes, bool]]:
    """Bodies a careless or hostile client sends: name -> (body, send chunked)."""
    fields = json.dumps(row)[1:-1]
    flood = ", ".join(f'"unknown_{index}": 0' for index in range(FLOOD_KEYS))
    huge = f'{{"instances": [{{{fields}, {flood}}}]}}'.encode()
    just_under = huge[: max_body_bytes - 100].rsplit(b",", 1)[0] + b"}]}"
    return {
        "12 MB of unknown keys": (huge, False),
        "12 MB of unknown keys, chunked": (huge, True),
        "just under the limit, unknown keys": (just_under, False),
        "deep nesting": (b"[" * (max_body_bytes - 100), False),
        "invalid UTF-8": (b'{"instances": "' + b"\xff" * (max_body_bytes // 2) + b'"}', False),
    }


def send_raw(url: str, body: bytes, chunked: bool) -> int | None:
    """POST ``body`` as it is; the status, or None if the server hung up first."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.netloc, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if chunked:  # no Content-Length: http.client sends Transfer-Encoding: chunked
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            connection.request(
                "POST", parsed.path, body=pieces, headers=headers, encode_chunked=True
            )
        else:
            connection.request("POST", parsed.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


@dataclass(frozen=True)
class NeighbourResult:
    """What the bad-neighbour run measured (latencies in seconds, sorted)."""

    health: LoadResult
    bad_requests: int
    statuses: dict[str, list[int | None]]
    baseline_mb: float
    peak_mb: float
    after_mb: float


def run_bad_neighbour(
    url: str, pid: int, row: dict[str, float], max_body_bytes: int, seconds: float
) -> NeighbourResult:
    """Poll ``url/health`` while another thread sends ``hostile_bodies`` in a loop.

    Both stop after ``seconds``. Memory is read from ``/proc/<pid>`` before,
    every poll, and one second after the last bad request.
    """
    bodies = hostile_bodies(row, max_body_bytes)
    statuses: dict[str, list[int | None]] = {name: [] for name in bodies}
    stop = threading.Event()

    def neighbour() -> None:
        while not stop.is_set():
            for name, (body, chunked) in bodies.items():
                if stop.is_set():
                    return
                statuses[name].append(send_raw(f"{url}/predict", body, chunked))

    baseline = resident_mb(pid)
    peak = baseline
    latencies: list[float] = []
    errors = 0
    thread = threading.Thread(target=neighbour, daemon=True)
    start = time.perf_counter()
    thread.start()
    try:
        while time.perf_counter() - start < seconds:
            begin = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                    response.read()
                    errors += response.status != 200
            except (OSError, urllib.error.URLError):
                errors += 1
            latencies.append(time.perf_counter() - begin)
            peak = max(peak, resident_mb(pid))
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=120)
    time.sleep(1)
    health = LoadResult(
        sent=len(latencies),
        errors=errors,
        seconds=time.perf_counter() - start,
        latencies=sorted(latencies),
    )
    return NeighbourResult(
        health=health,
        bad_requests=sum(len(codes) for codes in statuses.values()),
        statuses=statuses,
        baseline_mb=baseline,
        peak_mb=peak,
        after_mb=resident_mb(pid),
    )


def report_neighbour(result: NeighbourResult) -> None:
    """Print the bad-neighbour figures and the bounds they are held to."""
    health = result.health
    p50, p99 = (health.percentile(share) * 1000 for share in (0.50, 0.99))
    print(
        f"bad neighbour: {result.bad_requests} hostile requests in {health.seconds:.1f} s;"
        f" /health p50 {p50:.1f} ms, p99 {p99:.1f} ms (bound {HEALTH_P99_BOUND * 1000:.0f} ms),"
        f" max {health.latencies[-1] * 1000:.1f} ms, errors {health.errors}/{health.sent}"
    )
    print(
        f"bad neighbour: memory {result.baseline_mb:.0f} MB before, {result.peak_mb:.0f} MB"
        f" peak, {result.after_mb:.0f} MB after (bound +{MEMORY_BOUND_MB:.0f} MB)"
    )
    for name, codes in result.statuses.items():
        counted = {code: codes.count(code) for code in sorted(set(codes), key=str)}
        print(f"  {name}: {counted}")


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
