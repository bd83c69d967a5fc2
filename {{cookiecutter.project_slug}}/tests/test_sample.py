"""Tests for the sample table, what batch scoring and the drift check read at first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.monitoring.batch import score_table
from {{ cookiecutter.package_name }}.monitoring.sample import write_sample


def test_the_sample_is_the_test_set_without_its_label(
    trained_params: Params, tmp_path: Path
) -> None:
    output = tmp_path / "batch" / "input.csv"
    written = write_sample(trained_params.paths.test, "target", str(output))
    assert written == output
    test_set = pd.read_csv(trained_params.paths.test)
    assert pd.read_csv(output).equals(test_set.drop(columns=["target"]))
    # Exactly the table batch scoring accepts.
    result = score_table(trained_params.paths.model, output, tmp_path / "out.csv", 50)
    assert result.rows == len(test_set)


def test_a_table_that_is_there_is_kept(prepared_params: Params, tmp_path: Path) -> None:
    output = tmp_path / "input.csv"
    output.write_text("the team's own table\n")
    assert write_sample(prepared_params.paths.test, "target", str(output)) is None
    assert output.read_text() == "the team's own table\n"


def test_a_url_is_left_alone(prepared_params: Params) -> None:
    url = "https://example.com/input.csv"
    assert write_sample(prepared_params.paths.test, "target", url) is None


def test_without_a_test_set_it_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="make repro"):
        write_sample(tmp_path / "test.csv", "target", str(tmp_path / "input.csv"))
