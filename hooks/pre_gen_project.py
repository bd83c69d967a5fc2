"""Validate every answer before cookiecutter writes the project.

Cookiecutter renders this file with Jinja, then runs it inside the new project
directory. The answers arrive as one JSON document (``tojson``), so quotes,
backslashes or code in an answer stay data. On a bad answer the hook prints
``ERROR: <field>: <rule> (got <value>)`` and exits 1; cookiecutter then removes
the directory it created, so nothing is left behind.
"""

from __future__ import annotations

import importlib.metadata
import json
import keyword
import posixpath
import re
import subprocess
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
    "package_name": 64,
    "author_email": 254,
    "dvc_remote_url": 1024,
    "dvc_read_remote_url": 1024,
}
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
# tests/test_hooks.py fails when a dependency brings a name that is not here),
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
    "sortedcontainers tomli-w".split()
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
    "sortedcontainers tomli_w".split()
)

# Characters that would need quoting in .dvc/config (an INI file), a shell, or
# the Markdown code spans the docs show the URL in.
URL_FORBIDDEN = re.compile(r"[\s\"'`#,;\\]")
URL_FORBIDDEN_RULE = "must not contain spaces, quotes, backticks, '#', ',', ';' or '\\'"
CI_PLATFORMS = ("github", "azure-pipelines")


class AnswerError(ValueError):
    """An answer broke a rule; the message names the field, the rule and the value."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        super().__init__(f"{field}: {rule} (got {value!r})")


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


def check_length(answers: dict, field: str) -> None:
    """The answer to ``field`` is at most ``MAX_LENGTH[field]`` characters long."""
    value = answers[field]
    limit = MAX_LENGTH[field]
    check(len(value) <= limit, field, f"must be at most {limit} characters", value)


def validate_no_template_code(answers: dict) -> None:
    """No answer holds Jinja code: answers are data, never run."""
    for field, value in answers.items():
        if not field.startswith("_") and isinstance(value, str):
            check(
                not TEMPLATE_CODE.search(value),
                field,
                "must not contain '{' followed by '{', '%' or '#' (Jinja's delimiters:"
                " it would be read as template code, not as text)",
                value,
            )


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


def validate_python(answers: dict) -> None:
    """The oldest supported Python: one of cookiecutter.json's _python_versions."""
    version = answers["python_version"]
    supported = answers["_python_versions"]
    check(version in supported, "python_version", f"must be one of {', '.join(supported)}", version)


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
    check(remote in remotes, "dvc_remote", f"must be one of {', '.join(remotes)}", remote)
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
    """Where the project's CI/CD runs (whole files differ: .github/ or azure-pipelines/)."""
    platform = answers["ci_platform"]
    check(
        platform in CI_PLATFORMS,
        "ci_platform",
        f"must be one of {', '.join(CI_PLATFORMS)}",
        platform,
    )
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
    targets = answers["_deploy_targets"]
    check(target in targets, "deploy_target", f"must be one of {', '.join(targets)}", target)
    check(
        serving or target == "none", "deploy_target", "must be none when serving is false", target
    )


VALIDATORS: tuple[Callable[[dict], None], ...] = (
    validate_text,
    validate_names,
    validate_email,
    validate_github_owner,
    validate_python,
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


def validate(answers: dict) -> list[str]:
    """Run every validator; return one message per broken rule (empty when all pass).

    An answer with template code gets that one line alone: the other rules
    would only describe the same payload again.
    """
    try:
        validate_no_template_code(answers)
    except AnswerError as error:
        return [str(error)]
    errors = []
    for validator in VALIDATORS:
        try:
            validator(answers)
        except AnswerError as error:
            errors.append(str(error))
    return errors


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


# Run detached: waits for cookiecutter to delete the project directory, then
# removes the (empty) parents it created for a slug such as "a/b".
CLEANUP_SCRIPT = """
import os, sys, time
leaf, top = sys.argv[1], sys.argv[2]
for _ in range(300):
    if not os.path.exists(leaf):
        break
    time.sleep(0.1)
parent = os.path.dirname(leaf)
while parent != top and parent.startswith(top + os.sep):
    try:
        os.rmdir(parent)
    except OSError:
        break
    parent = os.path.dirname(parent)
"""


def schedule_parent_cleanup(project_dir: Path, slug: str) -> None:
    """Remove the empty directories a multi-part slug made, once cookiecutter is done.

    Cookiecutter creates ``<output>/a/b`` for the slug ``a/b`` before this hook
    runs and deletes only ``b`` after a refusal; ``a`` would be left behind.
    """
    depth = len(Path(slug).parts)
    if depth < 2 or Path(slug).is_absolute() or ".." in Path(slug).parts:
        return
    top = project_dir.parents[depth - 1]
    subprocess.Popen(
        [sys.executable, "-c", CLEANUP_SCRIPT, str(project_dir), str(top)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    """Validate the answers; print every error and return 1 if any rule is broken."""
    answers = load_answers()
    try:
        check_output_directory(Path.cwd(), answers["project_slug"])
    except AnswerError as error:
        # Existing work: nothing else matters, and nothing may be cleaned up.
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    errors = validate(answers)
    try:
        check_cookiecutter_version(installed_cookiecutter_version())
    except AnswerError as error:
        errors.append(str(error))
    for message in errors:
        print(f"ERROR: {message}", file=sys.stderr)
    if errors:
        schedule_parent_cleanup(Path.cwd(), answers["project_slug"])
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
