"""The model trained with the project's params.yaml must meet its thresholds.

This is the quality gate as a test: it trains with the real settings (seed,
data, model) into a temporary folder and compares every metric with its
minimum under ``thresholds`` in params.yaml. Raising a threshold above what the
model achieves, or changing a setting that makes the model worse, fails it.
"""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.config import MetricLimits, Params
from {{ cookiecutter.package_name }}.quality.metrics import read_metrics

METRIC_NAMES = list(MetricLimits.model_fields)


@pytest.fixture(scope="module")
def metrics(project_run: Params) -> dict[str, float]:
    """Test-set metrics of a model trained exactly as `dvc repro` trains it."""
    return read_metrics(project_run.paths.metrics)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_meets_its_threshold(
    name: str, metrics: dict[str, float], project_run: Params
) -> None:
    minimum = getattr(project_run.thresholds, name)

    assert metrics[name] >= minimum, (
        f"{name} is {metrics[name]}, below the minimum {minimum} set in "
        f"params.yaml thresholds.{name}"
    )
