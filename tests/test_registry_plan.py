"""`tools/registry.py plan` outside act: a stray registry tag does not break it.

GTO refuses a registry with two version tags on one commit (`ManyVersions`,
for every command). A tag such as `model@v1.0.0-rc1` pushed on a registered
commit must not stop the delivery of unrelated versions: the plan names it in
one line and goes on without it. The whole workflow runs in act in
test_workflow_registry.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import Baked, bake

pytestmark = pytest.mark.slow

STRAY = "model@v1.0.0-rc1"


def commit_lock(project: Baked, md5: str, message: str) -> None:
    """A commit whose dvc.lock records a model with hash ``md5``."""
    lock = (
        "schema: '2.0'\nstages:\n  train:\n    outs:\n"
        f"    - path: models/model.joblib\n      md5: {md5}\n"
    )
    (project.path / "dvc.lock").write_text(lock, encoding="utf-8")
    project.run("git", "add", "dvc.lock")
    project.run("git", "commit", "-q", "--no-verify", "-m", message)


def plan(project: Baked, ref: str) -> tuple[int, str, str]:
    result = project.run(
        "python", "tools/registry.py", "plan", check=False, extra_env={"GITHUB_REF": ref}
    )
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """v0.0.1 registered and in production, a stray version tag on its commit,
    and a newer commit with another model."""
    project = bake(tmp_path_factory.mktemp("registry"), venv=baked_venv)
    project.set_git_identity()
    commit_lock(project, "a" * 32, "First model")
    assert plan(project, "refs/heads/main")[0] == 0  # registers v0.0.1
    project.run("gto", "assign", "model", "--version", "v0.0.1", "--stage", "production")
    project.run("git", "tag", "-a", STRAY, "-m", "A release candidate, by hand")
    commit_lock(project, "b" * 32, "Second model")
    return project


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/tags/model#production#1"])
def test_a_stray_tag_is_named_and_unrelated_refs_go_on(project: Baked, ref: str) -> None:
    code, out, err = plan(project, ref)

    assert code == 0, out + err
    assert "Traceback" not in err
    (line,) = [line for line in (out + err).splitlines() if STRAY in line]
    assert "model@v0.0.1" in line
    outputs = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if ref == "refs/heads/main":  # the next version after v0.0.1, not after the stray tag
        assert outputs["version"] == "v0.0.2" and outputs["register"] == "true"
        project.run("git", "tag", "-d", "model@v0.0.2")
    else:
        assert outputs["version"] == "v0.0.1" and outputs["stages"] == "production"


def test_the_stray_tag_itself_is_refused_in_one_line(project: Baked) -> None:
    code, out, err = plan(project, f"refs/tags/{STRAY}")

    assert code != 0
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1 and STRAY in err
