"""Check whether a new table still looks like the data the model was trained on.

For every feature column, the new values are compared with the training data
(``paths.train``):

* **distribution**: a two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``).
  Its statistic is the largest gap between the two cumulative distributions
  (0: identical, 1: no overlap at all); its p-value is the chance of a gap at
  least that large if both samples came from the same distribution;
* **missing**: the share of empty values;
* **out of range**: the share of values below the training minimum or above
  the training maximum.

A feature has drifted when the p-value is below ``drift.p_value`` and the
statistic is at least ``drift.min_statistic`` (both: with many rows, even a
harmless difference has a tiny p-value), or when its missing or out-of-range
share is above ``drift.max_missing`` or ``drift.max_out_of_range``. The report
is written as JSON (for machines) and Markdown (for people, ``.md`` beside it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from scipy.stats import ks_2samp

from .batch import read_chunks
from .config import DriftParams
from .errors import DataError


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


def compare_feature(
    name: str, reference: pd.Series, new: pd.Series, limits: DriftParams
) -> FeatureDrift:
    """Compare one feature's new values with its training values."""
    present = new.dropna().to_numpy(dtype=float)
    known = reference.dropna().to_numpy(dtype=float)
    missing = float(new.isna().mean())
    low, high = known.min(), known.max()
    out_of_range = float(((present < low) | (present > high)).sum() / len(new))
    if len(present):
        # The asymptotic p-value: exact for large tables is slow, and scipy's
        # automatic choice warns whenever it has to fall back to it.
        test = ks_2samp(known, present, method="asymp")
        statistic, p_value = float(test.statistic), float(test.pvalue)
    else:  # nothing to compare: as far apart as can be
        statistic, p_value = 1.0, 0.0
    reasons = []
    if p_value < limits.p_value and statistic >= limits.min_statistic:
        reasons.append(
            f"distribution: KS statistic {statistic:.3f} >= {limits.min_statistic}"
            f" with p-value {p_value:.2g} < {limits.p_value}"
        )
    if missing > limits.max_missing:
        reasons.append(f"missing: {percent(missing)} > {percent(limits.max_missing)}")
    if out_of_range > limits.max_out_of_range:
        reasons.append(
            f"out of range: {percent(out_of_range)}"
            f" > {percent(limits.max_out_of_range)}"
            f" (training range {low:g} to {high:g})"
        )
    return FeatureDrift(name, statistic, p_value, missing, out_of_range, reasons)


def compare(
    reference: pd.DataFrame, new: pd.DataFrame, limits: DriftParams, source: str
) -> DriftReport:
    """Compare every column of ``reference`` with the same column of ``new``."""
    features = [
        compare_feature(name, reference[name], new[name], limits)
        for name in reference.columns
    ]
    return DriftReport(source, len(new), len(reference), limits, features)


def load_reference(train_path: Path, target: str) -> pd.DataFrame:
    """The feature columns of the training data."""
    if not train_path.is_file():
        raise DataError(
            f"{train_path} not found; run `dvc pull` (or `dvc repro`) to get the"
            " training data the new table is compared with"
        )
    return pd.read_csv(train_path).drop(columns=[target], errors="ignore")


def check_table(
    train_path: Path, target: str, source: str, limits: DriftParams, chunk_size: int
) -> DriftReport:
    """Compare the table at ``source`` with the training data at ``train_path``."""
    reference = load_reference(train_path, target)
    chunks = read_chunks(source, list(reference.columns), chunk_size)
    new = pd.concat(list(chunks))
    return compare(reference, new, limits, source)


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
