"""Tests for loading, validating and splitting the data."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.pipeline.ingest import ingest, load_raw
from {{ cookiecutter.package_name }}.pipeline.prepare import MIN_ROWS, load_prepared
from {{ cookiecutter.package_name }}.pipeline.prepare import prepare
from {{ cookiecutter.package_name }}.pipeline.prepare import split, validate
from {{ cookiecutter.package_name }}.pipeline.tables import normalise_columns
from {{ cookiecutter.package_name }}.pipeline.tables import to_snake_case


def small_frame(rows: int = MIN_ROWS) -> pd.DataFrame:
    """A valid dataset: two numeric features and a 0/1 target."""
    return pd.DataFrame(
        {
            "height": [float(index) for index in range(rows)],
            "weight": [float(index % 7) for index in range(rows)],
            "target": [index % 2 for index in range(rows)],
        }
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mean radius", "mean_radius"),
        ("Worst Area (cm2)", "worst_area_cm2"),
        ("  already_snake ", "already_snake"),
        ("2nd value", "column_2nd_value"),
    ],
)
def test_to_snake_case(name: str, expected: str) -> None:
    assert to_snake_case(name) == expected


def test_to_snake_case_rejects_names_without_letters_or_digits() -> None:
    with pytest.raises(DataError, match="no letters or digits"):
        to_snake_case("%%")


def test_normalise_columns_rejects_names_that_collide() -> None:
    frame = pd.DataFrame({"Mean Radius": [1], "mean_radius": [2]})

    with pytest.raises(DataError, match="'Mean Radius' and 'mean_radius'"):
        normalise_columns(frame)


def test_bundled_dataset_loads_with_snake_case_columns(
    breast_cancer: pd.DataFrame,
) -> None:
    assert breast_cancer.shape == (569, 31)
    assert "mean_radius" in breast_cancer.columns
    assert set(breast_cancer["target"]) == {0, 1}
    assert all(column.isidentifier() for column in breast_cancer.columns)


def test_bundled_dataset_uses_the_configured_target_name() -> None:
    frame = load_raw("sklearn:breast_cancer", "diagnosis")

    assert "diagnosis" in frame.columns
    assert "target" not in frame.columns


def test_unknown_bundled_dataset_lists_the_known_ones() -> None:
    with pytest.raises(DataError, match="sklearn:breast_cancer"):
        load_raw("sklearn:iris", "target")


def test_csv_file_is_loaded_with_snake_case_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "raw.csv"
    csv_path.write_text("Mean Radius,Target\n1.5,0\n2.5,1\n", encoding="utf-8")

    frame = load_raw(str(csv_path), "target")

    assert list(frame.columns) == ["mean_radius", "target"]
    assert frame["mean_radius"].tolist() == [1.5, 2.5]


def test_missing_csv_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_file.csv"

    with pytest.raises(DataError, match="data file not found: .*no_such_file.csv"):
        load_raw(str(missing), "target")


def test_empty_csv_file_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")

    with pytest.raises(DataError, match="could not read .*empty.csv as CSV"):
        load_raw(str(empty), "target")


def test_url_source_is_read_by_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    requested = []

    def fake_read_csv(source: str) -> pd.DataFrame:
        requested.append(source)
        return pd.DataFrame({"Mean Radius": [1.0], "target": [1]})

    monkeypatch.setattr(pd, "read_csv", fake_read_csv)

    frame = load_raw("https://example.com/data.csv", "target")

    assert requested == ["https://example.com/data.csv"]
    assert list(frame.columns) == ["mean_radius", "target"]


def test_failed_download_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_read_csv(source: str) -> pd.DataFrame:
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(pd, "read_csv", failing_read_csv)

    with pytest.raises(DataError, match="could not download https://example.com/x"):
        load_raw("https://example.com/x.csv", "target")


def test_valid_data_passes_validation(breast_cancer: pd.DataFrame) -> None:
    validate(breast_cancer, "target")
    validate(small_frame(), "target")


def test_missing_target_column_is_named() -> None:
    with pytest.raises(DataError, match="target column 'label' not found"):
        validate(small_frame(), "label")


def test_data_without_features_is_rejected() -> None:
    frame = small_frame()[["target"]]

    with pytest.raises(DataError, match="no feature columns"):
        validate(frame, "target")


def test_non_numeric_feature_is_named() -> None:
    frame = small_frame()
    frame["colour"] = "red"

    message = r"data: column 'colour' must hold numbers \(got 'red' in row 0\)"
    with pytest.raises(DataError, match=message):
        validate(frame, "target")


def test_a_missing_value_is_named_with_its_row() -> None:
    frame = small_frame()
    frame.loc[3, "weight"] = None

    with pytest.raises(DataError, match="'weight' has a missing value in row 3"):
        validate(frame, "target")


@pytest.mark.parametrize("labels", [[0, 1, 2], [0, 0, 0], ["no", "yes", "no"]])
def test_target_must_be_binary_zero_one(labels: list[int | str]) -> None:
    frame = small_frame()
    frame["target"] = [labels[index % len(labels)] for index in range(len(frame))]

    with pytest.raises(DataError, match="must hold both 0 and 1"):
        validate(frame, "target")


def test_too_few_rows_are_rejected() -> None:
    with pytest.raises(DataError, match=f"at least {MIN_ROWS} are needed"):
        validate(small_frame(rows=MIN_ROWS - 1), "target")


def test_split_is_stratified_and_repeatable(breast_cancer: pd.DataFrame) -> None:
    train, test = split(breast_cancer, "target", test_size=0.2, seed=42)
    train_again, test_again = split(breast_cancer, "target", test_size=0.2, seed=42)

    assert len(train) + len(test) == len(breast_cancer)
    # Each class gives a fifth of its rows (rounded) to the test set.
    assert abs(len(test) - 0.2 * len(breast_cancer)) < 2
    assert train.index.intersection(test.index).empty
    share = breast_cancer["target"].mean()
    assert train["target"].mean() == pytest.approx(share, abs=0.01)
    assert test["target"].mean() == pytest.approx(share, abs=0.01)
    assert test.index.equals(test_again.index)


def test_ingest_writes_the_same_snapshot_for_the_same_data(params: Params) -> None:
    first = ingest(params).read_bytes()
    assert ingest(params).read_bytes() == first
    assert pd.read_csv(params.paths.raw).shape == (569, 31)


def test_prepare_needs_the_snapshot(params: Params) -> None:
    with pytest.raises(DataError, match="run `dvc repro`"):
        prepare(params)


def test_prepare_writes_train_and_test_csv(params: Params) -> None:
    ingest(params)
    train_path, test_path = prepare(params)

    train = pd.read_csv(train_path)
    test = pd.read_csv(test_path)
    assert train_path == params.paths.train
    assert len(train) + len(test) == 569
    assert list(train.columns) == list(test.columns)
    assert train["target"].dtype.kind == "i"


def test_load_prepared_splits_features_and_labels(prepared_params: Params) -> None:
    features, labels = load_prepared(prepared_params.paths.train, "target")

    assert "target" not in features.columns
    assert len(features) == len(labels)


def test_load_prepared_explains_how_to_create_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dvc repro"):
        load_prepared(tmp_path / "train.csv", "target")
