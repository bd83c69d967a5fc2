"""Run a baked project's workflows with a real Actions engine: act, in host mode.

``GitHubRepository`` is a baked project pushed to a fake GitHub: a bare git
repository (what ``actions/checkout`` clones), the repository's settings
(secrets, variables, Pages, whether Actions may open pull requests) and what
the workflows did to it (fake_github.py). ``run()`` feeds act a real event
payload and returns each job's result with the notices, warnings and errors
it printed.

act runs every step on this machine (``-P ubuntu-latest=-self-hosted``, no
Docker); each ``uses:`` is replaced by a stand-in from ``standins/actions.py``
(``--local-repository``), so nothing is ever fetched. The jobs' own commands
are the real ones: ``make setup`` installs with uv from the shared uv cache,
``make test``, ``dvc repro``, ``mkdocs build``, ``uv build`` all run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.helpers import (
    CONTEXT,
    MYPY_CACHE_DIR,
    PRE_COMMIT_HOME,
    STANDINS,
    Baked,
    add_lock_file,
    compile_uv_cache,
    ensure_baked_venv,
    install_uv,
    refuse_in_fast_tier,
)
from support.standins.actions import write_actions
from support.standins.fake_github import PERSONAL_TOKEN, PR_TOKEN, WORKFLOW_TOKEN, Repository

ACT = str(Path(sys.executable).with_name("act"))
OWNER, NAME = "Acme", "ml-project"  # GitHub keeps the case; image names may not
REPOSITORY = f"{OWNER}/{NAME}"
# A runner has every Python a baked project supports; those installed here are linked.
SUPPORTED_PYTHONS = tuple(CONTEXT["_python_versions"])
REAL_HOME = Path.home()
IDENTITY = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"]
# The settings of a repository that has set up the S3 remote (OIDC role) and
# Azure Container Apps, as the docs ask for them.
AWS_VARS = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/dvc", "AWS_REGION": "us-east-1"}
CONTAINER_APPS_VARS = {
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000c1d0",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000007e0",
    "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000005b50",
    "CONTAINER_APPS_RESOURCE_GROUP": "ml-serving",
}
__all__ = [
    "GitHubRepository",
    "JobResult",
    "Run",
    "PERSONAL_TOKEN",
    "PR_TOKEN",
    "REPOSITORY",
    "WORKFLOW_TOKEN",
]


@dataclass
class JobResult:
    """How one job ended (``skipped`` when act never started it) and what it said."""

    result: str = "skipped"
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    def said(self, text: str) -> bool:
        """Whether any notice or output line contains ``text``."""
        return any(text in line for line in self.notices + self.output)


@dataclass
class Run:
    """One workflow run: its jobs by id and act's whole log."""

    returncode: int
    jobs: dict[str, JobResult]
    log: str

    def __getitem__(self, job: str) -> JobResult:
        return self.jobs.get(job, JobResult())

    def describe(self) -> str:
        """Every job's result and messages, for assertion messages."""
        lines = []
        for name, job in self.jobs.items():
            lines.append(f"{name}: {job.result}")
            lines += [f"  notice: {n}" for n in job.notices]
            lines += [f"  warning: {w}" for w in job.warnings]
            lines += [f"  error: {e}" for e in job.errors]
            if job.result == "failure":
                lines += [f"  | {line}" for line in job.output[-40:]]
        return "\n".join(lines)


# Colours and cursor moves: act colours what a step writes to stderr, and uv
# draws progress bars; a line of output is compared without them.
# act's host mode runs a step behind a pseudo-terminal. When the step fails,
# act returns at once (pkg/container/host_environment.go, exec: `cmd.Run()`
# then `return err`) and closes the terminal without reading what is still in
# it, so a failing step's last lines (often its ::error) can be lost; GitHub's
# runner keeps them. Every step's bash reads this file first (BASH_ENV): a
# failing step waits half a second before it exits, so act reads its output.
STEP_EXIT = """\
unset BASH_ENV
trap 'status=$?; [ "$status" -eq 0 ] || sleep 0.5' EXIT
"""

