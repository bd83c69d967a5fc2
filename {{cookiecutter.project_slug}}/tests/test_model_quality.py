"""The model trained with the project's params.yaml must meet its thresholds.

This is the quality gate as a test: it trains with the real settings (seed,
data, model) into a temporary folder and compares every metric with its
minimum under ``thresholds`` in params.yaml. Raising a threshold above what the
model achieves, or changing a setting that makes the model worse, fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import (
    MetricLimits,
    Params,
    load_params,
)
from {{ cookiecutter.package_name }}.data import (
    prepare,
)
from {{ cookiecutter.package_name }}.evaluate import (
    evaluate,
)
from {{ cookiecutter.package_name }}.sources import (
    ingest,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)

METRIC_NAMES = list(MetricLimits.model_fields)


@pytest.fixture(scope="module")
def project_params(
    tmp_path_factory: pytest.TempPathFactory,
    project_params_in: Callable[[Path], dict[str, Any]],
) -> Params:
    """The project's params.yaml, with outputs written to a temporary folder."""
    root = tmp_path_factory.mktemp("quality")
    params_file = root / "params.yaml"
    params_file.write_text(yaml.safe_dump(project_params_in(root)), encoding="utf-8")
    return load_params(params_file)


@pytest.fixture(scope="module")
def metrics(project_params: Params) -> dict[str, float]:
    """Test-set metrics of a model trained exactly as `dvc repro` trains it."""
    ingest(project_params)
    prepare(project_params)
    train(project_params)
    return evaluate(project_params)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_meets_its_threshold(
    name: str, metrics: dict[str, float], project_params: Params
) -> None:
    minimum = getattr(project_params.thresholds, name)

    assert metrics[name] >= minimum, (
        f"{name} is {metrics[name]}, below the minimum {minimum} set in "
        f"params.yaml thresholds.{name}"
    )
