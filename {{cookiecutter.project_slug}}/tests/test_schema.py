"""Tests for the model's data contract: what train stores, and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.model.predict import feature_names, load_model
from {{ cookiecutter.package_name }}.model.schema import ContractError, check_frame
from {{ cookiecutter.package_name }}.model.schema import check_names, input_schema
from {{ cookiecutter.package_name }}.model.schema import read_contract, schema_path
from {{ cookiecutter.package_name }}.model.schema import value_limits

# Two features, each at most 10 in magnitude.
SCHEMA = input_schema(["a", "b"], [10.0, 10.0])
GOOD = {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}


def test_train_stores_the_contract_beside_the_model(trained_params: Params) -> None:
    model_path = trained_params.paths.model
    model = load_model(model_path)
    training = pd.read_csv(trained_params.paths.train).drop(columns=["target"])

    contract = read_contract(model_path)

    assert schema_path(model_path).parent == model_path.parent
    assert contract.names == feature_names(model) == list(training.columns)
    assert contract.limits == value_limits(model)
    for feature in contract.features:
        assert feature.type == "float64"
        assert feature.minimum == training[feature.name].min()
        assert feature.maximum == training[feature.name].max()


def test_a_missing_contract_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"model.joblib.schema.json not found.*dvc"):
        read_contract(tmp_path / "model.joblib")


def test_a_contract_of_other_features_is_refused(trained_params: Params) -> None:
    contract = read_contract(trained_params.paths.model)

    with pytest.raises(DataError, match="names other features than"):
        check_names(contract, ["another"], trained_params.paths.model)


def test_a_table_that_keeps_the_contract_comes_back_as_floats() -> None:
    frame = pd.DataFrame({"b": [4, 5, 6], "a": ["1.5", "2", "3"]})

    checked = check_frame(SCHEMA, frame, "t.csv")

    assert checked.dtypes.tolist() == [np.float64, np.float64]
    assert checked["a"].tolist() == [1.5, 2.0, 3.0]


@pytest.mark.parametrize(
    ("column", "value", "message", "row"),
    [
        ("a", "n/a", "t.csv: column 'a' must hold numbers (got 'n/a' in row 1)", 1),
        ("b", None, "t.csv: column 'b' has a missing value in row 1", 1),
        (
            "a",
            float("inf"),
            "t.csv: column 'a' must hold finite numbers (got inf in row 1)",
            1,
        ),
        (
            "b",
            11.0,
            "t.csv: column 'b' is too large for the model: it becomes infinite"
            " after scaling (got 11 in row 1)",
            1,
        ),
        (
            "c",
            1.0,
            "t.csv: column 'c' is not a feature of the model; remove it"
            " (the input holds the feature columns only)",
            None,
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_column_rule_and_value(
    column: str, value: float | str | None, message: str, row: int | None
) -> None:
    frame = pd.DataFrame(GOOD).astype(object)
    frame.loc[1, column] = value
    # Only the first bad row is named (a column whose text cannot be read as
    # numbers gets no other check: the later text is in the other column).
    frame.loc[2, "b" if column == "a" else "a"] = "later"

    with pytest.raises(ContractError) as error:
        check_frame(SCHEMA, frame, "t.csv")

    assert str(error.value) == message
    assert (error.value.column, error.value.row) == (column, row)


def test_a_missing_column_comes_before_the_values() -> None:
    frame = pd.DataFrame({"a": ["x", "y", "z"]})

    with pytest.raises(ContractError) as error:
        check_frame(SCHEMA, frame, "t.csv")

    assert str(error.value) == (
        "t.csv: feature column 'b' is missing (the model needs 2 feature columns)"
    )
