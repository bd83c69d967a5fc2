"""Template updates with cruft never lose a team's work (issue 5).

The template under test is the current working tree. Each module run copies it
into a throwaway git repository (commit A on ``main``); scenarios that need a
newer template commit it on their own branch, through a separate worktree, so
``main`` stays at A and the scenarios do not see each other's changes. Every
cruft and cookiecutter command runs as a subprocess with a private ``TMPDIR``,
so what the renders leave in the temp directory can be checked exactly.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import TEMPLATE_DIR, bake, bake_cli, clean_env, combination_id, combinations
from workflow_runner import Context, JobResult, Runner, Workflow

BIN = Path(sys.executable).parent
SLUG = "ml-project"  # the default project_slug; no test here changes project_name
PROJECT = "{{cookiecutter.project_slug}}"
PACKAGE = f"{PROJECT}/src/{{{{cookiecutter.package_name}}}}"
TEAM = ("-c", "user.name=Team", "-c", "user.email=team@example.com", "-c", "commit.gpgsign=false")
# The files a team owns: `[tool.cruft] skip` in the baked pyproject.toml.
TEAM_OWNED = ("README.md", "docs/model-card.md", "dvc.yaml", "params.yaml", "src", "tests")
# cookiecutter renders each hook into a NamedTemporaryFile(delete=False) and never
# removes it (cookiecutter/hooks.py::run_script_with_context): the only thing a
# render may leave in the temp directory.
COOKIECUTTER_HOOK_FILE = re.compile(r"tmp\w{8}\.py")

WORKFLOW = ".github/workflows/template-update.yml"

Change = Callable[[str], str]


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run git in ``cwd`` with the team's identity available."""
    result = subprocess.run(
        ["git", *TEAM, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert not check or result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result


def append(line: str) -> Change:
    return lambda text: text + line + "\n"


def replace_first_line(line: str) -> Change:
    return lambda text: line + "\n" + text.split("\n", 1)[1]


class Template:
    """A git copy of the template: ``main`` at commit A, one branch per scenario."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def branch(self, name: str) -> None:
        """A branch at commit A that a scenario moves later with ``commit``."""
        git(self.path, "branch", name, "main")

    def commit(self, branch: str, changes: dict[str, Change]) -> str:
        """Commit ``changes`` (template path -> edit) on ``branch``; return the commit."""
        worktree = self.path.parent / f"worktree-{branch}"
        git(self.path, "worktree", "add", "--quiet", str(worktree), branch)
        for relative, change in changes.items():
            file = worktree / relative
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(change(file.read_text() if file.exists() else ""))
        git(worktree, "add", "--all")
        git(worktree, "commit", "--quiet", "-m", f"Template change on {branch}")
        commit = git(worktree, "rev-parse", "HEAD").stdout.strip()
        git(self.path, "worktree", "remove", "--force", str(worktree))
        return commit


# A template release: a changed template-owned file and a new one (rendered).
RELEASE_B: dict[str, Change] = {
    f"{PROJECT}/Makefile": append("# Added by template release B."),
    f"{PROJECT}/.editorconfig": lambda _: (
        "# Editor settings for {{ cookiecutter.project_name }}\nroot = true\n"
    ),
}
RELEASE_B_PATHS = {"Makefile", ".editorconfig", ".cruft.json"}


@pytest.fixture(scope="module")
def temp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TMPDIR of every cruft and cookiecutter command in this module."""
    return tmp_path_factory.mktemp("tmpdir")


@pytest.fixture(scope="module")
def env(temp_root: Path) -> dict:
    """A user's environment: the test tools on PATH, a private temp directory."""
    base = clean_env()
    return clean_env({"TMPDIR": str(temp_root), "PATH": f"{BIN}:{base['PATH']}"})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The working tree's template files (what git would commit), committed as A."""
    path = tmp_path_factory.mktemp("template") / "ml-cicd"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = TEMPLATE_DIR / relative
        if source.is_file():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / relative)
    git(path, "init", "--quiet")
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "A")
    return Template(path)


