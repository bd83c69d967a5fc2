"""Tests for batch scoring: chunks, the model version, and tables that do not fit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.model.predict import load_model, predict
from {{ cookiecutter.package_name }}.model.schema import ContractError
from {{ cookiecutter.package_name }}.monitoring.batch import OUTPUT_COLUMNS
from {{ cookiecutter.package_name }}.monitoring.batch import BatchInputError
from {{ cookiecutter.package_name }}.monitoring.batch import score_table


@pytest.fixture
def features(trained_params: Params) -> pd.DataFrame:
    """The test set's feature columns (no target)."""
    return pd.read_csv(trained_params.paths.test).drop(columns=["target"])


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_scores_in_chunks_like_predict(
    trained_params: Params, features: pd.DataFrame, tmp_path: Path
) -> None:
    table = write(features, tmp_path / "input.csv")
    result = score_table(trained_params.paths.model, table, tmp_path / "out.csv", 25)
    scored = pd.read_csv(result.output)
    expected = predict(load_model(trained_params.paths.model), features)
    assert list(scored.columns) == list(OUTPUT_COLUMNS)
    assert result.rows == len(features) and result.chunks == -(-len(features) // 25)
    assert scored["row"].tolist() == list(range(len(features)))
    assert scored["prediction"].tolist() == expected["prediction"].tolist()
    assert scored["probability"].tolist() == pytest.approx(
        expected["probability"].tolist()
    )
    # The model's identity, as /health and the model card name it.
    sha256 = hashlib.sha256(trained_params.paths.model.read_bytes()).hexdigest()
    assert set(scored["model_version"]) == {sha256[:12]} == {result.model_version}
    assert scored["scored_at"].nunique() == 1


def test_columns_may_come_in_any_order(
    trained_params: Params, features: pd.DataFrame, tmp_path: Path
) -> None:
    table = write(features[features.columns[::-1]], tmp_path / "input.csv")
    result = score_table(trained_params.paths.model, table, tmp_path / "out.csv", 1000)
    assert result.rows == len(features)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda f: f.drop(columns=["mean_area"]),
            ContractError,
            "feature column 'mean_area' is missing",
        ),
        (
            lambda f: f.assign(customer="c1"),
            ContractError,
            "column 'customer' is not a feature",
        ),
        (lambda f: f.head(0), BatchInputError, "has no rows"),
    ],
)
def test_a_table_that_does_not_fit_is_refused(
    trained_params: Params,
    features: pd.DataFrame,
    tmp_path: Path,
    change: Callable[[pd.DataFrame], pd.DataFrame],
    error: type[Exception],
    message: str,
) -> None:
    table = write(change(features), tmp_path / "input.csv")
    with pytest.raises(error, match=message):
        score_table(trained_params.paths.model, table, tmp_path / "out.csv", 10)
    assert not (tmp_path / "out.csv").exists()


def test_text_in_a_late_chunk_leaves_the_old_output_alone(
    trained_params: Params, features: pd.DataFrame, tmp_path: Path
) -> None:
    output = tmp_path / "out.csv"
    output.write_text("yesterday's predictions\n")
    bad = features.astype(object)
    bad.loc[bad.index[60], "mean_texture"] = "n/a"
    table = write(bad, tmp_path / "input.csv")
    with pytest.raises(ContractError, match=r"'mean_texture'.*'n/a' in row 60"):
        score_table(trained_params.paths.model, table, output, 25)
    assert output.read_text() == "yesterday's predictions\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
