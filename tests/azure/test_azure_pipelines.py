"""ci_platform=azure-pipelines: Azure Pipelines YAML instead of .github/, read statically.

For every combination with Azure Pipelines: the pipelines pass the vendored
Azure Pipelines schema, the project has exactly its files, each setting is
referenced only where its option is on. Every step runs the same command as its
GitHub Actions twin (read from a GitHub bake of the same answers), a script of
several commands stops at its first failure, and a failing gate fails its step.
The steps run in order in test_azure_pipelines_run.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.azure_agent import (
    FILLED,
    SETTINGS_FILE,
    Agent,
    compile_pipeline,
    evaluate,
    fill_settings,
)
from support.helpers import Baked, bake, combination_id, combinations
from support.file_sets import expected_files

BIN = Path(sys.executable).parent
AZURE = [pytest.param(c, id=combination_id(c)) for c in combinations("azure-pipelines")]
PIPELINES = ("azure-pipelines.yml", "azure-pipelines/train.yml", "azure-pipelines/release.yml")


def azure_files(answers: dict, package: str) -> set[str]:
    """The exact file set: the GitHub one with azure-pipelines/ in place of .github/."""
    files = {f for f in expected_files(answers, package) if not f.startswith(".github/")}
    files |= {"azure-pipelines.yml", "azure-pipelines/train.yml", SETTINGS_FILE}
    files |= {"docs/azure-devops.md", "tools/azure_pr_thread.py"}
    if answers["serving"]:
        files.add("azure-pipelines/release.yml")
    return files


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Baked]:
    return {
        combination_id(c): bake(tmp_path_factory.mktemp("azure"), **c)
        for c in combinations("azure-pipelines")
    }


@pytest.mark.parametrize("answers", AZURE)
def test_exact_file_set(baked: dict[str, Baked], answers: dict) -> None:
    project = baked[combination_id(answers)]
    assert project.files() == azure_files(answers, project.package)


def check_schema(files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            # The vendored schema's patterns are not valid unicode regexes.
            "--regex-variant",
            "nonunicode",
            "--builtin-schema",
            "vendor.azure-pipelines",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Each combination's pipelines as Azure compiles them on the first push and
    once set up, written as files (by combination id), the settings template last.

    The vendored schema describes pipelines without template expressions (it
    refuses even a bare ``- ${{ if ... }}:`` step), so what it checks is each
    compiled run: the settings template read, every insertion resolved; both
    settings states together cover every branch of every insertion.
    """
    result = {}
    for answers in combinations("azure-pipelines"):
        root = tmp_path_factory.mktemp("compiled")
        project = bake(root / "bake", **answers).path
        settings = yaml.safe_load((project / SETTINGS_FILE).read_text())
        assert set(settings) == {"variables"}
        files = []
        for state in ("first-push", "set-up"):
            if state == "set-up":
                fill_settings(project, FILLED)
            for relative in PIPELINES:
                if not (project / relative).exists():
                    continue
                target = root / state / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(
                    yaml.safe_dump(compile_pipeline(project, relative), sort_keys=False)
                )
                files.append(target)
        # The settings are a variables template: checked as the variables of a pipeline.
        wrapped = root / "settings-as-pipeline.yml"
        wrapped.write_text(yaml.safe_dump({**settings, "steps": [{"script": "true"}]}))
        result[combination_id(answers)] = [*files, wrapped]
    return result


def test_pipelines_pass_the_azure_pipelines_schema(compiled: dict[str, list[Path]]) -> None:
    """One check-jsonschema run over every combination's compiled pipelines."""
    result = check_schema([path for files in compiled.values() for path in files])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("answers", AZURE)
def test_pipelines_are_yaml_that_keeps_azures_expressions(
    baked: dict[str, Baked], answers: dict
) -> None:
    project = baked[combination_id(answers)].path
    for relative in PIPELINES:
        if (project / relative).exists():
            text = (project / relative).read_text()
            assert not re.search(r"\{%|%\}|\{#|\{\{ *cookiecutter", text), relative
            yaml.safe_load(text)
    # The compile-time settings survived rendering (Jinja did not eat them).
    assert (
        "${{ if ne(variables.azureServiceConnection, '') }}"
        in (project / "azure-pipelines/train.yml").read_text()
        or answers["dvc_remote"] != "azure"
    )


