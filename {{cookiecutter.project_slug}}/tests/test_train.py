"""Tests for building, fitting and saving the model."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.package_name }}.config import ModelParams, Params
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.pipeline.train import build_pipeline, train


def test_pipeline_scales_then_classifies() -> None:
    model_params = ModelParams.model_validate(
        {
            "type": "logistic_regression",
            "logistic_regression": {"C": 0.5, "max_iter": 200},
        }
    )
    pipeline = build_pipeline(model_params, seed=7)

    scaler, classifier = (step for _, step in pipeline.steps)
    assert isinstance(scaler, StandardScaler)
    assert isinstance(classifier, LogisticRegression)
    assert classifier.C == 0.5
    assert classifier.max_iter == 200
    assert classifier.random_state == 7


@pytest.mark.parametrize(
    ("model_type", "hyperparameters", "estimator_class"),
    [
        (
            "random_forest",
            {"n_estimators": 20, "max_depth": 4, "min_samples_leaf": 2},
            RandomForestClassifier,
        ),
        (
            "gradient_boosting",
            {"n_estimators": 20, "learning_rate": 0.2, "max_depth": 2},
            GradientBoostingClassifier,
        ),
    ],
)
def test_model_type_names_the_estimator(
    prepared_params: Params,
    model_type: str,
    hyperparameters: dict[str, Any],
    estimator_class: type[BaseEstimator],
) -> None:
    model_params = ModelParams.model_validate(
        {"type": model_type, model_type: hyperparameters}
    )
    pipeline = build_pipeline(model_params, seed=7)

    classifier = pipeline.named_steps["classifier"]
    assert isinstance(classifier, estimator_class)
    chosen = classifier.get_params()
    assert chosen | hyperparameters == chosen
    assert chosen["random_state"] == 7
    features = pd.read_csv(prepared_params.paths.train)
    pipeline.fit(features.drop(columns=["target"]), features["target"])
    assert list(pipeline.classes_) == [0, 1]


def test_train_saves_a_fitted_model(prepared_params: Params) -> None:
    model_path = train(prepared_params)

    assert model_path == prepared_params.paths.model
    model = joblib.load(model_path)
    assert isinstance(model, Pipeline)
    train_columns = pd.read_csv(prepared_params.paths.train).columns
    expected = [column for column in train_columns if column != "target"]
    assert list(model.feature_names_in_) == expected


def test_train_records_when_and_on_what_the_model_was_trained(
    prepared_params: Params,
) -> None:
    model_path = train(prepared_params)

    record = json.loads(prepared_params.paths.training.read_text())
    model_sha256 = hashlib.sha256(model_path.read_bytes()).hexdigest()
    train_rows = len(pd.read_csv(prepared_params.paths.train))
    assert record["model_sha256"] == model_sha256
    assert record["trained_at"].endswith("+00:00")
    assert record["data_source"] == prepared_params.data.source
    assert (record["train_rows"], record["features"]) == (train_rows, 30)


def test_training_is_repeatable(prepared_params: Params) -> None:
    first = joblib.load(train(prepared_params))
    second = joblib.load(train(prepared_params))

    np.testing.assert_array_equal(
        first.named_steps["classifier"].coef_,
        second.named_steps["classifier"].coef_,
    )


def test_train_without_prepared_data_explains_what_to_run(params: Params) -> None:
    with pytest.raises(DataError, match="dvc repro"):
        train(params)
