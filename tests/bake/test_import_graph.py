"""The baked package's modules import each other without a circle.

A circle (``a`` imports ``b``, which imports ``a``, at the top or inside a
function) means neither module can be read, tested or moved alone, and it
works only as long as the imports happen in a lucky order. The graph is read
from the baked source with ``ast`` (nothing is imported or installed): every
``import`` and ``from ... import`` of the package's own modules, wherever it
stands, and the modules that ``cli.py`` imports by a name computed at run time
(``importlib.import_module``: the optional commands, whose module a project
made without the feature does not have).

Only the command line imports the package's modules inside functions: it
loads what one command needs, so that ``check`` and ``gate`` start without
pandas and scikit-learn. Every other module imports at its top, as usual.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.helpers import Baked, bake

# serving=false deletes the serving folder.
ANSWERS = {"serving": [True, False]}
COMMAND_LINE = "cli"
DYNAMIC_IMPORTS = {"import_module", "__import__"}


@pytest.fixture(scope="module", params=ANSWERS["serving"], ids=lambda v: f"serving={v}")
def package(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baked package's source folder (src/<package>)."""
    project: Baked = bake(tmp_path_factory.mktemp("graph"), serving=request.param)
    return project.path / "src" / project.package


def modules_of(package: Path) -> dict[str, ast.Module]:
    """Each module of the package, parsed, by its dotted name inside the package
    (``pipeline.ingest``; a folder's ``__init__.py`` is ``pipeline.__init__``, the
    package's own ``__init__``)."""
    return {
        ".".join(path.relative_to(package).with_suffix("").parts): ast.parse(
            path.read_text(), str(path)
        )
        for path in sorted(package.rglob("*.py"))
    }


def resolve(parts: list[str], modules: set[str]) -> str:
    """The module that the dotted ``parts`` (inside the package) import: the
    longest of their prefixes that is a module or a folder (its ``__init__``)."""
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        for module in (name, f"{name}.__init__"):
            if module in modules:
                return module
    return "__init__"


def imported_modules(
    node: ast.AST, package: str, modules: set[str], importer: str
) -> Iterator[str]:
    """The package's modules that one ``import`` statement of ``importer`` imports."""
    if isinstance(node, ast.ImportFrom):
        parts = (node.module or "").split(".") if node.module else []
        if node.level:  # relative: from the importer's folder, one up per extra dot
            folder = importer.split(".")[:-1]
            if node.level - 1 > len(folder):
                return
            target = folder[: len(folder) - (node.level - 1)] + parts
        elif parts and parts[0] == package:
            target = parts[1:]
        else:
            return
        for alias in node.names:  # a module of that name, else a name of ``target``
            yield resolve([*target, alias.name], modules)
    elif isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == package:
                yield resolve(parts[1:], modules)


def is_dynamic_import(node: ast.AST) -> bool:
    """``importlib.import_module(...)`` or ``__import__(...)``."""
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return name in DYNAMIC_IMPORTS


def named_modules(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules that a string of ``tree`` names (what a dynamic
    import can reach: cli.py's ``OPTIONAL_COMMANDS`` lists them)."""
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in modules
    }


def function_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements inside a function of ``tree``."""
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (itself and ``__main__`` aside)."""
    trees = modules_of(package)
    modules = set(trees)
    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        edges: set[str] = set()
        for node in ast.walk(tree):
            edges.update(imported_modules(node, package.name, modules, name))
            if is_dynamic_import(node):
                edges.update(named_modules(tree, modules))
        graph[name] = edges - {name}
    return graph


def file_of(module: str) -> str:
    """The file of a dotted module name (``pipeline.ingest``: ``pipeline/ingest.py``)."""
    return module.replace(".", "/") + ".py"


def circles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """One circle through each group of modules that import each other
    (the strongly connected components, Tarjan's algorithm), named in order,
    and the group's other modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[list[str], list[str]]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circle = circle_in(graph, set(component))
                found.append((circle, sorted(set(component) - set(circle))))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def circle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the first module of ``component`` back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        module = queue.pop(0)
        for target in sorted(graph[module] & component):
            if target == start:
                return [*paths[module], start]
            if target not in paths:
                paths[target] = [*paths[module], target]
                queue.append(target)
    raise AssertionError(f"no circle in {component}")


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The reader finds top-level, function-level, absolute and dynamic imports."""
    package = tmp_path / "pkg"
    package.mkdir()
    sources = {
        "__init__": "",
        "a": "from .b import x\n",
        "b": "def f():\n    from .c import y\n",
        "c": "import pkg.d\n",
        "d": "import importlib\nNAMES = {'e': 'a'}\nimportlib.import_module(NAMES['e'])\n",
        "e": "from . import a\n",
        "sub/__init__": "",
        "sub/f": "from ..e import z\nfrom . import g\nfrom pkg.sub.g import w\n",
        "sub/g": "from .. import a\nfrom pkg import sub\n",
    }
    for name, text in sources.items():
        (package / f"{name}.py").parent.mkdir(exist_ok=True)
        (package / f"{name}.py").write_text(text)

    graph = import_graph(package)

    assert graph["a"] == {"b"} and graph["b"] == {"c"} and graph["c"] == {"d"}
    assert graph["d"] == {"a", "e"} and graph["e"] == {"a"}
    assert graph["sub.f"] == {"e", "sub.g"} and graph["sub.g"] == {"a", "sub.__init__"}
    assert circles(graph) == [(["a", "b", "c", "d", "a"], ["e"])]


def test_no_import_circles(package: Path) -> None:
    found = circles(import_graph(package))

    assert not found, "import circles in the baked package: " + "; ".join(
        " -> ".join(file_of(module) for module in circle)
        + "".join(f" (and {file_of(module)} in the same knot)" for module in others)
        for circle, others in found
    )


def test_only_the_command_line_imports_lazily(package: Path) -> None:
    """The package's modules are imported inside functions only by cli.py and
    the command modules it imports by name (a feature's command: serving/command.py)."""
    trees = modules_of(package)
    modules = set(trees)
    command_line = {COMMAND_LINE} | named_modules(trees[COMMAND_LINE], modules)
    lazy = [
        f"{file_of(name)}:{node.lineno} imports {', '.join(targets)}"
        for name, tree in sorted(trees.items())
        if name not in command_line
        for node in function_level_imports(tree)
        if (targets := sorted(set(imported_modules(node, package.name, modules, name))))
    ]

    assert not lazy, "imports inside functions outside the command line: " + "; ".join(lazy)
