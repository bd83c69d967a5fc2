"""Bad answers are refused with a message naming the field, and leave nothing behind."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from cookiecutter.exceptions import FailedHookException

from support.helpers import (
    CONTEXT,
    TEMPLATE_DIR,
    Baked,
    bake,
    bake_cli,
    clean_env,
    wait_until_empty,
)

REFUSED = [
    # (answers, field named in the error, part of the rule)
    ({"project_slug": "My Project"}, "project_slug", "lowercase letters"),
    ({"project_slug": "../escape"}, "project_slug", "no path separators"),
    ({"project_slug": "a/b"}, "project_slug", "no path separators"),
    ({"package_name": "my-pkg"}, "package_name", "valid lowercase Python identifier"),
    ({"package_name": "1abc"}, "package_name", "valid lowercase Python identifier"),
    ({"package_name": "class"}, "package_name", "Python keyword"),
    ({"package_name": "json"}, "package_name", "standard-library module"),
    ({"author_email": "not-an-email"}, "author_email", "email address"),
    ({"github_owner": "-bad-"}, "github_owner", "GitHub user"),
    ({"description": "two\nlines"}, "description", "one non-empty line"),
    ({"project_name": "Emoji 🚀"}, "project_name", "without emoji"),
    (
        {"dvc_remote": "s3", "dvc_remote_url": "gs://bucket/path"},
        "dvc_remote_url",
        "s3://bucket/path",
    ),
    (
        {"dvc_remote": "local", "dvc_remote_url": "s3://bucket/path"},
        "dvc_remote_url",
        "directory path",
    ),
    (
        {"dvc_remote": "http", "dvc_remote_url": "ftp://host/x"},
        "dvc_remote_url",
        "https://host/path",
    ),
    ({"dvc_read_remote_url": "/some/dir"}, "dvc_read_remote_url", "URL"),
    ({"serving": "false", "deploy_target": "fly"}, "deploy_target", "none when serving is false"),
    # Azure Pipelines, and Azure Container Apps as a deploy target.
    (
        {"serving": "false", "deploy_target": "azure-container-apps"},
        "deploy_target",
        "none when serving is false",
    ),
    (
        {"ci_platform": "azure-pipelines", "deploy_target": "fly"},
        "deploy_target",
        "azure-container-apps or none when ci_platform is azure-pipelines",
    ),
    # A trailing newline, names that shadow a dependency, emails that
    # break at build time, a name too long for the file system, a local remote
    # inside the project, credentials in a query string.
    ({"github_owner": "org\n"}, "github_owner", "GitHub user"),
    ({"project_slug": "ok\n"}, "project_slug", "lowercase letters"),
    ({"author_email": "a@example.com\n"}, "author_email", "email address"),
    ({"project_name": "Numpy"}, "project_slug", "the dependency numpy"),
    ({"project_slug": "scikit-learn"}, "project_slug", "the dependency scikit-learn"),
    ({"package_name": "sklearn"}, "package_name", "the dependency sklearn"),
    ({"package_name": "yaml"}, "package_name", "the dependency yaml"),
    ({"package_name": "pytest"}, "package_name", "the dependency pytest"),
    # The registry's and the serving stack's own dependencies too (issue 37).
    ({"project_slug": "gto"}, "project_slug", "the dependency gto"),
    ({"package_name": "gto"}, "package_name", "the dependency gto"),
    ({"package_name": "anyio"}, "package_name", "the dependency anyio"),
    # A file name of 256 bytes: the post-generation hook could not create it.
    ({"dvc_remote_url": "../" + "d" * 256}, "dvc_remote_url", "at most 255 bytes"),
    (
        {"dvc_remote": "ssh", "dvc_remote_url": "ssh://host:65536/srv"},
        "dvc_remote_url",
        "ssh://[user@]host[:port]/path",
    ),
    (
        {"dvc_remote": "ssh", "dvc_remote_url": "ssh://-oProxyCommand=x/srv"},
        "dvc_remote_url",
        "ssh://[user@]host[:port]/path",
    ),
    ({"author_email": "ü@example.com"}, "author_email", "email address"),
    ({"author_email": "<x>@y.z"}, "author_email", "email address"),
    ({"author_email": "a@b..com"}, "author_email", "email address"),
    ({"package_name": "p" * 33}, "package_name", "at most 32 characters"),
    # The derived slug is cut at 64 characters, so cookiecutter can create the
    # directory and the hook can refuse the name itself.
    ({"project_name": "Long " * 60}, "project_name", "at most 100 characters"),
    ({"dvc_remote_url": "./storage"}, "dvc_remote_url", "outside the project"),
    ({"dvc_remote_url": "//"}, "dvc_remote_url", "outside the project"),
    (
        {"dvc_remote": "http", "dvc_remote_url": "https://host/x?token=abc"},
        "dvc_remote_url",
        "no query string",
    ),
]


@pytest.mark.parametrize(
    "answers,field,rule", REFUSED, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(REFUSED)]
)
def test_bad_answer_is_refused_and_nothing_is_left(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict, field: str, rule: str
) -> None:
    """Through cookiecutter's API, as ``key=value`` on its command line gives
    them (strings); the hook runs in its own process, as from the command line
    (whose exit code and message ``test_a_refusal_is_one_line...`` checks)."""
    out = tmp_path / "out"
    typed: dict[str, Any] = {key: str(value) for key, value in answers.items()}
    with pytest.raises(FailedHookException):
        bake(out, **typed)
    stderr = capfd.readouterr().err
    error_lines = [line for line in stderr.splitlines() if line.startswith("ERROR: ")]
    assert any(
        line.startswith(f"ERROR: {field}: ") and rule in line and "(got " in line
        for line in error_lines
    ), stderr
    assert only_empty_directories(out), list(out.rglob("*"))
    assert not any(p.name.endswith("-dvc-storage") for p in tmp_path.iterdir())


def only_empty_directories(out: Path) -> bool:
    """Nothing but, for a slug such as ``a/b``, the empty ``a`` that cookiecutter made.

    cookiecutter 2.7.1 creates ``<out>/a/b`` before the pre-generation hook runs
    and, after a refusal, deletes ``b`` only (generate.py: render_and_create_dir,
    hooks.py: run_hook_from_repo_dir); the hook keeps no process behind to wait
    for it (the design review: an empty ``a`` is acceptable).
    """
    return all(path.is_dir() for path in out.rglob("*"))


def test_a_platform_outside_the_choices_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """ci_platform is a choice variable: cookiecutter itself refuses a value outside
    its choices, naming them, before the hook runs (the hook's own rule for it is
    in test_hooks.py, for contexts that skip that check)."""
    out = tmp_path / "out"
    result = bake_cli(out, "ci_platform=gitlab")
    assert result.returncode != 0
    assert "gitlab provided for choice variable ci_platform" in result.stderr, result.stderr
    assert "'github', 'azure-pipelines'" in result.stderr, result.stderr
    assert wait_until_empty(out), list(out.rglob("*"))


def test_local_remote_under_the_project_by_absolute_path_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inside = out / "ml-project" / "storage"
    result = bake_cli(out, f"dvc_remote_url={inside}")
    assert result.returncode != 0
    assert "ERROR: dvc_remote_url: must be a directory path outside the project" in result.stderr
    assert f"(got '{inside}')" in result.stderr
    assert wait_until_empty(out)


def test_unknown_choice_is_refused_by_cookiecutter(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = bake_cli(out, "python_version=2.7")
    assert result.returncode != 0
    assert "python_version" in result.stderr or "2.7" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_injection_in_an_answer_stays_data(tmp_path: Path) -> None:
    """A Python-shaped answer reaches the hooks as a string and is never executed.

    The hook parses the answers before it checks them, so the payload would run
    before the refusal (its double quotes are refused for the docs' HTML).
    """
    marker = tmp_path / "pwned"
    payload = f'x""" + __import__("pathlib").Path({str(marker)!r}).write_text("1") + """'
    result = bake_cli(tmp_path / "out", f"description={payload}")
    assert 'ERROR: description: must not contain <, > or "' in result.stderr
    assert result.returncode == 1
    assert not marker.exists()
    assert wait_until_empty(tmp_path / "out")


def _path_without(tool: str, tmp_path: Path, *more: str) -> str:
    """A PATH whose directories hold everything but ``tool`` (and ``more``)."""
    shadow = tmp_path / "bin"
    shadow.mkdir()
    # The test tools' directory too, so that dvc and pre-commit would be found.
    directories = [str(Path(sys.executable).parent), *os.environ["PATH"].split(os.pathsep)]
    for directory in directories:
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = shadow / name
            if name not in (tool, *more) and not target.exists():
                target.symlink_to(os.path.join(directory, name))
    return str(shadow)


def test_missing_git_warns_and_keeps_the_project(tmp_path: Path) -> None:
    env = clean_env({"PATH": _path_without("git", tmp_path)})
    result = bake_cli(tmp_path / "out", env=env)
    assert result.returncode == 0, result.stderr
    assert "WARNING: git is not installed" in result.stderr
    project = tmp_path / "out" / "ml-project"
    assert (project / "pyproject.toml").exists() and (project / "dvc.yaml").exists()
    assert not (project / ".git").exists()


def test_no_git_identity_still_commits_with_the_answered_identity(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(
        {"HOME": str(home), "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    )
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        env.pop(name, None)
    result = bake_cli(
        tmp_path / "out", "author_name=Ada Lovelace", "author_email=ada@example.org", env=env
    )
    assert result.returncode == 0, result.stderr
    log = subprocess.run(
        ["git", "log", "--format=%an <%ae>|%cn <%ce>"],
        cwd=tmp_path / "out" / "ml-project",
        capture_output=True,
        text=True,
        env=env,
    )
    assert log.stdout.strip() == "Ada Lovelace <ada@example.org>|Ada Lovelace <ada@example.org>"
    assert not (home / ".gitconfig").exists()


def test_default_branch_master_still_gives_main(tmp_path: Path) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = master\n")
    env = clean_env({"GIT_CONFIG_GLOBAL": str(config)})
    result = bake_cli(tmp_path / "out", env=env)
    assert result.returncode == 0, result.stderr
    branch = subprocess.run(
        ["git", "branch", "--show-current"],
        cwd=tmp_path / "out" / "ml-project",
        capture_output=True,
        text=True,
    )
    assert branch.stdout.strip() == "main"
    assert config.read_text() == "[init]\n\tdefaultBranch = master\n"


@pytest.mark.slow
def test_bake_needs_neither_dvc_nor_pre_commit_and_removes_the_same_files(
    tmp_path: Path, baked_venv: Path
) -> None:
    """The hooks never call dvc or pre-commit (pipx users may lack them), and which
    files are removed depends only on the answers, not on the tools found."""
    tools = baked_venv / "bin"
    with_path = f"{tools}{os.pathsep}{os.environ['PATH']}"
    assert shutil.which("dvc", path=with_path) and shutil.which("pre-commit", path=with_path)
    with_tools = bake_cli(tmp_path / "with", "serving=false", env=clean_env({"PATH": with_path}))
    assert with_tools.returncode == 0, with_tools.stderr

    without_path = _path_without("dvc", tmp_path, "pre-commit")
    assert not shutil.which("dvc", path=without_path)
    assert not shutil.which("pre-commit", path=without_path)
    without = bake_cli(tmp_path / "without", "serving=false", env=clean_env({"PATH": without_path}))
    assert without.returncode == 0, without.stderr
    assert "WARNING" not in without.stderr
    assert (
        Baked(tmp_path / "without" / "ml-project").files()
        == Baked(tmp_path / "with" / "ml-project").files()
    )


# A bad answer costs one answer, not the questionnaire (issue 35, wall 5): the
# hook names what it refused, says nothing about the answers derived from it,
# and ends with the command that asks again with every other answer kept.
GIVEN = {
    "project_name": "Café O'Brien",
    "author_name": "Zoë Ñúñez",
    "github_owner": "zoe-org",
    "license": "Apache-2.0",
    "serving": "false",
}


def rerun_line(output: str) -> list[str]:
    """The command the refusal ends with, split as the shell splits it."""
    lines = output.strip().splitlines()
    marker = next(i for i, line in enumerate(lines) if line.startswith("Nothing was written."))
    return shlex.split(lines[marker + 1])


def baked_answers(out: Path) -> dict:
    """The answers of the project baked in ``out`` (cookiecutter's replay file, in
    the tests' own cookiecutter configuration: conftest.isolated_cookiecutter)."""
    replay = Path(os.environ["COOKIECUTTER_CONFIG"]).with_name("replay")
    answers: dict = json.loads((replay / f"{TEMPLATE_DIR.name}.json").read_text())["cookiecutter"]
    assert (out / answers["project_slug"] / "pyproject.toml").is_file()
    return answers


def test_a_refusal_is_one_line_and_ends_with_the_command_that_asks_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    typed = {**GIVEN, "project_slug": "My Proj"}
    result = bake_cli(out, *(f"{key}={value}" for key, value in typed.items()))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    # dvc_remote_url was derived from the bad slug ('../My Proj-dvc-storage'): not named.
    assert errors == [
        "ERROR: project_slug: must be lowercase letters, digits and single dashes,"
        " with no path separators (got 'My Proj')"
    ], result.stderr
    command = rerun_line(result.stderr)
    # The cookiecutter that ran: its name when PATH finds it, else its path.
    assert command[0] in ("cookiecutter", str(Path(sys.executable).with_name("cookiecutter")))
    assert command[1] == str(TEMPLATE_DIR)
    answers = [word for word in command if "=" in word]
    assert "project_name=Café O'Brien" in answers and "serving=false" in answers
    assert not any(
        word.split("=")[0] in ("project_slug", "package_name", "dvc_remote_url") for word in answers
    ), answers
    assert only_empty_directories(out)

    # A script adds --no-input and the corrected answer; the other answers hold.
    again = subprocess.run(
        [*command, "--no-input", "project_slug=my-proj"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    baked = baked_answers(out)
    assert {key: baked[key] for key in GIVEN} == {
        **{key: typed[key] for key in GIVEN},
        "serving": False,
    }
    assert baked["package_name"] == "my_proj"
    assert baked["dvc_remote_url"] == "../my-proj-dvc-storage"


def answer_every_prompt(session: pexpect.spawn, answers: dict[str, str]) -> str:
    """Answer cookiecutter's questions ("[n/15] label ... (default): ", in the order
    of cookiecutter.json) from ``answers``, Enter for the others; return the output."""
    questions = [key for key in CONTEXT if not key.startswith("_")]
    printed = []
    while session.expect([r"\[(\d+)/\d+\]", pexpect.EOF]) == 0:
        printed.append(session.before or "")
        assert isinstance(session.match, re.Match)
        key = questions[int(session.match.group(1)) - 1]
        session.expect(r"\):")
        session.sendline(answers.get(key, ""))
    return "".join(printed) + (session.before or "")


def test_an_interactive_refusal_asks_again_with_the_answers_kept(tmp_path: Path) -> None:
    """Through a pseudo-terminal, as a person answers: one typo in the email,
    then the printed command asks every question again with the earlier answers
    as the defaults, so Enter keeps them and only the email is typed anew."""
    out = tmp_path / "out"
    out.mkdir()
    cookiecutter = str(Path(sys.executable).with_name("cookiecutter"))
    env = {**clean_env(), "TERM": "dumb", "COLUMNS": "300"}
    typed = {
        "project_name": "Café O'Brien",
        "author_email": "zoe-at-example.com",
        "license": "2",  # the second choice: Apache-2.0
        "serving": "n",
    }
    first = pexpect.spawn(
        cookiecutter, [str(TEMPLATE_DIR)], cwd=str(out), env=env, encoding="utf-8", timeout=120
    )
    transcript = answer_every_prompt(first, typed)
    first.close()
    assert first.exitstatus == 1, transcript
    assert "Traceback" not in transcript, transcript
    assert "ERROR: author_email: must be an email address" in transcript, transcript
    command = rerun_line(transcript.replace("\r\n", "\n"))
    assert not any(word.startswith("author_email=") for word in command), command
    assert only_empty_directories(out)

    again = pexpect.spawn(
        command[0], command[1:], cwd=str(out), env=env, encoding="utf-8", timeout=120
    )
    transcript = answer_every_prompt(again, {"author_email": "zoe@example.com"})
    again.close()
    assert again.exitstatus == 0, transcript
    baked = baked_answers(out)
    assert baked["project_name"] == "Café O'Brien" and baked["project_slug"] == "cafe-o-brien"
    assert baked["license"] == "Apache-2.0" and baked["serving"] is False
    assert baked["author_email"] == "zoe@example.com"
