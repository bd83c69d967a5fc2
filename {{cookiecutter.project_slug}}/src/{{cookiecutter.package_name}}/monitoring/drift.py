"""Check whether a new table still looks like the data the model was trained on.

For every feature column, the new values are compared with the training data
(``paths.train``):

* **distribution**: a two-sample Kolmogorov-Smirnov test (as
  ``scipy.stats.ks_2samp`` computes it, see below). Its statistic is the
  largest gap between the two cumulative distributions (0: identical, 1: no
  overlap at all); its p-value is the chance of a gap at least that large if
  both samples came from the same distribution;
* **missing**: the share of empty values;
* **out of range**: the share of values below the training minimum or above
  the training maximum.

A feature has drifted when the p-value is below ``drift.p_value`` and the
statistic is at least ``drift.min_statistic`` (both: with many rows, even a
harmless difference has a tiny p-value), or when its missing or out-of-range
share is above ``drift.max_missing`` or ``drift.max_out_of_range``. The report
is written as JSON (for machines) and Markdown (for people, ``.md`` beside it).

The table must hold the model's feature columns and nothing else, each a
number, as the model's data contract says (``model/schema.py``, stored beside the
model); a missing value is allowed, and counted.

The table is read ``batch.chunk_size`` rows at a time and never held whole:
each chunk's values are counted in the cells that the training values cut the
number line into (below the smallest, each distinct training value, each gap
between two, above the largest), and those counts give the same KS statistic
and p-value as ``ks_2samp(training, new, method="asymp")`` on the whole table.
So the memory depends on the chunk size and the size of the training data,
not on the table (``make bench`` of the template measures it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kstwo

from ..config import DriftParams
from ..errors import DataError
from ..model.schema import input_schema, read_contract
from .batch import read_chunks


def percent(share: float) -> str:
    """A share as a percentage with one decimal: 0.184 -> "18.4%"."""
    return f"{share * 100:.1f}%"


@dataclass(frozen=True)
class FeatureDrift:
    """The comparison of one feature column."""

    name: str
    statistic: float
    p_value: float
    missing: float
    out_of_range: float
    reasons: list[str]

    @property
    def drifted(self) -> bool:
        """Whether any limit was crossed."""
        return bool(self.reasons)


@dataclass(frozen=True)
class DriftReport:
    """The comparison of a whole table."""

    source: str
    rows: int
    reference_rows: int
    limits: DriftParams
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[str]:
        """The names of the features that drifted."""
        return [feature.name for feature in self.features if feature.drifted]


class FeatureCounter:
    """One feature's new values, counted chunk by chunk against its training values.

    A value equal to the ``j``-th distinct training value lands in cell
    ``2j + 1``; a value between the ``(j-1)``-th and the ``j``-th in cell ``2j``
    (cell 0: below the smallest, the last cell: above the largest).
    """

    def __init__(self, name: str, reference: pd.Series) -> None:
        known = np.sort(reference.dropna().to_numpy(dtype=float))
        self.name = name
        self.reference_rows = len(known)
        self.edges = np.unique(known)
        # The training data's share at or below each distinct value (as
        # ks_2samp computes it), once for the value's cell and once for the gap
        # above it: there the training share does not change.
        at_edges = np.searchsorted(known, self.edges, side="right") / len(known)
        self.reference_cdf = np.concatenate([[0.0], np.repeat(at_edges, 2)])
        self.cells = np.zeros(len(self.reference_cdf), dtype=np.int64)
        self.rows = 0
        self.missing = 0

    def add(self, values: pd.Series) -> None:
        """Count one chunk of the feature's new values."""
        numbers = values.to_numpy(dtype=float)
        present = numbers[~np.isnan(numbers)]
        self.rows += len(numbers)
        self.missing += len(numbers) - len(present)
        cells = np.searchsorted(self.edges, present, side="left") + np.searchsorted(
            self.edges, present, side="right"
        )
        self.cells += np.bincount(cells, minlength=len(self.cells))

    def distribution(self) -> tuple[float, float]:
        """The KS statistic and its asymptotic p-value, as ``ks_2samp`` gives them.

        The largest gap between the two cumulative distributions lies at the
        end of a cell, so the cells' running totals are enough.
        """
        present = int(self.cells.sum())
        if present == 0:  # nothing to compare: as far apart as can be
            return 1.0, 0.0
        gaps = self.reference_cdf - np.cumsum(self.cells) / present
        statistic = float(max(gaps.max(), np.clip(-gaps.min(), 0, 1)))
        # ks_2samp's method="asymp" (scipy/stats/_stats_py.py): the exact
        # distribution is slow for large tables.
        larger, smaller = sorted([float(self.reference_rows), float(present)])[::-1]
        effective = np.round(larger * smaller / (larger + smaller))
        p_value = float(np.clip(kstwo.sf(statistic, effective), 0, 1))
        return statistic, p_value

    def result(self, limits: DriftParams) -> FeatureDrift:
        """The comparison of the values counted so far, with its reasons."""
        statistic, p_value = self.distribution()
        rows = max(self.rows, 1)
        missing = self.missing / rows
        out_of_range = float(self.cells[0] + self.cells[-1]) / rows
        low, high = self.edges[0], self.edges[-1]
        reasons = []
        if p_value < limits.p_value and statistic >= limits.min_statistic:
            reasons.append(
                f"distribution: KS statistic {statistic:.3f} >= {limits.min_statistic}"
                f" with p-value {p_value:.2g} < {limits.p_value}"
            )
        if missing > limits.max_missing:
            reasons.append(
                f"missing: {percent(missing)} > {percent(limits.max_missing)}"
            )
        if out_of_range > limits.max_out_of_range:
            reasons.append(
                f"out of range: {percent(out_of_range)}"
                f" > {percent(limits.max_out_of_range)}"
                f" (training range {low:g} to {high:g})"
            )
        return FeatureDrift(
            self.name, statistic, p_value, missing, out_of_range, reasons
        )


