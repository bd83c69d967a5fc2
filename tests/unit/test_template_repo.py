"""The template repository itself: its own lint, its replay fixture, its documentation."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.helpers import CONTEXT, TEMPLATE_DIR, Baked, bake, clean_env

OWN_CODE = ["hooks", "tests", "benchmarks", "tools", "ml_cicd_jinja.py", "jinja_filters.py"]


def tool(name: str) -> str:
    """A tool installed next to the test interpreter (from requirements.txt)."""
    return str(Path(sys.executable).with_name(name))


def test_own_code_is_black_flake8_and_mypy_clean() -> None:
    """mypy reads its files and settings from pyproject.toml (bodies of
    unannotated functions checked too)."""
    for command in (
        [tool("black"), "--check", "--quiet", *OWN_CODE],
        [tool("flake8"), *OWN_CODE],
        [tool("mypy")],
    ):
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
    assert (project.path / ".github").is_dir() and not (project.path / "azure-pipelines").exists()
    config = project.read(".dvc/config")
    assert "url = s3://churn-model-dvc/storage" in config
    assert "url = https://dvc.example.com/churn-model" in config
    assert 'requires-python = ">=3.12"' in project.read("pyproject.toml")
    assert "[tool.ruff]" in project.read("pyproject.toml")
    assert not (project.path / ".flake8").exists()


def test_bakes_leave_the_users_cookiecutter_replay_alone(
    tmp_path: Path, isolated_cookiecutter: Path
) -> None:
    """`make test` must not overwrite the answers a user recovers from ~/.cookiecutter_replay."""
    users_replay = Path.home() / ".cookiecutter_replay" / f"{TEMPLATE_DIR.name}.json"
    before = users_replay.stat().st_mtime_ns if users_replay.exists() else None
    bake(tmp_path)
    after = users_replay.stat().st_mtime_ns if users_replay.exists() else None
    assert after == before
    assert (isolated_cookiecutter / f"{TEMPLATE_DIR.name}.json").is_file()


def test_make_help_prints_no_make_syntax() -> None:
    result = subprocess.run(
        ["make", "help"], cwd=TEMPLATE_DIR, capture_output=True, text=True, env=clean_env()
    )
    assert result.returncode == 0 and "make demo" in result.stdout
    assert "$(" not in result.stdout


def test_make_clean_removes_the_test_cache(tmp_path: Path) -> None:
    """`make test` leaves a large .cache/ (baked virtualenvs, pre-commit hooks)."""
    shutil.copy(TEMPLATE_DIR / "Makefile", tmp_path)
    for directory in (".cache/baked-venv-x", ".pytest_cache", "demo/ml-project"):
        (tmp_path / directory).mkdir(parents=True)
    result = subprocess.run(
        ["make", "clean", f"DEMO_DIR={tmp_path / 'demo'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile"]
    assert "make clean" in (TEMPLATE_DIR / "README.md").read_text()


def test_readme_commands_work_as_typed() -> None:
    """No placeholder that looks like a real name; no tool most machines lack."""
    readme = (TEMPLATE_DIR / "README.md").read_text()
    assert "gh:org/" not in readme and "pipx" not in readme
    for command in (
        "uvx cookiecutter",
        "python3 -m pip install --user",
        "make -C ml-cicd bake",
        ".venv-bake/bin/cruft create --checkout",
        "make docs-serve",
    ):
        assert command in readme, command


@pytest.mark.slow  # installs a virtualenv from the package index: not in `make test-fast`
def test_make_bake_needs_only_the_system_python3(tmp_path: Path) -> None:
    """`make bake` on a machine with the operating system's own python3 (Debian's
    /usr/bin/python3, PEP 668): a small virtualenv with cookiecutter and cruft,
    pinned as in requirements.txt (typer below 0.29, whose prompt cruft needs),
    that bakes the template."""
    system_python3 = Path("/usr/bin/python3")
    if not system_python3.exists():
        pytest.skip(f"{system_python3} (the system's python3) is not installed")
    env = {**clean_env(), "PATH": "/usr/bin:/bin"}
    venv = tmp_path / "bake-venv"
    result = subprocess.run(
        ["make", "bake", f"BAKE_VENV={venv}"],
        cwd=TEMPLATE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{venv}/bin/cruft create" in result.stdout
    pins = (TEMPLATE_DIR / "requirements.txt").read_text().split()
    bake_pins = (TEMPLATE_DIR / "requirements-bake.txt").read_text().split()
    assert {"cookiecutter", "cruft", "typer"} == {p.split("==")[0] for p in bake_pins if "==" in p}
    assert set(p for p in bake_pins if "==" in p) <= set(pins)
    freeze = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pytest" not in freeze and "mypy" not in freeze, freeze
    baked = subprocess.run(
        [str(venv / "bin" / "cookiecutter"), "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert baked.returncode == 0, baked.stdout + baked.stderr
    assert (tmp_path / "ml-project" / "dvc.yaml").exists()
