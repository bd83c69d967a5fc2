"""Batch scoring and drift monitoring in act.

A configured repository: the model, its training data and a batch input that
has drifted (one feature moved by two standard deviations) are in the DVC
remote, moto's S3 server on 127.0.0.1. The batch workflow scores the input
with main's model and pushes the predictions; the monitoring workflow finds
the drift, opens one issue (a comment on later runs) and starts training only
once the DRIFT_RETRAIN variable is true. A brand-new repository skips both
with a notice that names the missing setting.
"""

from __future__ import annotations

import csv
import hashlib
import statistics
from pathlib import Path

import pytest

from support.actions_engine import AWS_VARS, GitHubRepository
from support.helpers import Baked, bake
from support.servers import S3Server

pytestmark = pytest.mark.slow

BUCKET = "ml-project-dvc"
SHIFTED = "mean_radius"


def write_drifted_input(project: Baked) -> None:
    """data/batch/input.csv: the training features with one feature moved by 2 std."""
    with (project.path / "data/prepared/train.csv").open(newline="") as stream:
        header, *rows = list(csv.reader(stream))
    target = header.index("target")
    column = header.index(SHIFTED)
    shift = 2 * statistics.stdev(float(row[column]) for row in rows)
    batch = project.path / "data/batch"
    batch.mkdir(parents=True, exist_ok=True)
    with (batch / "input.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([name for i, name in enumerate(header) if i != target])
        for row in rows:
            writer.writerow(
                [float(v) + shift if i == column else v for i, v in enumerate(row) if i != target]
            )


def test_a_new_repository_skips_both_with_a_notice(tmp_path: Path) -> None:
    project = bake(tmp_path / "bake", dvc_remote="s3")
    repo = GitHubRepository(project, tmp_path / "github")
    run = repo.run("batch.yml", "schedule", cron="41 2 * * *")
    assert run["score"].result == "success", run.describe()
    assert any("AWS_ROLE_ARN" in n for n in run["score"].notices), run.describe()
    assert any("Nothing was scored" in n for n in run["score"].notices), run.describe()

    run = repo.run("monitoring.yml", "schedule", cron="11 5 * * *")
    assert run["drift"].result == "success", run.describe()
    assert any("AWS_ROLE_ARN" in n for n in run["drift"].notices), run.describe()
    assert any("Nothing was checked" in n for n in run["drift"].notices), run.describe()
    assert run["alert"].result == "skipped" and run["retrain"].result == "skipped"
    assert repo.github["issues"] == [] and repo.github["dispatches"] == []


def test_batch_scores_and_drift_opens_one_issue_then_retrains_when_allowed(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(tmp_path / "bake", dvc_remote="s3", venv=baked_venv)
    with S3Server(tmp_path / "moto") as s3:
        s3.create_bucket(BUCKET)
        aws = s3.credentials_env()
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        project.run("dvc", "repro")
        write_drifted_input(project)
        project.run("dvc", "add", "data/batch/input.csv")
        project.run("dvc", "push", extra_env=aws)
        repo = GitHubRepository(project, tmp_path / "github")
        repo.commit("Trained model and a batch input in the DVC remote")
        repo.push("main")
        repo.vars.update(AWS_VARS)
        before = set(s3.keys(BUCKET))

        # Batch: main's model scores the DVC-tracked input; predictions go to the remote.
        run = repo.run("batch.yml", "workflow_dispatch", inputs={"input": ""})
        assert run["score"].result == "success", run.describe()
        assert not any("Nothing was scored" in n for n in run["score"].notices)
        artifact = repo.state_dir / "artifacts" / "predictions"
        with (artifact / "predictions.csv").open(newline="") as stream:
            header, *rows = list(csv.reader(stream))
        assert header == ["row", "prediction", "probability", "model_version", "scored_at"]
        # The model's identity: the start of its SHA-256, as /health names it.
        model = hashlib.sha256((project.path / "models/model.joblib").read_bytes()).hexdigest()
        assert {row[3] for row in rows} == {model[:12]}
        assert (artifact / "predictions.csv.dvc").is_file()
        assert len(set(s3.keys(BUCKET)) - before) == 1, "the predictions were pushed"

        # Drift, retraining not allowed: one issue, a notice, no dispatch.
        for day in (1, 2):
            if day == 2:
                repo.vars["DRIFT_RETRAIN"] = "true"
            run = repo.run("monitoring.yml", "schedule", cron="11 5 * * *")
            assert run["drift"].result == "success", run.describe()
            assert run["alert"].result == "success", run.describe()
            (issue,) = repo.github["issues"]
            assert "drifted" in issue["title"] and f"| {SHIFTED} |" in issue["body"]
            if day == 1:
                assert run["retrain"].result == "skipped"
                assert any("DRIFT_RETRAIN" in n for n in run["alert"].notices), run.describe()
                assert repo.github["dispatches"] == [] and repo.github["comments"] == []
            else:
                assert run["retrain"].result == "success", run.describe()
                (comment,) = repo.github["comments"]
                assert (
                    comment["issue"] == issue["number"] and "started the train" in comment["body"]
                )
                (dispatch,) = repo.github["dispatches"]
                assert dispatch["workflow"] == "train.yml" and dispatch["ref"] == "main"
