"""GitHub's side of one repository, as the baked workflows see it through ``gh``.

The state lives in a JSON file (``FAKE_GITHUB_STATE``): the repository's
settings (is Pages set up, may GitHub Actions open pull requests, which tokens
exist) and what the workflows did to it (pull requests, issues, comments,
releases). Run as a program it is a ``gh`` for the subset of commands the
workflows use, and it answers as GitHub does, refusals included:

- ``gh api repos/O/R/pages``: 404 until Pages is set up;
- ``gh pr create`` with the workflow's own token while "Allow GitHub Actions to
  create and approve pull requests" is off: GitHub's GraphQL refusal;
- ``gh workflow run NAME``: GitHub's 404 when main has no such workflow and
  its 422 when the workflow has no ``workflow_dispatch`` trigger (read from
  the origin's main, ``STANDIN_ORIGIN``); else the dispatch is recorded;
- any call without a token: gh's own message, exit 4.

Run as the origin's ``pre-receive`` hook, it refuses what GitHub refuses of a
push: a ref update whose diff creates or changes a file of
``.github/workflows/``, from a token that may not write workflows
(GITHUB_TOKEN never may), with GitHub's message; deleting a branch closes its
open pull request.

Tests build and read the state with :class:`Repository`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# The workflow's own token (GITHUB_TOKEN) starts with ghs_; anything else is a
# personal or app token that a repository owner stored as a secret.
WORKFLOW_TOKEN = "ghs_workflow_token"
# A fine-grained token with Contents, Pull requests and Workflows (read and
# write): what TEMPLATE_UPDATE_TOKEN needs (docs/updating.md).
PERSONAL_TOKEN = "github_pat_owner_token"
# A fine-grained token with Contents and Pull requests only.
PR_TOKEN = "github_pat_contents_and_pull_requests"
# Tokens that may create or update files under .github/workflows/. GITHUB_TOKEN
# never may: `workflows` is not among its permissions
# (https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication#permissions-for-the-github_token).
MAY_WRITE_WORKFLOWS = {PERSONAL_TOKEN}
# GitHub's refusal of a ref update whose diff creates or changes a workflow
# file, from a token that may not: for GITHUB_TOKEN (an app's installation
# token) repo-sync/github-sync#23, peter-evans/create-pull-request#1234; for a
# personal access token peter-evans/create-pull-request#3510 (the bot's second
# pull request, once main had changed a workflow since its first branch).
REFUSED_WORKFLOW_UPDATE = {
    "app": "refusing to allow a GitHub App to create or update workflow `{}` without"
    " `workflows` permission",
    "pat": "refusing to allow a Personal Access Token to create or update workflow `{}`"
    " without `workflow` scope",
}
REFUSED_PR = (
    "pull request create failed: GraphQL: GitHub Actions is not permitted to create or "
    "approve pull requests (createPullRequest)"
)
NO_TOKEN = (
    "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment "
    "variable. Example:\n  env:\n    GH_TOKEN: ${{ github.token }}"
)


def new_state(repository: str) -> dict:
    """A brand-new repository: nothing set up, GitHub's defaults."""
    return {
        "repository": repository,
        "pages": None,
        "actions_can_create_prs": False,
        "next_number": 1,
        "pulls": [],
        "issues": [],
        "comments": [],
        "releases": {},
        "dispatches": [],
        "calls": [],
    }


@dataclass
class Repository:
    """The JSON state file of one fake repository."""

    path: Path

    @classmethod
    def create(cls, path: Path, repository: str = "Acme/ml-project") -> Repository:
        """A new repository with GitHub's defaults."""
        path.write_text(json.dumps(new_state(repository), indent=2))
        return cls(path)

    def load(self) -> dict:
        """The whole state."""
        return json.loads(self.path.read_text())

    def update(self, **changes) -> None:
        """Change settings (``pages={"build_type": "workflow"}``, ...)."""
        state = self.load()
        state.update(changes)
        self.path.write_text(json.dumps(state, indent=2))

    def __getitem__(self, key: str):
        return self.load()[key]


