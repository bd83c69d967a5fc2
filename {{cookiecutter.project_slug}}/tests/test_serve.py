"""Tests for the model server: health, predictions and refused requests."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import Params, ServeParams
from {{ cookiecutter.package_name }}.errors import ModelNotFoundError
from {{ cookiecutter.package_name }}.model.integrity import model_identity
from {{ cookiecutter.package_name }}.model.predict import feature_names, load_model
from {{ cookiecutter.package_name }}.model.predict import predict
from {{ cookiecutter.package_name }}.quality.metrics import read_metrics
from {{ cookiecutter.package_name }}.serving.app import build_app, create_app

MAX_BATCH_SIZE = 8


@pytest.fixture(scope="module")
def served_settings(project_run_settings: dict[str, Any]) -> dict[str, Any]:
    """The project's settings, with every output in a temporary folder."""
    settings = copy.deepcopy(project_run_settings)
    settings["serve"]["max_batch_size"] = MAX_BATCH_SIZE
    return settings


def served_limits(settings: dict[str, Any]) -> ServeParams:
    """The ``serve`` section of ``settings``."""
    return ServeParams.model_validate(settings["serve"])


@pytest.fixture(scope="module")
def client(served_settings: dict[str, Any], project_run: Params) -> TestClient:
    """A client of the app, which loaded the model once."""
    return TestClient(build_app(project_run, served_limits(served_settings)))


@pytest.fixture(scope="module")
def rows(project_run: Params) -> pd.DataFrame:
    """Test-set rows without their label."""
    test = pd.read_csv(project_run.paths.test)
    return test.drop(columns=[project_run.data.target]).head(MAX_BATCH_SIZE)


@pytest.fixture
def instance(rows: pd.DataFrame) -> dict[str, float]:
    """One valid instance, free to change."""
    return {str(name): float(value) for name, value in rows.iloc[0].items()}


def post_raw(client: TestClient, body: str) -> Any:
    """POST a JSON text as it is (for NaN and other non-standard JSON)."""
    return client.post(
        "/predict", content=body, headers={"Content-Type": "application/json"}
    )


def test_health_names_the_model_and_its_metrics(
    client: TestClient, project_run: Params
) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    health = response.json()
    sha256 = hashlib.sha256(project_run.paths.model.read_bytes()).hexdigest()
    assert health["status"] == "ok"
    assert health["model"]["sha256"] == sha256
    assert health["model"]["version"] == sha256[:12]
    # The name the model card, batch output and compare give it, too.
    assert health["model"]["version"] == model_identity(project_run.paths.model).id
    # No commit registers this model: no registry version, no stage.
    assert health["model"]["registry_version"] is None
    assert health["model"]["stages"] == []
    assert health["metrics"] == read_metrics(project_run.paths.metrics)
    model = load_model(project_run.paths.model)
    assert health["model"]["features"] == feature_names(model)


def test_head_health_answers_without_a_body(client: TestClient) -> None:
    response = client.head("/health")

    assert response.status_code == 200
    assert response.content == b""


def test_the_api_page_loads_its_scripts_from_the_app(client: TestClient) -> None:
    # Swagger UI's files come with the app (fastapi-offline), not from a CDN:
    # /docs works without the internet.
    page = client.get("/docs")

    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("count", [1, MAX_BATCH_SIZE])
