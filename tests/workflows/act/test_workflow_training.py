"""Continuous training and delivery in act: new data retrains, unchanged data
does not, a model worse than main's is not proposed, a merged model is
registered and delivered to staging then production, and a model below the
thresholds opens one issue.

The data pipeline's CSV is served over HTTP on 127.0.0.1 (``data.source`` is its
URL) and the DVC remote is moto's S3 server on 127.0.0.1, as a configured
repository would have them: each run pulls what main's ``dvc.lock`` names and
DVC's run cache from the remote, exactly where an "up to date" answer would
hide new data. Both container apps are one server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from support.actions_engine import AWS_VARS, CONTAINER_APPS_VARS, PR_TOKEN, GitHubRepository, Run
from support.helpers import bake
from support.servers import JSONServer, S3Server, ServingApp, StaticHTTPServer

pytestmark = pytest.mark.slow


BUCKET = "ml-project-dvc"


def metrics_on(repo: GitHubRepository, branch: str) -> dict:
    """reports/metrics.json as committed on a branch of the origin."""
    return json.loads(repo.git_origin("show", f"{branch}:reports/metrics.json"))


def contract_on(repo: GitHubRepository, branch: str) -> tuple[str, str]:
    """The MD5 of the model's input contract as committed on ``branch``, and the
    MD5 that branch's dvc.lock records for it (they differ when the proposal
    left the contract out)."""
    lock = yaml.safe_load(repo.git_origin("show", f"{branch}:dvc.lock"))
    (out,) = [o for o in lock["stages"]["train"]["outs"] if o["path"].endswith(".schema.json")]
    committed = subprocess.run(
        ["git", "-C", str(repo.origin), "show", f"{branch}:{out['path']}"],
        check=True,
        capture_output=True,
    ).stdout
    return hashlib.md5(committed).hexdigest(), out["md5"]


def merge_proposal(repo: GitHubRepository) -> None:
    """Merge the open pull request of the train workflow, as a reviewer would."""
    repo.git_origin("update-ref", "refs/heads/main", "refs/heads/train/retrained-model")
    pulls = repo.github["pulls"]
    for pull in pulls:
        pull["state"] = "merged"
    repo.github.update(pulls=pulls)


def model_sha256(repo: GitHubRepository, s3: S3Server) -> str:
    """The SHA-256 of the model main's dvc.lock names, read from the DVC remote."""
    lock = yaml.safe_load(repo.git_origin("show", "main:dvc.lock"))
    (md5,) = [
        o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model.joblib"
    ]
    stored = s3.client().get_object(Bucket=BUCKET, Key=f"storage/files/md5/{md5[:2]}/{md5[2:]}")
    return hashlib.sha256(stored["Body"].read()).hexdigest()


def save_cycle_log(path: Path, runs: list[Run]) -> None:
    """Every line of the runs of one training-and-delivery cycle, for people to read."""
    lines = [
        f"[{job}] {line}"
        for run in runs
        for job, result in run.jobs.items()
        for line in result.output
    ]
    path.write_text("\n".join(lines) + "\n")


