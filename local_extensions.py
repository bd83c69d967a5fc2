"""Jinja extensions of this template (cookiecutter's ``_extensions``).

cookiecutter and cruft both put the template directory on ``sys.path`` while
rendering, so ``cookiecutter.json`` can name this module's classes.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension


def json_as_typed(value: Any) -> str:
    """``value`` as JSON, with every character that JSON allows left as typed.

    Jinja's own ``tojson`` is made for HTML ``<script>`` blocks: it writes
    ``é`` as ``\\u00e9`` and ``'``, ``<``, ``>``, ``&`` as ``\\u0027`` and so on.
    A JSON string is also a valid TOML basic string and a YAML double-quoted
    scalar, and there only quotes, backslashes and control characters need
    escapes, which is exactly what ``json.dumps`` escapes.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class TextAsTyped(Extension):
    """Make ``tojson`` write text as typed (see :func:`json_as_typed`)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["tojson"] = json_as_typed


def remote_type(url: str, remotes: dict[str, dict[str, Any]]) -> str:
    """The DVC remote type (a key of cookiecutter.json's ``_dvc_remotes``) whose
    URL scheme ``url`` uses: ``s3`` for ``s3://...``, ``http`` for
    ``https://...``; empty for an empty URL or a path."""
    scheme = url.split("://")[0] if "://" in url else ""
    for name, remote in remotes.items():
        if scheme in remote["schemes"]:
            return name
    return ""


class RemoteTypes(Extension):
    """The ``remote_type`` filter (see :func:`remote_type`)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["remote_type"] = remote_type
