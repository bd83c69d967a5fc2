"""Tests for the drift check: what counts as drift, and the two reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    Params,
)
from {{ cookiecutter.package_name }}.drift import (
    check_table,
    compare,
    write_report,
)


@pytest.fixture
def reference(prepared_params: Params) -> pd.DataFrame:
    """The training data's feature columns."""
    return pd.read_csv(prepared_params.paths.train).drop(columns=["target"])


def test_the_training_data_has_not_drifted(
    prepared_params: Params, reference: pd.DataFrame, tmp_path: Path
) -> None:
    table = tmp_path / "same.csv"
    reference.to_csv(table, index=False)
    params = prepared_params
    report = check_table(params.paths.train, "target", str(table), params.drift, 100)
    assert report.drifted == [] and len(report.features) == reference.shape[1]


def test_a_shifted_feature_drifts_and_no_other(
    prepared_params: Params, reference: pd.DataFrame
) -> None:
    moved = reference.copy()
    moved["mean_radius"] += 2 * moved["mean_radius"].std()
    report = compare(reference, moved, prepared_params.drift, "moved.csv")
    assert report.drifted == ["mean_radius"]
    (feature,) = [f for f in report.features if f.drifted]
    assert feature.reasons[0].startswith("distribution: KS statistic")
    assert feature.out_of_range > 0


def test_a_few_rows_outside_the_training_range_are_tolerated(
    prepared_params: Params, reference: pd.DataFrame
) -> None:
    new = reference.copy()
    new.loc[new.index[:5], "worst_area"] = reference["worst_area"].max() * 10
    report = compare(reference, new, prepared_params.drift, "new.csv")
    assert report.drifted == []  # 5 of ~450 rows: about 1%, below the 5% limit


def test_missing_values_beyond_the_limit_are_drift(
    prepared_params: Params, reference: pd.DataFrame
) -> None:
    new = reference.copy()
    new.loc[new.index[::5], "mean_texture"] = np.nan
    report = compare(reference, new, prepared_params.drift, "new.csv")
    assert report.drifted == ["mean_texture"]
    (feature,) = [f for f in report.features if f.drifted]
    assert len(feature.reasons) == 1 and feature.reasons[0].startswith("missing: 20.")


def test_reports_for_machines_and_for_people(
    prepared_params: Params, reference: pd.DataFrame, tmp_path: Path
) -> None:
    moved = reference.assign(mean_area=reference["mean_area"] * 3)
    report = compare(reference, moved, prepared_params.drift, "moved.csv")
    json_path, markdown_path = write_report(report, tmp_path / "drift.json")
    data = json.loads(json_path.read_text())
    assert data["drift"] is True and data["drifted_features"] == ["mean_area"]
    assert data["limits"]["p_value"] == prepared_params.drift.p_value
    markdown = markdown_path.read_text()
    assert "**Drift** in 1 of 30 features" in markdown
    assert markdown.index("| mean_area |") < markdown.index("| mean_radius |")
