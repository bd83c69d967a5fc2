"""The shape of a YAML file that DVC reads too: checked before anything loads it.

DVC reads ``params.yaml`` with a parser that expands every alias and refuses a
duplicate key. A file of 1 kB with nested aliases (``&a [x, x]``, then
``&b [*a, *a]``, and so on) expands to billions of values: DVC, or PyYAML's
merge keys (``<<: *a``), would fill the memory before they could say anything.
``check_shape`` reads the file's parser events once, in a time and memory that
grow with the file's length, and refuses, with the line and the field:

* anchors and aliases (``&name``, ``*name``, ``<<: *name``): write each value out;
* a key given twice in one mapping, which DVC refuses and PyYAML resolves
  silently, last one wins;
* nesting deeper than ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

# Deeper than any settings file needs, far below the parsers' own limits.
MAX_DEPTH = 32


class ShapeError(yaml.YAMLError):
    """Where the file breaks a rule of ``check_shape``: ``line N: field: rule``."""

    def __init__(self, line: int, where: str, rule: str) -> None:
        super().__init__(f"line {line}: {where}: {rule}")


@dataclass
class _Collection:
    """A mapping or a sequence that the parser is inside of."""

    path: str
    is_mapping: bool
    # Mappings: the line of each key so far, and the key whose value comes next.
    keys: dict[str, int] = field(default_factory=dict)
    key: str | None = None
    index: int = 0

    def child(self, name: str) -> str:
        """The dotted name of an entry of this collection."""
        return f"{self.path}.{name}" if self.path else name


def _where(stack: list[_Collection]) -> str:
    """The dotted name of the value the parser reads next."""
    if not stack:
        return "(the document)"
    top = stack[-1]
    return top.child(top.key if top.is_mapping and top.key else str(top.index))


def _value_done(stack: list[_Collection]) -> None:
    """One value of the innermost collection has been read."""
    if stack:
        top = stack[-1]
        if top.is_mapping:
            top.key = None
        else:
            top.index += 1


def check_shape(
    text: str, loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = yaml.SafeLoader
) -> None:
    """Raise ``ShapeError`` for an alias, a duplicate key or too deep a nesting.

    A syntax error raises ``yaml.YAMLError``, as loading would.
    """
    stack: list[_Collection] = []
    for event in yaml.parse(text, Loader=loader):
        # The parsers mark every event; types-PyYAML allows None.
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            raise ShapeError(
                line,
                _where(stack),
                f"anchors and aliases (*{event.anchor}) are not allowed:"
                " write each value out (DVC expands every alias)",
            )
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            _value_done(stack)
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # the stream's and the document's start and end
        top = stack[-1] if stack else None
        if top is not None and top.is_mapping and top.key is None:
            if not isinstance(event, yaml.ScalarEvent):
                raise ShapeError(
                    line, top.path or "(the document)", "keys must be text"
                )
            if event.value in top.keys:
                raise ShapeError(
                    line,
                    top.child(event.value),
                    f"appears twice (first on line {top.keys[event.value]}):"
                    " DVC refuses a file with a duplicate key",
                )
            top.keys[event.value] = line
            top.key = event.value
            continue
        where = _where(stack) if stack else ""
        if event.anchor is not None:
            raise ShapeError(
                line,
                where or "(the document)",
                f"anchors (&{event.anchor}) and aliases are not allowed:"
                " write each value out (DVC expands every alias)",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise ShapeError(line, where, f"nests deeper than {MAX_DEPTH} levels")
            stack.append(_Collection(where, isinstance(event, yaml.MappingStartEvent)))
        else:
            _value_done(stack)
