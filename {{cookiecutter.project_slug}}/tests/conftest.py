"""Shared test fixtures.

Every test writes into its own temporary folder (pytest's ``tmp_path``), never
into the project, so tests can run in any order and alongside ``dvc repro``.

The pipeline's steps run once per test session with the test settings
(``pipeline_run``) and once with the project's own ``params.yaml``
(``project_run``); the fixtures that need a prepared, trained or evaluated
project copy those files instead of training again in every test. The steps
themselves are tested in ``test_data.py``, ``test_train.py`` and
``test_evaluate.py``, and ``test_pipeline.py`` runs them as DVC does: each
command in its own Python process.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import Params, load_params, parse_params
from {{ cookiecutter.package_name }}.model.schema import schema_path
from {{ cookiecutter.package_name }}.pipeline.evaluate import evaluate
from {{ cookiecutter.package_name }}.pipeline.ingest import ingest, load_raw
from {{ cookiecutter.package_name }}.pipeline.prepare import prepare
from {{ cookiecutter.package_name }}.pipeline.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARAMS_FILE = PROJECT_ROOT / "params.yaml"
BUNDLED_SOURCE = "sklearn:breast_cancer"
# The files each step writes, as fields of the ``paths`` section.
STEP_OUTPUTS = {
    "prepare": ("raw", "train", "test"),  # ingest writes raw, prepare the split
    "train": ("model", "training"),
    "evaluate": (
        "metrics",
        "confusion_matrix",
        "roc",
        "confusion_matrix_image",
        "roc_image",
    ),
}


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


def small_settings(root: Path) -> dict[str, Any]:
    """Small, valid settings as a plain dict, with every output under ``root``."""
    return {
        "seed": 0,
        "data": {"source": BUNDLED_SOURCE, "target": "target", "test_size": 0.25},
        "model": {
            "type": "logistic_regression",
            "logistic_regression": {"C": 1.0, "max_iter": 500},
        },
        "thresholds": {"accuracy": 0.8, "f1": 0.8, "roc_auc": 0.85},
        "tolerances": {"accuracy": 0.01, "f1": 0.01, "roc_auc": 0.01},
        "paths": output_paths(root),
        "batch": {
            "input": str(root / "batch" / "input.csv"),
            "output": str(root / "batch" / "predictions.csv"),
            "chunk_size": 100,
        },
        "drift": {
            "p_value": 0.01,
            "min_statistic": 0.1,
            "max_missing": 0.05,
            "max_out_of_range": 0.05,
            "report": str(root / "reports" / "drift.json"),
        },
        # Read by the model server (config.load_serve_params), ignored by Params.
        "serve": {"max_batch_size": 64, "max_body_bytes": 100_000},
    }


def run_steps(params: Params) -> Params:
    """Run ingest, prepare, train and evaluate with ``params``."""
    ingest(params)
    prepare(params)
    train(params)
    evaluate(params)
    return params


def copy_outputs(run: Params, params: Params, *steps: str) -> Params:
    """Copy what ``steps`` wrote with the settings ``run`` to ``params``'s paths."""
    for step in steps:
        for name in STEP_OUTPUTS[step]:
            target: Path = getattr(params.paths, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(getattr(run.paths, name), target)
    if "train" in steps:  # the model's data contract, beside the model
        shutil.copyfile(schema_path(run.paths.model), schema_path(params.paths.model))
    return params


@pytest.fixture
def params_dict(tmp_path: Path) -> dict[str, Any]:
    """``small_settings`` in ``tmp_path``; tests change it to break rules."""
    return small_settings(tmp_path)


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


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Params:
    """``small_settings`` after every step ran once, in a folder of the session.

    Read-only: the fixtures below copy its files into each test's folder.
    """
    return run_steps(parse_params(small_settings(tmp_path_factory.mktemp("run"))))


@pytest.fixture
def prepared_params(params: Params, pipeline_run: Params) -> Params:
    """``params`` with the raw, train and test CSVs that ingest and prepare write."""
    return copy_outputs(pipeline_run, params, "prepare")


@pytest.fixture
def trained_params(params: Params, pipeline_run: Params) -> Params:
    """``params`` as after the ingest, prepare and train steps."""
    return copy_outputs(pipeline_run, params, "prepare", "train")


@pytest.fixture
def evaluated_params(params: Params, pipeline_run: Params) -> Params:
    """``params`` as after every step: data, model, metrics and plots."""
    return copy_outputs(pipeline_run, params, "prepare", "train", "evaluate")


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


@pytest.fixture(scope="session")
def project_run_settings(
    tmp_path_factory: pytest.TempPathFactory,
    project_params_in: Callable[[Path], dict[str, Any]],
) -> dict[str, Any]:
    """The project's own settings, with every output in a folder of the session."""
    return project_params_in(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def project_run(project_run_settings: dict[str, Any]) -> Params:
    """``project_run_settings`` after every step ran, as ``dvc repro`` runs them.

    Run once per session. Read-only: tests that write files use ``tmp_path``.
    """
    return run_steps(parse_params(project_run_settings))
