"""The model registry and delivery on promotion, in act (deploy-model.yml).

The way from a merged model to production, smoke tests included, runs in
test_workflow_training.py. Here: a model worse than production's is
registered but not deployed, a revision that serves another model fails its
smoke test and stops production, a new repository without a model or without
the remote's settings gets notices that name what is missing, and a release
is compared with production and versioned by its v* tag alone. The DVC remote
is moto's S3 on 127.0.0.1, both container apps one server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.actions_engine import AWS_VARS, CONTAINER_APPS_VARS, IDENTITY, GitHubRepository
from support.helpers import Baked, bake
from support.servers import JSONServer, S3Server, ServingApp

pytestmark = pytest.mark.slow

BUCKET = "ml-project-dvc"


def registry_tags(repo: GitHubRepository) -> list[str]:
    """The registry's tags on GitHub."""
    return sorted(repo.git_origin("tag", "--list", "model*").split())


def train(project: Baked, s3: S3Server, message: str, C: float | None = None) -> str:
    """Train (with ``model.C``), push to the DVC remote, commit; the model's SHA-256."""
    if C is not None:
        text = project.read("params.yaml").replace("C: 1.0", f"C: {C}")
        (project.path / "params.yaml").write_text(text)
    project.run("dvc", "repro", "--quiet")
    project.run("dvc", "push", "--quiet", extra_env=s3.credentials_env())
    project.run("git", "add", "-A")
    project.run("git", *IDENTITY, "commit", "-q", "--no-verify", "-m", message)
    return hashlib.sha256((project.path / "models/model.joblib").read_bytes()).hexdigest()


def gto(project: Baked, repo: GitHubRepository, *args: str) -> None:
    """A person's `gto` command, its new tags pushed."""
    project.run("gto", *args)
    project.run("git", "push", "-q", str(repo.origin), "refs/tags/model*:refs/tags/model*")


def test_a_worse_model_or_a_wrong_revision_never_reaches_production(
    tmp_path: Path, baked_venv: Path
) -> None:
    project = bake(
        tmp_path / "bake", dvc_remote="s3", deploy_target="azure-container-apps", venv=baked_venv
    )
    project.set_git_identity()
    app = ServingApp()
    with S3Server(tmp_path / "moto") as s3, JSONServer(app, tls_dir=tmp_path / "tls") as server:
        s3.create_bucket(BUCKET)
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        repo = GitHubRepository(project, tmp_path / "github")
        repo.vars.update({**AWS_VARS, **CONTAINER_APPS_VARS})
        apps = {
            name: {"resource_group": "ml-serving", "fqdn": server.address}
            for name in ("ml-project-staging", "ml-project")
        }
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps({"container_apps": apps}))
        env = {"SSL_CERT_FILE": str(server.cert), "SMOKE_TEST_TIMEOUT": "3"}
        # v0.0.1 is in production (registered and promoted by hand).
        first = train(project, s3, "Train the first model")
        repo.push("main")
        gto(project, repo, "register", "model")
        gto(project, repo, "assign", "model", "--version", "v0.0.1", "--stage", "production")

        # A worse model lands on main: registered, compared with production, stopped.
        train(project, s3, "Train a much simpler model", C=0.002)
        repo.push("main")
        run = repo.run("deploy-model.yml", "push", env=env)
        assert run.returncode != 0 and run["model"].result == "failure", run.describe()
        assert any(
            "lower than the one in production" in e for e in run["model"].errors
        ), run.describe()
        assert run["model"].said("WORSE")
        assert run["image"].result == "skipped" and run["deploy-staging"].result == "skipped"
        assert registry_tags(repo) == ["model#production#1", "model@v0.0.1", "model@v0.0.2"]
        assert "container_apps" not in repo.cloud() or not any(
            a.get("revisions") for a in repo.cloud()["container_apps"].values()
        )

        # A person promotes v0.0.1 to staging, but the new revision serves
        # another model: the smoke test fails, says which, and nothing is recorded.
        app.sha256 = "0" * 64
        gto(project, repo, "assign", "model", "--version", "v0.0.1", "--stage", "staging")
        (tag,) = [t for t in registry_tags(repo) if t.startswith("model#staging#")]
        commit = repo.git_origin("rev-parse", f"refs/tags/{tag}^{{commit}}")
        run = repo.run("deploy-model.yml", "push", ref=f"refs/tags/{tag}", sha=commit, env=env)
        assert run.returncode != 0 and run["deploy-staging"].result == "failure", run.describe()
        assert run["deploy-staging"].said(f"serves the model with SHA-256 {'0' * 64}, not {first}")
        assert run["deploy-production"].result == "skipped"
        assert [t for t in registry_tags(repo) if "#" in t] == ["model#production#1", tag]


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
        repo.vars.update(AWS_VARS)
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
    project.set_git_identity()
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


