"""The baked dependency ranges hold at both ends, and on every supported Python.

pyproject.toml's ranges promise that any version inside them works. A fresh
`uv lock` only ever tries the newest; here the baked project is locked once at
the lowest versions its direct dependencies allow (`--resolution
lowest-direct`) and once at the highest (`--upgrade`), each installed into the
project's own virtualenv, and each runs the project's gates as a user would:
`make repro`, `make test`, `make lint`, and the docs with both builders.

The resolution for every supported Python (3.14 and 3.15 do not run on this
machine) is checked with uv alone (uv resolves for a Python it does not run): every
dependency must ship a wheel for it on the platform of GitHub's and Azure's
`ubuntu-latest` runners (Ubuntu 24.04, glibc 2.39).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from support.helpers import CONTEXT, TEMPLATE_DIR, Baked, assert_pytest_passed, bake, clean_env, uv

# uv's name for the platform of ubuntu-24.04 runners: x86_64 with glibc 2.39
# (https://github.com/actions/runner-images/blob/main/images/ubuntu/Ubuntu2404-Readme.md).
RUNNER_PLATFORM = "x86_64-manylinux_2_39"


def direct_requirements(project: Baked) -> dict[str, Requirement]:
    """The project's own requirements, every extra included, by name."""
    meta = tomllib.loads(project.read("pyproject.toml"))["project"]
    lines = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        lines.extend(extra)
    return {Requirement(line).name.lower(): Requirement(line) for line in lines}


def locked_versions(project: Baked) -> dict[str, str]:
    """Package name -> version in the project's uv.lock."""
    lock = tomllib.loads(project.read("uv.lock"))
    return {package["name"]: package.get("version", "") for package in lock["package"]}


def floor_of(requirement: Requirement) -> str:
    """The version after ``>=`` in the requirement."""
    return next(spec.version for spec in requirement.specifier if spec.operator == ">=")


@pytest.mark.slow
@pytest.mark.parametrize(
    "resolution", [["--resolution", "lowest-direct"], ["--upgrade"]], ids=["lowest", "highest"]
)
def test_the_gates_pass_at_both_ends_of_the_ranges(tmp_path: Path, resolution: list[str]) -> None:
    project = bake(tmp_path, serving=True)
    env = clean_env({"UV_PYTHON_DOWNLOADS": "never"})
    venv = project.path / ".venv"
    subprocess.run(
        [uv(), "lock", "--quiet", "--python", CONTEXT["python_version"][0], *resolution],
        cwd=project.path,
        env=env,
        check=True,
    )
    if "lowest-direct" in resolution:
        # What makes this run the lowest one: the main libraries at their floors'
        # minor releases (a floor's .0 may have no wheel for the oldest Python).
        locked = locked_versions(project)
        requirements = direct_requirements(project)
        for name in ("numpy", "pandas", "scikit-learn", "scipy", "dvc", "fastapi", "mkdocs"):
            lowest, floor = Version(locked[name]), Version(floor_of(requirements[name]))
            assert lowest.release[:2] == floor.release[:2], (name, lowest, floor)
    subprocess.run(
        [uv(), "sync", "--quiet", "--frozen", "--all-extras"],
        cwd=project.path,
        env={**env, "UV_PROJECT_ENVIRONMENT": str(venv)},
        check=True,
    )
    project.venv = venv
    project.make("repro")
    # The lowest versions warn of their own deprecations (pandas 2.2 of pyarrow).
    at_floors = "lowest-direct" in resolution
    assert_pytest_passed(project.make("test").stdout, warnings=at_floors)
    project.make("lint")
    for builder in ("mkdocs", "zensical"):
        project.make("docs", f"DOCS_BUILDER={builder}")
        assert (project.path / "site" / "model-card" / "index.html").is_file(), builder


@pytest.mark.slow
@pytest.mark.parametrize("python", CONTEXT["_python_versions"])
def test_the_dependencies_ship_wheels_for_every_supported_python(
    tmp_path: Path, python: str
) -> None:
    project = bake(tmp_path, serving=True)
    result = subprocess.run(
        [
            uv(),
            "pip",
            "compile",
            "pyproject.toml",
            "--all-extras",
            "--quiet",
            "--python-version",
            python,
            "--python-platform",
            RUNNER_PLATFORM,
            "--only-binary",
            ":all:",
        ],
        cwd=project.path,
        env=clean_env({"UV_PYTHON_DOWNLOADS": "never"}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pinned = dict(re.findall(r"^([a-z0-9._-]+)==(\S+)", result.stdout, re.M))
    for name in ("numpy", "pandas", "scikit-learn", "scipy", "dvc", "fastapi", "zensical"):
        assert name in pinned, name


def test_the_docs_builder_decision_is_the_one_the_project_gets() -> None:
    """The README's decision names the default the baked Makefile sets, and
    pre-1.0 Zensical is held below its next minor release."""
    readme = (TEMPLATE_DIR / "README.md").read_text()
    baked = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    default = re.search(r"^DOCS_BUILDER \?= (\w+)$", (baked / "Makefile").read_text(), re.M)
    assert default is not None and default.group(1) == "mkdocs"
    assert "**The docs builder: MkDocs with Material for MkDocs stays the default" in readme
    assert "`DOCS_BUILDER ?= mkdocs`" in readme
    zensical = re.search(r'"zensical>=([\d.]+),<(0\.\d+)"', (baked / "pyproject.toml").read_text())
    assert zensical is not None, "Zensical must be capped below its next minor release"
    assert zensical.group(2) in readme
