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
from sklearn.pipeline import Pipeline

from ..errors import DataError, ModelLoadError, ModelNotFoundError
from .schema import ContractError, check_frame, input_schema, value_limits


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
    """The model's feature columns of ``frame`` in training order, as floats,
    checked with the model's data contract (``model/schema.py``); other columns are
    ignored."""
    names = feature_names(model)
    schema = input_schema(names, value_limits(model), other_columns=True)
    return check_frame(schema, frame, "input")[names]


def model_inputs(model: Pipeline, features: pd.DataFrame) -> tuple[Any, Any]:
    """The model's last step and what it gets: the features after the other steps.

    The contract keeps each feature within what a ``StandardScaler`` turns into
    a finite number; another first step could still overflow (1e307 divided by
    0.01 is infinity), so the preprocessed values are checked too and the error
    names the column instead of failing deep inside scikit-learn.
    """
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return model, features
    with np.errstate(over="ignore", invalid="ignore"):
        transformed = model[:-1].transform(features)
    bad = np.argwhere(~np.isfinite(np.asarray(transformed, dtype=float)))
    if len(bad):
        row, column = int(bad[0][0]), int(bad[0][1])
        same_shape = np.shape(transformed) == features.shape
        name = str(features.columns[column]) if same_shape else "a feature"
        raise ContractError(
            f"input: column {name!r} is too large for the model: it becomes"
            f" infinite after scaling (in row {row})",
            name,
            row,
        )
    return model[-1], transformed


def predict(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """Predict every row of ``frame``.

    Returns a DataFrame with the same index as ``frame`` and two columns:
    ``prediction`` (0 or 1) and ``probability`` (the probability of class 1).
    """
    if len(frame) == 0:
        raise DataError("input has no rows to predict")
    return predict_checked(model, select_features(model, frame))


def predict_checked(model: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """``predict`` for features that the data contract has passed: the
    model's columns in training order, as floats (``schema.check_frame``)."""
    final_step, inputs = model_inputs(model, features)
    predictions = final_step.predict(inputs)
    # Training checks that the labels are 0 and 1, so column 1 is class 1.
    probabilities = final_step.predict_proba(inputs)[:, 1]
    return pd.DataFrame(
        {
            "prediction": predictions.astype(int),
            "probability": probabilities.astype(float),
        },
        index=features.index,
    )
