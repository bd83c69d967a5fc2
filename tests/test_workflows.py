"""The baked workflows and local actions, read statically for every combination.

What GitHub checks before a run starts, and act does not: the workflow and
Dependabot schemas, zizmor at its default persona, least-privilege permissions,
pinned actions, where each secret and variable may appear, that composite
actions read no ``vars``/``secrets`` (GitHub refuses to load them), the
OpenID Connect subjects the jobs present against the documented trust table,
and the ``${{ }}`` convention of the template sources. What the jobs do when
they run is proven with act in test_workflow_*.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from helpers import (
    CONTEXT,
    TEMPLATE_DIR,
    Baked,
    answers_of,
    bake,
    combination_id,
    combinations,
)

BIN = Path(sys.executable).parent
SLUG = "ml-project"
WORKFLOWS = ".github/workflows"
MINE = (
    "testing.yml",
    "documentation.yml",
    "train.yml",
    "publish.yml",
    "batch.yml",
    "monitoring.yml",
)
OIDC = ("s3", "gs", "azure")
DVC_REMOTE_ACTION = "$/.github/actions/dvc-remote"

# Every action a baked workflow or local action may use: (commit SHA, release).
# Each pin was read from the action's own git tags (release tag -> commit SHA).
PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "docker/metadata-action": ("dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "google-github-actions/deploy-cloudrun": ("2028e2d7d30a78c6910e0632e48dd561b064884d", "v3.0.1"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    # The repository has no vX.Y.Z tags: 1.6 is its newest release tag.
    "superfly/flyctl-actions/setup-flyctl": ("ed8efb33836e8b2096c7fd3ba1c8afe303ebbff1", "1.6"),
}


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
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(\S+))?\s*$")
RAW_REGION = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}(?!\})", re.S)

# Every combination, plus read-only remotes: https beside s3 (anonymous pulls),
# s3 beside gs (a second login), https beside a local remote.
S3 = next(c for c in combinations() if c["dvc_remote"] == "s3")
GS = next(c for c in combinations() if c["dvc_remote"] == "gs")
LOCAL = next(c for c in combinations() if c["dvc_remote"] == "local")
EXTRA = {
    "s3-readonly-https": {**S3, "dvc_read_remote_url": "https://dvc-mirror.example.com/ml"},
    "gs-readonly-s3": {**GS, "dvc_read_remote_url": "s3://ml-mirror/storage"},
    "local-readonly-https": {**LOCAL, "dvc_read_remote_url": "https://dvc-mirror.example.com/ml"},
}
ANSWERS = [pytest.param(c, id=combination_id(c)) for c in combinations()] + [
    pytest.param(answers, id=name) for name, answers in EXTRA.items()
]


# --------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict], Baked]:
    """Bake on first use, once per set of answers, for the whole module."""
    cache: dict[str, Baked] = {}

    def get(answers: dict) -> Baked:
        key = json.dumps(answers, sort_keys=True)
        if key not in cache:
            cache[key] = bake(tmp_path_factory.mktemp("workflows"), **answers)
        return cache[key]

    return get


def workflows(project: Baked) -> dict[str, dict]:
    """Every workflow file of the project, parsed (file name -> workflow)."""
    return {
        path.name: yaml.safe_load(path.read_text())
        for path in sorted((project.path / WORKFLOWS).glob("*.y*ml"))
    }


@pytest.mark.parametrize("answers", ANSWERS)
def test_the_tests_run_on_every_supported_python_from_the_oldest(baked, answers: dict) -> None:
    """cookiecutter.json's _python_versions is the one list of supported Pythons."""
    project = baked(answers)
    supported = CONTEXT["_python_versions"]
    oldest = answers.get("python_version", CONTEXT["python_version"][0])
    job = workflows(project)["testing.yml"]["jobs"]["tests"]
    assert job["strategy"]["matrix"]["python-version"] == supported[supported.index(oldest) :]
    assert set(CONTEXT["python_version"]) <= set(supported)


def local_actions(project: Baked) -> dict[str, dict]:
    """Every composite action of the project (folder name -> action)."""
    return {
        path.parent.name: yaml.safe_load(path.read_text())
        for path in sorted((project.path / ".github/actions").glob("*/action.yml"))
    }


def steps_of(workflow: dict) -> Iterator[tuple[str, dict]]:
    """(job id, step) for every step of a workflow."""
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def action(step: dict) -> str:
    """``owner/repo[/path]`` of a ``uses:`` step, without the ref."""
    return step["uses"].split("@")[0]


def triggers(workflow: dict) -> dict:
    """The ``on:`` block (PyYAML reads the key ``on`` as True)."""
    on: dict = workflow.get("on", workflow.get(True)) or {}
    return on


