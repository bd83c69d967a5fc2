"""Draw the model's metrics over time (docs/metrics-history.md runs it).

``metrics_history()`` returns Markdown: a chart of every metric across the
commits of the current branch that changed the metrics file (``paths.metrics``
in ``params.yaml``), and a table of those commits with the model version that
the registry gives each (GTO's ``model@vX.Y.Z`` tags), the stage that version
holds now (``model#staging#N``, ``model#production#N``), and what changed: the
commit's subject, its estimator and the parameters that differ from the row
before.

The metrics are DVC's own: ``dvc repro`` writes them and git keeps them with
every commit (``cache: false`` in ``dvc.yaml``), so the history is the git
history and needs no other store. The chart is embedded as a ``data:`` URL,
like the pipeline picture. The site needs the whole history and the tags:
the documentation workflow checks out with ``fetch-depth: 0``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from gto import api
from gto.exceptions import ArtifactNotFound
from matplotlib.figure import Figure

ARTIFACT = "model"
STAGES = ("staging", "production")
PARAMS_FILE = "params.yaml"
# The chart's y axis spans at least this much, so that a drop of a hundredth
# looks like one and not like a cliff.
MIN_SPAN = 0.1


@dataclass
class Entry:
    """The metrics of one commit, and what the registry says of it."""

    commit: str
    time: str
    subject: str
    metrics: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)
    versions: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


def git(*args: str) -> str:
    """The output of a git command in the current directory."""
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True
    ).stdout


def metrics_file() -> str:
    """Where the pipeline writes its metrics (``paths.metrics``)."""
    params = yaml.safe_load(Path(PARAMS_FILE).read_text(encoding="utf-8"))
    return str(params["paths"]["metrics"])


def committed_params(commit: str) -> dict[str, Any]:
    """``params.yaml`` as ``commit`` had it (empty when it had none)."""
    try:
        loaded = yaml.safe_load(git("show", f"{commit}:{PARAMS_FILE}"))
    except (subprocess.CalledProcessError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of ``tree`` as (``dotted.key``, value)."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def changed_params(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The parameters that differ, as ``key: old → new``."""
    old, new = dict(flatten(before)), dict(flatten(after))
    return [
        f"{key}: {old.get(key, '-')} → {new.get(key, '-')}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def utc_time(timestamp: str) -> str:
    """A Unix timestamp as ``YYYY-MM-DD HH:MM`` in UTC."""
    moment = datetime.fromtimestamp(int(timestamp), tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


def read_history(path: str) -> list[Entry]:
    """Every commit of this branch that changed ``path``, oldest first.

    ``--first-parent`` follows the branch itself: a merged pull request counts
    once, as its merge commit.
    """
    log = git("log", "--first-parent", "--format=%H%x09%ct%x09%s", "--", path)
    entries = []
    for line in reversed(log.splitlines()):
        commit, timestamp, subject = line.split("\t", 2)
        try:
            metrics = json.loads(git("show", f"{commit}:{path}"))
        except (subprocess.CalledProcessError, ValueError):
            continue  # deleted in that commit, or not JSON then
        numbers = {
            k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))
        }
        params = committed_params(commit)
        entries.append(Entry(commit, utc_time(timestamp), subject, numbers, params))
    return entries


def add_registry(entries: list[Entry], path: str) -> None:
    """Give each entry the versions registered on it and their stages now.

    A version registered on a later commit that did not change the metrics
    belongs to the entry whose metrics were in effect there.
    """
    by_commit = {entry.commit: entry for entry in entries}
    try:
        versions = api.show(".", ARTIFACT)
        holders = {
            stage: {
                v.version
                for v in api.find_versions_in_stage(".", ARTIFACT, stage) or []
            }
            for stage in STAGES
        }
    except ArtifactNotFound:
        return  # no version registered yet
    for version in versions:
        in_effect = git(
            "log",
            "-1",
            "--first-parent",
            "--format=%H",
            version["commit_hexsha"],
            "--",
            path,
        )
        entry = by_commit.get(in_effect.strip())
        if entry is None:
            continue
        entry.versions.append(version["version"])
        entry.stages += [
            stage for stage in STAGES if version["version"] in holders[stage]
        ]


def label(entry: Entry) -> str:
    """The chart's name for an entry: its versions, else its short commit."""
    return ", ".join(entry.versions) or entry.commit[:7]


def y_limits(entries: list[Entry]) -> tuple[float, float]:
    """The y axis: the scores with a margin, at least ``MIN_SPAN`` high, at most 1."""
    values = [value for entry in entries for value in entry.metrics.values()]
    low, high = min(values), max(values)
    margin = max((high - low) * 0.1, 0.005)
    top = min(1.0, high + margin) if high <= 1.0 else high + margin
    bottom = min(low - margin, top - MIN_SPAN)
    return bottom, top


