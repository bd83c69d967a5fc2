"""A served model under load, on 127.0.0.1: the baked app under uvicorn, a
bounded load from a few keep-alive clients, and the "bad neighbour" run.

``tests/serving/`` and ``benchmarks/bench_serving.py`` share it. The load goes
only to 127.0.0.1 and stops by itself: after its request count or its time limit.
"""

from __future__ import annotations

import csv
import http.client
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.helpers import Baked
from support.servers import LOOPBACK, free_port, stop_process

# Concurrent keep-alive clients of a load run.
CLIENTS = 4
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
        self.factory = factory or f"{project.package}.serving.app:create_app"
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
