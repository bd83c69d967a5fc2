"""Shared test fixtures.

Every test writes into its own temporary folder (pytest's ``tmp_path``), never
into the project, so tests can run in any order and alongside ``dvc repro``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import (
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
    load_raw,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARAMS_FILE = PROJECT_ROOT / "params.yaml"
BUNDLED_SOURCE = "sklearn:breast_cancer"


def output_paths(root: Path) -> dict[str, str]:
    """The ``paths`` section of params.yaml, with every file under ``root``."""
    plots = root / "reports" / "plots"
    return {
        "raw": str(root / "data" / "raw.csv"),
        "train": str(root / "data" / "train.csv"),
        "test": str(root / "data" / "test.csv"),
        "model": str(root / "models" / "model.joblib"),
        "training": str(root / "reports" / "training.json"),
        "metrics": str(root / "reports" / "metrics.json"),
        "confusion_matrix": str(plots / "confusion_matrix.csv"),
        "roc": str(plots / "roc.csv"),
        "confusion_matrix_image": str(plots / "confusion_matrix.png"),
        "roc_image": str(plots / "roc.png"),
    }


def write_yaml(raw: dict[str, Any], path: Path) -> Path:
    """Write ``raw`` as YAML to ``path`` and return the path."""
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def params_dict(tmp_path: Path) -> dict[str, Any]:
    """Small, valid settings as a plain dict; tests change it to break rules."""
    return {
        "seed": 0,
        "data": {"source": BUNDLED_SOURCE, "target": "target", "test_size": 0.25},
        "model": {
            "type": "logistic_regression",
            "logistic_regression": {"C": 1.0, "max_iter": 500},
        },
        "thresholds": {"accuracy": 0.8, "f1": 0.8, "roc_auc": 0.85},
        "tolerances": {"accuracy": 0.01, "f1": 0.01, "roc_auc": 0.01},
        "paths": output_paths(tmp_path),
        "batch": {
            "input": str(tmp_path / "batch" / "input.csv"),
            "output": str(tmp_path / "batch" / "predictions.csv"),
            "chunk_size": 100,
        },
        "drift": {
            "p_value": 0.01,
            "min_statistic": 0.1,
            "max_missing": 0.05,
            "max_out_of_range": 0.05,
            "report": str(tmp_path / "reports" / "drift.json"),
        },
        # Read by the model server (serve_command.py), ignored by Params.
        "serve": {"max_batch_size": 64, "max_body_bytes": 100_000},
    }


@pytest.fixture
def write_params(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Function that writes a settings dict to ``tmp_path/params.yaml``."""

    def write(raw: dict[str, Any]) -> Path:
        return write_yaml(raw, tmp_path / "params.yaml")

    return write


@pytest.fixture
def params_file(
    params_dict: dict[str, Any], write_params: Callable[[dict[str, Any]], Path]
) -> Path:
    """A valid params.yaml in ``tmp_path``."""
    return write_params(params_dict)


@pytest.fixture
def params(params_file: Path) -> Params:
    """Valid settings whose output paths all point into ``tmp_path``."""
    return load_params(params_file)


@pytest.fixture
def prepared_params(params: Params) -> Params:
    """``params`` after the ingest and prepare steps wrote the train/test CSVs."""
    ingest(params)
    prepare(params)
    return params


@pytest.fixture
def trained_params(prepared_params: Params) -> Params:
    """``params`` after the prepare and train steps."""
    train(prepared_params)
    return prepared_params


@pytest.fixture
def evaluated_params(trained_params: Params) -> Params:
    """``params`` after the prepare, train and evaluate steps."""
    evaluate(trained_params)
    return trained_params


@pytest.fixture(scope="session")
def breast_cancer() -> pd.DataFrame:
    """The bundled breast cancer dataset with snake_case columns and ``target``."""
    return load_raw(BUNDLED_SOURCE, "target")


@pytest.fixture(scope="session")
def project_params_file() -> Path:
    """The project's own params.yaml."""
    return PROJECT_PARAMS_FILE


@pytest.fixture(scope="session")
def project_params_in() -> Callable[[Path], dict[str, Any]]:
    """Function: the project's real params.yaml, with its outputs under a folder.

    Everything except ``paths`` keeps the project's values, so tests that use it
    check the settings the pipeline really runs with. A relative CSV path in
    ``data.source`` is made absolute, so it works from any directory.
    """

    def make(root: Path) -> dict[str, Any]:
        raw: dict[str, Any] = yaml.safe_load(
            PROJECT_PARAMS_FILE.read_text(encoding="utf-8")
        )
        raw["paths"] = output_paths(root)
        source = raw["data"]["source"]
        if not source.startswith(("sklearn:", "http://", "https://")):
            raw["data"]["source"] = str(PROJECT_ROOT / source)
        return raw

    return make
