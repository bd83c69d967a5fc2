"""The model's data contract: the columns its input holds, their type and values.

``train`` derives the contract from the training data and the fitted model and
writes it beside the model (``<paths.model>.schema.json``, kept in git like the
metrics, so ``git diff`` shows when the input changed): each feature column in
training order, its type, the range the training data spanned and the largest
magnitude the model takes (``value_limits``). What uses it:

* batch scoring and the drift check validate their input with the stored
  contract (``read_contract``, ``input_schema``);
* the model server builds its request model from it (``serving/app.py``);
* the model card shows it (``model/report.py``);
* ``predict`` validates with the same rules, drawn from the model itself, so a
  champion of an older commit is checked too.

``prepare`` runs before any model exists: it validates the raw table with the
contract of its own header (``raw_schema``: every column but the label holds
numbers, no value is missing).

The checks are pandera's (https://pandera.readthedocs.io), the pandas schema
library: one vectorised pass per table or chunk. A table that breaks the
contract is a ``ContractError``, one line naming the column, the rule and the
value: ``input.csv: column 'mean_area' must hold numbers (got 'n/a' in row 60)``.
Values outside the training range are allowed: the drift check measures them.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pydantic import BaseModel, ConfigDict

from ..errors import DataError

# The contract's file: the model's file name with this added.
SCHEMA_SUFFIX = ".schema.json"
# The type of every feature: the model computes in 64-bit floats.
FEATURE_TYPE = "float64"
# No feature may come closer than this to the largest float once scaled.
SCALED_LIMIT = sys.float_info.max / 2
# What the checks that fail most often stand for (pandera's names for them).
MISSING_COLUMN = "column_in_dataframe"
EXTRA_COLUMN = "column_in_schema"
MISSING_VALUE = "not_nullable"
# The order in which failures are reported: the header before the values.
FIRST_REPORTED = (MISSING_COLUMN, EXTRA_COLUMN)


class ContractError(DataError):
    """A table that breaks the contract; ``column`` and ``row`` name the value."""

    def __init__(self, message: str, column: str, row: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.row = row


class FeatureContract(BaseModel):
    """One feature column: its type, training range and largest magnitude."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str = FEATURE_TYPE
    minimum: float
    maximum: float
    limit: float


class DataContract(BaseModel):
    """The model's input: its feature columns, in training order."""

    model_config = ConfigDict(frozen=True)

    features: list[FeatureContract]

    @property
    def names(self) -> list[str]:
        """The feature names, in training order."""
        return [feature.name for feature in self.features]

    @property
    def limits(self) -> list[float]:
        """The largest magnitude the model takes, for each feature."""
        return [feature.limit for feature in self.features]


def schema_path(model_path: Path) -> Path:
    """Where the contract of the model at ``model_path`` is stored."""
    return model_path.with_name(model_path.name + SCHEMA_SUFFIX)


def value_limits(model: Any) -> list[float]:
    """The largest magnitude of each feature that stays finite once scaled.

    The pipeline's first step (``pipeline/train.py``: a ``StandardScaler``) divides each
    feature by its ``scale_``; without one, any finite number is accepted.
    """
    steps = getattr(model, "steps", None)
    scale = getattr(steps[0][1], "scale_", None) if steps else None
    if scale is None:
        return [sys.float_info.max] * len(model.feature_names_in_)
    return [min(SCALED_LIMIT * float(value), sys.float_info.max) for value in scale]


def derive_contract(features: pd.DataFrame, model: Any) -> DataContract:
    """The contract of ``model``, fitted on ``features`` (the training data)."""
    return DataContract(
        features=[
            FeatureContract(
                name=str(name),
                minimum=float(features[name].min()),
                maximum=float(features[name].max()),
                limit=limit,
            )
            for name, limit in zip(features.columns, value_limits(model))
        ]
    )


