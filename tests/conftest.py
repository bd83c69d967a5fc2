"""Fixtures shared by the template's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cruft_support import BIN, Template, copy_template
from helpers import Baked, bake, clean_env, ensure_baked_venv


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each file's tests on one xdist worker (``--dist loadgroup``).

    They share module-scoped bakes there. A test that names a group of its
    own (``pytest.mark.xdist_group``) goes where that group goes instead:
    the slowest parametrized tests are split that way between the workers.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


@pytest.fixture(scope="session", autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No user or system git config leaks in: the hooks must not depend on one."""
    home = tmp_path_factory.mktemp("git-home")
    empty = home / "gitconfig"
    empty.write_text("")
    os.environ["GIT_CONFIG_GLOBAL"] = str(empty)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        os.environ.pop(name, None)


@pytest.fixture(scope="session", autouse=True)
def isolated_cookiecutter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bakes keep their replay files and template clones in a config of their own.

    Without it every bake overwrites ``~/.cookiecutter_replay/<template>.json``,
    where a user finds the answers of their own projects (docs/updating.md).
    """
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "replay_dir": str(home / "replay"),
                "cookiecutters_dir": str(home / "cookiecutters"),
            }
        )
    )
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    return home / "replay"


@pytest.fixture(scope="session")
def baked_venv() -> Path:
    """The shared virtualenv with every baked dependency (see helpers.ensure_baked_venv)."""
    return ensure_baked_venv()


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """The template baked with its defaults, shared by read-only tests. Do not modify it."""
    return bake(tmp_path_factory.mktemp("default"), venv=baked_venv)


@pytest.fixture
def fresh_project(tmp_path: Path, baked_venv: Path) -> Baked:
    """A default bake of this test's own, free to modify."""
    return bake(tmp_path, venv=baked_venv)


@pytest.fixture(scope="module")
def temp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TMPDIR of every cruft and cookiecutter command of one test module."""
    return tmp_path_factory.mktemp("tmpdir")


@pytest.fixture(scope="module")
def env(temp_root: Path) -> dict:
    """A user's environment: the test tools on PATH, a private temp directory."""
    base = clean_env()
    return clean_env({"TMPDIR": str(temp_root), "PATH": f"{BIN}:{base['PATH']}"})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A git copy of the template at commit A (cruft_support.Template)."""
    return copy_template(tmp_path_factory.mktemp("template") / "ml-cicd")