def github_files(project: Baked) -> list[Path]:
    """Workflows and local actions: every file GitHub runs."""
    return sorted((project.path / ".github").rglob("*.yml"))


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
# What GitHub checks, every combination
# --------------------------------------------------------------------------


def test_workflows_actions_and_dependabot_match_github_schemas(baked) -> None:
    """One check-jsonschema run per schema over the files of every combination."""
    files: dict[str, list[str]] = {
        "vendor.github-workflows": [],
        "vendor.github-actions": [],
        "vendor.dependabot": [],
    }
    for param in ANSWERS:
        project = baked(answers_of(param))
        found = sorted((project.path / WORKFLOWS).glob("*.y*ml"))
        assert {f.name for f in found} >= {*MINE, "template-update.yml"}, project.path
        files["vendor.github-workflows"] += [str(f) for f in found]
        files["vendor.github-actions"] += [
            str(p) for p in (project.path / ".github/actions").glob("*/action.yml")
        ]
        files["vendor.dependabot"].append(str(project.path / ".github/dependabot.yml"))
    for schema, paths in files.items():
        result = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", schema, *paths],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def zizmor(path: Path, persona: str = "regular") -> list[dict]:
    """zizmor's findings (JSON) for every workflow, action and dependabot file."""
    result = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--strict-collection",
            "--persona",
            persona,
            "--format",
            "json",
            "--no-progress",
            path,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 11, 12, 13, 14), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("answers", ANSWERS)
def test_zizmor_reports_nothing(baked, answers: dict) -> None:
    project = baked(answers)
    assert zizmor(project.path / ".github") == []
    for path in github_files(project):
        assert "zizmor: ignore" not in path.read_text(), path


# The auditor persona's findings that stay, each justified beside the line in
# the workflow: a token used by a job without an environment (an environment
# would make every scheduled run wait for approval).
JUSTIFIED_AUDITOR_FINDINGS = {"secrets-outside-env"}


@pytest.mark.parametrize(
    "answers", [a for a in ANSWERS if answers_of(a)["dvc_remote"] in ("local", "ssh", "http")]
)
def test_zizmor_auditor_findings_are_justified(baked, answers: dict) -> None:
    project = baked(answers)
    for finding in zizmor(project.path / ".github", persona="auditor"):
        assert finding["ident"] in JUSTIFIED_AUDITOR_FINDINGS, finding["ident"]
        primary = next(loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary")
        path = project.path / primary["symbolic"]["key"]["Local"]["verbatim_path"]
        row = primary["concrete"]["location"]["start_point"]["row"]
        context = "\n".join(path.read_text().splitlines()[max(0, row - 5) : row + 1])
        assert f"zizmor (auditor): {finding['ident']}" in context, (path.name, row + 1)


@pytest.mark.parametrize("answers", ANSWERS)
def test_permissions_are_least_privilege(baked, answers: dict) -> None:
    project = baked(answers)
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
def test_every_needs_names_an_earlier_job(baked, answers: dict) -> None:
    for name, workflow in workflows(baked(answers)).items():
        seen: set[str] = set()
        for job_id, job in workflow["jobs"].items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in seen, f"{name}: {job_id} needs {need}, not defined before it"
            seen.add(job_id)


@pytest.mark.parametrize("answers", ANSWERS)
def test_secrets_and_variables_follow_the_options(baked, answers: dict) -> None:
    used: set[str] = set()
    for path in (baked(answers).path / WORKFLOWS).glob("*.yml"):
        for expression in EXPRESSION.findall(path.read_text()):
            used |= {f"{kind}.{name}" for kind, name in SETTING_REFERENCE.findall(expression)}
    unknown = used - set(SETTINGS)
    assert not unknown, f"add these to SETTINGS (and docs/ci-cd.md): {unknown}"
    assert used == {setting for setting, when in SETTINGS.items() if when(answers)}


@pytest.mark.parametrize("answers", ANSWERS)
def test_composite_actions_read_no_vars_or_secrets(baked, answers: dict) -> None:
    """GitHub refuses to load such an action ("Unrecognized named-value: 'vars'");
    act accepts it, so only this test can see it."""
    for path in (baked(answers).path / ".github/actions").glob("*/action.yml"):
        for expression in EXPRESSION.findall(path.read_text()):
            assert not SETTING_REFERENCE.search(expression), f"{path}: {expression}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_rendered_expressions_survive_and_nothing_is_left_of_jinja(baked, answers: dict) -> None:
    project = baked(answers)
    for path in github_files(project):
        text = path.read_text()
        assert "$True" not in text and "$False" not in text, path
        outside = EXPRESSION.sub("", text)
        for leftover in ("{%", "%}", "{#", "{{ cookiecutter", "cookiecutter."):
            assert leftover not in outside, f"{path}: {leftover!r}"
        assert not re.search(r"^\s*$\n^\s*$", text, re.M), f"{path}: a doubled blank line"
    dependabot = yaml.safe_load(project.read(".github/dependabot.yml"))
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}
    serving = {"docker"} if answers.get("serving", True) else set()
    # uv: the dependencies as locked in uv.lock, within pyproject.toml's ranges.
    assert ecosystems == {"github-actions", "uv"} | serving


