"""Champion/challenger: is the new model at least as good as the current one?

The champion is the model that a git revision's ``dvc.lock`` records: by
default ``HEAD``, the last commit, so after ``dvc repro`` the new model in the
work tree is compared with the committed one (scheduled training runs on
main, so there it is main's model). DVC fetches it the usual way, from the
local cache or else the DVC remote. Both models are scored on the same rows,
the current test set (``paths.test``): a model trained on new data is judged
on that data, and so is the champion.

A metric passes when the challenger scores at least the champion's score minus
that metric's tolerance (``tolerances`` in params.yaml). The outcomes:

* no champion: the revision records no model yet (the first one) - passes;
* champion unavailable: the revision records a model that neither the DVC
  cache nor a reachable remote holds - passes, and says what to set up;
* compared: fails when any metric is lower by more than its tolerance.

Both models are named by their identity (``model/integrity.py``), the champion with
its registry version and stages when its commit is a registered version.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import dvc.api
import pandas as pd
from dvc.exceptions import DvcException
from sklearn.pipeline import Pipeline

from ..config import MetricLimits, Params
from ..model.integrity import (
    LOCK_FILE,
    ModelIdentity,
    file_sha256,
    md5_in_lock,
    model_identity,
    registration_at,
)
from ..model.predict import load_model, predict
from ..pipeline.evaluate import compute_metrics
from ..pipeline.prepare import load_prepared


@dataclass(frozen=True)
class MetricComparison:
    """One metric of both models and the tolerance that decides between them."""

    name: str
    champion: float
    challenger: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """The challenger scores at least the champion's score minus the tolerance."""
        return self.challenger >= round(self.champion - self.tolerance, 4)

    def line(self) -> str:
        """The metric's row of the printed table."""
        result = "ok" if self.ok else "WORSE"
        return (
            f"{self.name:<10} {self.champion:>9.4f} {self.challenger:>9.4f}"
            f" {self.tolerance:>10.4f}  {result}"
        )

    def failure(self) -> str:
        """Why the metric fails, naming the setting that allows more."""
        return (
            f"{self.name} {self.challenger:.4f} is below the champion's"
            f" {self.champion:.4f} minus the tolerance {self.tolerance}"
            f" (tolerances.{self.name} in params.yaml)"
        )


TABLE_HEADER = f"{'metric':<10} {'champion':>9} {'new':>9} {'tolerance':>10}  result"


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` found: a one-line verdict and, when compared, each metric."""

    message: str
    metrics: list[MetricComparison] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """False only when the challenger is worse than an available champion."""
        return all(metric.ok for metric in self.metrics)

    @property
    def failures(self) -> list[str]:
        """One line per metric that is worse by more than its tolerance."""
        return [metric.failure() for metric in self.metrics if not metric.ok]


def champion_hash(model_path: Path, revision: str) -> str | None:
    """The hash that ``dvc.lock`` at ``revision`` records for the model, if any."""
    try:
        text = dvc.api.read(LOCK_FILE, rev=revision)
    except DvcException:  # no dvc.lock at that revision: nothing trained yet
        return None
    return md5_in_lock(text, Path.cwd(), model_path)


def load_champion(model_path: Path, revision: str) -> tuple[Pipeline, ModelIdentity]:
    """The model file as of ``revision``, from the DVC cache or the remote, and
    its identity.

    The file is copied into a temporary folder and loaded with ``load_model``'s
    checks. Raises ``DvcException`` when neither the cache nor the remote has
    it. Load only models that your own pipeline produced: joblib files can run
    code when loaded.
    """
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / model_path.name
        with dvc.api.open(str(model_path), rev=revision, mode="rb") as stream:
            with local.open("wb") as copy:
                shutil.copyfileobj(stream, copy)
        identity = ModelIdentity(file_sha256(local), registration_at(Path(), revision))
        return load_model(local), identity


def score(
    model: Pipeline, features: pd.DataFrame, actual: pd.Series
) -> dict[str, float]:
    """The model's metrics on the test rows (as ``evaluate`` computes them)."""
    result = predict(model, features)
    return compute_metrics(actual, result["prediction"], result["probability"])


def compare_metrics(
    champion: dict[str, float], challenger: dict[str, float], tolerances: MetricLimits
) -> list[MetricComparison]:
    """Each metric that has a tolerance, for both models."""
    return [
        MetricComparison(name, champion[name], challenger[name], tolerance)
        for name, tolerance in tolerances.model_dump().items()
    ]


def compare(params: Params, revision: str) -> Comparison:
    """Score the model in the work tree against the one ``revision`` records."""
    model_path = params.paths.model
    recorded = champion_hash(model_path, revision)
    if recorded is None:
        return Comparison(
            f"no champion: {revision} records no model yet, so this one is the first",
        )
    try:
        champion_model, champion = load_champion(model_path, revision)
    except DvcException as error:
        return Comparison(
            f"not compared: the champion recorded at {revision} (dvc.lock md5"
            f" {recorded[:12]}) is neither in the DVC cache nor on a reachable remote"
            f" ({type(error).__name__}); set up the DVC remote (docs/remotes.md)"
            " or run `dvc pull` at that revision",
        )
    features, actual = load_prepared(params.paths.test, params.data.target)
    challenger = model_identity(model_path)
    metrics = compare_metrics(
        score(champion_model, features, actual),
        score(load_model(model_path), features, actual),
        params.tolerances,
    )
    verdict = "as good as" if all(m.ok for m in metrics) else "worse than"
    message = (
        f"the new model is {verdict} the champion on {params.paths.test}; new model"
        f" {challenger}, champion {champion} recorded at {revision}"
    )
    return Comparison(message, metrics)
