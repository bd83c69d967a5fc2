"""Which model this is, and whether it is the one ``dvc.lock`` recorded.

**Identity.** A model is named by the first ``MODEL_ID_LENGTH`` characters of
its file's SHA-256 (``ModelIdentity.id``), the same string everywhere: the
model card, ``/health`` and ``/predict``, the ``model_version`` column of batch
output, ``compare`` and the smoke test, so predictions join by model. When the
commit at hand is a version of the model registry (a ``model@vX.Y.Z`` tag, see
docs/model-registry.md), the version and its stages are shown beside it:
``3f2a9c1b7d4e (model@v0.0.3, production)``.

**Integrity.** ``dvc repro`` writes the MD5 hash of every file a stage read or
wrote into ``dvc.lock``. The evaluate stage's entry for the model is the model
the metrics were computed from. A model file with another hash (truncated in
the DVC cache, replaced by hand, half-downloaded) is not the model the quality
gate would be judging, so the ``gate`` command checks it first and refuses it.

``predict``, ``batch`` and ``serve`` make the same check and only warn
(``warn_if_not_recorded``): an image may carry a model whose ``dvc.lock`` is
not on the branch at hand.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import parse_yaml

LOCK_FILE = "dvc.lock"
# Characters of the model file's SHA-256 that name the model.
MODEL_ID_LENGTH = 12
# The artifact that dvc.yaml declares for the model: GTO's tags carry its name.
ARTIFACT = "model"


@dataclass(frozen=True)
class Registration:
    """A model's place in the registry: its version and the stages it is in."""

    version: str
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelIdentity:
    """Which model this is: its file's SHA-256 and, if registered, its version."""

    sha256: str
    registration: Registration | None = None

    @property
    def id(self) -> str:
        """The model's name: the first characters of its SHA-256."""
        return self.sha256[:MODEL_ID_LENGTH]

    def __str__(self) -> str:
        """``3f2a9c1b7d4e``, or ``3f2a9c1b7d4e (model@v0.0.3, production)``."""
        if self.registration is None:
            return self.id
        names = [f"{ARTIFACT}@{self.registration.version}", *self.registration.stages]
        return f"{self.id} ({', '.join(names)})"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, as 64 hexadecimal characters."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class ModelMismatchError(ValueError):
    """The model file's hash differs from the one ``dvc.lock`` recorded."""


def file_md5(path: Path) -> str:
    """The MD5 of a file, as DVC computes it for ``dvc.lock``."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "md5").hexdigest()


def recorded_md5(lock: Path, model: Path) -> str | None:
    """The hash ``lock`` recorded for ``model``, or None if it records none.

    Paths in the lock file are relative to its directory; ``model`` is relative
    to the current one.
    """
    if not lock.is_file():
        return None
    return md5_in_lock(lock.read_text("utf-8"), lock.parent, model)


def md5_in_lock(text: str, root: Path, model: Path) -> str | None:
    """The hash that the text of a ``dvc.lock`` in ``root`` records for ``model``.

    A stage's dependency (the model evaluate read) wins over a stage's output
    (the model train wrote): the metrics describe the first.
    """
    stages: dict[str, Any] = (parse_yaml(text) or {}).get("stages", {})
    wanted = model.resolve()
    for kind in ("deps", "outs"):
        for stage in stages.values():
            for entry in stage.get(kind, []):
                if (root / entry["path"]).resolve() == wanted and "md5" in entry:
                    return str(entry["md5"])
    return None


def hashes(model: Path, lock: Path) -> tuple[str, str] | None:
    """The model file's MD5 and the one ``lock`` records for it.

    None when ``lock`` records no hash for ``model`` (the steps were run by
    hand, not by ``dvc repro``): then the model is not checked.
    """
    expected = recorded_md5(lock, model)
    if expected is None:
        return None
    return file_md5(model), expected


def check_model(model: Path, lock: Path) -> str:
    """Say whether ``model`` is the one ``lock`` recorded.

    Returns a line for the gate's report; raises ``ModelMismatchError`` when the
    hashes differ.
    """
    found = hashes(model, lock)
    if found is None:
        return f"model {model} not checked: {lock} records no hash for it"
    actual, expected = found
    if actual != expected:
        raise ModelMismatchError(
            f"{model} is not the model dvc.lock recorded (md5 {actual[:12]}, recorded"
            f" {expected[:12]}), so the metrics do not describe it; run `dvc pull` to"
            " restore it, or `dvc repro` to train and evaluate it again"
        )
    return f"model {model} matches dvc.lock (md5 {actual[:12]})"


def lock_beside(params_file: str | Path) -> Path:
    """The ``dvc.lock`` of the project whose settings are ``params_file``."""
    return Path(params_file).parent / LOCK_FILE


def warn_if_not_recorded(model: Path, lock: Path) -> None:
    """One line on stderr when ``model`` is not the one ``lock`` recorded.

    Only a warning, never a refusal: the model still answers.
    """
    found = hashes(model, lock)
    if found is not None and found[0] != found[1]:
        actual, expected = found
        print(
            f"warning: {model} (md5 {actual}) is not the model {lock} records"
            f" (md5 {expected}), so its metrics do not describe it; run `make repro`"
            " to train it again, or `dvc pull` to restore it",
            file=sys.stderr,
        )


def git(root: Path, *args: str) -> str | None:
    """The output of a git command in ``root``; None when it fails or git is missing."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:  # no git: a serving image
        return None
    return done.stdout if done.returncode == 0 else None


def registration_at(root: Path, revision: str) -> Registration | None:
    """The registry's version of the commit ``revision`` and its stages, if any.

    The stages are those ``gto show`` gives the version (a stage's newest
    assignment). None when the commit carries no version tag, outside a git
    repository, without GTO (a development dependency), or when GTO cannot
    read the registry (``gto`` names the problem).
    """
    tags = git(root, "tag", "--points-at", revision, "--list", f"{ARTIFACT}@v*")
    commit = git(root, "rev-parse", revision + "^{commit}")
    if not tags or commit is None:
        return None
    # Imported here: GTO takes a second to import, only a registered commit
    # needs it, and it is a development dependency (not in a serving image).
    try:
        from gto import api
        from gto.exceptions import GTOException
    except ImportError:
        return None
    try:
        versions: list[dict[str, Any]] = api.show(str(root), ARTIFACT)
    except GTOException:
        return None
    for version in versions:
        if version["commit_hexsha"] == commit.strip():
            stages = tuple(str(stage["stage"]) for stage in version["stages"])
            return Registration(str(version["version"]), stages)
    return None


def head_registration(lock: Path, model: Path) -> Registration | None:
    """The registration of the last commit, when the model ``lock`` records is
    the one that commit recorded (not a model trained since)."""
    recorded = recorded_md5(lock, model)
    committed = git(lock.parent, "show", f"HEAD:./{lock.name}")
    if recorded is None or committed is None:
        return None
    if md5_in_lock(committed, lock.parent, model) != recorded:
        return None
    return registration_at(lock.parent, "HEAD")


def model_identity(model: Path, lock: Path | None = None) -> ModelIdentity:
    """The identity of the model file ``model``.

    With ``lock`` (the project's ``dvc.lock``), the registry's version and
    stages too, when the file is the model that the lock and the last commit
    record and that commit is a registered version.
    """
    registration = None
    if lock is not None and recorded_md5(lock, model) == file_md5(model):
        registration = head_registration(lock, model)
    return ModelIdentity(file_sha256(model), registration)