@pytest.fixture(scope="module")
def default_bake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default bake (cookiecutter API), read only."""
    return bake(tmp_path_factory.mktemp("bake")).path


def cruft(env: dict, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the cruft command line."""
    result = subprocess.run(
        [str(BIN / "cruft"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (
        not check or result.returncode == 0
    ), f"cruft {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def create(env: dict, template: Template, output_dir: Path, *options: str, **answers) -> Path:
    """``cruft create --no-input``, then the documented commit of ``.cruft.json``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    extra = ["--extra-context", json.dumps(answers)] if answers else []
    created = cruft(env, output_dir, "create", "--no-input", *options, *extra, str(template.path))
    project = output_dir / SLUG
    # The hook committed everything before cruft wrote .cruft.json (CR-3), and
    # said how to commit it.
    assert 'git add .cruft.json && git commit -m "Track the template link"' in created.stdout
    assert git(project, "status", "--porcelain").stdout == "?? .cruft.json\n"
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Track the template link")
    assert git(project, "status", "--porcelain").stdout == ""
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a project outside .git, with its content."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".git"
    }


def changed_paths(project: Path) -> set[str]:
    """Paths that differ from HEAD (staged, unstaged or untracked)."""
    status = git(project, "status", "--porcelain", "--untracked-files=all").stdout
    return {line[3:] for line in status.splitlines()}


def diff_paths(diff: str) -> set[str]:
    """The paths a cruft diff touches (both sides of every header)."""
    paths = set()
    for a, b in re.findall(
        r"^diff --git upstream-template-old/(\S+) upstream-template-new/(\S+)$", diff, re.MULTILINE
    ):
        paths |= {a, b}
    return paths


GITHUB = {
    "repository": "owner/project",
    "server_url": "https://github.com",
    "run_id": "1",
    "token": "github-token",
    "workflow": "template-update",
    "event_name": "schedule",
    "event": {},
}


def run_job(
    project: Path,
    env: dict,
    job_id: str,
    *,
    secrets: dict | None = None,
    needs: dict | None = None,
    tool_dirs: tuple[Path, ...] = (BIN,),
    allow_publish: bool = False,
) -> JobResult:
    """Run a job of the baked template-update workflow in ``project``, as GitHub would.

    The project itself is the checkout (full history). The test tools stand in
    for setup-uv and the "Install cruft" step (the same cruft version, see
    test_workflow_updates_with_a_token_and_full_history).
    """
    context = Context(github=GITHUB, secrets=secrets or {}, needs=needs or {})
    runner = Runner(
        project, context, base_env=env, tool_dirs=tool_dirs, allow_publish=allow_publish
    )
    return runner.run_job(
        Workflow(project / WORKFLOW), job_id, only=lambda step: step.get("name") != "Install cruft"
    )


def notify_runs(project: Path, update: JobResult) -> bool:
    """Would GitHub start the notify job after this update job?"""
    context = Context(
        github=GITHUB, needs={"update": {"result": update.result, "outputs": update.outputs}}
    )
    runner = Runner(project, context, base_env={})
    return runner.job_condition(Workflow(project / WORKFLOW), "notify")


def statuses(job: JobResult) -> dict[str, str]:
    """Step id (or name) -> how it went."""
    return {step.id or step.name: f"{step.status}/{step.outcome}" for step in job.steps}


def test_cruft_create_matches_cookiecutter_and_starts_in_sync(
    template: Template, env: dict, tmp_path: Path
) -> None:
    project = create(env, template, tmp_path / "cruft")
    baked = bake_cli(tmp_path / "cookiecutter", template=template.path, env=env)
    assert baked.returncode == 0, baked.stderr
    plain = tmp_path / "cookiecutter" / SLUG

    cruft_files = snapshot(project)
    assert cruft_files.pop(".cruft.json")
    assert cruft_files == snapshot(plain)
    # Both are git repositories on main whose first commit holds every template file.
    for root in (project, plain):
        assert git(root, "branch", "--show-current").stdout == "main\n"
        first = git(root, "rev-list", "--max-parents=0", "HEAD").stdout.strip()
        tracked = git(root, "ls-tree", "-r", "--name-only", first).stdout.split()
        assert set(tracked) == set(cruft_files)
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == git(template.path, "rev-parse", "main").stdout.strip()

    diff = cruft(env, project, "diff", "--exit-code")
    assert diff.stdout == ""
    cruft(env, project, "check", "--checkout", "main")


def test_update_applies_the_template_and_keeps_the_team_work(
    template: Template, env: dict, tmp_path: Path
) -> None:
    template.branch("release-b")
    project = create(env, template, tmp_path / "out", "--checkout", "release-b")
    package = next((project / "src").iterdir()).name

    # The team works: its own files, and two template-owned files.
    team_files = [
        "README.md",
        "docs/model-card.md",
        "dvc.yaml",
        "params.yaml",
        sorted((project / "src" / package).glob("*.py"))[-1].relative_to(project),
        sorted((project / "tests").glob("*.py"))[-1].relative_to(project),
    ]
    for relative in team_files:
        (project / relative).write_text((project / relative).read_text() + "# Team edit.\n")
    (project / "notebooks").mkdir()
    (project / "notebooks/explore.md").write_text("# Exploration\n")
    makefile = project / "Makefile"
    makefile.write_text("# Team note at the top.\n" + makefile.read_text())
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.coverage.run]\nbranch = true\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team work")
    before = snapshot(project)
    diff_before = cruft(env, project, "diff").stdout
    assert diff_paths(diff_before) == {"Makefile", "pyproject.toml"}

    # Release B changes template-owned files, and also every team-owned file,
    # and adds a file inside a skipped directory: none of that may arrive.
    owned = [template.path / PROJECT / name for name in TEAM_OWNED]
    team_owned_changes: dict[str, Change] = {
        p.relative_to(template.path).as_posix(): append("# Changed by template release B.")
        for path in owned
        for p in ([path] if path.is_file() else path.rglob("*"))
        if p.is_file()
    }
    assert len(team_owned_changes) > len(TEAM_OWNED)
    team_owned_changes[f"{PACKAGE}/added_by_b.py"] = lambda _: '"""New in release B."""\n'
    template.commit("release-b", {**RELEASE_B, **team_owned_changes})

    # The scheduled workflow's update job: check, apply, refuse conflicts, then
    # the pull request (an action, which the local runner does not run).
    job = run_job(project, env, "update", secrets={"TEMPLATE_UPDATE_TOKEN": "token"})
    job.assert_success()
    assert job.step("check").outputs["checkout"] == "release-b"
    assert job.outputs == {"outdated": "true", "has-token": "true"}
    assert statuses(job)["apply"] == "ran/success"
    assert statuses(job)["conflicts"] == "ran/success"
    assert statuses(job)["publish-pull-request"] == "skipped-uses/skipped"
    assert not notify_runs(project, job)

    # Exactly the release arrived: its two files and the new template commit.
    assert changed_paths(project) == RELEASE_B_PATHS
    assert not list(project.rglob("*.rej"))
    after = snapshot(project)
    assert after[".editorconfig"] == b"# Editor settings for ML Project\nroot = true\n"
    assert after["Makefile"].startswith(b"# Team note at the top.\n")
    assert after["Makefile"].endswith(b"# Added by template release B.\n")
    unchanged = {k: v for k, v in before.items() if k not in RELEASE_B_PATHS}
    assert {k: after[k] for k in unchanged} == unchanged
    assert set(after) == set(before) | {".editorconfig"}
    update_diff = git(project, "diff", "HEAD", "--name-only").stdout.split()
    assert not [p for p in update_diff if p.startswith(".git/")]
    assert ".git/" not in diff_before

    # Afterwards the project is current, and its diff is the team's edits only.
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Update from the template")
    job = run_job(project, env, "update", secrets={"TEMPLATE_UPDATE_TOKEN": "token"})
    job.assert_success()
    assert job.outputs["outdated"] == "false"
    assert statuses(job)["apply"] == statuses(job)["publish-pull-request"] == "skipped-if/skipped"
    assert not notify_runs(project, job)
    assert diff_paths(cruft(env, project, "diff").stdout) == {"Makefile", "pyproject.toml"}


def test_conflicts_are_reported_and_fail_the_workflow(
    template: Template, env: dict, tmp_path: Path
) -> None:
    template.branch("conflict")
    project = create(env, template, tmp_path / "out", "--checkout", "conflict")
    makefile = project / "Makefile"
    makefile.write_text(replace_first_line("# The team's first line.")(makefile.read_text()))
    git(project, "commit", "--quiet", "--all", "-m", "Team edit")
    template.commit("conflict", {f"{PROJECT}/Makefile": replace_first_line("# The template's.")})
    # A shallow clone lacks the blobs of the three-way merge: cruft falls back to *.rej.
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", project.as_uri(), str(shallow))

    # Full history (the workflow checks out with fetch-depth: 0): conflict markers.
    job = run_job(project, env, "update", secrets={"TEMPLATE_UPDATE_TOKEN": "token"})
    apply, conflicts = job.step("apply"), job.step("conflicts")
    assert apply.outcome == "success"  # cruft itself calls this a success ...
    assert "Applied patch to 'Makefile' with conflicts" in apply.log  # ... but reports it
    assert git(project, "diff", "--name-only", "--diff-filter=U").stdout == "Makefile\n"
    assert "<<<<<<<" in makefile.read_text()
    assert conflicts.outcome == "failure" and job.result == "failure"
    assert "::error::" in conflicts.log and "\nMakefile\n" in conflicts.log
    assert statuses(job)["publish-pull-request"] == "skipped-if/skipped"
    assert notify_runs(project, job)

    # Shallow history: a rejected hunk in Makefile.rej, which the same step refuses.
    job = run_job(shallow, env, "update", secrets={"TEMPLATE_UPDATE_TOKEN": "token"})
    assert "*.rej files" in job.step("apply").log and job.step("apply").outcome == "success"
    assert (shallow / "Makefile.rej").is_file()
    assert job.step("conflicts").outcome == "failure"
    assert "./Makefile.rej" in job.step("conflicts").log

    # And the pre-commit hook refuses to commit it (and only it).
    def rej_hook(path: str) -> subprocess.CompletedProcess:
        command = [str(BIN / "pre-commit"), "run", "forbid-rej-files", "--files", path]
        return subprocess.run(
            command, cwd=shallow, env=env, capture_output=True, text=True, timeout=300
        )

    hook = rej_hook("Makefile.rej")
    assert hook.returncode == 1 and "Failed" in hook.stdout, hook.stdout + hook.stderr
    hook = rej_hook("Makefile")
    assert hook.returncode == 0, hook.stdout + hook.stderr


# Runs cruft's command line with cookiecutter's generate_files wrapped, to record
# what each render looks like right after the hooks ran, before cruft moves it.
SPY = """
import json, sys
from pathlib import Path
import cruft._commands.utils.generate as generate
from cruft._cli import app

renders = []
original = generate.generate_files

def spy(*args, **kwargs):
    project = Path(original(*args, **kwargs))
    renders.append({
        "project": str(project),
        "git": (project / ".git").exists(),
        "siblings": sorted(p.name for p in project.parent.iterdir()),
    })
    return str(project)

generate.generate_files = spy
try:
    app(sys.argv[2:], standalone_mode=False)
finally:
    Path(sys.argv[1]).write_text(json.dumps(renders))
"""


def test_rerenders_have_no_side_effects_outside_their_temp_dir(
    template: Template, env: dict, temp_root: Path, tmp_path: Path
) -> None:
    template.branch("rerender")
    project = create(env, template, tmp_path / "out")
    template.commit("rerender", RELEASE_B)
    spy = tmp_path / "spy.py"
    spy.write_text(SPY)
    outside = sorted(p.name for p in (tmp_path / "out").iterdir())
    temp_before = {p.name for p in temp_root.iterdir()}

    renders = []
    for command in (["diff"], ["update", "--skip-apply-ask", "--checkout", "rerender"]):
        record = tmp_path / "renders.json"
        result = subprocess.run(
            [sys.executable, str(spy), str(record), *command],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        renders += json.loads(record.read_text())

    assert len(renders) == 3  # diff renders once, update twice
    for render in renders:
        assert Path(render["project"]).parent.parent == temp_root
        assert render["git"] is False, f"git init ran in the render {render['project']}"
        # No local DVC remote ({slug}-dvc-storage) or anything else next to it.
        assert render["siblings"] == [SLUG]
    new = {p for p in temp_root.iterdir() if p.name not in temp_before}
    assert all(p.is_file() and COOKIECUTTER_HOOK_FILE.fullmatch(p.name) for p in new), new
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == outside
    assert [p for p in (tmp_path / "out").rglob(".git")] == [project / ".git"]
    assert changed_paths(project) == RELEASE_B_PATHS


def test_cruft_create_in_a_mktemp_directory_is_a_real_bake(
    template: Template, env: dict, temp_root: Path
) -> None:
    """A `mktemp -d` directory is not one of cruft's renders: git is initialised."""
    output_dir = temp_root / "tmp.Xy3kQ9ab1Z"
    try:
        project = create(env, template, output_dir)
        assert git(project, "log", "--format=%s").stdout.splitlines() == [
            "Track the template link",
            "Initial commit from the ml-cicd template",
        ]
        assert (output_dir / f"{SLUG}-dvc-storage").is_dir()
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)


def test_a_cookiecutter_project_can_be_linked(
    template: Template, env: dict, tmp_path: Path
) -> None:
    answers = {"dvc_remote": "s3", "serving": False, "license": "Apache-2.0"}
    baked = bake_cli(
        tmp_path, *(f"{k}={v}" for k, v in answers.items()), template=template.path, env=env
    )
    assert baked.returncode == 0, baked.stderr
    project = tmp_path / SLUG

    # Not linked yet: the weekly job warns how to link and proposes nothing.
    unlinked = run_job(project, env, "update", secrets={"TEMPLATE_UPDATE_TOKEN": "token"})
    assert unlinked.result == "success", unlinked.describe()
    assert unlinked.outputs["outdated"] == "false"
    assert "not linked to its template" in unlinked.step("check").log
    assert "Apply the update" not in unlinked.ran()

    # Linked with the wrong answers (the defaults), cruft diff shows it.
    cruft(env, project, "link", "--no-input", str(template.path))
    wrong = cruft(env, project, "diff", "--exit-code", check=False)
    assert wrong.returncode == 1 and {"LICENSE", ".dvc/config"} <= diff_paths(wrong.stdout)
    (project / ".cruft.json").unlink()

    # Linked with the answers the project was made with: in sync, and current.
    cruft(
        env,
        project,
        "link",
        "--no-input",
        "--extra-context",
        json.dumps(answers),
        str(template.path),
    )
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Link the template")
    assert cruft(env, project, "diff", "--exit-code").stdout == ""
    cruft(env, project, "check")


@pytest.fixture(scope="module")
def release_b(template: Template) -> tuple[str, str]:
    """The branch every combination updates to, and its commit: release B on top of A."""
    template.branch("round-trip")
    return "round-trip", template.commit("round-trip", RELEASE_B)


@pytest.mark.parametrize("answers", [pytest.param(c, id=combination_id(c)) for c in combinations()])
def test_every_combination_survives_create_then_update(
    template: Template, env: dict, release_b: tuple[str, str], tmp_path: Path, answers: dict
) -> None:
    branch, commit = release_b
    project = create(env, template, tmp_path, **answers)
    before = snapshot(project)
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", branch)
    assert changed_paths(project) == RELEASE_B_PATHS
    assert not list(project.rglob("*.rej"))
    after = snapshot(project)
    assert set(after) == set(before) | {".editorconfig"}
    assert after["Makefile"] == before["Makefile"] + b"# Added by template release B.\n"
    state = json.loads(after[".cruft.json"])
    # At B (what `cruft check` compares), with the same answers: booleans stay booleans.
    assert state["commit"] == commit
    assert {k: state["context"]["cookiecutter"][k] for k in answers} == answers


def test_workflow_updates_with_a_token_and_full_history(default_bake: Path) -> None:
    """What the template-update workflow relies on beyond the shared workflow rules."""
    jobs = Workflow(default_bake / WORKFLOW).jobs
    assert jobs["update"]["permissions"] == {"contents": "read"}
    assert jobs["notify"]["permissions"] == {"issues": "write"}
    steps = {
        s.get("id") or s.get("name") or s["uses"].split("@")[0]: s for s in jobs["update"]["steps"]
    }
    # cruft's three-way merge needs the blobs of earlier commits (CR-5).
    assert steps["actions/checkout"]["with"] == {"fetch-depth": 0, "persist-credentials": False}
    # Nothing restored from a cache can slip into the pull request.
    assert steps["astral-sh/setup-uv"]["with"] == {"enable-cache": False}
    assert 'cruft check --checkout "$checkout"' in steps["check"]["run"]
    assert 'cruft update --skip-apply-ask --checkout "$CHECKOUT"' in steps["apply"]["run"]
    # The pull request is pushed with a token that may change workflow files (CR-9).
    token = steps["publish-pull-request"]["with"]["token"]
    assert token == "${{ secrets.TEMPLATE_UPDATE_TOKEN }}"
    # The cruft the workflow installs is the one these tests run.
    pinned = re.search(r"^cruft==\S+$", (TEMPLATE_DIR / "requirements.txt").read_text(), re.M)
    assert f'"{pinned.group()}"' in steps["Install cruft"]["run"]


@pytest.mark.parametrize("open_issue", ["", "7"])
def test_notify_opens_one_issue_then_comments(
    default_bake: Path, tmp_path: Path, open_issue: str
) -> None:
    calls = tmp_path / "gh-calls"
    fake = tmp_path / "bin" / "gh"
    fake.parent.mkdir()
    # A stand-in for the GitHub CLI: logs its arguments, answers `issue list`.
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$*" >> {calls}\n'
        f'if [ "$1 $2" = "issue list" ]; then echo "{open_issue}"; fi\n'
    )
    fake.chmod(0o755)
    job = run_job(
        default_bake,
        clean_env(),
        "notify",
        tool_dirs=(fake.parent,),
        allow_publish=True,
        needs={"update": {"result": "failure", "outputs": {"outdated": "true"}}},
    )
    job.assert_success()
    list_call, action = calls.read_text().splitlines()
    assert list_call.startswith("issue list --state open")
    if open_issue:
        assert action.startswith("issue comment 7 --body The template has changes")
    else:
        assert action.startswith("issue create --title Update from the ml-cicd template --body")
    assert "https://github.com/owner/project/actions/runs/1" in action
    assert "docs/updating.md" in action


@pytest.mark.parametrize(
    ("result", "outdated", "has_token", "runs"),
    [
        ("success", "false", "true", False),  # nothing to do
        ("success", "true", "true", False),  # the pull request is open
        ("success", "true", "false", True),  # no token: ask for a manual update
        ("failure", "true", "true", True),  # conflicts
        ("failure", "", "", False),  # failed before knowing (the run itself is red)
    ],
)
def test_notify_runs_when_no_pull_request_could_be_opened(
    default_bake: Path, result: str, outdated: str, has_token: str, runs: bool
) -> None:
    update = JobResult("update", result, outputs={"outdated": outdated, "has-token": has_token})
    assert notify_runs(default_bake, update) is runs
