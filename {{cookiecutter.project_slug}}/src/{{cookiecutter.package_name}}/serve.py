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
and must be a finite number. An unknown field, a wrong type, an empty batch or
a batch larger than ``serve.max_batch_size`` (``params.yaml``) is answered with
status 422 and a message that names the field.

The model is loaded once, when the app is created. Start the server with
``make serve``, ``python -m <package> serve``, or
``uvicorn --factory <package>.serve:create_app`` (what the Docker image runs).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from sklearn.pipeline import Pipeline

from . import __version__
from .config import DEFAULT_PARAMS_FILE, Params, load_params
from .data import DataError
from .evaluate import read_metrics
from .predict import feature_names, load_model, predict

# Characters of the model file's SHA-256 that name the model version.
VERSION_LENGTH = 12


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
    return create_model(
        "PredictRequest", __config__=STRICT, instances=(list[instance], instances)
    )


class Problem(BaseModel):
    """One thing wrong with a request."""

    field: str = Field(description="Where: a dotted path such as instances.0.age.")
    message: str
    type: str = Field(description="A machine-readable kind, such as missing.")


class Problems(BaseModel):
    """What a request that cannot be answered gets, with status 422."""

    detail: list[Problem]


def field_path(location: tuple[Any, ...], kind: str) -> str:
    """``("body", "instances", 0, "age")`` -> ``instances.0.age``."""
    parts = [str(part) for part in location[1:]]
    # For invalid JSON, pydantic gives the character position, not a field.
    if kind == "json_invalid" or not parts:
        return "body"
    return ".".join(parts)


def validation_error(request: Request, error: Exception) -> JSONResponse:
    """Answer a bad request with 422 and one readable entry per problem.

    The input itself is not echoed back: it may be large, and NaN or infinity
    cannot be written as JSON.
    """
    if isinstance(error, RequestValidationError):
        problems = [
            Problem(
                field=field_path(problem["loc"], problem["type"]),
                message=problem["msg"],
                type=problem["type"],
            )
            for problem in error.errors()
        ]
    else:
        problems = [Problem(field="instances", message=str(error), type="data")]
    return JSONResponse(status_code=422, content=Problems(detail=problems).model_dump())


def build_app(params: Params) -> FastAPI:
    """The FastAPI app serving the model named in ``params`` (loaded now)."""
    served = load_served_model(params)
    instance = instance_model(served.features)
    body_model = request_model(instance, params.serve.max_batch_size)
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
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DataError, validation_error)

    @app.get("/health", response_model=Health)
    def get_health() -> Health:
        """The server is up; which model it runs and how well it scored."""
        return health

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={422: {"model": Problems, "description": "Invalid request"}},
    )
    def post_predict(body: body_model) -> PredictResponse:  # type: ignore[valid-type]
        """Predict the class and the probability of class 1 of each instance."""
        rows = [item.model_dump(by_alias=True) for item in body.instances]
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

    return app


def create_app(params_path: str | Path = DEFAULT_PARAMS_FILE) -> FastAPI:
    """Read ``params_path`` and build the app; ``uvicorn --factory`` calls this."""
    return build_app(load_params(params_path))
