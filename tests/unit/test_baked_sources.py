"""The baked project's Python reads as hand-written Python, before any bake.

Its only template code is the package's name: in ``import`` lines (and, in
``src/<package>/__init__.py``, the distribution's name). Put the longest name
the hooks accept in its place, and every file must parse and be left as it is
by black at the baked project's line length: so an import of the package's
names stays on one line whatever the name, and ``make lint`` passes in every
bake without reformatting.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import black
import pytest

from support.helpers import TEMPLATE_DIR

PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
PACKAGE_NAME = "{{ cookiecutter.package_name }}"
# The only other expression: the distribution whose version __init__.py reads.
DISTRIBUTION_NAME = "{{ cookiecutter.project_slug | tojson }}"
JINJA = re.compile(r"\{[{%#]")
# hooks/pre_gen_project.py's MAX_LENGTH: the longest accepted answers.
LONGEST_PACKAGE = "p" * 32
LONGEST_SLUG = "p" * 64
# The baked pyproject.toml's [tool.black] (line-length 88) for the default Python.
BLACK = black.Mode(line_length=88, target_versions={black.TargetVersion.PY311})
SOURCES = sorted(
    path.relative_to(PROJECT)
    for folder in ("tests", "src")
    for path in (PROJECT / folder).rglob("*.py")
)


def test_the_names_are_the_longest_the_hook_accepts() -> None:
    hook = ast.parse((TEMPLATE_DIR / "hooks" / "pre_gen_project.py").read_text())
    (limits,) = [
        ast.literal_eval(node.value)
        for node in hook.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "MAX_LENGTH"
    ]
    assert limits["package_name"] == len(LONGEST_PACKAGE)
    assert limits["project_slug"] == len(LONGEST_SLUG)


@pytest.mark.parametrize("relative", SOURCES, ids=str)
def test_baked_python_parses_and_black_keeps_it(relative: Path) -> None:
    text = (PROJECT / relative).read_text(encoding="utf-8")
    rendered = text.replace(PACKAGE_NAME, LONGEST_PACKAGE).replace(
        DISTRIBUTION_NAME, f'"{LONGEST_SLUG}"'
    )
    assert not JINJA.search(rendered), f"{relative}: template code besides the package's name"
    ast.parse(rendered, filename=str(relative))
    assert (
        black.format_str(rendered, mode=BLACK) == rendered
    ), f"{relative}: black reformats it when the package is named {LONGEST_PACKAGE!r}"


def test_imports_of_the_package_are_one_line_each() -> None:
    for relative in SOURCES:
        text = (PROJECT / relative).read_text(encoding="utf-8")
        wrapped = re.findall(rf"^from {re.escape(PACKAGE_NAME)}\S* import \($", text, re.M)
        assert not wrapped, f"{relative}: {wrapped}"
