"""Tests for the drift check: what counts as drift, and the two reports."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.monitoring.drift import check_table, compare
from {{ cookiecutter.package_name }}.monitoring.drift import write_report


@pytest.fixture
def reference(trained_params: Params) -> pd.DataFrame:
    """The training data's feature columns."""
    return pd.read_csv(trained_params.paths.train).drop(columns=["target"])


def test_the_training_data_has_not_drifted(
    trained_params: Params, reference: pd.DataFrame, tmp_path: Path
) -> None:
    table = tmp_path / "same.csv"
    reference.to_csv(table, index=False)
    params = trained_params
    report = check_table(
        params.paths.train, params.paths.model, str(table), params.drift, 100
    )
    assert report.drifted == [] and len(report.features) == reference.shape[1]


def test_a_shifted_feature_drifts_and_no_other(
    trained_params: Params, reference: pd.DataFrame
) -> None:
    moved = reference.copy()
    moved["mean_radius"] += 2 * moved["mean_radius"].std()
    report = compare(reference, moved, trained_params.drift, "moved.csv")
    assert report.drifted == ["mean_radius"]
    (feature,) = [f for f in report.features if f.drifted]
    assert feature.reasons[0].startswith("distribution: KS statistic")
    assert feature.out_of_range > 0


def test_a_few_rows_outside_the_training_range_are_tolerated(
    trained_params: Params, reference: pd.DataFrame
) -> None:
    new = reference.copy()
    new.loc[new.index[:5], "worst_area"] = reference["worst_area"].max() * 10
    report = compare(reference, new, trained_params.drift, "new.csv")
    assert report.drifted == []  # 5 of ~450 rows: about 1%, below the 5% limit


def test_missing_values_beyond_the_limit_are_drift(
    trained_params: Params, reference: pd.DataFrame
) -> None:
    new = reference.copy()
    new.loc[new.index[::5], "mean_texture"] = np.nan
    report = compare(reference, new, trained_params.drift, "new.csv")
    assert report.drifted == ["mean_texture"]
    (feature,) = [f for f in report.features if f.drifted]
    assert len(feature.reasons) == 1 and feature.reasons[0].startswith("missing: 20.")


def test_reports_for_machines_and_for_people(
    trained_params: Params, reference: pd.DataFrame, tmp_path: Path
) -> None:
    moved = reference.assign(mean_area=reference["mean_area"] * 3)
    report = compare(reference, moved, trained_params.drift, "moved.csv")
    json_path, markdown_path = write_report(report, tmp_path / "drift.json")
    data = json.loads(json_path.read_text())
    assert data["drift"] is True and data["drifted_features"] == ["mean_area"]
    assert data["limits"]["p_value"] == trained_params.drift.p_value
    markdown = markdown_path.read_text()
    assert "**Drift** in 1 of 30 features" in markdown
    assert markdown.index("| mean_area |") < markdown.index("| mean_radius |")


def peak_memory_of_check(
    params: Params, reference: pd.DataFrame, rows: int, path: Path
) -> tuple[int, int]:
    """The peak memory of the drift check of ``rows`` rows, 500 at a time, and
    the size of those rows in memory (tracemalloc counts numpy's and pandas'
    arrays)."""
    table = reference.sample(rows, replace=True, random_state=0)
    table.to_csv(path, index=False)
    whole = int(table.memory_usage(index=False).sum())
    del table
    tracemalloc.start()
    try:
        report = check_table(
            params.paths.train, params.paths.model, str(path), params.drift, 500
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.rows == rows
    return peak, whole


def test_memory_depends_on_the_chunk_size_not_on_the_table(
    trained_params: Params, reference: pd.DataFrame, tmp_path: Path
) -> None:
    # The first check loads what pandera loads once: not measured.
    peak_memory_of_check(trained_params, reference, 500, tmp_path / "first.csv")
    small_peak, small = peak_memory_of_check(
        trained_params, reference, 2_500, tmp_path / "small.csv"
    )
    large_peak, large = peak_memory_of_check(
        trained_params, reference, 10_000, tmp_path / "large.csv"
    )
    # Four times the rows: the peak may not grow by a quarter of the extra rows
    # (measured: 0.13 MB in chunks of 500; 5.4 MB with the table in one chunk).
    growth = large_peak - small_peak
    assert growth < (large - small) / 4, (
        f"peak {small_peak} bytes for {small} bytes of table,"
        f" {large_peak} bytes for {large}"
    )


@pytest.mark.parametrize("chunk_size", [7, 100, 100_000])
def test_the_statistics_are_scipys_on_the_whole_table(
    trained_params: Params, reference: pd.DataFrame, tmp_path: Path, chunk_size: int
) -> None:
    # Ties (rounded values), missing values, a shift and values outside the
    # training range: each chunking gives the figures of ks_2samp on everything.
    new = reference.sample(700, replace=True, random_state=1).round(1)
    new["mean_radius"] += 2 * new["mean_radius"].std()
    new.loc[new.index[::9], "mean_texture"] = np.nan
    new.loc[new.index[:3], "worst_area"] = reference["worst_area"].max() * 10
    table = tmp_path / "new.csv"
    new.to_csv(table, index=False)
    whole = pd.read_csv(table)
    params = trained_params
    report = check_table(
        params.paths.train, params.paths.model, str(table), params.drift, chunk_size
    )
    assert report.rows == len(whole)
    for feature in report.features:
        known, present = reference[feature.name].dropna(), whole[feature.name].dropna()
        expected = ks_2samp(known, present, method="asymp")
        assert feature.statistic == pytest.approx(expected.statistic, abs=1e-12)
        assert feature.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert feature.missing == pytest.approx(whole[feature.name].isna().mean())
        outside = (present < known.min()) | (present > known.max())
        assert feature.out_of_range == pytest.approx(outside.sum() / len(whole))
    assert "mean_radius" in report.drifted
