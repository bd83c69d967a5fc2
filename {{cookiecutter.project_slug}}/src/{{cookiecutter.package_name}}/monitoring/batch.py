"""Score a whole table with the model, a chunk of rows at a time.

``batch.input`` in ``params.yaml`` names the table (a CSV file or an http(s)
URL); ``batch.chunk_size`` rows are read, checked and scored at a time, so the
memory used depends on the chunk size and not on the size of the table.

The output CSV has one row per input row, in the same order:

* ``row``: the input row's number, counted from 0;
* ``prediction`` and ``probability``: as the ``predict`` command gives them;
* ``model_version``: the model's identity (``model/integrity.py``), the first
  characters of its file's SHA-256, as ``/health``, ``/predict`` and the model
  card name it, so that predictions join by model;
* ``scored_at``: when the scoring started (UTC, ISO 8601).

The input must hold exactly the model's feature columns, in any order, as
the model's data contract says (``model/schema.py``, stored beside the model): a
missing or an extra column or a value that is not a number is a
``ContractError`` that names the column, the rule and the value; a table that
is missing, unreadable or without rows is a ``BatchInputError``. Either way no
output is written (the predictions go to a temporary file that replaces the
output only once every chunk was scored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from sklearn.pipeline import Pipeline

from ..errors import DataError
from ..model.integrity import ModelIdentity, model_identity, warn_if_not_recorded
from ..model.predict import feature_names, load_model, predict_checked
from ..model.schema import check_frame, check_names, input_schema, read_contract
from ..pipeline.tables import URL_PREFIXES, normalise_columns

OUTPUT_COLUMNS = ("row", "prediction", "probability", "model_version", "scored_at")


class BatchInputError(DataError):
    """The table to score (or to check for drift) does not fit the model."""


@dataclass(frozen=True)
class BatchResult:
    """What a batch run wrote."""

    output: Path
    rows: int
    chunks: int
    model: ModelIdentity
    scored_at: str

    @property
    def model_version(self) -> str:
        """The ``model_version`` of every output row: the model's identity."""
        return self.model.id


def read_chunks(
    source: str | Path, schema: pa.DataFrameSchema, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """The table at ``source``, ``chunk_size`` rows at a time, each chunk
    validated with ``schema`` (``schema.input_schema``): its columns in the
    schema's order, as floats.

    The index of each chunk is the row number in the whole table. A table
    without rows raises ``BatchInputError`` once the end is reached.
    """
    source_text = str(source)
    if not source_text.startswith(URL_PREFIXES) and not Path(source_text).is_file():
        raise BatchInputError(f"input table not found: {source_text}")
    features = list(schema.columns)
    try:
        # Only an empty cell is a missing value: "n/a" or "null" is text, refused.
        # The with block closes the file also when a check below raises.
        with pd.read_csv(
            source_text, chunksize=chunk_size, keep_default_na=False, na_values=[""]
        ) as reader:
            rows = 0
            for chunk in reader:
                chunk = normalise_columns(chunk)
                chunk.index = pd.RangeIndex(rows, rows + len(chunk))
                checked = check_frame(schema, chunk, source_text)
                if checked.empty:  # a header without rows
                    continue
                rows += len(checked)
                yield checked[features]
    except pd.errors.EmptyDataError:
        raise BatchInputError(
            f"{source_text}: the table is empty (no header)"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        raise BatchInputError(f"could not read {source_text} as CSV: {error}") from None
    if rows == 0:
        raise BatchInputError(f"{source_text}: the table has no rows to score")


def score_chunk(
    model: Pipeline, chunk: pd.DataFrame, model_version: str, scored_at: str
) -> pd.DataFrame:
    """The output rows of one chunk (see ``OUTPUT_COLUMNS``)."""
    result = predict_checked(model, chunk)
    result.insert(0, "row", chunk.index)
    result["model_version"] = model_version
    result["scored_at"] = scored_at
    return result


def score_table(
    model_path: Path,
    source: str | Path,
    output: Path,
    chunk_size: int,
    lock: Path | None = None,
) -> BatchResult:
    """Score every row of ``source`` with the model at ``model_path``.

    Writes the predictions to ``output`` only when every row was scored; on
    an error the output is left as it was. Warns on stderr when the model is
    not the one ``lock`` (a ``dvc.lock``) recorded.
    """
    pipeline = load_model(model_path)
    contract = read_contract(model_path)
    check_names(contract, feature_names(pipeline), model_path)
    schema = input_schema(contract.names, contract.limits)
    if lock is not None:
        warn_if_not_recorded(model_path, lock)
    model = model_identity(model_path, lock)
    scored_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    rows = chunks = 0
    try:
        for chunk in read_chunks(source, schema, chunk_size):
            scored = score_chunk(pipeline, chunk, model.id, scored_at)
            scored.to_csv(
                partial, mode="a" if chunks else "w", header=not chunks, index=False
            )
            rows += len(chunk)
            chunks += 1
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return BatchResult(output, rows, chunks, model, scored_at)
