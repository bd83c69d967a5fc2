"""The serving option: what it adds to a bake, and the app it adds, running for real.

With ``serving`` off no trace of serving is left; with it on, each trace is there.

Slow checks (``@pytest.mark.slow``): after ``dvc repro`` the baked app runs
under uvicorn on 127.0.0.1 and answers like ``python -m <pkg> predict``, refuses
bad requests with 422 without falling over, takes a bounded load with no error,
and refuses to start without a model. The image and the platforms that run it
are in test_serving_image.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import Baked
from servers import get_json

from bench_serving import (
    ModelServer,
    prepared_rows,
    run_load,
)

LOAD_REQUESTS = 2000
SERVING_FILES = (
    "Dockerfile",
    ".dockerignore",
    "docs/serving.md",
    "src/{pkg}/serve.py",
    "src/{pkg}/serve_command.py",
    "tests/test_serve.py",
    "tests/test_serve_command.py",
    "tests/test_serve_limits.py",
)


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
