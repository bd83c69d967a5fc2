"""A Dockerfile and its .dockerignore, read without Docker: instructions by
stage, exec-form commands, the files a COPY takes from the build context.

No Docker engine runs here, so the serving tests check the Dockerfile
statically and run its steps on the host (``tests/serving/``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    result, current = [], ""
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    return result


def stages(dockerfile: str) -> list[list[tuple[str, str]]]:
    """The instructions of each stage, in order (each list starts with its FROM)."""
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(dockerfile):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, arguments))
    return result


def only(pairs: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in pairs if name == keyword]


def exposed_port(dockerfile: str) -> int:
    (port,) = only(instructions(dockerfile), "EXPOSE")
    return int(port)


def exec_form(arguments: str) -> list[str]:
    """The JSON array of a CMD (or of the command after HEALTHCHECK's options)."""
    return json.loads(arguments[arguments.index("[") :])


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def go_pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: ``*`` stays within one path part, ``**`` not."""
    pattern = pattern.strip("/")
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out, index = out + pattern[index : end + 1], end + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def in_context(path: str, dockerignore: str) -> bool:
    """Whether Docker sends ``path`` to the build: the last matching rule wins, and a
    rule that matches a parent directory matches everything below it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: count + 1]) for count in range(len(parts))]
    included = True
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = go_pattern(line.removeprefix("!"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            included = negated
    return included


def emulate_copy(arguments: str, context: Path, root: Path, workdir: str) -> None:
    """``COPY src... dest`` from the build context into ``root`` (the image's /).

    As Docker does it: a directory's contents go into ``dest``; files go into
    ``dest`` when it ends with ``/`` or there are several sources, else become it.
    """
    *sources, destination = arguments.split()
    absolute = destination if destination.startswith("/") else f"{workdir}/{destination}"
    target = root / absolute.lstrip("/")
    into_directory = destination.endswith("/") or len(sources) > 1
    for source in sources:
        origin = context / source.rstrip("/")
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True)
        else:
            path = target / origin.name if into_directory else target
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, path)
