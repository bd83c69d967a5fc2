"""A bake never destroys, commits or exposes work that was there before it.

``cookiecutter -f`` renders into a directory that already exists: without
``-s`` it overwrites the user's files before any hook could save them, so the
pre-generation hook refuses any directory that is not empty. Secrets a user
keeps beside the code are git-ignored from the first commit on, and the local
DVC storage is never created inside another git work tree.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.helpers import bake, bake_cli

# A user's own project in the directory a bake is about to use, including files
# that the removal table of post_gen_project.py lists (serving off, no fly).
USER_FILES = {
    "Dockerfile": "FROM scratch  # mine\n",
    "fly.toml": 'app = "mine"\n',
    "src/ml_project/serving/app.py": "print('my server')\n",
    "docs/serving.md": "# My serving notes\n",
    ".env": "API_TOKEN=do-not-commit\n",
    "notes.txt": "mine\n",
}
SECRET_FILES = (
    ".env",
    ".env.local",
    ".env.production",
    "config/.env",
    "id_rsa",
    "id_ed25519",
    "server.pem",
    "tls.key",
    "cert.p12",
    ".netrc",
    ".pypirc",
    "gcp-credentials.json",
    "service-account.json",
)


def write_user_project(root: Path, with_git: bool) -> None:
    for relative, text in USER_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    if with_git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)


@pytest.mark.parametrize(
    "flags", [["-f"], ["-f", "-s"]], ids=["overwrite", "overwrite-skip-existing"]
)
@pytest.mark.parametrize("with_git", [False, True], ids=["plain-dir", "git-repo"])
def test_bake_over_existing_work_is_refused_and_changes_nothing(
    tmp_path: Path, flags: list[str], with_git: bool
) -> None:
    out = tmp_path / "out"
    project = out / "ml-project"
    write_user_project(project, with_git)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}

    result = bake_cli(out, *flags, "serving=false")

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors and errors[0].startswith("ERROR: project_slug: must name a new or empty dir")
    assert "(got 'ml-project')" in errors[0] and "Dockerfile" in errors[0]
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before
    assert not (out / "ml-project-dvc-storage").exists()


def test_bake_into_an_existing_empty_directory_works(tmp_path: Path) -> None:
    (tmp_path / "out" / "ml-project").mkdir(parents=True)
    result = bake_cli(tmp_path / "out", "-f")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "ml-project" / "dvc.yaml").is_file()


def test_secret_files_are_ignored_from_the_first_commit(tmp_path: Path) -> None:
    project = bake(tmp_path)
    for relative in SECRET_FILES:
        (project.path / relative).parent.mkdir(parents=True, exist_ok=True)
        (project.path / relative).write_text("secret\n")
    subprocess.run(["git", "add", "--all"], cwd=project.path, check=True)
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert staged == []
    # An example file that documents the variables is meant to be committed.
    (project.path / ".env.example").write_text("API_TOKEN=\n")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=project.path)
    assert ignored.returncode == 1


def test_local_storage_is_not_created_inside_an_outer_work_tree(tmp_path: Path) -> None:
    """Baked inside a monorepo, ``../<slug>-dvc-storage`` would sit in the outer
    repository, which would then show pushed data as untracked files."""
    outer = tmp_path / "monorepo"
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    result = bake_cli(outer / "packages")
    assert result.returncode == 0, result.stderr
    assert not (outer / "packages" / "ml-project-dvc-storage").exists()
    warning = [line for line in result.stderr.splitlines() if "DVC remote" in line]
    assert warning and warning[0].startswith("WARNING: ")
    assert str(outer) in warning[0] and "dvc remote modify storage url" in warning[0]
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=outer, capture_output=True, text=True
    )
    assert "dvc-storage" not in status.stdout