def compare_chunks(
    reference: pd.DataFrame,
    chunks: Iterable[pd.DataFrame],
    limits: DriftParams,
    source: str,
) -> DriftReport:
    """Compare every column of ``reference`` with the same column of ``chunks``."""
    counters = [FeatureCounter(name, reference[name]) for name in reference.columns]
    for chunk in chunks:
        for counter in counters:
            counter.add(chunk[counter.name])
    features = [counter.result(limits) for counter in counters]
    rows = counters[0].rows if counters else 0
    return DriftReport(source, rows, len(reference), limits, features)


def compare(
    reference: pd.DataFrame, new: pd.DataFrame, limits: DriftParams, source: str
) -> DriftReport:
    """Compare every column of ``reference`` with the same column of ``new``."""
    return compare_chunks(reference, [new], limits, source)


def load_reference(train_path: Path, features: list[str]) -> pd.DataFrame:
    """The columns ``features`` of the training data."""
    if not train_path.is_file():
        raise DataError(
            f"{train_path} not found; run `dvc pull` (or `dvc repro`) to get the"
            " training data the new table is compared with"
        )
    reference = pd.read_csv(train_path)
    missing = [name for name in features if name not in reference.columns]
    if missing:
        raise DataError(
            f"{train_path} has no column {missing[0]!r} of the model's features;"
            " run `dvc repro` (or `dvc pull`)"
        )
    return reference[features]


def check_table(
    train_path: Path,
    model_path: Path,
    source: str,
    limits: DriftParams,
    chunk_size: int,
) -> DriftReport:
    """Compare the table at ``source`` with the training data at ``train_path``,
    feature by feature of the contract of the model at ``model_path``.

    The table is read ``chunk_size`` rows at a time and never held whole.
    """
    contract = read_contract(model_path)
    reference = load_reference(train_path, contract.names)
    schema = input_schema(contract.names, contract.limits, missing_allowed=True)
    chunks = read_chunks(source, schema, chunk_size)
    return compare_chunks(reference, chunks, limits, source)


def to_json(report: DriftReport) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "drift": bool(report.drifted),
        "drifted_features": report.drifted,
        "source": report.source,
        "rows": report.rows,
        "reference_rows": report.reference_rows,
        "limits": {
            key: value
            for key, value in report.limits.model_dump().items()
            if key != "report"
        },
        "features": [
            {**asdict(feature), "drifted": feature.drifted}
            for feature in report.features
        ],
    }


def to_markdown(report: DriftReport) -> str:
    """The report for people: the verdict, then one table row per feature."""
    if report.drifted:
        verdict = (
            f"**Drift** in {len(report.drifted)} of {len(report.features)} features"
        )
    else:
        verdict = f"**No drift** in {len(report.features)} features"
    lines = [
        "# Drift report",
        "",
        f"{verdict}: {report.source} ({report.rows} rows) compared with the training"
        f" data ({report.reference_rows} rows).",
        "",
        "| feature | KS statistic | p-value | missing | out of range | drift |",
        "|---|---:|---:|---:|---:|---|",
    ]
    # Drifted features first, the largest gap first.
    ordered = sorted(report.features, key=lambda f: (not f.drifted, -f.statistic))
    for feature in ordered:
        lines.append(
            f"| {feature.name} | {feature.statistic:.3f} | {feature.p_value:.2g}"
            f" | {percent(feature.missing)} | {percent(feature.out_of_range)}"
            f" | {'; '.join(feature.reasons) or 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: DriftReport, path: Path) -> tuple[Path, Path]:
    """Write the JSON report to ``path`` and the Markdown one beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    markdown = path.with_suffix(".md")
    path.write_text(json.dumps(to_json(report), indent=2, allow_nan=False) + "\n")
    markdown.write_text(to_markdown(report))
    return path, markdown