@pytest.mark.parametrize("answers", ANSWERS)
def test_actions_are_pinned_and_local_ones_use_the_self_repository_syntax(
    baked, answers: dict
) -> None:
    for path in github_files(baked(answers)):
        for line in path.read_text().splitlines():
            if not re.match(r"\s*(?:-\s+)?uses:", line):
                continue
            used = line.split("uses:")[1].strip()
            if used.startswith(("./", "$/")):
                # `$/` resolves to the running commit, without a checkout.
                assert used.startswith("$/.github/actions/"), f"{path}: {line.strip()}"
                continue
            match = USES.match(line)
            assert match, f"{path}: unpinned or unreadable: {line.strip()}"
            name, ref, comment = match.groups()
            assert name in PINS, f"{path}: {name} is not in the verified pins"
            assert (ref, comment) == PINS[name], f"{path}: {line.strip()}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_shell_steps_are_safe(baked, answers: dict) -> None:
    """No outsider-controlled value in a script; checkouts keep no credentials."""
    project = baked(answers)
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
def test_every_workflow_is_set_up_alike(baked, answers: dict) -> None:
    for name, workflow in workflows(baked(answers)).items():
        if name not in MINE:
            continue
        assert workflow["env"]["DVC_NO_ANALYTICS"] == "1", name
        assert workflow["env"]["UV_PYTHON"] == answers["python_version"], name
        assert workflow["defaults"] == {"run": {"shell": "bash"}}, name
        assert workflow["concurrency"]["group"].startswith("${{ github.workflow }}"), name
        suffixes = []
        for job_id, step in steps_of(workflow):
            if any(f"dvc {kind} diff" in step.get("run", "") for kind in ("metrics", "params")):
                checkout = workflow["jobs"][job_id]["steps"][0]
                assert checkout["with"]["fetch-depth"] == 0, f"{name}: {job_id}"
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                cached = step.get("with", {}).get("enable-cache")
                assert cached is (name == "testing.yml"), f"{name}: {job_id}: enable-cache"
                suffixes.append(step["with"].get("cache-suffix"))
            if step.get("uses", "").startswith("actions/cache@"):
                assert (name, job_id) == ("testing.yml", "pre-commit")
                assert "hashFiles('.pre-commit-config.yaml')" in step["with"]["key"]
        if name == "testing.yml":
            assert len(set(suffixes)) == len(suffixes), "each job saves a uv cache of its own"


@pytest.mark.parametrize("answers", ANSWERS)
def test_one_dvc_remote_step_in_each_job_that_runs_the_pipeline(baked, answers: dict) -> None:
    project = baked(answers)
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


@pytest.mark.parametrize("answers", ANSWERS)
def test_train_workflow(baked, answers: dict) -> None:
    workflow = workflows(baked(answers))["train.yml"]
    on = triggers(workflow)
    assert set(on) == {"schedule", "workflow_dispatch", "repository_dispatch"}
    assert on["repository_dispatch"] == {"types": ["new-data"]}
    train = workflow["jobs"]["train"]
    assert train["runs-on"] == "${{ vars.TRAIN_RUNS_ON || 'ubuntu-latest' }}"
    assert train["outputs"]["gate"] == "${{ steps.gate.outcome }}"
    assert train["outputs"]["compare"] == "${{ steps.compare.outcome }}"
    assert workflow["jobs"]["propose"]["if"] == (
        "needs.train.outputs.gate == 'success' && needs.train.outputs.compare == 'success'"
    )
    assert workflow["jobs"]["alert"]["if"] == "needs.train.outputs.gate == 'failure'"
    steps = {s.get("id") or s.get("name"): s for s in train["steps"]}
    assert steps["gate"]["continue-on-error"] is True
    assert steps["compare"]["if"] == "steps.gate.outcome == 'success'"
    assert "compare --champion HEAD" in steps["compare"]["run"]
    push = steps["publish-dvc-push"]
    assert push["run"] == "dvc push --run-cache"
    assert push["if"] == (
        "steps.gate.outcome == 'success' && steps.compare.outcome == 'success'"
        " && steps.dvc-remote.outputs.remote == 'storage'"
    )
    proposal = workflow["jobs"]["propose"]["steps"][-1]
    assert proposal["uses"] == "$/.github/actions/propose"
    assert proposal["with"]["token"] == "${{ secrets.TRAIN_PR_TOKEN || github.token }}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_publish_workflow_follows_serving_and_deploy_target(baked, answers: dict) -> None:
    project = baked(answers)
    workflow = workflows(project)["publish.yml"]
    on = triggers(workflow)
    deploys = answers["deploy_target"] != "none"
    assert set(on) == {"release", "push"} | ({"workflow_dispatch"} if deploys else set())
    expected = {"check", "gate", "package", "release"}
    expected |= {"image"} if answers["serving"] else set()
    expected |= {"deploy-staging", "deploy-production"} if deploys else set()
    assert set(workflow["jobs"]) == expected
    # Packages are built where nothing logged in (a login may leave a
    # credentials file in the workspace, and the sdist takes the workspace).
    for job_id, job in workflow["jobs"].items():
        runs = " ".join(s.get("run", "") for s in job.get("steps", []))
        logs_in = any(
            s.get("uses") == DVC_REMOTE_ACTION or "auth" in s.get("uses", "")
            for s in job.get("steps", [])
        )
        assert not ("uv build" in runs and logs_in), job_id
    assert "uv build" in " ".join(s.get("run", "") for s in workflow["jobs"]["package"]["steps"])
    text = (project.path / WORKFLOWS / "publish.yml").read_text()
    image_action = project.path / ".github/actions/image/action.yml"
    assert image_action.exists() is answers["serving"]
    assert not answers["serving"] or "ghcr.io/${GITHUB_REPOSITORY,,}" in image_action.read_text()
    assert answers.get("github_owner", "your-github-user").lower() not in text
    if deploys:
        for environment in ("staging", "production"):
            job = workflow["jobs"][f"deploy-{environment}"]
            assert job["environment"]["name"] == environment
            assert job["concurrency"] == {
                "group": f"deploy-{environment}",
                "cancel-in-progress": False,
            }
            assert job["steps"][-1]["uses"] == "$/.github/actions/deploy"


