"""ci_platform=azure-pipelines: the steps run in order in a baked clone, with azure_agent.py.

The CI pipeline of a pull request (lint, tests, pipeline and gate, report, the
report's PR thread posted to an Azure DevOps stand-in on 127.0.0.1), and the
release of a tag (tests, pipeline, packages, then staging: deploy through the
``az`` stand-in and the smoke test against an app on 127.0.0.1). What the
pipelines are, read statically, is in test_azure_pipelines.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.azure_agent import (
    FILLED,
    Agent,
    clone_at,
    compile_pipeline,
    completion_triggers,
    fill_settings,
    jobs,
)
from support.helpers import (
    PRE_COMMIT_HOME,
    STANDINS,
    Baked,
    add_lock_file,
    bake,
    clean_env,
    install_uv,
)
from support.servers import JSONServer


def agent_env(root: Path) -> dict:
    """A hosted agent's environment: the test tools (uv, az) on PATH, the cloud state."""
    tools = root / "tools"
    tools.mkdir()
    wrapper = tools / "az"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / "az.py"}" "$@"\n')
    wrapper.chmod(0o755)
    install_uv(tools)
    base = clean_env()
    state = root / "state"
    state.mkdir()
    return clean_env(
        {
            "PATH": f"{tools}:{base['PATH']}",
            "STANDIN_STATE": str(state),
            "UV_PYTHON_DOWNLOADS": "never",
            "TF_BUILD": "True",
        }
    )


def predefined(project: Path, staging: Path, **more: str) -> dict:
    """The predefined variables of one run."""
    return {
        "Build.SourcesDirectory": str(project),
        "Build.ArtifactStagingDirectory": str(staging),
        "Build.BuildId": "42",
        "Agent.JobStatus": "Succeeded",
        "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME),  # what Cache@2 restores
        **more,
    }


