"""Validate every answer before cookiecutter writes the project.

Cookiecutter renders this file with Jinja, then runs it inside the new project
directory. The answers arrive as one JSON document (``tojson``), so quotes,
backslashes or code in an answer stay data. On a bad answer the hook prints
``ERROR: <field>: <rule> (got <value>)`` and exits 1; cookiecutter then removes
the directory it created, so nothing is left behind, and the hook ends with the
command that asks again, every other answer kept as its default.
"""

from __future__ import annotations

import importlib.metadata
import json
import keyword
import posixpath
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# 2.7 turns `key=no` on the command line into a real boolean (older versions
# pass the truthy string "no"); 2.2 brought JSON booleans and __prompts__.
MINIMUM_COOKIECUTTER = (2, 7)

# Every pattern is used with fullmatch(): with match() and "$", a trailing
# newline would pass ("org\n" is not a GitHub owner).
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
# The address forms every tool on the way accepts (hatchling's metadata check,
# git, PyPI): ASCII, dot-separated parts, a domain of valid host labels.
EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
EMAIL_LOCAL_PART_MAX = 64
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
# Longest accepted answers: names become directory names (most file systems
# stop at 255 bytes per name, and cookiecutter would fail half-way through).
MAX_LENGTH = {
    "project_name": 100,
    "description": 300,
    "author_name": 100,
    "project_slug": 64,
    # One-line imports of the package's names stay within black's 88 columns
    # (tests/unit/test_baked_sources.py).
    "package_name": 32,
    "author_email": 254,
    "dvc_remote_url": 1024,
    "dvc_read_remote_url": 1024,
}
# Limits that were longer in earlier releases (package_name: 64 up to 1.1.0).
EARLIER_MAX_LENGTH = {"package_name": 64}
# The longest file or directory name of common file systems (ext4, APFS, NTFS).
MAX_NAME_BYTES = 255
# MkDocs themes put site_name, site_description and site_author into HTML
# titles and attributes without escaping them: these would be markup there.
HTML_MARKUP = re.compile(r'[<>"]')
# Jinja's delimiters: an expression, a statement, a comment. The template's
# Jinja extension (jinja_filters.keep_answers_as_data) keeps an answer that
# holds them from running; this hook then refuses it.
# (Spelled so that this file, which cookiecutter renders with Jinja, holds none.)
TEMPLATE_CODE = re.compile(r"\{[\x7b%#]")
# What the baked project installs and imports (every distribution and module of
# its virtualenv with all extras, the s3 and ssh DVC plugins included:
# tests/unit/test_hooks.py fails when a dependency brings a name that is not here),
# and common ML libraries a team adds: a project named like one of them makes the
# installer treat it as that dependency, a package named like one makes
# `import <name>` load the project (`gto` breaks the model registry, `anyio` the
# server and the tests).
DEPENDENCY_DISTRIBUTIONS = frozenset(
    "aiobotocore aiohappyeyeballs aiohttp aiohttp-retry aioitertools aiosignal amqp "
    "annotated-doc annotated-types antlr4-python3-runtime anyio appdirs arrow ast-serialize "
    "asyncssh atpublic attrs babel backrefs bcrypt billiard binaryornot black botocore celery "
    "certifi cffi cfgv charset-normalizer click click-didyoumean click-plugins click-repl "
    "cloudpickle colorama configobj contourpy cookiecutter cruft cryptography cycler "
    "deepmerge dictdiffer diskcache distlib distro dpath dulwich dvc dvc-data dvc-http "
    "dvc-objects dvc-render dvc-s3 dvc-ssh dvc-studio-client dvc-task entrypoints fastapi "
    "filelock flake8 flatten-dict flufl-lock fonttools frozenlist fsspec funcy ghp-import "
    "gitdb gitpython grandalf griffelib gto h11 hatchling httpcore2 httpx httpx2 hydra-core "
    "identify idna iniconfig iterative-telemetry jinja2 jmespath joblib kiwisolver kombu "
    "librt lightgbm markdown markdown-exec markdown-it-py markupsafe matplotlib mccabe mdurl "
    "mergedeep mkdocs mkdocs-autorefs mkdocs-get-deps mkdocs-material "
    "mkdocs-material-extensions mkdocstrings mkdocstrings-python multidict mypy "
    "mypy-extensions narwhals networkx nodeenv numpy numpy-typing-compat omegaconf "
    "opentelemetry-api optype orjson packaging paginate pandas pandas-stubs pathspec pillow "
    "pip platformdirs pluggy pre-commit prompt-toolkit propcache psutil pycodestyle pycparser "
    "pydantic pydantic-core pydantic-settings pydot pyflakes pygit2 pygments pygtrie "
    "pymdown-extensions pyparsing pytest python-dateutil python-discovery python-dotenv "
    "python-slugify pytokens pyyaml pyyaml-env-tag requests rich ruamel-yaml s3fs "
    "scikit-learn scipy scipy-stubs scmrepo seaborn semver setuptools shellingham shortuuid "
    "shtab six smmap sqltrie sshfs starlette tabulate tensorflow text-unidecode threadpoolctl "
    "tomli tomlkit torch tqdm truststore typer types-networkx types-pyyaml typing-extensions "
    "typing-inspection tzdata tzlocal urllib3 uv uvicorn vine virtualenv voluptuous watchdog "
    "wcwidth wheel wrapt xgboost yarl zc-lockfile zensical zensical-ui "
    # pip-audit (the dev extra) and what it brings.
    "boolean-py cachecontrol cyclonedx-python-lib defusedxml license-expression msgpack "
    "packageurl-python pip-api pip-audit pip-requirements-parser py-serializable "
    "sortedcontainers tomli-w "
    # Swagger UI's files for the server's /docs (the serve extra).
    "fastapi-offline "
    # The data contract's checks (model/schema.py) and what they bring.
    "pandera typeguard typing-inspect".split()
)
DEPENDENCY_MODULES = frozenset(
    "_black_version _cffi_backend _distutils_hack _pytest _yaml aiobotocore aiohappyeyeballs "
    "aiohttp aiohttp_retry aioitertools aiosignal amqp annotated_doc annotated_types antlr4 "
    "anyio appdirs arrow ast_serialize asyncssh attr attrs babel backrefs bcrypt billiard "
    "binaryornot black blackd blib2to3 botocore c787785866c7b801238d__mypyc celery certifi "
    "cffi cfgv charset_normalizer click click_didyoumean click_plugins click_repl cloudpickle "
    "colorama configobj conftest contourpy cookiecutter cruft cryptography cycler dateutil "
    "deepmerge dictdiffer diskcache distlib distro dotenv dpath dulwich dvc dvc_data dvc_http "
    "dvc_objects dvc_render dvc_s3 dvc_ssh dvc_studio_client dvc_task entrypoints fastapi "
    "fd7dcdb10166ebd4db98__mypyc filelock flake8 flatten_dict flufl frozenlist fsspec funcy "
    "ghp_import git gitdb grandalf griffe gto h11 hatchling httpcore2 httpx httpx2 hydra "
    "identify idna iniconfig iterative_telemetry jinja2 jmespath joblib kiwisolver kombu "
    "librt lightgbm markdown markdown_exec markdown_it markupsafe material materialx "
    "matplotlib mccabe mdurl mergedeep mkdocs mkdocs_autorefs mkdocs_get_deps mkdocstrings "
    "mkdocstrings_handlers mpl_toolkits multidict mypy mypy_extensions mypyc narwhals "
    "networkx nodeenv numpy numpy_typing_compat omegaconf opentelemetry optype orjson "
    "packaging paginate pandas pathspec pip platformdirs pluggy pre_commit prompt_toolkit "
    "propcache psutil public py pycodestyle pycparser pydantic pydantic_core "
    "pydantic_settings pydevd_plugins pydot pyflakes pygit2 pygments pygtrie pylab pymdownx "
    "pyparsing pytest python_discovery pytokens requests rich ruamel s3fs scipy scmrepo "
    "seaborn semver setuptools shellingham shortuuid shtab six sklearn slugify smmap sqltrie "
    "sshfs starlette tabulate tensorflow tests text_unidecode threadpoolctl tomli tomlkit "
    "torch tqdm truststore typer typing_extensions typing_inspection tzdata tzlocal urllib3 "
    "uv uvicorn validate vine virtualenv voluptuous watchdog wcwidth wheel wrapt xgboost yaml "
    "yaml_env_tag yarl zc zensical zensical_ui "
    # pip-audit (the dev extra) and what it brings.
    "boolean cachecontrol cyclonedx defusedxml license_expression msgpack packageurl "
    "packaging_legacy_version pip_api pip_audit pip_requirements_parser py_serializable "
    "sortedcontainers tomli_w "
    # Swagger UI's files for the server's /docs (the serve extra).
    "fastapi_offline "
    # The data contract's checks (model/schema.py) and what they bring.
    "pandera typeguard typing_inspect".split()
)

