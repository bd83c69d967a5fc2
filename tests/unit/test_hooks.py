"""Unit tests of the hooks, rendered the way cookiecutter renders them, then imported."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from support.helpers import CONTEXT, TEMPLATE_DIR, bake_cli, clean_env

HOOKS = TEMPLATE_DIR / "hooks"
# cookiecutter puts the template on sys.path for ml_cicd_jinja.py; so do we.
sys.path.insert(0, str(TEMPLATE_DIR))


def answers(**overrides) -> dict:
    """The context cookiecutter would build for these answers (defaults otherwise)."""
    context = generate_context(
        context_file=str(TEMPLATE_DIR / "cookiecutter.json"), extra_context=overrides
    )
    return dict(prompt_for_config(context, no_input=True))


def load_hook(name: str, context: dict, tmp_path: Path) -> ModuleType:
    """Render hooks/<name>.py with cookiecutter's Jinja environment and import it."""
    env = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    source = (HOOKS / f"{name}.py").read_text()
    rendered = tmp_path / f"rendered_{name}.py"
    rendered.write_text(env.from_string(source).render(cookiecutter=context))
    spec = importlib.util.spec_from_file_location(f"rendered_{name}", rendered)
    assert spec is not None and spec.loader is not None, rendered
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pre(tmp_path: Path) -> ModuleType:
    return load_hook("pre_gen_project", answers(), tmp_path)


@pytest.fixture
def post(tmp_path: Path) -> ModuleType:
    return load_hook("post_gen_project", answers(), tmp_path)


def test_hooks_are_python_only_and_never_use_a_shell() -> None:
    assert sorted(p.name for p in HOOKS.iterdir() if p.is_file()) == [
        "post_gen_project.py",
        "pre_gen_project.py",
    ]
    for hook in HOOKS.glob("*.py"):
        assert "shell=True" not in hook.read_text()
        assert "os.system" not in hook.read_text()


def test_rendered_hooks_read_answers_as_data(tmp_path: Path) -> None:
    context = answers(description='"""; raise SystemExit(3); x = """ \\ \'')
    module = load_hook("pre_gen_project", context, tmp_path)
    assert module.load_answers()["description"] == context["description"]


