"""Where the raw data comes from, and the ``ingest`` step that snapshots it.

``data.source`` in ``params.yaml`` says where the data comes from:

* ``sklearn:breast_cancer`` - scikit-learn's bundled breast cancer dataset
  (569 rows, 30 numeric features, binary target; no download needed;
  ``pipeline/bundled.py``);
* a path to a CSV file, such as ``data/raw/customers.csv``;
* an ``http://`` or ``https://`` URL of a CSV file.

``ingest`` copies the source into ``paths.raw`` (a CSV file that DVC tracks),
and ``prepare`` (``pipeline/prepare.py``) reads only that snapshot. ``dvc repro`` runs
``ingest`` when the source setting changes; ``make ingest`` takes a fresh
snapshot of the same source (new rows at the same URL), and the stages after
it run again exactly when the data changed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import Params
from .bundled import BUNDLED_PREFIX, bundled_class_names, load_bundled
from .tables import read_csv, write_csv


def load_raw(source: str, target: str) -> pd.DataFrame:
    """Load the raw data named by ``source`` (see the module docstring).

    ``target`` names the label column of a bundled dataset; CSV files keep the
    column names they have (converted to snake_case).
    """
    if source.startswith(BUNDLED_PREFIX):
        return load_bundled(source.removeprefix(BUNDLED_PREFIX), target)
    return read_csv(source)


def class_names(source: str) -> list[str] | None:
    """What the labels 0 and 1 of ``source`` stand for, when the data says.

    A bundled dataset names its classes; a CSV file does not (None), and the
    plots show the labels themselves.
    """
    if source.startswith(BUNDLED_PREFIX):
        return bundled_class_names(source.removeprefix(BUNDLED_PREFIX))
    return None


def ingest(params: Params) -> Path:
    """Write a snapshot of ``data.source`` to ``paths.raw`` and return its path.

    The snapshot is the same file, byte for byte, as long as the data is the
    same, so its hash tells DVC whether the data changed since the last run.
    """
    frame = load_raw(params.data.source, params.data.target)
    return write_csv(frame, params.paths.raw)
