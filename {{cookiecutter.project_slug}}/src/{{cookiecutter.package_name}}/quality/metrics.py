"""The metrics file: write it, read it, compare it with the minimums.

``evaluate`` writes ``paths.metrics`` (JSON: metric name -> number); ``dvc
metrics show`` and ``dvc metrics diff`` read it, and so does the ``gate``
command, which compares each metric with its minimum in the ``thresholds``
section of ``params.yaml`` and stops CI when the model got worse. This module
needs only the standard library, so the gate answers in a fraction of a second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..config import MetricLimits
from ..errors import MetricsError


def write_metrics(metrics: Mapping[str, float], path: Path) -> Path:
    """Write ``metrics`` as JSON with sorted keys, so diffs stay small."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(metrics), indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def read_metrics(path: Path) -> dict[str, float]:
    """Read a metrics file written by ``write_metrics``."""
    if not path.is_file():
        raise MetricsError(
            f"metrics file not found: {path}; run `dvc repro` "
            "(or the `evaluate` command) first"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise MetricsError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise MetricsError(f"{path} must hold a JSON object of metric values")
    metrics = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricsError(f"{path}: metric {name!r} is not a number ({value!r})")
        metrics[name] = float(value)
    return metrics


def meets_minimum(metrics: Mapping[str, float], name: str, minimum: float) -> bool:
    """True when metric ``name`` is present and at least ``minimum``."""
    return name in metrics and metrics[name] >= minimum


def check_thresholds(
    metrics: Mapping[str, float],
    thresholds: MetricLimits,
    params_file: str = "params.yaml",
) -> list[str]:
    """One message per metric that is below its minimum (empty when all pass).

    A metric missing from ``metrics`` counts as a failure too.
    """
    failures = []
    for name, minimum in thresholds.model_dump().items():
        setting = f"{params_file} thresholds.{name}"
        if name not in metrics:
            failures.append(
                f"{name} is missing from the metrics (required by {setting})"
            )
        elif not meets_minimum(metrics, name, minimum):
            value = metrics[name]
            failures.append(
                f"{name} {value} is below the minimum {minimum} set in {setting}"
            )
    return failures


def metrics_table(metrics: Mapping[str, float], thresholds: MetricLimits) -> list[str]:
    """One line per metric: its value, its minimum (if any) and ok or FAIL.

    Every metric in the file is listed, so this table replaces ``dvc metrics
    show``; a required metric missing from the file is listed as missing.
    """
    minimums = thresholds.model_dump()
    lines = []
    for name in sorted(set(metrics) | set(minimums)):
        value = f"{metrics[name]:>8.4f}" if name in metrics else f"{'missing':>8}"
        if name not in minimums:
            lines.append(f"{name:<10} {value}")
            continue
        status = "ok" if meets_minimum(metrics, name, minimums[name]) else "FAIL"
        lines.append(f"{name:<10} {value}   minimum {minimums[name]:.4f}   {status}")
    return lines
