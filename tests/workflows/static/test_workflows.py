"""The baked workflows and local actions, read statically for every combination.

What GitHub and its tools check before a run starts, and act does not: the
workflow, action and Dependabot schemas, zizmor at its default persona (and the
auditor persona's findings, each justified), pinned actions, nothing of Jinja
left in a rendered file; then the ``${{ }}`` convention of the template sources
and the template repository's own CI. Permissions, secrets and logins are in
test_workflows_security.py, the shape of each workflow in test_workflows_jobs.py;
what the jobs do when they run is proven with act in test_workflow_*.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.helpers import (
    ANSWERS,
    EXPRESSION,
    MINE,
    TEMPLATE_DIR,
    WORKFLOWS,
    Baked,
    answers_of,
    steps_of,
)
from support.pins import PINS

BIN = Path(sys.executable).parent

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(\S+))?\s*$")
RAW_REGION = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}(?!\})", re.S)


def github_files(project: Baked) -> list[Path]:
    """Workflows and local actions: every file GitHub runs."""
    return sorted((project.path / ".github").rglob("*.yml"))


# --------------------------------------------------------------------------
# What GitHub checks, every combination
# --------------------------------------------------------------------------


def test_workflows_actions_and_dependabot_match_github_schemas(bake_once) -> None:
    """One check-jsonschema run per schema over the files of every combination."""
    files: dict[str, list[str]] = {
        "vendor.github-workflows": [],
        "vendor.github-actions": [],
        "vendor.dependabot": [],
    }
    for param in ANSWERS:
        project = bake_once(answers_of(param))
        found = sorted((project.path / WORKFLOWS).glob("*.y*ml"))
        assert {f.name for f in found} >= {*MINE, "template-update.yml"}, project.path
        files["vendor.github-workflows"] += [str(f) for f in found]
        files["vendor.github-actions"] += [
            str(p) for p in (project.path / ".github/actions").glob("*/action.yml")
        ]
        files["vendor.dependabot"].append(str(project.path / ".github/dependabot.yml"))
    for schema, paths in files.items():
        result = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", schema, *paths],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def zizmor(path: Path, persona: str = "regular") -> list[dict]:
    """zizmor's findings (JSON) for every workflow, action and dependabot file."""
    result = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--strict-collection",
            "--persona",
            persona,
            "--format",
            "json",
            "--no-progress",
            path,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 11, 12, 13, 14), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("answers", ANSWERS)
def test_zizmor_reports_nothing(bake_once, answers: dict) -> None:
    project = bake_once(answers)
    assert zizmor(project.path / ".github") == []
    for path in github_files(project):
        assert "zizmor: ignore" not in path.read_text(), path


# The auditor persona's findings that stay, each justified beside the line in
# the workflow: a token used by a job without an environment (an environment
# would make every scheduled run wait for approval).
JUSTIFIED_AUDITOR_FINDINGS = {"secrets-outside-env"}


@pytest.mark.parametrize(
    "answers", [a for a in ANSWERS if answers_of(a)["dvc_remote"] in ("local", "ssh", "http")]
)
def test_zizmor_auditor_findings_are_justified(bake_once, answers: dict) -> None:
    project = bake_once(answers)
    for finding in zizmor(project.path / ".github", persona="auditor"):
        assert finding["ident"] in JUSTIFIED_AUDITOR_FINDINGS, finding["ident"]
        primary = next(loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary")
        path = project.path / primary["symbolic"]["key"]["Local"]["verbatim_path"]
        row = primary["concrete"]["location"]["start_point"]["row"]
        context = "\n".join(path.read_text().splitlines()[max(0, row - 5) : row + 1])
        assert f"zizmor (auditor): {finding['ident']}" in context, (path.name, row + 1)


@pytest.mark.parametrize("answers", ANSWERS)
def test_rendered_expressions_survive_and_nothing_is_left_of_jinja(
    bake_once, answers: dict
) -> None:
    project = bake_once(answers)
    for path in github_files(project):
        text = path.read_text()
        assert "$True" not in text and "$False" not in text, path
        outside = EXPRESSION.sub("", text)
        for leftover in ("{%", "%}", "{#", "{{ cookiecutter", "cookiecutter."):
            assert leftover not in outside, f"{path}: {leftover!r}"
        assert not re.search(r"^\s*$\n^\s*$", text, re.M), f"{path}: a doubled blank line"
    dependabot = yaml.safe_load(project.read(".github/dependabot.yml"))
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}
    serving = {"docker"} if answers.get("serving", True) else set()
    # uv: the dependencies as locked in uv.lock, within pyproject.toml's ranges.
    assert ecosystems == {"github-actions", "uv"} | serving


