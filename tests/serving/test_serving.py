"""The serving option: what it adds to a bake, and the app it adds, running for real.

With ``serving`` off no trace of serving is left; with it on, each trace is there.

Slow checks (``@pytest.mark.slow``): after ``dvc repro`` the baked app runs
under uvicorn on 127.0.0.1 and answers like ``python -m <pkg> predict``, refuses
bad requests with 422 without falling over, cuts off clients that send their
body too slowly (slowloris), shows its API page offline in Chromium, takes a
bounded load with no error, and refuses to start without a model. The image
and the platforms that run it are in test_serving_image.py.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import socket
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from support.browser import chromium_executable, chromium_page
from support.file_sets import ONLY_WHEN
from support.helpers import Baked, add_lock_file, bake, uv, uv_from_cache_first
from support.servers import LOOPBACK, get_json

from support.load import (
    ModelServer,
    prepared_rows,
    run_load,
)

LOAD_REQUESTS = 2000
# serving/limits.py's READ_TIMEOUT: the seconds a client may take to send a body.
READ_TIMEOUT = 10
SLOW_CLIENTS = 50
# The files only a project with serving has (test_bake.py checks the whole set).
SERVING_FILES = ONLY_WHEN[("serving", True)]


@pytest.fixture(scope="module")
def server(
    serving_trained: Baked, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModelServer]:
    """The trained project's app under uvicorn on 127.0.0.1; always stopped."""
    with ModelServer(serving_trained, tmp_path_factory.mktemp("server") / "uvicorn.log") as running:
        yield running


# --- the serving option ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("serving", [True, False], ids=["on", "off"])
def test_serving_option_controls_every_trace(
    serving_bakes: dict[str, Baked], serving: bool
) -> None:
    """With serving off nothing of it is left; with it on, each trace is there."""
    project = serving_bakes["none" if serving else "off"]
    package = project.package
    for relative in SERVING_FILES:
        assert (project.path / relative.format(pkg=package)).exists() is serving, relative

    pyproject = tomllib.loads(project.read("pyproject.toml"))["project"]
    requirements = json.dumps([pyproject["dependencies"], pyproject["optional-dependencies"]])
    for dependency in ("fastapi", "uvicorn", "httpx"):
        assert (dependency in requirements) is serving, dependency

    makefile = project.read("Makefile")
    assert (re.search(r"^serve:", makefile, re.M) is not None) is serving
    nav = json.dumps(yaml.safe_load(project.read("mkdocs.yml"))["nav"])
    assert ("serving.md" in nav) is serving
    # Serving lives in its own modules: the core ones are the same either way,
    # and so is the API page (it documents the package, whatever modules it has).
    other = serving_bakes["off" if serving else "none"]
    core_files = (f"src/{package}/cli.py", f"src/{package}/config.py", "tests/conftest.py")
    for core in (*core_files, "docs/api.md"):
        assert project.read(core) == other.read(core), core
    assert ("serve" in yaml.safe_load(project.read("params.yaml"))) is serving

    workflows = "\n".join(p.read_text() for p in sorted((project.path / ".github").rglob("*.yml")))
    for trace in ("docker/", "ghcr.io", "packages: write"):
        assert (trace in workflows) is serving, trace
    assert (project.path / ".github/actions/image").exists() is serving
    jobs = yaml.safe_load(project.read(".github/workflows/publish.yml"))["jobs"]
    assert ("image" in jobs) is serving
    assert not any(name.startswith("deploy") for name in jobs)  # deploy_target is none


# --- the real server (slow) -------------------------------------------------------------


def post(url: str, body: str | bytes) -> tuple[int, dict]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.slow
def test_health_reports_the_model_and_its_metrics(
    server: ModelServer, serving_trained: Baked
) -> None:
    status, health = get_json(f"{server.url}/health")

    assert status == 200
    model = (serving_trained.path / "models" / "model.joblib").read_bytes()
    sha256 = hashlib.sha256(model).hexdigest()
    assert health["model"]["sha256"] == sha256
    assert health["model"]["version"] == sha256[:12]
    assert health["metrics"] == json.loads(serving_trained.read("reports/metrics.json"))
    # Run from src/ without being installed: the version hatch-vcs did not set.
    assert health["package_version"] == "0.0.0"
    assert len(health["model"]["features"]) == 30


