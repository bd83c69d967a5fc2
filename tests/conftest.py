"""Fixtures shared by the template's tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import helpers
from support.cruft_support import BIN, Template, copy_template
from support.helpers import Baked, bake, clean_env, ensure_baked_venv, keep_bytecode


def is_slow(item: pytest.Item) -> bool:
    """Marked ``slow``: it needs the baked virtualenv, act or Chromium (not in `make test-fast`)."""
    return item.get_closest_marker("slow") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding a ``slow`` test first, each file's tests together.

    `make test` hands whole files to the xdist workers (``--dist loadfile``: a
    file's module bakes are built once) in this order (``--no-loadscope-reorder``),
    so the last minutes of a run go to short files on both workers.
    """
    slow = {item.path for item in items if is_slow(item)}
    items.sort(key=lambda item: item.path not in slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """While a test of the fast tier runs, act, Chromium and the baked virtualenv
    refuse to start (helpers.refuse_in_fast_tier), from its fixtures' set-up on."""
    helpers.fast_test = None if is_slow(item) else item.nodeid
    try:
        return (yield)
    finally:
        helpers.fast_test = None


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
def bytecode_cache() -> None:
    """Every process the tests start keeps its compiled modules (``keep_bytecode``)."""
    keep_bytecode()


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


# --- Module bakes shared by the files of one subject ----------------------------
# Module-scoped: each file that uses one bakes its own.


@pytest.fixture(scope="module")
def bake_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict], Baked]:
    """Bake on first use, once per set of answers, for the whole module (test_workflows*.py)."""
    cache: dict[str, Baked] = {}

    def get(answers: dict) -> Baked:
        key = json.dumps(answers, sort_keys=True)
        if key not in cache:
            cache[key] = bake(tmp_path_factory.mktemp("workflows"), **answers)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def serving_bakes(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> dict[str, Baked]:
    """One bake per deployment target (each on another Python), and one without serving
    (test_serving*.py)."""
    answers: dict[str, dict[str, Any]] = {
        "none": {},
        "fly": {"deploy_target": "fly", "python_version": "3.12"},
        "cloud-run": {"deploy_target": "cloud-run", "python_version": "3.13"},
        "off": {"serving": False},
    }
    return {
        name: bake(tmp_path_factory.mktemp(name), venv=baked_venv, **values)
        for name, values in answers.items()
    }


@pytest.fixture(scope="module")
def serving_trained(serving_bakes: dict[str, Baked]) -> Baked:
    """The default bake of ``bakes`` after its DVC pipeline ran (model and metrics exist)."""
    project = serving_bakes["none"]
    project.run("dvc", "repro")
    return project