@pytest.mark.slow
def test_ci_and_release_steps_run_in_order_in_a_baked_clone(tmp_path: Path) -> None:
    project = bake(
        tmp_path / "bake", ci_platform="azure-pipelines", deploy_target="azure-container-apps"
    ).path
    git = [
        "git",
        "-c",
        "user.name=Dev",
        "-c",
        "user.email=dev@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    # A pull request: the checkout is the merge commit, main is its first parent.
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = agent_env(tmp_path)

    compiled = compile_pipeline(project, "azure-pipelines.yml")
    threads: list = []

    def devops(method: str, path: str, body: Any) -> tuple[int, object]:
        if method == "GET":
            return 200, {"value": threads, "count": len(threads)}
        if method == "POST":
            threads.append({"id": 7, "comments": [{"id": 1, **body["comments"][0]}]})
            return 200, threads[-1]
        threads[0]["comments"][0]["content"] = body["content"]
        return 200, threads[0]["comments"][0]

    with JSONServer(devops) as server:
        agent = Agent(project, env)
        agent.variables.update(compiled["variables"])
        agent.variables.update(
            predefined(
                project,
                tmp_path / "staging-dir",
                **{
                    "Build.Reason": "PullRequest",
                    "Build.Repository.Provider": "TfsGit",
                    "System.PullRequest.IsFork": "False",
                    "System.CollectionUri": f"{server.url}/acme/",
                    "System.TeamProject": "ML Project",
                    "Build.Repository.ID": "repo-1",
                    "System.PullRequest.PullRequestId": "5",
                    "System.AccessToken": "job-token",
                },
            )
        )
        params = project / "params.yaml"
        params.write_text(params.read_text().replace("seed: 42", "seed: 7"))
        subprocess.run([*git, "commit", "-qam", "A change under review"], cwd=project, check=True)
        subprocess.run(
            [*git, "merge", "-q", "--no-ff", "-m", "Merge", "HEAD"], cwd=project, check=False
        )
        for job in ("lint", "tests", "pipeline"):
            agent.run_job(jobs(compiled)[job], skip=("Install uv",))
        assert agent.variables["BASE_SHA"] == base
        report = (project / "pipeline-report.md").read_text()
        assert "## Pipeline report" in report and "The quality gate **passed**" in report
        assert (project / "pipeline-plots" / "index.html").exists()
        (post,) = [r for r in server.requests if r[0] == "POST"]
        assert post[1].startswith(
            "/acme/ML%20Project/_apis/git/repositories/repo-1/"
            "pullRequests/5/threads?api-version=7.1"
        )
        assert post[3]["Authorization"] == "Bearer job-token"
        body: Any = post[2]
        assert body["comments"][0]["content"].startswith("<!-- pipeline-report -->\n## Pipeline")
        # A second run updates the same thread.
        agent.run_job(
            [s for s in jobs(compiled)["pipeline"] if "thread" in s.get("displayName", "")]
        )
        assert [r[0] for r in server.requests].count("POST") == 1
        assert any(r[0] == "PATCH" and "/threads/7/comments/1?" in r[1] for r in server.requests)
    assert agent.ran[:3] == [
        "Install the project and its tools",
        "Run every hook on every file",
        "Install the project and its tools",
    ]
    assert "Post the report, or update the thread of an earlier run" in agent.ran
    assert any("DVC remote not used" in w for w in agent.warnings)
    # The bake's first commit has no uv.lock: make setup wrote one and said to commit it.
    assert any("created uv.lock" in w and "commit it" in w for w in agent.warnings)

    # The release of a tag, with the settings and the uv.lock of the CI run committed.
    fill_settings(project, FILLED)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "--no-verify", "-qm", "Set up Azure"], cwd=project, check=True)
    subprocess.run([*git, "tag", "v1.2.0"], cwd=project, check=True)
    release = compile_pipeline(project, "azure-pipelines/release.yml")
    image = "acme.azurecr.io/ml-project:42"
    assert (
        release["variables"]["IMAGE"]
        == "$(containerRegistry).azurecr.io/$(IMAGE_NAME):$(Build.BuildId)"
    )
    agent = Agent(project, env)
    agent.variables.update(release["variables"])
    agent.variables.update(
        predefined(
            project,
            tmp_path / "release-dir",
            **{"Build.SourceBranch": "refs/tags/v1.2.0", "Build.SourceBranchName": "v1.2.0"},
        )
    )
    # The service connection may run ACR Tasks on the registry (docs: Contributor).
    state = Path(env["STANDIN_STATE"]) / "cloud.json"
    state.write_text(json.dumps({"acr_roles": {"acme": {"service-connection": ["Contributor"]}}}))
    agent.run_job(jobs(release)["build.gate"], skip=("Install uv",))
    assert not any("uv.lock" in w for w in agent.warnings)  # committed with the settings
    assert sorted(p.name for p in (tmp_path / "release-dir" / "release").iterdir()) == [
        "metrics.json",
        "ml_project-1.2.0-py3-none-any.whl",
        "ml_project-1.2.0.tar.gz",
        "model.joblib",
        "model.joblib.schema.json",
        "uv.lock",
    ]
    # The registry got the image; staging has an app that pulls from it with its
    # system identity (docs/azure-devops.md, step 5).
    cloud = json.loads(state.read_text())
    assert image in cloud["images"]
    with JSONServer(lambda m, p, b: (200, {"status": "ok"}), tls_dir=tmp_path / "tls") as app:
        cloud["container_apps"] = {
            "ml-project-staging": {
                "resource_group": "ml-serving",
                "fqdn": app.address,
                "registries": [{"server": "acme.azurecr.io", "identity": "system"}],
            }
        }
        cloud["acr_roles"]["acme"]["app:ml-project-staging"] = ["AcrPull"]
        state.write_text(json.dumps(cloud))
        # The deployment job runs on an agent of its own, with the same run's variables.
        variables = agent.variables
        agent = Agent(project, {**env, "SSL_CERT_FILE": str(app.cert)})
        agent.variables.update(variables)
        agent.run_job(jobs(release)["staging.deploy"])
        assert [(m, p) for m, p, _, _ in app.requests] == [("GET", "/health")]
    assert json.loads(state.read_text())["container_apps"]["ml-project-staging"]["image"] == image
    assert agent.ran == ["Deploy the image", "Smoke-test the new revision"]
    assert "staging.deploy" in jobs(release) and "production.deploy" in jobs(release)


def write_source(project: Baked, path: Path, rows: int) -> None:
    """data.source: the first ``rows`` rows of the breast cancer data as a CSV file
    outside the repository (new rows arrive there without a commit)."""
    project.run(
        "python",
        "-c",
        "import sys; from sklearn.datasets import load_breast_cancer;"
        " frame = load_breast_cancer(as_frame=True).frame;"
        " frame.head(int(sys.argv[2])).to_csv(sys.argv[1], index=False)",
        str(path),
        str(rows),
    )


def checkout(project: Baked, commit: str, where: Path) -> Path:
    """A run's checkout at ``commit``, its .venv the shared virtualenv (as `make setup` made it)."""
    clone = clone_at(project.path, commit, where)
    assert project.venv is not None
    (clone / ".venv").symlink_to(project.venv)
    return clone


def run_training(project: Baked, where: Path, env: dict) -> Agent:
    """One run of the training pipeline on main: a clone, the job's steps in order."""
    clone = checkout(project, "main", where)
    train = compile_pipeline(clone, "azure-pipelines/train.yml")
    agent = Agent(clone, {**env, "PYTHONPATH": str(clone / "src")})
    agent.variables.update(train["variables"])
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()
    agent.variables.update(
        predefined(
            clone,
            where.parent / f"{where.name}-staging-dir",
            **{"Build.SourceBranch": "refs/heads/main", "Build.SourceVersion": commit},
        )
    )
    agent.run_job(jobs(train)["train"], skip=SETUP_STEPS)
    return agent


