"""Tests for loading the model and predicting new rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.errors import DataError, ModelNotFoundError
from {{ cookiecutter.package_name }}.model.predict import feature_names, load_model
from {{ cookiecutter.package_name }}.model.predict import predict


@pytest.fixture
def model(trained_params: Params) -> Pipeline:
    """The model trained on the bundled dataset."""
    return load_model(trained_params.paths.model)


@pytest.fixture
def rows(trained_params: Params) -> pd.DataFrame:
    """A few test rows, with the target column still in them."""
    return pd.read_csv(trained_params.paths.test).head(10)


def test_missing_model_tells_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as error:
        load_model(tmp_path / "model.joblib")

    assert isinstance(error.value, FileNotFoundError)
    assert "dvc repro" in str(error.value)
    assert "dvc pull" in str(error.value)


def test_feature_names_come_from_the_model(model: Pipeline) -> None:
    names = feature_names(model)

    assert len(names) == 30
    assert "mean_radius" in names
    assert "target" not in names


def test_predict_returns_class_and_probability(
    model: Pipeline, rows: pd.DataFrame
) -> None:
    result = predict(model, rows)

    assert list(result.columns) == ["prediction", "probability"]
    assert result.index.equals(rows.index)
    assert result["prediction"].dtype.kind == "i"
    assert result["probability"].dtype.kind == "f"
    assert result["probability"].between(0.0, 1.0).all()
    assert (result["prediction"] == (result["probability"] > 0.5)).all()


def test_column_order_and_extra_columns_do_not_matter(
    model: Pipeline, rows: pd.DataFrame
) -> None:
    shuffled = rows[list(reversed(rows.columns))].assign(comment="extra")

    pd.testing.assert_frame_equal(predict(model, shuffled), predict(model, rows))


def test_missing_feature_column_is_named(model: Pipeline, rows: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="feature column 'mean_radius' is missing"):
        predict(model, rows.drop(columns=["mean_radius"]))


def test_non_numeric_feature_is_named(model: Pipeline, rows: pd.DataFrame) -> None:
    rows = rows.assign(mean_radius="large")

    message = r"input: column 'mean_radius' must hold numbers \(got 'large' in row"
    with pytest.raises(DataError, match=message):
        predict(model, rows)


def test_missing_value_is_named(model: Pipeline, rows: pd.DataFrame) -> None:
    rows.loc[rows.index[0], "mean_area"] = None

    with pytest.raises(DataError, match="'mean_area' has a missing value in row"):
        predict(model, rows)


def test_empty_input_is_rejected(model: Pipeline, rows: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="no rows"):
        predict(model, rows.head(0))
