"""What the baked workflows may do, and with which credentials, for every combination.

Least-privilege permissions; where each secret and variable may appear; that
composite actions read no ``vars``/``secrets`` (GitHub refuses to load them);
that no script takes a value through ``${{ }}`` and no checkout keeps its
credentials; one DVC remote step, with the cloud logins of its remotes, in each
job that runs the pipeline; and the OpenID Connect subjects the jobs present
against the documented trust table.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import yaml

from support.helpers import (
    ANSWERS,
    DVC_REMOTE_ACTION,
    EXPRESSION,
    MINE,
    SLUG,
    WORKFLOWS,
    Baked,
    answers_of,
    steps_of,
    triggers,
    workflows,
)

OIDC = ("s3", "gs", "azure")


def remote_types(answers: dict) -> set[str]:
    """The remote types CI logs in to: storage, and a read-only remote other than https."""
    read = answers.get("dvc_read_remote_url", "")
    scheme = read.split("://")[0] if "://" in read else ""
    types = {answers["dvc_remote"], scheme} - {"", "local", "none", "https", "http"}
    return types | ({"http"} if answers["dvc_remote"] == "http" else set())


def remote(*types: str) -> Callable[[dict], bool]:
    return lambda answers: bool(remote_types(answers) & set(types))


def target(*targets: str) -> Callable[[dict], bool]:
    return lambda answers: answers["deploy_target"] in targets


def always(answers: dict) -> bool:
    return True


# Every secret and variable the baked workflows read -> when they read it. A
# name that appears without its option, or is missing with it, fails.
SETTINGS: dict[str, Callable[[dict], bool]] = {
    "vars.TRAIN_RUNS_ON": always,
    "secrets.TRAIN_PR_TOKEN": always,
    "secrets.TEMPLATE_UPDATE_TOKEN": always,
    "vars.DRIFT_RETRAIN": always,
    "vars.AWS_ROLE_ARN": remote("s3"),
    "vars.AWS_REGION": remote("s3"),
    "vars.GCP_WORKLOAD_IDENTITY_PROVIDER": lambda a: remote("gs")(a) or target("cloud-run")(a),
    "vars.GCP_SERVICE_ACCOUNT": lambda a: remote("gs")(a) or target("cloud-run")(a),
    "vars.AZURE_CLIENT_ID": lambda a: remote("azure")(a) or target("azure-container-apps")(a),
    "vars.AZURE_TENANT_ID": lambda a: remote("azure")(a) or target("azure-container-apps")(a),
    "vars.AZURE_SUBSCRIPTION_ID": lambda a: remote("azure")(a) or target("azure-container-apps")(a),
    "vars.CONTAINER_APPS_RESOURCE_GROUP": target("azure-container-apps"),
    "vars.CONTAINER_APP": target("azure-container-apps"),
    "secrets.DVC_SSH_KEY": remote("ssh"),
    "vars.DVC_SSH_KNOWN_HOSTS": remote("ssh"),
    "vars.DVC_SSH_USER": remote("ssh"),
    "secrets.DVC_HTTP_USER": remote("http"),
    "secrets.DVC_HTTP_PASSWORD": remote("http"),
    "secrets.FLY_API_TOKEN": target("fly"),
    "vars.FLY_APP": target("fly"),
    "vars.FLY_ORG": target("fly"),
    "vars.CLOUD_RUN_REGION": target("cloud-run"),
    "vars.CLOUD_RUN_SERVICE": target("cloud-run"),
    "vars.CLOUD_RUN_REGISTRY": target("cloud-run"),
}

SETTING_REFERENCE = re.compile(r"\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")


def local_actions(project: Baked) -> dict[str, dict]:
    """Every composite action of the project (folder name -> action)."""
    return {
        path.parent.name: yaml.safe_load(path.read_text())
        for path in sorted((project.path / ".github/actions").glob("*/action.yml"))
    }


def action(step: dict) -> str:
    """``owner/repo[/path]`` of a ``uses:`` step, without the ref."""
    return step["uses"].split("@")[0]


def expected_permissions(answers: dict) -> dict[tuple[str, str], dict[str, str]]:
    """(workflow, job) -> its exact permissions, for the workflows of this project."""
    read = {"contents": "read"}
    data = {**read, "id-token": "write"} if remote_types(answers) & set(OIDC) else read
    table = {
        ("testing.yml", "pre-commit"): read,
        ("testing.yml", "tests"): read,
        ("testing.yml", "pipeline"): data,
        ("testing.yml", "report"): {"pull-requests": "write"},
        ("documentation.yml", "build"): data,
        ("documentation.yml", "deploy"): {"pages": "write", "id-token": "write"},
        ("train.yml", "train"): data,
        ("train.yml", "propose"): {"contents": "write", "pull-requests": "write"},
        ("train.yml", "alert"): {"issues": "write"},
        ("publish.yml", "check"): read,
        ("publish.yml", "gate"): data,
        ("publish.yml", "package"): read,
        ("publish.yml", "release"): {"contents": "write"},
        ("batch.yml", "score"): data,
        ("monitoring.yml", "drift"): data,
        ("monitoring.yml", "alert"): {"issues": "write"},
        ("monitoring.yml", "retrain"): {"actions": "write"},
    }
    if answers["serving"]:
        table["publish.yml", "image"] = {"contents": "read", "packages": "write"}
    oidc = {**read, "id-token": "write"}
    deploy = {"fly": read, "cloud-run": oidc, "azure-container-apps": oidc}.get(
        answers["deploy_target"]
    )
    if deploy is not None:
        table["publish.yml", "deploy-staging"] = deploy
        table["publish.yml", "deploy-production"] = deploy
    return table


# --------------------------------------------------------------------------
# Permissions, secrets and variables, scripts, every combination
# --------------------------------------------------------------------------


@pytest.mark.parametrize("answers", ANSWERS)
def test_permissions_are_least_privilege(bake_once, answers: dict) -> None:
    project = bake_once(answers)
    found: dict[tuple[str, str], dict] = {}
    for name, workflow in workflows(project).items():
        top = workflow.get("permissions")
        assert top == {} or (isinstance(top, dict) and set(top.values()) <= {"read", "none"}), name
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_id} must declare its permissions"
            found[name, job_id] = job["permissions"]
        for line in (project.path / WORKFLOWS / name).read_text().splitlines():
            if re.match(r"\s+[a-z-]+: write\b", line):
                assert "#" in line, f"{name}: a write permission without its reason: {line}"
    mine = {key: value for key, value in found.items() if key[0] in MINE}
    assert mine == expected_permissions(answers)


@pytest.mark.parametrize("answers", ANSWERS)
def test_secrets_and_variables_follow_the_options(bake_once, answers: dict) -> None:
    used: set[str] = set()
    for path in (bake_once(answers).path / WORKFLOWS).glob("*.yml"):
        for expression in EXPRESSION.findall(path.read_text()):
            used |= {f"{kind}.{name}" for kind, name in SETTING_REFERENCE.findall(expression)}
    unknown = used - set(SETTINGS)
    assert not unknown, f"add these to SETTINGS (and docs/ci-cd.md): {unknown}"
    assert used == {setting for setting, when in SETTINGS.items() if when(answers)}


@pytest.mark.parametrize("answers", ANSWERS)
def test_composite_actions_read_no_vars_or_secrets(bake_once, answers: dict) -> None:
    """GitHub refuses to load such an action ("Unrecognized named-value: 'vars'");
    act accepts it, so only this test can see it."""
    for path in (bake_once(answers).path / ".github/actions").glob("*/action.yml"):
        for expression in EXPRESSION.findall(path.read_text()):
            assert not SETTING_REFERENCE.search(expression), f"{path}: {expression}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_shell_steps_are_safe(bake_once, answers: dict) -> None:
    """No outsider-controlled value in a script; checkouts keep no credentials."""
    project = bake_once(answers)
    steps = [(name, job, s) for name, w in workflows(project).items() for job, s in steps_of(w)]
    steps += [
        (name, "composite", s)
        for name, a in local_actions(project).items()
        for s in a["runs"]["steps"]
    ]
    for name, job_id, step in steps:
        where = f"{name}: {job_id}: {step.get('name', step.get('uses'))}"
        if "run" in step:
            assert "${{" not in step["run"], f"{where}: pass values through env:"
            for line in step["run"].splitlines():
                if "dvc remote modify" in line:
                    assert "--local" in line, f"{where}: credentials only in config.local"
        elif action(step) == "actions/checkout":
            assert step.get("with", {}).get("persist-credentials") is False, where
    for workflow in workflows(project).values():
        assert "pull_request_target" not in triggers(workflow)


@pytest.mark.parametrize("answers", ANSWERS)
def test_one_dvc_remote_step_in_each_job_that_runs_the_pipeline(bake_once, answers: dict) -> None:
    project = bake_once(answers)
    found = workflows(project)
    jobs = {
        "testing.yml": "pipeline",
        "train.yml": "train",
        "publish.yml": "gate",
        "documentation.yml": "build",
        "batch.yml": "score",
        "monitoring.yml": "drift",
    }
    inputs = []
    for name, job_id in jobs.items():
        steps = found[name]["jobs"][job_id]["steps"]
        pulls = [s for s in steps if s.get("uses") == DVC_REMOTE_ACTION]
        assert len(pulls) == 1, f"{name}: {job_id}"
        assert pulls[0]["id"] == "dvc-remote"
        inputs.append(pulls[0].get("with", {}))
        assert not any("dvc pull" in s.get("run", "") for s in steps), name
    assert all(block == inputs[0] for block in inputs)
    dvc_remote = local_actions(project)["dvc-remote"]
    declared = set(dvc_remote.get("inputs", {}))
    assert set(inputs[0]) == declared
    logins = {
        "s3": "aws-actions/configure-aws-credentials",
        "gs": "google-github-actions/auth",
        "azure": "azure/login",
    }
    used = {action(s) for s in dvc_remote["runs"]["steps"] if "uses" in s}
    assert used == {logins[t] for t in remote_types(answers) if t in logins}


# --------------------------------------------------------------------------
# OpenID Connect: the subjects the jobs present are the ones the docs list
# --------------------------------------------------------------------------


def presented_subjects(workflow: dict, job: dict) -> set[str]:
    """The ``sub`` claims GitHub gives one job, by its triggers and environment."""
    environment = job.get("environment")
    if environment:
        name = environment["name"] if isinstance(environment, dict) else environment
        return {f"environment:{name}"}
    subjects = set()
    for event, config in triggers(workflow).items():
        if event == "pull_request":
            subjects.add("pull_request")
        elif event == "push" and "tags" in (config or {}):
            subjects |= {f"ref:refs/tags/{tag}" for tag in config["tags"]}
        elif event == "push":
            subjects |= {f"ref:refs/heads/{branch}" for branch in config["branches"]}
        elif event in ("schedule", "workflow_dispatch", "repository_dispatch"):
            subjects.add("ref:refs/heads/main")  # they run on the default branch
    return subjects


@pytest.mark.parametrize("answers", [a for a in ANSWERS if remote_types(answers_of(a)) & set(OIDC)])
def test_every_oidc_subject_is_in_the_documented_trust_table(bake_once, answers: dict) -> None:
    project = bake_once(answers)
    owner = answers.get("github_owner", "your-github-user")
    documented = set(re.findall(rf"`repo:{owner}/{SLUG}:([^`]+)`", project.read("docs/remotes.md")))
    presented = set()
    for workflow in workflows(project).values():
        for job in workflow["jobs"].values():
            if any(s.get("uses") == DVC_REMOTE_ACTION for s in job.get("steps", [])):
                presented |= presented_subjects(workflow, job)
    assert presented and presented <= documented, presented - documented
