"""Run the shell steps of a baked GitHub Actions workflow on this machine.

The template's tests use it to prove that the ``run:`` steps of the baked
workflows (``make setup``, ``make lint``, ``make test``, ``make repro``, the
pipeline report, ``make docs``, the retraining job) pass in a baked project,
in the order GitHub runs them, without GitHub.

What runs, and how
------------------
* ``run:`` steps execute in order, with bash, as on GitHub's Linux runners: no
  ``shell`` means ``bash -e {0}``; ``shell: bash`` (here usually from
  ``defaults.run``) means ``bash --noprofile --norc -eo pipefail {0}``.
* ``env:`` of the workflow, the job and the step are merged in that order, on
  top of GitHub's default variables (``CI``, ``GITHUB_WORKSPACE``,
  ``GITHUB_REPOSITORY``, ...). ``GITHUB_ENV``, ``GITHUB_PATH``, ``GITHUB_OUTPUT``
  and ``GITHUB_STEP_SUMMARY`` work as on GitHub; outputs become
  ``steps.<id>.outputs`` and, through the job's ``outputs:``, the job's outputs.
* ``if:`` (implicitly ``success() && ...`` without a status function),
  ``continue-on-error`` and the ``${{ }}`` expressions in ``env:``, ``run:``
  and job ``outputs:`` are evaluated by a small evaluator of GitHub's
  expression language (:func:`evaluate`).

Local values for what GitHub fills in
-------------------------------------
Every expression is evaluated against an explicit :class:`Context` built by
the test: ``github.*`` (event name, ref, repository, base SHA, token...),
``matrix.*`` and ``runner.*`` must be given, and a name that is missing is an
error, so nothing turns silently empty. As on GitHub, a missing field of the
event payload (``github.event.*``), an unset ``vars.*`` or ``secrets.*`` and an
``inputs.*`` of a run that was not dispatched are empty.

What is skipped, and what stands in for it
------------------------------------------
* ``uses:`` steps never run. The caller provides their effect:
  ``actions/checkout`` -> the workspace is a ``git clone`` of the baked project
  (full history and an ``origin`` remote, like ``fetch-depth: 0``);
  ``astral-sh/setup-uv`` -> ``tool_dirs`` put ``uv`` on ``PATH``; caches,
  artifacts and cloud logins -> nothing (a later step that needs an artifact
  gets its file from the test).
* Steps that publish (push to the DVC remote, open pull requests or issues,
  post comments, upload release assets, deploy) carry an ``id`` starting with
  :data:`PUBLISH_PREFIX`. They are skipped unless ``allow_publish`` is set,
  which tests do only with a fake ``gh`` on ``PATH``.
* ``make setup`` is not substituted: it creates ``.venv`` in the workspace, as
  in CI, in a few seconds, because uv installs from its cache, which the test
  session has already filled with every baked dependency (``baked_venv``). The
  shared ``baked_venv`` itself is never used as ``.venv`` (``VENV=``): ``make
  setup`` rewrites a virtualenv's ``pyvenv.cfg`` and ``bin/python``, which
  would break the tests running from it at that moment. A job in a fresh
  ``.venv`` is not measurably slower than in a warm one: importing
  scikit-learn and pandas costs the same in both.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PUBLISH_PREFIX = "publish-"
STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")

# GitHub's default shells on Linux (the {0} is the script file).
DEFAULT_SHELL = "bash -e {0}"
NAMED_SHELLS = {
    "bash": "bash --noprofile --norc -eo pipefail {0}",
    "sh": "sh -e {0}",
}


class ExpressionError(ValueError):
    """An expression is invalid, or needs a value the context does not define."""


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))
      | (?P<string>'(?:[^']|'')*')
      | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.*])
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Missing:
    """Marks a context lookup that found nothing (strict contexts raise on it)."""


def _to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    """GitHub's truthiness: null, false, 0, NaN and '' are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def to_text(value: Any) -> str:
    """How GitHub writes a value into a string (``${{ }}`` inside text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _equal(left: Any, right: Any) -> bool:
    kind_left, kind_right = _kind(left), _kind(right)
    if kind_left == kind_right:
        if kind_left == "string":
            return left.casefold() == right.casefold()
        if kind_left == "object":
            return left is right
        return left == right
    if "object" in (kind_left, kind_right):
        return False
    return _to_number(left) == _to_number(right)


def _compare(operator: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.casefold(), right.casefold()
    else:
        left, right = _to_number(left), _to_number(right)
        if math.isnan(left) or math.isnan(right):
            return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
        operator
    ]


class _Parser:
    """Recursive descent over GitHub's expression grammar."""

    def __init__(
        self, text: str, resolve: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]]
    ) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0
        self.resolve = resolve
        self.functions = functions

    def parse(self) -> Any:
        value = self._or()
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _accept(self, *ops: str) -> str | None:
        token = self._peek()
        if token is not None and token[0] == "op" and token[1] in ops:
            self.position += 1
            return token[1]
        return None

    def _expect(self, op: str) -> None:
        if self._accept(op) is None:
            raise ExpressionError(f"expected {op!r} in {self.text!r}")

    def _or(self) -> Any:
        value = self._and()
        while self._accept("||"):
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._equality()
        while self._accept("&&"):
            right = self._equality()
            value = right if truthy(value) else value
        return value

    def _equality(self) -> Any:
        value = self._comparison()
        while (operator := self._accept("==", "!=")) is not None:
            right = self._comparison()
            value = _equal(value, right) if operator == "==" else not _equal(value, right)
        return value

    def _comparison(self) -> Any:
        value = self._unary()
        while (operator := self._accept("<", "<=", ">", ">=")) is not None:
            value = _compare(operator, value, self._unary())
        return value

    def _unary(self) -> Any:
        if self._accept("!"):
            return not truthy(self._unary())
        return self._postfix()

    def _postfix(self) -> Any:
        token = self._peek()
        if token is None:
            raise ExpressionError(f"unexpected end of {self.text!r}")
        kind, text = token
        self.position += 1
        if kind == "number":
            return _to_number(text)
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "op" and text == "(":
            value = self._or()
            self._expect(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._accept("("):
            return self._call(text)
        path = text
        while True:
            if self._accept("."):
                name = self._peek()
                if name is None or name[0] != "name":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                self.position += 1
                path += "." + name[1]
            elif self._accept("["):
                index = self._or()
                self._expect("]")
                path += "." + to_text(index)
            else:
                return self.resolve(path)

    def _call(self, name: str) -> Any:
        arguments = []
        if not self._accept(")"):
            arguments.append(self._or())
            while self._accept(","):
                arguments.append(self._or())
            self._expect(")")
        function = self.functions.get(name.lower())
        if function is None:
            raise ExpressionError(f"function {name}() is not supported by the local runner")
        return function(*arguments)


def _format(template: str, *values: Any) -> str:
    return re.sub(r"\{(\d+)\}", lambda m: to_text(values[int(m.group(1))]), template)


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(_equal(element, item) for element in search)
    return to_text(item).casefold() in to_text(search).casefold()


PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda text, prefix: to_text(text)
    .casefold()
    .startswith(to_text(prefix).casefold()),
    "endswith": lambda text, suffix: to_text(text).casefold().endswith(to_text(suffix).casefold()),
    "format": _format,
    "join": lambda items, separator=",": to_text(separator).join(
        to_text(item) for item in (items if isinstance(items, list) else [items])
    ),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda text: json.loads(text),
}