# Characters that would need quoting in .dvc/config (an INI file), a shell, or
# the Markdown code spans the docs show the URL in.
URL_FORBIDDEN = re.compile(r"[\s\"'`#,;\\]")
URL_FORBIDDEN_RULE = "must not contain spaces, quotes, backticks, '#', ',', ';' or '\\'"
# cookiecutter.json as the template holds it (jinja_filters.install passes it):
# the choices of each question, and which defaults derive from which answers.
# [key, value] pairs in the file's order.
TEMPLATE_OPTIONS: dict = dict(json.loads(r"""{{ template_options | tojson }}"""))
# An answer a default is made of, as project_slug's names cookiecutter.project_name.
REFERENCE = re.compile(r"\bcookiecutter\.(\w+)")


class AnswerError(ValueError):
    """An answer broke a rule; the message names the field, the rule and the value."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        super().__init__(f"{field}: {rule} (got {value!r})")
        self.field = field


def check(condition: bool, field: str, rule: str, value: object) -> None:
    """Raise :class:`AnswerError` unless ``condition`` holds."""
    if not condition:
        raise AnswerError(field, rule, value)


def is_single_line_text(value: str) -> bool:
    """True for non-empty text on one line, within the Basic Multilingual Plane.

    Characters outside the BMP (emoji) are refused: ``tojson`` writes them as
    surrogate pairs, which TOML parsers reject.
    """
    return (
        bool(value.strip())
        and "\n" not in value
        and "\r" not in value
        and all(ord(char) <= 0xFFFF and (char == "\t" or char.isprintable()) for char in value)
    )


def made_by_an_earlier_release(answers: dict) -> bool:
    """The answers are those of a project made with an earlier release: cruft
    renders a template update with the answers it stored at creation, and
    cookiecutter sets private variables such as ``_release`` from them too
    (``apply_overwrites_to_context``, cookiecutter/generate.py)."""
    release = TEMPLATE_OPTIONS.get("_release")
    return answers.get("_release", release) != release


def check_length(answers: dict, field: str) -> None:
    """The answer to ``field`` is at most ``MAX_LENGTH[field]`` characters long
    (``EARLIER_MAX_LENGTH[field]`` for a project made by an earlier release, so
    that a limit made shorter never refuses a project its updates)."""
    value = answers[field]
    limit = MAX_LENGTH[field]
    if made_by_an_earlier_release(answers):
        limit = EARLIER_MAX_LENGTH.get(field, limit)
    check(len(value) <= limit, field, f"must be at most {limit} characters", value)


def template_code_errors(answers: dict) -> list[AnswerError]:
    """One error per answer that holds Jinja code: answers are data, never run."""
    return [
        AnswerError(
            field,
            "must not contain '{' followed by '{', '%' or '#' (Jinja's delimiters:"
            " it would be read as template code, not as text)",
            value,
        )
        for field, value in answers.items()
        if not field.startswith("_") and isinstance(value, str) and TEMPLATE_CODE.search(value)
    ]


def questions() -> list[str]:
    """The questions the bake asks, in cookiecutter.json's order."""
    return [key for key in TEMPLATE_OPTIONS if not key.startswith("_")]


