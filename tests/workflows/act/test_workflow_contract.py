"""The first push: on a new GitHub repository every job is green or skipped with
a notice that names the missing setting; once configured, each job does its work.

A "new repository" has GitHub's defaults: no secrets but the workflow's own
token, no variables, Pages off, and "Allow GitHub Actions to create and approve
pull requests" off. Every workflow runs in act for every event a new
repository sees: a push to main, pull requests (own branch, fork, Dependabot),
the schedule, a dispatch, a ``new-data`` repository dispatch and a ``v*`` tag.
Jobs that do the same for every option (the linters, the test matrix, the
docs site, the template check) run for the default combination; every job
whose behaviour depends on an option runs for each combination where that
option differs: the pipeline job for each DVC remote and Python, a release
with serving on and off, the deploy jobs for each target. Training reaches
the remote through the pipeline job's own step (one macro,
``ci/dvc_remote.j2``), so its run on the default combination covers it.
docs/ci-cd.md states the same contract as a table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.actions_engine import PERSONAL_TOKEN, REPOSITORY, GitHubRepository, Run
from support.helpers import bake, combination_id, combinations

pytestmark = pytest.mark.slow

COMBINATIONS = combinations()
DEFAULT = COMBINATIONS[0]
# The first combination of each (serving, deploy_target): publish.yml differs by them.
PUBLISHING: dict[tuple[bool, str], dict] = {}
for _answers in COMBINATIONS:
    PUBLISHING.setdefault((_answers["serving"], _answers["deploy_target"]), _answers)

# What each remote type's notice must name when nothing is set up.
REMOTE_NOTICE = {
    "local": "out of CI's reach",
    "none": "no DVC remote yet",
    "s3": "AWS_ROLE_ARN AWS_REGION",
    "gs": "GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT",
    "azure": "AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID",
    "ssh": "DVC_SSH_KEY DVC_SSH_KNOWN_HOSTS DVC_SSH_USER",
    "http": "DVC_HTTP_USER DVC_HTTP_PASSWORD",
}
DEPLOY_NOTICE = {
    "fly": "FLY_API_TOKEN secret of the {} environment",
    "cloud-run": "GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT CLOUD_RUN_REGION",
    "azure-container-apps": (
        "AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID CONTAINER_APPS_RESOURCE_GROUP"
    ),
}


def new_repository(root: Path, answers: dict, locked: bool = True) -> GitHubRepository:
    """The template baked with ``answers`` and pushed to a new GitHub repository
    (``locked``: after the team committed the uv.lock of its first ``make setup``)."""
    project = bake(root / "bake", **answers)
    return GitHubRepository(project, root / "github", locked=locked)


def assert_green(run: Run) -> None:
    """Every job that ran succeeded (a job whose condition is false is skipped)."""
    failed = {name: job.result for name, job in run.jobs.items() if job.result != "success"}
    assert run.returncode == 0 and not failed, run.describe()


def notices(run: Run, job: str) -> str:
    """Every notice of one job, as one text."""
    return "\n".join(run[job].notices)


FIRST_PUSHES = [pytest.param(c, id=combination_id(c)) for c in COMBINATIONS]


@pytest.mark.parametrize("answers", FIRST_PUSHES)
def test_a_new_repository_is_green_with_notices(tmp_path: Path, answers: dict) -> None:
    repo = new_repository(tmp_path, answers, locked=False)
    remote_notice = REMOTE_NOTICE[answers["dvc_remote"]]
    oldest = {"python-version": answers["python_version"]}
    is_default = answers == DEFAULT

    # Push to main: the pipeline job says why it used the embedded data.
    run = repo.run("testing.yml", "push", matrix=oldest, job=None if is_default else "pipeline")
    assert_green(run)
    assert remote_notice in notices(run, "pipeline")
    # The bake is offline, so its first commit has no uv.lock: make setup writes one.
    assert "commit it (git add uv.lock)" in notices(run, "pipeline")
    if is_default:
        assert {"pre-commit", "tests", "pipeline"} <= set(run.jobs)

    # A release tag: gate, packages, release and, with serving, the image.
    # Once with serving on and once with it off.
    target = answers["deploy_target"]
    if target == "none" and answers == PUBLISHING[(answers["serving"], target)]:
        repo.push("refs/tags/v0.1.0")
        run = repo.run("publish.yml", "push", ref="refs/tags/v0.1.0")
        assert_green(run)
        assert repo.github["releases"]["v0.1.0"]["assets"]

    # Each deploy target skips both environments with a notice naming its
    # settings. The deploy jobs are the same after a tag and when run by hand
    # (a redeploy), so they run by hand here; a configured release deploys
    # from its tag in test_workflow_publish.py and test_deploy_container_apps.py.
    if target != "none" and answers == PUBLISHING[(answers["serving"], target)]:
        for environment in ("staging", "production"):
            inputs = {"version": "v0.1.0", "environment": environment}
            run = repo.run("publish.yml", "workflow_dispatch", inputs=inputs)
            assert_green(run)
            assert DEPLOY_NOTICE[target].format(environment) in notices(
                run, f"deploy-{environment}"
            )


# The workflows whose jobs do the same for every option: the default
# combination only, each a test of its own (the scheduler spreads them).


def first_run(root: Path, workflow: str, event: str) -> tuple[GitHubRepository, Run]:
    """``workflow``'s green run for ``event`` on a new repository of the default bake."""
    repo = new_repository(root, DEFAULT, locked=False)
    run = repo.run(workflow, event)
    assert_green(run)
    return repo, run


