"""The template's Jinja filters (``tojson`` as typed, ``remote_type``), and answers kept as data.

``ml_cicd_jinja.Extensions`` (cookiecutter.json's ``_extensions``) reads this
file afresh on every render and calls :func:`install`, so each render gets the
filters of its own template commit, even when cruft renders two commits in one
process. Change the filters here, never in ml_cicd_jinja.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
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


# Where a string holds Jinja code: an expression, a statement or a comment.
JINJA_CODE = re.compile(r"\{[{%#]")
# A file or directory name of the template: only answers put in as they are.
ANSWER_IN_A_NAME = re.compile(r"\{\{\s*cookiecutter\.\w+\s*\}\}")


def template_sources(root: Path) -> frozenset[str]:
    """The strings the template itself gives Jinja: cookiecutter.json's values
    (defaults, derived names, labels) and the hook scripts."""
    found: set[str] = set()
    pending: list[Any] = [json.loads((root / "cookiecutter.json").read_text("utf-8"))]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
    found |= {hook.read_text("utf-8") for hook in (root / "hooks").glob("*.py")}
    return frozenset(found)


def keep_answers_as_data(environment: Environment, root: Path) -> None:
    """Render every string that is not the template's own as the text it is.

    cookiecutter renders each answer given on its command line (``key=value``,
    ``--no-input``) or by cruft (the answers in ``.cruft.json``) as a Jinja
    template, in an environment that is not sandboxed (cookiecutter 2.7.1
    ``prompt.py::render_variable``): ``{{ 7*7 }}`` became ``49`` and a payload
    ran code. Answers are data: a string with Jinja code that is neither one of
    the template's own (:func:`template_sources`) nor a name made of answers
    only (``{{cookiecutter.project_slug}}/...``, ``generate.py``) renders as
    itself, and the pre-generation hook then refuses it with its field named.
    """
    own = template_sources(root)
    from_string = environment.from_string

    def answers_as_data(source: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            isinstance(source, str)
            and source not in own
            and JINJA_CODE.search(ANSWER_IN_A_NAME.sub("", source))
        ):
            return from_string("{{ text }}", globals={"text": source})
        return from_string(source, *args, **kwargs)

    environment.from_string = answers_as_data  # type: ignore[method-assign]


def install(environment: Environment) -> None:
    """Add this module's filters to ``environment`` (``tojson`` replaced), and
    keep answers as data (:func:`keep_answers_as_data`)."""
    environment.filters["tojson"] = json_as_typed
    environment.filters["remote_type"] = remote_type
    keep_answers_as_data(environment, Path(__file__).parent)
