"""Take a snapshot of the raw data, check it, and split it into train and test sets.

``data.source`` in ``params.yaml`` says where the data comes from:

* ``sklearn:breast_cancer`` - scikit-learn's bundled breast cancer dataset
  (569 rows, 30 numeric features, binary target; no download needed);
* a path to a CSV file, such as ``data/raw/customers.csv``;
* an ``http://`` or ``https://`` URL of a CSV file.

Column names are converted to snake_case (``mean radius`` -> ``mean_radius``)
so that they are valid identifiers everywhere: in pandas, in JSON and in DVC
plots. ``data.target`` names the label column after this conversion; the
label must hold only 0 and 1.

``ingest`` copies the source into ``paths.raw`` (a CSV file that DVC tracks),
and ``prepare`` reads only that snapshot: DVC runs ``ingest`` on every
``dvc repro``, and the later stages run again exactly when the data changed.

Problems with the data raise ``DataError`` with a message that says what
is wrong and where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .config import Params

BUNDLED_PREFIX = "sklearn:"
# Datasets that ship with scikit-learn, by the name used after "sklearn:".
BUNDLED_DATASETS: dict[str, Callable[..., Bunch]] = {
    "breast_cancer": load_breast_cancer,
}
URL_PREFIXES = ("http://", "https://")
# Fewer rows than this cannot give a meaningful train/test split.
MIN_ROWS = 20


class DataError(ValueError):
    """The data is missing, unreadable or not suitable for training."""


def to_snake_case(name: object) -> str:
    """Turn a column name into an identifier: ``Mean Radius`` -> ``mean_radius``.

    Runs of characters other than letters and digits become one underscore.
    A name that would start with a digit gets a ``column_`` prefix.
    """
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()
    if not snake:
        raise DataError(f"column name {name!r} has no letters or digits")
    if snake[0].isdigit():
        snake = f"column_{snake}"
    return snake


def normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with snake_case column names.

    Two columns that end up with the same name are an error.
    """
    new_names = [to_snake_case(column) for column in frame.columns]
    original_by_new_name: dict[str, object] = {}
    for original, new_name in zip(frame.columns, new_names):
        if new_name in original_by_new_name:
            raise DataError(
                f"columns {original_by_new_name[new_name]!r} and {original!r} both "
                f"become {new_name!r} in snake_case; rename one of them"
            )
        original_by_new_name[new_name] = original
    renamed = frame.copy()
    renamed.columns = new_names
    return renamed


def read_csv(source: str | Path) -> pd.DataFrame:
    """Read a CSV file or URL with snake_case column names."""
    source_text = str(source)
    if source_text.startswith(URL_PREFIXES):
        try:
            frame = pd.read_csv(source_text)
        except OSError as error:
            raise DataError(f"could not download {source_text}: {error}") from None
    else:
        path = Path(source_text)
        if not path.is_file():
            raise DataError(f"data file not found: {path}")
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise DataError(f"could not read {path} as CSV: {error}") from None
        except UnicodeDecodeError as error:
            raise DataError(
                f"could not read {path} as CSV: it is not UTF-8 text ({error})"
            ) from None
    return normalise_columns(frame)


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


def validate(frame: pd.DataFrame, target: str) -> None:
    """Raise ``DataError`` unless ``frame`` is fit for training.

    The checks: the target column exists, there is at least one feature, there
    are at least ``MIN_ROWS`` rows, no value is missing, every feature is
    numeric, and the target holds only 0 and 1 (both present).
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

    missing_counts = frame.isna().sum()
    missing_counts = missing_counts[missing_counts > 0]
    if not missing_counts.empty:
        details = ", ".join(
            f"{column} ({count} missing)" for column, count in missing_counts.items()
        )
        raise DataError(f"missing values in column(s): {details}")

    for column in features:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise DataError(
                f"feature column {column!r} is not numeric "
                f"(for example {first_non_numeric(frame[column])!r}); "
                "convert or drop it before training"
            )

    labels = frame[target]
    if not labels.isin([0, 1]).all() or labels.nunique() != 2:
        found = sorted(map(str, labels.unique()))[:10]
        raise DataError(
            f"target column {target!r} must hold both 0 and 1 and nothing else "
            f"(found: {', '.join(found)})"
        )


def first_non_numeric(values: pd.Series) -> object:
    """The first value that is not a number, to show in error messages."""
    as_numbers = pd.to_numeric(values, errors="coerce")
    offending = values[as_numbers.isna()]
    if offending.empty:
        return values.iloc[0]
    return offending.iloc[0]


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (train, test), keeping the share of each class the same in both."""
    try:
        train, test = train_test_split(
            frame, test_size=test_size, random_state=seed, stratify=frame[target]
        )
    except ValueError as error:
        raise DataError(f"cannot split the data into train and test: {error}") from None
    return train, test


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` without the index, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def ingest(params: Params) -> Path:
    """Write a snapshot of ``data.source`` to ``paths.raw`` and return its path.

    The snapshot is the same file, byte for byte, as long as the data is the
    same, so its hash tells DVC whether the data changed since the last run.
    """
    frame = load_raw(params.data.source, params.data.target)
    return write_csv(frame, params.paths.raw)


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
    validate(frame, target)
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
