"""Tests for the ``serve`` command's settings (the ``serve`` section)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import ConfigError, load_serve_params


def test_serve_settings_are_read(params_file: Path) -> None:
    settings = load_serve_params(params_file)

    assert settings.max_batch_size == 64
    assert settings.max_body_bytes == 100_000


WHOLE_NUMBER = "must be a whole number"
TOO_SMALL = "must be at least 4096"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_batch_size", 0, "serve.max_batch_size: must be at least 1 (got 0)"),
        ("max_batch_size", 2.5, f"serve.max_batch_size: {WHOLE_NUMBER} (got 2.5)"),
        ("max_batch_size", "10", f"serve.max_batch_size: {WHOLE_NUMBER} (got '10')"),
        ("max_batch_size", True, f"serve.max_batch_size: {WHOLE_NUMBER} (got True)"),
        ("max_body_bytes", 100, f"serve.max_body_bytes: {TOO_SMALL} (got 100)"),
        ("workers", 4, "serve.workers: is not a known setting (got 4)"),
    ],
)
def test_invalid_serve_settings_are_rejected(
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    key: str,
    value: Any,
    message: str,
) -> None:
    params_dict["serve"][key] = value
    params_file = write_params(params_dict)

    with pytest.raises(ConfigError, match=re.escape(f"{params_file}: {message}")):
        load_serve_params(params_file)


def test_missing_serve_section_is_named(
    params_dict: dict[str, Any], write_params: Callable[[dict[str, Any]], Path]
) -> None:
    del params_dict["serve"]
    params_file = write_params(params_dict)

    with pytest.raises(ConfigError, match="serve: is required but missing"):
        load_serve_params(params_file)


def test_check_checks_the_serve_section(
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    params_dict["serve"]["max_batch_size"] = 0
    params_file = write_params(params_dict)

    assert main(["check", "--params", str(params_file)]) == 2
    assert capsys.readouterr().err == (
        f"error: {params_file}: serve.max_batch_size: must be at least 1 (got 0)\n"
    )


def test_the_serve_command_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])

    assert "serve the model over HTTP" in capsys.readouterr().out
