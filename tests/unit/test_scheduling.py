"""The suite's own tiers and scheduling (conftest.py, the Makefile).

`make test-fast` runs the tests not marked ``slow``: none of them may use the
baked virtualenv, act or Chromium. `make test` hands whole files to the xdist
workers (``--dist loadfile``: a file's module bakes are built once), files
holding a ``slow`` test first.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]

# Loads this suite's conftest.py hooks into a scratch suite.
SCRATCH_CONFTEST = f"""\
import importlib.util
import sys

sys.path.insert(0, {str(TESTS_DIR)!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS_DIR / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_collection_modifyitems = suite.pytest_collection_modifyitems
pytest_runtest_protocol = suite.pytest_runtest_protocol
"""

SHARED = """\
import pytest


@pytest.fixture(scope="module")
def bake():
    return object()


def test_one(bake): pass
def test_two(bake): pass
def test_three(bake): pass
def test_four(bake): pass
"""

ALONE = """\
def test_five(): pass
def test_six(): pass
"""

SLOW = """\
import pytest


@pytest.mark.slow
def test_seven(): pass
def test_eight(): pass
"""

ENGINES = """\
import pytest

from support.helpers import refuse_in_fast_tier


@pytest.fixture(scope="module")
def venv():
    refuse_in_fast_tier("the baked virtualenv")


def test_fast_starts_act():
    refuse_in_fast_tier("act")


def test_fast_takes_the_venv(venv): pass


@pytest.mark.slow
def test_slow_starts_chromium():
    refuse_in_fast_tier("Chromium")
"""


def scratch_suite(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "conftest.py").write_text(SCRATCH_CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n")
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


def pytest_in(suite: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(suite)]
        + [*args, str(suite)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_fast_tier_sets_up_no_baked_virtualenv() -> None:
    """No test that `make test-fast` selects uses the baked virtualenv, even
    through another fixture (a module's bakes): pytest's own set-up plan."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider"]
        + ["--setup-plan", "-m", "not slow", str(TESTS_DIR)],
        capture_output=True,
        text=True,
        check=False,
        cwd=TESTS_DIR.parent,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    tests = re.findall(r"^\s+(tests/\S+::\S+)", result.stdout, re.MULTILINE)
    assert len(tests) > 300, result.stdout[-3000:]
    assert not any(
        path in result.stdout for path in ("test_docs_site", "test_workflow_")
    ), "a file that runs Chromium or act has a test in the fast tier"
    assert re.search(r"SETUP\s+S baked_venv", result.stdout) is None


def test_a_fast_test_that_starts_act_chromium_or_the_virtualenv_fails(tmp_path: Path) -> None:
    """What the set-up plan cannot see (a call, not a fixture) fails the test at run time."""
    suite = scratch_suite(tmp_path, test_engines=ENGINES)
    result = pytest_in(suite, "-p", "no:xdist", "-v")
    outcomes = dict(re.findall(r"::(test_\w+) (PASSED|FAILED|ERROR)", result.stdout))
    assert outcomes == {
        "test_fast_starts_act": "FAILED",
        "test_fast_takes_the_venv": "ERROR",
        "test_slow_starts_chromium": "PASSED",
    }, result.stdout
    assert "test_fast_starts_act starts act: mark it slow" in result.stdout


@pytest.mark.slow  # the order `make test` hands out: an xdist run of its own
def test_files_with_a_slow_test_come_first_and_stay_whole_on_one_worker(tmp_path: Path) -> None:
    suite = scratch_suite(tmp_path, test_alone=ALONE, test_shared=SHARED, test_slow=SLOW)
    order = pytest_in(suite, "-p", "no:xdist", "--collect-only", "-q")
    collected = re.findall(r"::(test_\w+)", order.stdout)
    assert collected[:2] == ["test_seven", "test_eight"], order.stdout

    result = pytest_in(suite, "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {
        match.group(2): match.group(1)
        for match in re.finditer(r"\[(gw\d)\].* PASSED \S*::(test_\w+)", result.stdout)
    }
    assert len(workers) == 8, result.stdout
    assert len({workers[name] for name in ("test_one", "test_two", "test_three", "test_four")}) == 1