def misplaced_comments(text: str) -> list[str]:
    """Full-line comments not indented as the line they describe (the next one)."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        if not line.lstrip().startswith("#"):
            continue
        described = (
            later
            for later in lines[number + 1 :]
            if later.strip() and not later.lstrip().startswith("#")
        )
        following = next(described, None)
        indent = len(line) - len(line.lstrip())
        if following is not None and indent != len(following) - len(following.lstrip()):
            found.append(f"line {number + 1}: {line.strip()}")
    return found


@pytest.mark.parametrize("answers", ANSWERS)
def test_every_comment_is_indented_as_the_line_it_describes(bake_once, answers: dict) -> None:
    """A reader of a baked YAML file sees each comment beside what it explains
    (a Jinja tag that trims too much leaves it at the start of the line)."""
    project = bake_once(answers)
    for path in sorted(project.path.rglob("*.y*ml")):
        assert not misplaced_comments(path.read_text()), path


@pytest.mark.parametrize("answers", ANSWERS)
def test_actions_are_pinned_and_local_ones_use_the_self_repository_syntax(
    bake_once, answers: dict
) -> None:
    for path in github_files(bake_once(answers)):
        for line in path.read_text().splitlines():
            if not re.match(r"\s*(?:-\s+)?uses:", line):
                continue
            used = line.split("uses:")[1].strip()
            if used.startswith(("./", "$/")):
                # `$/` resolves to the running commit, without a checkout.
                assert used.startswith("$/.github/actions/"), f"{path}: {line.strip()}"
                continue
            match = USES.match(line)
            assert match, f"{path}: unpinned or unreadable: {line.strip()}"
            name, ref, comment = match.groups()
            assert name in PINS, f"{path}: {name} is not in the verified pins"
            assert (ref, comment) == PINS[name], f"{path}: {line.strip()}"


# --------------------------------------------------------------------------
# The template's sources and its own CI
# --------------------------------------------------------------------------


def test_raw_region_convention_in_the_template_sources() -> None:
    """Every ``${{`` of a workflow or action source is inside {% raw %}, or a
    Jinja string that prints it (``{{ "${{" }}``)."""
    sources = sorted((TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github").rglob("*.y*ml"))
    sources += sorted((TEMPLATE_DIR / "templates" / "ci").glob("*.j2"))
    assert {p.name for p in sources} >= {*MINE, "dependabot.yml", "action.yml"}
    for path in sources:
        text = path.read_text()
        opened = len(re.findall(r"\{%-?\s*raw\s*-?%\}", text))
        assert opened == len(re.findall(r"\{%-?\s*endraw\s*-?%\}", text)), path.name
        outside = JINJA_EXPRESSION.sub("", RAW_REGION.sub("", text))
        assert "${{" not in outside, f"{path.name}: a ${{{{ outside {{% raw %}}"


RUN_KEY = re.compile(r"^(\s*)(?:-\s+)?run:\s*(.*)$")
LEADING_TAG = re.compile(r"^\s*(?:\{%.*?%\}|\{#.*?#\})")
JINJA_IN_SCRIPT = re.compile(r"\{%|\{\{-?\s*cookiecutter")


def without_leading_tags(line: str) -> str:
    """The YAML of a source line, without the Jinja tags it starts with."""
    while match := LEADING_TAG.match(line):
        line = line[match.end() :]
    return line


def run_script_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every ``run:`` script of a workflow or action source.

    A block script (``run: |``) goes on while its lines are indented deeper than
    its key; a line of Jinja tags alone belongs to it only when the script goes
    on after it (a tag between two steps is outside every script)."""
    lines = text.splitlines()
    found: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        match = RUN_KEY.match(without_leading_tags(lines[index]))
        index += 1
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2)
        found.append((index, lines[index - 1]))
        if not value.startswith(("|", ">")):
            continue
        pending: list[tuple[int, str]] = []
        while index < len(lines):
            body = without_leading_tags(lines[index])
            if body.strip() and len(body) - len(body.lstrip()) <= indent:
                break
            pending.append((index + 1, lines[index]))
            if body.strip():
                found += pending
                pending = []
            index += 1
    return found


def test_run_script_lines_follow_the_yaml_blocks() -> None:
    source = (
        "    - run: |\n"
        "        echo one\n"
        "{% if x %}\n"
        "        echo {{ cookiecutter.x }}\n"
        "{% endif %}\n"
        "    - name: next\n"
        "{% if y %}\n"
        "      run: echo two\n"
        "      env:\n"
        "{% raw %}        A: b\n"
        "{% endraw %}\n"
    )
    assert [n for n, _ in run_script_lines(source)] == [1, 2, 3, 4, 8]


def test_no_jinja_inside_a_run_script_of_a_workflow_or_action_source() -> None:
    """The workflows' decisions are made by Python (tools/ci_plan.py and the
    like), with the answers passed as ``env:`` or ``with:`` values: a ``run:``
    script reads the same in every bake, so what it does is tested once."""
    github = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github"
    sources = sorted(github.glob("workflows/*.yml")) + sorted(github.glob("actions/*/action.yml"))
    sources += sorted((TEMPLATE_DIR / "templates" / "ci").glob("*.j2"))
    assert len(sources) > len(MINE)
    jinja = [
        f"{path.relative_to(TEMPLATE_DIR)}:{number}: {line.strip()}"
        for path in sources
        for number, line in run_script_lines(path.read_text())
        if JINJA_IN_SCRIPT.search(line)
    ]
    assert not jinja, "Jinja inside run: scripts:\n" + "\n".join(jinja)


def test_the_template_repository_ci_is_valid_and_clean() -> None:
    github = TEMPLATE_DIR / ".github"
    workflow_files = sorted(str(p) for p in (github / "workflows").glob("*.y*ml"))
    assert any(p.endswith("template-ci.yml") for p in workflow_files)
    for schema, files in (
        ("vendor.github-workflows", workflow_files),
        ("vendor.dependabot", [str(github / "dependabot.yml")]),
    ):
        result = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", schema, *files],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert zizmor(github) == []
    ci = yaml.safe_load((github / "workflows" / "template-ci.yml").read_text())
    runs = [s.get("run", "") for _, s in steps_of(ci)]
    assert ".ci/run" in runs
    assert any("zizmor" in run and "--offline" in run for run in runs)
