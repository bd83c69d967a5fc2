"""Draw the evaluation plots as PNG images, with scikit-learn's display classes.

The ``evaluate`` stage calls these functions. The images go into the model card
of the documentation site, and ``dvc plots show`` lists them as image plots,
which need no network to view; the CSV plot data next to them stays for the
interactive plots of ``dvc plots show`` and ``dvc plots diff``.

matplotlib comes with the ``dev`` extra, like DVC: it is imported inside the
functions so that the rest of the package (the server's image, for example)
works without it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Size of each image in inches, and its resolution: 500 x 400 pixels.
FIGURE_SIZE = (5.0, 4.0)
DPI = 100
# Decimals of the AUC in the ROC curve's legend: as many as the metrics file
# and the model card's table give (evaluate.METRIC_DECIMALS).
AUC_DECIMALS = 4


def new_figure() -> tuple[Figure, Axes]:
    """A figure with one plot area, outside pyplot (no window, no global state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    return figure, figure.subplots()


def figure_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes."""
    buffer = io.BytesIO()
    # No "Software" tag: the same plot gives the same bytes on every machine.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def save_figure(figure: Figure, path: Path) -> Path:
    """Save ``figure`` as a PNG file at ``path``, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_png(figure))
    return path


def save_confusion_matrix(
    actual: pd.Series,
    predicted: pd.Series,
    path: Path,
    class_names: list[str] | None = None,
) -> Path:
    """Draw the confusion matrix of 0/1 ``predicted`` labels against ``actual``.

    The axes name the classes by ``class_names`` (for 0, then 1) when given,
    else by the labels themselves.
    """
    figure, axes = new_figure()
    ConfusionMatrixDisplay.from_predictions(
        actual,
        predicted,
        ax=axes,
        colorbar=False,
        cmap="Blues",
        display_labels=class_names,
    )
    axes.set_title("Confusion matrix (test set)")
    return save_figure(figure, path)


def save_roc_curve(
    actual: pd.Series, probability: pd.Series, path: Path, positive: str = "1"
) -> Path:
    """Draw the ROC curve of the predicted probabilities of class 1 (``positive``)."""
    figure, axes = new_figure()
    display = RocCurveDisplay.from_predictions(
        actual, probability, ax=axes, name="model", plot_chance_level=True
    )
    # scikit-learn's legend gives the AUC with two decimals (1.00 for 0.9973).
    display.line_.set_label(f"model (AUC = {display.roc_auc:.{AUC_DECIMALS}f})")
    axes.legend(loc="lower right")
    axes.set_xlabel(f"False positive rate (positive class: {positive})")
    axes.set_ylabel(f"True positive rate (positive class: {positive})")
    axes.set_title("ROC curve (test set)")
    return save_figure(figure, path)
