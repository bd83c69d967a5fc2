"""Serve the trained model over HTTP with FastAPI.

Endpoints:

* ``GET /health`` - the package version, the model's version (the first 12
  characters of the model file's SHA-256) and the test-set metrics the model
  was accepted with (``paths.metrics``). Load balancers and the Docker
  ``HEALTHCHECK`` call it.
* ``POST /predict`` - predictions for one record or a batch:
  ``{"instances": [{"mean_radius": 14.1, ...}, ...]}`` is answered with
  ``{"model_version": "...", "predictions": [{"prediction": 1,
  "probability": 0.98}, ...]}``, one prediction per instance, in order.
* ``GET /docs`` - the interactive API page; ``GET /openapi.json`` - the schema.

The request schema is built from the feature columns the model was trained
on, so it follows the model without code changes. Every feature is required
and must be a finite number. An unknown field, a wrong type, an empty batch, a
batch larger than ``serve.max_batch_size`` (``params.yaml``) or a value too
large for the model is answered with status 422 and a message that names the
field (at most ``MAX_PROBLEMS`` of them, then a count of the rest).

One bad request cannot stall the server: a body larger than
``serve.max_body_bytes`` gets 413 before it is read, a compressed body gets
415, text that is not UTF-8 or JSON nested too deeply gets 422. Parsing,
checking and predicting run in worker threads (at most ``PREDICT_WORKERS``
requests at once), so ``GET /health`` keeps answering meanwhile.

The model is loaded once, when the app is created. Start the server with
``make serve``, ``python -m <package> serve``, or
``uvicorn --factory <package>.serve:create_app`` (what the Docker image runs).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from sklearn.pipeline import Pipeline

from . import __version__
from .config import DEFAULT_PARAMS_FILE, Params, load_params
from .errors import DataError
from .integrity import lock_beside, warn_if_not_recorded
from .metrics import read_metrics
from .predict import FeatureValueError, feature_names, load_model, predict
from .serve_command import ServeParams, load_serve_params

# Characters of the model file's SHA-256 that name the model version.
VERSION_LENGTH = 12
# Problems listed in one 422 answer; the rest are only counted.
MAX_PROBLEMS = 10
# Requests parsed and predicted at the same time; others wait their turn.
PREDICT_WORKERS = 4


@dataclass(frozen=True)
class ServedModel:
    """The model and what identifies it, loaded once at start-up."""

    pipeline: Pipeline
    features: list[str]
    path: Path
    sha256: str
    metrics: dict[str, float]

    @property
    def version(self) -> str:
        """A short, stable name for this exact model file."""
        return self.sha256[:VERSION_LENGTH]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, as 64 hexadecimal characters."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def load_served_model(params: Params) -> ServedModel:
    """Load the model and its metrics from the paths in ``params``.

    Raises ``ModelNotFoundError`` or ``MetricsError`` with a message that says
    how to get them (``dvc repro`` or ``dvc pull``).
    """
    pipeline = load_model(params.paths.model)
    return ServedModel(
        pipeline=pipeline,
        features=feature_names(pipeline),
        path=params.paths.model,
        sha256=file_sha256(params.paths.model),
        metrics=read_metrics(params.paths.metrics),
    )


class Prediction(BaseModel):
    """The prediction for one instance."""

    prediction: int = Field(description="The predicted class, 0 or 1.")
    probability: float = Field(description="The predicted probability of class 1.")


class PredictResponse(BaseModel):
    """The predictions, in the order of the instances."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str = Field(description="The version of the model that answered.")
    predictions: list[Prediction]


class ModelInfo(BaseModel):
    """Which model the server runs."""

    version: str = Field(description="The first characters of the SHA-256.")
    sha256: str = Field(description="The SHA-256 of the model file.")
    path: str = Field(description="The model file (paths.model in params.yaml).")
    features: list[str] = Field(description="The feature names, in training order.")


class Health(BaseModel):
    """What ``GET /health`` answers."""

    status: str = Field(description='Always "ok": the server answers.')
    package_version: str
    model: ModelInfo
    metrics: dict[str, float] = Field(
        description="The test-set metrics the model was accepted with."
    )


# Shared by the generated request models: reject what the model cannot use
# instead of guessing (no strings such as "1.5", no booleans, no NaN or
# infinity, no unknown fields), and allow any feature name, even "model_...".
STRICT = ConfigDict(
    extra="forbid", strict=True, allow_inf_nan=False, protected_namespaces=()
)


