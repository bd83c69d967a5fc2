"""One bad request gets a clear 4xx and never a 500, however it is broken.

Each case is something a careless or hostile client can send: numbers the
model cannot scale, a body far larger than any real batch, a flood of unknown
fields, bytes that are not UTF-8, JSON nested thousands of levels deep, a
compressed body, a key given twice, a body that is not declared JSON (what a
cross-site form may send), a body that stops arriving. ``tests/test_bad_neighbour.py``
in the template checks the same with a real server under load.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import anyio
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.config import Params, ServeParams
from {{ cookiecutter.package_name }}.model.predict import load_model, predict
from {{ cookiecutter.package_name }}.model.schema import ContractError
from {{ cookiecutter.package_name }}.serving import app as app_module
from {{ cookiecutter.package_name }}.serving.app import build_app
from {{ cookiecutter.package_name }}.serving.limits import MAX_PROBLEMS

MAX_BODY_BYTES = 50_000


@pytest.fixture(scope="module")
def client(project_run: Params) -> TestClient:
    limits = ServeParams(max_batch_size=256, max_body_bytes=MAX_BODY_BYTES)
    return TestClient(build_app(project_run, limits), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def instance(project_run: Params) -> dict[str, float]:
    test = pd.read_csv(project_run.paths.test)
    row = test.drop(columns=[project_run.data.target]).iloc[0]
    return {str(name): float(value) for name, value in row.items()}


def post(client: TestClient, body: bytes, **headers: str) -> Any:
    return client.post(
        "/predict",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def only_problem(response: Any) -> dict[str, str]:
    problem: dict[str, str]
    (problem,) = response.json()["detail"]
    return problem


def test_a_finite_value_that_overflows_the_scaler_is_422_naming_it(
    client: TestClient, instance: dict[str, float]
) -> None:
    body = json.dumps({"instances": [instance, {**instance, "mean_smoothness": 1e307}]})

    response = post(client, body.encode())

    assert response.status_code == 422
    problem = only_problem(response)
    assert problem["field"] == "instances.1.mean_smoothness"
    assert "too large" in problem["message"]


def test_predict_names_an_infinite_value_read_from_a_csv(
    project_run: Params, instance: dict[str, float]
) -> None:
    rows = pd.DataFrame([instance, {**instance, "mean_area": float("inf")}])

    with pytest.raises(ContractError, match="'mean_area'.*in row 1") as error:
        predict(load_model(project_run.paths.model), rows)

    assert (error.value.row, error.value.column) == (1, "mean_area")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_before_it_is_read(
    client: TestClient, chunked: bool
) -> None:
    body = b'{"instances": [' + b" " * (MAX_BODY_BYTES * 4) + b"]}"
    content: Any = iter([body[i : i + 8192] for i in range(0, len(body), 8192)])

    response = client.post(
        "/predict",
        content=content if chunked else body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    problem = only_problem(response)
    assert problem["type"] == "body_too_large"
    assert f"{MAX_BODY_BYTES} bytes" in problem["message"]
    assert "serve.max_body_bytes" in problem["message"]


def test_a_flood_of_unknown_fields_gets_one_422(
    client: TestClient, instance: dict[str, float]
) -> None:
    flood = {f"unknown_{index}": 0 for index in range(2000)}
    body = json.dumps({"instances": [{**instance, **flood}]}).encode()
    assert len(body) < MAX_BODY_BYTES

    response = post(client, body)

    assert response.status_code == 422
    problem = only_problem(response)
    assert problem["type"] == "too_many_keys"
    assert f"has {len(instance) + 2000} keys" in problem["message"]


def test_many_problems_get_a_bounded_422(
    client: TestClient, instance: dict[str, float]
) -> None:
    # Every feature missing and as many unknown ones, in each of 5 instances:
    # the problems of the first are listed.
    unknown = {f"unknown_{index}": 0 for index in range(len(instance))}
    body = json.dumps({"instances": [unknown] * 5}).encode()

    response = post(client, body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MAX_PROBLEMS + 1
    total = 2 * len(instance)
    assert detail[-1] == {
        "field": "body",
        "message": f"{total - MAX_PROBLEMS} more problems not listed",
        "type": "too_many_problems",
    }
    assert len(response.content) < 5000


@pytest.mark.parametrize(
    ("body", "headers", "status", "kind", "words"),
    [
        (
            b'{"instances": [{"mean_radius": "\xff\xfe"}]}',
            {},
            422,
            "utf8_invalid",
            "UTF-8",
        ),
        (b"[" * 20_000 + b"]" * 20_000, {}, 422, "json_too_deep", "nested"),
        (b'{"instances": ' + b"9" * 5000 + b"}", {}, 422, "json_invalid", "digits"),
        (
            gzip.compress(b'{"instances": []}'),
            {"Content-Encoding": "gzip"},
            415,
            "encoding_unsupported",
            "gzip",
        ),
    ],
    ids=["invalid-utf8", "deep-nesting", "huge-integer-literal", "gzip"],
)
def test_unreadable_bodies_get_a_4xx_saying_what_is_wrong(
    client: TestClient,
    body: bytes,
    headers: dict[str, str],
    status: int,
    kind: str,
    words: str,
) -> None:
    response = post(client, body, **headers)

    assert response.status_code == status
    problem = only_problem(response)
    assert (problem["field"], problem["type"]) == ("body", kind)
    assert words in problem["message"]


def test_a_value_within_the_schemas_limit_is_scored(
    client: TestClient, instance: dict[str, float]
) -> None:
    # The schema states each feature's limit (its maximum and minimum), so a
    # request that the schema allows is answered, and one beyond it is not.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    limit = schemas["Instance"]["properties"]["mean_smoothness"]["maximum"]
    assert limit < 1e307  # the value that overflows the scaler

    at_limit = json.dumps({"instances": [{**instance, "mean_smoothness": limit}]})
    beyond = json.dumps({"instances": [{**instance, "mean_smoothness": -limit * 2}]})

    assert post(client, at_limit.encode()).status_code == 200
    response = post(client, beyond.encode())
    assert response.status_code == 422
    problem = only_problem(response)
    assert problem["field"] == "instances.0.mean_smoothness"
    assert "too large" in problem["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""],
    ids=["text", "form", "multipart", "none"],
)
def test_a_body_not_declared_as_json_is_415(
    client: TestClient, instance: dict[str, float], content_type: str
) -> None:
    # A browser sends these cross-site without asking the server first (the
    # Fetch standard's CORS-safelisted Content-Types, or none): such a request
    # never reaches the model.
    body = json.dumps({"instances": [instance]}).encode()
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post("/predict", content=body, headers=headers)

    assert response.status_code == 415
    problem = only_problem(response)
    assert problem["type"] == "media_type_unsupported"
    assert "application/json" in problem["message"]


@pytest.mark.parametrize("where", ["feature", "instances"])
def test_a_key_given_twice_is_422_naming_it(
    client: TestClient, instance: dict[str, float], where: str
) -> None:
    text = json.dumps({"instances": [instance]})
    if where == "feature":
        key = "mean_radius"
        text = text.replace('"mean_radius":', '"mean_radius": 1.0, "mean_radius":')
    else:
        key = "instances"
        text = '{"instances": [], ' + text[1:]

    response = post(client, text.encode())

    assert response.status_code == 422
    problem = only_problem(response)
    assert problem["type"] == "duplicate_key"
    assert repr(key) in problem["message"]


def test_a_body_that_stops_arriving_gets_408(
    project_run: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "READ_TIMEOUT", 0.2)
    app = build_app(project_run, ServeParams(max_batch_size=8, max_body_bytes=4096))
    chunks = [{"type": "http.request", "body": b'{"instances": [', "more_body": True}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not chunks:
            await anyio.sleep_forever()  # a client that never sends the rest
        return chunks.pop()

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    async def call() -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"99")]
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/predict",
            "headers": headers,
            "query_string": b"",
        }
        with anyio.fail_after(5):
            await app(scope, receive, send)

    anyio.run(call)

    assert sent[0]["status"] == 408
    problem = json.loads(sent[1]["body"])["detail"][0]
    assert problem["type"] == "body_too_slow"


def test_health_still_answers_after_every_bad_request(client: TestClient) -> None:
    post(client, b"[" * 20_000)
    post(client, b"\xff" * 100)

    assert client.get("/health").status_code == 200


def test_max_body_bytes_is_documented_in_params(project_params_file: Path) -> None:
    text = project_params_file.read_text(encoding="utf-8")

    assert "max_body_bytes:" in text and "413" in text