def write_contract(contract: DataContract, path: Path) -> Path:
    """Write ``contract`` to ``path`` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contract.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def read_contract(model_path: Path) -> DataContract:
    """The contract stored beside the model at ``model_path``."""
    path = schema_path(model_path)
    if not path.is_file():
        raise DataError(
            f"{path} not found: the model's data contract; run `dvc repro` to"
            " train the model (train writes it), or `dvc pull`"
        )
    return DataContract.model_validate_json(path.read_text(encoding="utf-8"))


def check_names(contract: DataContract, model_features: list[str], path: Path) -> None:
    """Refuse a contract that names other features than the model."""
    if contract.names != model_features:
        raise DataError(
            f"{schema_path(path)} names other features than {path}; run `dvc repro`"
            " (train writes both) or `dvc pull`"
        )


def input_schema(
    names: list[str],
    limits: list[float],
    missing_allowed: bool = False,
    other_columns: bool = False,
) -> pa.DataFrameSchema:
    """The pandera schema of the model's input: each feature a number within
    its limit (``value_limits``); missing values only with ``missing_allowed``
    (the drift check measures them); other columns refused, or dropped with
    ``other_columns``."""
    columns = {
        name: pa.Column(
            float,
            pa.Check.in_range(-limit, limit),
            coerce=True,
            nullable=missing_allowed,
        )
        for name, limit in zip(names, limits)
    }
    return pa.DataFrameSchema(columns, strict="filter" if other_columns else True)


def raw_schema(columns: list[str], target: str) -> pa.DataFrameSchema:
    """The pandera schema of a raw table: every column but ``target`` holds
    numbers, and no value is missing."""
    return pa.DataFrameSchema(
        {
            str(name): (
                pa.Column(nullable=False)
                if name == target
                else pa.Column(float, coerce=True, nullable=False)
            )
            for name in columns
        }
    )


def check_frame(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, where: str
) -> pd.DataFrame:
    """``frame`` with its features as floats; ``ContractError`` on the first
    value (or column) that breaks ``schema``. ``where`` names the table."""
    try:
        checked = schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        raise first_problem(errors.failure_cases, where, len(schema.columns)) from None
    # pandas before 3.0 keeps the ``pandera`` accessor that validate attaches in
    # the frame, and the accessor keeps the frame: a reference cycle that only
    # the garbage collector's rare full runs free, so the chunks of a large
    # table piled up (tests/test_drift.py, memory). Without it, no cycle.
    vars(checked).pop("pandera", None)
    return checked


def first_problem(cases: pd.DataFrame, where: str, features: int) -> ContractError:
    """The first of pandera's failure cases, in one line: a missing or unknown
    column first, then the first row's first bad value."""
    for check in FIRST_REPORTED:
        header = cases[cases["check"] == check]
        if len(header):
            name = str(header["failure_case"].iloc[0])
            if check == MISSING_COLUMN:
                message = (
                    f"feature column {name!r} is missing"
                    f" (the model needs {features} feature columns)"
                )
            else:
                message = (
                    f"column {name!r} is not a feature of the model; remove it"
                    " (the input holds the feature columns only)"
                )
            return ContractError(f"{where}: {message}", name)
    values = cases.dropna(subset=["index"]).sort_values("index", kind="stable")
    case = values.iloc[0] if len(values) else cases.iloc[0]
    column, row = str(case["column"]), case["index"]
    row_number = None if pd.isna(row) else int(row)
    at = "" if row_number is None else f" in row {row_number}"
    broken, shown = rule(str(case["check"]), case["failure_case"])
    detail = f" (got {shown}{at})" if shown else at
    return ContractError(
        f"{where}: column {column!r} {broken}{detail}", column, row_number
    )


def rule(check: str, value: Any) -> tuple[str, str | None]:
    """The rule a value broke, in words, and the value as the message shows it
    (none for a missing value)."""
    if check == MISSING_VALUE:
        return "has a missing value", None
    if check.startswith("in_range"):
        number = float(value)
        if not math.isfinite(number):
            return "must hold finite numbers", str(number)
        return "is too large for the model: it becomes infinite after scaling", (
            f"{number:g}"
        )
    return "must hold numbers", repr(value)