def test_new_data_retrains_and_unchanged_data_does_not(tmp_path: Path, baked_venv: Path) -> None:
    project = bake(
        tmp_path / "bake", dvc_remote="s3", deploy_target="azure-container-apps", venv=baked_venv
    )
    data = tmp_path / "served"
    data.mkdir()
    # The data pipeline's first delivery: the bundled dataset as a CSV file.
    project.run("python", "-m", project.package, "ingest")
    rows = project.read("data/raw/snapshot.csv").splitlines()
    (data / "data.csv").write_text("\n".join(rows) + "\n")
    (project.path / "data/raw/snapshot.csv").unlink()

    app = ServingApp()
    with (
        StaticHTTPServer(data) as http,
        S3Server(tmp_path / "moto") as s3,
        JSONServer(app, tls_dir=tmp_path / "tls") as server,
    ):
        s3.create_bucket(BUCKET)
        params = yaml.safe_load(project.read("params.yaml"))
        text = project.read("params.yaml").replace(
            f'source: "{params["data"]["source"]}"', f'source: "{http.url}/data.csv"'
        )
        (project.path / "params.yaml").write_text(text)
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        repo = GitHubRepository(project, tmp_path / "github")
        repo.commit("Train on the data pipeline's CSV")
        repo.push("main")
        repo.vars.update({**AWS_VARS, **CONTAINER_APPS_VARS})
        repo.github.update(actions_can_create_prs=True)
        apps = {
            name: {"resource_group": "ml-serving", "fqdn": server.address}
            for name in ("ml-project-staging", "ml-project")
        }
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps({"container_apps": apps}))

        # The first delivery: trained, pushed to the remote, proposed, merged.
        training = repo.run("train.yml", "repository_dispatch", event_type="new-data")
        assert training["propose"].result == "success", training.describe()
        assert training["train"].said("Pulling from the DVC remote 'storage'")
        first = metrics_on(repo, "train/retrained-model")
        merge_proposal(repo)
        assert s3.keys(BUCKET), "the train job pushed data, model and run cache"

        # Merged, main records a new model: registered, pulled (never trained
        # again), built into the image, deployed to staging, smoke-tested there
        # with the model it must serve, then deployed to production.
        app.sha256 = model_sha256(repo, s3)
        env = {"SSL_CERT_FILE": str(server.cert), "SMOKE_TEST_TIMEOUT": "3"}
        delivery = repo.run("deploy-model.yml", "push", env=env)
        save_cycle_log(tmp_path / "full-cycle.log", [training, delivery])
        assert delivery.returncode == 0, delivery.describe()
        tags = repo.git_origin("tag", "--list", "model*").split()
        assert sorted(tags) == ["model#production#2", "model#staging#1", "model@v0.0.1"]
        message = repo.git_origin("tag", "--list", "--format=%(contents)", "model@v0.0.1")
        assert "https://github.com/Acme/ml-project/actions/runs/" in message
        cloud = repo.cloud()
        (image,) = cloud["container_apps"]["ml-project"]["revisions"]
        assert cloud["container_apps"]["ml-project-staging"]["revisions"] == [image]
        assert cloud["image_models"][image.split("@")[1]] == app.sha256
        for job in ("deploy-staging", "deploy-production"):
            assert delivery[job].said(f"serving model {app.sha256[:12]}, and /predict answered")

        # New data (a fifth of the rows withdrawn): a new model is proposed.
        kept = [row for index, row in enumerate(rows) if index == 0 or index % 5]
        (data / "data.csv").write_text("\n".join(kept) + "\n")
        run = repo.run("train.yml", "repository_dispatch", event_type="new-data")
        assert run["propose"].result == "success", run.describe()
        # Main's model, pulled from the remote, scored on the new test set too.
        assert run["train"].said("the new model is as good as the champion"), run.describe()
        assert len(repo.github["pulls"]) == 2
        second = metrics_on(repo, "train/retrained-model")
        assert second != first
        # The new data moved the training ranges: the proposal carries the
        # contract that its dvc.lock records, so the merged main serves it.
        committed, recorded = contract_on(repo, "train/retrained-model")
        assert committed == recorded
        merge_proposal(repo)

        # The same data again: DVC finds everything up to date, nothing is proposed.
        run = repo.run("train.yml", "repository_dispatch", event_type="new-data")
        assert run["train"].result == "success" and run["propose"].result == "success"
        assert any("changed none of" in n for n in run["propose"].notices), run.describe()
        assert len(repo.github["pulls"]) == 2

        # A weaker model that still passes the gate: worse than main's beyond
        # the tolerances, so the run fails and nothing is pushed or proposed.
        project.run("git", "pull", "-q", "--ff-only", str(repo.origin), "main")
        text = project.read("params.yaml").replace("  C: 1.0\n", "  C: 0.002\n")
        (project.path / "params.yaml").write_text(text)
        repo.commit("Regularise much harder")
        repo.push("main")
        objects = s3.keys(BUCKET)
        run = repo.run("train.yml", "repository_dispatch", event_type="new-data")
        assert (run["train"].result, run["propose"].result) == ("failure", "skipped")
        assert run["train"].said("Quality gate passed."), run.describe()
        assert any("it is not proposed" in error for error in run["train"].errors)
        assert run["train"].said("the new model is worse than the champion")
        assert s3.keys(BUCKET) == objects
        assert len(repo.github["pulls"]) == 2


def test_a_model_below_the_thresholds_opens_one_issue_and_fails(tmp_path: Path) -> None:
    project = bake(tmp_path / "bake")
    text = project.read("params.yaml").replace("  accuracy: 0.9\n", "  accuracy: 0.999\n")
    (project.path / "params.yaml").write_text(text)
    repo = GitHubRepository(project, tmp_path / "github")
    repo.commit("Ask for more than the model gives")
    repo.push("main")
    for week in (1, 2):
        run = repo.run("train.yml", "schedule")
        assert (run["train"].result, run["propose"].result) == ("success", "skipped")
        assert run["alert"].result == "failure", run.describe()
        (issue,) = repo.github["issues"]
        assert "below the quality thresholds" in issue["title"]
        assert len(repo.github["comments"]) == week - 1


def test_the_weekly_retrain_proposes_again_after_main_changed_a_workflow(tmp_path: Path) -> None:
    """Last week's pull request is still open when main changes a workflow (as
    Dependabot's weekly action updates do): resetting its branch onto main would
    be a ref update whose diff changes that workflow, which GitHub refuses to
    GITHUB_TOKEN and to a token without the Workflows permission. The branch is
    pushed anew instead, and its pull request replaced."""
    project = bake(tmp_path / "bake")
    repo = GitHubRepository(project, tmp_path / "github")
    repo.github.update(actions_can_create_prs=True)
    run = repo.run("train.yml", "schedule")
    assert run["propose"].result == "success", run.describe()
    (first,) = repo.github["pulls"]
    assert (first["base"], first["state"]) == ("main", "open")

    for week, token in ((2, None), (3, PR_TOKEN)):
        workflow = project.path / ".github/workflows/testing.yml"
        workflow.write_text(workflow.read_text() + f"# Week {week}: an action updated.\n")
        repo.commit(f"Week {week}: update an action", paths=[".github/workflows/testing.yml"])
        main = repo.push("main")
        if token:
            repo.secrets["TRAIN_PR_TOKEN"] = token
        run = repo.run("train.yml", "schedule")
        assert run["propose"].result == "success", run.describe()
        assert "refusing to allow" not in "\n".join(run["propose"].output)
        pulls = repo.github["pulls"]
        assert [p["state"] for p in pulls] == ["closed"] * (week - 1) + ["open"]
        assert (pulls[-1]["head"], pulls[-1]["base"]) == ("train/retrained-model", "main")
        assert repo.git_origin("rev-parse", "train/retrained-model~1") == main
        assert any(f"#{pulls[-2]['number']}" in n for n in run["propose"].notices), run.describe()
