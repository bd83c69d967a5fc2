"""Tests for reading and checking params.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import YAML_LOADER, ConfigError, Params
from {{ cookiecutter.package_name }}.config import load_params, parse_params


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
    assert params.model.type == "logistic_regression"
    assert params.model.hyperparameters() == {"C": 1.0, "max_iter": 500}
    assert params.thresholds.roc_auc == 0.85
    assert params.paths.model == tmp_path / "models" / "model.joblib"


def test_whole_numbers_are_accepted_where_decimals_are_expected(
    params_dict: dict[str, Any],
) -> None:
    params_dict["model"]["logistic_regression"]["C"] = 2

    params = parse_params(params_dict)

    assert params.model.hyperparameters()["C"] == 2.0


def test_params_are_read_only(params: Params) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        params.seed = 1


def test_an_unknown_section_is_refused(params_dict: dict[str, Any]) -> None:
    """A typo such as ``sed:`` would otherwise leave ``seed`` as it was."""
    params_dict["monitoring"] = {"port": 9100}

    with pytest.raises(ConfigError) as error:
        parse_params(params_dict)

    assert str(error.value) == (
        "params.yaml: monitoring: is not a known setting"
        " (a section of your own goes in config.OTHER_SECTIONS)"
    )


def test_the_sections_of_other_commands_are_left_to_them(
    params_dict: dict[str, Any],
) -> None:
    params_dict["serve"] = {"max_batch_size": 8}

    assert parse_params(params_dict).seed == 0


def test_error_message_names_file_field_rule_and_value(
    params_dict: dict[str, Any],
) -> None:
    params_dict["data"]["test_size"] = 1.5

    with pytest.raises(ConfigError) as error:
        parse_params(params_dict)

    assert str(error.value) == (
        "params.yaml: data.test_size: must be less than 1 (got 1.5)"
    )


LR = "model.logistic_regression"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("data.test_size", 0, "data.test_size: must be greater than 0 (got 0)"),
        ("data.test_size", "0.2", "data.test_size: must be a number (got '0.2')"),
        ("data.source", "", "data.source: must be a non-empty string (got '')"),
        ("data.source", "  ", "data.source: must be a non-empty string (got '  ')"),
        ("data.target", 7, "data.target: must be a non-empty string (got 7)"),
        (f"{LR}.C", 0, f"{LR}.C: must be greater than 0 (got 0)"),
        (f"{LR}.C", True, f"{LR}.C: must be a number (got True)"),
        (f"{LR}.max_iter", 1.5, f"{LR}.max_iter: must be a whole number (got 1.5)"),
        (f"{LR}.max_iter", "10", f"{LR}.max_iter: must be a whole number (got '10')"),
        (f"{LR}.max_iter", 1, f"{LR}.max_iter: must be at least 10 (got 1)"),
        (f"{LR}.C", float("inf"), f"{LR}.C: must be a finite number (got inf)"),
        (f"{LR}.C", float("nan"), f"{LR}.C: must be a finite number (got nan)"),
        (f"{LR}.penalty", "l1", f"{LR}.penalty: is not a known setting (got 'l1')"),
        ("data.test_size", float("nan"), "data.test_size: must be a finite number"),
        ("paths.model", "", "paths.model: must be a non-empty string (got '')"),
        ("thresholds.f1", 1.2, "thresholds.f1: must be at most 1 (got 1.2)"),
        ("tolerances.f1", -0.1, "tolerances.f1: must be at least 0 (got -0.1)"),
        ("paths.model", None, "paths.model: must be a non-empty string (got None)"),
        ("batch.chunk_size", 0, "batch.chunk_size: must be at least 1 (got 0)"),
        ("seed", -1, "seed: must be at least 0 (got -1)"),
        # NumPy's random generator, which scikit-learn seeds, takes 32 bits.
        (
            "seed",
            1099511627776,
            "seed: must be at most 4294967295 (got 1099511627776)",
        ),
        (
            "model.type",
            "svm",
            "model.type: must be one of 'logistic_regression', 'random_forest'"
            " or 'gradient_boosting' (got 'svm')",
        ),
    ],
)
def test_invalid_values_are_rejected(
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    field: str,
    value: Any,
    message: str,
) -> None:
    *sections, key = field.split(".")
    section = params_dict
    for name in sections:
        section = section[name]
    section[key] = value
    params_file = write_params(params_dict)

    with pytest.raises(ConfigError, match=re.escape(f"{params_file}: {message}")):
        load_params(params_file)


OTHER_MODELS = {
    "random_forest": {"n_estimators": 10, "max_depth": None, "min_samples_leaf": 2},
    "gradient_boosting": {"n_estimators": 10, "learning_rate": 0.2, "max_depth": 2},
}


@pytest.mark.parametrize("model_type", sorted(OTHER_MODELS))
def test_the_model_type_chooses_its_section(
    params_dict: dict[str, Any], model_type: str
) -> None:
    params_dict["model"]["type"] = model_type
    params_dict["model"][model_type] = OTHER_MODELS[model_type]

    params = parse_params(params_dict)

    assert params.model.type == model_type
    assert params.model.hyperparameters() == OTHER_MODELS[model_type]


def test_the_chosen_model_needs_its_section(params_dict: dict[str, Any]) -> None:
    params_dict["model"]["type"] = "random_forest"

    with pytest.raises(ConfigError) as error:
        parse_params(params_dict)

    assert str(error.value) == (
        "params.yaml: model: needs a random_forest section (type is random_forest)"
    )


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


def test_python_objects_in_yaml_are_refused(tmp_path: Path) -> None:
    """Settings are plain values: a tag that would run Python code is an error."""
    tagged = tmp_path / "params.yaml"
    tagged.write_text("seed: !!python/object/apply:os.getcwd []\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_params(tagged)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without LibYAML")
def test_yaml_is_read_with_libyaml() -> None:
    """``gate`` and ``check`` read YAML with the fast parser (``make bench``)."""
    assert YAML_LOADER is yaml.CSafeLoader


def test_invalid_yaml_quotes_the_line_and_points_at_the_column(tmp_path: Path) -> None:
    broken = tmp_path / "params.yaml"
    broken.write_text("seed: 7\ndata: [1, 2\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_params(broken)

    assert "line 2, column 7" in str(error.value)
    assert "    data: [1, 2\n          ^" in str(error.value)


def test_file_must_hold_a_mapping(tmp_path: Path) -> None:
    listing = tmp_path / "params.yaml"
    listing.write_text("- seed\n- data\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="must contain a mapping of settings"):
        load_params(listing)


def written(tmp_path: Path, text: str) -> Path:
    """``text`` as ``tmp_path/params.yaml``."""
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# 1.2 kB that PyYAML reads as shared lists but DVC expands to 9**9 strings.
ALIAS_BOMB = "seed: 0\nbomb:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]\n"
    for level in range(1, 9)
)


def test_aliases_are_refused_before_anything_expands_them(tmp_path: Path) -> None:
    params_file = written(tmp_path, ALIAS_BOMB)

    with pytest.raises(ConfigError) as error:
        load_params(params_file)

    assert str(error.value) == (
        f"{params_file}: line 3: bomb.a0: anchors (&a0) and aliases are not"
        " allowed: write each value out (DVC expands every alias)"
    )


def test_a_merge_key_is_an_alias_too(tmp_path: Path) -> None:
    params_file = written(tmp_path, "base: &base {C: 1.0}\nmodel:\n  <<: *base\n")

    with pytest.raises(ConfigError, match=r"line 1: base: anchors \(&base\)"):
        load_params(params_file)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed: 1\nseed: 2\n", "line 2: seed: appears twice (first on line 1)"),
        (
            "seed: 1\nmodel:\n  type: a\n  C: 1\n  type: b\n",
            "line 5: model.type: appears twice (first on line 3)",
        ),
        (
            "data:\n  source: x\nseed: 1\ndata:\n  target: y\n",
            "line 4: data: appears twice (first on line 1)",
        ),
    ],
)
def test_a_duplicate_key_is_named_where_dvc_would_refuse_it(
    tmp_path: Path, text: str, message: str
) -> None:
    params_file = written(tmp_path, text)

    with pytest.raises(ConfigError) as error:
        load_params(params_file)

    assert str(error.value) == (
        f"{params_file}: {message}: DVC refuses a file with a duplicate key"
    )


def test_nesting_is_bounded(tmp_path: Path) -> None:
    deep = (
        "".join(f"{'  ' * level}k{level}:\n" for level in range(40)) + "  " * 40 + "x"
    )
    params_file = written(tmp_path, deep)

    with pytest.raises(ConfigError, match=r"line 33: k0\.k1\..*: nests deeper than"):
        load_params(params_file)
