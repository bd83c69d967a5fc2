"""The shape of each baked workflow, read statically for every combination.

The tests' Python matrix (from the oldest supported Python), every ``needs``
naming an earlier job, what every workflow sets up alike (environment, shell,
concurrency, uv caches), the train workflow's gate, compare and proposal, the
publish workflow's jobs by serving and deploy target, and the image job's build
context. What the jobs do when they run is proven with act in test_workflow_*.py.
"""

from __future__ import annotations

import fnmatch
import subprocess

import pytest
import yaml

from support.helpers import (
    ANSWERS,
    CONTEXT,
    DVC_REMOTE_ACTION,
    MINE,
    WORKFLOWS,
    answers_of,
    steps_of,
    triggers,
    workflows,
)


@pytest.mark.parametrize("answers", ANSWERS)
def test_the_tests_run_on_every_supported_python_from_the_oldest(bake_once, answers: dict) -> None:
    """cookiecutter.json's _python_versions is the one list of supported Pythons."""
    project = bake_once(answers)
    supported = CONTEXT["_python_versions"]
    oldest = answers.get("python_version", CONTEXT["python_version"][0])
    job = workflows(project)["testing.yml"]["jobs"]["tests"]
    assert job["strategy"]["matrix"]["python-version"] == supported[supported.index(oldest) :]
    assert set(CONTEXT["python_version"]) <= set(supported)


@pytest.mark.parametrize("answers", ANSWERS)
def test_every_needs_names_an_earlier_job(bake_once, answers: dict) -> None:
    for name, workflow in workflows(bake_once(answers)).items():
        seen: set[str] = set()
        for job_id, job in workflow["jobs"].items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in seen, f"{name}: {job_id} needs {need}, not defined before it"
            seen.add(job_id)


@pytest.mark.parametrize("answers", ANSWERS)
def test_every_workflow_is_set_up_alike(bake_once, answers: dict) -> None:
    for name, workflow in workflows(bake_once(answers)).items():
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
            # uv and `make setup` come from the set-up action (.github/actions/setup),
            # whose uv cache is on only where a job names one: testing.yml's.
            assert not step.get("uses", "").startswith("astral-sh/setup-uv@"), f"{name}: {job_id}"
            assert step.get("run") != "make setup", f"{name}: {job_id}"
            if step.get("uses") == "$/.github/actions/setup":
                suffix = step.get("with", {}).get("cache-suffix")
                assert (suffix is not None) is (name == "testing.yml"), f"{name}: {job_id}: cache"
                suffixes.append(suffix)
            if step.get("uses", "").startswith("actions/cache@"):
                assert (name, job_id) == ("testing.yml", "pre-commit")
                assert "hashFiles('.pre-commit-config.yaml')" in step["with"]["key"]
        if name == "testing.yml":
            assert len(set(suffixes)) == len(suffixes) == 3, "each job saves a uv cache of its own"


@pytest.mark.parametrize("answers", ANSWERS)
def test_train_workflow(bake_once, answers: dict) -> None:
    workflow = workflows(bake_once(answers))["train.yml"]
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
def test_publish_workflow_follows_serving_and_deploy_target(bake_once, answers: dict) -> None:
    project = bake_once(answers)
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
                "queue": "max",
            }
            assert job["steps"][-1]["uses"] == "$/.github/actions/deploy"


@pytest.mark.parametrize("answers", [a for a in ANSWERS if answers_of(a)["serving"]])
def test_image_job_provides_what_the_dockerfile_copies(bake_once, answers: dict) -> None:
    """The build context is a checkout plus the released files the job puts in place."""
    project = bake_once(answers)
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


@pytest.mark.parametrize("answers", ANSWERS)
def test_dependabot_updates_the_actions_of_the_local_actions_too(bake_once, answers: dict) -> None:
    """`directory: /` scans .github/workflows only; each local action's folder
    must be named (dependabot/dependabot-core#6704: "the only way to update
    composite actions is to configure the directory containing the action.yml
    file explicitly"; wildcards: GitHub docs, dependabot.yml `directories`)."""
    project = bake_once(answers)
    dependabot = yaml.safe_load(project.read(".github/dependabot.yml"))
    (entry,) = [u for u in dependabot["updates"] if u["package-ecosystem"] == "github-actions"]
    directories = entry["directories"]
    assert "/" in directories
    for action in (project.path / ".github/actions").glob("*/action.yml"):
        folder = "/" + str(action.parent.relative_to(project.path))
        assert any(fnmatch.fnmatch(folder, d) for d in directories), folder


def concurrency_groups(workflow: dict) -> list[tuple[str, dict]]:
    """(where, concurrency) for the workflow and each of its jobs."""
    found = [("workflow", workflow["concurrency"])] if "concurrency" in workflow else []
    found += [
        (j, job["concurrency"]) for j, job in workflow["jobs"].items() if "concurrency" in job
    ]
    return found


@pytest.mark.parametrize("answers", ANSWERS)
def test_no_delivery_waits_for_an_approval_or_is_cancelled(bake_once, answers: dict) -> None:
    """GitHub keeps one pending run per concurrency group by default and
    cancels it when another arrives ("Control the concurrency of workflows and
    jobs"; `queue: max` keeps up to 100, changelog 2026-05-07). A delivery (a
    person's rollback tag included) must never be cancelled, and a run waiting
    for a production reviewer must not hold the runs after it: no
    run-wide group in deploy-model.yml, a queue on every deploy group."""
    found = workflows(bake_once(answers))
    run_group = found["deploy-model.yml"]["concurrency"]["group"]
    assert run_group == "${{ github.workflow }}-${{ github.run_id }}"
    for name in ("deploy-model.yml", "publish.yml"):
        for job_id, group in concurrency_groups(found[name]):
            if job_id.startswith("deploy-") or (name, job_id) == ("deploy-model.yml", "register"):
                assert group.get("queue") == "max", f"{name}: {job_id}"
                assert group.get("cancel-in-progress", False) is False, f"{name}: {job_id}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_a_push_to_main_is_never_cancelled(bake_once, answers: dict) -> None:
    """Every commit of main gets its complete runs: only pull-request runs
    cancel the run they supersede."""
    for name, workflow in workflows(bake_once(answers)).items():
        on = triggers(workflow)
        pushes_main = "main" in (on.get("push") or {}).get("branches", [])
        for job_id, group in concurrency_groups(workflow):
            cancel = group.get("cancel-in-progress", False)
            if pushes_main:
                assert cancel in (
                    False,
                    "${{ github.event_name == 'pull_request' }}",
                ), f"{name}: {job_id}"


@pytest.mark.parametrize("answers", ANSWERS)
def test_no_step_reads_the_repository_object_of_the_payload(bake_once, answers: dict) -> None:
    """The schedule event has no `repository` object (github/codeql-action#1211;
    the harness's payloads follow GitHub's, actions_engine.PAYLOADS): the
    workflows read what every event carries."""
    project = bake_once(answers)
    for path in sorted((project.path / ".github").rglob("*.yml")):
        assert "github.event.repository" not in path.read_text(), path