def validate_choices(answers: dict) -> None:
    """Each answer to a choice question is one of its choices in cookiecutter.json.

    cookiecutter refuses a value outside them before the hooks run (a
    ``key=value`` on its command line, cruft's stored answers); this covers
    a context built by other means.
    """
    for field in questions():
        choices = TEMPLATE_OPTIONS[field]
        if isinstance(choices, list):
            value = answers[field]
            check(value in choices, field, f"must be one of {', '.join(choices)}", value)


def validate_text(answers: dict) -> None:
    """Free-text answers: present, one line, representable in every file format."""
    for field in ("project_name", "description", "author_name"):
        value = answers[field]
        check_length(answers, field)
        check(
            is_single_line_text(value),
            field,
            "must be one non-empty line of printable text without emoji",
            value,
        )
        check(
            not HTML_MARKUP.search(value),
            field,
            'must not contain <, > or " (the docs site writes it into HTML unescaped)',
            value,
        )


def validate_names(answers: dict) -> None:
    """The derived repository slug and import name."""
    slug = answers["project_slug"]
    check_length(answers, "project_slug")
    check(
        bool(SLUG.fullmatch(slug)),
        "project_slug",
        "must be lowercase letters, digits and single dashes, with no path separators",
        slug,
    )
    check(
        normalized_distribution(slug) not in DEPENDENCY_DISTRIBUTIONS,
        "project_slug",
        f"must not be the name of the dependency {normalized_distribution(slug)}:"
        " installing the project would clash with it",
        slug,
    )
    package = answers["package_name"]
    check_length(answers, "package_name")
    check(
        bool(PACKAGE.fullmatch(package)) and package.isidentifier(),
        "package_name",
        "must be a valid lowercase Python identifier",
        package,
    )
    check(not keyword.iskeyword(package), "package_name", "must not be a Python keyword", package)
    check(
        package not in sys.stdlib_module_names,
        "package_name",
        "must not shadow a standard-library module",
        package,
    )
    check(
        package not in DEPENDENCY_MODULES,
        "package_name",
        f"must not shadow the dependency {package}: `import {package}` would load"
        " this project instead",
        package,
    )