def test_predictions_match_the_predict_module(
    client: TestClient, project_run: Params, rows: pd.DataFrame, count: int
) -> None:
    batch = rows.head(count)

    response = client.post(
        "/predict", json={"instances": batch.to_dict(orient="records")}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == client.get("/health").json()["model"]["version"]
    expected = predict(load_model(project_run.paths.model), batch)
    served = pd.DataFrame(body["predictions"])
    assert served["prediction"].tolist() == expected["prediction"].tolist()
    assert served["probability"].tolist() == pytest.approx(
        expected["probability"].tolist(), rel=1e-9, abs=1e-12
    )


def test_feature_order_does_not_matter(
    client: TestClient, instance: dict[str, float]
) -> None:
    reversed_instance = dict(reversed(list(instance.items())))

    answers = [
        client.post("/predict", json={"instances": [body]}).json()
        for body in (instance, reversed_instance)
    ]

    assert answers[0] == answers[1]


def test_whole_numbers_are_accepted(
    client: TestClient, instance: dict[str, float]
) -> None:
    instance["mean_radius"] = 14

    assert client.post("/predict", json={"instances": [instance]}).status_code == 200


def without(instance: dict[str, float], name: str) -> dict[str, float]:
    """``instance`` without the feature ``name``."""
    return {key: value for key, value in instance.items() if key != name}


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        (
            lambda i: {"instances": [without(i, "mean_radius")]},
            "mean_radius",
            "missing",
        ),
        (
            lambda i: {"instances": [{**i, "mean_radius": "14.1"}]},
            "mean_radius",
            "float",
        ),
        (lambda i: {"instances": [{**i, "mean_radius": True}]}, "mean_radius", "float"),
        (lambda i: {"instances": [{**i, "mean_radius": None}]}, "mean_radius", "float"),
        (lambda i: {"instances": [{**i, "comment": 1.0}]}, "comment", "extra"),
        (lambda i: {"instances": []}, "instances", "too_short"),
        (lambda i: {"instances": [i] * (MAX_BATCH_SIZE + 1)}, "instances", "too_long"),
        (lambda i: {"instance": i}, "instances", "missing"),
        (lambda i: [i], "body", "model"),
    ],
    ids=[
        "missing-feature",
        "string",
        "boolean",
        "null",
        "unknown-field",
        "empty-batch",
        "batch-too-large",
        "no-instances",
        "not-an-object",
    ],
)
def test_bad_requests_get_422_naming_the_field(
    client: TestClient,
    instance: dict[str, float],
    change: Callable[[dict[str, float]], Any],
    field: str,
    kind: str,
) -> None:
    response = client.post("/predict", json=change(instance))

    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["field"].endswith(field)
    assert kind in problem["type"]
    assert problem["message"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_that_are_not_finite_get_422(
    client: TestClient, instance: dict[str, float], number: str
) -> None:
    instance["mean_radius"] = 0.0
    body = json.dumps({"instances": [instance]}).replace(
        '"mean_radius": 0.0', f'"mean_radius": {number}'
    )

    response = post_raw(client, body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "instances.0.mean_radius"


def test_invalid_json_gets_422(client: TestClient) -> None:
    response = post_raw(client, '{"instances": [')

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"


def test_schema_lists_every_feature_as_required(
    client: TestClient, project_run: Params
) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Instance"]

    names = feature_names(load_model(project_run.paths.model))
    assert list(schema["properties"]) == names
    assert schema["required"] == names
    assert schema["additionalProperties"] is False


def test_create_app_reads_the_params_file(
    served_settings: dict[str, Any], project_run: Params, tmp_path: Path
) -> None:
    params_file = tmp_path / "params.yaml"
    settings = {**served_settings}
    settings["serve"] = {**settings["serve"], "max_batch_size": 3}
    params_file.write_text(yaml.safe_dump(settings), encoding="utf-8")

    client = TestClient(create_app(params_file))

    assert client.get("/health").status_code == 200
    openapi = client.get("/openapi.json").json()
    instances = openapi["components"]["schemas"]["PredictRequest"]["properties"]
    assert instances["instances"]["maxItems"] == 3


def test_the_server_warns_when_the_model_is_not_the_one_in_dvc_lock(
    served_settings: dict[str, Any],
    project_run: Params,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An image may carry a model whose dvc.lock is not on main: warn, serve.
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(served_settings), encoding="utf-8")
    model = project_run.paths.model
    stale = "0123456789abcdef0123456789abcdef"
    lock = {"stages": {"evaluate": {"deps": [{"path": str(model), "md5": stale}]}}}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock), encoding="utf-8")

    client = TestClient(create_app(params_file))

    assert client.get("/health").status_code == 200
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and err.count("\n") == 1
    actual = hashlib.md5(model.read_bytes()).hexdigest()
    assert actual in err and stale in err
    assert "make repro" in err and "dvc pull" in err


def test_missing_model_stops_the_start_with_advice(
    params_dict: dict[str, Any], params: Params
) -> None:
    with pytest.raises(ModelNotFoundError, match="dvc repro.*dvc pull"):
        build_app(params, served_limits(params_dict))


def test_serve_command_reports_a_missing_model(
    params_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["serve", "--params", str(params_file)])

    assert exit_code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: model file not found")
    assert "dvc repro" in error and "dvc pull" in error