class GhError(Exception):
    """A refusal: the message gh prints and its exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def option(args: list[str], *names: str, default: str | None = None) -> str | None:
    """The value after the first of ``names`` in ``args`` (removing both)."""
    for name in names:
        if name in args:
            index = args.index(name)
            value = args[index + 1]
            del args[index : index + 2]
            return value
    return default


def flag(args: list[str], name: str) -> bool:
    """Whether ``name`` is in ``args`` (removing it)."""
    if name in args:
        args.remove(name)
        return True
    return False


def body_of(args: list[str]) -> str:
    """The body given with --body or --body-file."""
    path = option(args, "--body-file", "-F")
    if path is not None:
        return Path(path).read_text()
    return option(args, "--body", "-b", default="") or ""


def new_number(state: dict) -> int:
    """Issues and pull requests share one sequence of numbers."""
    number = state["next_number"]
    state["next_number"] += 1
    return number


def author(token: str) -> str:
    """Who a token acts as."""
    return "github-actions[bot]" if token.startswith("ghs_") else "repo-owner"


def api(state: dict, args: list[str], token: str):
    """``gh api``: the REST endpoints the workflows call."""
    method = option(args, "--method", "-X", default="GET")
    flag(args, "--paginate")
    fields = {}
    while "-F" in args or "-f" in args:
        raw = option(args, "-F", "-f") or ""
        key, _, value = raw.partition("=")
        fields[key] = Path(value[1:]).read_text() if value.startswith("@") else value
    path = args[0].removeprefix("/")
    repo = f"repos/{state['repository']}"
    if path == f"{repo}/pages":
        if state["pages"] is None:
            raise GhError("gh: Not Found (HTTP 404)")
        return state["pages"]
    if path.startswith(f"{repo}/issues/") and path.endswith("/comments"):
        number = int(path.split("/")[-2])
        if method == "POST":
            return add_comment(state, number, fields["body"], token)
        return [c for c in state["comments"] if c["issue"] == number]
    if path.startswith(f"{repo}/issues/comments/") and method == "PATCH":
        comment_id = int(path.split("/")[-1])
        for comment in state["comments"]:
            if comment["id"] == comment_id:
                comment["body"] = fields["body"]
                return comment
        raise GhError("gh: Not Found (HTTP 404)")
    raise GhError(f"fake gh: endpoint not modelled: {method} {path}")


def add_comment(state: dict, number: int, body: str, token: str) -> dict:
    """A comment on an issue or a pull request."""
    comment = {
        "id": 1000 + len(state["comments"]),
        "issue": number,
        "body": body,
        "user": {"login": author(token)},
    }
    state["comments"].append(comment)
    return comment


def comment(state: dict, args: list[str], token: str) -> str:
    """``gh pr comment N`` and ``gh issue comment N``: one comment, no output."""
    add_comment(state, int(args.pop(0)), body_of(args), token)
    return ""


def pr(state: dict, args: list[str], token: str):
    """``gh pr create|list|comment``."""
    verb = args.pop(0)
    if verb == "create":
        head = option(args, "--head", "-H")
        # An empty or missing --base is the default branch
        # (cli/cli pkg/cmd/pr/create/create.go: `if baseBranch == ""`).
        base = option(args, "--base", "-B") or "main"
        title = option(args, "--title", "-t")
        body = body_of(args)
        if token.startswith("ghs_") and not state["actions_can_create_prs"]:
            raise GhError(REFUSED_PR)
        number = new_number(state)
        state["pulls"].append(
            {
                "number": number,
                "head": head,
                "base": base,
                "title": title,
                "body": body,
                "state": "open",
                "author": author(token),
            }
        )
        return f"https://github.com/{state['repository']}/pull/{number}\n"
    if verb == "list":
        head = option(args, "--head", "-H")
        wanted = option(args, "--state", "-s", default="open")
        option(args, "--json")
        return [
            {"number": p["number"], "title": p["title"]}
            for p in state["pulls"]
            if (head is None or p["head"] == head) and (wanted == "all" or p["state"] == wanted)
        ]
    if verb == "comment":
        return comment(state, args, token)
    raise GhError(f"fake gh: pr {verb} not modelled")


def issue(state: dict, args: list[str], token: str):
    """``gh issue create|list|comment``."""
    verb = args.pop(0)
    if verb == "create":
        title = option(args, "--title", "-t")
        number = new_number(state)
        state["issues"].append(
            {"number": number, "title": title, "body": body_of(args), "state": "open"}
        )
        return f"https://github.com/{state['repository']}/issues/{number}\n"
    if verb == "list":
        # gh lists open issues unless --state says otherwise (open|closed|all):
        # https://cli.github.com/manual/gh_issue_list
        wanted = option(args, "--state", "-s", default="open")
        option(args, "--limit", "-L")
        option(args, "--json")
        return [
            {"number": i["number"], "title": i["title"]}
            for i in state["issues"]
            if wanted == "all" or i["state"] == wanted
        ]
    if verb == "comment":
        return comment(state, args, token)
    raise GhError(f"fake gh: issue {verb} not modelled")


def release(state: dict, args: list[str], token: str):
    """``gh release view|create|upload``."""
    verb = args.pop(0)
    tag = args.pop(0)
    releases = state["releases"]
    if verb == "view":
        option(args, "--json")
        if tag not in releases:
            raise GhError("release not found")
        return {"assets": [{"name": name} for name in releases[tag]["assets"]]}
    if verb == "create":
        option(args, "--title", "-t")
        releases[tag] = {"assets": [], "by": author(token)}
        return f"https://github.com/{state['repository']}/releases/tag/{tag}\n"
    if verb == "upload":
        flag(args, "--clobber")
        if tag not in releases:
            raise GhError("release not found")
        for path in args:
            name = Path(path).name
            if name not in releases[tag]["assets"]:
                releases[tag]["assets"].append(name)
            state.setdefault("uploads", {})[f"{tag}/{name}"] = Path(path).read_bytes().hex()[:64]
        return ""
    raise GhError(f"fake gh: release {verb} not modelled")


def workflow(state: dict, args: list[str], token: str) -> str:
    """``gh workflow run NAME [--ref REF] [-f key=value ...]``: start a workflow."""
    import subprocess

    import yaml

    verb = args.pop(0)
    if verb != "run":
        raise GhError(f"fake gh: workflow {verb} not modelled")
    ref = option(args, "--ref", "-r", default="main")
    inputs = {}
    while "-f" in args or "--field" in args or "-F" in args:
        key, _, value = (option(args, "-f", "--field", "-F") or "").partition("=")
        inputs[key] = value
    name = args.pop(0)
    shown = subprocess.run(
        ["git", "-C", os.environ["STANDIN_ORIGIN"], "show", f"{ref}:.github/workflows/{name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        raise GhError(f"could not find any workflows named {name}")
    document = yaml.safe_load(shown.stdout)
    if "workflow_dispatch" not in (document.get("on", document.get(True)) or {}):
        raise GhError(
            "could not create workflow dispatch event: HTTP 422: Workflow does not have"
            " 'workflow_dispatch' trigger"
        )
    state["dispatches"].append(
        {"workflow": name, "ref": ref, "inputs": inputs, "by": author(token)}
    )
    return f"✓ Created workflow_dispatch event for {name} at {ref}\n"


def git_lines(*args: str) -> list[str]:
    """git in the repository that receives a push (the hook's GIT_DIR)."""
    import subprocess

    found = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return found.stdout.split() if found.returncode == 0 else []


def workflow_changes(old: str, new: str, ref: str) -> list[str]:
    """The workflow files a ref update creates or changes: the diff from the old
    tip (from main for a new ref, whose commits main already has)."""
    zero = "0" * 40
    if old == zero:
        base = git_lines("merge-base", new, "refs/heads/main")
        old = base[0] if base else git_lines("hash-object", "-t", "tree", "/dev/null")[0]
    return git_lines("diff", "--name-only", old, new, "--", ".github/workflows/")


def receive(lines: list[str]) -> int:
    """The origin's pre-receive hook: GitHub's rules for a pushed ref update.

    The pushing job's token is its GH_TOKEN (what `gh auth setup-git` gives
    git); a push without one is a person's, who may change anything.
    """
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN") or ""
    zero = "0" * 40
    deleted = []
    for line in lines:
        old, new, ref = line.split()
        if new == zero:
            deleted.append(ref.removeprefix("refs/heads/"))
            continue
        if not token or token in MAY_WRITE_WORKFLOWS:
            continue
        changed = workflow_changes(old, new, ref)
        if changed:
            kind = "app" if token.startswith("ghs_") else "pat"
            # GitHub gives it as the reason of "! [remote rejected]"; a hook's
            # words reach the pusher as "remote: ..." lines.
            print(REFUSED_WORKFLOW_UPDATE[kind].format(changed[0]), file=sys.stderr)
            return 1
    state_path = os.environ.get("FAKE_GITHUB_STATE")
    if deleted and state_path:
        # Deleting the head branch of an open pull request closes it
        # (https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/proposing-changes-to-your-work-with-pull-requests/creating-and-deleting-branches-within-your-repository).
        state = json.loads(Path(state_path).read_text())
        for pull in state["pulls"]:
            if pull["head"] in deleted and pull["state"] == "open":
                pull["state"] = "closed"
        Path(state_path).write_text(json.dumps(state, indent=2))
    return 0


def run(argv: list[str]) -> int:
    """Run one gh command against the state file; print as gh does."""
    if argv[:1] == ["pre-receive"]:
        return receive(sys.stdin.read().splitlines())
    state_path = Path(os.environ["FAKE_GITHUB_STATE"])
    state = json.loads(state_path.read_text())
    args = list(argv)
    state["calls"].append(args[:])
    if args[:1] == ["auth"]:
        state_path.write_text(json.dumps(state, indent=2))
        return 0
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN") or ""
    jq_filter = option(args, "--jq", "-q")
    flag(args, "--verify-tag")
    flag(args, "--generate-notes")
    try:
        if not token:
            raise GhError(NO_TOKEN, 4)
        command = args.pop(0)
        handlers = {"api": api, "pr": pr, "issue": issue, "release": release, "workflow": workflow}
        handler = handlers[command]
        result = handler(state, args, token)
    except GhError as error:
        state_path.write_text(json.dumps(state, indent=2))
        print(error, file=sys.stderr)
        return error.code
    state_path.write_text(json.dumps(state, indent=2))
    if isinstance(result, str):
        sys.stdout.write(result)
    elif jq_filter:
        import jq

        for value in jq.compile(jq_filter).input_value(result).all():
            print(value if isinstance(value, str) else json.dumps(value))
    else:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
