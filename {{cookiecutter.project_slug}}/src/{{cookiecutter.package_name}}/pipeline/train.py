"""Fit the model on the training set and save it.

The model is a scikit-learn ``Pipeline``: a ``StandardScaler`` followed by the
estimator that ``model.type`` in ``params.yaml`` names, built with that
estimator's hyperparameters from the same file. Keeping the scaler inside the
pipeline means the saved file does all the preprocessing itself, so the
prediction code cannot forget a step.

To try another estimator for one run: ``dvc exp run -S model.type=random_forest``.
To add one: a class of its hyperparameters and a section in ``ModelParams``
(``config.py``), its name in ``ModelType``, its class in ``ESTIMATORS`` below
and its section in ``params.yaml``.

Beside the model, ``train`` writes its data contract
(``<paths.model>.schema.json``, ``model/schema.py``): the feature columns, their
type, the range the training data spans and the largest value the model takes.

``train`` also writes a small JSON record of the run
(``paths.training``): when it ran, the model file's SHA-256, the data source
and the size of the training set. The model card shows it. Nothing depends on
that file, so its timestamp never makes DVC re-run a stage.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import joblib
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..config import ModelParams, ModelType, Params
from ..model.integrity import file_sha256
from ..model.schema import derive_contract, schema_path, write_contract
from .prepare import load_prepared

# The scikit-learn class of each ``model.type``.
ESTIMATORS: dict[ModelType, type[ClassifierMixin]] = {
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
    "gradient_boosting": GradientBoostingClassifier,
}


def build_pipeline(model_params: ModelParams, seed: int) -> Pipeline:
    """An unfitted pipeline: the scaler, then the estimator ``model.type`` names."""
    estimator = ESTIMATORS[model_params.type](
        **model_params.hyperparameters(), random_state=seed
    )
    return Pipeline(steps=[("scaler", StandardScaler()), ("classifier", estimator)])


def save_model(model: Pipeline, path: Path) -> Path:
    """Save ``model`` to ``path`` with joblib, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def write_training_record(
    model_path: Path, features: pd.DataFrame, source: str, path: Path
) -> Path:
    """Write when and on what the model at ``model_path`` was trained, as JSON."""
    record = {
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_sha256": file_sha256(model_path),
        "data_source": source,
        "train_rows": len(features),
        "features": features.shape[1],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def train(params: Params) -> Path:
    """Fit the pipeline on the training CSV and save it; return the model path.

    The features are passed as a DataFrame, so the fitted model remembers the
    column names (``feature_names_in_``) and the prediction code can check them.
    """
    features, labels = load_prepared(params.paths.train, params.data.target)
    model = build_pipeline(params.model, params.seed)
    model.fit(features, labels)
    model_path = save_model(model, params.paths.model)
    write_contract(derive_contract(features, model), schema_path(model_path))
    write_training_record(
        model_path, features, params.data.source, params.paths.training
    )
    return model_path
