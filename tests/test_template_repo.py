"""The template repository itself: its own lint, its replay fixture, its documentation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import CONTEXT, TEMPLATE_DIR, Baked, clean_env

OWN_CODE = ["hooks", "tests", "benchmarks", "local_extensions.py"]


def tool(name: str) -> str:
    """A tool installed next to the test interpreter (from requirements.txt)."""
    return str(Path(sys.executable).with_name(name))


def test_own_code_is_black_and_flake8_clean() -> None:
    for command in ([tool("black"), "--check", "--quiet", *OWN_CODE], [tool("flake8"), *OWN_CODE]):
        result = subprocess.run(command, cwd=TEMPLATE_DIR, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_own_pre_commit_config_skips_the_jinja_project() -> None:
    config = yaml.safe_load((TEMPLATE_DIR / ".pre-commit-config.yaml").read_text())
    assert re.match(config["exclude"], "{{cookiecutter.project_slug}}/src/x.py")
    versions = {
        dep
        for repo in config["repos"]
        for hook in repo["hooks"]
        for dep in hook.get("additional_dependencies", [])
    }
    requirements = (TEMPLATE_DIR / "requirements.txt").read_text().split()
    assert versions <= set(requirements), "pre-commit pins must match requirements.txt"


def test_every_prompt_has_a_label() -> None:
    public = [key for key in CONTEXT if not key.startswith("_")]
    assert sorted(CONTEXT["__prompts__"]) == sorted(public)


def test_readme_documents_every_option_and_the_two_commands() -> None:
    readme = (TEMPLATE_DIR / "README.md").read_text()
    for key in CONTEXT["__prompts__"]:
        assert f"`{key}`" in readme, key
    ci = (TEMPLATE_DIR / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == "make test" and "| `make test` |" in readme and "| `make demo` |" in readme


def test_replay_file_reproduces_the_recorded_project(tmp_path: Path) -> None:
    """A committed replay fixture bakes the same project every time (guards replay)."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--replay-file",
         str(TEMPLATE_DIR / "tests" / "fixtures" / "replay.json"),
         "--output-dir", str(tmp_path), str(TEMPLATE_DIR)],
        capture_output=True, text=True, env=clean_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = Baked(tmp_path / "churn-model")
    assert (project.path / "src" / "churn_model" / "cli.py").exists()
    assert not (project.path / "Dockerfile").exists()
    config = project.read(".dvc/config")
    assert "url = s3://churn-model-dvc/storage" in config
    assert "url = https://dvc.example.com/churn-model" in config
    assert 'requires-python = ">=3.12"' in project.read("pyproject.toml")