# Functions GitHub offers; check_syntax accepts a call to any of them.
GITHUB_FUNCTIONS = (*PURE_FUNCTIONS, "hashfiles", *STATUS_FUNCTIONS)


def check_syntax(expression: str) -> None:
    """Raise :class:`ExpressionError` unless ``expression`` parses (values are not needed)."""
    functions = {name: (lambda *arguments: None) for name in GITHUB_FUNCTIONS}
    _Parser(expression, lambda path: None, functions).parse()


def uses_status_function(expression: str) -> bool:
    """True when an ``if:`` calls success(), failure(), cancelled() or always()."""
    tokens = _tokenize(expression)
    return any(
        kind == "name"
        and text.lower() in STATUS_FUNCTIONS
        and index + 1 < len(tokens)
        and tokens[index + 1] == ("op", "(")
        for index, (kind, text) in enumerate(tokens)
    )


def strip_braces(text: str) -> str:
    """``${{ expr }}`` -> ``expr`` (``if:`` may be written either way)."""
    stripped = text.strip()
    if stripped.startswith("${{") and stripped.endswith("}}") and stripped.count("${{") == 1:
        return stripped[3:-2].strip()
    return stripped


# --------------------------------------------------------------------------
# Context and results
# --------------------------------------------------------------------------


@dataclass
class Context:
    """The values GitHub would provide, defined explicitly by the caller.

    ``github`` holds the ``github`` context (``event_name``, ``ref``,
    ``repository``, ``event`` payload, ``token``...). ``needs`` maps a job id to
    ``{"result": ..., "outputs": {...}}`` for jobs that ran "before".
    """

    github: dict[str, Any]
    matrix: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    runner: dict[str, Any] = field(default_factory=lambda: {"os": "Linux", "arch": "X64"})
    needs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class StepResult:
    """What happened to one step.

    ``status`` is ``ran``, ``skipped-if`` (its condition was false),
    ``skipped-uses`` (an action), ``skipped-publish`` (a publishing step) or
    ``filtered`` (excluded by the caller's ``only``).
    """

    index: int
    id: str | None
    name: str
    status: str
    outcome: str = "skipped"
    conclusion: str = "skipped"
    returncode: int | None = None
    log: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class JobResult:
    """What happened to one job."""

    job_id: str
    result: str
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def step(self, key: str) -> StepResult:
        """A step by id or by name."""
        for step in self.steps:
            if key in (step.id, step.name):
                return step
        raise KeyError(f"job {self.job_id} has no step {key!r}")

    def ran(self) -> list[str]:
        """The names of the steps that ran."""
        return [step.name for step in self.steps if step.status == "ran"]

    def describe(self) -> str:
        """A readable account of every step, with the log of failed ones."""
        lines = [f"job {self.job_id}: {self.result}"]
        for step in self.steps:
            timing = f" ({step.seconds:.1f} s)" if step.status == "ran" else ""
            lines.append(f"  [{step.status}/{step.outcome}] {step.name}{timing}")
            if step.outcome == "failure":
                lines.append("    " + step.log[-8000:].replace("\n", "\n    "))
        return "\n".join(lines)

    def assert_success(self) -> None:
        """Fail the calling test with every step's status and the failed logs."""
        assert self.result == "success", self.describe()


