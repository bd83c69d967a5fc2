"""Azure Container Apps from GitHub Actions: publish.yml's deploy jobs log in with
OpenID Connect (azure/login), deploy the image as a new revision of the
environment's container app (tools/deploy_container_app.sh, the script Azure
Pipelines runs too), then smoke-test it (tools/smoke_test.py). The workflow
passes zizmor and the schemas; the deploy runs in act against an ``az``
stand-in (standins/az.py) and the deployed app is a server on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from actions_engine import CONTAINER_APPS_VARS, GitHubRepository
from helpers import bake
from servers import JSONServer

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
VERSION_IMAGE = "ghcr.io/acme/ml-project:1.2.0"
HEALTHY = {"status": "ok", "package_version": "1.2.0", "model": {}, "metrics": {}}


def test_the_container_apps_workflow_passes_zizmor_and_the_schemas(tmp_path: Path) -> None:
    project = bake(tmp_path, deploy_target="azure-container-apps")
    github = project.path / ".github"
    audit = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", str(github)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0 and "No findings to report" in audit.stdout, audit.stdout
    for schema, files in (
        ("vendor.github-workflows", [github / "workflows" / "publish.yml"]),
        ("vendor.github-actions", [github / "actions" / "deploy" / "action.yml"]),
    ):
        check = subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    publish = project.read(".github/workflows/publish.yml")
    assert "azure/login" not in publish  # the login lives in the deploy action only
    action = project.read(".github/actions/deploy/action.yml")
    assert "uses: azure/login@f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca # v3.0.1" in action
    assert "bash tools/deploy_container_app.sh" in action
    assert 'python3 tools/smoke_test.py "$APP_URL"' in action


@pytest.fixture
def repo(tmp_path: Path) -> GitHubRepository:
    """A container-apps project on GitHub; a release published earlier left its image."""
    project = bake(tmp_path / "bake", deploy_target="azure-container-apps")
    repository = GitHubRepository(project, tmp_path / "github")
    repository.state_dir.joinpath("cloud.json").write_text(
        json.dumps({"images": {VERSION_IMAGE: "sha256:1"}, "digests": [VERSION_IMAGE]})
    )
    return repository


def add_app(repo: GitHubRepository, name: str, fqdn: str, group: str = "ml-serving") -> None:
    """A container app that exists, with external ingress at ``fqdn``."""
    path = repo.state_dir / "cloud.json"
    cloud = json.loads(path.read_text())
    cloud.setdefault("container_apps", {})[name] = {"resource_group": group, "fqdn": fqdn}
    path.write_text(json.dumps(cloud))


def test_deploy_by_hand_skips_then_deploys_and_smoke_tests(
    repo: GitHubRepository, tmp_path: Path
) -> None:
    inputs = {"version": "v1.2.0", "environment": "staging"}
    run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs)
    assert run.returncode == 0, run.describe()
    notices = "\n".join(run["deploy-staging"].notices)
    assert (
        "AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID CONTAINER_APPS_RESOURCE_GROUP"
        in notices
    ), run.describe()
    assert "container_apps" not in repo.cloud()

    repo.vars.update(CONTAINER_APPS_VARS)
    with JSONServer(lambda method, path, body: (200, HEALTHY), tls_dir=tmp_path / "tls") as app:
        add_app(repo, "ml-project-staging", app.address)
        run = repo.run(
            "publish.yml", "workflow_dispatch", inputs=inputs, env={"SSL_CERT_FILE": str(app.cert)}
        )
        assert run.returncode == 0, run.describe()
        assert ("GET", "/health") in [(m, p) for m, p, _, _ in app.requests]
    staging = repo.cloud()["container_apps"]["ml-project-staging"]
    assert staging["revisions"] == [VERSION_IMAGE]
    assert run["deploy-staging"].said("Smoke test passed"), run.describe()
    assert run["deploy-production"].result == "skipped"


def test_a_failing_smoke_test_fails_the_deploy(repo: GitHubRepository, tmp_path: Path) -> None:
    """The new revision answers 503: the job fails (production would not follow)."""
    repo.vars.update(CONTAINER_APPS_VARS)
    broken = {"detail": "model not loaded"}
    with JSONServer(lambda method, path, body: (503, broken), tls_dir=tmp_path / "tls") as app:
        add_app(repo, "ml-project", app.address)
        run = repo.run(
            "publish.yml",
            "workflow_dispatch",
            inputs={"version": "v1.2.0", "environment": "production"},
            env={"SSL_CERT_FILE": str(app.cert), "SMOKE_TEST_TIMEOUT": "1"},
        )
    assert run.returncode != 0 and run["deploy-production"].result == "failure", run.describe()
    assert any("smoke test failed" in line for line in run["deploy-production"].output)


def test_a_missing_app_is_azure_s_refusal(repo: GitHubRepository) -> None:
    repo.vars.update({**CONTAINER_APPS_VARS, "CONTAINER_APP": "no-such-app"})
    run = repo.run(
        "publish.yml", "workflow_dispatch", inputs={"version": "v1.2.0", "environment": "staging"}
    )
    assert run["deploy-staging"].result == "failure", run.describe()
    assert any("ResourceNotFound" in line for line in run["deploy-staging"].output), run.describe()
