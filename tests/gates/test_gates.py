"""The baked project passes its own gates, run as a user runs them, with no auto-fix first."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from support.helpers import Baked, assert_pytest_passed, bake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """A default bake whose gates run in order: lint, tests, pipeline, docs."""
    return bake(tmp_path_factory.mktemp("gates"), venv=baked_venv)


def git_status(project: Baked) -> str:
    return project.run("git", "status", "--porcelain", "--untracked-files=all").stdout


def test_lint_passes_and_changes_nothing(project: Baked) -> None:
    """`make lint`: every pre-commit hook, then mypy at its strictest."""
    before = git_status(project)
    result = project.make("lint")
    assert "Success: no issues found" in result.stdout, result.stdout
    assert git_status(project) == before == ""


def test_baked_test_suite_passes(project: Baked) -> None:
    result = project.make("test")
    assert_pytest_passed(result.stdout)


def test_dvc_pipeline_runs_end_to_end(project: Baked) -> None:
    assert project.run("dvc", "status").returncode == 0  # every param and dep resolves
    result = project.make("repro")
    assert "accuracy" in result.stdout and "roc_auc" in result.stdout
    # One process: the settings checked, DVC's pipeline (whose stages print
    # "Wrote ..." themselves), then the gate.
    steps = ("params.yaml is valid", "Wrote ", "Running stage 'evaluate'", "Quality gate passed.")
    assert all(step in result.stdout for step in steps), result.stdout
    assert [result.stdout.index(step) for step in steps] == sorted(
        result.stdout.index(step) for step in steps
    )
    metrics = json.loads(project.read("reports/metrics.json"))
    assert set(metrics) >= {"accuracy", "f1", "roc_auc"}
    shown = json.loads(project.run("dvc", "metrics", "show", "--json").stdout)
    assert shown  # DVC itself reads the metrics back
    # Every stage up to date: a clone at this commit reproduces from its snapshot.
    assert "up to date" in project.run("dvc", "status").stdout
    for output in ("data/prepared/train.csv", "data/prepared/test.csv", "models/model.joblib"):
        assert (project.path / output).is_file(), output
    # Outputs are DVC's business: git sees only dvc.lock and DVC's own .gitignore files.
    untracked = git_status(project).split()
    assert "dvc.lock" in untracked
    assert not any(
        p.startswith(("data/", "models/")) and p.endswith((".csv", ".joblib")) for p in untracked
    )


def test_dvc_plots_render(project: Baked) -> None:
    if not (project.path / "dvc.lock").exists():
        project.make("repro")
    project.run("dvc", "plots", "show", "-o", "plots-html")
    page = (project.path / "plots-html" / "index.html").read_text()
    assert "confusion" in page.lower() and "fpr" in page
    # The PNG images, which need no network, beside the interactive (Vega) plots.
    for image in ("confusion_matrix", "roc"):
        assert f'<img src="static/workspace_reports_plots_{image}.png">' in page, image


def test_quality_gate_fails_when_a_threshold_is_raised(project: Baked) -> None:
    if not (project.path / "dvc.lock").exists():
        project.make("repro")
    params = project.path / "params.yaml"
    original = params.read_text()
    try:
        raised = yaml.safe_load(original)
        raised["thresholds"]["roc_auc"] = 0.9999  # above what the model reaches
        params.write_text(yaml.safe_dump(raised))
        result = project.run("python", "-m", project.package, "gate", check=False)
        assert result.returncode == 1
        assert "roc_auc" in result.stdout + result.stderr
    finally:
        params.write_text(original)


def test_an_experiment_trains_another_estimator(project: Baked) -> None:
    """docs/pipeline.md's example: `dvc exp run -S model.type=random_forest`."""
    if not (project.path / "dvc.lock").exists():
        project.make("repro")
    project.set_git_identity()
    project.run("git", "add", "-A")
    project.run("git", "commit", "-q", "--no-verify", "-m", "Train the default model")

    project.run("dvc", "exp", "run", "--quiet", "-S", "model.type=random_forest")

    changed = json.loads(project.run("dvc", "params", "diff", "--json").stdout)
    assert changed["params.yaml"]["model.type"] == {
        "old": "logistic_regression",
        "new": "random_forest",
    }
    estimator = project.run(
        "python", "-c", "import joblib; print(type(joblib.load('models/model.joblib')[-1]))"
    ).stdout
    assert "RandomForestClassifier" in estimator
    assert project.run("python", "-m", project.package, "gate").returncode == 0


