"""The JSON bodies of the model server's API, as pydantic models.

``request_model`` builds the schema of a ``POST /predict`` body from the
model's data contract (``model/schema.py``): its features and the largest value
each may take. FastAPI validates each request with it, and
``invalid_request_response`` answers what it refuses: 422, naming each field, at most
``MAX_PROBLEMS`` of them. ``PredictResponse`` and ``Health`` are the answers.
"""

from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, FailFast, Field, create_model, with_config

# pydantic takes a TypedDict from typing_extensions on Python 3.11.
from typing_extensions import TypedDict

from ..model.schema import ContractError
from .limits import MAX_PROBLEMS, problems_response

# Reject what the model cannot use instead of guessing: no strings such as
# "1.5", no booleans, no NaN or infinity, no unknown fields.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
# Pydantic's messages for the data contract's limits, in the model's words.
TOO_LARGE = "the value is too large for the model: it becomes infinite after scaling"
LIMIT_MESSAGES = {"less_than_equal": TOO_LARGE, "greater_than_equal": TOO_LARGE}


def request_model(
    features: list[str], limits: list[float], max_batch_size: int
) -> type[BaseModel]:
    """The schema of a ``POST /predict`` body: 1 to ``max_batch_size``
    instances, each a number within its limit for every feature.

    An instance is a ``TypedDict``, so that any column name works (even one
    that BaseModel uses) and a valid instance is a plain dict.
    """
    fields = {
        name: Annotated[float, Field(title=name, ge=-limit, le=limit)]
        for name, limit in zip(features, limits)
    }
    # Fields known at run time only, which a type checker cannot follow.
    typed_dict: Any = TypedDict("Instance", fields)  # type: ignore[misc]
    instance: Any = with_config(STRICT)(typed_dict)
    instances = Field(
        min_length=1,
        max_length=max_batch_size,
        description=f"The records to predict, 1 to {max_batch_size} of them.",
    )
    # FailFast: the problems of the first bad instance only, not of every one.
    items = Annotated[list[instance], FailFast()]
    return create_model(
        "PredictRequest", __config__=STRICT, instances=(items, instances)
    )


async def invalid_request_response(request: Request, error: Exception) -> JSONResponse:
    """Answer a request the schema refuses (naming each field; the values are
    not echoed: they may be large, or NaN, which JSON cannot hold), or one the
    model cannot score (``predict`` named the value)."""
    if isinstance(error, RequestValidationError):
        problems = error.errors()
        listed = [
            {
                "field": ".".join(str(part) for part in problem["loc"][1:]) or "body",
                "message": LIMIT_MESSAGES.get(problem["type"], problem["msg"]),
                "type": problem["type"],
            }
            for problem in problems[:MAX_PROBLEMS]
        ]
        return problems_response(422, listed, len(problems))
    field = "instances"
    if isinstance(error, ContractError) and error.row is not None:
        field = f"instances.{error.row}.{error.column}"
    return problems_response(
        422, [{"field": field, "message": str(error), "type": "value_error"}]
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
    registry_version: str | None = Field(
        description="The model registry's version, when the commit registers it."
    )
    stages: list[str] = Field(description="The registry stages that version is in.")
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
