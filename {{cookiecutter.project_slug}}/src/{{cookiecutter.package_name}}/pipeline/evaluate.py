"""Score the model on the test set; write the metrics and the plot data.

Outputs (paths from ``params.yaml``):

* ``paths.metrics`` - JSON with accuracy, f1 and roc_auc; ``dvc metrics show``
  and ``dvc metrics diff`` read it.
* ``paths.confusion_matrix`` - CSV ``actual,predicted``, one row per test
  sample; ``dvc plots show`` draws it as a confusion matrix.
* ``paths.roc`` - CSV ``fpr,tpr,threshold``, the points of the ROC curve.
* ``paths.confusion_matrix_image``, ``paths.roc_image`` - the same two plots as
  PNG images (``pipeline/plots.py``), for the model card and ``dvc plots show``.

Reading the metrics back and comparing them with the minimums in
``params.yaml`` is ``quality/metrics.py``'s job, which the ``gate`` command uses
without loading scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

from ..config import Params
from ..model.predict import load_model, predict
from ..quality.metrics import write_metrics
from .ingest import class_names
from .plots import save_confusion_matrix, save_roc_curve
from .prepare import load_prepared
from .tables import write_csv

# Digits kept in the metrics file: enough to see real changes, short to read.
METRIC_DECIMALS = 4


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
    names = class_names(params.data.source)
    save_confusion_matrix(
        actual, result["prediction"], params.paths.confusion_matrix_image, names
    )
    positive = names[1] if names else "1"
    save_roc_curve(actual, result["probability"], params.paths.roc_image, positive)
    return metrics