def normalized_distribution(name: str) -> str:
    """A distribution name as installers compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def validate_email(answers: dict) -> None:
    """The author's email (also the email of the first commit)."""
    email = answers["author_email"]
    check_length(answers, "author_email")
    check(
        bool(EMAIL.fullmatch(email)) and len(email.partition("@")[0]) <= EMAIL_LOCAL_PART_MAX,
        "author_email",
        "must be an email address like name@example.com (ASCII letters, digits and"
        f" . _ % + - before the @, at most {EMAIL_LOCAL_PART_MAX} of them)",
        email,
    )


def validate_github_owner(answers: dict) -> None:
    """The GitHub user or organisation, used in URLs and image names."""
    owner = answers["github_owner"]
    check(
        bool(GITHUB_OWNER.fullmatch(owner)),
        "github_owner",
        "must be a GitHub user or organisation name (letters, digits, single dashes, at most 39)",
        owner,
    )


def leads_out_of_project(path: str, slug: str, root: Path) -> bool:
    """True for a local remote path that ends outside the project directory.

    A relative path is relative to the project root, so it must climb out of it
    (``../storage``); otherwise ``dvc push`` would fill a directory that git sees.
    An absolute path must not be the project ``root``, inside it or above it.
    ``~`` is refused as well: DVC does not expand it; so is ``//...``, which
    names a network share (or, alone, the root) rather than a directory.
    """
    if path.startswith("//"):
        return False
    normal = posixpath.normpath(path)
    if normal.startswith("/"):
        target, project = Path(normal).resolve(), root.resolve()
        return target not in (project, *project.parents) and project not in target.parents
    parts = normal.split("/")
    return parts[0] == ".." and parts[-1] != ".." and parts[:2] != ["..", slug]


def check_url_characters(answers: dict, field: str) -> None:
    """A remote URL fits in .dvc/config as it is and carries no credentials."""
    url = answers[field]
    check_length(answers, field)
    check(not URL_FORBIDDEN.search(url), field, URL_FORBIDDEN_RULE, url)
    check(
        all(len(part.encode()) <= MAX_NAME_BYTES for part in url.split("/")),
        field,
        f"each part between slashes must be at most {MAX_NAME_BYTES} bytes"
        " (the longest file or directory name)",
        url,
    )
    check(
        "?" not in url,
        field,
        "must have no query string (?...): tokens and signatures in a URL are"
        " credentials, and .dvc/config is committed; use `dvc remote modify --local`",
        url,
    )


def url_matches(remote: dict, url: str) -> bool:
    """True when ``url`` matches the remote type's ``url_pattern`` as a whole.

    The patterns live in cookiecutter.json's ``_dvc_remotes``; none lets a
    password into the URL, since credentials never go to .dvc/config.
    """
    return re.fullmatch(remote["url_pattern"], url) is not None


