"""A sample table to score, so that batch scoring and the drift check run on day one.

``batch.input`` in ``params.yaml`` names the table that ``batch`` scores and
``drift`` checks. Until a team has a table of its own there, ``write_sample``
writes one: the held-out test set (``paths.test``) without the label column
(``data.target``), which is exactly the shape ``batch`` accepts. It never
replaces a table that is already there, and it does nothing when the input is
a URL.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..pipeline.prepare import load_prepared
from ..pipeline.tables import URL_PREFIXES, write_csv


def write_sample(test_table: Path, target: str, output: str) -> Path | None:
    """Write ``test_table``'s feature columns to ``output`` unless it exists.

    Returns the path written, or None when ``output`` is a URL or a file that
    is already there.
    """
    if output.startswith(URL_PREFIXES) or Path(output).exists():
        return None
    if not test_table.exists():
        raise DataError(
            f"no table to score at {output}, and no held-out test set"
            f" ({test_table}) to draw a sample from: run `make repro`"
            " (or `make pull`) first, or point batch.input at your table"
        )
    features, _ = load_prepared(test_table, target)
    return write_csv(features, Path(output))
