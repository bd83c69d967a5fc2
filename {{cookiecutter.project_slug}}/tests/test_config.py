"""Tests for reading and checking params.yaml."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.config import (
    ConfigError,
    Params,
    load_params,
    parse_params,
)


def test_project_params_file_is_valid(project_params_file: Path) -> None:
    params = load_params(project_params_file)

    assert isinstance(params.seed, int)
    assert 0 < params.data.test_size < 1
    assert isinstance(params.paths.model, Path)


def test_values_are_read_with_their_types(params: Params, tmp_path: Path) -> None:
    assert params.seed == 0
    assert params.data.source == "sklearn:breast_cancer"
    assert params.data.target == "target"
    assert params.data.test_size == 0.25
    assert params.model.C == 1.0
    assert params.model.max_iter == 500
    assert params.thresholds.roc_auc == 0.85
    assert params.paths.model == tmp_path / "models" / "model.joblib"


def test_whole_numbers_are_accepted_where_decimals_are_expected(
    params_dict: dict[str, Any],
) -> None:
    params_dict["model"]["C"] = 2

    params = parse_params(params_dict)

    assert params.model.C == 2.0
    assert isinstance(params.model.C, float)


def test_params_are_read_only(params: Params) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed = 1  # type: ignore[misc]


def test_unknown_sections_are_ignored(params_dict: dict[str, Any]) -> None:
    params_dict["monitoring"] = {"port": 9100}

    assert parse_params(params_dict).seed == 0


def test_error_message_names_file_field_rule_and_value(
    params_dict: dict[str, Any],
) -> None:
    params_dict["data"]["test_size"] = 1.5

    with pytest.raises(ConfigError) as error:
        parse_params(params_dict)

    assert str(error.value) == (
        "params.yaml: data.test_size: must be between 0 and 1 (got 1.5)"
    )


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("data", "test_size", 0, "data.test_size: must be between 0 and 1 (got 0.0)"),
        ("data", "test_size", "0.2", "data.test_size: must be a number (got '0.2')"),
        ("data", "source", "", "data.source: must be a non-empty string (got '')"),
        ("data", "target", 7, "data.target: must be a non-empty string (got 7)"),
        ("model", "C", 0, "model.C: must be greater than 0 (got 0.0)"),
        ("model", "C", True, "model.C: must be a number (got True)"),
        ("model", "max_iter", 1.5, "model.max_iter: must be a whole number (got 1.5)"),
        ("model", "max_iter", 0, "model.max_iter: must be at least 10 (got 0)"),
        ("model", "max_iter", 1, "model.max_iter: must be at least 10 (got 1)"),
        ("model", "C", float("inf"), "model.C: must be a finite number (got inf)"),
        ("model", "C", float("nan"), "model.C: must be a finite number (got nan)"),
        ("data", "test_size", float("nan"), "data.test_size: must be a finite number"),
        ("paths", "model", "", "paths.model: must be a non-empty string (got '')"),
        ("thresholds", "f1", 1.2, "thresholds.f1: must be between 0 and 1 (got 1.2)"),
        ("paths", "model", None, "paths.model: must be a non-empty string (got None)"),
    ],
)
def test_invalid_values_are_rejected(
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    section: str,
    key: str,
    value: Any,
    message: str,
) -> None:
    params_dict[section][key] = value
    params_file = write_params(params_dict)

    with pytest.raises(ConfigError, match=re.escape(f"{params_file}: {message}")):
        load_params(params_file)


def test_negative_seed_is_rejected(params_dict: dict[str, Any]) -> None:
    params_dict["seed"] = -1

    with pytest.raises(ConfigError, match=re.escape("seed: must be 0 or greater")):
        parse_params(params_dict)


def test_missing_key_is_named(params_dict: dict[str, Any]) -> None:
    del params_dict["data"]["target"]

    with pytest.raises(ConfigError, match="data.target: is required but missing"):
        parse_params(params_dict)


def test_missing_section_is_named(params_dict: dict[str, Any]) -> None:
    del params_dict["thresholds"]

    with pytest.raises(ConfigError, match="thresholds: is required but missing"):
        parse_params(params_dict)


def test_section_must_be_a_mapping(params_dict: dict[str, Any]) -> None:
    params_dict["model"] = 5

    with pytest.raises(
        ConfigError, match=re.escape("model: must be a mapping of settings (got 5)")
    ):
        parse_params(params_dict)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError, match="file not found"):
        load_params(missing)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "params.yaml"
    broken.write_text("seed: [1, 2\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_params(broken)


def test_file_must_hold_a_mapping(tmp_path: Path) -> None:
    listing = tmp_path / "params.yaml"
    listing.write_text("- seed\n- data\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="must contain a mapping of settings"):
        load_params(listing)
{% if cookiecutter.serving %}


def test_serve_settings_are_read(params: Params) -> None:
    assert params.serve.max_batch_size == 64
    assert params.serve.max_body_bytes == 100_000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "serve.max_batch_size: must be at least 1 (got 0)"),
        (2.5, "serve.max_batch_size: must be a whole number (got 2.5)"),
        ("10", "serve.max_batch_size: must be a whole number (got '10')"),
        (True, "serve.max_batch_size: must be a whole number (got True)"),
    ],
)
def test_invalid_max_batch_size_is_rejected(
    params_dict: dict[str, Any], value: Any, message: str
) -> None:
    params_dict["serve"]["max_batch_size"] = value

    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_params(params_dict)


def test_too_small_body_limit_is_rejected(params_dict: dict[str, Any]) -> None:
    params_dict["serve"]["max_body_bytes"] = 100

    with pytest.raises(
        ConfigError, match=re.escape("serve.max_body_bytes: must be at least 4096")
    ):
        parse_params(params_dict)


def test_missing_serve_section_is_named(params_dict: dict[str, Any]) -> None:
    del params_dict["serve"]

    with pytest.raises(ConfigError, match="serve: is required but missing"):
        parse_params(params_dict)
{% endif %}