def instance_model(features: list[str]) -> type[BaseModel]:
    """The schema of one instance: one required, finite number per feature.

    The Python attribute names are generated; the JSON names are the feature
    names (aliases), so any column name works, even one that BaseModel uses.
    """
    fields: dict[str, Any] = {
        f"feature_{index}": (float, Field(alias=name, title=name))
        for index, name in enumerate(features)
    }
    return create_model("Instance", __config__=STRICT, **fields)


def request_model(instance: type[BaseModel], max_batch_size: int) -> type[BaseModel]:
    """The schema of a ``POST /predict`` body: 1 to ``max_batch_size`` instances."""
    instances = Field(
        min_length=1,
        max_length=max_batch_size,
        description=f"The records to predict, 1 to {max_batch_size} of them.",
    )
    # The item type is built at run time, which a type checker cannot follow.
    items = list[instance]  # type: ignore[valid-type]
    return create_model(
        "PredictRequest", __config__=STRICT, instances=(items, instances)
    )


class Problem(BaseModel):
    """One thing wrong with a request."""

    field: str = Field(description="Where: a dotted path such as instances.0.age.")
    message: str
    type: str = Field(description="A machine-readable kind, such as missing.")


class Problems(BaseModel):
    """What a request that cannot be answered gets, with status 422."""

    detail: list[Problem]


class BodyError(Exception):
    """A request body the server will not read: too large, compressed or garbled."""

    def __init__(self, status_code: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.kind = kind
        self.message = message


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``max_bytes``.

    A declared ``Content-Length`` is checked before anything is read; a body
    sent without one (chunked) is counted while it arrives.
    """
    too_large = BodyError(
        413,
        "body_too_large",
        f"the request body is larger than {max_bytes} bytes"
        " (serve.max_body_bytes in params.yaml); send fewer instances per request",
    )
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding != "identity":
        raise BodyError(
            415,
            "encoding_unsupported",
            f"Content-Encoding {encoding} is not supported: send the JSON uncompressed",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``; ``BodyError`` (422) says what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyError(
            422,
            "utf8_invalid",
            f"the body is not UTF-8 text (byte {body[error.start]:#04x} at position"
            f" {error.start}); send JSON encoded as UTF-8",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BodyError(422, "json_invalid", f"the body is not valid JSON: {error}")
    except RecursionError:
        raise BodyError(
            422, "json_too_deep", "the body is JSON nested too deeply to read"
        ) from None
    except ValueError as error:  # for example an integer with thousands of digits
        raise BodyError(422, "json_invalid", f"the body is not usable JSON: {error}")


def field_path(location: tuple[Any, ...], kind: str) -> str:
    """``("body", "instances", 0, "age")`` -> ``instances.0.age``."""
    parts = [str(part) for part in location[1:]]
    # For invalid JSON, pydantic gives the character position, not a field.
    if kind == "json_invalid" or not parts:
        return "body"
    return ".".join(parts)


def validation_problems(error: ValidationError) -> list[Problem]:
    """The first ``MAX_PROBLEMS`` entries of ``error``.

    The input itself is not echoed back: it may be large, and NaN or infinity
    cannot be written as JSON.
    """
    return [
        Problem(
            field=field_path(("body", *problem["loc"]), problem["type"]),
            message=problem["msg"],
            type=problem["type"],
        )
        for problem in error.errors(include_url=False, include_input=False)[
            :MAX_PROBLEMS
        ]
    ]


def unknown_field_problems(
    data: Any, known: frozenset[str]
) -> tuple[list[Problem], int]:
    """The first ``MAX_PROBLEMS`` unknown instance fields, and how many there are.

    A set difference per instance finds them at C speed. Counting them before
    pydantic matters: pydantic would build one error for each of, say, fifty
    thousand unknown keys, which takes longer than the whole rest of a request.
    """
    instances = data.get("instances") if isinstance(data, dict) else None
    if not isinstance(instances, list):
        return [], 0
    problems: list[Problem] = []
    count = 0
    for index, item in enumerate(instances):
        if not isinstance(item, dict):
            continue
        unknown = item.keys() - known
        count += len(unknown)
        for name in sorted(unknown)[: MAX_PROBLEMS - len(problems)]:
            problems.append(
                Problem(
                    field=f"instances.{index}.{name}",
                    message="Extra inputs are not permitted",
                    type="extra_forbidden",
                )
            )
    return problems, count


def problems_response(problems: list[Problem], total: int) -> JSONResponse:
    """A 422 listing ``problems``, and counting the rest of ``total``."""
    if total > len(problems):
        problems = problems + [
            Problem(
                field="body",
                message=f"{total - len(problems)} more problems not listed",
                type="too_many_problems",
            )
        ]
    return JSONResponse(status_code=422, content=Problems(detail=problems).model_dump())


def problem_response(request: Request, error: Exception) -> JSONResponse:
    """Answer a request that cannot be served with its status and the problems."""
    status_code = 422
    if isinstance(error, BodyError):
        status_code = error.status_code
        problems = [Problem(field="body", message=error.message, type=error.kind)]
    elif isinstance(error, FeatureValueError):
        field = f"instances.{error.row}.{error.column}"
        problems = [Problem(field=field, message=str(error), type="value_error")]
    else:
        problems = [Problem(field="instances", message=str(error), type="data")]
    content = Problems(detail=problems).model_dump()
    return JSONResponse(status_code=status_code, content=content)


def documented_body(app: FastAPI, body_model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of ``POST /predict``, with its schemas added.

    The endpoint reads the body itself (to limit its size and to parse it off
    the event loop), so FastAPI cannot infer the schema: this adds it.
    """
    schema = body_model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = {**schema.pop("$defs", {}), body_model.__name__: schema}
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_openapi()
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    reference = {"$ref": f"#/components/schemas/{body_model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": reference}},
        }
    }


