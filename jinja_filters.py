"""The template's Jinja filters: ``tojson`` as typed, ``remote_type``.

``ml_cicd_jinja.Extensions`` (cookiecutter.json's ``_extensions``) reads this
file afresh on every render and calls :func:`install`, so each render gets the
filters of its own template commit, even when cruft renders two commits in one
process. Change the filters here, never in ml_cicd_jinja.py.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment


def json_as_typed(value: Any) -> str:
    """``value`` as JSON, with every character that JSON allows left as typed.

    Jinja's own ``tojson`` is made for HTML ``<script>`` blocks: it writes
    ``é`` as ``\\u00e9`` and ``'``, ``<``, ``>``, ``&`` as ``\\u0027`` and so on.
    A JSON string is also a valid TOML basic string and a YAML double-quoted
    scalar, and there only quotes, backslashes and control characters need
    escapes, which is exactly what ``json.dumps`` escapes.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def remote_type(url: str, remotes: dict[str, dict[str, Any]]) -> str:
    """The DVC remote type (a key of cookiecutter.json's ``_dvc_remotes``) whose
    URL scheme ``url`` uses: ``s3`` for ``s3://...``, ``http`` for
    ``https://...``; empty for an empty URL or a path."""
    scheme = url.split("://")[0] if "://" in url else ""
    for name, remote in remotes.items():
        if scheme in remote["schemes"]:
            return name
    return ""


def install(environment: Environment) -> None:
    """Add this module's filters to ``environment`` (``tojson`` replaced)."""
    environment.filters["tojson"] = json_as_typed
    environment.filters["remote_type"] = remote_type