def validate_remote(answers: dict) -> None:
    """The DVC remote URL must match the remote type; the read-only URL is optional."""
    remotes = answers["_dvc_remotes"]
    remote = answers["dvc_remote"]
    if remote not in remotes:
        return  # not a choice: validate_choices says so
    url = answers["dvc_remote_url"]
    check_url_characters(answers, "dvc_remote_url")
    check(
        url_matches(remotes[remote], url)
        and (remote != "local" or leads_out_of_project(url, answers["project_slug"], Path.cwd())),
        "dvc_remote_url",
        f"{remotes[remote]['url_rule']} for dvc_remote={remote}",
        url,
    )

    read_url = answers["dvc_read_remote_url"]
    if not read_url:
        return
    check(
        remote != "none", "dvc_read_remote_url", "must be empty when dvc_remote is none", read_url
    )
    check_url_characters(answers, "dvc_read_remote_url")
    # Any remote type with a URL scheme can be the read-only one; not a local path.
    readable = [kind for kind in remotes.values() if kind["schemes"]]
    schemes = sorted(f"{scheme}://" for kind in readable for scheme in kind["schemes"])
    check(
        any(url_matches(kind, read_url) for kind in readable),
        "dvc_read_remote_url",
        f"must be empty or a URL that starts with {', '.join(schemes[:-1])} or"
        f" {schemes[-1]} (plain http:// only for localhost or 127.0.0.1)",
        read_url,
    )


def validate_ci_platform(answers: dict) -> None:
    """Azure Pipelines deploys to the targets cookiecutter.json's _deploy_targets allow it."""
    platform = answers["ci_platform"]
    targets = answers["_deploy_targets"]
    target = answers["deploy_target"]
    on_azure = [name for name, facts in targets.items() if facts["azure_pipelines"]]
    github_only = [name for name in targets if name not in on_azure]
    check(
        platform != "azure-pipelines" or target in on_azure,
        "deploy_target",
        f"must be {' or '.join(on_azure)} when ci_platform is azure-pipelines"
        f" (the {' and '.join(github_only)} deploys are GitHub Actions jobs)",
        target,
    )


def validate_serving(answers: dict) -> None:
    """Deployment needs the serving app."""
    serving = answers["serving"]
    check(isinstance(serving, bool), "serving", "must be true or false", serving)
    target = answers["deploy_target"]
    check(
        serving or target == "none", "deploy_target", "must be none when serving is false", target
    )


VALIDATORS: tuple[Callable[[dict], None], ...] = (
    validate_choices,
    validate_text,
    validate_names,
    validate_email,
    validate_github_owner,
    validate_remote,
    validate_serving,
    validate_ci_platform,
)