# What each deploy target needs on GitHub's side, and where its app's address
# is looked up (set to the server on 127.0.0.1).
TARGET_SETTINGS: dict[str, dict[str, Any]] = {
    "fly": {"secrets": {"FLY_API_TOKEN": "fly-deploy-token"}, "address": "fly_hostnames"},
    "cloud-run": {
        "vars": {
            "GCP_WORKLOAD_IDENTITY_PROVIDER": "projects/1/locations/global/"
            "workloadIdentityPools/ci/providers/github",
            "GCP_SERVICE_ACCOUNT": "deploy@project.iam.gserviceaccount.com",
            "CLOUD_RUN_REGION": "europe-west1",
        },
        "address": "cloud_run_urls",
    },
    "none": {},
}


@pytest.mark.parametrize("target", list(TARGET_SETTINGS))
def test_every_deploy_target_delivers_a_promoted_version(
    tmp_path: Path, baked_venv: Path, target: str
) -> None:
    """A person promotes v0.0.1 to production: that model's image is built and,
    with a deploy target, deployed and smoke-tested there (staging is not touched)."""
    project = bake(tmp_path / "bake", dvc_remote="s3", deploy_target=target, venv=baked_venv)
    project.set_git_identity()
    settings = TARGET_SETTINGS[target]
    app = ServingApp()
    with S3Server(tmp_path / "moto") as s3, JSONServer(app, tls_dir=tmp_path / "tls") as server:
        s3.create_bucket(BUCKET)
        project.run("dvc", "remote", "modify", "storage", "endpointurl", s3.url)
        repo = GitHubRepository(project, tmp_path / "github")
        repo.vars.update({**AWS_VARS, **settings.get("vars", {})})
        repo.secrets.update(settings.get("secrets", {}))
        sha256 = train(project, s3, "Train the first model")
        repo.push("main")
        app.sha256 = sha256
        if "address" in settings:
            address = server.address if target == "fly" else f"https://{server.address}"
            addresses = {settings["address"]: {"ml-project": address}}
            # Made public after the package's first image (docs/ci-cd.md, Day two).
            public = {"packages": {"ghcr.io/acme/ml-project": "public"}}
            repo.state_dir.joinpath("cloud.json").write_text(json.dumps({**addresses, **public}))
        gto(project, repo, "register", "model")
        gto(project, repo, "assign", "model", "--version", "v0.0.1", "--stage", "production")
        tag = "model#production#1"
        commit = repo.git_origin("rev-parse", f"refs/tags/{tag}^{{commit}}")
        env = {"SSL_CERT_FILE": str(server.cert), "SMOKE_TEST_TIMEOUT": "3"}
        run = repo.run("deploy-model.yml", "push", ref=f"refs/tags/{tag}", sha=commit, env=env)

    assert run.returncode == 0, run.describe()
    cloud = repo.cloud()
    (digest,) = cloud["digests"]
    assert cloud["image_models"][digest.split("@")[1]] == sha256
    assert "ghcr.io/acme/ml-project:model-v0.0.1" in cloud["images"]
    assert run["deploy-staging"].result == "skipped"
    if target == "none":
        assert "deploy-production" not in run.jobs
        return
    assert run["deploy-production"].said(f"serving model {sha256[:12]}, and /predict answered")
    deployed = (
        cloud["fly_apps"]["ml-project"]["image"]
        if target == "fly"
        else cloud["cloud_run"]["ml-project"]
    )
    assert deployed.endswith(digest.split("@")[1])
    # The stage was the person's tag: nothing more is recorded.
    assert registry_tags(repo) == ["model#production#1", "model@v0.0.1"]
