"""Answers are data, never code: Jinja in an answer never runs, anywhere.

cookiecutter renders every answer given with ``--no-input`` (``key=value``,
``--extra-context``) as a Jinja template, in an environment that is not
sandboxed (cookiecutter 2.7.1 ``prompt.py::render_variable``); cruft does the
same with the answers in ``.cruft.json`` on ``create``, ``update`` and
``diff``. The template's Jinja extension keeps such an answer as the text it is
(``jinja_filters.keep_answers_as_data``) and the pre-generation hook refuses
it, naming the field. Each payload below would create a file if it ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.cruft_support import Template, create, cruft, git
from support.helpers import TEMPLATE_DIR, clean_env

BIN = Path(sys.executable).parent
# Every answer a person types (the choices are checked against their lists).
FREE_TEXT = (
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_owner",
    "dvc_remote_url",
    "dvc_read_remote_url",
)
RULE = "must not contain '{' followed by '{', '%' or '#'"


def payload(marker: Path) -> str:
    """The classic server-side template injection: a shell command through os."""
    return f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"


def bake_with(tmp_path: Path, field: str, answer: str) -> subprocess.CompletedProcess:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return subprocess.run(
        [BIN / "cookiecutter", "--no-input", "-o", out, TEMPLATE_DIR, f"{field}={answer}"],
        env=clean_env({"TMPDIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("field", FREE_TEXT)
def test_a_payload_in_any_answer_never_runs_and_is_refused(tmp_path: Path, field: str) -> None:
    marker = tmp_path / "ran"

    result = bake_with(tmp_path, field, payload(marker))

    assert not marker.exists(), f"{field}: the payload ran"
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors[0].startswith("ERROR: ") and RULE in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    # No file; a slug with slashes leaves the empty parents cookiecutter made
    # before the hook ran (test_validation.only_empty_directories).
    assert all(path.is_dir() for path in (tmp_path / "out").rglob("*"))


@pytest.mark.parametrize(
    "answer", ["{{ 7*7 }}", "A {# comment #} B", "{% if true %}x{% endif %}", "{{ cookiecutter }}"]
)
def test_jinja_in_an_answer_is_refused_as_typed(tmp_path: Path, answer: str) -> None:
    # Before: {{ 7*7 }} became 49 and {# c #} vanished, silently.
    result = bake_with(tmp_path, "description", answer)

    assert result.returncode != 0
    assert f"ERROR: description: {RULE}" in result.stderr
    assert f"(got {answer!r})" in result.stderr


@pytest.mark.slow  # cruft round trips (create, diff, update)
def test_a_payload_in_the_cruft_answers_never_runs(
    template: Template, env: dict, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    out = tmp_path / "create"
    out.mkdir()
    created = cruft(
        env,
        out,
        "create",
        "--no-input",
        "--extra-context",
        json.dumps({"description": payload(marker)}),
        str(template.path),
        check=False,
    )
    assert created.returncode != 0 and not marker.exists()
    assert f"ERROR: description: {RULE}" in created.stderr + created.stdout

    # A payload written into a project's .cruft.json (an edit, a pull request):
    # cruft diff (which the template-update workflow runs) and cruft update.
    project = create(env, template, tmp_path / "out")
    state = json.loads((project / ".cruft.json").read_text())
    state["context"]["cookiecutter"]["author_name"] = payload(marker)
    (project / ".cruft.json").write_text(json.dumps(state, indent=2))
    git(project, "commit", "--quiet", "-am", "A payload in the answers")
    template.branch("payload")
    template.commit("payload", {"{{cookiecutter.project_slug}}/NOTICE": lambda _: "x\n"})
    for command in (["diff"], ["update", "--skip-apply-ask", "--checkout", "payload"]):
        result = cruft(env, project, *command, check=False)
        assert not marker.exists(), command
        assert result.returncode != 0, command
        assert f"ERROR: author_name: {RULE}" in result.stdout + result.stderr, command
