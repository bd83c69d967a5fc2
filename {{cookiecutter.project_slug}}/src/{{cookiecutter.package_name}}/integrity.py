"""Check that the model file is the one ``dvc.lock`` recorded.

``dvc repro`` writes the MD5 hash of every file a stage read or wrote into
``dvc.lock``. The evaluate stage's entry for the model is the model the
metrics were computed from. A model file with another hash (truncated in the
DVC cache, replaced by hand, half-downloaded) is not the model the quality
gate would be judging, so the ``gate`` command checks it first.
"""

from __future__ import annotations

import hashlib
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


def check_model(model: Path, lock: Path) -> str:
    """Say whether ``model`` is the one ``lock`` recorded.

    Returns a line for the gate's report; raises ``ModelMismatchError`` when the
    hashes differ. Without a lock file or an entry the model is not checked
    (the steps were run by hand, not by ``dvc repro``).
    """
    expected = recorded_md5(lock, model)
    if expected is None:
        return f"model {model} not checked: {lock} records no hash for it"
    actual = file_md5(model)
    if actual != expected:
        raise ModelMismatchError(
            f"{model} is not the model dvc.lock recorded (md5 {actual[:12]}, recorded"
            f" {expected[:12]}), so the metrics do not describe it; run `dvc pull` to"
            " restore it, or `dvc repro` to train and evaluate it again"
        )
    return f"model {model} matches dvc.lock (md5 {actual[:12]})"