def test_defaults_are_valid(pre: ModuleType) -> None:
    assert pre.validate(answers()) == []


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"project_slug": "Bad Slug"}, "project_slug"),
        ({"project_slug": "a//b"}, "project_slug"),
        ({"project_slug": "trailing-"}, "project_slug"),
        ({"package_name": "def"}, "package_name"),
        ({"package_name": "os"}, "package_name"),
        ({"package_name": "Mixed"}, "package_name"),
        ({"author_email": "a@b"}, "author_email"),
        ({"author_email": "a b@c.de"}, "author_email"),
        ({"github_owner": "a" * 40}, "github_owner"),
        ({"python_version": "3.9"}, "python_version"),
        ({"python_version": "3.14"}, "python_version"),  # CI tests it, it is no choice
        ({"license": "GPL-3.0"}, "license"),
        ({"dvc_remote": "ftp"}, "dvc_remote"),
        ({"deploy_target": "heroku"}, "deploy_target"),
        ({"author_name": "  "}, "author_name"),
        ({"dvc_remote": "gs", "dvc_remote_url": "s3://bucket/x"}, "dvc_remote_url"),
        ({"dvc_remote": "azure", "dvc_remote_url": "azure://"}, "dvc_remote_url"),
        ({"dvc_remote": "ssh", "dvc_remote_url": "ssh://host"}, "dvc_remote_url"),
        ({"dvc_remote": "s3", "dvc_remote_url": "s3://bucket/pa th"}, "dvc_remote_url"),
        ({"dvc_remote": "none", "dvc_remote_url": "s3://b/x"}, "dvc_remote_url"),
        (
            {"dvc_remote": "none", "dvc_remote_url": "", "dvc_read_remote_url": "https://h/x"},
            "dvc_read_remote_url",
        ),
        ({"serving": "yes"}, "serving"),
        # Whole-string matching, name clashes, strict emails, lengths, URLs.
        ({"project_slug": "ok\n"}, "project_slug"),
        ({"package_name": "pkg\n"}, "package_name"),
        ({"github_owner": "org\n"}, "github_owner"),
        ({"author_email": "a@b.cd\n"}, "author_email"),
        ({"project_slug": "numpy"}, "project_slug"),
        ({"project_slug": "PyYAML".lower()}, "project_slug"),
        ({"project_slug": "a" * 65}, "project_slug"),
        ({"package_name": "pandas"}, "package_name"),
        ({"package_name": "fastapi"}, "package_name"),
        ({"package_name": "dvc"}, "package_name"),
        ({"package_name": "tests"}, "package_name"),
        ({"author_email": "ü@example.com"}, "author_email"),
        ({"author_email": "<x>@y.z"}, "author_email"),
        ({"author_email": "a@b..com"}, "author_email"),
        ({"author_email": ".a@b.com"}, "author_email"),
        ({"author_email": "a@-b.com"}, "author_email"),
        ({"author_email": "a" * 65 + "@b.com"}, "author_email"),
        ({"project_name": "x" * 101}, "project_name"),
        ({"description": "x" * 301}, "description"),
        ({"author_name": "<b>me</b>"}, "author_name"),
        ({"dvc_remote_url": "./storage"}, "dvc_remote_url"),
        ({"dvc_remote_url": "//"}, "dvc_remote_url"),
        ({"dvc_remote_url": "//server/share"}, "dvc_remote_url"),
        ({"dvc_remote": "http", "dvc_remote_url": "https://h/x?token=abc"}, "dvc_remote_url"),
        ({"dvc_remote": "s3", "dvc_remote_url": "s3://bucket/x?sig=abc"}, "dvc_remote_url"),
        ({"dvc_read_remote_url": "https://h/x?access_token=abc"}, "dvc_read_remote_url"),
        ({"dvc_remote": "s3", "dvc_remote_url": "s3://bucket/" + "x" * 2048}, "dvc_remote_url"),
        ({"serving": False, "deploy_target": "cloud-run"}, "deploy_target"),
        ({"serving": False, "deploy_target": "azure-container-apps"}, "deploy_target"),
        ({"ci_platform": "azure"}, "ci_platform"),
        ({"ci_platform": "azure-pipelines", "deploy_target": "cloud-run"}, "deploy_target"),
    ],
)
def test_each_rule_names_its_field(
    pre: ModuleType, overrides: dict, field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the project directory, where the hook runs
    context = {**answers(), **overrides}
    errors = [str(error) for error in pre.validate(context)]
    assert errors, overrides
    assert errors[0].startswith(f"{field}: ")
    assert f"(got {overrides[field]!r})" in errors[0]


@pytest.mark.parametrize(
    "remote,url",
    [
        ("local", "../storage"),
        ("local", "/srv/dvc/project"),
        ("s3", "s3://my-bucket/dvc"),
        ("gs", "gs://my-bucket/dvc/store"),
        ("azure", "azure://container/path"),
        ("ssh", "ssh://user@host.example.com:2222/srv/dvc"),
        ("http", "https://dvc.example.com/store"),
        ("http", "http://127.0.0.1:8080/store"),
        ("none", ""),
    ],
)
def test_valid_remote_urls_pass(pre: ModuleType, remote: str, url: str) -> None:
    assert pre.validate({**answers(), "dvc_remote": remote, "dvc_remote_url": url}) == []


def test_local_remote_under_the_project_is_refused(
    pre: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "ml-project"
    project.mkdir()
    monkeypatch.chdir(project)
    for url in (str(project / "storage"), str(project), f"{tmp_path}/./ml-project/x"):
        (error,) = pre.validate({**answers(), "dvc_remote_url": url})
        assert str(error).startswith("dvc_remote_url: must be a directory path outside the project")
    assert pre.validate({**answers(), "dvc_remote_url": str(tmp_path / "storage")}) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"author_email": "first.last+tag@sub.example.co.uk"},
        {"author_email": "o_brien-2@example.io"},
        {"project_slug": "numpy-tools", "package_name": "numpy_tools"},
        {"project_name": "x" * 100},
        {"author_name": "Zoë O'Brien & Co"},
        {"dvc_remote": "http", "dvc_remote_url": "https://h.example/x/y"},
    ],
)
def test_valid_answers_pass(pre: ModuleType, overrides: dict) -> None:
    assert pre.validate({**answers(), **overrides}) == []


