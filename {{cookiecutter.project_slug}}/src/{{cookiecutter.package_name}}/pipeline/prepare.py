"""Check the raw data and split it into train and test sets.

``prepare`` reads the snapshot that ``ingest`` wrote (``paths.raw``; see
``pipeline/ingest.py`` for where the raw data comes from), checks it, and writes the
train and test CSVs. ``load_prepared`` reads them back for training and
evaluation.

Tables are read with snake_case column names (``pipeline/tables.py``):
``data.target`` names the label column after that conversion; the label must
hold only 0 and 1.

Problems with the data raise ``DataError`` with a message that says what
is wrong and where. The rules for the values are a data contract
(``model/schema.py``): no model exists yet when ``prepare`` runs, so the raw table is
checked with the contract of its own header (every column but the label holds
numbers, no value is missing); ``train`` then derives the model's contract from
the training data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import Params
from ..errors import DataError
from ..model.schema import check_frame, raw_schema
from .tables import read_csv, write_csv

# Fewer rows than this cannot give a meaningful train/test split.
MIN_ROWS = 20


def validate(frame: pd.DataFrame, target: str, source: str = "data") -> None:
    """Raise ``DataError`` unless ``frame`` is fit for training.

    The checks: the target column exists, there is at least one feature, there
    are at least ``MIN_ROWS`` rows, the raw contract holds (every feature is
    numeric, no value is missing: ``schema.raw_schema``), and the target holds
    only 0 and 1 (both present). ``source`` names the table in the messages.
    """
    if target not in frame.columns:
        available = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(
            f"target column {target!r} not found (columns: {available}); "
            "set data.target in params.yaml"
        )
    features = [column for column in frame.columns if column != target]
    if not features:
        raise DataError(f"no feature columns: the data holds only {target!r}")

    if len(frame) < MIN_ROWS:
        raise DataError(f"only {len(frame)} rows; at least {MIN_ROWS} are needed")

    check_frame(raw_schema(list(frame.columns), target), frame, source)

    labels = frame[target]
    if not labels.isin([0, 1]).all() or labels.nunique() != 2:
        found = sorted(map(str, labels.unique()))[:10]
        raise DataError(
            f"target column {target!r} must hold both 0 and 1 and nothing else "
            f"(found: {', '.join(found)})"
        )


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (train, test), keeping the share of each class the same in both.

    Each class gives the same fraction (``test_size``) of its rows to the test
    set, drawn at random with ``seed``: a stratified split.
    """
    by_class = frame.groupby(target, group_keys=False)
    test = by_class.sample(frac=test_size, random_state=seed)
    train = frame.drop(index=test.index)
    if train[target].nunique() < 2 or test[target].nunique() < 2:
        raise DataError(
            f"cannot split the data into train and test: with data.test_size "
            f"{test_size}, one of them would miss a class of {target!r}"
        )
    return train, test


def prepare(params: Params) -> tuple[Path, Path]:
    """Validate and split the snapshot of the raw data; write the train and test CSVs.

    Returns the paths of the train and test files.
    """
    target = params.data.target
    if not params.paths.raw.is_file():
        raise DataError(
            f"{params.paths.raw} not found; run `dvc repro` (or the `ingest` "
            "command) first"
        )
    frame = read_csv(params.paths.raw)
    validate(frame, target, str(params.paths.raw))
    frame[target] = frame[target].astype(int)
    train, test = split(frame, target, params.data.test_size, params.seed)
    write_csv(train, params.paths.train)
    write_csv(test, params.paths.test)
    return params.paths.train, params.paths.test


def load_prepared(path: Path, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Read a train or test CSV written by ``prepare`` as (features, labels)."""
    if not path.is_file():
        raise DataError(
            f"{path} not found; run `dvc repro` (or the `prepare` command) first"
        )
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} not found in {path}; "
            "run `dvc repro` (or the `prepare` command) again"
        )
    return frame.drop(columns=[target]), frame[target]
