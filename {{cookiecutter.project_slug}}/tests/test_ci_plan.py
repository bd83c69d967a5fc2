"""Tests for tools/ci_plan.py: the decisions the CI workflows leave to Python."""

from __future__ import annotations

from pathlib import Path

import pytest

import ci_plan

S3 = {
    "GITHUB_REPOSITORY": "team/project",
    "STORAGE_TYPE": "s3",
    "STORAGE_SETTINGS": "AWS_ROLE_ARN AWS_REGION",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci",
    "AWS_REGION": "eu-west-1",
}
FORK = {"HEAD_REPO": "someone/project"}
DEPENDABOT = {"ACTOR": "dependabot[bot]"}


def test_storage_with_every_setting_is_pulled_from_after_its_login() -> None:
    plan = ci_plan.plan_dvc_remote(S3)
    assert (plan.remote, plan.login) == ("storage", "s3")
    assert plan.message == "Pulling from the DVC remote 'storage'."


def test_a_pull_request_from_the_same_repository_uses_the_storage_remote() -> None:
    plan = ci_plan.plan_dvc_remote({**S3, "HEAD_REPO": "team/project"})
    assert plan.remote == "storage"


def test_a_missing_setting_is_named_in_a_notice() -> None:
    plan = ci_plan.plan_dvc_remote({**S3, "AWS_REGION": ""})
    assert (plan.remote, plan.login) == ("", "")
    assert plan.message == (
        "::notice title=DVC remote not used::This run uses the embedded data."
        " To pull from the DVC remote, set AWS_REGION (docs/remotes.md, section In CI)."
    )


@pytest.mark.parametrize(
    ("facts", "why"),
    [
        (
            FORK,
            "a pull request from a fork gets no secrets and no OpenID Connect token",
        ),
        (DEPENDABOT, "Dependabot's runs get no repository secrets"),
    ],
)
def test_a_run_without_secrets_says_why(facts: dict[str, str], why: str) -> None:
    plan = ci_plan.plan_dvc_remote({**S3, **facts})
    assert plan.remote == ""
    assert plan.message == (
        "::notice title=DVC remote not used::This run uses the embedded data:"
        f" {why} (docs/remotes.md, section In CI)."
    )


def test_a_local_storage_remote_is_out_of_reach() -> None:
    plan = ci_plan.plan_dvc_remote({"STORAGE_TYPE": "local", "STORAGE_SETTINGS": ""})
    assert plan.remote == ""
    assert "move it to shared storage" in plan.message


def test_no_remote_at_all_says_to_set_one_up() -> None:
    plan = ci_plan.plan_dvc_remote({"STORAGE_TYPE": "none", "STORAGE_SETTINGS": ""})
    assert plan.remote == ""
    assert "set one up: this project has no DVC remote yet" in plan.message


def test_a_plain_https_read_only_remote_serves_forks_without_a_login() -> None:
    plan = ci_plan.plan_dvc_remote({**S3, **FORK, "READ_TYPE": "http"})
    assert (plan.remote, plan.login) == ("readonly", "")
    assert plan.message == "Pulling from the DVC remote 'readonly'."


def test_a_read_only_remote_with_settings_needs_them_and_secrets() -> None:
    read_only = {
        "STORAGE_TYPE": "local",
        "STORAGE_SETTINGS": "",
        "READ_TYPE": "gs",
        "READ_SETTINGS": "GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT",
        "GCP_WORKLOAD_IDENTITY_PROVIDER": "projects/1/pools/p/providers/g",
        "GCP_SERVICE_ACCOUNT": "reader@project.iam.gserviceaccount.com",
    }
    plan = ci_plan.plan_dvc_remote(read_only)
    assert (plan.remote, plan.login) == ("readonly", "gs")
    assert ci_plan.plan_dvc_remote({**read_only, **FORK}).remote == ""
    assert (
        ci_plan.plan_dvc_remote({**read_only, "GCP_SERVICE_ACCOUNT": ""}).remote == ""
    )


def test_main_writes_the_outputs_to_github_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    output.write_text("earlier=1\n")
    for name in ("HEAD_REPO", "ACTOR", "READ_TYPE", "READ_SETTINGS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**S3, "GITHUB_OUTPUT": str(output)}.items():
        monkeypatch.setenv(name, value)
    assert ci_plan.main(["dvc-remote"]) == 0
    assert output.read_text() == "earlier=1\nremote=storage\nlogin=s3\n"
    assert capsys.readouterr().out == "Pulling from the DVC remote 'storage'.\n"


def test_a_deploy_with_its_settings_is_ready_without_a_notice() -> None:
    settings = {"ENVIRONMENT": "staging", "REQUIRED_SECRETS": "FLY_API_TOKEN"}
    assert ci_plan.plan_deploy({**settings, "FLY_API_TOKEN": "fo1_token"}) == (True, "")


def test_a_missing_secret_is_named_with_its_environment() -> None:
    settings = {"ENVIRONMENT": "production", "REQUIRED_SECRETS": "FLY_API_TOKEN"}
    assert ci_plan.plan_deploy(settings) == (
        False,
        "::notice title=Not deployed to production::Set the FLY_API_TOKEN secret of"
        " the production environment to deploy there (docs/serving.md, section"
        " Deployment).",
    )


def test_only_the_missing_variables_are_named() -> None:
    settings = {
        "ENVIRONMENT": "staging",
        "REQUIRED_VARIABLES": "GCP_SERVICE_ACCOUNT CLOUD_RUN_REGION",
        "GCP_SERVICE_ACCOUNT": "deployer@project.iam.gserviceaccount.com",
    }
    ready, notice = ci_plan.plan_deploy(settings)
    assert not ready
    asked = "Set the variables CLOUD_RUN_REGION (repository or staging environment)"
    assert asked in notice


def test_main_writes_whether_the_deploy_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("REQUIRED_VARIABLES", "CLOUD_RUN_REGION")
    monkeypatch.delenv("CLOUD_RUN_REGION", raising=False)
    monkeypatch.delenv("REQUIRED_SECRETS", raising=False)
    assert ci_plan.main(["deploy"]) == 0
    assert output.read_text() == "ready=false\n"
    assert capsys.readouterr().out.startswith(
        "::notice title=Not deployed to staging::"
    )
