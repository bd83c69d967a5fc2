"""`tools/registry.py plan` outside act: a stray registry tag does not break it,
and the documented rollback puts the older version in production.

GTO refuses a registry with two version tags on one commit (`ManyVersions`,
for every command). A tag such as `model@v1.0.0-rc1` pushed on a registered
commit must not stop the delivery of unrelated versions: the plan names it in
one line and goes on without it.

A rollback assigns an older version to production again. GTO refuses that
without `--force` while the older version's first assignment is still active
(gto/registry.py, `assign`: "Version ... is already in stage ..."), although
`gto show` lists only the newest assignment of a stage. After it, `gto show`,
`dvc artifacts get --stage` and the champion that `tools/registry.py compare`
uses all name the older version, and a stage tag that a newer one overtook
delivers nothing. The whole workflow runs in act in test_workflow_registry.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from support.helpers import Baked, bake

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


def rollback_commands(project: Baked) -> list[str]:
    """The gto commands of the documented rollback (docs/model-registry.md)."""
    text = project.read("docs/model-registry.md")
    blocks = re.findall(r"<!-- docs-test: run -->\n```bash\n(.*?)```", text, re.DOTALL)
    (block,) = [block for block in blocks if "rollback" in block.lower()]
    return [line for line in block.splitlines() if line.startswith("gto ")]


@pytest.fixture(scope="module")
def rolled_back(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """v0.0.1 then v0.0.2 in production, then the documented rollback to v0.0.1.

    GTO and DVC order a stage's tags by time, to the second: a second passes
    between the assignments, as between a person's commands.
    """
    project = bake(tmp_path_factory.mktemp("rollback"), venv=baked_venv)
    project.set_git_identity()
    commit_lock(project, "a" * 32, "First model")
    assert plan(project, "refs/heads/main")[0] == 0  # registers v0.0.1
    project.run("gto", "assign", "model", "--version", "v0.0.1", "--stage", "production")
    commit_lock(project, "b" * 32, "Second model")
    assert plan(project, "refs/heads/main")[0] == 0  # registers v0.0.2
    time.sleep(1.1)
    project.run("gto", "assign", "model", "--version", "v0.0.2", "--stage", "production")
    time.sleep(1.1)
    for command in rollback_commands(project):
        project.run("bash", "-c", command)
    return project


def commit_of(project: Baked, ref: str) -> str:
    return project.run("git", "rev-list", "-n", "1", ref).stdout.strip()


def test_the_documented_rollback_puts_the_older_version_in_production(
    rolled_back: Baked,
) -> None:
    project = rolled_back
    assert project.run("gto", "show", "model#production", "--ref").stdout.strip() == (
        "model@v0.0.1"
    )
    first = commit_of(project, "model@v0.0.1")
    dvc = "from dvc.repo import Repo; print(Repo().artifacts.get_rev('model', stage='production'))"
    assert project.run("python", "-c", dvc).stdout.strip() == first
    # The champion that `tools/registry.py compare` compares new models with.
    paths = {"PYTHONPATH": f"{project.path}/src:{project.path}/tools"}
    champion = project.run(
        "python", "-c", "import registry; print(registry.champion_commit())", extra_env=paths
    )
    assert champion.stdout.strip() == first
    code, out, err = plan(project, "refs/tags/model#production#3")
    outputs = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert code == 0 and outputs["version"] == "v0.0.1", out + err
    assert outputs["stages"] == "production" and outputs["assigned"] == "production"


@pytest.mark.parametrize(
    "older",
    ["model#production#2", "model#production#1"],
    ids=["another-version", "the-same-version"],
)
def test_a_promotion_overtaken_by_a_newer_one_delivers_nothing(
    rolled_back: Baked, older: str
) -> None:
    # An older tag of the stage and the rollback pushed at once (v0.0.2, or
    # v0.0.1 assigned twice): whichever run starts first, production ends with
    # the version gto show names, deployed once.
    code, out, err = plan(rolled_back, f"refs/tags/{older}")

    assert code == 0 and "Traceback" not in err, out + err
    outputs = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert outputs["version"] == ""
    (notice,) = [line for line in out.splitlines() if line.startswith("::notice")]
    assert "model#production#3" in notice and "v0.0.1" in notice
