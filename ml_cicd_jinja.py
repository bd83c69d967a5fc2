"""The template's Jinja extension (cookiecutter.json's ``_extensions``). FROZEN.

cruft renders the old and the new template commit in one Python process, from
one clone whose files it switches between the two (cruft 2.16.0:
``_commands/update.py`` and ``utils/generate.py``), and Python keeps the first
module it imported under a name. A module whose code changed between releases
would lend the first render's code to the second, and a project made before
the change could no longer update (``local_extensions`` did that, until 2026-12).

So this module never changes (tests/test_template_repo.py pins its bytes): on
every render it reads ``jinja_filters.py`` beside it, which holds the filters
and may change freely, and runs that file's ``install(environment)``. Its
source is compiled from the text each time, never from a cached ``.pyc`` (two
commits can give the file the same size and modification second).
"""

from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension


class Extensions(Extension):
    """Install the filters of ``jinja_filters.py`` as it is on disk now."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        source = Path(__file__).with_name("jinja_filters.py")
        namespace: dict[str, Any] = {"__name__": "jinja_filters", "__file__": str(source)}
        exec(compile(source.read_text(encoding="utf-8"), str(source), "exec"), namespace)
        namespace["install"](environment)