@pytest.mark.parametrize("answers", AZURE)
def test_each_setting_is_referenced_only_where_its_option_is_on(
    baked: dict[str, Baked], answers: dict
) -> None:
    project = baked[combination_id(answers)]
    settings = yaml.safe_load(project.read(SETTINGS_FILE))["variables"]
    text = "\n".join(project.read(f) for f in PIPELINES if (project.path / f).exists())
    used = set(re.findall(r"variables\.([A-Za-z]+)", text)) | set(
        re.findall(r"\$\(([a-z][A-Za-z]+)\)", text)
    )
    assert used == set(settings), (used, set(settings))
    expected = set()
    if answers["serving"] or answers["dvc_remote"] == "azure":
        expected.add("azureServiceConnection")
    if answers["serving"]:
        expected.add("containerRegistry")
    if answers["deploy_target"] == "azure-container-apps":
        expected |= {"containerAppsResourceGroup", "stagingContainerApp", "productionContainerApp"}
    assert set(settings) == expected
    assert all(
        value in ("", project.path.name, f"{project.path.name}-staging")
        for value in settings.values()
    )
    assert ("AzureCLI@2" in project.read("azure-pipelines.yml")) == (
        answers["dvc_remote"] == "azure"
    )
    assert not (project.path / ".github").exists()
    assert not [
        line
        for line in project.read(".dvc/config").splitlines()
        if any(key in line for key in ("account_key", "sas_token", "connection_string"))
    ]


# --- the same command as the GitHub twin --------------------------------------

# Azure step (display name) -> where its GitHub Actions twin is: (file, step name).
TWINS = {
    "Install the project and its tools": (".github/actions/setup/action.yml", None),
    "Run every hook on every file": (".github/workflows/testing.yml", None),
    "Use the virtualenv in the next steps": (".github/workflows/testing.yml", None),
    "Run the tests": (".github/workflows/testing.yml", None),
    "Run the pipeline and the quality gate": (".github/workflows/testing.yml", None),
    "Compare with the base branch (parameters, metrics, plots)": (
        ".github/workflows/testing.yml",
        None,
    ),
    "Pull from the DVC remote": (
        ".github/actions/dvc-remote/action.yml",
        "Pull data, models and the run cache",
    ),
    "Run the pipeline": (".github/workflows/train.yml", None),
    "Apply the quality gate": (".github/workflows/train.yml", None),
    "Compare with the champion, the model of main": (".github/workflows/train.yml", None),
    "Compare with main": (".github/workflows/train.yml", None),
    "Push data, models and the run cache to the DVC remote": (".github/workflows/train.yml", None),
    "Build the wheel and the sdist, versioned by the tag": (".github/workflows/publish.yml", None),
    "Deploy the image": (".github/actions/deploy/action.yml", None),
    "Smoke-test the new revision": (".github/actions/deploy/action.yml", None),
}
# Steps with no command twin: what GitHub does with an action or its own API.
PLATFORM_ONLY = {
    "Install uv": "astral-sh/setup-uv",
    "Find the target branch's commit": "github.event.pull_request.base.sha",
    "Post the report, or update the thread of an earlier run": "gh api (issue comments)",
    "Collect the results": "actions/upload-artifact with paths",
    "Collect the model, its metrics, the lock file and the packages": (
        "publish.yml's collect step + artifacts"
    ),
    "Build and push the image (az acr build)": "docker/build-push-action",
    "Tag a new model for the release": "the propose action's pull request (nothing changed: none)",
    "Use the model of the training run": "deploy-model.yml's registered commit",
}
# Lines that talk to the platform rather than run the command.
# Lines that differ between the platforms by design: their logging commands,
# and the fail-fast line that GitHub's `shell: bash` implies and Azure's lacks.
PLUMBING = re.compile(
    r"##vso\[|\$GITHUB_(OUTPUT|PATH|STEP_SUMMARY)|::(notice|error) |^\s*set -eo pipefail$"
)


def commands(script: str) -> list[str]:
    """The script's command lines, without the platform's logging commands."""
    return [line.strip() for line in script.strip().splitlines() if not PLUMBING.search(line)]


def github_runs(project: Path, relative: str) -> dict[str, str]:
    """Step name -> run script, for every step of a workflow or composite action."""
    document = yaml.safe_load((project / relative).read_text())
    step_lists = (
        [document["runs"]["steps"]]
        if "runs" in document
        else [job.get("steps", []) for job in document["jobs"].values()]
    )
    return {
        s["name"]: s["run"] for steps in step_lists for s in steps if "run" in s and "name" in s
    }


def azure_scripts(node: object) -> list[tuple[str, str]]:
    """(display name, script) of every script and AzureCLI@2 step, in every branch."""
    found = []
    if isinstance(node, dict):
        script = node.get("script") or (
            node.get("inputs", {}).get("inlineScript") if node.get("task") == "AzureCLI@2" else None
        )
        if script is not None:
            found.append((node["displayName"], script))
        for value in node.values():
            found += azure_scripts(value)
    elif isinstance(node, list):
        for item in node:
            found += azure_scripts(item)
    return found


