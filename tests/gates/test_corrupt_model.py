"""A damaged model is caught loudly, from the DVC cache to the server.

The baked pipeline runs once; then the model is truncated where a bad disk or a
bad download would leave it. ``dvc checkout`` restores the damaged copy with
exit 0, so the quality gate must notice that the file is not the model
``dvc.lock`` recorded, and ``predict`` and ``serve`` must refuse it in one line
that says what to run. A damaged copy on the remote is never pulled.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support.helpers import Baked, bake

pytestmark = pytest.mark.slow

IDENTITY = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com"]
MODEL = "models/model.joblib"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """A default project after ``make repro`` and ``dvc push``, all committed."""
    project = bake(tmp_path_factory.mktemp("corrupt"), venv=baked_venv)
    project.make("repro")
    project.run("dvc", "push")
    project.run("git", "add", "--all")
    project.run("git", *IDENTITY, "commit", "--quiet", "--no-verify", "-m", "Run")
    return project


def object_path(root: Path, project: Baked) -> Path:
    """Where DVC keeps the model's bytes under ``root`` (a cache or a remote)."""
    md5 = subprocess.run(
        ["md5sum", str(project.path / MODEL)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    return root / "files" / "md5" / md5[:2] / md5[2:]


def truncate(path: Path) -> bytes:
    """Cut ``path`` in half (DVC makes cache files read-only); return the old bytes."""
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 2])
    return data


def assert_one_line_advice(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {MODEL} is not a readable model")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "dvc pull" in result.stderr and "dvc repro" in result.stderr


def test_damaged_cache_copy_fails_the_gate_predict_and_serve(trained: Baked) -> None:
    cached = object_path(trained.path / ".dvc" / "cache", trained)
    good = truncate(cached)
    try:
        (trained.path / MODEL).unlink()
        assert trained.run("dvc", "checkout").returncode == 0  # DVC does not notice

        gate = trained.run("python", "-m", trained.package, "gate", check=False)
        assert gate.returncode == 1, gate.stdout + gate.stderr
        assert f"{MODEL} is not the model dvc.lock recorded" in gate.stderr
        assert "Quality gate passed" not in gate.stdout

        rows = str(trained.path / "data" / "prepared" / "test.csv")
        predict = ["python", "-m", trained.package, "predict", "--input", rows]
        assert_one_line_advice(trained.run(*predict, check=False))
        serve = ["python", "-m", trained.package, "serve", "--port", "0"]
        assert_one_line_advice(trained.run(*serve, check=False, timeout=120))
    finally:
        cached.write_bytes(good)
        (trained.path / MODEL).unlink(missing_ok=True)
        trained.run("dvc", "checkout", "--force")
    assert trained.run("python", "-m", trained.package, "gate").returncode == 0


def test_damaged_remote_copy_is_never_pulled(trained: Baked, tmp_path: Path) -> None:
    storage = trained.path.parent / f"{trained.path.name}-dvc-storage"
    remote_copy = object_path(storage, trained)
    good = truncate(remote_copy)
    try:
        clone = tmp_path / trained.path.name
        subprocess.run(["git", "clone", "-q", str(trained.path), str(clone)], check=True)
        shutil.copytree(storage, tmp_path / storage.name, dirs_exist_ok=True)
        teammate = Baked(clone, {}, trained.venv)
        pull = teammate.run("dvc", "pull", check=False)
        assert pull.returncode != 0
        assert not (clone / MODEL).exists()
        gate = teammate.run("python", "-m", teammate.package, "gate", check=False)
        assert gate.returncode == 2 and "dvc pull" in gate.stderr
    finally:
        remote_copy.write_bytes(good)


def test_a_bad_path_in_params_is_named_before_dvc_runs(trained: Baked, tmp_path: Path) -> None:
    params = trained.path / "params.yaml"
    original = params.read_text()
    try:
        params.write_text(original.replace(f"  model: {MODEL}\n", '  model: ""\n'))
        result = trained.make("repro", check=False)
    finally:
        params.write_text(original)
    assert result.returncode != 0
    assert "error: params.yaml: paths.model: must be a non-empty string (got '')" in (result.stderr)
    assert "unexpected error" not in result.stderr
