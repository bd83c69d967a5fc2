"""The model registry and delivery on promotion, in act (deploy-model.yml).

A push to main with a new model registers it with GTO (``model@vX.Y.Z``), the
model is pulled from the DVC remote (moto's S3 on 127.0.0.1), checked and
compared with production, built into the image, deployed to staging,
smoke-tested there (health, one prediction, the model's SHA-256), deployed to
production, and each stage is recorded as a registry tag. A worse model and a
failed smoke test stop the delivery. A new repository without the remote's
settings gets notices that name them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from actions_engine import IDENTITY, GitHubRepository
from helpers import Baked, bake
from servers import JSONServer, S3Server

pytestmark = pytest.mark.slow

BUCKET = "ml-project-dvc"
AWS = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/dvc", "AWS_REGION": "us-east-1"}
AZURE = {
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000c1d0",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000007e0",
    "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000005b50",
    "CONTAINER_APPS_RESOURCE_GROUP": "ml-serving",
}


def registry_tags(repo: GitHubRepository) -> list[str]:
    """The registry's tags on GitHub."""
    return sorted(repo.git_origin("tag", "--list", "model*").split())


def train(project: Baked, s3: S3Server, message: str, C: float | None = None) -> str:
    """Train (with ``model.C``), push to the DVC remote, commit; the model's SHA-256."""
    if C is not None:
        text = project.read("params.yaml").replace("C: 1.0", f"C: {C}")
        (project.path / "params.yaml").write_text(text)
    project.run("dvc", "repro", "--quiet")
    keys = {
        "AWS_ACCESS_KEY_ID": s3.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": s3.SECRET_ACCESS_KEY,
        "AWS_CONFIG_FILE": str(s3.workdir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(s3.workdir / "no-aws-credentials"),
    }
    project.run("dvc", "push", "--quiet", extra_env=keys)
    project.run("git", "add", "-A")
    project.run("git", *IDENTITY, "commit", "-q", "--no-verify", "-m", message)
    return hashlib.sha256((project.path / "models/model.joblib").read_bytes()).hexdigest()


class App:
    """Both container apps' revisions, as one server on 127.0.0.1: it answers
    for the model it is told to serve."""

    def __init__(self) -> None:
        self.sha256 = ""

    def __call__(self, method: str, path: str, body: object) -> tuple[int, dict]:
        if path == "/health":
            return 200, {"status": "ok", "model": {"sha256": self.sha256}, "metrics": {}}
        instances = body.get("instances", []) if isinstance(body, dict) else []
        predictions = [{"prediction": 1, "probability": 0.9} for _ in instances]
        return 200, {"model_version": self.sha256[:12], "predictions": predictions}


def test_a_new_model_on_main_goes_to_staging_then_production(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(
        tmp_path / "bake",
        dvc_remote="s3",
        deploy_target="azure-container-apps",
        venv=baked_venv,
    )
    app = App()
    with S3Server(tmp_path / "moto") as s3, JSONServer(app, tls_dir=tmp_path / "tls") as server:
        s3.create_bucket(BUCKET)
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        repo = GitHubRepository(project, tmp_path / "github")
        repo.vars.update({**AWS, **AZURE})
        apps = {
            name: {"resource_group": "ml-serving", "fqdn": server.address}
            for name in ("ml-project-staging", "ml-project")
        }
        (repo.state_dir / "cloud.json").write_text(json.dumps({"container_apps": apps}))
        env = {"SSL_CERT_FILE": str(server.cert), "SMOKE_TEST_TIMEOUT": "3"}

        # The first model lands on main: registered, staged, smoke-tested, in production.
        first = train(project, s3, "Train the first model")
        repo.push("main")
        app.sha256 = first
        run = repo.run("deploy-model.yml", "push", env=env)
        assert run.returncode == 0, run.describe()
        # GTO numbers the stage tags of an artifact in one sequence.
        assert registry_tags(repo) == ["model#production#2", "model#staging#1", "model@v0.0.1"]
        cloud = repo.cloud()
        (image,) = cloud["container_apps"]["ml-project"]["revisions"]
        assert cloud["container_apps"]["ml-project-staging"]["revisions"] == [image]
        digest = image.split("@")[1]
        # The image holds exactly the registered model, pulled, not retrained.
        assert cloud["image_models"][digest] == first
        assert "ghcr.io/acme/ml-project:model-v0.0.1" in cloud["images"]
        assert run["deploy-staging"].said("Smoke test passed"), run.describe()
        assert run["deploy-staging"].said(f"serving model {first[:12]}, and /predict answered")
        predictions = [body for method, path, body, _ in server.requests if path == "/predict"]
        assert predictions and len(predictions[0]["instances"]) == 1
        assert "No other model is in production" in "\n".join(run["model"].output)

        # A worse model: registered, but compared with production it stops there.
        train(project, s3, "Train a much simpler model", C=0.002)
        repo.push("main")
        run = repo.run("deploy-model.yml", "push", env=env)
        assert run.returncode != 0 and run["model"].result == "failure", run.describe()
        assert any("lower than the one in production" in e for e in run["model"].errors)
        assert run["deploy-staging"].result == "skipped"
        assert registry_tags(repo) == [
            "model#production#2",
            "model#staging#1",
            "model@v0.0.1",
            "model@v0.0.2",
        ]
        assert repo.cloud()["container_apps"]["ml-project"]["revisions"] == [image]

        # A person promotes v0.0.1 to staging again, but the new revision
        # serves another model: the smoke test fails and says which.
        app.sha256 = "0" * 64
        tag = "model#staging#3"
        project.run("git", "fetch", "-q", "--tags", str(repo.origin))
        for key, value in (("user.name", "Dev"), ("user.email", "dev@example.com")):
            project.run("git", "config", key, value)
        # Already in staging: --force records the promotion again.
        project.run(
            "gto", "assign", "model", "--version", "v0.0.1", "--stage", "staging", "--force"
        )
        project.run("git", "push", "-q", str(repo.origin), f"refs/tags/{tag}")
        commit = repo.git_origin("rev-parse", f"refs/tags/{tag}^{{commit}}")
        run = repo.run("deploy-model.yml", "push", ref=f"refs/tags/{tag}", sha=commit, env=env)
        assert run.returncode != 0 and run["deploy-staging"].result == "failure", run.describe()
        assert run["deploy-staging"].said(f"serves the model with SHA-256 {'0' * 64}, not {first}")
        assert run["deploy-production"].result == "skipped"
        assert not [t for t in registry_tags(repo) if t.startswith("model#production#")][1:]


def test_without_a_model_or_the_remote_the_run_says_what_is_missing(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(tmp_path / "bake", dvc_remote="s3", serving=False, venv=baked_venv)
    with S3Server(tmp_path / "moto") as s3:
        s3.create_bucket(BUCKET)
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        repo = GitHubRepository(project, tmp_path / "github")

        # The template's first commit: no model yet, nothing to deliver.
        run = repo.run("deploy-model.yml", "push")
        assert run.returncode == 0, run.describe()
        assert any("records no model" in n for n in run["register"].notices), run.describe()
        assert run["model"].result == "skipped"

        # A model, but the remote's settings are missing: registered, not delivered.
        train(project, s3, "Train the first model")
        repo.push("main")
        run = repo.run("deploy-model.yml", "push")
        assert run.returncode == 0, run.describe()
        assert registry_tags(repo) == ["model@v0.0.1"]
        notices = "\n".join(run["model"].notices)
        assert "AWS_ROLE_ARN AWS_REGION" in notices
        assert "model@v0.0.1 is registered, but its model is in the DVC remote" in notices

        # Set up, the version's tag pushed again: with serving off the model
        # and its metrics are the run's artifact.
        repo.vars.update(AWS)
        run = repo.run(
            "deploy-model.yml",
            "push",
            ref="refs/tags/model@v0.0.1",
            sha=repo.git_origin("rev-parse", "refs/tags/model@v0.0.1^{commit}"),
        )
        assert run.returncode == 0, run.describe()
        delivered = repo.state_dir / "artifacts" / "model"
        assert {p.name for p in delivered.iterdir()} >= {"model.joblib", "metrics.json"}
        model = (project.path / "models/model.joblib").read_bytes()
        assert (delivered / "model.joblib").read_bytes() == model


def test_a_release_is_compared_with_production_and_versioned_by_v_tags_only(
    tmp_path: Path, baked_venv: Path
) -> None:
    """publish.yml's gate runs `tools/registry.py compare`; model tags are no package versions."""
    project = bake(tmp_path / "bake", venv=baked_venv)
    for key, value in (("user.name", "Dev"), ("user.email", "dev@example.com")):
        project.run("git", "config", key, value)
    compare = ("python", "tools/registry.py", "compare")
    assert "No version is in production yet" in project.run(*compare).stdout

    project.run("dvc", "repro", "--quiet")
    project.run("git", "add", "-A")
    project.run("git", "commit", "-q", "--no-verify", "-m", "Train the first model")
    project.run("git", "tag", "v1.2.0")
    project.run("gto", "register", "model")
    project.run("gto", "assign", "model", "--version", "v0.0.1", "--stage", "production")
    assert "is the one in production" in project.run(*compare).stdout

    text = project.read("params.yaml").replace("C: 1.0", "C: 0.002")
    (project.path / "params.yaml").write_text(text)
    project.run("dvc", "repro", "--quiet")
    project.run("git", "commit", "-q", "--no-verify", "-am", "A much simpler model")
    project.run("gto", "register", "model")  # model@v0.0.2, the newest tag of all
    worse = project.run(*compare, check=False)
    assert worse.returncode == 1 and "WORSE" in worse.stdout, worse.stdout + worse.stderr

    # hatch-vcs takes the release tag, not the newer model@v0.0.2.
    project.run("uv", "build", "--wheel", "--out-dir", "dist")
    (wheel,) = (project.path / "dist").glob("*.whl")
    assert wheel.name.startswith("ml_project-1.2.1.dev1+g"), wheel.name

    gate = yaml.safe_load(project.read(".github/workflows/publish.yml"))["jobs"]["gate"]
    assert gate["steps"][0]["with"]["fetch-depth"] == 0
    assert any("python tools/registry.py compare" in s.get("run", "") for s in gate["steps"])