def test_one_character_package_name_is_allowed(pre: ModuleType) -> None:
    assert pre.validate({**answers(), "project_slug": "x", "package_name": "x"}) == []


def test_a_package_name_longer_than_32_is_refused_only_to_new_projects(pre: ModuleType) -> None:
    """A project made by a release that allowed 64 characters keeps its name
    through updates: cruft renders them with its stored answers, ``_release``
    included (that release's own)."""
    long_name = "p" * 40
    assert [str(e) for e in pre.validate({**answers(), "package_name": long_name})] == [
        f"package_name: must be at most 32 characters (got {long_name!r})"
    ]
    earlier = {**answers(), "_release": "1.0.0", "package_name": long_name}
    assert pre.validate(earlier) == []
    too_long = {**earlier, "package_name": "p" * 65}
    assert [str(e) for e in pre.validate(too_long)] == [
        f"package_name: must be at most 64 characters (got {'p' * 65!r})"
    ]


def test_main_reports_every_broken_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = answers(author_email="nope", github_owner="-x-")
    module = load_hook("pre_gen_project", context, tmp_path)
    (tmp_path / "ml-project").mkdir()
    monkeypatch.chdir(tmp_path / "ml-project")  # where cookiecutter runs it: a new directory
    assert module.main() == 1
    err = capsys.readouterr().err
    assert "ERROR: author_email: " in err and "ERROR: github_owner: " in err


def test_an_answer_derived_from_a_refused_one_is_not_named(pre: ModuleType) -> None:
    """The remote's directory made of a bad slug, the slug made of a bad name:
    asked again with it, so only the answer typed is named."""
    (error,) = pre.validate(answers(project_slug="My Proj"))
    assert str(error).startswith("project_slug: ")
    (error,) = pre.validate(answers(project_name="Long " * 25))
    assert str(error).startswith("project_name: must be at most 100 characters")
    assert pre.derived_from({"project_name"}) == {"project_slug", "package_name", "dvc_remote_url"}
    assert pre.derived_from({"dvc_remote"}) == {"dvc_remote_url"}
    assert pre.derived_from({"author_email"}) == set()


def ask_again(module: ModuleType, capsys: pytest.CaptureFixture) -> list[str]:
    assert module.main() == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[-2].startswith("Nothing was written. This asks again"), err
    return shlex.split(lines[-1])


