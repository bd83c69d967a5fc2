"""One identity per model, and a damaged or stale model caught loudly, never used.

A model is named by the start of its file's SHA-256, with its registry version
and stages beside it when the commit registers it. A model file can be
truncated in the DVC cache or on the remote, or be another model than the one
the metrics describe. Loading such a file is a one-line error that says how to
get a good copy, and the quality gate compares the model's hash with the one
``dvc.lock`` recorded for the metrics.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from gto import api

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.errors import ModelLoadError
from {{ cookiecutter.package_name }}.model.integrity import model_identity
from {{ cookiecutter.package_name }}.model.predict import load_model
from {{ cookiecutter.package_name }}.model.report import model_card


def damage(path: Path, how: str) -> None:
    """Break the model file at ``path`` the way a bad download or disk would."""
    data = path.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "garbage": b"not a model at all\n" * 10,
    }
    path.write_bytes(damaged[how])


def write_lock(params_file: Path, model: Path, md5: str) -> Path:
    """A dvc.lock beside ``params_file`` whose evaluate stage read ``model``."""
    lock = {
        "schema": "2.0",
        "stages": {
            "evaluate": {
                "cmd": "python -m {{ cookiecutter.package_name }} evaluate",
                "deps": [{"path": str(model), "hash": "md5", "md5": md5}],
            }
        },
    }
    path = params_file.parent / "dvc.lock"
    path.write_text(yaml.safe_dump(lock), encoding="utf-8")
    return path


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_a_damaged_model_is_one_error_saying_what_to_run(
    trained_params: Params, how: str
) -> None:
    damage(trained_params.paths.model, how)

    with pytest.raises(ModelLoadError) as error:
        load_model(trained_params.paths.model)

    message = str(error.value)
    assert "\n" not in message
    assert str(trained_params.paths.model) in message
    assert "dvc pull" in message and "dvc repro" in message


def test_predict_with_a_damaged_model_prints_one_line(
    capsys: pytest.CaptureFixture[str], params_file: Path, trained_params: Params
) -> None:
    damage(trained_params.paths.model, "truncated")

    code = main(
        [
            "predict",
            "--params",
            str(params_file),
            "--input",
            str(trained_params.paths.test),
        ]
    )

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "dvc pull" in err and "Traceback" not in err


def test_gate_passes_when_the_model_is_the_one_in_dvc_lock(
    capsys: pytest.CaptureFixture[str], params_file: Path, evaluated_params: Params
) -> None:
    model = evaluated_params.paths.model
    write_lock(params_file, model, md5_of(model))

    code = main(["gate", "--params", str(params_file)])

    out = capsys.readouterr().out
    assert code == 0
    assert "matches dvc.lock" in out


def test_gate_fails_when_the_model_is_not_the_one_in_dvc_lock(
    capsys: pytest.CaptureFixture[str], params_file: Path, evaluated_params: Params
) -> None:
    model = evaluated_params.paths.model
    write_lock(params_file, model, md5_of(model))
    damage(model, "truncated")

    code = main(["gate", "--params", str(params_file)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{model} is not the model dvc.lock recorded" in err
    assert "dvc pull" in err and "dvc repro" in err
    assert "Quality gate passed" not in err


def test_gate_without_dvc_lock_says_the_model_was_not_checked(
    capsys: pytest.CaptureFixture[str], params_file: Path, evaluated_params: Params
) -> None:
    code = main(["gate", "--params", str(params_file)])

    assert code == 0
    assert "not checked" in capsys.readouterr().out


STALE_MD5 = "0123456789abcdef0123456789abcdef"


def assert_one_warning(err: str, model: Path) -> None:
    """``err`` is one warning line naming both hashes and what to run."""
    assert err.startswith("warning: ") and err.count("\n") == 1
    assert str(model) in err
    assert md5_of(model) in err and STALE_MD5 in err
    assert "make repro" in err and "dvc pull" in err


def predict_test_set(params_file: Path, trained_params: Params) -> tuple[int, Path]:
    """``predict`` on the test set, as a user runs it; its exit code, its output."""
    output = params_file.parent / "predictions.csv"
    code = main(
        [
            "predict",
            "--params",
            str(params_file),
            "--input",
            str(trained_params.paths.test),
            "--output",
            str(output),
        ]
    )
    return code, output


def test_predict_warns_when_the_model_is_not_the_one_in_dvc_lock(
    capsys: pytest.CaptureFixture[str], params_file: Path, trained_params: Params
) -> None:
    model = trained_params.paths.model
    write_lock(params_file, model, STALE_MD5)
    code, output = predict_test_set(params_file, trained_params)

    assert code == 0 and output.is_file()
    assert_one_warning(capsys.readouterr().err, model)


def score_test_set(params_file: Path, params: Params) -> tuple[int, Path]:
    """Run ``batch`` on the test set without its label: (exit code, output file)."""
    table = params_file.parent / "features.csv"
    test_set = pd.read_csv(params.paths.test)
    test_set.drop(columns=[params.data.target]).to_csv(table, index=False)
    output = params_file.parent / "scored.csv"
    args = ["--params", str(params_file), "--input", str(table)]
    return main(["batch", *args, "--output", str(output)]), output


def test_batch_warns_when_the_model_is_not_the_one_in_dvc_lock(
    capsys: pytest.CaptureFixture[str], params_file: Path, trained_params: Params
) -> None:
    model = trained_params.paths.model
    write_lock(params_file, model, STALE_MD5)
    code, output = score_test_set(params_file, trained_params)

    assert code == 0 and output.is_file()
    assert_one_warning(capsys.readouterr().err, model)


def test_predict_is_quiet_when_the_model_is_the_one_in_dvc_lock(
    capsys: pytest.CaptureFixture[str], params_file: Path, trained_params: Params
) -> None:
    model = trained_params.paths.model
    write_lock(params_file, model, md5_of(model))
    code, _ = predict_test_set(params_file, trained_params)

    assert code == 0
    assert capsys.readouterr().err == ""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_model_is_named_by_the_start_of_its_sha256(trained_params: Params) -> None:
    model = trained_params.paths.model
    identity = model_identity(model)

    assert identity.sha256 == sha256_of(model)
    assert identity.id == sha256_of(model)[:12] == str(identity)
    assert identity.registration is None


def register_in_production(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commit ``root`` (a new git repository) and register it as model@v0.0.1,
    in production, as `gto register` and `gto assign` do."""
    for key in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{key}_NAME", "Dev")
        monkeypatch.setenv(f"GIT_{key}_EMAIL", "dev@example.com")
    for command in (["init", "-q"], ["add", "dvc.lock"], ["commit", "-q", "-m", "m"]):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    api.register(str(root), "model", "HEAD")
    api.assign(str(root), "model", "production", version="v0.0.1")