QUEUE_LINE = re.compile(r"^ +queue: max\n", re.M)
ANSI_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def parse(log: str) -> dict[str, JobResult]:
    """act's --json log: one object per line."""
    jobs: dict[str, JobResult] = {}
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        job_id = entry.get("jobID")
        if not job_id:
            continue
        job = jobs.setdefault(job_id, JobResult(result="running"))
        command = entry.get("command")
        if command in ("notice", "warning", "error"):
            getattr(job, command + "s").append(entry.get("arg", "").strip())
        elif entry.get("raw_output"):
            job.output += ANSI_CODES.sub("", entry["msg"]).rstrip("\n").splitlines()
        elif entry.get("level") == "error":
            job.errors.append(entry.get("msg", "").strip())
        if "jobResult" in entry:
            # A matrix reports once per entry: any failure fails the job.
            if job.result != "failure":
                job.result = entry["jobResult"]
    return jobs


def pinned_actions(project: Path, workflow: str) -> set[str]:
    """Every ``owner/repo@sha`` that one workflow and the local actions use."""
    found = set()
    paths = [
        project / ".github" / "workflows" / workflow,
        *(project / ".github").glob("actions/*/action.yml"),
    ]
    for path in paths:
        for match in re.finditer(
            r"uses:\s*([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@([0-9a-f]{40})", path.read_text()
        ):
            found.add(f"{match.group(1)}@{match.group(2)}")
    return found


