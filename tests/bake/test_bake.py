"""Bake every option combination and check the structure of what comes out."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from support.helpers import (
    CREDENTIAL_KEYS,
    Baked,
    bake,
    bake_cli,
    combination_id,
    combinations,
    option_values,
)
from support.file_sets import expected_files

COMBINATIONS = [pytest.param(c, id=combination_id(c)) for c in combinations()]

# Opening delimiters (and "%}"): a lone "}}" is ordinary Python or JSON.
JINJA_LEFTOVER = re.compile(r"\{%|%\}|\{\{|\{#")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Baked]:
    """One bake per combination, shared by the tests of this module."""
    return {combination_id(c): bake(tmp_path_factory.mktemp("combo"), **c) for c in combinations()}


def text_files(project: Baked) -> dict[str, str]:
    """Every baked text file (relative path -> content)."""
    texts = {}
    for relative in sorted(project.files()):
        data = (project.path / relative).read_bytes()
        if b"\0" not in data:
            texts[relative] = data.decode("utf-8")
    return texts


def test_combinations_reach_every_value() -> None:
    seen: dict[str, set] = {}
    for combo in combinations() + combinations(ci_platform="azure-pipelines"):
        for key, value in combo.items():
            seen.setdefault(key, set()).add(json.dumps(value))
    for key, values in option_values().items():
        assert seen[key] == {json.dumps(v) for v in values}, key


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_exact_file_set(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    assert project.files() == expected_files(answers, project.package)


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_no_leftover_jinja(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    for relative, text in text_files(project).items():
        stripped = GITHUB_EXPRESSION.sub("", text)
        match = JINJA_LEFTOVER.search(stripped)
        context = stripped[match.start() - 40 : match.end() + 40] if match else ""
        assert match is None, f"{relative}: leftover template syntax near {context!r}"
        assert "$True" not in text and "$False" not in text, relative


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_structured_files_parse(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    for relative, text in text_files(project).items():
        if relative.endswith((".yml", ".yaml")):
            assert yaml.safe_load(text) is not None or relative == ".dvc/config", relative
        elif relative.endswith(".toml"):
            tomllib.loads(text)
        elif relative.endswith(".json"):
            json.loads(text)
        elif relative.endswith(".py"):
            compile(text, relative, "exec")


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_text_files_are_clean(baked: dict[str, Baked], answers: dict) -> None:
    """LF endings, no trailing whitespace, exactly one final newline (pre-commit agrees)."""
    project = baked[combination_id(answers)]
    for relative, text in text_files(project).items():
        assert "\r" not in text, relative
        assert not re.search(r"[ \t]+$", text, re.MULTILINE), f"{relative}: trailing whitespace"
        if text:
            assert text.endswith("\n") and not text.endswith("\n\n"), f"{relative}: final newline"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_git_repository_is_committed_on_main(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    git = ["git", "-C", str(project.path)]
    branch = subprocess.run([*git, "branch", "--show-current"], capture_output=True, text=True)
    assert branch.stdout.strip() == "main"
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""
    log = subprocess.run([*git, "log", "--format=%an <%ae>"], capture_output=True, text=True)
    assert log.stdout.splitlines() == ["Your Name <you@example.com>"]


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_dvc_config_has_remote_and_no_credentials(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    config = project.read(".dvc/config")
    for key in CREDENTIAL_KEYS:
        assert key not in config
    if answers["dvc_remote"] == "none":
        assert config == ""
    else:
        assert "remote = storage" in config
        assert "url = " in config
        # DVC re-hashes what it downloads: a damaged copy on a remote is refused.
        assert config.count("url = ") == config.count("verify = true")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".dvc/config.local"], cwd=project.path)
    assert ignored.returncode == 0
    for tracked in ("dvc.yaml", "params.yaml", ".dvc/config", "data/raw.dvc", "dvc.lock"):
        result = subprocess.run(["git", "check-ignore", "-q", tracked], cwd=project.path)
        assert result.returncode == 1, f"{tracked} must not be git-ignored"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_pyproject_follows_answers(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    pyproject = tomllib.loads(project.read("pyproject.toml"))
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    # uv (`make setup`) creates .venv with the oldest supported Python, not a random one.
    assert project.read(".python-version") == f"{answers['python_version']}\n"
    expected_license = (
        "LicenseRef-Proprietary" if answers["license"] == "Proprietary" else answers["license"]
    )
    assert pyproject["project"]["license"] == expected_license
    extras = pyproject["project"]["optional-dependencies"]
    assert ("serve" in extras) is answers["serving"]
    dvc = [d for d in extras["dev"] if d.startswith("dvc")]
    plugin = {"s3": "dvc[s3]", "gs": "dvc[gs]", "azure": "dvc[azure]", "ssh": "dvc[ssh]"}
    assert dvc == [plugin.get(answers["dvc_remote"], "dvc") + ">=3.67,<4"]
    # The linter's own tools, and only those, in the dev extra and pre-commit.
    tools = {"black-flake8": {"black", "flake8"}, "ruff": {"ruff"}}
    names = {re.split(r"[=<>\[]", d)[0] for d in extras["dev"]}
    for linter, its_tools in tools.items():
        assert (its_tools <= names) is (answers["linter"] == linter), (linter, names)
    hooks = yaml.safe_load(project.read(".pre-commit-config.yaml"))["repos"][0]["hooks"]
    hook_ids = {hook["id"] for hook in hooks}
    wanted = {"black-flake8": {"black", "flake8"}, "ruff": {"ruff-format", "ruff-check"}}
    assert wanted[answers["linter"]] <= hook_ids
    assert not (
        wanted["ruff" if answers["linter"] == "black-flake8" else "black-flake8"] & hook_ids
    )


@pytest.mark.parametrize("spelling", ["false", "no", "n", "0"])
def test_cli_boolean_strings_match_real_booleans(tmp_path: Path, spelling: str) -> None:
    """`serving=no` on the command line bakes what serving=False does through the API."""
    result = bake_cli(tmp_path / "cli", f"serving={spelling}")
    assert result.returncode == 0, result.stderr
    from_cli = Baked(tmp_path / "cli" / "ml-project")
    from_api = bake(tmp_path / "api", serving=False)
    assert from_cli.files() == from_api.files()
    assert "serving/" not in " ".join(from_cli.files())


def test_bake_inside_a_git_work_tree_makes_no_nested_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    project = bake(tmp_path / "packages")
    assert not (project.path / ".git").exists()
    assert (project.path / "pyproject.toml").exists()


def test_local_remote_directory_is_created_outside_the_repository(tmp_path: Path) -> None:
    project = bake(tmp_path)
    storage = tmp_path / "ml-project-dvc-storage"
    assert storage.is_dir()
    assert not storage.is_relative_to(project.path)


def test_make_setup_builds_the_git_hooks_environments_and_says_so(tmp_path: Path) -> None:
    """The first commit does not silently build pre-commit's environments (about 45 s):
    `make setup` builds them, with a line that says so; CI jobs, which commit nothing,
    only install the hook. tools/setup.sh and pre-commit are stand-ins here."""
    project = bake(tmp_path)
    (project.path / "tools" / "setup.sh").write_text("exit 0\n")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "pre-commit-calls"
    (venv / "bin" / "pre-commit").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    (venv / "bin" / "pre-commit").chmod(0o755)
    outside_ci = {"CI": "", "TF_BUILD": "", "GITHUB_ACTIONS": ""}
    result = project.run("make", "setup", f"VENV={venv}", extra_env=outside_ci)
    assert calls.read_text().splitlines() == ["install --install-hooks"]
    assert "setup: building the git hooks' environments" in result.stdout
    calls.unlink()
    for ci in ({"CI": "true"}, {"TF_BUILD": "True"}):
        result = project.run("make", "setup", f"VENV={venv}", extra_env={**outside_ci, **ci})
        assert calls.read_text().splitlines() == ["install"], ci
        assert "building the git hooks' environments" not in result.stdout
        calls.unlink()
