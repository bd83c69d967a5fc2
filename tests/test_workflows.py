"""The baked GitHub Actions workflows: valid, least-privileged, consistent, and they run.

Fast tests check every option combination statically: GitHub's workflow and
Dependabot schemas, zizmor at its default persona, the permissions of every
job, the pinned actions, where each secret and variable may appear, the
``${{ }}`` convention of the template sources, and the shell steps that guard
credentials and post comments (with a fake ``gh``). Slow tests run the jobs of
testing.yml, documentation.yml and train.yml in a baked project with
``workflow_runner`` and check that they pass, as they must on GitHub.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import TEMPLATE_DIR, Baked, bake, clean_env, combination_id, combinations, uv
from servers import LOOPBACK, SSHServer, sshd_unavailable
from workflow_runner import PUBLISH_PREFIX, Context, JobResult, Runner, Workflow, check_syntax

BIN = Path(sys.executable).parent
SLUG = "ml-project"
OWNER = "your-github-user"
REPOSITORY = f"{OWNER}/{SLUG}"
WORKFLOWS = ".github/workflows"
MINE = ("testing.yml", "documentation.yml", "train.yml", "publish.yml")
OIDC_REMOTES = ("s3", "gs", "azure")
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")

# Every action a baked workflow may use: (commit SHA, the release in the comment).
# From /work/shared/actions-pins.md (read from each action's own git tags).
PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
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
    "peter-evans/create-pull-request": ("5f6978faf089d4d20b00c7766989d076bb2fc7f1", "v8.1.1"),
}


def remote(*types: str) -> Callable[[dict], bool]:
    return lambda answers: answers["dvc_remote"] in types


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
    "vars.AWS_ROLE_ARN": remote("s3"),
    "vars.AWS_REGION": remote("s3"),
    "vars.GCP_WORKLOAD_IDENTITY_PROVIDER": lambda a: remote("gs")(a) or target("cloud-run")(a),
    "vars.GCP_SERVICE_ACCOUNT": lambda a: remote("gs")(a) or target("cloud-run")(a),
    "vars.AZURE_CLIENT_ID": remote("azure"),
    "vars.AZURE_TENANT_ID": remote("azure"),
    "vars.AZURE_SUBSCRIPTION_ID": remote("azure"),
    "secrets.DVC_SSH_KEY": remote("ssh"),
    "vars.DVC_SSH_KNOWN_HOSTS": remote("ssh"),
    "secrets.DVC_HTTP_USER": remote("http"),
    "secrets.DVC_HTTP_PASSWORD": remote("http"),
    "secrets.FLY_API_TOKEN": target("fly"),
    "vars.FLY_APP": target("fly"),
    "vars.CLOUD_RUN_REGION": target("cloud-run"),
    "vars.CLOUD_RUN_SERVICE": target("cloud-run"),
    "vars.CLOUD_RUN_REGISTRY": target("cloud-run"),
}

# Shell commands that publish something: their steps must carry the marker id.
PUBLISHING_COMMAND = re.compile(
    r"\bdvc push\b|\bgit push\b|\bdocker push\b|\bflyctl deploy\b"
    r"|\bgh (?:pr (?:create|comment|edit|merge)|issue (?:create|comment|edit|close)"
    r"|release (?:create|upload|edit|delete))\b"
    r"|\bgh api\b.*--method (?:POST|PATCH|PUT|DELETE)"
)
SETTING_REFERENCE = re.compile(r"\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(\S+))?\s*$")
RAW_REGION = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)

# Every combination, and an S3 one with a read-only remote as well (pulls use it).
S3 = next(c for c in combinations() if c["dvc_remote"] == "s3")
READ_ONLY = {**S3, "dvc_read_remote_url": "https://dvc-mirror.example.com/ml"}
ANSWERS = [pytest.param(c, id=combination_id(c)) for c in combinations()] + [
    pytest.param(READ_ONLY, id=combination_id(S3) + "-readonly")
]
# The template's defaults (a local DVC remote: CI runs from the embedded data).
DEFAULT: dict = {}


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


def workflows(project: Baked) -> dict[str, Workflow]:
    """Every workflow file of the project, parsed (file name -> workflow)."""
    return {path.name: Workflow(path) for path in sorted((project.path / WORKFLOWS).glob("*.y*ml"))}


def steps_of(workflow: Workflow) -> Iterator[tuple[str, dict]]:
    """(job id, step) for every step of the workflow."""
    for job_id, job in workflow.jobs.items():
        for step in job.get("steps", []):
            yield job_id, step


def action(step: dict) -> str:
    """``owner/repo[/path]`` of a ``uses:`` step, without the ref."""
    return step["uses"].split("@")[0]


def triggers(workflow: Workflow) -> dict:
    """The ``on:`` block (PyYAML reads the key ``on`` as True)."""
    data = workflow.data
    return data.get("on", data.get(True))


def expected_permissions(answers: dict) -> dict[tuple[str, str], dict[str, str]]:
    """(workflow, job) -> its exact permissions, for the workflows of this issue."""
    read = {"contents": "read"}
    data = {**read, "id-token": "write"} if answers["dvc_remote"] in OIDC_REMOTES else read
    table = {
        ("testing.yml", "pre-commit"): read,
        ("testing.yml", "tests"): read,
        ("testing.yml", "pipeline"): data,
        ("testing.yml", "report"): {"pull-requests": "write"},
        ("documentation.yml", "build"): read,
        ("documentation.yml", "deploy"): {"pages": "write", "id-token": "write"},
        ("train.yml", "train"): data,
        ("train.yml", "propose"): {"contents": "write", "pull-requests": "write"},
        ("train.yml", "alert"): {"issues": "write"},
        ("publish.yml", "check"): read,
        ("publish.yml", "gate"): data,
        ("publish.yml", "release"): {"contents": "write"},
    }
    if answers["serving"]:
        table["publish.yml", "image"] = {"contents": "read", "packages": "write"}
    deploy = {"fly": read, "cloud-run": {"id-token": "write"}}.get(answers["deploy_target"])
    if deploy is not None:
        table["publish.yml", "deploy-staging"] = deploy
        table["publish.yml", "deploy-production"] = deploy
    return table


# --------------------------------------------------------------------------
# Static checks, every combination
# --------------------------------------------------------------------------


def test_workflows_and_dependabot_match_github_schemas(baked) -> None:
    """One check-jsonschema run per schema over the files of every combination."""
    projects = [baked(param.values[0]) for param in ANSWERS]
    workflow_files, dependabot_files = [], []
    for project in projects:
        files = sorted((project.path / WORKFLOWS).glob("*.y*ml"))
        assert {f.name for f in files} >= {*MINE, "template-update.yml"}, project.path
        workflow_files += [str(f) for f in files]
        dependabot_files.append(str(project.path / ".github/dependabot.yml"))
    for schema, files in (
        ("vendor.github-workflows", workflow_files),
        ("vendor.dependabot", dependabot_files),
    ):
        result = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", schema, *files],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("answers", ANSWERS)
def test_zizmor_reports_nothing(baked, answers: dict) -> None:
    project = baked(answers)
    result = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--strict-collection",
            "--format",
            "json",
            "--no-progress",
            project.path / ".github",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
    # It did read the files (a file it cannot parse would be skipped silently
    # without --strict-collection), and every ignore comment gives its reason.
    for path in (project.path / ".github").rglob("*.yml"):
        for line in path.read_text().splitlines():
            ignore = re.search(r"zizmor:\s*ignore\[[^\]]+\](.*)", line)
            assert ignore is None or len(ignore.group(1).strip(" #:-")) >= 10, line


@pytest.mark.parametrize("answers", ANSWERS)
def test_permissions_are_least_privilege(baked, answers: dict) -> None:
    project = baked(answers)
    found: dict[tuple[str, str], dict] = {}
    for name, workflow in workflows(project).items():
        top = workflow.data.get("permissions")
        assert top == {} or (isinstance(top, dict) and set(top.values()) <= {"read", "none"}), name
        for job_id, job in workflow.jobs.items():
            assert "permissions" in job, f"{name}: job {job_id} must declare its permissions"
            found[name, job_id] = job["permissions"]
        # Every write scope says why, on its own line.
        for line in workflow.path.read_text().splitlines():
            if re.match(r"\s+[a-z-]+: write\b", line):
                assert "#" in line, f"{name}: a write permission without its reason: {line}"
    mine = {key: value for key, value in found.items() if key[0] in MINE}
    assert mine == expected_permissions(answers)


@pytest.mark.parametrize("answers", ANSWERS)
def test_every_needs_names_an_earlier_job(baked, answers: dict) -> None:
    for name, workflow in workflows(baked(answers)).items():
        seen: set[str] = set()
        for job_id, job in workflow.jobs.items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in seen, f"{name}: {job_id} needs {need}, not defined before it"
            seen.add(job_id)


@pytest.mark.parametrize("answers", ANSWERS)
def test_secrets_and_variables_follow_the_options(baked, answers: dict) -> None:
    used: dict[str, set[str]] = {}
    for name, workflow in workflows(baked(answers)).items():
        for expression in EXPRESSION.findall(workflow.path.read_text()):
            for kind, setting in SETTING_REFERENCE.findall(expression):
                used.setdefault(f"{kind}.{setting}", set()).add(name)
    unknown = set(used) - set(SETTINGS)
    assert not unknown, f"add these to SETTINGS (and docs/ci-cd.md): {unknown}"
    expected = {setting for setting, when in SETTINGS.items() if when(answers)}
    assert set(used) == expected


@pytest.mark.parametrize("answers", ANSWERS)
def test_rendered_expressions_survive_and_nothing_is_left_of_jinja(baked, answers: dict) -> None:
    for name, workflow in workflows(baked(answers)).items():
        text = workflow.path.read_text()
        assert "${{" in text, name
        assert "$True" not in text and "$False" not in text, name
        outside = EXPRESSION.sub("", text)
        for leftover in ("{%", "%}", "{#", "{{ cookiecutter", "cookiecutter."):
            assert leftover not in outside, f"{name}: {leftover!r}"
        # Every expression is well formed (balanced, known functions and operators).
        for expression in EXPRESSION.findall(text):
            check_syntax(expression)
    dependabot = yaml.safe_load(baked(answers).read(".github/dependabot.yml"))
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}
    serving = {"docker"} if answers.get("serving", True) else set()
    assert ecosystems == {"github-actions", "pip"} | serving


@pytest.mark.parametrize("answers", ANSWERS)
def test_actions_are_pinned_to_verified_commits(baked, answers: dict) -> None:
    for name, workflow in workflows(baked(answers)).items():
        for line in workflow.path.read_text().splitlines():
            if not re.match(r"\s*(?:-\s+)?uses:", line):
                continue
            match = USES.match(line)
            assert match, f"{name}: unpinned or unreadable: {line.strip()}"
            used, ref, comment = match.groups()
            assert used in PINS, f"{name}: {used} is not in the verified pins"
            assert (ref, comment) == PINS[used], f"{name}: {line.strip()}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_shell_steps_are_safe(baked, answers: dict) -> None:
    """No outsider-controlled value in a script; checkouts keep no credentials;
    publishing steps carry the marker the local runner skips."""
    for name, workflow in workflows(baked(answers)).items():
        assert "pull_request_target" not in triggers(workflow), name
        for job_id, step in steps_of(workflow):
            where = f"{name}: {job_id}: {step.get('name', step.get('uses'))}"
            if "run" in step:
                assert "${{" not in step["run"], f"{where}: pass values through env:"
                publishes = PUBLISHING_COMMAND.search(step["run"]) is not None
                marked = str(step.get("id", "")).startswith(PUBLISH_PREFIX)
                assert publishes == marked, f"{where}: publishing steps, and only they, are marked"
            elif action(step) == "actions/checkout":
                assert step.get("with", {}).get("persist-credentials") is False, where


@pytest.mark.parametrize("answers", ANSWERS)
def test_every_workflow_of_this_issue_is_set_up_alike(baked, answers: dict) -> None:
    found = workflows(baked(answers))
    for name in MINE:
        workflow = found[name]
        assert workflow.data["env"]["DVC_NO_ANALYTICS"] == "1", name
        assert workflow.data["env"]["UV_PYTHON"] == answers["python_version"], name
        assert workflow.data["defaults"] == {"run": {"shell": "bash"}}, name
        assert workflow.data["concurrency"]["group"].startswith("${{ github.workflow }}"), name
        for job_id, step in steps_of(workflow):
            # Jobs that compare revisions need the history.
            if any(
                f"dvc {kind} diff" in step.get("run", "") for kind in ("metrics", "params", "plots")
            ):
                checkout = next(
                    s
                    for s in workflow.jobs[job_id]["steps"]
                    if s.get("uses", "").startswith("actions/checkout@")
                )
                assert checkout["with"]["fetch-depth"] == 0, f"{name}: {job_id}"
            # Caches only where nothing is published from them.
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                cached = step.get("with", {}).get("enable-cache")
                assert cached is (name == "testing.yml"), f"{name}: {job_id}: enable-cache"
            if step.get("uses", "").startswith("actions/cache@"):
                assert (name, job_id) == ("testing.yml", "pre-commit")
                assert "hashFiles('.pre-commit-config.yaml')" in step["with"]["key"]


@pytest.mark.parametrize("answers", ANSWERS)
def test_testing_workflow(baked, answers: dict) -> None:
    workflow = workflows(baked(answers))["testing.yml"]
    assert triggers(workflow) == {
        "push": {"branches": ["main"]},
        "pull_request": None,
        "workflow_dispatch": None,
    }
    assert workflow.data["concurrency"]["cancel-in-progress"] is True
    first = SUPPORTED_PYTHONS.index(answers["python_version"])
    matrix = workflow.job("tests")["strategy"]["matrix"]["python-version"]
    assert matrix == list(SUPPORTED_PYTHONS[first:])
    runs = {
        job_id: [s.get("run") for s in job["steps"] if "run" in s]
        for job_id, job in workflow.jobs.items()
    }
    assert "make lint" in runs["pre-commit"] and "make test" in runs["tests"]
    assert "make repro" in runs["pipeline"]
    report = workflow.job("report")
    assert "head.repo.full_name == github.repository" in report["if"]
    assert report["needs"] == "pipeline"


@pytest.mark.parametrize("answers", ANSWERS)
def test_data_steps_follow_the_remote_and_are_the_same_everywhere(baked, answers: dict) -> None:
    found = workflows(baked(answers))
    jobs = {"testing.yml": "pipeline", "train.yml": "train", "publish.yml": "gate"}
    blocks = []
    for name, job_id in jobs.items():
        steps = found[name].job(job_id)["steps"]
        ids = [s.get("id") for s in steps]
        if answers["dvc_remote"] in ("local", "none"):
            assert "dvc-remote" not in ids
            assert not any("dvc pull" in s.get("run", "") for s in steps)
            continue
        start = ids.index("dvc-remote")
        end = next(i for i, s in enumerate(steps) if "dvc pull" in s.get("run", ""))
        blocks.append(steps[start : end + 1])
        pull = steps[end]["run"]
        assert pull.startswith("dvc pull --run-cache --allow-missing")
        assert pull.endswith("--remote readonly") == bool(answers.get("dvc_read_remote_url"))
        for step in steps[start + 1 : end + 1]:
            assert step["if"] == "steps.dvc-remote.outputs.ready == 'true'"
    assert all(block == blocks[0] for block in blocks)
    # Credentials only ever go to .dvc/config.local.
    for block in blocks:
        for step in block:
            for line in step.get("run", "").splitlines():
                if "dvc remote modify" in line:
                    assert "--local" in line
    logins = {
        "s3": "aws-actions/configure-aws-credentials",
        "gs": "google-github-actions/auth",
        "azure": "azure/login",
    }
    used = {action(s) for block in blocks for s in block if "uses" in s}
    assert used == ({logins[answers["dvc_remote"]]} if answers["dvc_remote"] in logins else set())


@pytest.mark.parametrize("answers", ANSWERS)
def test_train_workflow(baked, answers: dict) -> None:
    workflow = workflows(baked(answers))["train.yml"]
    on = triggers(workflow)
    assert set(on) == {"schedule", "workflow_dispatch", "repository_dispatch"}
    assert on["repository_dispatch"] == {"types": ["new-data"]}
    train = workflow.job("train")
    assert train["runs-on"] == "${{ vars.TRAIN_RUNS_ON || 'ubuntu-latest' }}"
    assert train["outputs"]["gate"] == "${{ steps.gate.outcome }}"
    assert workflow.job("propose")["if"] == "needs.train.outputs.gate == 'success'"
    assert workflow.job("alert")["if"] == "needs.train.outputs.gate == 'failure'"
    steps = {s.get("id") or s.get("name"): s for s in train["steps"]}
    assert steps["gate"]["continue-on-error"] is True
    if answers["dvc_remote"] in ("local", "none"):
        assert "publish-dvc-push" not in steps
    else:
        assert steps["publish-dvc-push"]["run"] == "dvc push --run-cache"
        assert "steps.gate.outcome == 'success'" in steps["publish-dvc-push"]["if"]
    proposal = next(
        s for s in workflow.job("propose")["steps"] if s.get("id") == "publish-pull-request"
    )
    assert proposal["with"]["token"] == "${{ secrets.TRAIN_PR_TOKEN || github.token }}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_publish_workflow_follows_serving_and_deploy_target(baked, answers: dict) -> None:
    workflow = workflows(baked(answers))["publish.yml"]
    assert triggers(workflow) == {"release": {"types": ["published"]}, "push": {"tags": ["v*"]}}
    jobs = set(workflow.jobs)
    expected = {"check", "gate", "release"}
    if answers["serving"]:
        expected.add("image")
    if answers["deploy_target"] != "none":
        expected |= {"deploy-staging", "deploy-production"}
    assert jobs == expected
    gate_runs = [s.get("run") for s in workflow.job("gate")["steps"]]
    assert (
        gate_runs.index("make test") < gate_runs.index("make repro") < gate_runs.index("uv build")
    )
    if answers["serving"]:
        image = workflow.data["env"]["IMAGE"]
        assert image == f"ghcr.io/{OWNER.lower()}/{SLUG}"
        build = next(s for s in workflow.job("image")["steps"] if s.get("id") == "build")
        assert build["with"]["push"] is True and build["with"]["context"] == "."
    if answers["deploy_target"] != "none":
        staging, production = workflow.job("deploy-staging"), workflow.job("deploy-production")
        assert staging["environment"]["name"] == "staging" and staging["needs"] == "image"
        assert production["environment"]["name"] == "production"
        assert production["needs"] == ["image", "deploy-staging"]
        for job in (staging, production):
            uses = {action(s) for s in job["steps"] if "uses" in s}
            deploy = next(s for s in job["steps"] if s.get("id") == "publish-deploy")
            if answers["deploy_target"] == "fly":
                assert "superfly/flyctl-actions/setup-flyctl" in uses
                assert 'flyctl deploy --image "$IMAGE@$DIGEST" --config fly.toml' in deploy["run"]
                assert deploy["env"]["FLY_API_TOKEN"] == "${{ secrets.FLY_API_TOKEN }}"
            else:
                assert uses == {
                    "google-github-actions/auth",
                    "google-github-actions/deploy-cloudrun",
                }
                assert deploy["with"]["region"] == "${{ vars.CLOUD_RUN_REGION }}"


@pytest.mark.parametrize("answers", [a for a in ANSWERS if a.values[0]["serving"]])
def test_image_job_provides_what_the_dockerfile_copies(baked, answers: dict) -> None:
    """The build context is a checkout plus the released files the job puts in place."""
    project = baked(answers)
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=project.path, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    image = workflows(project)["publish.yml"].job("image")
    placed = " ".join(s.get("run", "") for s in image["steps"])
    for line in project.read("Dockerfile").splitlines():
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        for source in line.split()[1:-1]:
            source = source.rstrip("/")
            in_checkout = any(f == source or f.startswith(source + "/") for f in tracked)
            assert in_checkout or f" {source}" in placed, f"the image job lacks {source}"


def test_raw_region_convention_in_the_template_sources() -> None:
    """Every ``${{`` of a workflow source sits inside a {% raw %} region."""
    sources = sorted((TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github").rglob("*.y*ml"))
    assert {p.name for p in sources} >= {*MINE, "dependabot.yml"}
    for path in sources:
        text = path.read_text()
        opened = len(re.findall(r"\{%-?\s*raw\s*-?%\}", text))
        assert opened == len(re.findall(r"\{%-?\s*endraw\s*-?%\}", text)), path.name
        assert "${{" not in RAW_REGION.sub("", text), f"{path.name}: a ${{{{ outside {{% raw %}}"


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
    result = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--strict-collection",
            "--format",
            "json",
            "--no-progress",
            github,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and json.loads(result.stdout) == [], result.stdout + result.stderr
    ci = Workflow(github / "workflows" / "template-ci.yml")
    runs = [s.get("run", "") for _, s in steps_of(ci)]
    assert ".ci/run" in runs
    assert any("zizmor" in run and "--offline" in run for run in runs)


# --------------------------------------------------------------------------
# The runner itself
# --------------------------------------------------------------------------


def test_runner_evaluates_expressions_as_github_does() -> None:
    runner = Runner(
        Path("."),
        Context(
            github={
                "event_name": "pull_request",
                "repository": "o/r",
                "event": {"pull_request": {"number": 7, "head": {"repo": {"full_name": "O/R"}}}},
            },
            vars={"X": "set"},
        ),
        base_env={},
    )
    assert runner.evaluate("github.event.pull_request.head.repo.full_name == github.repository")
    assert runner.evaluate("vars.MISSING || 'ubuntu-latest'") == "ubuntu-latest"
    assert runner.evaluate("vars.X != ''") is True
    assert runner.evaluate("github.event.pull_request.missing") is None
    assert runner.evaluate("format('{0}-{1}', 'a', github.event.pull_request.number)") == "a-7"
    assert runner.interpolate("n=${{ github.event.pull_request.number }}") == "n=7"
    assert runner.condition("!cancelled() && github.event_name == 'push'") is False
    assert runner.condition("github.event_name == 'pull_request'", status="failure") is False
    assert runner.condition("${{ always() }}", status="failure") is True
    with pytest.raises(ValueError, match="github.base_ref"):
        runner.evaluate("github.base_ref")


def test_runner_runs_steps_with_github_semantics(tmp_path: Path) -> None:
    workflow_file = tmp_path / "w.yml"
    workflow_file.write_text(
        yaml.safe_dump(
            {
                "on": "push",
                "defaults": {"run": {"shell": "bash"}},
                "env": {"A": "${{ github.event_name }}"},
                "jobs": {
                    "j": {
                        "runs-on": "ubuntu-latest",
                        "outputs": {"out": "${{ steps.one.outputs.value }}"},
                        "steps": [
                            {
                                "id": "one",
                                "run": 'echo "value=$A" >> "$GITHUB_OUTPUT"\n'
                                'printf "MULTI<<EOF\\nx\\ny\\nEOF\\n" >> "$GITHUB_ENV"\n'
                                'mkdir bin && printf "#!/bin/sh\\necho tool\\n" > bin/t'
                                ' && chmod +x bin/t && echo "$PWD/bin" >> "$GITHUB_PATH"',
                            },
                            {"name": "pipefail", "continue-on-error": True, "run": "false | true"},
                            {
                                "name": "sees",
                                "run": 'test "$MULTI" = "$(printf "x\\ny")" && t | grep -qx tool',
                            },
                            {
                                "name": "skipped",
                                "if": "steps.one.outputs.value != 'push'",
                                "run": "exit 1",
                            },
                            {"id": "publish-it", "run": "exit 1"},
                            {"uses": "actions/checkout@x"},
                            {"name": "fails", "run": "exit 3"},
                            {"name": "after a failure", "run": "exit 1"},
                            {"name": "always", "if": "${{ always() }}", "run": "true"},
                        ],
                    }
                },
            }
        )
    )
    result = Runner(tmp_path, Context(github={"event_name": "push"}), base_env=clean_env()).run_job(
        Workflow(workflow_file), "j"
    )
    statuses = [(s.name, s.status, s.outcome, s.conclusion) for s in result.steps]
    assert statuses == [
        ('echo "value=$A" >> "$GITHUB_OUTPUT"', "ran", "success", "success"),
        ("pipefail", "ran", "failure", "success"),
        ("sees", "ran", "success", "success"),
        ("skipped", "skipped-if", "skipped", "skipped"),
        ("exit 1", "skipped-publish", "skipped", "skipped"),
        ("actions/checkout@x", "skipped-uses", "skipped", "skipped"),
        ("fails", "ran", "failure", "failure"),
        ("after a failure", "skipped-if", "skipped", "skipped"),
        ("always", "ran", "success", "success"),
    ], result.describe()
    assert result.result == "failure" and result.outputs == {"out": "push"}


# --------------------------------------------------------------------------
# Shell steps that guard credentials, post comments and open issues
# --------------------------------------------------------------------------


def github_context(
    event_name: str = "push",
    *,
    sha: str = "0" * 40,
    head_repo: str | None = None,
    base_sha: str = "1" * 40,
    workflow: str = "testing",
    **extra: Any,
) -> dict:
    """The ``github`` context of a run in REPOSITORY (a pull request when head_repo is set)."""
    context = {
        "event_name": event_name,
        "repository": REPOSITORY,
        "repository_owner": OWNER,
        "ref": "refs/heads/main",
        "ref_name": "main",
        "sha": sha,
        "base_ref": "",
        "head_ref": "",
        "workflow": workflow,
        "token": "local-token-never-sent",
        "server_url": "https://github.com",
        "run_id": 1,
        "actor": "tester",
        "event": {},
    }
    if event_name == "pull_request":
        context.update(
            ref="refs/pull/1/merge", ref_name="1/merge", base_ref="main", head_ref="feature"
        )
        context["event"] = {
            "pull_request": {
                "number": 1,
                "base": {"sha": base_sha, "ref": "main"},
                "head": {"ref": "feature", "repo": {"full_name": head_repo or REPOSITORY}},
            }
        }
    context.update(extra)
    return context


CREDENTIAL_SETTING = {
    "s3": ("vars", "AWS_ROLE_ARN"),
    "gs": ("vars", "GCP_WORKLOAD_IDENTITY_PROVIDER"),
    "azure": ("vars", "AZURE_CLIENT_ID"),
    "ssh": ("secrets", "DVC_SSH_KEY"),
    "http": ("secrets", "DVC_HTTP_USER"),
}


@pytest.mark.parametrize("remote_type", list(CREDENTIAL_SETTING))
@pytest.mark.parametrize(
    ("event", "head_repo", "configured", "ready"),
    [
        ("push", None, True, True),
        ("push", None, False, False),
        ("pull_request", REPOSITORY, True, True),
        ("pull_request", "someone/fork", True, False),
    ],
)
def test_dvc_remote_is_used_only_with_credentials_and_never_by_forks(
    baked,
    tmp_path: Path,
    remote_type: str,
    event: str,
    head_repo: str | None,
    configured: bool,
    ready: bool,
) -> None:
    answers = next(c for c in combinations() if c["dvc_remote"] == remote_type)
    project = baked(answers)
    kind, name = CREDENTIAL_SETTING[remote_type]
    settings = {name: "configured-value"} if configured else {}
    context = Context(github=github_context(event, head_repo=head_repo), **{kind: settings})
    runner = Runner(project.path, context, base_env=clean_env())
    workflow = Workflow(project.path / WORKFLOWS / "testing.yml")
    result = runner.run_job(workflow, "pipeline", only=lambda s: s.get("id") == "dvc-remote")
    check = result.step("dvc-remote")
    assert check.outcome == "success", check.log
    assert check.outputs == {"ready": "true" if ready else "false"}
    # The login and the pull follow that answer.
    steps = {"dvc-remote": check}
    guarded = [
        s
        for s in workflow.job("pipeline")["steps"]
        if s.get("if") == "steps.dvc-remote.outputs.ready == 'true'"
    ]
    assert guarded and all(runner.condition(s["if"], steps=steps) is ready for s in guarded)


def credential_steps(step: dict) -> bool:
    """The DVC steps of the pipeline job: check, credentials, pull."""
    return (
        step.get("id") == "dvc-remote"
        or step.get("if") == "steps.dvc-remote.outputs.ready == 'true'"
    )


def remote_runner(
    project: Baked, tmp_path: Path, baked_venv: Path, secrets: dict, variables: dict
) -> tuple[Path, Path, Runner]:
    """A clone of ``project`` and a runner with its own HOME and DVC on PATH.

    ``make setup`` is left out (see credential_steps): the shared virtualenv
    stands in for ``.venv`` without being modified, since no step installs.
    """
    workspace = tmp_path / "workspace"
    subprocess.run(["git", "clone", "--quiet", project.path, workspace], check=True)
    home = tmp_path / "home"
    home.mkdir()
    context = Context(github=github_context("push"), secrets=secrets, vars=variables)
    env = clean_env({"HOME": str(home), "SSH_AUTH_SOCK": ""})
    return workspace, home, Runner(workspace, context, base_env=env, tool_dirs=[baked_venv / "bin"])


def test_http_credentials_go_to_config_local_only(baked, baked_venv: Path, tmp_path: Path) -> None:
    project = baked(next(c for c in combinations() if c["dvc_remote"] == "http"))
    secrets = {"DVC_HTTP_USER": "ci-user", "DVC_HTTP_PASSWORD": "s3cr3t"}
    workspace, _, runner = remote_runner(project, tmp_path, baked_venv, secrets, {})
    workflow = Workflow(workspace / WORKFLOWS / "testing.yml")
    # Credentials only: the pull would go to the placeholder server.
    result = runner.run_job(
        workflow,
        "pipeline",
        only=lambda s: credential_steps(s) and "dvc pull" not in s.get("run", ""),
    )
    result.assert_success()
    assert len(result.ran()) == 2
    local = (workspace / ".dvc/config.local").read_text()
    assert "auth = basic" in local and "user = ci-user" in local and "password = s3cr3t" in local
    status = git(workspace, "status", "--porcelain", "--untracked-files=all")
    assert status == "", "credentials must stay in git-ignored files"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SSHServer]:
    """A private sshd on loopback (tests/servers.py)."""
    reason = sshd_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to start sshd: {reason}")
        pytest.skip(reason)
    with SSHServer(tmp_path / "sshd") as server:
        yield server


@pytest.mark.parametrize("host_key", ["the server's", "an impostor's"])
def test_ssh_key_is_used_only_after_openssh_checked_the_server(
    baked, baked_venv: Path, tmp_path: Path, sshd: SSHServer, host_key: str
) -> None:
    project = baked(next(c for c in combinations() if c["dvc_remote"] == "ssh"))
    impostor = host_key == "an impostor's"
    known_hosts = sshd.known_hosts_line(key=sshd.client_key if impostor else None).strip()
    secrets = {"DVC_SSH_KEY": sshd.client_key.read_text().strip()}
    workspace, home, runner = remote_runner(
        project, tmp_path, baked_venv, secrets, {"DVC_SSH_KNOWN_HOSTS": known_hosts}
    )
    storage = tmp_path / "server-side" / "dvc-storage"
    storage.mkdir(parents=True)
    # The project's remote, moved to the private server (a local edit, as a user would).
    git(workspace, "config", "--local", "core.hooksPath", "/dev/null")
    subprocess.run(
        [
            baked_venv / "bin" / "dvc",
            "remote",
            "modify",
            "storage",
            "url",
            f"ssh://{LOOPBACK}:{sshd.port}{storage}",
        ],
        cwd=workspace,
        check=True,
        env=clean_env(),
    )
    committed = (workspace / ".dvc/config").read_text()
    workflow = Workflow(workspace / WORKFLOWS / "testing.yml")
    result = runner.run_job(workflow, "pipeline", only=credential_steps)
    give_key = next(step for step in result.steps if step.name.startswith("Give DVC the SSH key"))
    key = home / ".ssh" / "dvc_remote"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert f"keyfile = {key}" in (workspace / ".dvc/config.local").read_text()
    assert (workspace / ".dvc/config").read_text() == committed  # nothing added to it
    if impostor:
        assert give_key.outcome == "failure" and "Host key verification failed" in give_key.log
        assert result.step("Pull data, models and the run cache from the DVC remote").status == (
            "skipped-if"
        )
    else:
        result.assert_success()
        assert result.ran()[-1] == "Pull data, models and the run cache from the DVC remote"


FAKE_GH = """#!{python}
\"\"\"A stand-in for the GitHub CLI: logs each call (with the body it would send)
and answers read-only queries with FAKE_GH_FOUND, as gh would after its --jq.\"\"\"
import json, os, sys
args = sys.argv[1:]
call = {{"args": args}}
for index, arg in enumerate(args):
    if arg == "--body-file":
        call["body"] = open(args[index + 1]).read()
    elif arg.startswith("body=@"):
        call["body"] = open(arg[len("body=@"):]).read()
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(call) + "\\n")
found = os.environ.get("FAKE_GH_FOUND", "")
if args[:2] == ["release", "view"]:
    if not found:
        sys.exit(1)
    print(found)
elif (args[:1] == ["api"] and "--method" not in args) or args[:2] == ["issue", "list"]:
    print(found)
"""


@pytest.fixture
def fake_gh(tmp_path: Path) -> Callable[[str], tuple[Path, Callable[[], list[dict]], dict]]:
    """A fake ``gh`` on a directory of its own; returns (bin dir, calls, env)."""
    directory = tmp_path / "fake-bin"
    directory.mkdir()
    script = directory / "gh"
    script.write_text(FAKE_GH.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "gh-calls.jsonl"

    def make(found: str):
        def calls() -> list[dict]:
            return (
                [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            )

        return directory, calls, clean_env({"FAKE_GH_LOG": str(log), "FAKE_GH_FOUND": found})

    return make


# gh prints one id per matching comment (and per page): the first one is updated.
@pytest.mark.parametrize("existing", ["", "4242", "4242\n4243"])
def test_report_comment_is_created_once_then_updated_in_place(
    baked, tmp_path: Path, fake_gh, existing: str
) -> None:
    project = baked(DEFAULT)
    bin_dir, calls, env = fake_gh(existing)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "pipeline-report.md").write_text("## Pipeline report\n\nmetrics table\n")
    context = Context(
        github=github_context("pull_request"),
        needs={
            "pipeline": {"result": "success", "outputs": {"report-url": "https://example.com/a/1"}}
        },
    )
    runner = Runner(workspace, context, base_env=env, tool_dirs=[bin_dir], allow_publish=True)
    workflow = Workflow(project.path / WORKFLOWS / "testing.yml")
    assert runner.job_condition(workflow, "report")
    result = runner.run_job(workflow, "report")
    result.assert_success()
    lookup, action_call = calls()
    assert lookup["args"][:3] == ["api", "--paginate", f"repos/{REPOSITORY}/issues/1/comments"]
    assert (
        '"github-actions[bot]"' in lookup["args"][4]
        and "<!-- pipeline-report -->" in lookup["args"][4]
    )
    if existing:
        assert action_call["args"][:4] == [
            "api",
            "--method",
            "PATCH",
            f"repos/{REPOSITORY}/issues/comments/4242",
        ]
    else:
        assert action_call["args"][:2] == ["pr", "comment"] and action_call["args"][2] == "1"
    body = action_call["body"]
    assert body.startswith("<!-- pipeline-report -->\n## Pipeline report")
    assert "https://example.com/a/1" in body


@pytest.mark.parametrize(
    ("head_repo", "report_url", "runs"),
    [
        (REPOSITORY, "https://example.com/a/1", True),
        ("someone/fork", "https://example.com/a/1", False),  # read-only token: summary only
        (REPOSITORY, "", False),  # the pipeline made no report
    ],
)
def test_report_job_runs_only_for_the_repository_s_own_pull_requests(
    baked, head_repo: str, report_url: str, runs: bool
) -> None:
    project = baked(DEFAULT)
    context = Context(
        github=github_context("pull_request", head_repo=head_repo),
        needs={"pipeline": {"result": "failure", "outputs": {"report-url": report_url}}},
    )
    runner = Runner(project.path, context, base_env={})
    assert (
        runner.job_condition(Workflow(project.path / WORKFLOWS / "testing.yml"), "report") is runs
    )


@pytest.mark.parametrize("open_issue", ["", "7", "7\n8"])
def test_failed_gate_opens_one_issue_then_comments_and_fails(
    baked, tmp_path: Path, fake_gh, open_issue: str
) -> None:
    project = baked(DEFAULT)
    bin_dir, calls, env = fake_gh(open_issue)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "training-report.md").write_text("## Retrained model\n\nf1 0.5\n")
    context = Context(github=github_context("schedule", workflow="train", run_id=99))
    runner = Runner(workspace, context, base_env=env, tool_dirs=[bin_dir], allow_publish=True)
    result = runner.run_job(Workflow(project.path / WORKFLOWS / "train.yml"), "alert")
    assert result.step("publish-issue").outcome == "success", result.describe()
    assert result.step("Fail the run").outcome == "failure" and result.result == "failure"
    lookup, action_call = calls()
    assert lookup["args"][:3] == ["issue", "list", "--state"]
    if open_issue:
        assert action_call["args"][:2] == ["issue", "comment"] and action_call["args"][2] == "7"
    else:
        assert action_call["args"][:4] == [
            "issue",
            "create",
            "--title",
            "Retrained model is below the quality thresholds",
        ]
    assert f"https://github.com/{REPOSITORY}/actions/runs/99" in action_call["body"]
    assert "f1 0.5" in action_call["body"]


@pytest.mark.parametrize(
    ("assets", "publish"), [("", "true"), ("model.joblib\nmetrics.json", "false")]
)
def test_a_tag_is_published_once(baked, tmp_path: Path, fake_gh, assets: str, publish: str) -> None:
    project = baked(DEFAULT)
    bin_dir, calls, env = fake_gh(assets)
    context = Context(
        github=github_context("push", workflow="publish", ref="refs/tags/v1.0.0", ref_name="v1.0.0")
    )
    runner = Runner(tmp_path, context, base_env=env, tool_dirs=[bin_dir])
    result = runner.run_job(Workflow(project.path / WORKFLOWS / "publish.yml"), "check")
    result.assert_success()
    assert result.outputs == {"publish": publish}
    assert calls()[0]["args"][:2] == ["release", "view"] and calls()[0]["args"][2] == "v1.0.0"


def test_release_assets_are_uploaded_to_a_release_created_for_a_bare_tag(
    baked, tmp_path: Path, fake_gh
) -> None:
    project = baked(DEFAULT)
    bin_dir, calls, env = fake_gh("")
    (tmp_path / "release").mkdir()
    for name in ("model.joblib", "metrics.json", "model-card.md"):
        (tmp_path / "release" / name).write_text(name)
    context = Context(
        github=github_context("push", workflow="publish", ref="refs/tags/v1.0.0", ref_name="v1.0.0")
    )
    runner = Runner(tmp_path, context, base_env=env, tool_dirs=[bin_dir], allow_publish=True)
    runner.run_job(Workflow(project.path / WORKFLOWS / "publish.yml"), "release").assert_success()
    view, create, upload = (call["args"] for call in calls())
    assert view[:3] == ["release", "view", "v1.0.0"]
    assert create[:3] == ["release", "create", "v1.0.0"] and "--verify-tag" in create
    assert upload[:3] == ["release", "upload", "v1.0.0"] and upload[-1] == "--clobber"
    assert sorted(Path(p).name for p in upload[3:-1]) == [
        "metrics.json",
        "model-card.md",
        "model.joblib",
    ]


# --------------------------------------------------------------------------
# The jobs really run (slow): testing, documentation, train
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory, baked) -> Path:
    """The GitHub repository of the default bake: a bare clone the jobs check out."""
    bare = tmp_path_factory.mktemp("origin") / f"{SLUG}.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", baked(DEFAULT).path, bare], check=True)
    return bare


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What astral-sh/setup-uv provides: ``uv`` on PATH (and nothing else of the test tools)."""
    directory = tmp_path_factory.mktemp("tools")
    (directory / "uv").symlink_to(uv())
    return directory


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Tester",
            "-c",
            "user.email=tester@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def checkout(origin: Path, tmp_path: Path, name: str = "workspace") -> Path:
    """What actions/checkout with fetch-depth: 0 gives: a full clone with ``origin``."""
    workspace = tmp_path / name
    subprocess.run(["git", "clone", "--quiet", origin, workspace], check=True)
    return workspace


def run(
    workspace: Path,
    tools: Path,
    workflow: str,
    job: str,
    github: dict,
    extra_env: dict | None = None,
    **context: Any,
) -> JobResult:
    """Run one job of a baked workflow in ``workspace``, as GitHub would."""
    env = clean_env({"UV_PYTHON_DOWNLOADS": "never", **(extra_env or {})})
    runner = Runner(workspace, Context(github=github, **context), base_env=env, tool_dirs=[tools])
    return runner.run_job(Workflow(workspace / WORKFLOWS / workflow), job)


LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.slow
@pytest.mark.parametrize("job", ["pre-commit", "tests"])
def test_testing_jobs_pass_on_a_push_to_main(
    baked_venv: Path, origin: Path, tools: Path, tmp_path: Path, job: str
) -> None:
    workspace = checkout(origin, tmp_path)
    github = github_context("push", sha=git(workspace, "rev-parse", "HEAD"))
    # test_gates.py runs the whole baked suite already; here the job's steps
    # (fresh .venv, PATH, `make test`) are proven on its end-to-end tests only.
    extra = {"PYTEST_ADDOPTS": "tests/test_pipeline.py"} if job == "tests" else {}
    result = run(
        workspace,
        tools,
        "testing.yml",
        job,
        github,
        extra_env=extra,
        matrix={"python-version": LOCAL_PYTHON},
    )
    result.assert_success()
    if job == "tests":
        assert re.search(r"tests/test_pipeline\.py \.+", result.step("Run the tests").log)
    assert result.step("Install the project and its tools").status == "ran"
    # The jobs leave nothing behind for git (the virtualenv and caches are ignored).
    assert git(workspace, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.slow
def test_documentation_build_job_passes(
    baked_venv: Path, origin: Path, tools: Path, tmp_path: Path
) -> None:
    workspace = checkout(origin, tmp_path)
    github = github_context("pull_request", workflow="documentation")
    result = run(workspace, tools, "documentation.yml", "build", github)
    result.assert_success()
    assert (workspace / "site" / "ci-cd" / "index.html").is_file()
    assert result.step("Keep the site for the deploy job").status == "skipped-if"


@pytest.mark.slow
def test_publish_gate_builds_the_release_assets(
    baked_venv: Path, origin: Path, tools: Path, tmp_path: Path
) -> None:
    workspace = checkout(origin, tmp_path)
    github = github_context(
        "push",
        sha=git(workspace, "rev-parse", "HEAD"),
        workflow="publish",
        ref="refs/tags/v0.1.0",
        ref_name="v0.1.0",
    )
    runner = Runner(
        workspace,
        Context(github=github),
        base_env=clean_env({"UV_PYTHON_DOWNLOADS": "never"}),
        tool_dirs=[tools],
    )
    # The test suite is the tests job's (above) and test_gates.py's: skipped here.
    result = runner.run_job(
        Workflow(workspace / WORKFLOWS / "publish.yml"),
        "gate",
        only=lambda step: step.get("name") != "Run the tests",
    )
    result.assert_success()
    assets = sorted(path.name for path in (workspace / "release").iterdir())
    assert assets == [
        "metrics.json",
        "ml_project-0.1.0-py3-none-any.whl",
        "ml_project-0.1.0.tar.gz",
        "model-card.md",
        "model.joblib",
    ]
    card = (workspace / "release" / "model-card.md").read_text()
    assert card.startswith("# Model card") and "## Metrics of this release" in card
    assert re.search(r"\| reports/metrics\.json\s*\| 0\.\d+", card), card


def job_runs(workspace: Path, github: dict, workflow: str, job: str, needs: dict) -> bool:
    """Would GitHub start ``job`` after the jobs in ``needs``?"""
    runner = Runner(workspace, Context(github=github, needs=needs), base_env={})
    return runner.job_condition(Workflow(workspace / WORKFLOWS / workflow), job)


@pytest.mark.slow
def test_training_and_the_pull_request_report(
    baked_venv: Path, origin: Path, tools: Path, tmp_path: Path
) -> None:
    """The retraining cycle, then a pull request compared with what it proposed.

    One test, because each part needs the trained outputs of the one before.
    """
    # 1. A scheduled training run on main passes the gate: propose, do not alert.
    workspace = checkout(origin, tmp_path, "train")
    github = github_context("schedule", sha=git(workspace, "rev-parse", "HEAD"), workflow="train")
    train = run(workspace, tools, "train.yml", "train", github)
    train.assert_success()
    assert train.outputs == {"gate": "success"}
    report = (workspace / "training-report.md").read_text()
    assert "Quality gate: **success**" in report
    assert re.search(r"\| reports/metrics\.json\s*\| accuracy\s*\| -\s*\| 0\.\d+", report), report
    needs = {"train": {"result": train.result, "outputs": train.outputs}}
    assert job_runs(workspace, github, "train.yml", "propose", needs)
    assert not job_runs(workspace, github, "train.yml", "alert", needs)

    # 2. Merge what the propose job commits (its add-paths) into main.
    workflow = Workflow(workspace / WORKFLOWS / "train.yml")
    proposal = next(
        s for s in workflow.job("propose")["steps"] if s.get("id") == "publish-pull-request"
    )
    git(workspace, "add", *proposal["with"]["add-paths"].split())
    staged = set(git(workspace, "diff", "--cached", "--name-only").splitlines())
    assert staged >= {"dvc.lock", "reports/metrics.json"}, staged
    git(workspace, "commit", "--quiet", "-m", "Retrain the model")
    git(workspace, "push", "--quiet", "origin", "main")
    base_sha = git(workspace, "rev-parse", "HEAD")

    # 3. A pull request that changes a hyperparameter gets its report against main.
    branch = checkout(origin, tmp_path, "pull-request")
    git(branch, "checkout", "--quiet", "-b", "feature")
    params = branch / "params.yaml"
    params.write_text(params.read_text().replace("  C: 1.0\n", "  C: 0.05\n"))
    git(branch, "commit", "--quiet", "--all", "-m", "Regularise more")
    github = github_context("pull_request", sha=git(branch, "rev-parse", "HEAD"), base_sha=base_sha)
    pipeline = run(branch, tools, "testing.yml", "pipeline", github)
    pipeline.assert_success()
    assert pipeline.step("report").status == "ran"
    text = (branch / "pipeline-report.md").read_text()
    assert f"`{base_sha[:7]}`" in text and "The quality gate **passed**" in text
    assert re.search(r"\| params\.yaml\s*\| model\.C\s*\| 1\.0\s*\| 0\.05", text), text
    for metric in ("accuracy", "f1", "roc_auc"):
        row = rf"\| reports/metrics\.json\s*\| {metric}\s*\| 0\.\d+\s*\| 0\.\d+"
        assert re.search(row, text), text
    assert (branch / "pipeline-plots" / "index.html").is_file()
    assert "## Pipeline report" in pipeline.summary

    # 4. Raised thresholds: the next training run fails the gate, alerts, fails.
    params = workspace / "params.yaml"
    params.write_text(params.read_text().replace("  accuracy: 0.9\n", "  accuracy: 0.999\n"))
    github = github_context("workflow_dispatch", sha=base_sha, workflow="train")
    train = run(workspace, tools, "train.yml", "train", github, inputs={"force": False})
    # The gate's failure is an outcome for the next jobs, not an error of this one.
    train.assert_success()
    assert train.step("gate").outcome == "failure" and train.outputs == {"gate": "failure"}
    assert "Quality gate: **failure**" in (workspace / "training-report.md").read_text()
    needs = {"train": {"result": train.result, "outputs": train.outputs}}
    assert job_runs(workspace, github, "train.yml", "alert", needs)
    assert not job_runs(workspace, github, "train.yml", "propose", needs)
    alert = run(workspace, tools, "train.yml", "alert", github, needs=needs)
    assert alert.step("publish-issue").status == "skipped-publish"
    assert alert.result == "failure" and alert.step("Fail the run").outcome == "failure"