def check_cookiecutter_version(version: str) -> None:
    """The engine running this hook (cookiecutter, also under cruft) must be recent."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    wanted = ".".join(map(str, MINIMUM_COOKIECUTTER))
    check(
        numbers >= MINIMUM_COOKIECUTTER,
        "cookiecutter",
        f"must be version {wanted} or newer",
        version,
    )


def installed_cookiecutter_version() -> str:
    """The version of the cookiecutter that runs this hook (same interpreter).

    A cookiecutter run from a source checkout has no distribution metadata:
    nothing to check then, so the minimum is returned.
    """
    try:
        return importlib.metadata.version("cookiecutter")
    except importlib.metadata.PackageNotFoundError:
        return ".".join(map(str, MINIMUM_COOKIECUTTER))


def validate(answers: dict) -> list[AnswerError]:
    """Run every validator; return one error per refused answer (empty when all pass).

    An answer with template code gets that line alone: the other rules would
    only describe the same payload again. An answer derived from a refused one
    (the remote's directory from a bad slug) is not named: it is asked again too.
    """
    errors = template_code_errors(answers)
    if errors:
        return errors
    for validator in VALIDATORS:
        try:
            validator(answers)
        except AnswerError as error:
            errors.append(error)
    derived = derived_from({error.field for error in errors})
    return [error for error in errors if error.field not in derived]


def derived_from(fields: set[str]) -> set[str]:
    """The questions whose default cookiecutter.json makes, directly or not, of ``fields``."""
    found: set[str] = set()
    for key in questions():  # a default refers only to earlier questions
        default = TEMPLATE_OPTIONS[key]
        if isinstance(default, str) and (fields | found) & set(REFERENCE.findall(default)):
            found.add(key)
    return found


def check_output_directory(root: Path, slug: str) -> None:
    """The project directory must have been empty before this bake.

    ``cookiecutter -f`` renders into an existing directory: it overwrites the
    files it renders (``-s`` skips them instead), then the post-generation hook
    would delete the files of disabled options and commit everything, the
    user's own files and secrets included. Refusing here changes nothing: when
    the directory existed, cookiecutter does not delete it after a refusal.
    """
    entries = sorted(entry.name for entry in root.iterdir())
    shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
    check(
        not entries,
        "project_slug",
        f"must name a new or empty directory: {root} already holds {len(entries)}"
        f" entries ({shown}) that the bake would overwrite or commit; bake elsewhere"
        " and copy over what you need",
        slug,
    )


def load_answers() -> dict:
    """The answers, rendered by cookiecutter as JSON and parsed back as data."""
    return json.loads(r"""{{ cookiecutter | tojson }}""")


def refusals(answers: dict) -> list[AnswerError]:
    """Every broken rule; existing work alone when the directory already holds some."""
    try:
        check_output_directory(Path.cwd(), answers["project_slug"])
    except AnswerError as error:
        return [error]
    errors = validate(answers)
    try:
        check_cookiecutter_version(installed_cookiecutter_version())
    except AnswerError as error:
        errors.append(error)
    return errors


def executable(name: str) -> list[str]:
    """How to start ``name`` (cookiecutter, cruft) of the Python running this hook:
    its bare name when PATH finds that one, else its path."""
    beside = Path(sys.executable).with_name(name)
    found = shutil.which(name)
    if found and Path(found).resolve() == beside.resolve():
        return [name]
    return [str(beside)] if beside.exists() else [sys.executable, "-m", name]


def as_typed(value: object) -> str:
    """An answer as ``key=value`` on cookiecutter's command line takes it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ask_again_command(answers: dict, refused: set[str]) -> str:
    """The bake's command again, every answer given but the refused ones and
    those derived from them: it asks each question again with these answers as
    the defaults (Enter keeps one; --no-input and key=value answer nothing).

    No file holds them (cookiecutter's own replay, ``--replay-file``, takes
    no answer beside the file's and cannot ask only the missing ones: their
    derived defaults fail to render without the other answers).
    """
    asked = refused | derived_from(refused)
    kept = {key: answers[key] for key in questions() if key not in asked}
    output = answers.get("_output_dir") or str(Path.cwd().parent)
    if "_commit" in answers:  # cruft create (cruft adds _commit, cookiecutter never does)
        words = [*executable("cruft"), "create", answers["_template"]]
        words += ["--checkout", answers["_commit"], "--output-dir", output]
        words += ["--extra-context", json.dumps(kept, ensure_ascii=False)]
    else:
        words = [*executable("cookiecutter"), answers["_template"]]
        if answers.get("_checkout"):
            words += ["--checkout", answers["_checkout"]]
        words += ["--output-dir", output]
        words += [f"{key}={as_typed(value)}" for key, value in kept.items()]
    return shlex.join(words)


def main() -> int:
    """Validate the answers; on a broken rule print each, the command that asks
    again, and return 1."""
    answers = load_answers()
    errors = refusals(answers)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    refused = {error.field for error in errors} & set(questions())
    if refused and "_template" in answers:  # cookiecutter and cruft give it; a bare context not
        print(
            "Nothing was written. This asks again, your other answers kept as the defaults:\n"
            f"  {ask_again_command(answers, refused)}",
            file=sys.stderr,
        )
    return 1 if errors else 0


def remove_own_file() -> None:
    """Delete this rendered hook, every answer in it, from the temporary directory.

    cookiecutter (hooks.run_script_with_context) writes the rendered script to
    a NamedTemporaryFile(delete=False) and runs it, and never deletes it.
    A hook imported from elsewhere (the unit tests) keeps its file.
    """
    own = Path(__file__)
    if own.parent == Path(tempfile.gettempdir()) and own.name.startswith("tmp"):
        own.unlink(missing_ok=True)


if __name__ == "__main__":
    remove_own_file()
    raise SystemExit(main())
