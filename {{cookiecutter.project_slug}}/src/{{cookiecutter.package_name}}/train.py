"""Fit the model on the training set and save it.

The model is a scikit-learn ``Pipeline``: a ``StandardScaler`` followed by a
``LogisticRegression``. Keeping the scaler inside the pipeline means the saved
file does all the preprocessing itself, so the prediction code cannot forget a
step.

To try another model, change ``build_pipeline`` (and add its settings to
``ModelParams`` in ``config.py`` and to ``params.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .config import ModelParams, Params
from .data import load_prepared


def build_pipeline(model_params: ModelParams, seed: int) -> Pipeline:
    """An unfitted scaler + logistic regression pipeline."""
    return Pipeline(
        steps=[
            ("scaler", StandardScaler()),
            (
                "classifier",
                LogisticRegression(
                    C=model_params.C,
                    max_iter=model_params.max_iter,
                    random_state=seed,
                ),
            ),
        ]
    )


def save_model(model: Pipeline, path: Path) -> Path:
    """Save ``model`` to ``path`` with joblib, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def train(params: Params) -> Path:
    """Fit the pipeline on the training CSV and save it; return the model path.

    The features are passed as a DataFrame, so the fitted model remembers the
    column names (``feature_names_in_``) and the prediction code can check them.
    """
    features, labels = load_prepared(params.paths.train, params.data.target)
    model = build_pipeline(params.model, params.seed)
    model.fit(features, labels)
    return save_model(model, params.paths.model)
