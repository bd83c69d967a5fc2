"""Free-text answers land as typed, escaped only where a format needs it.

Names, descriptions and authors are written into TOML, YAML, Markdown, the
licence and git. Each baked file must read back to exactly what was typed,
and its raw text must show it too: no ``\\u00e9`` in TOML or YAML, no ``&#39;``
in Markdown. Text that MkDocs puts unescaped into HTML (titles, ``meta``
attributes) cannot carry markup: ``<``, ``>`` and ``"`` are refused there.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.helpers import Baked, bake, bake_cli

TRICKY: dict[str, Any] = {
    "project_name": "Zoë's Café: 数据项目 \\ v2 & co",
    "description": "Predicts things: 'fast' & safe — C:\\data\\raw; naïve café, 数据",
    "author_name": "Zoë O'Brien \\ Ñúñez",
}


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> Baked:
    return bake(tmp_path_factory.mktemp("tricky"), **TRICKY)


def test_toml_reads_back_and_shows_the_text_as_typed(tricky: Baked) -> None:
    text = tricky.read("pyproject.toml")
    project = tomllib.loads(text)["project"]
    assert project["description"] == TRICKY["description"]
    assert project["authors"][0]["name"] == TRICKY["author_name"]
    assert tricky.path.name == "zoe-s-cafe-shu-ju-xiang-mu-v2-co"
    # Only the backslash needs an escape in a TOML basic string.
    assert TRICKY["author_name"].replace("\\", "\\\\") in text
    assert "\\u" not in text


def test_yaml_reads_back_and_shows_the_text_as_typed(tricky: Baked) -> None:
    text = tricky.read("mkdocs.yml")
    mkdocs = yaml.safe_load(text)
    assert mkdocs["site_name"] == TRICKY["project_name"]
    assert mkdocs["site_description"] == TRICKY["description"]
    assert mkdocs["site_author"] == TRICKY["author_name"]
    assert "Café: 数据项目" in text and "\\u" not in text


def test_markdown_licence_and_git_show_the_text_as_typed(tricky: Baked) -> None:
    for page in ("README.md", "docs/index.md"):
        text = tricky.read(page)
        assert text.startswith(f"# {TRICKY['project_name']}\n\n{TRICKY['description']}\n"), page
        assert "&#" not in text and "&amp;" not in text, page
    assert f"Copyright (c) {TRICKY['author_name']}" in tricky.read("LICENSE")
    log = subprocess.run(
        ["git", "log", "--format=%an"], cwd=tricky.path, capture_output=True, text=True
    )
    assert log.stdout.strip() == TRICKY["author_name"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("project_name", "Model</title><script>alert(1)</script>"),
        ("project_name", 'Model" onmouseover="alert(1)'),
        ("description", 'x" http-equiv="refresh" content="0;url=https://evil.example'),
        ("description", "<img src=x onerror=alert(1)>"),
        ("author_name", 'Eve" data-x="1'),
    ],
)
def test_markup_for_the_docs_html_is_refused(tmp_path: Path, field: str, value: str) -> None:
    answers = [f"{field}={value}"]
    if field == "project_name":
        answers.append("project_slug=model")
    result = bake_cli(tmp_path / "out", *answers)
    assert result.returncode != 0
    assert f'ERROR: {field}: must not contain <, > or "' in result.stderr, result.stderr
    assert list((tmp_path / "out").iterdir()) == []
