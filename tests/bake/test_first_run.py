"""A new project's first run and a teammate's clone, following docs/onboarding.md.

The default `local` DVC remote is a directory beside the project, written in
.dvc/config as a path relative to it. A clone elsewhere must not silently push
to (and create) a new, empty directory, and `make pull` before anything was
pushed must say what to do instead of DVC's "Checkout failed".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.helpers import Baked, bake

pytestmark = pytest.mark.slow


def clone(project: Baked, destination: Path) -> Baked:
    """``git clone`` of ``project`` at ``destination``, with the same virtualenv."""
    project.run("git", "clone", "--quiet", str(project.path), str(destination))
    return Baked(destination, project.answers, project.venv)


def storage_of(project: Baked) -> Path:
    """The local DVC remote directory, as DVC resolves it for ``project``."""
    return Path(project.run("dvc", "config", "remote.storage.url").stdout.strip())


def test_first_run_as_documented_leaves_git_clean_and_the_remote_in_sync(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(tmp_path / "work", venv=baked_venv)
    repro = project.make("repro")
    # What to commit, as the README's first run says it, not DVC's own hint
    # (`git add dvc.lock data/raw/.gitignore ...`, without reports/).
    readme = project.read("README.md")
    git_add = next(line for line in readme.splitlines() if line.startswith("git add "))
    assert repro.stdout.rstrip().splitlines()[-1].endswith(f": {git_add}"), repro.stdout
    assert "To track the changes with git" not in repro.stdout + repro.stderr
    assert "core.autostage" not in repro.stdout + repro.stderr
    project.run("git", "add", "dvc.lock", "reports/", "data/", "models/")
    identity = ["-c", "user.name=New User", "-c", "user.email=new@example.com"]
    project.run("git", *identity, "commit", "--quiet", "-m", "Train the first model")
    project.make("push")
    assert project.run("git", "status", "--porcelain", "--untracked-files=all").stdout == ""
    assert "in sync" in project.run("dvc", "status", "--cloud").stdout
    # A clone beside the original finds the same storage and pulls the model.
    teammate = clone(project, tmp_path / "work" / "teammate")
    teammate.make("pull")
    assert (teammate.path / "models" / "model.joblib").is_file()


def test_a_clone_elsewhere_stops_instead_of_creating_a_new_remote(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(tmp_path / "work", venv=baked_venv)
    elsewhere = clone(project, tmp_path / "somewhere" / "else" / "ml-project")
    storage = storage_of(elsewhere)
    assert not storage.exists()
    for target in ("push", "pull"):
        result = elsewhere.make(target, check=False)
        assert result.returncode != 0, target
        assert f"the DVC remote is the directory {storage}, which does not exist" in result.stderr
        assert "dvc remote modify --local storage url" in result.stderr
    assert not storage.exists()


def test_pull_before_anything_was_pushed_says_what_to_run(tmp_path: Path, baked_venv: Path) -> None:
    project = bake(tmp_path, venv=baked_venv)
    result = project.make("pull", check=False)
    assert result.returncode != 0
    assert "nothing to pull" in result.stderr and "make repro" in result.stderr


def test_an_experiment_is_held_to_the_quality_gate(tmp_path: Path, baked_venv: Path) -> None:
    """`make exp` (docs/pipeline.md): `dvc exp run` with PARAMS, then the gate,
    which fails the command when a metric of the experiment is below its minimum."""
    project = bake(tmp_path, venv=baked_venv)
    project.make("repro")
    identity = ["-c", "user.name=New User", "-c", "user.email=new@example.com"]
    project.run("git", "add", "dvc.lock", "reports/", "data/", "models/")
    project.run("git", *identity, "commit", "--quiet", "-m", "Train the first model")

    tried = project.make("exp", "PARAMS=model.type=random_forest")
    assert "Quality gate passed." in tried.stdout, tried.stdout
    assert "type: random_forest" in project.read("params.yaml")
    listed = project.run("dvc", "exp", "show", "--only-changed", "--csv").stdout
    assert "random_forest" in listed, listed

    strict = project.make("exp", "PARAMS=thresholds.accuracy=0.9999", check=False)
    assert strict.returncode != 0, strict.stdout
    assert "Quality gate failed" in strict.stderr and "accuracy" in strict.stderr, strict.stderr