@pytest.mark.parametrize("answers", [a for a in ANSWERS if answers_of(a)["serving"]])
def test_image_job_provides_what_the_dockerfile_copies(baked, answers: dict) -> None:
    """The build context is a checkout plus the released files the job puts in place."""
    project = baked(answers)
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=project.path, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    image = workflows(project)["publish.yml"]["jobs"]["image"]
    placed = " ".join(s.get("run", "") for s in image["steps"])
    for line in project.read("Dockerfile").splitlines():
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        for source in line.split()[1:-1]:
            source = source.rstrip("/")
            in_checkout = any(f == source or f.startswith(source + "/") for f in tracked)
            assert in_checkout or f" {source}" in placed, f"the image job lacks {source}"


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
def test_every_oidc_subject_is_in_the_documented_trust_table(baked, answers: dict) -> None:
    project = baked(answers)
    owner = answers.get("github_owner", "your-github-user")
    documented = set(re.findall(rf"`repo:{owner}/{SLUG}:([^`]+)`", project.read("docs/remotes.md")))
    presented = set()
    for workflow in workflows(project).values():
        for job in workflow["jobs"].values():
            if any(s.get("uses") == DVC_REMOTE_ACTION for s in job.get("steps", [])):
                presented |= presented_subjects(workflow, job)
    assert presented and presented <= documented, presented - documented


# --------------------------------------------------------------------------
# The template's sources and its own CI
# --------------------------------------------------------------------------


def test_raw_region_convention_in_the_template_sources() -> None:
    """Every ``${{`` of a workflow or action source is inside {% raw %}, or a
    Jinja string that prints it (``{{ "${{" }}``)."""
    sources = sorted((TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github").rglob("*.y*ml"))
    sources += sorted((TEMPLATE_DIR / "templates" / "ci").glob("*.j2"))
    assert {p.name for p in sources} >= {*MINE, "dependabot.yml", "action.yml"}
    for path in sources:
        text = path.read_text()
        opened = len(re.findall(r"\{%-?\s*raw\s*-?%\}", text))
        assert opened == len(re.findall(r"\{%-?\s*endraw\s*-?%\}", text)), path.name
        outside = JINJA_EXPRESSION.sub("", RAW_REGION.sub("", text))
        assert "${{" not in outside, f"{path.name}: a ${{{{ outside {{% raw %}}"


def test_the_template_repository_ci_is_valid_and_clean() -> None:
    github = TEMPLATE_DIR / ".github"
    workflow_files = sorted(str(p) for p in (github / "workflows").glob("*.y*ml"))
    assert any(p.endswith("template-ci.yml") for p in workflow_files)
    for schema, files in (
        ("vendor.github-workflows", workflow_files),
        ("vendor.dependabot", [str(github / "dependabot.yml")]),
    ):
        result = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", schema, *files],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert zizmor(github) == []
    ci = yaml.safe_load((github / "workflows" / "template-ci.yml").read_text())
    runs = [s.get("run", "") for _, s in steps_of(ci)]
    assert ".ci/run" in runs
    assert any("zizmor" in run and "--offline" in run for run in runs)
