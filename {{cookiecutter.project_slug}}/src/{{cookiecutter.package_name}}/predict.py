"""Load the trained model and predict on new rows.

This is the code that everything downstream uses: the ``predict`` command,
the evaluation step and anything built on the model. The model file
remembers the names of the feature columns it was trained on
(``feature_names_in_``), so the input only needs those columns, in any order;
other columns are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.pipeline import Pipeline

from .errors import DataError, ModelLoadError, ModelNotFoundError


class FeatureValueError(DataError):
    """A feature value the model cannot use: infinite, or infinite once scaled."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


def load_model(path: str | Path) -> Pipeline:
    """Load the model saved by the ``train`` step.

    joblib files can run code when loaded: only load model files you trust,
    such as the ones your own pipeline produced.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(
            f"model file not found: {path}; run `dvc repro` to train it, "
            "or `dvc pull` to download it from the DVC remote"
        )
    try:
        model = joblib.load(path)
    except Exception as error:  # pickle fails in many ways: EOFError, IndexError...
        raise ModelLoadError(
            f"{path} is not a readable model ({type(error).__name__}: the file is"
            " truncated or corrupt); run `dvc pull` to download it again, or"
            " `dvc repro` to train it again"
        ) from None
    if not hasattr(model, "predict_proba") or not hasattr(model, "feature_names_in_"):
        raise ModelLoadError(
            f"{path} holds a {type(model).__name__}, not a model trained by this"
            " project; run `dvc pull` to download the model, or `dvc repro`"
        )
    return model


def feature_names(model: Pipeline) -> list[str]:
    """The feature columns the model was trained on, in training order."""
    return [str(name) for name in model.feature_names_in_]


def select_features(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's feature columns of ``frame``, checked and in training order."""
    names = feature_names(model)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(f"input is missing feature column(s): {', '.join(missing)}")
    features = frame[names]
    # Whole-frame checks: one pass over the data, however many columns it has.
    dtypes = features.dtypes
    non_numeric = [name for name in names if not is_numeric_dtype(dtypes[name])]
    if non_numeric:
        raise DataError(f"feature column {non_numeric[0]!r} must be numeric")
    with_missing = features.columns[features.isna().any(axis=0)]
    if len(with_missing):
        raise DataError(f"feature column {with_missing[0]!r} has missing values")
    return features


def first_non_finite(values: np.ndarray[Any, Any]) -> tuple[int, int] | None:
    """(row, column) of the first value that is not a finite number, if any."""
    bad = np.argwhere(~np.isfinite(values))
    return (int(bad[0][0]), int(bad[0][1])) if len(bad) else None


def model_inputs(model: Pipeline, features: pd.DataFrame) -> tuple[Any, Any]:
    """The model's last step and what it gets: the features after the other steps.

    Finite features can still overflow inside the model: the scaler divides by
    a standard deviation, and 1e307 divided by 0.01 is infinity. Each value is
    checked before and after the preprocessing, so the error names the column
    instead of failing deep inside scikit-learn.
    """
    names = list(features.columns)
    raw = features.to_numpy(dtype=float)
    found = first_non_finite(raw)
    if found is not None:
        row, column = found
        raise FeatureValueError(
            row,
            names[column],
            f"feature column {names[column]!r} has a value that is not a finite number"
            f" ({raw[row, column]}) in row {row}",
        )
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return model, features
    with np.errstate(over="ignore", invalid="ignore"):
        transformed = model[:-1].transform(features)
    found = first_non_finite(np.asarray(transformed, dtype=float))
    if found is not None:
        row, column = found
        name = names[column] if np.shape(transformed) == raw.shape else "a feature"
        raise FeatureValueError(
            row,
            name,
            f"feature {name!r} in row {row} is too large for the model:"
            " it becomes infinite after scaling",
        )
    return model[-1], transformed


def predict(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """Predict every row of ``frame``.

    Returns a DataFrame with the same index as ``frame`` and two columns:
    ``prediction`` (0 or 1) and ``probability`` (the probability of class 1).
    """
    if len(frame) == 0:
        raise DataError("input has no rows to predict")
    features = select_features(model, frame)
    final_step, inputs = model_inputs(model, features)
    predictions = final_step.predict(inputs)
    # Training checks that the labels are 0 and 1, so column 1 is class 1.
    probabilities = final_step.predict_proba(inputs)[:, 1]
    return pd.DataFrame(
        {
            "prediction": predictions.astype(int),
            "probability": probabilities.astype(float),
        },
        index=frame.index,
    )