@pytest.mark.slow
def test_predictions_agree_with_the_predict_command(
    server: ModelServer, serving_trained: Baked, tmp_path: Path
) -> None:
    rows = prepared_rows(serving_trained)[:20]
    rows_csv = tmp_path / "rows.csv"
    with rows_csv.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    printed = serving_trained.run(
        "python", "-m", serving_trained.package, "predict", "--input", str(rows_csv)
    )
    expected = [
        (int(row["prediction"]), float(row["probability"]))
        for row in csv.DictReader(io.StringIO(printed.stdout))
    ]

    singles = []
    for row in rows[:5]:
        status, answer = post(f"{server.url}/predict", json.dumps({"instances": [row]}))
        assert status == 200
        singles += answer["predictions"]
    status, batch = post(f"{server.url}/predict", json.dumps({"instances": rows}))
    assert status == 200

    for served, wanted in [(singles, expected[:5]), (batch["predictions"], expected)]:
        assert [p["prediction"] for p in served] == [label for label, _ in wanted]
        assert [p["probability"] for p in served] == pytest.approx(
            [probability for _, probability in wanted], rel=1e-9, abs=1e-12
        )


def bad_bodies(row: dict[str, float], max_batch_size: int) -> dict[str, tuple[str, str]]:
    """Request bodies the server must refuse: case -> (body, field named in the 422)."""
    first = next(iter(row))
    missing = {k: v for k, v in row.items() if k != first}
    text = json.dumps({"instances": [{**row, first: 0.0}]})

    def with_value(value: str) -> str:
        return text.replace(f'"{first}": 0.0', f'"{first}": {value}')

    return {
        "missing-feature": (json.dumps({"instances": [missing]}), f"instances.0.{first}"),
        "string": (with_value('"1.5"'), f"instances.0.{first}"),
        "boolean": (with_value("true"), f"instances.0.{first}"),
        "null": (with_value("null"), f"instances.0.{first}"),
        "nan": (with_value("NaN"), f"instances.0.{first}"),
        "infinity": (with_value("-Infinity"), f"instances.0.{first}"),
        "overflow": (with_value("1e999"), f"instances.0.{first}"),
        "huge-integer": (with_value("1" + "0" * 400), f"instances.0.{first}"),
        "extra-field": (
            json.dumps({"instances": [{**row, "surprise": 1}]}),
            "instances.0.surprise",
        ),
        "empty-batch": (json.dumps({"instances": []}), "instances"),
        "batch-too-large": (json.dumps({"instances": [row] * (max_batch_size + 1)}), "instances"),
        "no-instances": (json.dumps({"rows": [row]}), "instances"),
        "not-an-object": (json.dumps([row]), "body"),
        "not-json": ('{"instances": [', "body"),
    }


@pytest.mark.slow
def test_bad_requests_get_422_naming_the_field(server: ModelServer, serving_trained: Baked) -> None:
    row = prepared_rows(serving_trained)[0]
    max_batch_size = yaml.safe_load(serving_trained.read("params.yaml"))["serve"]["max_batch_size"]

    for case, (body, field) in bad_bodies(row, max_batch_size).items():
        status, answer = post(f"{server.url}/predict", body)
        assert status == 422, case
        fields = [problem["field"] for problem in answer["detail"]]
        assert field in fields, f"{case}: {answer}"
        assert all(problem["message"] for problem in answer["detail"]), case

    assert get_json(f"{server.url}/health")[0] == 200
    assert server.process is not None and server.process.poll() is None
    assert "Traceback" not in server.log.read_text()


