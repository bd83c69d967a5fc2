"""Where the raw data comes from, and the ``ingest`` step that snapshots it.

``data.source`` in ``params.yaml`` says where the data comes from:

* ``sklearn:breast_cancer`` - scikit-learn's bundled breast cancer dataset
  (569 rows, 30 numeric features, binary target; no download needed);
* a path to a CSV file, such as ``data/raw/customers.csv``;
* an ``http://`` or ``https://`` URL of a CSV file.

``ingest`` copies the source into ``paths.raw`` (a CSV file that DVC tracks),
and ``prepare`` (``data.py``) reads only that snapshot. ``dvc repro`` runs
``ingest`` when the source setting changes; ``make ingest`` takes a fresh
snapshot of the same source (new rows at the same URL), and the stages after
it run again exactly when the data changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.utils import Bunch

from .config import Params
from .data import normalise_columns, read_csv, write_csv
from .errors import DataError

BUNDLED_PREFIX = "sklearn:"
# Datasets that ship with scikit-learn, by the name used after "sklearn:".
BUNDLED_DATASETS: dict[str, Callable[..., Bunch]] = {
    "breast_cancer": load_breast_cancer,
}


def load_bundled(name: str, target: str) -> pd.DataFrame:
    """Load a dataset that ships with scikit-learn; its label becomes ``target``."""
    if name not in BUNDLED_DATASETS:
        known = ", ".join(BUNDLED_PREFIX + known for known in BUNDLED_DATASETS)
        raise DataError(
            f"unknown bundled dataset {BUNDLED_PREFIX + name!r} (known: {known})"
        )
    bunch = BUNDLED_DATASETS[name](as_frame=True)
    frame = normalise_columns(bunch.data)
    if target in frame.columns:
        raise DataError(
            f"target name {target!r} is already a feature column of "
            f"{BUNDLED_PREFIX + name}; choose another data.target"
        )
    frame[target] = bunch.target.astype(int)
    return frame


def load_raw(source: str, target: str) -> pd.DataFrame:
    """Load the raw data named by ``source`` (see the module docstring).

    ``target`` names the label column of a bundled dataset; CSV files keep the
    column names they have (converted to snake_case).
    """
    if source.startswith(BUNDLED_PREFIX):
        return load_bundled(source.removeprefix(BUNDLED_PREFIX), target)
    return read_csv(source)


def ingest(params: Params) -> Path:
    """Write a snapshot of ``data.source`` to ``paths.raw`` and return its path.

    The snapshot is the same file, byte for byte, as long as the data is the
    same, so its hash tells DVC whether the data changed since the last run.
    """
    frame = load_raw(params.data.source, params.data.target)
    return write_csv(frame, params.paths.raw)
