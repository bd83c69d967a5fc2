"""Tests for the champion/challenger comparison (the ``compare`` command).

The champion normally comes from DVC (the model a commit's dvc.lock records);
here the two functions that fetch it are replaced, so each case runs in a
fraction of a second. CI runs the real fetch in the train workflow.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import pytest
from dvc.exceptions import DvcException
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import Params
from {{ cookiecutter.package_name }}.model.integrity import ModelIdentity, Registration
from {{ cookiecutter.package_name }}.model.predict import load_model
from {{ cookiecutter.package_name }}.pipeline.prepare import load_prepared
from {{ cookiecutter.package_name }}.quality import compare as compare_module
from {{ cookiecutter.package_name }}.quality.compare import MetricComparison

RECORDED = "0123456789abcdef0123456789abcdef"
# The champion's identity: its SHA-256, its registry version and stage.
CHAMPION = ModelIdentity("c" * 64, Registration("v0.0.1", ("production",)))


def use_champion(
    monkeypatch: pytest.MonkeyPatch,
    model: Pipeline | None,
    recorded: str | None = RECORDED,
) -> None:
    """Make ``model`` the champion (None: recorded, but DVC cannot fetch it)."""

    def load(path: Path, revision: str) -> tuple[Pipeline, ModelIdentity]:
        if model is None:
            raise DvcException("missing cache files")
        return model, CHAMPION

    monkeypatch.setattr(compare_module, "champion_hash", lambda path, rev: recorded)
    monkeypatch.setattr(compare_module, "load_champion", load)


def run_compare(
    capsys: pytest.CaptureFixture[str], params_file: Path
) -> tuple[int, str, str]:
    """Run ``compare`` in-process; return (exit code, stdout, stderr)."""
    code = main(["compare", "--params", str(params_file)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_first_model_has_no_champion_and_passes(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    trained_params: Params,
) -> None:
    use_champion(monkeypatch, None, recorded=None)

    code, out, err = run_compare(capsys, params_file)

    assert (code, err) == (0, "")
    assert "no champion: HEAD records no model yet" in out


def test_a_champion_out_of_reach_passes_and_says_what_to_set_up(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    trained_params: Params,
) -> None:
    use_champion(monkeypatch, None)

    code, out, err = run_compare(capsys, params_file)

    assert (code, err) == (0, "")
    assert (
        f"not compared: the champion recorded at HEAD (dvc.lock md5 {RECORDED[:12]})"
        in out
    )
    assert "docs/remotes.md" in out


def test_the_same_model_is_as_good_as_the_champion(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    trained_params: Params,
) -> None:
    use_champion(monkeypatch, load_model(trained_params.paths.model))

    code, out, err = run_compare(capsys, params_file)

    assert (code, err) == (0, "")
    # Both models by their identity, the champion's registry version beside it.
    new = hashlib.sha256(trained_params.paths.model.read_bytes()).hexdigest()[:12]
    assert "the new model is as good as the champion" in out
    assert (
        f"; new model {new}, champion cccccccccccc (model@v0.0.1, production)"
        " recorded at HEAD" in out
    )
    rows = [line.split() for line in out.splitlines()[1:4]]
    assert [row[0] for row in rows] == ["accuracy", "f1", "roc_auc"]
    assert all(row[1] == row[2] and row[-1] == "ok" for row in rows)


def test_a_worse_model_fails_naming_the_metric_and_its_tolerance(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    trained_params: Params,
) -> None:
    use_champion(monkeypatch, load_model(trained_params.paths.model))
    # The new model always predicts the most frequent class.
    features, target = load_prepared(
        trained_params.paths.train, trained_params.data.target
    )
    worse = Pipeline([("classifier", DummyClassifier())]).fit(features, target)
    joblib.dump(worse, trained_params.paths.model)

    code, out, err = run_compare(capsys, params_file)

    assert code == 1
    assert "the new model is worse than the champion" in out
    assert "champion cccccccccccc (model@v0.0.1, production)" in out
    assert "WORSE" in out
    assert "roc_auc 0.5000 is below the champion's" in err
    assert "(tolerances.roc_auc in params.yaml)" in err


@pytest.mark.parametrize(
    ("challenger", "ok"),
    [(0.96, True), (0.95, True), (0.94, True), (0.9399, False)],
    ids=["better", "equal", "within-tolerance", "beyond-tolerance"],
)
def test_a_metric_may_fall_by_its_tolerance_and_no_more(
    challenger: float, ok: bool
) -> None:
    assert MetricComparison("accuracy", 0.95, challenger, 0.01).ok is ok
