"""The template's Jinja filters (``tojson`` as typed, ``remote_type``), answers kept as data,
the template's options for its hooks, and a failed hook without cookiecutter's traceback.

``ml_cicd_jinja.Extensions`` (cookiecutter.json's ``_extensions``) reads this
file afresh on every render and calls :func:`install`, so each render gets the
filters of its own template commit, even when cruft renders two commits in one
process. Change the filters here, never in ml_cicd_jinja.py.
"""

from __future__ import annotations

import json
import logging
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


def template_options(root: Path) -> dict[str, Any]:
    """cookiecutter.json as the template holds it: choice lists, and the
    defaults that derive one answer from others (``{{ cookiecutter.x }}``)."""
    options: dict[str, Any] = json.loads((root / "cookiecutter.json").read_text("utf-8"))
    return options


def template_sources(root: Path) -> frozenset[str]:
    """The strings the template itself gives Jinja: cookiecutter.json's values
    (defaults, derived names, labels) and the hook scripts."""
    found: set[str] = set()
    pending: list[Any] = [template_options(root)]
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


def without_hook_traceback(record: logging.LogRecord) -> bool:
    """Keep a failed hook's log record without cookiecutter's own traceback.

    A logging filter (the standard library's ``Logger.addFilter``) on
    cookiecutter's ``cookiecutter.hooks`` logger. cookiecutter 2.7.1 logs a
    failed hook with ``logger.exception`` (hooks.py: run_hook_from_repo_dir):
    eleven lines of its own call stack ending in ``FailedHookException``, after
    the hook has said what was wrong, and its command line then prints the
    exception's message again. The refused pre-generation hook's record goes
    whole (the hook's ERROR lines and the command that asks again say it all);
    any other failed hook keeps its line, without the stack.
    """
    failure = record.exc_info[1] if record.exc_info else None
    if type(failure).__name__ != "FailedHookException":
        return True
    record.exc_info, record.exc_text = None, None
    return record.args != ("pre_gen_project",)


def quiet_hook_failures() -> None:
    """Filter cookiecutter's hook log with :func:`without_hook_traceback`, once a process."""
    logger = logging.getLogger("cookiecutter.hooks")
    if not any(
        getattr(known, "__name__", "") == without_hook_traceback.__name__
        for known in logger.filters
    ):
        logger.addFilter(without_hook_traceback)


def install(environment: Environment) -> None:
    """Add this module's filters to ``environment`` (``tojson`` replaced), keep
    answers as data (:func:`keep_answers_as_data`), give the hooks the
    template's options (``template_options``: cookiecutter.json, so that they
    restate none of it) and quiet cookiecutter's traceback of a failed hook."""
    root = Path(__file__).parent
    environment.filters["tojson"] = json_as_typed
    environment.filters["remote_type"] = remote_type
    # [key, value] pairs in the file's order: tojson sorts a mapping's keys.
    environment.globals["template_options"] = list(template_options(root).items())
    keep_answers_as_data(environment, root)
    quiet_hook_failures()