@pytest.mark.slow
def test_clients_that_send_their_body_too_slowly_are_cut_off(server: ModelServer) -> None:
    """Slowloris: each client sends its headers and one byte of a 1,000-byte body,
    then nothing. Each gets a 408 after READ_TIMEOUT and its connection is closed
    (uvicorn's keep-alive timeout, 5 s); /health answers meanwhile."""
    head = (
        b"POST /predict HTTP/1.1\r\nHost: " + LOOPBACK.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    start = time.monotonic()
    clients = [socket.create_connection((LOOPBACK, server.port)) for _ in range(SLOW_CLIENTS)]
    try:
        for client in clients:
            client.sendall(head)
            client.settimeout(READ_TIMEOUT + 20)
        assert get_json(f"{server.url}/health")[0] == 200
        answers = [b"".join(iter(lambda: client.recv(65536), b"")) for client in clients]
        closed = time.monotonic() - start
    finally:
        for client in clients:
            client.close()

    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [
        b"HTTP/1.1 408 Request Timeout"
    ] * SLOW_CLIENTS
    assert b'"type":"body_too_slow"' in answers[0]
    # Answered after READ_TIMEOUT, hung up by uvicorn's keep-alive timeout (5 s).
    assert READ_TIMEOUT <= closed < READ_TIMEOUT + 15
    assert get_json(f"{server.url}/health")[0] == 200


@pytest.mark.slow
@pytest.mark.skipif(chromium_executable() is None, reason="needs Chromium (.ci/run installs it)")
def test_the_api_page_works_offline(server: ModelServer, tmp_path: Path) -> None:
    """/docs in Chromium on a machine without the internet: Swagger UI's files come
    from the app (fastapi-offline), and the page lists both operations."""
    with chromium_page() as browser:
        browser.goto(f"{server.url}/docs", wait_until="load")
        swagger_rendered = "document.querySelectorAll('.opblock').length >= 2"
        with contextlib.suppress(PlaywrightTimeoutError):
            browser.wait_for_function(swagger_rendered, timeout=30_000)
        operations = browser.evaluate("document.querySelectorAll('.opblock').length")
        browser.screenshot(path=tmp_path / "docs.png", full_page=True)
        assets = browser.evaluate(
            "performance.getEntriesByType('resource').map(entry => entry.name)"
        )

    assert operations >= 2, f"Swagger UI did not render (screenshot: {tmp_path / 'docs.png'})"
    assert assets and all(asset.startswith(server.url) for asset in assets), assets


@pytest.mark.slow
def test_bounded_load_has_no_errors(server: ModelServer, serving_trained: Baked) -> None:
    row = prepared_rows(serving_trained)[0]

    result = run_load(f"{server.url}/predict", {"instances": [row]}, requests=LOAD_REQUESTS)

    assert result.sent == LOAD_REQUESTS
    assert result.errors == 0
    print(
        f"\n{LOAD_REQUESTS} single predictions: {result.requests_per_second:.0f} req/s, "
        f"p50 {result.percentile(0.5) * 1000:.1f} ms, p95 {result.percentile(0.95) * 1000:.1f} ms"
    )


@pytest.mark.slow
def test_make_serve_serves_the_current_commits_version(tmp_path: Path) -> None:
    """The editable install records the package version when uv installs it: make
    serve reinstalls it when the commit or a tag changed (pyproject.toml's uv
    cache-keys), so /health does not name the version of an older commit.

    The server itself is a stand-in (BIN, first on PATH, with the test run's
    uv) that prints the version the package reports: the real one is tested
    above."""
    project = bake(tmp_path)
    project.set_git_identity()
    add_lock_file(project)
    project.run("git", "add", "uv.lock")
    project.run("git", "commit", "-q", "-m", "Lock")
    project.run("git", "tag", "v1.0.0")
    venv = project.path / ".venv"
    sync = ["sync", "--locked", "--extra", "serve", "--project", str(project.path)]
    uv_from_cache_first(sync, env={**project.env(), "UV_PROJECT_ENVIRONMENT": str(venv)})
    (project.path / "NOTES.md").write_text("A commit after the release.\n")
    project.run("git", "add", "NOTES.md")
    project.run("git", "commit", "-q", "-m", "After v1.0.0")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(
        f"#!/bin/sh\nexec {venv}/bin/python -c"
        f" 'import {project.package}; print({project.package}.__version__)'\n"
    )
    (shim / "python").chmod(0o755)
    (shim / "uv").symlink_to(uv())

    served = project.run("make", "serve", f"VENV={venv}", f"BIN={shim}")

    assert served.stdout.strip().splitlines()[-1].startswith("1.0.1.dev1+g")


@pytest.mark.slow
def test_the_platform_health_check_path_answers(
    server: ModelServer, serving_bakes: dict[str, Baked]
) -> None:
    path = tomllib.loads(serving_bakes["fly"].read("fly.toml"))["http_service"]["checks"][0]["path"]
    assert get_json(f"{server.url}{path}")[0] == 200


@pytest.mark.slow
def test_make_serve_refuses_to_start_without_a_model(serving_bakes: dict[str, Baked]) -> None:
    """``make serve`` (the CLI's serve command) explains how to get a model."""
    project = serving_bakes["fly"]  # never trained
    assert not (project.path / "models" / "model.joblib").exists()

    result = project.make("serve", check=False, timeout=120)

    assert result.returncode != 0
    assert "error: model file not found: models/model.joblib" in result.stderr
    assert "dvc repro" in result.stderr and "dvc pull" in result.stderr
    assert "Traceback" not in result.stderr
