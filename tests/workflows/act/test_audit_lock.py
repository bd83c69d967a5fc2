"""The baked vulnerability audit (tools/audit_lock.py) with the real pip-audit:
against the package index, and with its database out of reach.

pip-audit asks PyPI's JSON API for each locked version
(``https://pypi.org/pypi/<name>/<version>/json``, pip_audit/_service/pypi.py).
The verdicts on pip-audit's report (a vulnerability fails, an unreachable
database is a notice) are unit-tested in the baked tests/test_audit_lock.py;
the step of testing.yml runs in act here.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from support.actions_engine import GitHubRepository
from support.helpers import Baked, add_lock_file, bake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def locked(baked_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Baked:
    """A default bake with the uv.lock of its first ``make setup``."""
    project = bake(tmp_path_factory.mktemp("audit"), venv=baked_venv)
    add_lock_file(project)
    return project


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def audit(project: Baked, tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    """Run the audit as the CI step does, with an empty pip-audit cache."""
    result = project.run(
        "python",
        "tools/audit_lock.py",
        check=False,
        timeout=900,
        extra_env={"GITHUB_ACTIONS": "true", "XDG_CACHE_HOME": str(tmp_path), **env},
    )
    assert not result.stderr.strip(), result.stderr
    return result.returncode, result.stdout.splitlines()


def test_a_new_project_passes_the_audit_against_the_package_index(
    locked: Baked, tmp_path: Path
) -> None:
    status, lines = audit(locked, tmp_path)

    assert status == 0, lines
    assert not [line for line in lines if line.startswith("::error")], lines
    assert lines[-1].endswith("locked packages audited, no known vulnerabilities"), lines
    # Every package the lock pins for this platform (its markers) is counted,
    # audited or not.
    exported = locked.run(
        "uv", "export", "--frozen", "--all-extras", "--no-emit-project", "--no-hashes"
    ).stdout
    pins = [Requirement(line) for line in exported.splitlines() if "==" in line]
    locked_packages = len([pin for pin in pins if not pin.marker or pin.marker.evaluate()])
    notices = [line for line in lines if line.startswith("::notice title=pip-audit::")]
    audited = int(lines[-1].split()[1])
    skipped = int(notices[0].split("::")[2].split()[0]) if notices else 0
    assert audited + skipped == locked_packages, lines


def test_an_unreachable_database_is_a_notice(locked: Baked, tmp_path: Path) -> None:
    """Behind a proxy that refuses every connection, as a blocked network does."""
    proxy = f"http://127.0.0.1:{closed_port()}"

    status, lines = audit(locked, tmp_path, HTTPS_PROXY=proxy, https_proxy=proxy)

    assert status == 0, lines
    (notice,) = lines
    assert notice.startswith(
        "::notice title=pip-audit::the vulnerability database could not be reached"
    ), notice


def test_the_ci_step_passes_on_a_new_repository_and_notices_an_unreachable_database(
    baked_venv: Path, tmp_path: Path
) -> None:
    """testing.yml's pre-commit job in act: the audit after the linters, on the
    first push of a new repository (make setup writes its uv.lock); then with
    every HTTPS connection refused by a proxy (uv installs from its cache)."""
    project = bake(tmp_path / "out", venv=baked_venv, serving=False)
    repo = GitHubRepository(project, tmp_path / "github", locked=False)

    run = repo.run("testing.yml", "push", job="pre-commit")

    assert run["pre-commit"].result == "success", run.describe()
    assert run["pre-commit"].said("locked packages audited, no known vulnerabilities")

    proxy = f"http://127.0.0.1:{closed_port()}"
    run = repo.run("testing.yml", "push", job="pre-commit", env={"HTTPS_PROXY": proxy})

    assert run["pre-commit"].result == "success", run.describe()
    assert any(
        notice.startswith("the vulnerability database could not be reached")
        for notice in run["pre-commit"].notices
    ), run.describe()