def test_a_refusal_ends_with_the_command_that_asks_again(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cookiecutter's command with every answer but the refused ones and those
    made of them, each as key=value, quoted for the shell."""
    context = {
        **answers(project_name="Zoë's ML $HOME & co", author_email="nope", serving=False),
        "_template": "gh:org/ml-cicd",
        "_checkout": "v1.0.0",
        "_output_dir": str(tmp_path),
    }
    module = load_hook("pre_gen_project", context, tmp_path)
    (tmp_path / "zoe-s-ml-home-co").mkdir()
    monkeypatch.chdir(tmp_path / "zoe-s-ml-home-co")
    command = ask_again(module, capsys)
    assert command[1:6] == ["gh:org/ml-cicd", "--checkout", "v1.0.0", "--output-dir", str(tmp_path)]
    given = dict(word.split("=", 1) for word in command[6:])
    assert given["project_name"] == "Zoë's ML $HOME & co" and given["serving"] == "false"
    assert given["project_slug"] == "zoe-s-ml-home-co" and "author_email" not in given
    assert list(given) == [key for key in CONTEXT if not key.startswith("_") and key in given]


def test_under_cruft_the_command_is_cruft_create_at_the_same_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = {
        **answers(project_name="Numpy"),
        "_template": "https://github.com/org/ml-cicd",
        "_commit": "0123abc",
    }
    module = load_hook("pre_gen_project", context, tmp_path)
    (tmp_path / "numpy").mkdir()
    monkeypatch.chdir(tmp_path / "numpy")
    command = ask_again(module, capsys)
    assert command[1:7] == [
        "create",
        "https://github.com/org/ml-cicd",
        "--checkout",
        "0123abc",
        "--output-dir",
        str(tmp_path),
    ]
    assert command[7] == "--extra-context"
    given = json.loads(command[8])
    assert given["project_name"] == "Numpy" and given["serving"] is True
    assert not {"project_slug", "package_name", "dvc_remote_url"} & set(given)


def test_the_hooks_restate_no_choice_list() -> None:
    """Choices are read from cookiecutter.json (the hooks get it as
    template_options): no list, tuple or set of two choices in a hook."""
    choices = {
        value
        for key, option in CONTEXT.items()
        if isinstance(option, list) and not key.startswith("_")
        for value in option
    }
    for hook in HOOKS.glob("*.py"):
        for node in ast.walk(ast.parse(hook.read_text())):
            if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                named = [elt.value for elt in node.elts if isinstance(elt, ast.Constant)]
                assert len(choices.intersection(named)) < 2, (hook.name, node.lineno, named)


def test_the_hooks_start_no_process_that_outlives_them() -> None:
    """No clean-up left running after the hook (a program in a string, detached):
    the hooks run commands and wait for them."""
    for hook in HOOKS.glob("*.py"):
        for node in ast.walk(ast.parse(hook.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("Popen", "spawn", "fork"), (hook.name, node.lineno)
            if isinstance(node, ast.keyword):
                assert node.arg != "start_new_session", (hook.name, node.lineno)


# What the removal table takes out of a default bake when serving is off.
SERVING_FILES = {
    "src/ml_project/serving",
    "tests/test_serve.py",
    "tests/test_serve_command.py",
    "tests/test_serve_limits.py",
    "Dockerfile",
    ".dockerignore",
    "docs/serving.md",
    "tools/smoke_test.py",
    ".github/actions/image",
}


@pytest.mark.parametrize(
    "overrides,removed",
    [
        ({}, set()),
        ({"serving": False}, SERVING_FILES),
        ({"deploy_target": "fly"}, set()),
        ({"deploy_target": "azure-container-apps"}, set()),
        ({"ci_platform": "azure-pipelines"}, {".github"}),
        (
            {"ci_platform": "azure-pipelines", "serving": False},
            {".github", "azure-pipelines/release.yml", *SERVING_FILES},
        ),
    ],
)
def test_removal_table(post: ModuleType, overrides: dict, removed: set) -> None:
    context = {**answers(), **overrides}
    expected = removed | ({"fly.toml"} if context["deploy_target"] != "fly" else set())
    expected |= {".github/actions/deploy"} if context["deploy_target"] == "none" else set()
    if context["deploy_target"] != "azure-container-apps":
        expected.add("tools/deploy_container_app.sh")
    if context["ci_platform"] == "github":
        expected |= {"azure-pipelines.yml", "azure-pipelines", "docs/azure-devops.md"}
        expected |= {"tools/azure_pr_thread.py", "azure-pipelines/release.yml"}
    assert set(post.paths_to_remove(context)) == expected


def test_removal_is_idempotent(post: ModuleType, tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "src/ml_project/serving").mkdir(parents=True)
    (root / "src/ml_project/serving/app.py").write_text("")
    (root / "fly.toml").write_text("")
    context = {**answers(), "serving": False}
    post.remove_disabled_files(context, root)
    post.remove_disabled_files(context, root)
    assert not (root / "fly.toml").exists() and not (root / "src/ml_project/serving").exists()


def test_cruft_rerender_is_detected_only_in_a_cruft_temporary_directory(
    post: ModuleType, tmp_path: Path
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        in_temp = Path(scratch) / "ml-project"
        assert post.is_cruft_rerender({**answers(), "_commit": "abc"}, in_temp)
        assert not post.is_cruft_rerender(answers(), in_temp)
    real = tmp_path / "work" / "ml-project"
    assert not post.is_cruft_rerender({**answers(), "_commit": "abc"}, real)


def test_commit_command_passes_identity_on_the_command_line(post: ModuleType) -> None:
    command = post.git_commit_command(
        {**answers(), "author_name": 'A "B" C', "author_email": "a@b.cd"}
    )
    assert command[:2] == ["git", "-c"]
    assert 'user.name=A "B" C' in command and "user.email=a@b.cd" in command
    assert "--no-verify" in command


def test_existing_repository_is_left_alone(post: ModuleType, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert post.init_git_repository(answers(), tmp_path) is False
    log = subprocess.run(["git", "-C", str(tmp_path), "log"], capture_output=True, text=True)
    assert log.returncode != 0  # still no commit: nothing was done


def test_missing_git_is_a_warning(post: ModuleType, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(post.shutil, "which", lambda name: None)
    assert post.init_git_repository(answers(), tmp_path) is False
    assert "WARNING: git is not installed" in capsys.readouterr().err


def readme_first_run() -> list[str]:
    """The README's first run ("Start a project"), one command (and its comment) a line."""
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    block = readme.split("Then, the first run:\n\n```bash\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def next_steps(out: str) -> list[str]:
    return [line.strip() for line in out.split("Next:\n", 1)[1].splitlines() if line.strip()]


def test_next_steps_are_the_readmes_first_run(post: ModuleType, capsys, monkeypatch) -> None:
    monkeypatch.delenv("ML_CICD_NEXT_STEPS", raising=False)
    post.print_next_steps(answers())
    assert next_steps(capsys.readouterr().out) == [line.strip() for line in readme_first_run()]


def test_next_steps_with_cruft_track_the_link_after_cd(
    post: ModuleType, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("ML_CICD_NEXT_STEPS", raising=False)
    post.print_next_steps({**answers(), "_commit": "abc"})
    steps = next_steps(capsys.readouterr().out)
    readme = [line.strip() for line in readme_first_run()]
    assert (
        steps
        == readme[:1]
        + ['git add .cruft.json && git commit -m "Track the template link"']
        + readme[1:]
    )


def test_make_demo_bakes_without_the_next_steps(tmp_path: Path) -> None:
    """`make demo` runs the first run itself: its bake does not print it as what to do next."""
    result = bake_cli(tmp_path, env=clean_env({"ML_CICD_NEXT_STEPS": "0"}))
    assert result.returncode == 0, result.stderr
    assert "Next:" not in result.stdout and "make setup" not in result.stdout
    assert (tmp_path / "ml-project" / ".git").is_dir()
    makefile = (TEMPLATE_DIR / "Makefile").read_text(encoding="utf-8")
    demo_bake = next(line for line in makefile.splitlines() if "cookiecutter --no-input" in line)
    assert demo_bake.strip().startswith("ML_CICD_NEXT_STEPS=0 "), demo_bake


def test_old_cookiecutter_is_refused(pre: ModuleType) -> None:
    with pytest.raises(
        pre.AnswerError, match=r"cookiecutter: must be version 2.7 or newer \(got '2.1.1'\)"
    ):
        pre.check_cookiecutter_version("2.1.1")
    pre.check_cookiecutter_version("2.7.1")
    pre.check_cookiecutter_version("3.0.0")
    pre.check_cookiecutter_version(pre.installed_cookiecutter_version())


def test_a_cookiecutter_without_metadata_is_not_checked(
    pre: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert pre.installed_cookiecutter_version() == "2.7"

    def broken(name: str) -> str:
        raise OSError("metadata unreadable")

    # Any other failure is a bug to see, not a version to assume.
    monkeypatch.setattr(importlib.metadata, "version", broken)
    with pytest.raises(OSError):
        pre.installed_cookiecutter_version()


def test_output_directory_must_be_new_or_empty(pre: ModuleType, tmp_path: Path) -> None:
    root = tmp_path / "ml-project"
    root.mkdir()
    pre.check_output_directory(root, "ml-project")
    (root / ".env").write_text("TOKEN=x\n")
    with pytest.raises(pre.AnswerError, match=r"^project_slug: must name a new or empty"):
        pre.check_output_directory(root, "ml-project")


def test_enclosing_work_tree_of_a_path_that_does_not_exist_yet(
    post: ModuleType, tmp_path: Path
) -> None:
    assert post.enclosing_work_tree(tmp_path / "a" / "b") is None
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    inside = tmp_path / "repo" / "x" / "storage"
    assert post.enclosing_work_tree(inside) == (tmp_path / "repo").resolve()


REMOTE_FIELDS = {"url", "url_pattern", "url_rule", "schemes", "dvc_extra", "oidc", "ci_settings"}


def test_every_remote_type_has_one_complete_entry(pre: ModuleType) -> None:
    """cookiecutter.json's _dvc_remotes: one entry per dvc_remote choice, every
    field present, and each type's default URL passes its own rule."""
    remotes = CONTEXT["_dvc_remotes"]
    assert list(remotes) == CONTEXT["dvc_remote"]
    for name, remote in remotes.items():
        assert set(remote) == REMOTE_FIELDS, name
        assert pre.url_matches(remote, remote["url"].replace("{slug}", "ml-project")), name
        for setting in remote["ci_settings"]:
            assert len(setting) == 4 and setting[1] in ("vars", "secrets"), (name, setting)


def test_every_deploy_target_has_one_entry() -> None:
    """cookiecutter.json's _deploy_targets: one entry per deploy_target choice."""
    targets = CONTEXT["_deploy_targets"]
    assert list(targets) == CONTEXT["deploy_target"]
    for name, target in targets.items():
        assert set(target) == {"azure_pipelines", "ci_settings"}, name
        for setting in target["ci_settings"]:
            assert len(setting) == 3 and setting[1] in ("vars", "secrets"), (name, setting)


@pytest.mark.parametrize("answer", ["project_name=Left Behind", "author_email=refused"])
def test_the_rendered_hooks_do_not_stay_in_the_temporary_directory(
    tmp_path: Path, answer: str
) -> None:
    """cookiecutter writes each rendered hook, every answer in it, to $TMPDIR and
    leaves it there (hooks.run_script_with_context: delete=False); each hook
    removes its own file, after a bake and after a refusal."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = bake_cli(tmp_path / "out", answer, env=clean_env({"TMPDIR": str(scratch)}))
    assert ("refused" in answer) == (result.returncode != 0), result.stderr
    assert [path.name for path in scratch.iterdir()] == []


@pytest.mark.slow
def test_the_reserved_names_cover_every_baked_dependency(pre: ModuleType, baked_venv: Path) -> None:
    """A slug that names an installed distribution, or a package that names an
    importable module of the baked virtualenv, would clash with it."""
    listing = (
        "import importlib.metadata as m, json;"
        "print(json.dumps([sorted({d.metadata['Name'] for d in m.distributions()}),"
        " sorted(m.packages_distributions())]))"
    )
    found = subprocess.run(
        [str(baked_venv / "bin" / "python"), "-c", listing],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    distributions, modules = json.loads(found)
    names = {pre.normalized_distribution(name) for name in distributions}
    assert names - pre.DEPENDENCY_DISTRIBUTIONS == set()
    importable = {name for name in modules if pre.PACKAGE.fullmatch(name)}
    assert importable - pre.DEPENDENCY_MODULES == set()