def test_every_azure_step_runs_the_same_command_as_its_github_twin(tmp_path: Path) -> None:
    answers: dict[str, Any] = {"dvc_remote": "azure", "deploy_target": "azure-container-apps"}
    github = bake(tmp_path / "github", **answers).path
    azure = bake(tmp_path / "azure", ci_platform="azure-pipelines", **answers).path
    checked = set()
    for relative in PIPELINES:
        for name, script in azure_scripts(yaml.safe_load((azure / relative).read_text())):
            if script.startswith('echo "##vso[task.logissue type=warning]'):
                continue  # a skipped step's message
            if name in PLATFORM_ONLY:
                continue
            assert name in TWINS, f"{relative}: step {name!r} has no GitHub twin declared"
            twin_file, twin_name = TWINS[name]
            runs = github_runs(github, twin_file)
            twin = runs[twin_name or name]
            # A GitHub script reads the package's name from its workflow's env.
            package = yaml.safe_load((github / twin_file).read_text()).get("env", {})
            twin = twin.replace('"$PACKAGE"', package.get("PACKAGE", '"$PACKAGE"'))
            assert commands(script) == commands(twin), (relative, name)
            checked.add(name)
    assert checked == set(TWINS)


@pytest.mark.parametrize("answers", AZURE)
def test_every_script_of_several_commands_stops_at_the_first_failure(
    baked: dict[str, Baked], answers: dict
) -> None:
    """Azure starts each script as ``bash --noprofile --norc <file>``: without
    ``set -eo pipefail`` a failing command (the gate piped into tee) is ignored."""
    project = baked[combination_id(answers)].path
    for path in [project / relative for relative in PIPELINES if (project / relative).exists()]:
        for name, script in azure_scripts(yaml.safe_load(path.read_text())):
            lines = [line for line in script.strip().splitlines() if line.strip()]
            if len(lines) > 1 or "|" in script:
                assert lines[0].strip() == "set -eo pipefail", (path.name, name)


@pytest.mark.slow
def test_a_failing_gate_fails_its_azure_step(tmp_path: Path, baked_venv: Path) -> None:
    project = bake(tmp_path / "bake", ci_platform="azure-pipelines", venv=baked_venv)
    (project.path / "models" / "model.joblib").parent.mkdir(exist_ok=True)
    (project.path / "models" / "model.joblib").write_bytes(b"a model")
    low = {"accuracy": 0.5, "f1": 0.5, "roc_auc": 0.5}
    (project.path / "reports" / "metrics.json").write_text(json.dumps(low))
    train = yaml.safe_load((project.path / "azure-pipelines" / "train.yml").read_text())
    script = dict(azure_scripts(train))["Apply the quality gate"]
    agent = Agent(project.path, project.env())

    with pytest.raises(AssertionError, match="exited 1"):
        agent.bash(script, {"displayName": "Apply the quality gate"})
    assert "Quality gate failed" in (project.path / "gate.txt").read_text()


@pytest.mark.parametrize("answers", AZURE)
def test_steps_speak_the_agent_s_logging_commands_not_github_s(
    baked: dict[str, Baked], answers: dict
) -> None:
    """The Azure agent prints ``::error ...`` as plain text; an error or warning
    is ``##vso[task.logissue type=...]``
    (https://learn.microsoft.com/en-us/azure/devops/pipelines/scripts/logging-commands)."""
    project = baked[combination_id(answers)].path
    for relative in PIPELINES:
        if (project / relative).exists():
            text = (project / relative).read_text()
            assert not re.findall(r"::(?:error|warning|notice|group|endgroup)\b", text), relative


@pytest.mark.parametrize(
    "expression,expected",
    [
        ("and(succeeded(), eq(variables['Build.Reason'], 'pullrequest'))", True),
        ("ne(variables.azureServiceConnection, '')", False),
        ("eq(trim(parameters.image), '')", True),
        ("lower(parameters.force)", "true"),
        ("startsWith(variables['Build.SourceBranch'], 'refs/tags/v')", True),
        ("eq('it''s', 'IT''S')", True),
        ("not(or(false, eq(1, 2)))", True),
    ],
)
def test_the_agent_reads_azures_expressions(expression: str, expected: object) -> None:
    variables = {"Build.Reason": "PullRequest", "Build.SourceBranch": "refs/tags/v1.2.0"}
    parameters = {"image": "  ", "force": True}
    assert evaluate(expression, variables, parameters) == expected


@pytest.mark.parametrize("expression", ["__import__('os')", "eq(1, 2) + 1", "variables['x'"])
def test_the_agent_refuses_what_it_cannot_read(expression: str) -> None:
    with pytest.raises((AssertionError, KeyError, IndexError)):
        evaluate(expression, {}, {})
