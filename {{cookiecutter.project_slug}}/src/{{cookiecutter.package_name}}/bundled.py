"""Datasets that ship with scikit-learn: ``data.source: "sklearn:<name>"``.

They need no download, so a new project trains offline on any machine.
``sources.py`` imports this module only for such a source: scikit-learn takes
a second or more to load, and a CSV file or URL does not need it.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.utils import Bunch

from .data import normalise_columns
from .errors import DataError
from .sources import BUNDLED_PREFIX

# The datasets, by the name used after "sklearn:".
DATASETS: dict[str, Callable[..., Bunch]] = {
    "breast_cancer": load_breast_cancer,
}


def load_bundled(name: str, target: str) -> pd.DataFrame:
    """Load the dataset ``name``; its label column becomes ``target``."""
    if name not in DATASETS:
        known = ", ".join(BUNDLED_PREFIX + known for known in DATASETS)
        raise DataError(
            f"unknown bundled dataset {BUNDLED_PREFIX + name!r} (known: {known})"
        )
    bunch = DATASETS[name](as_frame=True)
    frame = normalise_columns(bunch.data)
    if target in frame.columns:
        raise DataError(
            f"target name {target!r} is already a feature column of "
            f"{BUNDLED_PREFIX + name}; choose another data.target"
        )
    frame[target] = bunch.target.astype(int)
    return frame


def bundled_class_names(name: str) -> list[str] | None:
    """What the labels 0, 1, ... of dataset ``name`` stand for (``target_names``)."""
    if name not in DATASETS:
        return None
    return [str(label) for label in DATASETS[name]().target_names]