def test_a_new_repository_builds_the_site_and_names_the_pages_setting(tmp_path: Path) -> None:
    # The site is built; Pages is off, so it is not published, and says so.
    _, run = first_run(tmp_path, "documentation.yml", "push")
    setting = "Settings > Pages > Build and deployment > Source: GitHub Actions"
    assert setting in notices(run, "deploy")


def test_a_new_repository_trains_and_keeps_the_branch_github_refuses_to_propose(
    tmp_path: Path,
) -> None:
    # The first Monday: trained, gate passed; GitHub refuses the pull request,
    # the branch stays pushed and the notice gives the link and both fixes.
    repo, run = first_run(tmp_path, "train.yml", "schedule")
    assert REMOTE_NOTICE[DEFAULT["dvc_remote"]] in notices(run, "train")
    assert "no champion: HEAD records no model yet" in notices(run, "train")
    proposal = notices(run, "propose")
    assert "compare/main...train/retrained-model" in proposal
    assert "Allow GitHub Actions to create and approve pull requests" in proposal
    assert "TRAIN_PR_TOKEN" in proposal
    assert repo.git_origin("rev-parse", "--verify", "refs/heads/train/retrained-model")
    assert repo.github["pulls"] == []


def test_a_new_repository_made_with_cookiecutter_gets_a_warning_not_an_issue(
    tmp_path: Path,
) -> None:
    # Not linked to the template (made with cookiecutter): a warning, no issue.
    repo, run = first_run(tmp_path, "template-update.yml", "schedule")
    assert any("cruft link" in warning for warning in run["update"].warnings)
    assert repo.github["issues"] == []


# A pull request from the repository's own branch: the report test below.
# Both run the pull request's pipeline job with the S3 remote, whose settings
# are secrets a fork must not get. They run it on the default Python: its
# first push on the S3 combination's own Python is tested above, and every
# job on another Python than the shared virtualenv's compiles scikit-learn,
# SciPy and DVC on import (helpers.compile_uv_cache), 15 to 20 s a job here.
S3 = {
    **next(c for c in COMBINATIONS if c["dvc_remote"] == "s3"),
    "python_version": DEFAULT["python_version"],
}


@pytest.mark.parametrize(
    ("head_repo", "actor", "expected"),
    [
        ("fork/ml-project", "dev", "a pull request from a fork gets no secrets"),
        (REPOSITORY, "dependabot[bot]", "Dependabot's runs get no repository secrets"),
    ],
    ids=["fork", "dependabot"],
)
def test_untrusted_pull_requests_are_green_without_the_credentials(
    tmp_path: Path, head_repo: str, actor: str, expected: str
) -> None:
    repo = new_repository(tmp_path, S3)
    base = repo.git_origin("rev-parse", "main")
    # Set up, yet neither a fork nor Dependabot may use the credentials.
    repo.vars.update(AWS_ROLE_ARN="arn:aws:iam::123456789012:role/dvc", AWS_REGION="eu-west-1")
    run = repo.run(
        "testing.yml",
        "pull_request",
        job="pipeline",
        actor=actor,
        head_repo=head_repo,
        base_sha=base,
    )
    assert_green(run)
    assert expected in notices(run, "pipeline")


def test_a_configured_repository_does_the_work(tmp_path: Path) -> None:
    repo = new_repository(tmp_path, DEFAULT)
    repo.github.update(pages={"build_type": "workflow"}, actions_can_create_prs=True)

    run = repo.run("documentation.yml", "push")
    assert_green(run)
    assert not run["deploy"].notices
    assert "index.html" in repo.cloud()["pages_deployments"][0]

    run = repo.run("train.yml", "schedule")
    assert_green(run)
    (pull,) = repo.github["pulls"]
    assert (pull["head"], pull["author"]) == ("train/retrained-model", "github-actions[bot]")
    assert "Retrained model" in pull["body"]

    # With a token of its own, the pull request is opened by the owner's token
    # even where Actions may not open pull requests (and then triggers CI).
    repo.github.update(actions_can_create_prs=False, pulls=[])
    repo.secrets["TRAIN_PR_TOKEN"] = PERSONAL_TOKEN
    run = repo.run("train.yml", "workflow_dispatch", inputs={"force": True})
    assert_green(run)
    (pull,) = repo.github["pulls"]
    assert pull["author"] == "repo-owner"


def test_the_pull_request_report_is_one_comment_updated_in_place(tmp_path: Path) -> None:
    repo = new_repository(tmp_path, S3)
    base = repo.git_origin("rev-parse", "main")
    for push in (1, 2):
        run = repo.run(
            "testing.yml", "pull_request", job="report", base_sha=base, head_ref="feature"
        )
        assert_green(run)
        # The repository's own branch, nothing set up: the remote's settings are named.
        assert REMOTE_NOTICE["s3"] in notices(run, "pipeline")
        (comment,) = repo.github["comments"]
        assert comment["body"].startswith("<!-- pipeline-report -->")
        # Nothing changed in params.yaml: said in words, not as an empty table.
        assert "No parameter changed." in comment["body"]
        assert "The quality gate **passed**" in comment["body"]
        # main's first commit records no model yet.
        assert "no champion:" in comment["body"]
        assert "/artifacts/" in comment["body"]
