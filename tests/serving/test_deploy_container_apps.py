"""Azure Container Apps from GitHub Actions: publish.yml's deploy jobs log in with
OpenID Connect (azure/login), deploy the image as a new revision of the
environment's container app (tools/deploy_container_app.sh, the script Azure
Pipelines runs too), then smoke-test it (tools/smoke_test.py). The workflow
passes zizmor and the schemas; the deploy runs in act against an ``az``
stand-in (standins/az.py) and the deployed app is a server on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from support.actions_engine import CONTAINER_APPS_VARS, GitHubRepository
from support.dockerfile import emulate_copy, exec_form, only, stages
from support.helpers import STANDINS, Baked, bake, clean_env
from support.servers import JSONServer
from support.standins.az import DOCUMENTED_TARGET_PORT
from support.standins.container_apps import Environment, Image

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


# --- the apps as the docs create them, serving the image's own command -----------------

PLACEHOLDERS = {
    "<group>": "ml-serving",
    "<environment>": "ml-env",
    "<version>": "1.2.0",
    "<registry>": "acme",
    "<build id>": "42",
}


def documented_az_commands(project: Baked) -> list[list[str]]:
    """The set-up commands of the docs' bash blocks (``az containerapp create`` and
    ``registry set``), placeholders filled."""
    found = []
    for page in sorted((project.path / "docs").glob("*.md")):
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                command = " ".join(line.split())
                if command.startswith(("az containerapp create", "az containerapp registry set")):
                    for placeholder, value in PLACEHOLDERS.items():
                        command = command.replace(placeholder, value)
                    found.append(shlex.split(command))
    return found


def az_env(tmp_path: Path, state: Path, **more: str) -> dict:
    """A shell whose ``az`` is the stand-in, logged in (as after azure/login or AzureCLI@2)."""
    tools = tmp_path / "az-bin"
    tools.mkdir(exist_ok=True)
    wrapper = tools / "az"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / "az.py"}" "$@"\n')
    wrapper.chmod(0o755)
    base = clean_env()
    return clean_env(
        {
            "PATH": f"{tools}:{base['PATH']}",
            "STANDIN_STATE": str(state),
            "AZURE_STANDIN_LOGGED_IN": "1",
            **more,
        }
    )


def image_of(trained: Baked, project: Baked, root: Path) -> Image:
    """The image ``project``'s Dockerfile makes of ``trained``'s model: its final
    stage's files, its CMD, the trained project's virtualenv for /opt/venv."""
    final = stages(project.read("Dockerfile"))[-1]
    workdir = "/"
    for keyword, arguments in final[1:]:
        if keyword == "WORKDIR":
            workdir = arguments
        elif keyword == "COPY" and not arguments.startswith("--from"):
            emulate_copy(arguments, trained.path, root, workdir)
    command = exec_form(only(final, "CMD")[-1])
    return Image(command, root / workdir.lstrip("/"), trained.env())


@pytest.mark.parametrize("platform", ["github", "azure-pipelines"])
def test_the_apps_the_docs_create_serve_the_image_s_own_command(
    platform: str, serving_trained: Baked, tmp_path: Path
) -> None:
    """Create the apps with the docs' commands, deploy with tools/deploy_container_app.sh,
    smoke-test through the ingress: the image's CMD must listen on the target port."""
    project = bake(tmp_path / "bake", deploy_target="azure-container-apps", ci_platform=platform)
    commands = documented_az_commands(project)
    creates = [c for c in commands if c[:3] == ["az", "containerapp", "create"]]
    assert [c[c.index("--name") + 1] for c in creates] == ["ml-project-staging", "ml-project"]
    image = creates[0][creates[0].index("--image") + 1]
    state = tmp_path / "state"
    state.mkdir()
    with Environment(
        state, tmp_path / "ingress", {image: image_of(serving_trained, project, tmp_path / "image")}
    ) as environment:
        cloud = {
            "images": {image: "sha256:1"},
            "managed_environments": {"ml-env": environment.cloud_entry()},
        }
        (state / "cloud.json").write_text(json.dumps(cloud))
        env = az_env(tmp_path, state, SSL_CERT_FILE=str(environment.cert))
        for command in commands:
            subprocess.run(command, env=env, check=True, capture_output=True)
        apps = json.loads((state / "cloud.json").read_text())["container_apps"]
        assert {a["target_port"] for a in apps.values()} == {DOCUMENTED_TARGET_PORT}
        deploy = subprocess.run(
            ["bash", "tools/deploy_container_app.sh"],
            cwd=project.path,
            env={
                **env,
                "APP": "ml-project-staging",
                "RESOURCE_GROUP": "ml-serving",
                "IMAGE": image,
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert deploy.returncode == 0, deploy.stderr
        url = deploy.stdout.splitlines()[-1]
        smoke = subprocess.run(
            ["python3", "tools/smoke_test.py", url],
            cwd=project.path,
            env={**env, "SMOKE_TEST_TIMEOUT": "20"},
            capture_output=True,
            text=True,
            check=False,
        )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "Smoke test passed" in smoke.stdout + smoke.stderr


@pytest.mark.parametrize(
    "ingress, fix",
    [
        ({"fqdn": "127.0.0.1:9", "target_port": 8000}, "ingress update"),
        ({}, "ingress enable"),
    ],
    ids=["another-port", "no-ingress"],
)
def test_an_app_on_another_port_is_refused_before_a_revision(
    tmp_path: Path, ingress: dict, fix: str
) -> None:
    """The deploy script compares the app's target port with the image's (EXPOSE)
    and names the command that fixes it; no revision is made."""
    project = bake(tmp_path / "bake", deploy_target="azure-container-apps")
    state = tmp_path / "state"
    state.mkdir()
    app = {"resource_group": "ml-serving", **ingress}
    cloud = {"images": {VERSION_IMAGE: "sha256:1"}, "container_apps": {"ml-project": app}}
    (state / "cloud.json").write_text(json.dumps(cloud))
    env = az_env(tmp_path, state, APP="ml-project", RESOURCE_GROUP="ml-serving")
    deploy = subprocess.run(
        ["bash", "tools/deploy_container_app.sh"],
        cwd=project.path,
        env={**env, "IMAGE": VERSION_IMAGE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert deploy.returncode == 1, deploy.stdout + deploy.stderr
    message = " ".join(deploy.stderr.split())
    assert f"az containerapp {fix} --name ml-project --resource-group ml-serving" in message
    assert "--target-port 8080" in message
    if ingress:
        assert "port 8000, but the image listens on port 8080" in message
    assert (
        "revisions"
        not in json.loads((state / "cloud.json").read_text())["container_apps"]["ml-project"]
    )


def test_an_app_without_a_pull_identity_is_refused_the_registry_s_image(tmp_path: Path) -> None:
    """An ACR image needs the app's registry identity with AcrPull: without it the
    revision fails (UNAUTHORIZED) and the deploy names the command that gives it."""
    project = bake(
        tmp_path / "bake", ci_platform="azure-pipelines", deploy_target="azure-container-apps"
    )
    image = "acme.azurecr.io/ml-project:42"
    state = tmp_path / "state"
    state.mkdir()
    app = {"resource_group": "ml-serving", "fqdn": "127.0.0.1:9", "target_port": 8080}
    (state / "cloud.json").write_text(
        json.dumps({"images": {image: "sha256:1"}, "container_apps": {"ml-project": app}})
    )
    env = az_env(tmp_path, state, APP="ml-project", RESOURCE_GROUP="ml-serving", IMAGE=image)
    command = ["bash", "tools/deploy_container_app.sh"]
    deploy = subprocess.run(
        command, cwd=project.path, env=env, capture_output=True, text=True, check=False
    )
    assert deploy.returncode == 1 and "UNAUTHORIZED" in deploy.stderr, deploy.stderr
    fix = (
        "az containerapp registry set --name ml-project --resource-group ml-serving"
        " --server acme.azurecr.io --identity system"
    )
    assert fix in deploy.stderr
    subprocess.run(shlex.split(fix), env=env, check=True)
    deploy = subprocess.run(
        command, cwd=project.path, env=env, capture_output=True, text=True, check=False
    )
    assert deploy.returncode == 0, deploy.stderr