def build_app(
    params: Params, settings: ServeParams, lock: Path | None = None
) -> FastAPI:
    """The FastAPI app serving the model named in ``params`` (loaded now),
    with the request limits of ``settings`` (the ``serve`` section); warns on
    stderr when the model is not the one ``lock`` (a ``dvc.lock``) recorded."""
    served = load_served_model(params)
    if lock is not None:
        warn_if_not_recorded(served.path, lock)
    instance = instance_model(served.features)
    body_model = request_model(instance, settings.max_batch_size)
    health = Health(
        status="ok",
        package_version=__version__,
        model=ModelInfo(
            version=served.version,
            sha256=served.sha256,
            path=served.path.as_posix(),
            features=served.features,
        ),
        metrics=served.metrics,
    )

    app = FastAPI(
        title=f"{__package__} model server",
        version=__version__,
        description="Predictions of the model trained by this project's pipeline.",
    )
    for error_type in (DataError, BodyError):
        app.add_exception_handler(error_type, problem_response)
    workers = CapacityLimiter(PREDICT_WORKERS)

    known = frozenset(served.features)

    def answer(body: bytes) -> PredictResponse | JSONResponse:
        """Parse, check and predict one request body (runs in a worker thread)."""
        data = parse_json(body)
        unknown, count = unknown_field_problems(data, known)
        if count > MAX_PROBLEMS:
            return problems_response(unknown, count)
        try:
            request_body = body_model.model_validate(data)
        except ValidationError as error:
            return problems_response(validation_problems(error), error.error_count())
        rows = request_body.model_dump(by_alias=True)["instances"]
        result = predict(served.pipeline, pd.DataFrame(rows, columns=served.features))
        return PredictResponse(
            model_version=served.version,
            predictions=[
                Prediction(prediction=label, probability=probability)
                for label, probability in zip(
                    result["prediction"].tolist(), result["probability"].tolist()
                )
            ],
        )

    @app.get("/health", response_model=Health)
    def get_health() -> Health:
        """The server is up; which model it runs and how well it scored."""
        return health

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            413: {"model": Problems, "description": "Body too large"},
            415: {"model": Problems, "description": "Compressed body"},
            422: {"model": Problems, "description": "Invalid request"},
        },
        openapi_extra=documented_body(app, body_model),
    )
    async def post_predict(request: Request) -> Any:
        """Predict the class and the probability of class 1 of each instance."""
        body = await read_body(request, settings.max_body_bytes)
        return await to_thread.run_sync(answer, body, limiter=workers)

    return app


def create_app(params_path: str | Path = DEFAULT_PARAMS_FILE) -> FastAPI:
    """Read ``params_path`` and build the app; ``uvicorn --factory`` calls this."""
    return build_app(
        load_params(params_path),
        load_serve_params(params_path),
        lock=lock_beside(params_path),
    )