SETUP_STEPS = ("Install uv", "Install the project and its tools")


@pytest.mark.slow
def test_the_release_after_training_ships_the_model_training_produced(
    tmp_path: Path, baked_venv: Path
) -> None:
    """A training run on main that changed nothing starts no release; one that
    retrained starts the release on the same commit (main's old dvc.lock), which
    must build the image from the model in the run's ``training-results``, even
    when data.source has changed again since."""
    project = bake(tmp_path / "bake", ci_platform="azure-pipelines", venv=baked_venv)
    project.set_git_identity()
    source = tmp_path / "source.csv"
    write_source(project, source, 569)
    params = project.path / "params.yaml"
    params.write_text(
        params.read_text().replace('"sklearn:breast_cancer"', json.dumps(str(source)))
    )
    fill_settings(project.path, FILLED)
    add_lock_file(project)  # committed, as after the first `make setup`
    project.run("dvc", "repro")
    project.run("git", "add", "-A")
    project.run("git", "commit", "-qm", "Train on the CSV source", "--no-verify")
    main_model = (project.path / "models" / "model.joblib").read_bytes()
    env = agent_env(tmp_path)
    state = Path(env["STANDIN_STATE"]) / "cloud.json"
    state.write_text(json.dumps({"acr_roles": {"acme": {"service-connection": ["Contributor"]}}}))
    release = compile_pipeline(project.path, "azure-pipelines/release.yml")

    # The weekly run, no new data: the same model, no release.
    quiet = run_training(project, tmp_path / "train-1", env)
    assert (quiet.artifacts["training-results"] / "models" / "model.joblib").read_bytes() == (
        main_model
    )
    assert not completion_triggers(release, "training", quiet, "refs/heads/main")

    # New rows: a new model, and a release of it.
    write_source(project, source, 540)
    trained = run_training(project, tmp_path / "train-2", env)
    new_model = (trained.artifacts["training-results"] / "models" / "model.joblib").read_bytes()
    assert new_model != main_model
    assert completion_triggers(release, "training", trained, "refs/heads/main")

    # The release starts later, on training's commit; the source has moved on.
    write_source(project, source, 500)
    clone = checkout(project, trained.variables["Build.SourceVersion"], tmp_path / "rel")
    agent = Agent(clone, {**env, "PYTHONPATH": str(clone / "src")}, resources={"training": trained})
    agent.variables.update(release["variables"])
    agent.variables.update(
        predefined(
            clone,
            tmp_path / "release-dir",
            **{
                "Build.Reason": "ResourceTrigger",
                "Build.SourceBranch": "refs/heads/main",
                "Build.SourceBranchName": "main",
                "Pipeline.Workspace": str(tmp_path / "release-workspace"),
            },
        )
    )
    agent.run_job(jobs(release)["build.gate"], skip=(*SETUP_STEPS, "Run the tests"))
    assert "Download the training run's results" in agent.ran
    assert "Run the pipeline and the quality gate" not in agent.ran  # no retraining
    shipped = (tmp_path / "release-dir" / "release" / "model.joblib").read_bytes()
    assert shipped == new_model
    image = "acme.azurecr.io/ml-project:42"
    cloud = json.loads(state.read_text())
    assert cloud["image_models"][image] == hashlib.sha256(new_model).hexdigest()


def test_acr_build_with_acr_push_only_fails_and_names_the_role(tmp_path: Path) -> None:
    """AcrPush pushes but cannot run ACR Tasks: `az acr build` is refused, and the
    step's error names the role the docs give (Contributor)."""
    project = bake(tmp_path / "bake", ci_platform="azure-pipelines").path
    fill_settings(project, FILLED)
    (project / "models").mkdir(exist_ok=True)
    (project / "models" / "model.joblib").write_bytes(b"a model")
    release = compile_pipeline(project, "azure-pipelines/release.yml")
    (step,) = [s for s in jobs(release)["build.gate"] if s.get("task") == "AzureCLI@2"]
    env = agent_env(tmp_path)
    state = Path(env["STANDIN_STATE"]) / "cloud.json"
    for roles, refused in ((["AcrPush"], True), (["AcrPush", "Contributor"], False)):
        state.write_text(json.dumps({"acr_roles": {"acme": {"service-connection": roles}}}))
        agent = Agent(project, env)
        agent.variables.update(release["variables"])
        agent.variables.update(
            predefined(project, tmp_path / "dir", **{"Build.SourceBranchName": "main"})
        )
        if refused:
            with pytest.raises(AssertionError, match="Could not get SAS URL to upload"):
                agent.run_job([step])
            (error,) = agent.errors
            assert "Contributor on the registry acme" in error and "docs/azure-devops.md" in error
        else:
            agent.run_job([step])
            assert "acme.azurecr.io/ml-project:42" in json.loads(state.read_text())["images"]
