"""Batch scoring and the drift check of a baked project.

One default project is trained once (ingest, prepare, train); every test then
runs the baked commands as a user would, on tables generated from its own
training data: ``batch`` must give what ``predict`` gives, with the model
version, in chunks; ``drift`` must find nothing in the training data itself
and exactly the one feature that was moved; bad tables get one line naming the
column, and nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
from pathlib import Path

import pytest

from support.helpers import Baked, bake

pytestmark = pytest.mark.slow

SHIFTED = "mean_radius"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """A default project with its training data and model."""
    project = bake(tmp_path_factory.mktemp("batch"), venv=baked_venv)
    for command in ("ingest", "prepare", "train"):
        project.run("python", "-m", project.package, command)
    return project


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file."""
    with path.open(newline="") as stream:
        header, *rows = list(csv.reader(stream))
    return header, rows


def write_table(path: Path, header: list[str], rows: list[list]) -> Path:
    """Write a CSV file."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def features_of(project: Baked) -> tuple[list[str], list[list[str]]]:
    """The training data without its target column."""
    header, rows = read_table(project.path / "data/prepared/train.csv")
    index = header.index("target")
    return (
        [name for i, name in enumerate(header) if i != index],
        [[value for i, value in enumerate(row) if i != index] for row in rows],
    )


def test_batch_scores_like_predict_and_names_the_model(trained: Baked, tmp_path: Path) -> None:
    header, rows = features_of(trained)
    table = write_table(tmp_path / "input.csv", header, rows[:300])
    single = tmp_path / "predict.csv"
    batch = tmp_path / "batch.csv"
    trained.run(
        "python", "-m", trained.package, "predict", "--input", str(table), "--output", str(single)
    )
    trained.run(
        "python", "-m", trained.package, "batch", "--input", str(table), "--output", str(batch)
    )

    expected_header, expected = read_table(single)
    got_header, got = read_table(batch)
    assert got_header == ["row", "prediction", "probability", "model_version", "scored_at"]
    assert [row[0] for row in got] == [str(i) for i in range(300)]
    assert [row[1:3] for row in got] == expected
    # The model's identity, as /health and the model card name it.
    sha256 = hashlib.sha256((trained.path / "models/model.joblib").read_bytes()).hexdigest()
    assert {row[3] for row in got} == {sha256[:12]}
    assert len({row[4] for row in got}) == 1 and got[0][4].endswith("+00:00")


def test_a_large_table_is_scored_in_chunks(trained: Baked, tmp_path: Path) -> None:
    header, rows = features_of(trained)
    large = [rows[i % len(rows)] for i in range(200_000)]
    table = write_table(tmp_path / "large.csv", header, large)
    output = tmp_path / "out.csv"
    text = trained.read("params.yaml").replace("chunk_size: 50000", "chunk_size: 30000")
    params = tmp_path / "params.yaml"
    params.write_text(text)
    result = trained.run(
        "python",
        "-m",
        trained.package,
        "batch",
        "--params",
        str(params),
        "--input",
        str(table),
        "--output",
        str(output),
    )
    # 200,000 rows, 30,000 at a time: six full chunks and one of 20,000.
    assert "Wrote 200000 predictions (7 chunks" in result.stdout, result.stdout
    with output.open() as stream:
        assert sum(1 for _ in stream) == 200_001


def drift(project: Baked, table: Path, report: Path):
    return project.run(
        "python",
        "-m",
        project.package,
        "drift",
        "--input",
        str(table),
        "--report",
        str(report),
        check=False,
    )


def test_the_training_data_has_not_drifted(trained: Baked, tmp_path: Path) -> None:
    header, rows = features_of(trained)
    table = write_table(tmp_path / "same.csv", header, rows)
    result = drift(trained, table, tmp_path / "drift.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["drift"] is False and report["drifted_features"] == []
    assert len(report["features"]) == 30
    assert "**No drift** in 30 features" in (tmp_path / "drift.md").read_text()


def test_one_feature_moved_by_two_standard_deviations_drifts_alone(
    trained: Baked, tmp_path: Path
) -> None:
    header, rows = features_of(trained)
    column = header.index(SHIFTED)
    shift = 2 * statistics.stdev(float(row[column]) for row in rows)
    moved = [[float(v) + shift if i == column else v for i, v in enumerate(row)] for row in rows]
    table = write_table(tmp_path / "moved.csv", header, moved)
    result = drift(trained, table, tmp_path / "drift.json")
    assert result.returncode == 1, result.stderr
    assert f"Drift in: {SHIFTED}" in result.stderr
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["drift"] is True and report["drifted_features"] == [SHIFTED]
    markdown = (tmp_path / "drift.md").read_text()
    assert "**Drift** in 1 of 30 features" in markdown
    # The drifted feature comes first in the table.
    lines = markdown.splitlines()
    first = lines[[n for n, line in enumerate(lines) if line.startswith("|---|")][0] + 1]
    assert first.startswith(f"| {SHIFTED} |"), markdown


def test_missing_values_beyond_the_limit_are_drift(trained: Baked, tmp_path: Path) -> None:
    header, rows = features_of(trained)
    column = header.index("worst_area")
    holed = [
        ["" if i == column and n % 10 == 0 else v for i, v in enumerate(row)]
        for n, row in enumerate(rows)
    ]
    result = drift(
        trained, write_table(tmp_path / "holes.csv", header, holed), tmp_path / "drift.json"
    )
    assert result.returncode == 1
    (feature,) = [
        f for f in json.loads((tmp_path / "drift.json").read_text())["features"] if f["drifted"]
    ]
    assert feature["name"] == "worst_area" and feature["missing"] == pytest.approx(0.1, abs=0.01)


def bad_tables(header: list[str], rows: list[list[str]]) -> dict[str, tuple]:
    """name -> (header, rows, the column the error must name)."""
    text = [row[:] for row in rows[:50]]
    text[7][header.index("mean_texture")] = "n/a"
    return {
        "missing column": (header[1:], [row[1:] for row in rows[:50]], header[0]),
        "extra column": (
            header + ["customer_id"],
            [row + ["c1"] for row in rows[:50]],
            "customer_id",
        ),
        "non-numeric value": (header, text, "mean_texture"),
        "zero rows": (header, [], "no rows"),
    }


@pytest.mark.parametrize("command", ["batch", "drift"])
@pytest.mark.parametrize(
    "case", ["missing column", "extra column", "non-numeric value", "zero rows"]
)
def test_bad_input_gets_one_line_and_nothing_is_written(
    trained: Baked, tmp_path: Path, command: str, case: str
) -> None:
    header, rows, named = bad_tables(*features_of(trained))[case]
    table = write_table(tmp_path / "bad.csv", header, rows)
    out = tmp_path / "out"
    option = (
        ["--output", str(out / "p.csv")]
        if command == "batch"
        else ["--report", str(out / "drift.json")]
    )
    result = trained.run(
        "python", "-m", trained.package, command, "--input", str(table), *option, check=False
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert repr(named) in result.stderr or named in result.stderr, result.stderr
    if case == "non-numeric value":
        assert "'n/a' in row 7" in result.stderr
    assert not out.exists() or not any(out.iterdir())
