"""Tests for the Markdown that fills in the model card and the pipeline page."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.model.predict import feature_names, load_model
from {{ cookiecutter.package_name }}.model.report import NOT_TRAINED, image, model_card

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EMBEDDED_PNG = re.compile(r"!\[([^]]+)\]\(data:image/png;base64,([^)]+)\)")


def table_rows(markdown: str, header: str = "Metric") -> dict[str, list[str]]:
    """The table whose first column is ``header`` as {first cell: other cells}."""
    rows = {}
    inside = False
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not line.startswith("|"):
            inside = False
        elif cells[0] == header:
            inside = True
        elif inside and cells[0] != "---":
            rows[cells[0]] = cells[1:]
    return rows


def test_before_the_pipeline_ran_the_card_says_what_to_run(params_file: Path) -> None:
    card = model_card(params_file)

    assert card == NOT_TRAINED
    assert "make repro" in card and "dvc pull" in card


def test_card_shows_each_metric_with_its_minimum_and_result(
    evaluated_params: Params, params_file: Path
) -> None:
    metrics = json.loads(evaluated_params.paths.metrics.read_text())

    rows = table_rows(model_card(params_file))

    assert sorted(rows) == sorted(metrics)
    for name, (value, minimum, result) in rows.items():
        assert float(value) == metrics[name]
        assert float(minimum) == getattr(evaluated_params.thresholds, name)
        assert result == "pass"


def test_card_fails_a_metric_below_its_minimum(
    evaluated_params: Params, params_file: Path
) -> None:
    path = evaluated_params.paths.metrics
    metrics = json.loads(path.read_text())
    path.write_text(json.dumps({**metrics, "f1": 0.5}))

    rows = table_rows(model_card(params_file))

    assert rows["f1"] == ["0.5000", "0.8", "fail"]
    assert rows["accuracy"][2] == "pass"


def test_card_names_the_model_version_and_the_data(
    evaluated_params: Params, params_file: Path
) -> None:
    training = json.loads(evaluated_params.paths.training.read_text())

    card = model_card(params_file)

    assert f"`{training['model_sha256'][:12]}`" in card
    assert training["trained_at"][:10] in card
    assert f"`{evaluated_params.data.source}`" in card
    assert re.search(r"\d+ training rows and \d+ test rows, 30 features", card)
    assert "- **Estimator**: `logistic_regression` (C=1.0, max_iter=500)" in card


def test_card_shows_the_data_contract(
    evaluated_params: Params, params_file: Path
) -> None:
    model = load_model(evaluated_params.paths.model)
    training = pd.read_csv(evaluated_params.paths.train)

    rows = table_rows(model_card(params_file), header="Feature")

    assert list(rows) == feature_names(model)
    for name, (kind, minimum, maximum) in rows.items():
        assert kind == "float64"
        assert float(minimum) == pytest.approx(training[name].min(), rel=1e-5)
        assert float(maximum) == pytest.approx(training[name].max(), rel=1e-5)


def test_card_embeds_both_plots(evaluated_params: Params, params_file: Path) -> None:
    images = EMBEDDED_PNG.findall(model_card(params_file))

    alts = [alt for alt, _ in images]
    assert alts == [
        "Confusion matrix of the test set (0 is malignant, 1 is benign)",
        "ROC curve of the test set (positive class: benign)",
    ]
    for _, data in images:
        assert base64.b64decode(data).startswith(PNG_SIGNATURE)


def test_image_embeds_the_bytes_it_is_given() -> None:
    markdown = image("A picture", PNG_SIGNATURE)

    assert EMBEDDED_PNG.findall(markdown) == [
        ("A picture", base64.b64encode(PNG_SIGNATURE).decode())
    ]
