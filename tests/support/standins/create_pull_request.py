"""A stand-in for peter-evans/create-pull-request (v8), with GitHub's refusals.

The action commits the workspace's changes on ``branch``, force-pushes it, and
opens a pull request against ``base`` or updates the open one
(https://github.com/peter-evans/create-pull-request, README "Action inputs" and
"Action outputs": ``pull-request-operation`` is ``created``, ``updated`` or
``none`` when nothing changed). The push goes to the fake origin, whose
pre-receive hook applies GitHub's push rules (fake_github.receive); the pull
request goes to the fake GitHub's state.

With the workflow's own token (GITHUB_TOKEN), GitHub checks the job's
``permissions`` (a job's mapping replaces the workflow's, and every scope it
does not list is ``none``; without either, the repository's default, read for
contents and packages since 2023:
https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token):

* no ``contents: write``: git's push is refused, "Permission to <repo>.git
  denied to github-actions[bot]" and HTTP 403;
* no ``pull-requests: write``: the REST call that opens the pull request answers
  403 "Resource not accessible by integration" (peter-evans/create-pull-request#1149);
* "Allow GitHub Actions to create and approve pull requests" off (a new
  repository's default): 403 "GitHub Actions is not permitted to create or
  approve pull requests." (README, "Workflow permissions").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from support.standins.actions import composite_action  # noqa: E402
from support.standins.fake_github import author, new_number  # noqa: E402

ACTION = "peter-evans/create-pull-request"
INPUTS = {
    "token": "${{ github.token }}",
    "branch": "create-pull-request/patch",
    "base": "",
    "title": "Changes by create-pull-request action",
    "body": "Automated changes by create-pull-request GitHub action",
    "body-path": "",
    "commit-message": "[create-pull-request] automated change",
}
OUTPUTS = [
    "pull-request-number",
    "pull-request-url",
    "pull-request-operation",
    "pull-request-head-sha",
    "pull-request-branch",
]
# Scopes GITHUB_TOKEN has when neither the job nor the workflow sets any.
REPOSITORY_DEFAULT = {"contents": "read", "packages": "read"}
SCOPES = ("actions", "checks", "contents", "issues", "packages", "pull-requests", "statuses")


class Refused(Exception):
    """What the action prints as its error before failing the step."""


def inp(name: str) -> str:
    """An input, as a JavaScript action reads it."""
    return os.environ.get(f"INPUT_{name.upper()}", "").strip()


def write_action(directory: Path) -> Path:
    """The composite action.yml that runs this stand-in; its folder (for act)."""
    folder = directory / ACTION.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    run = f'"{sys.executable}" "{Path(__file__).resolve()}"'
    (folder / "action.yml").write_text(composite_action(ACTION, run, INPUTS, OUTPUTS))
    return folder


def token_permissions(workflow: dict, job: str) -> dict[str, str]:
    """The scopes of GITHUB_TOKEN in ``job`` of ``workflow``."""
    granted = workflow["jobs"][job].get("permissions", workflow.get("permissions"))
    if granted is None:
        return dict(REPOSITORY_DEFAULT)
    if granted in ("read-all", "write-all"):
        return {scope: granted.split("-")[0] for scope in SCOPES}
    return {scope: str(level) for scope, level in (granted or {}).items()}


def running_workflow(workspace: Path) -> dict:
    """The workflow of this run, found by its name (GITHUB_WORKFLOW)."""
    for path in sorted((workspace / ".github" / "workflows").glob("*.y*ml")):
        document = yaml.safe_load(path.read_text())
        if document.get("name") == os.environ["GITHUB_WORKFLOW"]:
            return document
    raise Refused(f"stand-in: no workflow named {os.environ['GITHUB_WORKFLOW']}")


def git(*args: str, env: dict[str, str] | None = None) -> str:
    """git in the workspace; a failure is the action's error."""
    done = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=os.environ["GITHUB_WORKSPACE"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise Refused(f"The process '/usr/bin/git' failed with exit code {done.returncode}")
    return done.stdout


def set_outputs(**values: str) -> None:
    """The action's outputs."""
    with open(os.environ["GITHUB_OUTPUT"], "a") as out:
        for key, value in values.items():
            out.write(f"{key}={value}\n")


def run() -> None:
    """Commit, push, open or update the pull request."""
    token = inp("token")
    repository = os.environ["GITHUB_REPOSITORY"]
    workflow_token = token.startswith("ghs_")
    scopes = (
        token_permissions(
            running_workflow(Path(os.environ["GITHUB_WORKSPACE"])), os.environ["GITHUB_JOB"]
        )
        if workflow_token
        else {scope: "write" for scope in SCOPES}
    )
    branch, base = inp("branch"), inp("base") or os.environ.get("GITHUB_REF_NAME", "main")
    git("add", "--all")
    if not git("status", "--porcelain"):
        print("Branch is not ahead of base and will not be created")
        set_outputs(**{"pull-request-operation": "none"})
        return
    git(
        "-c",
        "user.name=github-actions[bot]",
        "-c",
        "user.email=41898282+github-actions[bot]@users.noreply.github.com",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        inp("commit-message"),
    )
    if scopes.get("contents") != "write":
        print(f"remote: Permission to {repository}.git denied to github-actions[bot].")
        print(
            f"fatal: unable to access 'https://github.com/{repository}/': "
            "The requested URL returned error: 403"
        )
        raise Refused("The process '/usr/bin/git' failed with exit code 128")
    git("push", "--force", "origin", f"HEAD:refs/heads/{branch}", env={"GH_TOKEN": token})
    head = git("rev-parse", "HEAD").strip()
    state_path = Path(os.environ["FAKE_GITHUB_STATE"])
    state = json.loads(state_path.read_text())
    body = Path(inp("body-path")).read_text() if inp("body-path") else inp("body")
    open_pulls = [p for p in state["pulls"] if p["head"] == branch and p["state"] == "open"]
    if open_pulls:
        pull, operation = open_pulls[0], "updated"
        pull.update(title=inp("title"), body=body)
    else:
        if workflow_token and scopes.get("pull-requests") != "write":
            raise Refused("Resource not accessible by integration")
        if workflow_token and not state["actions_can_create_prs"]:
            raise Refused("GitHub Actions is not permitted to create or approve pull requests.")
        pull = {
            "number": new_number(state),
            "head": branch,
            "base": base,
            "title": inp("title"),
            "body": body,
            "state": "open",
            "author": author(token),
        }
        state["pulls"].append(pull)
        operation = "created"
    state_path.write_text(json.dumps(state, indent=2))
    set_outputs(
        **{
            "pull-request-number": str(pull["number"]),
            "pull-request-url": f"https://github.com/{repository}/pull/{pull['number']}",
            "pull-request-operation": operation,
            "pull-request-head-sha": head,
            "pull-request-branch": branch,
        }
    )
    print(f"Pull request {operation}: #{pull['number']}")


def main() -> int:
    """Run the stand-in; a refusal is an ::error:: and exit 1, as in the real action."""
    try:
        run()
    except Refused as refusal:
        print(f"::error::{refusal}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