@pytest.fixture
def registered(
    params_file: Path, trained_params: Params, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """The trained model, registered as v0.0.1 in production; and its dvc.lock."""
    model = trained_params.paths.model
    lock = write_lock(params_file, model, md5_of(model))
    register_in_production(params_file.parent, monkeypatch)
    return model, lock


def test_a_registered_model_shows_its_version_and_stage(
    registered: tuple[Path, Path],
) -> None:
    model, lock = registered

    identity = model_identity(model, lock)

    assert str(identity) == f"{sha256_of(model)[:12]} (model@v0.0.1, production)"


def test_without_gto_a_registered_model_shows_its_name_only(
    registered: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, lock = registered
    # An install without the dev extra: GTO cannot be imported.
    monkeypatch.setitem(sys.modules, "gto", None)

    assert str(model_identity(model, lock)) == sha256_of(model)[:12]


def test_a_model_trained_after_the_registered_commit_shows_its_name_only(
    params_file: Path, trained_params: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = trained_params.paths.model
    lock = write_lock(params_file, model, md5_of(model))
    register_in_production(params_file.parent, monkeypatch)
    model.write_bytes(model.read_bytes() + b"retrained")
    write_lock(params_file, model, md5_of(model))  # as dvc repro records it

    assert str(model_identity(model, lock)) == sha256_of(model)[:12]


def test_the_card_and_the_batch_output_name_the_model_alike(
    capsys: pytest.CaptureFixture[str],
    params_file: Path,
    evaluated_params: Params,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = evaluated_params.paths.model
    write_lock(params_file, model, md5_of(model))
    register_in_production(params_file.parent, monkeypatch)
    code, output = score_test_set(params_file, evaluated_params)
    assert code == 0

    name = sha256_of(model)[:12]
    assert f"`{name} (model@v0.0.1, production)`" in model_card(params_file)
    assert set(pd.read_csv(output)["model_version"]) == {name}
    assert f"model {name} (model@v0.0.1, production))" in capsys.readouterr().out