# --------------------------------------------------------------------------
# Workflow and runner
# --------------------------------------------------------------------------


class Workflow:
    """A workflow file, parsed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # PyYAML reads the key `on` as True: the runner never needs it.
        self.data: dict[str, Any] = yaml.safe_load(self.path.read_text(encoding="utf-8"))

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.data["jobs"]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.jobs[job_id]


def parse_command_file(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT / GITHUB_ENV: ``key=value`` and ``key<<DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            block = []
            while index < len(lines) and lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            if index == len(lines):
                raise ValueError(f"unterminated {key}<<{delimiter} block")
            index += 1
            values[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
        else:
            raise ValueError(f"invalid command file line: {line!r}")
    return values


class Runner:
    """Runs the jobs of baked workflows in ``workspace`` with ``context``.

    ``base_env`` is the process environment the steps start from (the caller's
    clean environment); ``tool_dirs`` go first on ``PATH`` in place of the setup
    actions. ``timeout`` bounds each step in seconds.
    """

    def __init__(
        self,
        workspace: Path,
        context: Context,
        *,
        base_env: Mapping[str, str],
        tool_dirs: Iterable[Path] = (),
        allow_publish: bool = False,
        timeout: float = 900,
    ) -> None:
        self.workspace = Path(workspace)
        self.context = context
        self.base_env = dict(base_env)
        self.tool_dirs = [str(path) for path in tool_dirs]
        self.allow_publish = allow_publish
        self.timeout = timeout

    # -- expressions -------------------------------------------------------

    def _resolver(
        self, env: Mapping[str, str], steps: Mapping[str, StepResult]
    ) -> Callable[[str], Any]:
        context = self.context

        def lookup(root: Any, parts: list[str], strict: bool, path: str) -> Any:
            value = root
            for part in parts:
                if isinstance(value, dict) and part in value:
                    value = value[part]
                elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                    value = value[int(part)]
                elif strict:
                    raise ExpressionError(
                        f"{path}: not defined in the local context (define it explicitly)"
                    )
                else:
                    return None
            return value

        def resolve(path: str) -> Any:
            head, *rest = path.split(".")
            if head == "github":
                if rest[:1] == ["event"]:
                    event = lookup(context.github, ["event"], True, path)
                    return lookup(event, rest[1:], False, path)
                return lookup(context.github, rest, True, path)
            if head in ("matrix", "runner"):
                return lookup(getattr(context, head), rest, True, path)
            if head in ("vars", "secrets"):
                value = lookup(getattr(context, head), rest, False, path)
                return "" if value is None else value
            if head == "inputs":
                return lookup(context.inputs, rest, False, path)
            if head == "env":
                return lookup(dict(env), rest, False, path)
            if head == "needs":
                return lookup(context.needs, rest, False, path)
            if head == "steps":
                data = {
                    key: {
                        "outputs": step.outputs,
                        "outcome": step.outcome,
                        "conclusion": step.conclusion,
                    }
                    for key, step in steps.items()
                }
                return lookup(data, rest, False, path)
            raise ExpressionError(f"{path}: context {head!r} is not supported by the local runner")

        return resolve

    def evaluate(
        self,
        expression: str,
        *,
        env: Mapping[str, str] | None = None,
        steps: Mapping[str, StepResult] | None = None,
        status: str = "success",
    ) -> Any:
        """Evaluate one expression (without ``${{ }}``).

        ``status`` is the job's state so far (``success`` or ``failure``) for the
        status functions.
        """
        functions = dict(PURE_FUNCTIONS)
        functions.update(
            {
                "success": lambda: status == "success",
                "failure": lambda: status == "failure",
                "cancelled": lambda: False,
                "always": lambda: True,
            }
        )
        return _Parser(expression, self._resolver(env or {}, steps or {}), functions).parse()

    def interpolate(
        self,
        text: Any,
        *,
        env: Mapping[str, str] | None = None,
        steps: Mapping[str, StepResult] | None = None,
    ) -> str:
        """Replace every ``${{ expr }}`` in ``text`` by its value, as GitHub does."""
        if not isinstance(text, str):
            return to_text(text)
        parts, position = [], 0
        while (start := text.find("${{", position)) != -1:
            end = text.find("}}", start)
            if end == -1:
                raise ExpressionError(f"unterminated expression in {text!r}")
            parts.append(text[position:start])
            parts.append(
                to_text(self.evaluate(text[start + 3 : end].strip(), env=env, steps=steps))
            )
            position = end + 2
        parts.append(text[position:])
        return "".join(parts)

    def condition(
        self,
        expression: Any,
        *,
        env: Mapping[str, str] | None = None,
        steps: Mapping[str, StepResult] | None = None,
        status: str = "success",
    ) -> bool:
        """Evaluate an ``if:`` (absent = success(); no status function = success() && ...)."""
        if expression is None:
            return status == "success"
        if isinstance(expression, bool):
            return expression and status == "success"
        expression = strip_braces(str(expression))
        if not uses_status_function(expression):
            expression = f"success() && ({expression})"
        return truthy(self.evaluate(expression, env=env, steps=steps, status=status))

    def job_condition(self, workflow: Workflow, job_id: str) -> bool:
        """Would GitHub start this job, given ``context.needs``?"""
        job = workflow.job(job_id)
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else list(needs)
        missing = [need for need in needs if need not in self.context.needs]
        if missing:
            raise ExpressionError(
                f"job {job_id} needs {missing}: give their results in context.needs"
            )
        status = (
            "success"
            if all(self.context.needs[need].get("result") == "success" for need in needs)
            else "failure"
        )
        return self.condition(job.get("if"), status=status)

    # -- running -----------------------------------------------------------

    def _shell(self, job: dict[str, Any], workflow: Workflow, step: dict[str, Any]) -> list[str]:
        shell = step.get("shell")
        for defaults in (job.get("defaults", {}), workflow.data.get("defaults", {})):
            if shell is None:
                shell = defaults.get("run", {}).get("shell")
        template = NAMED_SHELLS.get(shell, shell) if shell else DEFAULT_SHELL
        if "{0}" not in template:
            raise ExpressionError(f"unsupported shell {shell!r}")
        return shlex.split(template)

    def _working_directory(
        self, job: dict[str, Any], workflow: Workflow, step: dict[str, Any]
    ) -> Path:
        directory = step.get("working-directory")
        for defaults in (job.get("defaults", {}), workflow.data.get("defaults", {})):
            if directory is None:
                directory = defaults.get("run", {}).get("working-directory")
        return self.workspace / directory if directory else self.workspace

    def _github_env(self, temp: Path) -> dict[str, str]:
        github = self.context.github
        env = {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": str(self.context.runner.get("os", "Linux")),
        }
        for key in (
            "repository",
            "event_name",
            "ref",
            "ref_name",
            "sha",
            "base_ref",
            "head_ref",
            "run_id",
            "server_url",
            "workflow",
            "actor",
        ):
            if key in github:
                env[f"GITHUB_{key.upper()}"] = to_text(github[key])
        return env

    def run_job(
        self,
        workflow: Workflow,
        job_id: str,
        *,
        only: Callable[[dict[str, Any]], bool] | None = None,
    ) -> JobResult:
        """Run one job's steps in order; ``only`` keeps just the steps it accepts.

        The job's own ``if:`` is not checked here (see :meth:`job_condition`):
        a test asks for the job it wants to run.
        """
        job = workflow.job(job_id)
        if "steps" not in job:
            raise ExpressionError(f"job {job_id} has no steps (a reusable workflow call?)")
        with tempfile.TemporaryDirectory(prefix="runner-") as scratch:
            temp = Path(scratch)
            summary_file = temp / "step_summary.md"
            summary_file.touch()
            env: dict[str, str] = {}
            base = {
                **self.base_env,
                **self._github_env(temp),
                "GITHUB_STEP_SUMMARY": str(summary_file),
            }
            extra_path: list[str] = list(self.tool_dirs)
            # Workflow and job env are evaluated once, at the start of the job.
            for source in (workflow.data.get("env", {}), job.get("env", {})):
                for key, value in (source or {}).items():
                    env[key] = self.interpolate(value, env=env)
            steps_by_key: dict[str, StepResult] = {}
            result = JobResult(job_id=job_id, result="success")
            for index, step in enumerate(job["steps"]):
                name = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
                record = StepResult(index=index, id=step.get("id"), name=name, status="ran")
                result.steps.append(record)
                if step.get("id"):
                    steps_by_key[step["id"]] = record
                if only is not None and not only(step):
                    record.status = "filtered"
                    continue
                step_env = {**env}
                if not self.condition(
                    step.get("if"), env=step_env, steps=steps_by_key, status=result.result
                ):
                    record.status = "skipped-if"
                    continue
                if "uses" in step:
                    record.status = "skipped-uses"
                    continue
                if str(step.get("id", "")).startswith(PUBLISH_PREFIX) and not self.allow_publish:
                    record.status = "skipped-publish"
                    continue
                for key, value in (step.get("env") or {}).items():
                    step_env[key] = self.interpolate(value, env=step_env, steps=steps_by_key)
                self._run_step(
                    job, workflow, step, record, temp, base, step_env, extra_path, steps_by_key, env
                )
                continue_on_error = step.get("continue-on-error", False)
                if isinstance(continue_on_error, str):
                    continue_on_error = truthy(
                        self.evaluate(
                            strip_braces(continue_on_error), env=step_env, steps=steps_by_key
                        )
                    )
                record.conclusion = (
                    "success"
                    if record.outcome == "failure" and continue_on_error
                    else record.outcome
                )
                if record.conclusion == "failure":
                    result.result = "failure"
            for key, value in (job.get("outputs") or {}).items():
                result.outputs[key] = self.interpolate(value, env=env, steps=steps_by_key)
            result.summary = summary_file.read_text(encoding="utf-8")
        return result

    def _run_step(
        self,
        job: dict[str, Any],
        workflow: Workflow,
        step: dict[str, Any],
        record: StepResult,
        temp: Path,
        base: dict[str, str],
        step_env: dict[str, str],
        extra_path: list[str],
        steps_by_key: dict[str, StepResult],
        job_env: dict[str, str],
    ) -> None:
        """Run one ``run:`` step and apply its command files."""
        script = temp / f"step-{record.index}.sh"
        script.write_text(
            self.interpolate(step["run"], env=step_env, steps=steps_by_key), encoding="utf-8"
        )
        files = {}
        for variable in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            files[variable] = temp / f"{variable.lower()}-{record.index}"
            files[variable].touch()
        process_env = {**base, **step_env, **{k: str(v) for k, v in files.items()}}
        process_env["PATH"] = os.pathsep.join([*extra_path, base.get("PATH", os.defpath)])
        command = [part.replace("{0}", str(script)) for part in self._shell(job, workflow, step)]
        timeout = float(step.get("timeout-minutes", self.timeout / 60)) * 60
        started = time.monotonic()
        try:
            completed = subprocess.run(
                command,
                cwd=self._working_directory(job, workflow, step),
                env=process_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
            record.returncode, record.log = completed.returncode, completed.stdout
        except subprocess.TimeoutExpired as error:
            record.returncode = -1
            record.log = f"{error.output or ''}\n(step timed out after {timeout:.0f} s)"
        record.seconds = time.monotonic() - started
        record.outcome = "success" if record.returncode == 0 else "failure"
        record.outputs = parse_command_file(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        job_env.update(parse_command_file(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        added = [
            line.strip()
            for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        extra_path[:0] = list(reversed(added))
