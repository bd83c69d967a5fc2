"""Draw the model's metrics over time (docs/metrics-history.md runs it).

``metrics_history()`` returns Markdown: a chart of every metric across the
commits of the current branch that changed the metrics file (``paths.metrics``
in ``params.yaml``), and a table of those commits with the model version that
the registry gives each (GTO's ``model@vX.Y.Z`` tags) and the stage that
version holds now (``model#staging#N``, ``model#production#N``).

The metrics are DVC's own: ``dvc repro`` writes them and git keeps them with
every commit (``cache: false`` in ``dvc.yaml``), so the history is the git
history and needs no other store. The chart is embedded as a ``data:`` URL,
like the pipeline picture. The site needs the whole history and the tags:
the documentation workflow checks out with ``fetch-depth: 0``.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from gto import api
from gto.exceptions import ArtifactNotFound
from matplotlib.figure import Figure

ARTIFACT = "model"
STAGES = ("staging", "production")


@dataclass
class Entry:
    """The metrics of one commit, and what the registry says of it."""

    commit: str
    date: str
    subject: str
    metrics: dict[str, float]
    versions: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


def git(*args: str) -> str:
    """The output of a git command in the current directory."""
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True
    ).stdout


def metrics_file() -> str:
    """Where the pipeline writes its metrics (``paths.metrics``)."""
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    return str(params["paths"]["metrics"])


def read_history(path: str) -> list[Entry]:
    """Every commit of this branch that changed ``path``, oldest first.

    ``--first-parent`` follows the branch itself: a merged pull request counts
    once, as its merge commit.
    """
    log = git("log", "--first-parent", "--format=%H%x09%cs%x09%s", "--", path)
    entries = []
    for line in reversed(log.splitlines()):
        commit, date, subject = line.split("\t", 2)
        try:
            metrics = json.loads(git("show", f"{commit}:{path}"))
        except (subprocess.CalledProcessError, ValueError):
            continue  # deleted in that commit, or not JSON then
        numbers = {
            k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))
        }
        entries.append(Entry(commit, date, subject, numbers))
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


def draw(entries: list[Entry]) -> bytes:
    """A PNG with one line per metric across the entries."""
    names = sorted({name for entry in entries for name in entry.metrics})
    figure = Figure(
        figsize=(max(6.0, 1.1 * len(entries)), 3.6), dpi=100, layout="constrained"
    )
    axes = figure.subplots()
    positions = range(len(entries))
    for name in names:
        values = [entry.metrics.get(name, float("nan")) for entry in entries]
        axes.plot(positions, values, marker="o", label=name)
    axes.set_xticks(
        list(positions), [label(entry) for entry in entries], rotation=30, ha="right"
    )
    axes.set_ylabel("test-set score")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="lower left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def table(entries: list[Entry]) -> str:
    """The entries, newest first, as a Markdown table."""
    names = sorted({name for entry in entries for name in entry.metrics})
    lines = [
        "| Commit | Date | Version | Stage | " + " | ".join(names) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for entry in reversed(entries):
        scores = " | ".join(
            f"{entry.metrics[name]:.4f}" if name in entry.metrics else ""
            for name in names
        )
        cells = [
            f"`{entry.commit[:7]}`",
            entry.date,
            ", ".join(entry.versions) or "-",
            ", ".join(entry.stages) or "-",
        ]
        lines.append("| " + " | ".join(cells) + f" | {scores} |")
    return "\n".join(lines)


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
    return chart + "\n\n" + table(entries)