def test_batch_and_drift_work_out_of_the_box(project: Baked) -> None:
    """A first `make batch` and `make drift` need nothing but the bake and a trained
    model: without batch.input, a sample table of held-out rows is written there."""
    if not (project.path / "dvc.lock").exists():
        project.make("repro")
    table = project.path / "data" / "batch" / "input.csv"
    assert not table.exists()
    batch = project.make("batch")
    assert "Wrote a sample table to score to data/batch/input.csv" in batch.stdout
    assert (project.path / "data" / "batch" / "predictions.csv").exists()
    drift = project.make("drift")
    assert "No drift" in drift.stdout
    # A table that is there is never replaced by the sample.
    table.write_text(table.read_text())
    before = table.stat().st_mtime_ns
    again = project.make("batch")
    assert "Wrote a sample" not in again.stdout and table.stat().st_mtime_ns == before


def test_docs_build_strict_with_api_reference(project: Baked) -> None:
    project.make("docs")
    api = (project.path / "site" / "api" / "index.html").read_text()
    assert "load_params" in api and project.package in api


# The operating system's python3 and a PATH of the system's own directories:
# no pyenv shim, no uv, no virtualenv of the template's.
DEBIAN_PYTHON3 = Path("/usr/bin/python3")
SYSTEM_PATH = os.pathsep.join(("/usr/bin", "/bin"))


def test_make_setup_without_uv_bootstraps_it_and_locks(tmp_path: Path) -> None:
    """The newcomer path on a machine with only python3, git and make: `make setup`
    installs uv from the package index, writes uv.lock, installs exactly that set.

    python3 is the operating system's own (Debian 12's /usr/bin/python3, a plain
    executable, not a pyenv shim), as on a newcomer's machine."""
    if not DEBIAN_PYTHON3.exists():
        pytest.skip(f"{DEBIAN_PYTHON3} (the system's python3) is not installed")
    project = bake(tmp_path)
    path = SYSTEM_PATH
    assert shutil.which("python3", path=path) == str(DEBIAN_PYTHON3)
    assert shutil.which("uv", path=path) is None, "uv must not be on PATH for this test"
    env = {"PATH": path, "UV_PYTHON_DOWNLOADS": "never"}
    result = project.run("make", "setup", extra_env=env, timeout=900)
    assert "uv is not on PATH: installing it into .venv" in result.stdout
    # python3's own pip installed it: no pip was bootstrapped into the virtualenv,
    # and pip did not run inside the virtualenv that has none.
    assert "bootstrapping pip into it instead" not in result.stdout
    assert "No module named pip" not in result.stdout + result.stderr
    assert "created uv.lock" in result.stdout and "commit it" in result.stdout
    venv_python = project.path / ".venv" / "bin" / "python"
    project.run(str(venv_python), "-m", project.package, "--help")
    for tool in ("dvc", "pytest", "pre-commit", "mkdocs", "black", "flake8", "mypy", "uv"):
        assert (project.path / ".venv" / "bin" / tool).exists(), tool
    assert (project.path / ".git" / "hooks" / "pre-commit").exists()

    def assert_exactly_the_lock() -> None:
        """The environment is exactly the lock: uv finds nothing to change."""
        uv_in_venv = str(project.path / ".venv" / "bin" / "uv")
        check = project.run(
            uv_in_venv, "sync", "--locked", "--check", "--all-extras", extra_env=env, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr

    assert_exactly_the_lock()
    # A second setup from scratch, where python3 has no pip of its own (as on
    # Debian without python3-pip): the virtualenv's bootstrapped pip installs
    # uv, which installs from the lock it finds, without locking again.
    shutil.rmtree(project.path / ".venv")
    no_pip = tmp_path / "python3-without-pip"
    no_pip.mkdir()
    (no_pip / "python3").write_text(
        '#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then echo "No module named pip" >&2; exit 1; fi\n'
        f'exec "{shutil.which("python3", path=path)}" "$@"\n'
    )
    (no_pip / "python3").chmod(0o755)
    env_without_pip = {**env, "PATH": f"{no_pip}{os.pathsep}{path}"}
    again = project.run("make", "setup", extra_env=env_without_pip, timeout=900)
    fallback = "python3's own pip could not install uv into .venv: bootstrapping pip into it"
    assert fallback in again.stdout
    assert "created uv.lock" not in again.stdout
    assert_exactly_the_lock()
