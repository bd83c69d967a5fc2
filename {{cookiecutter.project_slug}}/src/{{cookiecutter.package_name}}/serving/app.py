"""Serve the trained model over HTTP with FastAPI (``make serve``; the Docker
image runs ``uvicorn --factory <package>.serving.app:create_app``).

``GET /health`` (or ``HEAD``) names the model (``model.version``: the first 12
characters of its SHA-256, as the model card, batch output and ``compare`` name
it; its registry version and stages when the commit registers it) and its
test-set metrics; ``POST /predict`` answers
``{"instances": [{"mean_radius": 14.1, ...}]}`` with one prediction per
instance; ``GET /docs`` is the API page, its scripts served by the app
(fastapi-offline), so it works offline.

FastAPI validates each request with the request model of ``bodies.py``, built
from the model's data contract. Before that, ``limits.py`` refuses bodies that
are too large (413), not uncompressed JSON (415) or too slow to arrive (408),
and JSON it will not read (422).
"""

from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from sklearn.pipeline import Pipeline
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..config import (
    DEFAULT_PARAMS_FILE,
    Params,
    ServeParams,
    load_params,
    load_serve_params,
)
from ..errors import DataError
from ..model.integrity import (
    ModelIdentity,
    lock_beside,
    model_identity,
    warn_if_not_recorded,
)
from ..model.predict import feature_names, load_model, predict
from ..model.schema import check_names, read_contract
from ..quality.metrics import read_metrics
from .bodies import (
    Health,
    ModelInfo,
    Prediction,
    PredictResponse,
    invalid_request_response,
    request_model,
)
from .limits import (
    MAX_PROBLEMS,
    READ_TIMEOUT,
    BodyLimits,
    JSONRoute,
    Problems,
    Refusal,
    refusal_response,
)


@dataclass(frozen=True)
class ServedModel:
    """The model and what identifies it, loaded once at start-up."""

    pipeline: Pipeline
    features: list[str]
    # The largest magnitude of each feature (the data contract's limits).
    limits: list[float]
    path: Path
    identity: ModelIdentity
    metrics: dict[str, float]


def load_served_model(params: Params, lock: Path | None = None) -> ServedModel:
    """Load the model and its metrics from the paths in ``params``; with
    ``lock`` (``dvc.lock``), its registry version too (``integrity.model_identity``).

    Raises ``ModelNotFoundError`` or ``MetricsError`` with a message that says
    how to get them (``dvc repro`` or ``dvc pull``).
    """
    pipeline = load_model(params.paths.model)
    contract = read_contract(params.paths.model)
    check_names(contract, feature_names(pipeline), params.paths.model)
    return ServedModel(
        pipeline=pipeline,
        features=contract.names,
        limits=contract.limits,
        path=params.paths.model,
        identity=model_identity(params.paths.model, lock),
        metrics=read_metrics(params.paths.metrics),
    )


def score(pipeline: Pipeline, frame: pd.DataFrame) -> list[tuple[int, float]]:
    """The more probable class and the probability of class 1 of each row.

    The request model has checked what ``predict`` checks (each feature there,
    finite and within the contract's limits), so the model runs once; should it
    still fail, ``predict`` names the value it cannot use.
    """
    try:
        probabilities = pipeline.predict_proba(frame)
    except ValueError:
        predict(pipeline, frame)
        raise
    labels = pipeline.classes_[probabilities.argmax(axis=1)]
    return list(zip(labels.tolist(), probabilities[:, 1].tolist()))


def build_app(
    params: Params, settings: ServeParams, lock: Path | None = None
) -> FastAPI:
    """The FastAPI app serving the model named in ``params`` (loaded now),
    with the request limits of ``settings`` (the ``serve`` section); warns on
    stderr when the model is not the one ``lock`` (a ``dvc.lock``) recorded."""
    served = load_served_model(params, lock)
    registration = served.identity.registration
    if lock is not None:
        warn_if_not_recorded(served.path, lock)
    body_model: Any = request_model(
        served.features, served.limits, settings.max_batch_size
    )
    row_of = itemgetter(*served.features)
    health = Health(
        status="ok",
        package_version=__version__,
        model=ModelInfo(
            version=served.identity.id,
            sha256=served.identity.sha256,
            registry_version=registration.version if registration else None,
            stages=list(registration.stages) if registration else [],
            path=served.path.as_posix(),
            features=served.features,
        ),
        metrics=served.metrics,
    )

    app = FastAPIOffline(
        title=f"{__name__.split('.')[0]} model server",
        version=__version__,
        description="Predictions of the model trained by this project's pipeline.",
    )
    app.router.route_class = JSONRoute
    # An instance's keys: its features, and a few unknown ones to name.
    app.state.max_keys = len(served.features) + MAX_PROBLEMS
    app.add_middleware(
        BodyLimits, max_body_bytes=settings.max_body_bytes, timeout=READ_TIMEOUT
    )
    app.add_exception_handler(Refusal, refusal_response)
    for error in (RequestValidationError, DataError):
        app.add_exception_handler(error, invalid_request_response)

    @app.get("/health", response_model=Health)
    @app.head("/health", response_model=Health)
    def get_health() -> Health:
        """The server is up; which model it runs and how well it scored."""
        return health

    def answer(instances: list[dict[str, float]]) -> PredictResponse:
        """Score valid instances (in a worker thread: /health answers meanwhile)."""
        rows = np.array([row_of(instance) for instance in instances], dtype=float)
        frame = pd.DataFrame(rows, columns=served.features)
        predictions = score(served.pipeline, frame)
        return PredictResponse(
            model_version=served.identity.id,
            predictions=[
                Prediction(prediction=c, probability=p) for c, p in predictions
            ],
        )

    refused = {"model": Problems}
    responses: dict[int | str, dict[str, Any]] = {
        408: {**refused, "description": "Body too slow to arrive"},
        413: {**refused, "description": "Body too large"},
        415: {**refused, "description": "Not uncompressed application/json"},
        422: {**refused, "description": "Invalid request"},
    }

    @app.post("/predict", response_model=PredictResponse, responses=responses)
    async def post_predict(body: body_model) -> PredictResponse:
        """Predict the class and the probability of class 1 of each instance."""
        return await run_in_threadpool(answer, body.instances)

    return app


def create_app(params_path: str | Path = DEFAULT_PARAMS_FILE) -> FastAPI:
    """Read ``params_path`` and build the app; ``uvicorn --factory`` calls this."""
    return build_app(
        load_params(params_path),
        load_serve_params(params_path),
        lock=lock_beside(params_path),
    )
