"""The suite's own scheduling (conftest.py): a file whose tests share a module
fixture (one bake, one trained project) runs on one xdist worker, so the
fixture is built once; every other test may go to either worker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent

# Loads the grouping hook of this suite's conftest.py into a scratch suite.
SCRATCH_CONFTEST = f"""\
import importlib.util
import sys

sys.path.insert(0, {str(TESTS_DIR)!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS_DIR / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_collection_modifyitems = suite.pytest_collection_modifyitems
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


def test_a_files_shared_module_fixture_keeps_its_tests_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(SCRATCH_CONFTEST)
    (tmp_path / "test_shared.py").write_text(SHARED)
    (tmp_path / "test_alone.py").write_text(ALONE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v"]
        + ["-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {
        match.group(2): match.group(1)
        for match in re.finditer(r"\[(gw\d)\].* PASSED \S*::(test_\w+)", result.stdout)
    }
    assert len(workers) == 6, result.stdout
    assert len({workers[name] for name in ("test_one", "test_two", "test_three", "test_four")}) == 1
