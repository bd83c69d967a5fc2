"""Run a baked project's Azure Pipelines steps on this machine, as the agent would.

No Azure DevOps service is reachable here, so this is a small agent for the
YAML the template writes: ``compile_pipeline`` expands the compile-time parts
(the ``variables`` template, ``${{ if }}``/``${{ else }}`` insertions,
``${{ variables.x }}``/``${{ parameters.x }}`` values) with the few expression
functions the pipelines use; ``Agent.run_job`` then runs each step in order in
the project directory: ``script`` steps with bash as the Linux agent starts it,
``bash --noprofile --norc <file>``, so without ``-e`` or ``pipefail``: only the
last command's status counts (azure-pipelines-agent issue 1803; macros ``$(name)`` replaced,
variables exported as environment variables the way Azure Pipelines names
them), ``AzureCLI@2`` inline scripts after a login through the service
connection (the ``az`` stand-in's login), and it honours the logging commands
the steps print (``task.prependpath``, ``task.setvariable``,
``task.logissue``, ``build.addbuildtag``). ``PublishPipelineArtifact@1`` keeps a
copy of its path as the run's artifact; a ``download`` step brings a pipeline
resource's artifact into ``$(Pipeline.Workspace)/<resource>/<artifact>``.
Step conditions are evaluated against the run's predefined variables.

Between pipelines: ``completion_triggers`` says whether a finished run starts
a pipeline through its ``resources.pipelines`` trigger, and ``clone_at`` gives
the triggered run its checkout, the commit of the run that triggered it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MACRO = re.compile(r"\$\(([A-Za-z0-9_.]+)\)")
TEMPLATE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
LOGGING = re.compile(r"^##vso\[([a-z.]+)([^\]]*)\](.*)$")
# Steps that stand for a hosted agent's set-up, done here by the test run itself.
AGENT_SETUP_TASKS = ("UsePythonVersion@0", "Cache@2")


# An expression's tokens: a string ('it''s'), a number, a name (dotted, as
# variables.x), a bracket, a parenthesis or a comma.
TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w.]*)|([()\[\],]))")


def tokens(expression: str) -> list[str]:
    """The tokens of an expression; anything else in it is refused."""
    found, position, text = [], 0, expression.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot read {text[position:]!r} in {text!r}"
        found.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return found


def evaluate(expression: str, variables: dict, parameters: dict, status: str = "ok") -> object:
    """An Azure Pipelines expression (the functions the template's pipelines use).

    The grammar and functions of "Expressions" (learn.microsoft.com/azure/devops/
    pipelines/process/expressions): string literals in single quotes, ``true``
    and ``false``, ``variables['x']``, ``variables.x`` and ``parameters.x``,
    and calls; ``eq``, ``ne`` and ``startsWith`` ignore case; a function's name
    too. An unknown function or variable syntax fails the test.
    """
    functions: dict[str, Callable[..., object]] = {
        "and": lambda *a: all(a),
        "or": lambda *a: any(a),
        "not": lambda a: not a,
        "eq": lambda a, b: str(a).lower() == str(b).lower(),
        "ne": lambda a, b: str(a).lower() != str(b).lower(),
        "startswith": lambda a, b: str(a).lower().startswith(str(b).lower()),
        "trim": lambda a: str(a).strip(),
        "lower": lambda a: str(a).lower(),
        "succeeded": lambda: status == "ok",
        "succeededorfailed": lambda: True,
        "always": lambda: True,
    }
    queue = tokens(expression)

    def take(expected: str | None = None) -> str:
        token = queue.pop(0)
        assert expected is None or token == expected, f"{expected!r} expected in {expression!r}"
        return token

    def value() -> object:
        token = take()
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token[0].isdigit() or token[0] == "-":
            return float(token)
        if token.lower() in ("true", "false"):
            return token.lower() == "true"
        if token == "variables" and queue[:1] == ["["]:
            take("[")
            name = str(value())
            take("]")
            return variables.get(name, "")
        scope, _, name = token.partition(".")
        if scope in ("variables", "parameters") and name:
            return variables.get(name, "") if scope == "variables" else parameters[name]
        take("(")
        arguments = []
        while queue[0] != ")":
            arguments.append(value())
            if queue[0] == ",":
                take(",")
        take(")")
        return functions[token.lower()](*arguments)

    result = value()
    assert not queue, f"unread {queue} in {expression!r}"
    return result


def as_text(value: object) -> str:
    """A value as Azure writes it into YAML: booleans as ``true``/``false``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def template_expression(key: str) -> str:
    """The expression of an insertion key such as ``${{ if eq(a, b) }}``."""
    found = TEMPLATE.fullmatch(key)
    assert found, f"not a template expression: {key}"
    return found.group(1)


def expand(node: Any, variables: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """Resolve ``${{ }}`` insertions and values, as Azure does when it compiles a run."""
    if isinstance(node, list):
        out: list = []
        taken = False
        for item in node:
            if isinstance(item, dict) and len(item) == 1:
                ((key, value),) = item.items()
                if isinstance(key, str) and key.startswith("${{"):
                    inner = template_expression(key)
                    if inner == "else":
                        chosen = not taken
                    else:
                        taken = bool(evaluate(inner.removeprefix("if "), variables, parameters))
                        chosen = taken
                    if chosen:
                        out.extend(expand(value, variables, parameters))
                    continue
            out.append(expand(item, variables, parameters))
        return out
    if isinstance(node, dict):
        out_dict: dict = {}
        taken = False
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("${{"):
                inner = template_expression(key)
                chosen = (
                    (not taken)
                    if inner == "else"
                    else bool(evaluate(inner.removeprefix("if "), variables, parameters))
                )
                taken = taken or (inner != "else" and chosen)
                if chosen:
                    out_dict.update(expand(value, variables, parameters))
                continue
            out_dict[key] = expand(value, variables, parameters)
        return out_dict
    if isinstance(node, str) and "${{" in node:
        return TEMPLATE.sub(lambda m: as_text(evaluate(m.group(1), variables, parameters)), node)
    return node


def compile_pipeline(project: Path, relative: str, parameters: dict | None = None) -> dict:
    """The pipeline as Azure compiles it: variables template read, insertions resolved."""
    path = project / relative
    pipeline = yaml.safe_load(path.read_text())
    params = {p["name"]: p.get("default") for p in pipeline.get("parameters", [])}
    params.update(parameters or {})
    variables: dict = {}
    raw_variables = pipeline.get("variables", [])
    for entry in raw_variables:
        if "template" in entry:
            template = yaml.safe_load((path.parent / entry["template"]).read_text())
            variables.update({k: str(v) for k, v in template["variables"].items()})
    # Insertions inside `variables` may read the template's values.
    for entry in expand(raw_variables, variables, params):
        if "name" in entry:
            variables[entry["name"]] = str(entry["value"])
    compiled = expand(pipeline, variables, params)
    compiled["variables"] = variables
    return compiled


def jobs(compiled: dict) -> dict[str, list[dict]]:
    """Every job's steps by job id (stage.job for stages), in file order."""
    found: dict[str, list[dict]] = {}
    for stage in compiled.get("stages", [{"stage": "", "jobs": compiled.get("jobs", [])}]):
        for job in stage["jobs"]:
            name = job.get("job") or job.get("deployment")
            steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            found[f"{stage['stage']}.{name}".lstrip(".")] = steps
    return found


SETTINGS_FILE = "azure-pipelines/settings.yml"
# What a user fills in once the Azure resources exist (a pipeline "set up").
FILLED = {
    "azureServiceConnection": "ml-azure",
    "containerRegistry": "acme",
    "containerAppsResourceGroup": "ml-serving",
}


def fill_settings(project: Path, values: dict) -> None:
    """Write ``values`` into azure-pipelines/settings.yml, as a user sets them up."""
    path = project / SETTINGS_FILE
    text = path.read_text()
    for name, value in values.items():
        text = text.replace(f'{name}: ""', f'{name}: "{value}"')
    path.write_text(text)


def env_name(variable: str) -> str:
    """How Azure Pipelines exports a variable: upper case, '.' as '_'."""
    return variable.replace(".", "_").upper()


def completion_triggers(pipeline: dict, alias: str, run: Agent, branch: str) -> bool:
    """Whether a successful run of the pipeline resource ``alias`` (on ``branch``)
    starts ``pipeline``: the trigger's branches include the run's branch, and the
    run carries every tag the trigger lists
    (https://learn.microsoft.com/en-us/azure/devops/pipelines/process/pipeline-triggers,
    https://learn.microsoft.com/en-us/azure/devops/pipelines/yaml-schema/resources-pipelines-pipeline-trigger).
    """
    (resource,) = [p for p in pipeline["resources"]["pipelines"] if p["pipeline"] == alias]
    trigger = resource.get("trigger")
    if trigger in (None, False, "none"):
        return False
    if trigger is True or trigger == "true":
        return True
    branches = trigger.get("branches", {})
    include = branches.get("include", []) if isinstance(branches, dict) else branches
    short = branch.removeprefix("refs/heads/")
    if include and not any(fnmatch.fnmatchcase(short, str(p)) for p in include):
        return False
    return set(trigger.get("tags", [])) <= set(run.tags)


def clone_at(origin: Path, commit: str, where: Path) -> Path:
    """The checkout of a run that a pipeline completion trigger started: "If the
    triggering pipeline and the triggered pipeline use the same repository, both
    pipelines will run using the same commit when one triggers the other"
    (https://learn.microsoft.com/en-us/azure/devops/pipelines/process/pipeline-triggers)."""
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    subprocess.run(["git", "-C", str(where), "checkout", "-q", commit], check=True)
    return where


@dataclass
class Agent:
    """One agent run over a project clone: its variables, PATH and what the steps
    said; the artifacts and build tags it leaves; ``resources``: the finished runs
    of its pipeline resources, by alias."""

    project: Path
    env: dict
    variables: dict = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
    resources: dict[str, Agent] = field(default_factory=dict)

    def macro(self, text: str) -> str:
        """``$(name)`` replaced, also inside the values it brings in (a variable
        defined as ``$(containerRegistry).azurecr.io/...``), as Azure does."""
        for _ in range(10):
            expanded = MACRO.sub(lambda m: self.variables.get(m.group(1), m.group(0)), text)
            if expanded == text:
                break
            text = expanded
        return text

    def step_env(self, step: dict, extra: dict | None = None) -> dict:
        env = dict(self.env)
        env.update({env_name(k): self.macro(v) for k, v in self.variables.items()})
        env.update({k: self.macro(str(v)) for k, v in (step.get("env") or {}).items()})
        env["PATH"] = os.pathsep.join([*self.path, env["PATH"]])
        env.update(extra or {})
        return env

    def bash(self, script: str, step: dict, extra: dict | None = None) -> None:
        name = step.get("displayName", script.splitlines()[0])
        script_file = self.project.parent / "azure-step.sh"
        script_file.write_text(self.macro(script))
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", str(script_file)],
            cwd=self.project,
            env=self.step_env(step, extra),
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        self.output.append(f"--- {name}\n{result.stdout}{result.stderr}")
        for line in result.stdout.splitlines():
            match = LOGGING.match(line.strip())
            if not match:
                continue
            command, properties, value = match.groups()
            if command == "task.prependpath":
                self.path.insert(0, value)
            elif command == "task.setvariable":
                named = re.search(r"variable=([^;]+)", properties)
                assert named, f"task.setvariable without a variable: {line}"
                variable = named.group(1)
                self.variables[variable] = value
            elif command == "task.logissue" and "type=warning" in properties:
                self.warnings.append(value)
            elif command == "task.logissue" and "type=error" in properties:
                self.errors.append(value)
            elif command == "build.addbuildtag":
                self.tags.append(value)
        assert result.returncode == 0, (
            f"step {name!r} exited {result.returncode}\n{result.stdout[-4000:]}\n"
            f"{result.stderr[-4000:]}"
        )

    def run_job(self, steps: list[dict], skip: tuple[str, ...] = ()) -> None:
        """Run ``steps`` in order; ``skip``: display names of agent set-up steps."""
        for step in steps:
            name = step.get("displayName", "")
            condition = step.get("condition", "succeeded()")
            if not evaluate(condition, self.variables, {}):
                continue
            if "checkout" in step or name in skip or step.get("task") in AGENT_SETUP_TASKS:
                continue
            self.ran.append(name)
            if "script" in step:
                self.bash(step["script"], step)
            elif step.get("task") == "AzureCLI@2":
                inputs = step["inputs"]
                assert inputs["azureSubscription"], name
                assert inputs["scriptType"] == "bash" and inputs["scriptLocation"] == "inlineScript"
                login = {
                    "AZURE_STANDIN_LOGGED_IN": "1",
                    "AZURE_STANDIN_PRINCIPAL": "service-connection",
                }
                self.bash(inputs["inlineScript"], step, login)
            elif step.get("task") == "PublishPipelineArtifact@1":
                target = self.project / self.macro(step["inputs"]["targetPath"])
                assert target.exists(), f"{name}: nothing at {target} to publish"
                kept = self.project.parent / f"artifact-{id(self)}" / step["inputs"]["artifact"]
                shutil.copytree(target, kept)
                self.artifacts[step["inputs"]["artifact"]] = kept
            elif "download" in step:
                # A regular job downloads a pipeline resource's artifacts only
                # with this step (https://learn.microsoft.com/en-us/azure/devops/
                # pipelines/yaml-schema/steps-download).
                run, artifact = self.resources[step["download"]], step["artifact"]
                workspace = Path(self.macro("$(Pipeline.Workspace)"))
                shutil.copytree(run.artifacts[artifact], workspace / step["download"] / artifact)
            else:
                raise AssertionError(f"step not modelled: {step}")
