"""The contract between the template's files and the team's (docs/updating.md).

``cruft update`` changes only template-owned files; the team's (``[tool.cruft]
skip``: ``src/``, ``tests/``, ``dvc.yaml``, ``params.yaml`` ...) stay as the team
left them. A template-owned file that names anything else in a team-owned file
breaks the projects that update to it (a docs page naming a module that an
older ``src/`` lacks). cookiecutter.json's ``_contract`` lists the few names
they may rely on; these tests read every template-owned file of several bakes
and fail on a reference outside it, and check that a fresh bake provides every
name of the contract. Fast tier: bakes without virtualenvs.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.helpers import CONTEXT, TEMPLATE_DIR, Baked, bake

CONTRACT = CONTEXT["_contract"]
PACKAGE = "ml_project"  # the default package_name
ANSWERS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-serving": {"serving": False},
    "cloud-run": {"deploy_target": "cloud-run"},
    "fly": {"deploy_target": "fly"},
    "azure": {"ci_platform": "azure-pipelines", "deploy_target": "azure-container-apps"},
}


@pytest.fixture(scope="module")
def bakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Baked]:
    return {
        name: bake(tmp_path_factory.mktemp(name), **answers) for name, answers in ANSWERS.items()
    }


def team_owned(project: Path) -> list[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    skip: list[str] = pyproject["tool"]["cruft"]["skip"]
    return skip


def template_owned(project: Path) -> dict[str, str]:
    """Every file of a bake outside the team-owned paths, with its text."""
    skip = team_owned(project)
    owned = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and not any(
            relative == entry or relative.startswith(entry + "/") for entry in skip
        ):
            owned[relative] = path.read_text(encoding="utf-8")
    return owned


def references(text: str) -> set[tuple[str, str]]:
    """What ``text`` relies on in team-owned files: (kind, name) pairs."""
    found = {("commands", name) for name in re.findall(rf"-m {PACKAGE} ([a-z][a-z_-]*)", text)}
    for module, name in re.findall(rf"\b{PACKAGE}\.([\w.]*\w):(\w+)", text):
        found.add(("python", f"{module}:{name}"))
    for module, names in re.findall(
        rf"from {PACKAGE}\.([\w.]*\w) import (\([^)]*\)|[\w, ]+)", text
    ):
        for name in names.strip("()").split(","):
            if name.strip():
                found.add(("python", f"{module}:{name.strip()}"))
    # A module named alone (mkdocstrings' ``::: package.module``, an import).
    for module in re.findall(rf"\b{PACKAGE}\.([\w.]*\w)\b(?![:.(])(?! import)", text):
        found.add(("modules", module))
    found |= {("stages", stage) for stage in re.findall(r"--single-item (\w+)", text)}
    found |= {("stages", stage) for stage in re.findall(r"dvc repro (?:--\S+ )*([a-z]\w*)", text)}
    found |= {("params", key) for key in re.findall(r"-S ([\w.]+)=", text)}
    found |= {
        ("params", key.lstrip(".")) for key in re.findall(r"load_params\(\)((?:\.\w+)+)", text)
    }
    # A report read (an output path given to a command's option is its own).
    for report in re.findall(r"(?<!--report )(?<!--output )\breports/([\w./*-]*\w)", text):
        found.add(("reports", f"reports/{report}"))
    return found


def allowed(kind: str, name: str) -> bool:
    if kind == "modules":
        return any(entry.split(":")[0] == name for entry in CONTRACT["python"])
    if kind == "reports":
        return any(
            f"{name}/".startswith(entry) or name.startswith(entry) for entry in CONTRACT["reports"]
        )
    return name in CONTRACT[kind]


def test_template_files_rely_on_team_files_only_through_the_contract(
    bakes: dict[str, Baked],
) -> None:
    outside = []
    for bake_name, baked in bakes.items():
        for path, text in template_owned(baked.path).items():
            for kind, name in sorted(references(text)):
                if not allowed(kind, name):
                    outside.append(f"{bake_name}: {path}: {kind} {name}")
    assert not outside, "\n".join(outside)


def test_the_scan_finds_what_it_looks_for() -> None:
    # The scan itself: each kind of reference, and the old docs/api.md's case.
    text = (
        f"python -m {PACKAGE} repro\n::: {PACKAGE}.pipeline.ingest\n"
        f"uvicorn {PACKAGE}.serving.app:create_app\n"
        f"from {PACKAGE}.model.integrity import LOCK_FILE, md5\n"
        "dvc repro --force --single-item ingest\ndvc exp run -S model.type=x\n"
        "cat reports/metrics.json; drift --report reports/mine.json\n"
    )
    assert references(text) == {
        ("commands", "repro"),
        ("modules", "pipeline.ingest"),
        ("python", "serving.app:create_app"),
        ("python", "model.integrity:LOCK_FILE"),
        ("python", "model.integrity:md5"),
        ("stages", "ingest"),
        ("params", "model.type"),
        ("reports", "reports/metrics.json"),
    }
    assert not allowed("modules", "pipeline.ingest") and allowed("modules", "serving.app")


def test_a_fresh_bake_provides_every_name_of_the_contract(bakes: dict[str, Baked]) -> None:
    project = bakes["default"].path
    package = project / "src" / PACKAGE
    cli = (package / "cli.py").read_text() + (package / "serving" / "command.py").read_text()
    for command in CONTRACT["commands"]:
        assert f'"{command}"' in cli, command
    for entry in CONTRACT["python"]:
        module, name = entry.split(":")
        tree = ast.parse((package / f"{module.replace('.', '/')}.py").read_text())
        defined = {
            node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        } | {
            target.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        assert name in defined, entry
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert list(stages) == CONTRACT["stages"]
    params = yaml.safe_load((project / "params.yaml").read_text())
    for key in CONTRACT["params"]:
        value = params
        for part in key.split("."):
            value = value[part]
    declared = (project / "dvc.yaml").read_text() + (project / "params.yaml").read_text()
    for report in CONTRACT["reports"]:
        assert report in declared, report


def test_the_template_s_docs_list_the_contract_as_it_is() -> None:
    # The template's docs/updating.md writes the table out (the baked page
    # renders it from cookiecutter.json): the two must not drift apart.
    page = (TEMPLATE_DIR / "docs" / "updating.md").read_text(encoding="utf-8")
    rows = {
        "commands": "| CLI commands",
        "python": "| Python names",
        "stages": "| DVC stages",
        "params": "| `params.yaml` keys",
        "reports": "| reports",
    }
    assert set(rows) == set(CONTRACT)
    for key, start in rows.items():
        row = next(line for line in page.splitlines() if line.startswith(start))
        assert re.findall(r"`([^`]+)`", row.split("|")[2]) == CONTRACT[key], key
