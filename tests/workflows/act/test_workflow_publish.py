"""Releases in act: packages versioned by the tag and free of credentials, the
image named after the repository, deploys once the environments are set up,
and redeploys or rollbacks of a released version by hand.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from support.actions_engine import GitHubRepository
from support.helpers import Baked, bake, uv
from support.servers import CloudRunIngress, JSONServer

pytestmark = pytest.mark.slow


FLY_TOKEN = "fly-deploy-token"


def test_the_sdist_never_contains_a_cloud_login_s_credentials_file(
    tmp_path: Path, baked_venv: Path
) -> None:
    """google-github-actions/auth writes gha-creds-*.json into the workspace."""
    project = bake(tmp_path, dvc_remote="gs", venv=baked_venv)
    (project.path / "gha-creds-0123456789abcdef.json").write_text('{"token": "secret"}')
    project.run(uv(), "build", "--sdist", "--out-dir", "dist")
    (sdist,) = (project.path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("/pyproject.toml") for name in names)
    assert not [name for name in names if "gha-creds" in name]


# Files a working copy holds beside the package: untracked secrets, DVC's data.
STRAYS = {
    "secrets.env": "API_KEY=1",
    "config/my_secret.txt": "1",
    "creds.json": "{}",
    "creds-prod.json": "{}",
    "data/raw/snapshot.csv": "a,b\n",
    "data/prepared/train.csv": "a,b\n",
    "models/model.joblib": "0",
    "notes.txt": "mine",
}


def test_the_sdist_holds_the_package_and_nothing_else(tmp_path: Path, baked_venv: Path) -> None:
    """An explicit include list: a local `uv build` packs no stray file."""
    project = bake(tmp_path, venv=baked_venv)
    for name, text in STRAYS.items():
        (project.path / name).parent.mkdir(parents=True, exist_ok=True)
        (project.path / name).write_text(text)
    project.run(uv(), "build", "--sdist", "--out-dir", "dist")
    (sdist,) = (project.path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    package = f"src/{project.package}/"
    extra = {name for name in names if not name.startswith(package)}
    # hatchling always adds .gitignore (it says what a build leaves out).
    assert extra == {".gitignore", "LICENSE", "PKG-INFO", "README.md", "pyproject.toml"}
    assert f"{package}cli.py" in names
    # git ignores the secrets too, so that `git add .` never commits them.
    secrets = [name for name in STRAYS if "secret" in name or "creds" in name]
    ignored = project.run("git", "check-ignore", *secrets, check=False).stdout.split()
    assert ignored == secrets


def released(project: Baked, root: Path, tag: str = "v1.2.0") -> GitHubRepository:
    """The project on GitHub with ``tag`` pushed."""
    repo = GitHubRepository(project, root)
    repo.push(f"refs/tags/{tag}")
    return repo


def healthy(method: str, path: str, body: object) -> tuple[int, dict]:
    """A deployed app that answers its smoke test."""
    return 200, {"status": "ok", "model": {}, "metrics": {}}


def test_a_configured_fly_release_deploys_staging_then_production(tmp_path: Path) -> None:
    project = bake(tmp_path / "bake", deploy_target="fly")
    repo = released(project, tmp_path / "github")
    repo.secrets["FLY_API_TOKEN"] = FLY_TOKEN

    with JSONServer(healthy, tls_dir=tmp_path / "tls") as app:
        # Both apps' addresses lead to the server (flyctl status --json: Hostname).
        hostnames = {name: app.address for name in ("ml-project-staging", "ml-project")}
        # The package was made public after its first image (Day two).
        public = {"ghcr.io/acme/ml-project": "public"}
        cloud = {**repo.cloud(), "fly_hostnames": hostnames, "packages": public}
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps(cloud))
        env = {"SSL_CERT_FILE": str(app.cert)}
        run = repo.run("publish.yml", "push", ref="refs/tags/v1.2.0", env=env)
        assert run.returncode == 0, run.describe()
        smoke_tests = [r for r in app.requests if r[:2] == ("GET", "/health")]
        assert len(smoke_tests) == 2, app.requests
        assets = repo.github["releases"]["v1.2.0"]["assets"]
        assert {"ml_project-1.2.0-py3-none-any.whl", "ml_project-1.2.0.tar.gz"} <= set(assets)
        assert {"model.joblib", "metrics.json", "model-card.md", "uv.lock"} <= set(assets)
        cloud = repo.cloud()
        (digest,) = cloud["digests"]
        assert digest.startswith("ghcr.io/acme/ml-project@sha256:")
        assert {"ghcr.io/acme/ml-project:1.2.0", "ghcr.io/acme/ml-project:1.2"} <= set(
            cloud["images"]
        )
        # The apps did not exist: the first deploy created them, then deployed the digest.
        apps = cloud["fly_apps"]
        assert {name: app["image"] for name, app in apps.items()} == {
            "ml-project-staging": digest,
            "ml-project": digest,
        }

        # The same tag again (a release published in the web UI pushes it too): nothing twice.
        run = repo.run("publish.yml", "release", ref="refs/tags/v1.2.0", tag="v1.2.0", env=env)
        assert run.returncode == 0, run.describe()
        assert run["gate"].result == "skipped" and run["deploy-staging"].result == "skipped"
        assert any("Run this workflow by hand" in n for n in run["check"].notices)

        # A rollback by hand: production gets the image of the release named.
        run = repo.run(
            "publish.yml",
            "workflow_dispatch",
            inputs={"version": "v1.2.0", "environment": "production"},
            env=env,
        )
        assert run.returncode == 0, run.describe()
        assert (run["deploy-staging"].result, run["deploy-production"].result) == (
            "skipped",
            "success",
        )
        assert repo.cloud()["fly_apps"]["ml-project"]["image"] == "ghcr.io/acme/ml-project:1.2.0"


def test_cloud_run_deploys_by_hand_once_configured(tmp_path: Path) -> None:
    project = bake(tmp_path / "bake", deploy_target="cloud-run")
    repo = GitHubRepository(project, tmp_path / "github")
    # A release published earlier left its image in the registry.
    repo.state_dir.joinpath("cloud.json").write_text(
        '{"images": {"ghcr.io/acme/ml-project:1.2.0": "sha256:1"},'
        ' "digests": ["ghcr.io/acme/ml-project:1.2.0"]}'
    )
    inputs = {"version": "v1.2.0", "environment": "staging"}

    run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs)
    assert run.returncode == 0, run.describe()
    assert "GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT CLOUD_RUN_REGION" in "\n".join(
        run["deploy-staging"].notices
    )
    assert "cloud_run" not in repo.cloud()

    pool = "projects/1/locations/global/workloadIdentityPools/ci"
    repo.vars.update(
        GCP_WORKLOAD_IDENTITY_PROVIDER=f"{pool}/providers/github",
        GCP_SERVICE_ACCOUNT="deploy@project.iam.gserviceaccount.com",
        CLOUD_RUN_REGION="europe-west1",
    )
    with JSONServer(healthy, tls_dir=tmp_path / "tls") as app:
        cloud = repo.cloud()
        cloud["cloud_run_urls"] = {"ml-project-staging": f"https://{app.address}"}
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps(cloud))
        env = {"SSL_CERT_FILE": str(app.cert)}
        run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs, env=env)
        assert run.returncode == 0, run.describe()
        assert run["deploy-staging"].said("Smoke test passed"), run.describe()
    assert repo.cloud()["cloud_run"] == {"ml-project-staging": "ghcr.io/acme/ml-project:1.2.0"}


# --- Day two: the first deploy of each target (docs/ci-cd.md, Day two) -----


def test_the_first_fly_release_names_the_package_to_make_public(tmp_path: Path) -> None:
    """ghcr.io makes a new package private, and the release that pushes the first
    image deploys it at once: Fly.io cannot pull it. The run says which setting
    to change; once the package is public, deploying the release by hand works."""
    project = bake(tmp_path / "bake", deploy_target="fly")
    repo = released(project, tmp_path / "github")
    repo.secrets["FLY_API_TOKEN"] = FLY_TOKEN
    with JSONServer(healthy, tls_dir=tmp_path / "tls") as app:
        hostnames = {name: app.address for name in ("ml-project-staging", "ml-project")}
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps({"fly_hostnames": hostnames}))
        env = {"SSL_CERT_FILE": str(app.cert)}
        run = repo.run("publish.yml", "push", ref="refs/tags/v1.2.0", env=env)
        assert run["release"].result == "success" and run["image"].result == "success"
        assert run["deploy-staging"].result == "failure", run.describe()
        assert run["deploy-production"].result == "skipped"
        error = "\n".join(run["deploy-staging"].errors + run["deploy-staging"].output)
        assert "ghcr.io/acme/ml-project" in error and "Change visibility" in error, error
        assert repo.cloud()["packages"] == {"ghcr.io/acme/ml-project": "private"}

        # A person makes the package public, then deploys the release by hand.
        cloud = repo.cloud()
        cloud["packages"]["ghcr.io/acme/ml-project"] = "public"
        repo.state_dir.joinpath("cloud.json").write_text(json.dumps(cloud))
        inputs = {"version": "v1.2.0", "environment": "staging"}
        run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs, env=env)
        assert run.returncode == 0, run.describe()
        assert run["deploy-staging"].said("Smoke test passed"), run.describe()


def test_the_first_cloud_run_deploy_names_the_package_then_the_one_time_iam_step(
    tmp_path: Path,
) -> None:
    """Cloud Run cannot pull the first image of a private package, and
    deploy-cloudrun creates a private service, which refuses the smoke test's
    calls (HTTP 403): the run names each setting in turn."""
    project = bake(tmp_path / "bake", deploy_target="cloud-run")
    repo = GitHubRepository(project, tmp_path / "github")
    repo.vars.update(
        GCP_WORKLOAD_IDENTITY_PROVIDER="projects/1/locations/global/workloadIdentityPools/ci"
        "/providers/github",
        GCP_SERVICE_ACCOUNT="deploy@project.iam.gserviceaccount.com",
        CLOUD_RUN_REGION="europe-west1",
    )
    # The first release's image, in the package its push created private.
    cloud = {
        "images": {"ghcr.io/acme/ml-project:1.2.0": "sha256:1"},
        "digests": ["ghcr.io/acme/ml-project:1.2.0"],
        "packages": {"ghcr.io/acme/ml-project": "private"},
    }
    state = repo.state_dir / "cloud.json"
    inputs = {"version": "v1.2.0", "environment": "staging"}
    ingress = CloudRunIngress(healthy, state, "ml-project-staging")
    with JSONServer(ingress, tls_dir=tmp_path / "tls") as app:
        state.write_text(
            json.dumps(
                {**cloud, "cloud_run_urls": {"ml-project-staging": f"https://{app.address}"}}
            )
        )
        env = {"SSL_CERT_FILE": str(app.cert)}
        run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs, env=env)
        assert run["deploy-staging"].result == "failure", run.describe()
        error = "\n".join(run["deploy-staging"].errors)
        assert "ghcr.io/acme/ml-project" in error and "Change visibility" in error, error
        assert "CLOUD_RUN_REGISTRY" in error and not app.requests
        assert "cloud_run" not in repo.cloud()

        # Made public: the deploy passes, the service it created refuses the smoke test.
        published = repo.cloud()
        published["packages"]["ghcr.io/acme/ml-project"] = "public"
        state.write_text(json.dumps(published))
        run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs, env=env)
        assert run["deploy-staging"].result == "failure", run.describe()
        error = "\n".join(run["deploy-staging"].errors)
        assert "HTTP Error 403" in error, run.describe()
        assert (
            "gcloud run services add-iam-policy-binding ml-project-staging"
            " --region=europe-west1 --member=allUsers --role=roles/run.invoker"
        ) in error, error
        # A refusal is not retried: it lasts until a person changes the policy.
        assert [r[:2] for r in app.requests] == [("GET", "/health")]

        # The person runs that command once; the next deploy passes.
        invokers = repo.cloud()
        invokers["cloud_run_invokers"]["ml-project-staging"] = ["allUsers"]
        state.write_text(json.dumps(invokers))
        run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs, env=env)
        assert run.returncode == 0, run.describe()
        assert run["deploy-staging"].said("Smoke test passed"), run.describe()