def draw(entries: list[Entry]) -> bytes:
    """A PNG with one line per metric across the entries, the legend beside it."""
    names = sorted({name for entry in entries for name in entry.metrics})
    figure = Figure(
        figsize=(max(6.4, 1.1 * len(entries) + 1.6), 3.6),
        dpi=100,
        layout="constrained",
    )
    axes = figure.subplots()
    positions = range(len(entries))
    for name in names:
        values = [entry.metrics.get(name, float("nan")) for entry in entries]
        axes.plot(positions, values, marker="o", label=name)
    axes.set_xticks(
        list(positions), [label(entry) for entry in entries], rotation=30, ha="right"
    )
    axes.set_ylim(*y_limits(entries))
    axes.set_ylabel("test-set score")
    axes.grid(axis="y", alpha=0.3)
    # Outside the plot area, so that no point hides under it.
    figure.legend(loc="outside right upper")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def estimator(entry: Entry) -> str:
    """The estimator that the entry's ``model.type`` names, or ``?``."""
    model = entry.params.get("model")
    return str(model.get("type", "?")) if isinstance(model, dict) else "?"


def what_changed(entry: Entry, before: Entry | None) -> str:
    """One list item: the commit's subject, its estimator and the parameters
    that differ from the entry before."""
    if before is None:
        changes = "first model"
    else:
        changes = "; ".join(changed_params(before.params, entry.params))
    # Escaped: a commit subject is text, never HTML.
    subject = html.escape(entry.subject)
    name = label(entry)
    stages = f" ({', '.join(entry.stages)})" if entry.stages else ""
    return (
        f"- **{name}**{stages}, `{entry.commit[:7]}`: {subject}. "
        f"`{estimator(entry)}`, {changes or 'same parameters'}"
    )


def table(entries: list[Entry]) -> str:
    """The entries, newest first, as a Markdown table."""
    names = sorted({name for entry in entries for name in entry.metrics})
    lines = [
        "| Commit | Committed (UTC) | Version | Stage | " + " | ".join(names) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for entry in reversed(entries):
        scores = " | ".join(
            f"{entry.metrics[name]:.4f}" if name in entry.metrics else ""
            for name in names
        )
        cells = [
            f"`{entry.commit[:7]}`",
            entry.time,
            ", ".join(entry.versions) or "-",
            ", ".join(entry.stages) or "-",
        ]
        lines.append("| " + " | ".join(cells) + f" | {scores} |")
    return "\n".join(lines)


def changes(entries: list[Entry]) -> str:
    """What changed in each entry, newest first, as a Markdown list."""
    befores: list[Entry | None] = [None, *entries[:-1]]
    items = [what_changed(entry, before) for entry, before in zip(entries, befores)]
    return "**What changed**, newest first:\n\n" + "\n".join(reversed(items))


def read_workspace_metrics(path: str) -> dict[str, float] | None:
    """The metrics file of the working tree, None before the first run."""
    try:
        metrics = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


def scores(metrics: dict[str, float]) -> str:
    """The metrics as a one-row Markdown table, with four decimals."""
    names = sorted(metrics)
    return "\n".join(
        [
            "| " + " | ".join(names) + " |",
            "| " + " | ".join("---:" for _ in names) + " |",
            "| " + " | ".join(f"{metrics[name]:.4f}" for name in names) + " |",
        ]
    )


def current_model() -> str:
    """The newest row of the history, for the home page, as Markdown.

    The working tree's metrics when they are not committed yet (after a
    ``make repro`` or ``dvc exp apply``), said so.
    """
    path = metrics_file()
    workspace = read_workspace_metrics(path)
    entries = read_history(path)
    if workspace is None:
        return (
            "No model yet: run `make repro` (or `dvc pull`) and build the site again."
        )
    if not entries or entries[-1].metrics != workspace:
        return "**The working tree's model**, not committed yet:\n\n" + scores(
            workspace
        )
    add_registry(entries, path)
    entry = entries[-1]
    version = ", ".join(entry.versions) or "not registered"
    stage = ", ".join(entry.stages) or "no stage"
    subject = html.escape(entry.subject)
    return (
        f"**{version}** ({stage}): `{estimator(entry)}`, commit `{entry.commit[:7]}`"
        f" ({subject}), {entry.time} UTC\n\n" + scores(entry.metrics)
    )


def metrics_history() -> str:
    """The page's content: the chart and the table, or why there are none."""
    path = metrics_file()
    entries = read_history(path)
    if not entries:
        return f"No commit has `{path}` yet: run `make repro`, then commit it."
    add_registry(entries, path)
    names = " → ".join(label(entry) for entry in entries)
    png = base64.b64encode(draw(entries)).decode("ascii")
    alt = f"Test-set metrics of each model, oldest first: {names}"
    chart = f"![{alt}](data:image/png;base64,{png})"
    return "\n\n".join([chart, table(entries), changes(entries)])
