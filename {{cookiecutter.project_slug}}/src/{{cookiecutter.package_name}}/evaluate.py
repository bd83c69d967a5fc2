"""Score the model on the test set; write the metrics and the plot data.

Outputs (paths from ``params.yaml``):

* ``paths.metrics`` - JSON with accuracy, f1 and roc_auc; ``dvc metrics show``
  and ``dvc metrics diff`` read it.
* ``paths.confusion_matrix`` - CSV ``actual,predicted``, one row per test
  sample; ``dvc plots show`` draws it as a confusion matrix.
* ``paths.roc`` - CSV ``fpr,tpr,threshold``, the points of the ROC curve.
* ``paths.confusion_matrix_image``, ``paths.roc_image`` - the same two plots as
  PNG images (``plots.py``), for the model card and ``dvc plots show``.

``check_thresholds`` compares metrics with the minimums in the ``thresholds``
section of ``params.yaml``; the ``gate`` command uses it to stop CI when the
model gets worse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

from .config import Params, Thresholds
from .data import load_prepared, write_csv
from .plots import save_confusion_matrix, save_roc_curve
from .predict import load_model, predict

# Digits kept in the metrics file: enough to see real changes, short to read.
METRIC_DECIMALS = 4


class MetricsError(ValueError):
    """The metrics file is missing or does not hold the expected numbers."""


def compute_metrics(
    actual: pd.Series, predicted: pd.Series, probability: pd.Series
) -> dict[str, float]:
    """Accuracy, F1 and ROC AUC, rounded to ``METRIC_DECIMALS`` digits.

    ``predicted`` holds the 0/1 predictions and ``probability`` the predicted
    probability of class 1 (ROC AUC needs the probabilities).
    """
    metrics = {
        "accuracy": accuracy_score(actual, predicted),
        "f1": f1_score(actual, predicted),
        "roc_auc": roc_auc_score(actual, probability),
    }
    return {
        name: round(float(value), METRIC_DECIMALS) for name, value in metrics.items()
    }


def write_metrics(metrics: Mapping[str, float], path: Path) -> Path:
    """Write ``metrics`` as JSON with sorted keys, so diffs stay small."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(metrics), indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def read_metrics(path: Path) -> dict[str, float]:
    """Read a metrics file written by ``write_metrics``."""
    if not path.is_file():
        raise MetricsError(
            f"metrics file not found: {path}; run `dvc repro` "
            "(or the `evaluate` command) first"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise MetricsError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise MetricsError(f"{path} must hold a JSON object of metric values")
    metrics = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricsError(f"{path}: metric {name!r} is not a number ({value!r})")
        metrics[name] = float(value)
    return metrics


def write_confusion_data(actual: pd.Series, predicted: pd.Series, path: Path) -> Path:
    """Write one ``actual,predicted`` row per sample for DVC's confusion plot."""
    frame = pd.DataFrame(
        {"actual": np.asarray(actual, dtype=int), "predicted": np.asarray(predicted)}
    )
    return write_csv(frame, path)


def write_roc_data(actual: pd.Series, probability: pd.Series, path: Path) -> Path:
    """Write the ROC curve as ``fpr,tpr,threshold`` rows."""
    fpr, tpr, thresholds = roc_curve(actual, probability)
    # The first threshold is infinite ("predict nothing as class 1"). Write 1.0,
    # the highest probability, so that every CSV reader can parse the file.
    thresholds = np.minimum(thresholds, 1.0)
    frame = pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds})
    return write_csv(frame, path)


def evaluate(params: Params) -> dict[str, float]:
    """Score the saved model on the test CSV, write all outputs, return the metrics."""
    model = load_model(params.paths.model)
    features, actual = load_prepared(params.paths.test, params.data.target)
    result = predict(model, features)
    metrics = compute_metrics(actual, result["prediction"], result["probability"])
    write_metrics(metrics, params.paths.metrics)
    write_confusion_data(actual, result["prediction"], params.paths.confusion_matrix)
    write_roc_data(actual, result["probability"], params.paths.roc)
    save_confusion_matrix(
        actual, result["prediction"], params.paths.confusion_matrix_image
    )
    save_roc_curve(actual, result["probability"], params.paths.roc_image)
    return metrics


def meets_minimum(metrics: Mapping[str, float], name: str, minimum: float) -> bool:
    """True when metric ``name`` is present and at least ``minimum``."""
    return name in metrics and metrics[name] >= minimum


def check_thresholds(
    metrics: Mapping[str, float],
    thresholds: Thresholds,
    params_file: str = "params.yaml",
) -> list[str]:
    """One message per metric that is below its minimum (empty when all pass).

    A metric missing from ``metrics`` counts as a failure too.
    """
    failures = []
    for name, minimum in asdict(thresholds).items():
        setting = f"{params_file} thresholds.{name}"
        if name not in metrics:
            failures.append(
                f"{name} is missing from the metrics (required by {setting})"
            )
        elif not meets_minimum(metrics, name, minimum):
            value = metrics[name]
            failures.append(
                f"{name} {value} is below the minimum {minimum} set in {setting}"
            )
    return failures