class GitHubRepository:
    """A baked project on a fake GitHub: origin, settings, and act runs of its workflows."""

    def __init__(self, project: Baked, root: Path, *, locked: bool = True) -> None:
        """``locked``: the team ran ``make setup`` once and committed its uv.lock
        (False: the bake's own first commit, as pushed to a new repository)."""
        self.project = project
        self.root = root
        self.origin = root / "origin.git"
        self.state_dir = root / "state"
        self.tools = root / "tools"
        self.home = root / "home"
        self.secrets: dict[str, str] = {"GITHUB_TOKEN": WORKFLOW_TOKEN}
        self.vars: dict[str, str] = {}
        for path in (self.state_dir, self.home):
            path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "--bare", str(self.origin)], check=True)
        self.git_origin("config", "uploadpack.allowAnySHA1InWant", "true")
        self.git_origin("symbolic-ref", "HEAD", "refs/heads/main")
        # GitHub's refusals of a push (fake_github.receive).
        hook = self.origin / "hooks" / "pre-receive"
        hook.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / "fake_github.py"}" pre-receive\n'
        )
        hook.chmod(0o755)
        self.github = Repository.create(self.state_dir / "github.json", REPOSITORY)
        self.folders = write_actions(root / "actions")
        # The jobs' fresh virtualenvs link compiled bytecode from uv's cache.
        compile_uv_cache(ensure_baked_venv())
        self.install_tools()
        if locked and not (project.path / "uv.lock").exists():
            add_lock_file(project)
            self.commit("Lock the dependencies (uv.lock from make setup)", paths=["uv.lock"])
        self.push("main")

    # --- set-up -----------------------------------------------------------

    def install_tools(self) -> None:
        """gh, flyctl, az, uv and the supported Pythons as the jobs find them on PATH."""
        for sub in ("bin", "fly", "uv"):
            (self.tools / sub).mkdir(parents=True, exist_ok=True)
        # A GitHub runner has every supported Python for uv to pick (UV_PYTHON);
        # here they live under pyenv, whose shims hide all but one.
        for version in SUPPORTED_PYTHONS:
            found = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
            if found:
                os.symlink(found[-1], self.tools / "bin" / f"python{version}")
        shutil.copy(STANDINS / "actions.py", self.tools / "actions.py")
        for name, script, directory in (
            ("gh", "fake_github.py", "bin"),
            ("flyctl", "flyctl.py", "fly"),
            ("az", "az.py", "bin"),  # GitHub's runners have the Azure CLI installed
        ):
            wrapper = self.tools / directory / name
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDINS / script}" "$@"\n')
            wrapper.chmod(0o755)
        install_uv(self.tools / "uv")

    def git_origin(self, *args: str) -> str:
        """git in the bare origin."""
        return subprocess.run(
            ["git", "-C", str(self.origin), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def push(self, ref: str, source: Path | None = None) -> str:
        """Push the project's HEAD (or ``source``'s) to ``ref`` of origin; return its SHA."""
        where = source or self.project.path
        target = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
        subprocess.run(
            ["git", "-C", str(where), "push", "-q", "--force", str(self.origin), f"HEAD:{target}"],
            check=True,
            capture_output=True,
        )
        return subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(
        self, message: str, source: Path | None = None, paths: list[str] | None = None
    ) -> None:
        """Commit every change in the project (or just ``paths``) as its developer would."""
        where = source or self.project.path
        subprocess.run(["git", "-C", str(where), "add", *(paths or ["-A"])], check=True)
        subprocess.run(
            ["git", "-C", str(where), *IDENTITY, "commit", "-q", "--no-verify", "-m", message]
            + (["--", *paths] if paths else []),
            check=True,
        )

    def cloud(self) -> dict:
        """What the stand-ins recorded outside GitHub: images, apps, deployments."""
        path = self.state_dir / "cloud.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # --- events -----------------------------------------------------------

    @staticmethod
    def repository_payload() -> dict:
        """The ``repository`` object of the events that carry one."""
        return {
            "full_name": REPOSITORY,
            "name": NAME,
            "owner": {"login": OWNER},
            "default_branch": "main",
            "clone_url": f"https://github.com/{OWNER}/{NAME}.git",
        }

    @staticmethod
    def payload(event: str, sha: str, **extra) -> dict:
        """The event's payload as GitHub sends it (the fields the workflows and act
        read), the one place where each event's shape is written.

        Every webhook event that starts these workflows carries ``repository``
        and ``sender`` (https://docs.github.com/en/webhooks/webhook-events-and-payloads)
        except ``schedule``, whose payload is its cron alone: "When running on a
        schedule, the event payload does not contain any repository information
        such as the default branch name" (github/codeql-action#1211; also
        letsencrypt/boulder#6209, docker/metadata-action#184). A workflow reads
        what every event carries (``github.ref``, ``github.repository``).
        """
        if event == "schedule":
            extra.pop("ref", None)
            extra.pop("actor", None)
            return {"schedule": extra.pop("cron", "17 3 * * 1"), **extra}
        base: dict[str, Any] = {
            "repository": GitHubRepository.repository_payload(),
            "sender": {"login": extra.pop("actor", "dev")},
        }
        if event == "push":
            ref = extra.pop("ref", "refs/heads/main")
            base.update(ref=ref, after=sha, before="0" * 40, head_commit={"id": sha})
        elif event == "pull_request":
            head_repo = extra.pop("head_repo", REPOSITORY)
            base.update(
                action="opened",
                number=extra.pop("number", 7),
                pull_request={
                    "number": 7,
                    "head": {
                        "sha": sha,
                        "ref": extra.pop("head_ref", "feature"),
                        "repo": {"full_name": head_repo},
                    },
                    "base": {
                        "sha": extra.pop("base_sha"),
                        "ref": "main",
                        "repo": GitHubRepository.repository_payload(),
                    },
                },
            )
        elif event == "workflow_dispatch":
            base.update(ref="refs/heads/main", inputs=extra.pop("inputs", {}))
        elif event == "repository_dispatch":
            base.update(
                action=extra.pop("event_type", "new-data"),
                client_payload=extra.pop("client_payload", {}),
            )
        elif event == "release":
            tag = extra.pop("tag")
            base.update(action="published", release={"tag_name": tag, "name": tag})
        base.update(extra)
        return base

    # --- runs -------------------------------------------------------------

    def run(
        self,
        workflow: str,
        event: str,
        *,
        sha: str | None = None,
        ref: str = "refs/heads/main",
        job: str | None = None,
        actor: str = "dev",
        matrix: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        **payload,
    ) -> Run:
        """Run one workflow for one event with act; return the jobs' results."""
        refuse_in_fast_tier("act")
        sha = sha or self.git_origin("rev-parse", "refs/heads/main")
        source = self.root / "act-source"
        shutil.rmtree(source, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(self.origin), str(source)], check=True)
        subprocess.run(["git", "-C", str(source), "checkout", "-q", sha], check=True)
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "main"
        subprocess.run(["git", "-C", str(source), "checkout", "-q", "-B", branch], check=True)
        subprocess.run(
            [
                "git",
                "-C",
                str(source),
                "remote",
                "set-url",
                "origin",
                f"https://github.com/{OWNER}/{NAME}.git",
            ],
            check=True,
        )
        # act 0.2.89 does not know GitHub's self-repository syntax yet
        # (`uses: $/path`, the commit that is running): give it the older
        # `./path` form, which resolves to the same files here.
        # Nor the queue of a concurrency group (`queue: max`, GitHub changelog
        # 2026-05-07), whose schema check then refuses the whole workflow: act
        # runs one job at a time here and ignores concurrency, so dropping the
        # key changes nothing it does.
        for path in (source / ".github" / "workflows").glob("*.yml"):
            text = path.read_text().replace("uses: $/", "uses: ./")
            path.write_text(QUEUE_LINE.sub("", text))
        event_file = self.root / "event.json"
        step_exit = self.root / "step-exit.sh"
        step_exit.write_text(STEP_EXIT)
        event_file.write_text(json.dumps(self.payload(event, sha, ref=ref, actor=actor, **payload)))
        shutil.rmtree(self.state_dir / "artifacts", ignore_errors=True)
        command = [
            ACT,
            event,
            "-W",
            f".github/workflows/{workflow}",
            "-e",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--json",
            "--actor",
            actor,
            "--no-cache-server",
            # Clone with the checkout stand-in, as GitHub does, instead of
            # act's copy of the local files.
            "--no-skip-checkout",
            "--concurrent-jobs",
            "1",
            "--env",
            f"STANDIN_ORIGIN={self.origin}",
            "--env",
            f"STANDIN_STATE={self.state_dir}",
            "--env",
            f"STANDIN_TOOLS={self.tools}",
            "--env",
            f"STANDIN_UV_DIR={self.tools / 'uv'}",
            "--env",
            f"FAKE_GITHUB_STATE={self.github.path}",
            "--env",
            f"BASH_ENV={step_exit}",
        ]
        if job:
            command += ["-j", job]
        for key, value in (matrix or {}).items():
            command += ["--matrix", f"{key}:{value}"]
        for key, value in self.secrets.items():
            command += ["-s", f"{key}={value}"]
        for key, value in self.vars.items():
            command += ["--var", f"{key}={value}"]
        for key, value in (env or {}).items():
            command += ["--env", f"{key}={value}"]
        for action in sorted(pinned_actions(source, workflow)):
            repo = action.split("@")[0]
            if repo not in self.folders:
                raise AssertionError(f"no stand-in for {action}: act would fetch it")
            command += ["--local-repository", f"{action}={self.folders[repo]}"]
        result = subprocess.run(
            command,
            cwd=source,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        log = result.stdout + result.stderr
        (self.root / f"act-{workflow}-{event}.log").write_text(log)
        return Run(result.returncode, parse(log), log)

    def environment(self) -> dict[str, str]:
        """What a GitHub-hosted runner has: a HOME, tools on PATH, no outer virtualenv."""
        outer = str(Path(sys.executable).parent)
        path = [p for p in os.environ["PATH"].split(os.pathsep) if p != outer]
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
        }
        env.update(
            HOME=str(self.home),
            PATH=os.pathsep.join([str(self.tools / "bin"), *path]),
            # The test run's own uv cache (the real HOME's), warm for every run.
            UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(REAL_HOME / ".cache" / "uv")),
            UV_PYTHON_DOWNLOADS="never",
            PRE_COMMIT_HOME=str(PRE_COMMIT_HOME),
            MYPY_CACHE_DIR=str(MYPY_CACHE_DIR),
            DVC_NO_ANALYTICS="1",
            CI="true",
        )
        return env


def workflow_jobs(project: Path, workflow: str) -> dict:
    """The ``jobs`` mapping of one baked workflow."""
    return yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())["jobs"]
