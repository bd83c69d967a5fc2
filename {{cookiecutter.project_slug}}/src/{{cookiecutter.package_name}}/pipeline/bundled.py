"""Datasets that ship with scikit-learn: ``data.source: "sklearn:<name>"``.

They need no download, so a new project trains offline on any machine.
``pipeline/ingest.py`` reads such a source with ``load_bundled``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DataError
from .tables import normalise_columns

if TYPE_CHECKING:
    from sklearn.utils import Bunch

# A source that names a dataset bundled with scikit-learn.
BUNDLED_PREFIX = "sklearn:"
# The datasets, by the name used after "sklearn:": scikit-learn loads each
# with ``sklearn.datasets.load_<name>``.
DATASETS = ("breast_cancer",)


def fetch(name: str) -> Bunch:
    """Dataset ``name`` (one of ``DATASETS``) as scikit-learn gives it.

    scikit-learn is imported here, not at the top: it takes a second or more
    to load, and the ingest of a CSV file or URL does without it.
    """
    from sklearn import datasets

    loader: Any = getattr(datasets, f"load_{name}")
    bunch: Bunch = loader(as_frame=True)
    return bunch


def load_bundled(name: str, target: str) -> pd.DataFrame:
    """Load the dataset ``name``; its label column becomes ``target``."""
    if name not in DATASETS:
        known = ", ".join(BUNDLED_PREFIX + known for known in DATASETS)
        raise DataError(
            f"unknown bundled dataset {BUNDLED_PREFIX + name!r} (known: {known})"
        )
    bunch = fetch(name)
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
    return [str(label) for label in fetch(name).target_names]
