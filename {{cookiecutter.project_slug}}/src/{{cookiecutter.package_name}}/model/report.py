"""Describe the current model in Markdown, for the documentation's model card.

``docs/model-card.md`` calls ``model_card()`` from a ``python exec="on"``
block, which the markdown-exec plugin runs while the site is built (with MkDocs
or Zensical). So the card shows the files of the checkout it is built from -
``reports/metrics.json``, ``reports/training.json``, the plot images, the
model's data contract and ``params.yaml`` - and no number is ever copied by
hand. Before the pipeline has
run, it says what to run instead of failing the build.

Images are embedded in the page as ``data:`` URLs, so they need no copying
into the site and work with either builder.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import DEFAULT_PARAMS_FILE, Params, load_params
from ..pipeline.ingest import class_names
from ..quality.metrics import meets_minimum, read_metrics
from .integrity import MODEL_ID_LENGTH, ModelIdentity, head_registration, lock_beside
from .schema import read_contract, schema_path

# Shown instead of the model card while the pipeline has not run in this checkout.
NOT_TRAINED = """!!! note "No trained model in this checkout"
    The model card is filled in from the pipeline's outputs, and there are none
    yet. Run `make repro` to train the model (or `dvc pull` to download it), then
    build the documentation again."""


def image(alt: str, png: bytes) -> str:
    """A Markdown image whose picture is embedded in the page."""
    encoded = base64.b64encode(png).decode("ascii")
    return f"![{alt}](data:image/png;base64,{encoded})"


def read_training_record(path: Path) -> dict[str, Any]:
    """The record that ``train`` writes next to the model (``paths.training``)."""
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def model_facts(params: Params, lock: Path) -> str:
    """Version, training date and data of the model, as a Markdown list.

    The version is the model's identity (``model/integrity.py``), with its registry
    version and stages when the last commit registers the model ``lock`` records.
    """
    training = read_training_record(params.paths.training)
    test_rows = len(pd.read_csv(params.paths.confusion_matrix))  # one row per sample
    registration = head_registration(lock, params.paths.model)
    version = ModelIdentity(training["model_sha256"], registration)
    trained_at = training["trained_at"].replace("T", " ").replace("+00:00", " UTC")
    hyperparameters = ", ".join(
        f"{name}={value}" for name, value in params.model.hyperparameters().items()
    )
    return "\n".join(
        [
            f"- **Estimator**: `{params.model.type}` ({hyperparameters})",
            f"- **Version**: `{version}`: the first {MODEL_ID_LENGTH} characters of"
            f" the SHA-256 of `{params.paths.model}` (the model's name in `/health`,"
            " batch output and `compare`), with its registry version and stages"
            " once registered",
            f"- **Trained**: {trained_at}",
            f"- **Data**: `{training['data_source']}`, {training['train_rows']}"
            f" training rows and {test_rows} test rows, {training['features']}"
            " features",
        ]
    )


def metrics_table(params: Params) -> str:
    """Each metric with its value, its minimum and whether it passes, in Markdown."""
    metrics = read_metrics(params.paths.metrics)
    minimums = params.thresholds.model_dump()
    rows = ["| Metric | Value | Minimum | Result |", "| --- | ---: | ---: | --- |"]
    for name in sorted(set(metrics) | set(minimums)):
        value = f"{metrics[name]:.4f}" if name in metrics else "missing"
        minimum = f"{minimums[name]:g}" if name in minimums else "none"
        passed = name not in minimums or meets_minimum(metrics, name, minimums[name])
        result = "pass" if passed else "fail"
        rows.append(f"| {name} | {value} | {minimum} | {result} |")
    return "\n".join(rows)


def contract_table(params: Params) -> str:
    """The model's data contract (``model/schema.py``) as a Markdown table: each
    feature, its type and the range of the training data."""
    rows = ["| Feature | Type | Training minimum | Training maximum |"]
    rows.append("| --- | --- | ---: | ---: |")
    for feature in read_contract(params.paths.model).features:
        rows.append(
            f"| {feature.name} | {feature.type} | {feature.minimum:g}"
            f" | {feature.maximum:g} |"
        )
    return "\n".join(rows)


def plot_images(params: Params) -> str:
    """The confusion matrix and the ROC curve drawn by ``evaluate``, embedded."""
    paths = params.paths
    names = class_names(params.data.source) or ["0", "1"]
    classes = f"0 is {names[0]}, 1 is {names[1]}"
    plots = (
        (f"Confusion matrix of the test set ({classes})", paths.confusion_matrix_image),
        (f"ROC curve of the test set (positive class: {names[1]})", paths.roc_image),
    )
    return "\n".join(image(alt, path.read_bytes()) for alt, path in plots)


def model_card(params_file: str | Path = DEFAULT_PARAMS_FILE) -> str:
    """The current model's facts, metrics and plots, as Markdown."""
    params = load_params(params_file)
    paths = params.paths
    outputs = (paths.training, paths.metrics, paths.confusion_matrix_image)
    contract = schema_path(paths.model)
    if not all(path.is_file() for path in (*outputs, paths.roc_image, contract)):
        return NOT_TRAINED
    return "\n\n".join(
        [
            model_facts(params, lock_beside(params_file)),
            "### Metrics on the test set",
            metrics_table(params),
            f"The minimums are `thresholds` in `{params_file}`.",
            plot_images(params),
            "### Input: the data contract",
            contract_table(params),
            f"Stored beside the model in `{contract.as_posix()}`; batch scoring,"
            " the drift check and the server's `/predict` refuse input that"
            " breaks it. A value outside the training range is accepted, and the"
            " drift check counts it.",
        ]
    )
