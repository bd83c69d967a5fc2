"""Decisions of the CI workflows, made here rather than in their shell scripts.

    python3 tools/ci_plan.py dvc-remote   # which DVC remote this run pulls from
    python3 tools/ci_plan.py deploy       # whether a deploy job deploys, or skips

Each command reads the run's facts and the project's settings from environment
variables (the step's ``env:``), writes its answer to ``$GITHUB_OUTPUT`` as
``key=value`` lines (or prints them outside GitHub Actions), and says in the
log why, with a notice naming the missing setting when it skips something.
Standard library only: it runs with the runner's python3, before or without
the project's virtualenv.

``dvc-remote`` (.github/actions/dvc-remote) chooses the remote a job pulls from:

* ``storage`` when this run may log in to it: its settings are all set
  (``STORAGE_SETTINGS``, the names of the variables and secrets it reads), and
  the run is neither a fork's pull request nor Dependabot's, which get no
  secrets;
* else ``readonly`` when the project has a read-only remote (``READ_TYPE``)
  that this run can read: plain HTTPS always, another type with its settings
  (``READ_SETTINGS``) set, under the same rule as ``storage``;
* else none: the pipeline runs from the embedded data, and a notice says why
  and what to set (docs/remotes.md).

``login`` names the remote type whose login step runs (s3, gs, azure, ssh,
http), empty when none does.

``deploy`` (.github/actions/deploy) says whether one environment is set up:
``ready=true`` when the deploy target's required settings
(``REQUIRED_SECRETS``, ``REQUIRED_VARIABLES``) are all set, else
``ready=false`` with a notice that names the missing ones (docs/serving.md).
A deploy that is not set up is skipped, never failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

DOCS = "docs/remotes.md, section In CI"
NOTICE_TITLE = "DVC remote not used"
DEPLOY_DOCS = "docs/serving.md, section Deployment"


@dataclass(frozen=True)
class RemotePlan:
    """The remote a run pulls from, the login it needs, and what the log says."""

    remote: str
    login: str
    message: str


def missing(env: Mapping[str, str], names: str) -> list[str]:
    """The settings among ``names`` (space-separated) that are empty or unset."""
    return [name for name in names.split() if not env.get(name)]


def why_no_secrets(env: Mapping[str, str]) -> str:
    """Why this run gets no secrets: a fork's pull request or Dependabot; else ""."""
    head = env.get("HEAD_REPO", "")
    if head and head != env.get("GITHUB_REPOSITORY", ""):
        return "a pull request from a fork gets no secrets and no OpenID Connect token"
    if env.get("ACTOR") == "dependabot[bot]":
        return "Dependabot's runs get no repository secrets"
    return ""


def storage_todo(env: Mapping[str, str]) -> str:
    """What to do before CI can use the storage remote; "" when it can."""
    storage = env.get("STORAGE_TYPE", "none")
    if env.get("STORAGE_SETTINGS", "").strip():
        names = missing(env, env["STORAGE_SETTINGS"])
        return f"set {' '.join(names)}" if names else ""
    if storage == "local":
        return (
            "move it to shared storage: the storage remote is a directory on a"
            " workstation, out of CI's reach"
        )
    return "set one up: this project has no DVC remote yet"


def plan_dvc_remote(env: Mapping[str, str]) -> RemotePlan:
    """The remote this run pulls from (storage, readonly or none), and why."""
    why = why_no_secrets(env)
    todo = storage_todo(env)
    read_type = env.get("READ_TYPE", "")
    if not why and not todo:
        storage = env.get("STORAGE_TYPE", "")
        return RemotePlan("storage", storage, "Pulling from the DVC remote 'storage'.")
    if read_type == "http":
        # The read-only remote is plain HTTPS: anyone may read it, forks included.
        return RemotePlan("readonly", "", "Pulling from the DVC remote 'readonly'.")
    if read_type and not why and not missing(env, env.get("READ_SETTINGS", "")):
        return RemotePlan(
            "readonly", read_type, "Pulling from the DVC remote 'readonly'."
        )
    if why:
        message = f"This run uses the embedded data: {why} ({DOCS})."
    else:
        message = (
            "This run uses the embedded data. To pull from the DVC remote,"
            f" {todo} ({DOCS})."
        )
    return RemotePlan("", "", f"::notice title={NOTICE_TITLE}::{message}")


def plan_deploy(env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether this environment is set up to deploy, and the notice when not."""
    environment = env.get("ENVIRONMENT", "")
    secrets = missing(env, env.get("REQUIRED_SECRETS", ""))
    variables = missing(env, env.get("REQUIRED_VARIABLES", ""))
    asks = []
    if secrets:
        noun = "secrets" if len(secrets) > 1 else "secret"
        asks.append(f"the {' '.join(secrets)} {noun} of the {environment} environment")
    if variables:
        names = " ".join(variables)
        asks.append(f"the variables {names} (repository or {environment} environment)")
    if not asks:
        return True, ""
    title = f"Not deployed to {environment}"
    todo = f"Set {' and '.join(asks)} to deploy there ({DEPLOY_DOCS})."
    return False, f"::notice title={title}::{todo}"


def write_outputs(outputs: Mapping[str, str]) -> None:
    """Step outputs for the next steps: to $GITHUB_OUTPUT, else printed."""
    lines = "".join(f"{key}={value}\n" for key, value in outputs.items())
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(lines)
    else:
        print(lines, end="")


def main(argv: list[str] | None = None) -> int:
    """Run one decision and write its outputs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=["dvc-remote", "deploy"])
    command = parser.parse_args(argv).command
    if command == "dvc-remote":
        plan = plan_dvc_remote(os.environ)
        write_outputs({"remote": plan.remote, "login": plan.login})
        print(plan.message)
    else:
        ready, message = plan_deploy(os.environ)
        write_outputs({"ready": "true" if ready else "false"})
        if message:
            print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
