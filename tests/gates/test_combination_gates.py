"""Every option combination passes its own linters and strict docs build, as baked.

tests/gates/test_gates.py runs every gate on the default bake; here each other
combination runs the gates that its answers change (Jinja whitespace,
conditional docs and code), and the baked test suite runs where serving is off
(its code differs most).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.helpers import (
    Baked,
    answers_of,
    assert_pytest_passed,
    bake,
    combination_id,
    combinations,
    option_values,
)

pytestmark = pytest.mark.slow

# The first combination is the default bake, whose gates test_gates.py runs.
COMBINATIONS = [pytest.param(c, id=combination_id(c)) for c in combinations()[1:]]


def test_the_first_combination_is_the_default_bake() -> None:
    """What makes skipping it above safe: its answers are every option's default."""
    # option_values() lists each option's default first (cookiecutter.json's order).
    defaults = {key: values[0] for key, values in option_values().items()}
    assert combinations()[0] == defaults


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_linters_pass_and_change_nothing_and_docs_build(
    tmp_path: Path, baked_venv: Path, answers: dict
) -> None:
    project = bake(tmp_path, venv=baked_venv, **answers)
    project.make("lint")
    assert project.run("git", "status", "--porcelain").stdout == ""
    # The chosen linter is the one that runs, and it finds what flake8 finds.
    cli = project.path / "src" / project.package / "cli.py"
    cli.write_text("import os\n" + cli.read_text())
    refused = project.make("lint", check=False)
    assert refused.returncode != 0 and "F401" in refused.stdout, refused.stdout[-2000:]
    linter = {"black-flake8": "flake8", "ruff": "ruff check"}[answers["linter"]]
    assert f"{linter}..." in refused.stdout
    project.run("git", "checkout", "--", str(cli))
    project.make("docs")
    assert (project.path / "site" / "api" / "index.html").is_file()


@pytest.mark.parametrize("answers", [p for p in COMBINATIONS if answers_of(p)["serving"] is False])
def test_baked_tests_pass_without_serving(tmp_path: Path, baked_venv: Path, answers: dict) -> None:
    project: Baked = bake(tmp_path, venv=baked_venv, **answers)
    result = project.make("test")
    assert_pytest_passed(result.stdout)
    assert not (project.path / "tests" / "test_serve.py").exists()
    # No serve command without its module.
    commands = project.run("python", "-m", project.package, "--help").stdout
    assert "gate" in commands and "serve" not in commands
