"""``make template-update`` as docs/updating.md gives it, on projects made with cruft.

Fast tier: no project dependencies are installed; the baked Makefile runs with
the test tools' virtualenv (``VENV=``), which holds the same cruft and typer
pins as the baked ``pyproject.toml``. The update from every release, with the
baked project's own gates afterwards, is ``test_update_from_releases.py``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from support.cruft_support import (
    PROJECT,
    Change,
    Template,
    append,
    check_update,
    create,
    cruft,
    git,
)
from support.helpers import TEMPLATE_DIR, bake, clean_env

VENV = Path(sys.executable).parent.parent


def make(env: dict, project: Path, *targets: str) -> subprocess.CompletedProcess:
    """``make`` in ``project`` with the test tools' virtualenv as its ``VENV``."""
    return subprocess.run(
        ["make", "--no-print-directory", *targets, f"VENV={VENV}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def tag(template: Template, name: str, commit: str = "main") -> None:
    git(template.path, "tag", name, commit)


@pytest.fixture(scope="module")
def releases(template: Template) -> Template:
    """The template copy with two releases: A as v1.0.0, a newer B as v1.1.0."""
    tag(template, "v1.0.0")
    template.branch("b")
    tag(template, "v1.1.0", template.commit("b", {f"{PROJECT}/Makefile": append("# B")}))
    return template


@pytest.mark.slow  # a cruft round trip
def test_the_update_prompt_applies_the_newest_release(
    releases: Template, env: dict, tmp_path: Path
) -> None:
    # cruft 2.16's "Apply diff and update?" died with typer 0.29 (AssertionError
    # in typer/_coercion.py); every earlier test skipped the prompt.
    project = create(env, releases, tmp_path / "out", "--checkout", "v1.0.0")
    session = pexpect.spawn(
        "make",
        ["--no-print-directory", "template-update", f"VENV={VENV}"],
        cwd=str(project),
        # A person pages through the diff (v) with less; the test reads it whole.
        env={**env, "GIT_PAGER": "cat"},
        encoding="utf-8",
        timeout=120,
    )
    session.expect(r"Apply diff and update\?")
    session.sendline("v")  # view the changes first, as the page suggests
    session.expect(r"# B")
    session.expect(r"Apply diff and update\?")
    session.sendline("y")
    session.expect(pexpect.EOF)
    session.close()
    transcript = session.before or ""

    assert session.exitstatus == 0, transcript
    assert "Traceback" not in transcript and "AssertionError" not in transcript
    assert "Every template change is in the project." in transcript
    assert (project / "Makefile").read_text().endswith("# B\n")
    state = json.loads((project / ".cruft.json").read_text())
    assert state["checkout"] == "v1.1.0"


@pytest.mark.slow  # a cruft round trip
def test_a_change_to_the_jinja_filters_between_releases_updates(
    template: Template, env: dict, tmp_path: Path
) -> None:
    # cruft renders both commits in one process: a module imported by the first
    # render stayed for the second (local_extensions, until 1.0.0).
    project = create(env, template, tmp_path / "out")
    template.branch("filters")
    template.commit(
        "filters",
        {
            "jinja_filters.py": lambda text: text.replace(
                '    environment.filters["remote_type"] = remote_type\n',
                '    environment.filters["remote_type"] = remote_type\n'
                '    environment.filters["shout"] = str.upper\n',
            ),
            f"{PROJECT}/NOTICE": lambda _: "{{ cookiecutter.project_name | shout }}\n",
        },
    )

    cruft(env, project, "update", "--skip-apply-ask", "--checkout", "filters")

    assert (project / "NOTICE").read_text() == "ML PROJECT\n"


def test_the_extension_module_never_changes() -> None:
    # ml_cicd_jinja.py is imported once per process, by the first render: any
    # change to it would reach the renders of older commits and strand the
    # projects made before it. Change jinja_filters.py instead.
    digest = hashlib.sha256((TEMPLATE_DIR / "ml_cicd_jinja.py").read_bytes()).hexdigest()
    assert digest == "4644c64f8d5c08fa6a680ddd963eb861150d24d50e3770d957dadbe3ebfaa04f", digest


@pytest.mark.slow  # a cruft round trip
def test_no_answer_switched_means_no_switched_answer_advice(
    template: Template, env: dict, tmp_path: Path
) -> None:
    # The template changes a team-owned file and a private key of its own:
    # nothing for the team to do (the contract keeps its files working).
    project = create(env, template, tmp_path / "out")
    template.branch("team-owned")
    template.commit(
        "team-owned",
        {
            f"{PROJECT}/params.yaml": append("# a new comment from the template"),
            "cookiecutter.json": lambda text: text.replace(
                '"_release": "', '"_unused_private_key": 1,\n  "_release": "'
            ),
        },
    )
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", "team-owned")

    checked = check_update(project, env)

    assert checked.returncode == 0, checked.stderr
    assert "switched" not in checked.stderr
    assert "# a new comment" not in (project / "params.yaml").read_text()


def declare_a_migration(text: str) -> str:
    """cookiecutter.json with a release 9.0.0 whose migration merges params.yaml."""
    context = json.loads(text)
    context["_migrations"].append(
        {"release": "9.0.0", "paths": ["params.yaml"], "reason": "a test"}
    )
    return json.dumps(context, indent=2) + "\n"


def update_to_a_migration(
    template: Template, env: dict, project: Path, branch: str, params: Change
) -> subprocess.CompletedProcess:
    """Release 9.0.0 on ``branch`` changes params.yaml and declares its migration;
    ``project`` is updated to it with cruft; the check's result."""
    template.commit(
        branch, {"cookiecutter.json": declare_a_migration, f"{PROJECT}/params.yaml": params}
    )
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", branch)
    return check_update(project, env)


@pytest.mark.slow  # a cruft round trip
def test_a_migration_merges_into_team_files_and_keeps_their_edits(
    template: Template, env: dict, tmp_path: Path
) -> None:
    project = create(env, template, tmp_path / "out")
    params = (project / "params.yaml").read_text()
    first = params.splitlines()[0]
    (project / "params.yaml").write_text(params + "# the team's own line\n")
    git(project, "commit", "--quiet", "-am", "Team work")
    template.branch("migration")

    checked = update_to_a_migration(
        template, env, project, "migration", lambda text: "# from 9.0.0\n" + text
    )

    assert checked.returncode == 0, checked.stderr
    assert "migrated: params.yaml: merged (release 9.0.0: a test)" in checked.stdout
    merged = (project / "params.yaml").read_text()
    assert merged.startswith(f"# from 9.0.0\n{first}\n")
    assert merged.endswith("# the team's own line\n")
    # Shown for review, never committed.
    assert " M params.yaml" in git(project, "status", "--porcelain").stdout


@pytest.mark.slow  # a cruft round trip
def test_a_migration_that_conflicts_is_listed(
    template: Template, env: dict, tmp_path: Path
) -> None:
    project = create(env, template, tmp_path / "out")
    params = project / "params.yaml"
    params.write_text("# the team's first line\n" + params.read_text().split("\n", 1)[1])
    git(project, "commit", "--quiet", "-am", "Team work")
    template.branch("conflict")

    checked = update_to_a_migration(
        template,
        env,
        project,
        "conflict",
        lambda text: "# 9.0.0's first line\n" + text.split("\n", 1)[1],
    )

    assert checked.returncode == 1
    assert (
        "error: params.yaml: release 9.0.0: a test; the merge conflicts:"
        " resolve the <<<<<<< markers"
    ) in checked.stderr
    text = params.read_text()
    assert "# the team's first line" in text and "# 9.0.0's first line" in text
    assert "<<<<<<<" in text


def test_make_template_update_in_a_cookiecutter_project_says_how_to_link(
    tmp_path: Path,
) -> None:
    project = bake(tmp_path).path

    result = make(clean_env(), project, "template-update")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "NoCruftFound" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "cruft link --checkout v" in line and "docs/updating.md" in line


def test_a_local_template_path_gets_a_warning(
    template: Template, env: dict, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    created = cruft(env, out, "create", "--no-input", str(template.path))

    assert f"records the template as {template.path}, a path on this machine" in (created.stderr)
    assert "cruft create https://github.com/" in created.stderr


@pytest.mark.slow  # a cruft round trip
@pytest.mark.skipif(
    not Path("/usr/bin/python3").exists(), reason="no system python3 at /usr/bin/python3"
)
def test_the_check_runs_on_the_system_python(releases: Template, env: dict, tmp_path: Path) -> None:
    # Debian 12's python3 is 3.11.2: no TarFile.extractall(filter=...) (3.11.4).
    system = subprocess.run(
        ["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    venv = tmp_path / "system-venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            VENV / "bin/uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            venv / "bin/python",
            "cookiecutter==2.7.1",
        ],
        env=env,
        check=True,
    )
    project = create(env, releases, tmp_path / "out", "--checkout", "v1.0.0")
    cruft(env, project, "update", "--skip-apply-ask", "--checkout", "v1.1.0")

    checked = check_update(project, env, python=venv / "bin/python")

    assert checked.returncode == 0, f"python {system}: {checked.stderr}"
    assert checked.stdout.strip() == "Every template change is in the project."
