"""Shared helpers for the template's own tests: baking, running, option combinations."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import time
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from _pytest.mark import ParameterSet

from cookiecutter.environment import StrictEnvironment
from cookiecutter.main import cookiecutter
from jinja2.bccache import Bucket, BytecodeCache

TEMPLATE_DIR = Path(__file__).resolve().parents[2]
# What act runs instead of GitHub's side, the clouds' CLIs and services.
STANDINS = Path(__file__).resolve().parent / "standins"
CONTEXT: dict = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
SLUG = "ml-project"  # the default project_slug
CACHE_DIR = TEMPLATE_DIR / ".cache"
# DVC remote settings that hold secrets: none may ever appear in .dvc/config.
CREDENTIAL_KEYS = (
    "access_key_id",
    "secret_access_key",
    "session_token",
    "password",
    "connection_string",
    "account_key",
    "sas_token",
    "client_secret",
    "keyfile",
    "credentialpath",
    "gdrive_client_secret",
)
PRE_COMMIT_HOME = CACHE_DIR / "pre-commit"
# One mypy cache for every bake: the libraries (pandas, scikit-learn, FastAPI,
# pydantic) are analysed once, not once per project; a project's own modules
# live at another path in each bake, so mypy checks them again every time.
MYPY_CACHE_DIR = CACHE_DIR / "mypy"

# The test now running when it is in the fast tier (not marked ``slow``; set by
# conftest.py), else None: such a test may not start what `make test-fast` leaves out.
fast_test: str | None = None


def refuse_in_fast_tier(what: str) -> None:
    """Fail a test of the fast tier that starts ``what`` (act, Chromium, the baked virtualenv)."""
    if fast_test is not None:
        raise AssertionError(f"{fast_test} starts {what}: mark it slow (`make test-fast` skips it)")


def option_values() -> dict[str, list]:
    """Every value of every choice or boolean option, read from cookiecutter.json."""
    values = {}
    for key, default in CONTEXT.items():
        if key.startswith("_"):
            continue
        if isinstance(default, list):
            values[key] = list(default)
        elif isinstance(default, bool):
            values[key] = [default, not default]
    return values


# The deploy targets a platform's own pipelines deploy to (Azure Pipelines: Container Apps).
PLATFORM_TARGETS = {"azure-pipelines": ("none", "azure-container-apps")}


def is_valid(answers: dict) -> bool:
    """Combinations the template accepts (deployment needs the serving app)."""
    target = answers.get("deploy_target", "none")
    platform = answers.get("ci_platform", "github")
    return (answers.get("serving", True) or target == "none") and target in PLATFORM_TARGETS.get(
        platform, (target,)
    )


def combinations(ci_platform: str = "github") -> list[dict]:
    """A few valid combinations in which every value of every option appears.

    Each option cycles through its values independently (no full product); the
    serving/deploy_target pair cycles through its valid pairs together. The CI
    platform only decides which whole files exist, so it is held fixed: each
    platform's tests take that platform's combinations (the count stays the same).
    """
    values = option_values()
    values["ci_platform"] = [ci_platform]
    pairs = [
        {"serving": serving, "deploy_target": target}
        for serving, target in itertools.product(values.pop("serving"), values.pop("deploy_target"))
        if is_valid({"serving": serving, "deploy_target": target, "ci_platform": ci_platform})
    ]
    count = max([len(v) for v in values.values()] + [len(pairs)])
    combos = []
    for index in range(count):
        combo = {key: options[index % len(options)] for key, options in values.items()}
        combo.update(pairs[index % len(pairs)])
        combos.append(combo)
    return combos


def answers_of(param: ParameterSet) -> dict[str, Any]:
    """The answers of one ``pytest.param(answers, id=...)``."""
    answers = param.values[0]
    assert isinstance(answers, dict)
    return answers


def combination_id(answers: dict) -> str:
    """A short readable id for a combination."""
    return "-".join(str(answers[k]).lower() for k in sorted(answers))


# Set by the test run itself (the outer virtualenv, `make test`'s own make):
# a user running the baked project's commands in a shell has none of them.
OUTER_VARIABLES = {
    "VIRTUAL_ENV",
    "PYTHONHOME",
    "PYTHONPATH",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "MAKEOVERRIDES",
}


def keep_bytecode() -> None:
    """Python keeps its compiled modules, as on a laptop or a GitHub runner.

    Some sandboxes and container images set PYTHONDONTWRITEBYTECODE: then every
    process of a baked project (each DVC stage, each CI job's commands, each
    benchmark run) compiles the Python modules of scikit-learn, SciPy and
    pandas to bytecode again, seconds each time. Processes started after this
    call inherit the change.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def clean_env(extra: dict | None = None) -> dict:
    """os.environ without what the outer test run set, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in OUTER_VARIABLES}
    env["DVC_NO_ANALYTICS"] = "1"
    env["PRE_COMMIT_HOME"] = str(PRE_COMMIT_HOME)
    env["MYPY_CACHE_DIR"] = str(MYPY_CACHE_DIR)
    env.update(extra or {})
    return env


@dataclass
class Baked:
    """A baked project, and how to run its commands as a user would."""

    path: Path
    answers: dict = field(default_factory=dict)
    venv: Path | None = None

    @property
    def package(self) -> str:
        """The import name of the baked package."""
        return self.path.joinpath("src").glob("*/__init__.py").__next__().parent.name

    def env(self, extra: dict | None = None) -> dict:
        """The environment of a user whose virtualenv is ``venv`` (activated)."""
        env = clean_env()
        if self.venv is not None:
            env["VIRTUAL_ENV"] = str(self.venv)
            env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env['PATH']}"
            # The package runs from src/, as after `pip install -e .`, without
            # installing it into the shared virtualenv.
            env["PYTHONPATH"] = str(self.path / "src")
        env.update(extra or {})
        return env

    def run(
        self,
        *command: str,
        check: bool = True,
        extra_env: dict | None = None,
        timeout: float = 600,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a command in the project; on failure show its output in the assertion."""
        result = subprocess.run(
            list(command),
            cwd=cwd or self.path,
            env=self.env(extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"{' '.join(command)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
            )
        return result

    def set_git_identity(self) -> None:
        """Who commits and tags in this clone (``git config``), as on a developer's machine."""
        for key, value in (("user.name", "Dev"), ("user.email", "dev@example.com")):
            self.run("git", "config", key, value)

    def make(self, target: str, *variables: str, **kwargs) -> subprocess.CompletedProcess:
        """``make <target> [NAME=value ...]`` with the shared virtualenv as ``.venv``."""
        venv = [f"VENV={self.venv}"] if self.venv else []
        return self.run("make", target, *venv, *variables, **kwargs)

    def files(self) -> set[str]:
        """Every file in the project, relative, outside .git."""
        return {
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(self.path).parts[:1]
        }

    def read(self, relative: str) -> str:
        """The text of one project file."""
        return (self.path / relative).read_text(encoding="utf-8")


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory for the bakes of one test process.

    cookiecutter makes a new Jinja environment per bake, which compiles each
    template file again: two thirds of a bake's time. Jinja's own bytecode
    cache keys a file by its name and path and checks its source's checksum,
    so a changed file compiles anew; the output is the same.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


@contextlib.contextmanager
def compiled_templates() -> Iterator[None]:
    """cookiecutter's environments use ``COMPILED_TEMPLATES`` inside the block."""
    original = StrictEnvironment.__init__

    def init(self: StrictEnvironment, **kwargs: Any) -> None:
        original(self, bytecode_cache=COMPILED_TEMPLATES, **kwargs)

    StrictEnvironment.__init__ = init
    try:
        yield
    finally:
        StrictEnvironment.__init__ = original


def bake(
    output_dir: Path, *, template: Path = TEMPLATE_DIR, venv: Path | None = None, **answers: Any
) -> Baked:
    """Bake the template with ``answers`` (no prompts) through cookiecutter's API."""
    output_dir.mkdir(parents=True, exist_ok=True)
    with compiled_templates():
        path = cookiecutter(
            str(template), no_input=True, extra_context=answers, output_dir=str(output_dir)
        )
    return Baked(Path(path), answers, venv)


def bake_cli(
    output_dir: Path, *args: str, template: Path = TEMPLATE_DIR, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the cookiecutter command line (``key=value`` answers in ``args``)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(output_dir),
            str(template),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        check=False,
        timeout=300,
    )


# Extra packages in the shared virtualenv beyond the baked project's own
# dependencies: the DVC plugins for the remotes that the tests exercise for real.
BAKED_VENV_EXTRAS = ("dvc[s3,ssh]>=3.50",)


def assert_pytest_passed(output: str, warnings: bool = False) -> None:
    """pytest's closing line says only "N passed": no failure, error or skip
    (and no warning, unless ``warnings``: older libraries' deprecations)."""
    summary = re.findall(r"^=+ (.*) in [\d.]+s", output, re.MULTILINE)[-1]
    allowed = r"\d+ passed(, \d+ warnings?)?" if warnings else r"\d+ passed"
    assert re.fullmatch(allowed, summary), summary


def uv() -> str:
    """The uv executable installed next to the test interpreter."""
    return str(Path(sys.executable).with_name("uv"))


# uv as a CI job finds it on PATH. `uv lock`, `uv sync`, `uv build` and
# `uv pip` work from uv's cache first: the test run has resolved the same
# dependencies already, and asking the package index again takes seconds a job
# from here (a lock: about ten; a sync or a build: one or two, to resolve the
# project's build backend, hatchling and hatch-vcs, for its editable install;
# the template update's `uv pip install cruft`: two). When the cache lacks
# something, the command asks the index, as on GitHub; what the attempt from
# the cache printed is dropped then.
UV_STANDIN = """\
#!/bin/sh
case "$1" in lock | sync | build | pip)
    said="$(mktemp)"
    if "{uv}" "$@" --offline 2>"$said"; then
        cat "$said" >&2
        rm -f "$said"
        exit 0
    fi
    rm -f "$said"
esac
exec "{uv}" "$@"
"""


def uv_from_cache_first(args: list[str], **options: Any) -> None:
    """Run ``uv <args>`` as the jobs' uv does (``UV_STANDIN``): from uv's cache
    first, asking the package index only when the cache lacks something. The
    shared virtualenv and the kept lock files then hold the versions the jobs
    resolve, and a test run on a warm cache waits for no index."""
    with tempfile.TemporaryDirectory() as tools:
        subprocess.run([install_uv(Path(tools)), *args], check=True, **options)


def install_uv(directory: Path, real_uv: str | None = None) -> Path:
    """Put the uv of the jobs (``UV_STANDIN``) in ``directory``; return its path."""
    path = directory / "uv"
    path.write_text(UV_STANDIN.format(uv=real_uv or uv()))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) inside the block.

    Parallel test workers wait there, so what one of them builds for all of
    them (a virtualenv, a lock file, a trained project) is built once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_baked_venv() -> Path:
    """One virtualenv with every dependency a baked project can have, built once.

    Its directory is named after a hash of the template's pyproject.toml, so a
    change of dependencies builds a new one beside it and never pulls the old one
    from under a test that is using it. A file lock keeps parallel test workers
    from building the same one twice.
    """
    refuse_in_fast_tier("the baked virtualenv")
    pyproject = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "pyproject.toml"
    key = hashlib.sha256((pyproject.read_text() + repr(BAKED_VENV_EXTRAS)).encode()).hexdigest()
    venv = CACHE_DIR / f"baked-venv-{key[:16]}"
    marker = venv / ".ml-cicd-complete"
    with file_lock(CACHE_DIR / "baked-venv.lock"):
        if marker.exists():
            return venv
        env = clean_env({"UV_PYTHON_DOWNLOADS": "never"})
        python = str(venv / "bin" / "python")
        subprocess.run(
            [uv(), "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)],
            check=True,
            env=env,
        )
        with tempfile.TemporaryDirectory() as scratch:
            project = bake(Path(scratch), serving=True)
            requirements = ["-r", str(project.path / "pyproject.toml"), "--all-extras"]
            install = ["pip", "install", "--quiet", "--python", python, *requirements]
            uv_from_cache_first([*install, *BAKED_VENV_EXTRAS], env=env)
        marker.write_text(key)
        return venv


def uv_cache_dir() -> Path:
    """The uv cache that bakes, ``make setup`` and the act jobs install from."""
    found = subprocess.run([uv(), "cache", "dir"], capture_output=True, text=True, check=True)
    return Path(found.stdout.strip())


def site_packages(venv: Path) -> Path:
    """The ``site-packages`` folder of ``venv``."""
    return next(venv.glob("lib/python*/site-packages"))


def file_id(path: Path) -> tuple[int, int]:
    """Device and inode of ``path``: the same for every hard link of one file."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def cached_wheels_of(venv: Path, cache: Path) -> list[Path]:
    """The unpacked wheels in uv's ``cache`` that ``venv``'s packages are hard links of.

    uv installs a package by linking each file of the wheel it unpacked into
    ``archive-v0/<id>/``; a package's ``METADATA`` in the virtualenv is then
    the same file as the one in its wheel's folder. A package that uv copied
    instead (the cache on another file system) has no such twin: every cached
    folder of its name is taken.
    """
    installed = {
        metadata.parent.name: file_id(metadata)
        for metadata in site_packages(venv).glob("*.dist-info/METADATA")
    }
    cached: dict[str, list[Path]] = {}
    for folder in (cache / "archive-v0").iterdir():
        for name in installed.keys() & set(os.listdir(folder)):
            cached.setdefault(name, []).append(folder)
    wheels: set[Path] = set()
    for name, folders in cached.items():
        twins = [f for f in folders if file_id(f / name / "METADATA") == installed[name]]
        wheels.update(twins or folders)
    return sorted(wheels)


def compile_uv_cache(venv: Path) -> None:
    """Compile the bytecode of ``venv``'s packages inside uv's cache, once per virtualenv.

    uv links an unpacked wheel's ``__pycache__`` folders into a new
    virtualenv with its other files. Each act job's fresh ``.venv`` (its
    ``make setup``) then imports scikit-learn, SciPy, pandas and DVC without
    compiling them first, seconds sooner in every job and every DVC stage,
    and nothing else changes: Python checks a .pyc against the size and
    modification time of its source, which a hard link shares. (On GitHub
    the first import in each job compiles; only the time differs.) Only the
    baked virtualenv's Python gets bytecode; jobs on other versions compile
    as before.
    """
    marker = venv / ".ml-cicd-compiled"
    with file_lock(CACHE_DIR / "uv-compile.lock"):
        if marker.exists():
            return
        wheels = cached_wheels_of(venv, uv_cache_dir())
        # What lands in site-packages: not ``*.dist-info`` nor ``*.data``,
        # whose ``scripts`` folder uv refuses to install with a ``__pycache__``.
        sources = [
            str(entry)
            for wheel in wheels
            for entry in wheel.iterdir()
            if entry.suffix not in {".dist-info", ".data"}
        ]
        # Some packages ship files that are not Python 3 (test data): skipped quietly.
        # Their own test suites (``tests/`` folders, a quarter of the files:
        # pandas', SciPy's) are never imported by a job: not compiled.
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "compileall", "-qq", "-j0"]
            + ["-x", r"/tests?/", *sources],
            check=False,
        )
        marker.write_text("\n".join(map(str, wheels)))


def add_lock_file(project: Baked) -> Path:
    """Give ``project`` the uv.lock that its first ``make setup`` writes.

    ``uv lock`` resolves from uv's cache first (``uv_from_cache_first``); the
    lock for each distinct pyproject.toml is made once and kept in the
    template's ``.cache``, then copied, as a team would commit it after its
    first setup. It may be older than the index, as a committed lock is.
    """
    pyproject = (project.path / "pyproject.toml").read_text()
    key = hashlib.sha256(pyproject.encode()).hexdigest()[:16]
    cached = CACHE_DIR / f"uv-{key}.lock"
    with file_lock(CACHE_DIR / "uv-lock.lock"):
        if not cached.exists():
            env = clean_env({"UV_PYTHON_DOWNLOADS": "never"})
            uv_from_cache_first(["lock", "--quiet"], cwd=project.path, env=env)
            shutil.copy(project.path / "uv.lock", cached)
    shutil.copy(cached, project.path / "uv.lock")
    return project.path / "uv.lock"


# --- The baked workflows, read as files (test_workflows*.py) -------------------

WORKFLOWS = ".github/workflows"
MINE = (
    "testing.yml",
    "documentation.yml",
    "train.yml",
    "publish.yml",
    "batch.yml",
    "monitoring.yml",
)
DVC_REMOTE_ACTION = "$/.github/actions/dvc-remote"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)

# Every combination, plus read-only remotes: https beside s3 (anonymous pulls),
# s3 beside gs (a second login), https beside a local remote.
S3 = next(c for c in combinations() if c["dvc_remote"] == "s3")
GS = next(c for c in combinations() if c["dvc_remote"] == "gs")
LOCAL = next(c for c in combinations() if c["dvc_remote"] == "local")
EXTRA = {
    "s3-readonly-https": {**S3, "dvc_read_remote_url": "https://dvc-mirror.example.com/ml"},
    "gs-readonly-s3": {**GS, "dvc_read_remote_url": "s3://ml-mirror/storage"},
    "local-readonly-https": {**LOCAL, "dvc_read_remote_url": "https://dvc-mirror.example.com/ml"},
}
ANSWERS = [pytest.param(c, id=combination_id(c)) for c in combinations()] + [
    pytest.param(answers, id=name) for name, answers in EXTRA.items()
]


def workflows(project: Baked) -> dict[str, dict]:
    """Every workflow file of the project, parsed (file name -> workflow)."""
    return {
        path.name: yaml.safe_load(path.read_text())
        for path in sorted((project.path / WORKFLOWS).glob("*.y*ml"))
    }


def steps_of(workflow: dict) -> Iterator[tuple[str, dict]]:
    """(job id, step) for every step of a workflow."""
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def triggers(workflow: dict) -> dict:
    """The ``on:`` block (PyYAML reads the key ``on`` as True)."""
    on: dict = workflow.get("on", workflow.get(True)) or {}
    return on


def wait_until_empty(directory: Path, seconds: float = 10) -> bool:
    """True once ``directory`` is empty (within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while any(directory.iterdir()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
