"""Tests for the metrics, the plot data and the threshold check."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import MetricLimits, Params
from {{ cookiecutter.package_name }}.errors import MetricsError
from {{ cookiecutter.package_name }}.pipeline.evaluate import compute_metrics
from {{ cookiecutter.package_name }}.quality.metrics import check_thresholds
from {{ cookiecutter.package_name }}.quality.metrics import read_metrics
from {{ cookiecutter.package_name }}.quality.metrics import write_metrics

THRESHOLDS = MetricLimits(accuracy=0.9, f1=0.9, roc_auc=0.95)


def test_perfect_predictions_score_one() -> None:
    actual = pd.Series([0, 1, 1, 0])

    metrics = compute_metrics(actual, actual, pd.Series([0.1, 0.9, 0.8, 0.2]))

    assert metrics == {"accuracy": 1.0, "f1": 1.0, "roc_auc": 1.0}


def test_metrics_file_is_sorted_indented_json(tmp_path: Path) -> None:
    path = write_metrics({"roc_auc": 0.5, "accuracy": 0.75}, tmp_path / "m.json")

    assert path.read_text() == '{\n  "accuracy": 0.75,\n  "roc_auc": 0.5\n}\n'
    assert read_metrics(path) == {"accuracy": 0.75, "roc_auc": 0.5}


def test_evaluate_writes_metrics(evaluated_params: Params) -> None:
    metrics = json.loads(evaluated_params.paths.metrics.read_text())

    assert sorted(metrics) == ["accuracy", "f1", "roc_auc"]
    for value in metrics.values():
        assert isinstance(value, float)
        assert 0.0 <= value <= 1.0


def test_evaluate_writes_one_confusion_row_per_test_sample(
    evaluated_params: Params,
) -> None:
    confusion = pd.read_csv(evaluated_params.paths.confusion_matrix)
    test = pd.read_csv(evaluated_params.paths.test)

    assert list(confusion.columns) == ["actual", "predicted"]
    assert len(confusion) == len(test)
    assert confusion["actual"].tolist() == test["target"].tolist()
    assert set(confusion["predicted"]) <= {0, 1}


def test_evaluate_writes_the_roc_curve(evaluated_params: Params) -> None:
    roc = pd.read_csv(evaluated_params.paths.roc)

    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert (roc["fpr"].iloc[0], roc["tpr"].iloc[0]) == (0.0, 0.0)
    assert (roc["fpr"].iloc[-1], roc["tpr"].iloc[-1]) == (1.0, 1.0)
    assert roc["fpr"].is_monotonic_increasing
    assert all(math.isfinite(value) for value in roc["threshold"])


def test_evaluate_draws_the_plots_as_png_images(evaluated_params: Params) -> None:
    for path in (
        evaluated_params.paths.confusion_matrix_image,
        evaluated_params.paths.roc_image,
    ):
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), path


def test_thresholds_that_are_met_give_no_failures() -> None:
    metrics = {"accuracy": 0.95, "f1": 0.9, "roc_auc": 0.99}

    assert check_thresholds(metrics, THRESHOLDS) == []


def test_each_metric_below_its_minimum_is_explained() -> None:
    metrics = {"accuracy": 0.95, "f1": 0.85, "roc_auc": 0.81}

    assert check_thresholds(metrics, THRESHOLDS) == [
        "f1 0.85 is below the minimum 0.9 set in params.yaml thresholds.f1",
        "roc_auc 0.81 is below the minimum 0.95 set in params.yaml thresholds.roc_auc",
    ]


def test_a_missing_metric_is_a_failure() -> None:
    failures = check_thresholds({"accuracy": 1.0, "f1": 1.0}, THRESHOLDS)

    assert failures == [
        "roc_auc is missing from the metrics (required by params.yaml "
        "thresholds.roc_auc)"
    ]


def test_read_metrics_explains_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="metrics file not found"):
        read_metrics(tmp_path / "metrics.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[0.9]", "must hold a JSON object"),
        ('{"accuracy": "high"}', "metric 'accuracy' is not a number"),
    ],
)
def test_read_metrics_rejects_bad_content(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(content)

    with pytest.raises(MetricsError, match=message):
        read_metrics(path)
