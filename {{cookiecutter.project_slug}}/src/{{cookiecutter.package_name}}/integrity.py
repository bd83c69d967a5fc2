"""Check that the model file is the one ``dvc.lock`` recorded.

``dvc repro`` writes the MD5 hash of every file a stage read or wrote into
``dvc.lock``. The evaluate stage's entry for the model is the model the
metrics were computed from. A model file with another hash (truncated in the
DVC cache, replaced by hand, half-downloaded) is not the model the quality
gate would be judging, so the ``gate`` command checks it first and refuses it.

``predict``, ``batch`` and ``serve`` make the same check and only warn
(``warn_if_not_recorded``): an image may carry a model whose ``dvc.lock`` is
not on the branch at hand.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from .config import parse_yaml

LOCK_FILE = "dvc.lock"


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
