"""Read and write the project's CSV tables.

Column names are converted to snake_case (``mean radius`` -> ``mean_radius``)
so that they are valid identifiers everywhere: in pandas, in JSON and in DVC
plots. A table that cannot be read raises ``DataError`` naming the file and
the reason. Only pandas is needed here: ``ingest`` of a team's CSV file loads
nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import DataError

URL_PREFIXES = ("http://", "https://")


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


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` without the index, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path
