"""The serving image: its Dockerfile and .dockerignore, and the platforms that run it.

Static: hadolint; pinned, non-root and health-checked; .dockerignore lets in what
the Dockerfile copies and nothing private; fly.toml and the Cloud Run deploy step
agree with the image. Slow: the image's own steps (COPY, ``uv sync --locked``, CMD,
HEALTHCHECK) run without Docker. The app under uvicorn is in test_serving.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml

from support.dockerfile import (
    emulate_copy,
    exec_form,
    exposed_port,
    in_context,
    instructions,
    only,
    option,
    stages,
)
from support.helpers import Baked, add_lock_file, clean_env, uv
from support.servers import LOOPBACK, free_port, get_json, stop_process

from support.load import wait_until_healthy

# Every test uses bakes with the shared baked virtualenv.
pytestmark = pytest.mark.slow

HADOLINT = Path(sys.executable).with_name("hadolint")
DIGEST_PIN = re.compile(r"^python:(\d+\.\d+)\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$")
SECRET_WORDS = ("KEY", "TOKEN", "PASSWORD", "SECRET")
# Cloud Run sends traffic to port 8080 unless the service says otherwise.
CLOUD_RUN_DEFAULT_PORT = 8080


# --- static checks ----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["none", "fly", "cloud-run"])
def test_dockerfile_passes_hadolint(serving_bakes: dict[str, Baked], target: str) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"],
        cwd=serving_bakes[target].path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_really_lints(serving_bakes: dict[str, Baked], tmp_path: Path) -> None:
    """The check above can fail: an unpinned base image is reported."""
    text = serving_bakes["none"].read("Dockerfile")
    unpinned = re.sub(r"^FROM \S+ AS base$", "FROM python:latest AS base", text, flags=re.M)
    assert unpinned != text
    (tmp_path / "Dockerfile").write_text(unpinned)
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(tmp_path / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "DL3007" in result.stdout


@pytest.mark.parametrize("target", ["none", "fly", "cloud-run"])
def test_dockerfile_is_pinned_non_root_and_health_checked(
    serving_bakes: dict[str, Baked], target: str
) -> None:
    project = serving_bakes[target]
    dockerfile = project.read("Dockerfile")
    steps = instructions(dockerfile)
    stage_names = set()
    for source in only(steps, "FROM"):
        image, _, name = source.partition(" AS ")
        if image not in stage_names:  # an outside image: pinned to one exact build
            match = DIGEST_PIN.fullmatch(image)
            assert match, f"base image not pinned by version and digest: {image}"
            assert match.group(1) == project.answers.get("python_version", "3.11")
        stage_names.add(name)

    final = stages(dockerfile)[-1]
    user = only(final, "USER")[-1]
    assert user.split(":")[0] not in {"root", "0"}
    keywords = [keyword for keyword, _ in final]
    assert keywords.index("USER") < keywords.index("CMD")

    port = exposed_port(dockerfile)
    command = exec_form(only(final, "CMD")[-1])
    assert command[:3] == ["uvicorn", "--factory", f"{project.package}.serving.app:create_app"]
    assert int(option(command, "--port")) == port
    (healthcheck,) = only(final, "HEALTHCHECK")
    assert f"127.0.0.1:{port}/health" in " ".join(exec_form(healthcheck))

    for keyword, arguments in steps:
        if keyword in {"ENV", "ARG"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments) or [arguments.split()[0]]
            for name in names:
                assert not any(word in name.upper() for word in SECRET_WORDS), name
    # The image installs the locked versions of the serving extra and nothing else.
    assert only(steps, "RUN")[1] == "uv sync --locked --no-editable --extra serve"


def test_dockerignore_lets_in_what_the_dockerfile_copies_and_nothing_private(
    serving_bakes: dict[str, Baked],
) -> None:
    project = serving_bakes["none"]
    ignore = project.read(".dockerignore")
    # The project's files plus what the pipeline and a user's machine add.
    files = project.files() | {
        "uv.lock",
        "models/model.joblib",
        "models/model.joblib.schema.json",
        "reports/metrics.json",
        "data/prepared/train.csv",
        ".dvc/config.local",
        ".dvc/cache/files/md5/ab/cdef",
        ".env",
        ".venv/bin/python",
        f"src/{project.package}/__pycache__/serve.cpython-311.pyc",
        "site/index.html",
    }
    context = {path for path in files if in_context(path, ignore)}

    for stage in stages(project.read("Dockerfile")):
        for arguments in only(stage, "COPY"):
            if arguments.startswith("--from="):
                continue
            for source in arguments.split()[:-1]:
                source = source.rstrip("/")
                assert any(
                    path == source or path.startswith(source + "/") for path in context
                ), f"COPY {source}: not in the build context"
    model = {"models/model.joblib", "models/model.joblib.schema.json"}
    assert model | {"reports/metrics.json", "params.yaml"} <= context
    private = [
        p for p in context if p.startswith((".git", ".dvc", ".env", ".venv", "data/", "site/"))
    ]
    assert private == [] and not any("__pycache__" in p for p in context)


def test_fly_toml_matches_the_image_and_the_app(serving_bakes: dict[str, Baked]) -> None:
    project = serving_bakes["fly"]
    fly = tomllib.loads(project.read("fly.toml"))
    assert fly["app"] == project.path.name
    service = fly["http_service"]
    assert service["internal_port"] == exposed_port(project.read("Dockerfile"))
    (check,) = service["checks"]
    assert (check["method"], check["path"]) == ("GET", "/health")
    assert '@app.get("/health"' in project.read(f"src/{project.package}/serving/app.py")
    # bluegreen moves traffic only after the checks pass: it needs them.
    assert fly["deploy"]["strategy"] == "bluegreen"

    deploy = yaml.safe_load(project.read(".github/actions/deploy/action.yml"))
    script = " ".join(step.get("run", "") for step in deploy["runs"]["steps"])
    assert "flyctl deploy --image" in script and "--config fly.toml" in script
    publish = yaml.safe_load(project.read(".github/workflows/publish.yml"))
    for name in ("deploy-staging", "deploy-production"):
        job = publish["jobs"][name]
        assert "image" in job["needs"]
        assert job["steps"][-1]["uses"] == "$/.github/actions/deploy"


def test_cloud_run_deploy_step_matches_the_image(serving_bakes: dict[str, Baked]) -> None:
    project = serving_bakes["cloud-run"]
    assert not (project.path / "fly.toml").exists()
    assert exposed_port(project.read("Dockerfile")) == CLOUD_RUN_DEFAULT_PORT
    action = yaml.safe_load(project.read(".github/actions/deploy/action.yml"))
    (deploy,) = [
        s
        for s in action["runs"]["steps"]
        if "google-github-actions/deploy-cloudrun@" in s.get("uses", "")
    ]
    assert re.search(r"@[0-9a-f]{40}$", deploy["uses"])
    inputs = deploy["with"]
    assert {"service", "image", "region"} <= set(inputs)
    assert inputs["region"] == "${{ inputs.region }}"
    # The container port is Cloud Run's default unless the step sets one.
    port = re.search(r"--port[= ](\d+)", str(inputs.get("flags", "")))
    assert port is None or int(port.group(1)) == exposed_port(project.read("Dockerfile"))
    publish = yaml.safe_load(project.read(".github/workflows/publish.yml"))
    for name in ("deploy-staging", "deploy-production"):
        job = publish["jobs"][name]
        assert "image" in job["needs"]
        # The image is the one the image job pushed (by digest).
        assert "needs.image.outputs.digest" in json.dumps(job)
        assert job["steps"][-1]["with"]["region"] == "${{ vars.CLOUD_RUN_REGION }}"


# --- the image's steps without Docker (slow) ----------------------------------------------


def test_image_steps_serve_the_model_with_the_serve_extra_only(
    serving_trained: Baked, tmp_path: Path
) -> None:
    """Run the Dockerfile's steps by hand: its build context, its COPY lines, its
    ``uv sync --locked`` with its ENV, then its CMD and its HEALTHCHECK. The
    virtualenv holds exactly the versions of the committed uv.lock."""
    add_lock_file(serving_trained)
    dockerfile = serving_trained.read("Dockerfile")
    ignore = serving_trained.read(".dockerignore")
    context = tmp_path / "context"
    for relative in serving_trained.files() | {"uv.lock"}:
        if in_context(relative, ignore):
            (context / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(serving_trained.path / relative, context / relative)

    build_stage, final_stage = stages(dockerfile)[1:]
    build_root, final_root = tmp_path / "build", tmp_path / "final"
    env = clean_env({"UV_PYTHON": sys.executable})
    venv = build_root / "opt" / "venv"
    build_args: dict[str, str] = {}
    workdir = "/"
    for keyword, arguments in build_stage[1:]:
        if keyword == "WORKDIR":
            workdir = arguments
        elif keyword == "COPY":
            emulate_copy(arguments, context, build_root, workdir)
        elif keyword == "ARG":
            name, _, default = arguments.partition("=")
            build_args[name] = default
        elif keyword == "ENV":
            for setting in shlex.split(arguments):
                name, _, value = setting.partition("=")
                value = re.sub(r"\$\{(\w+)\}", lambda m: build_args[m.group(1)], value)
                env[name] = value.replace("/opt/venv", str(venv))
        elif keyword == "RUN" and arguments.startswith("pip install"):
            # uv itself, at the version the template's own tools use.
            pinned = re.search(r'"uv==([\d.]+)"', arguments)
            assert pinned, arguments
            version = subprocess.run([uv(), "--version"], capture_output=True, text=True)
            assert version.stdout.split()[1] == pinned.group(1)
        elif keyword == "RUN":
            assert arguments.startswith("uv sync --locked"), arguments
            source = build_root / workdir.lstrip("/")
            subprocess.run(
                [uv(), *shlex.split(arguments)[1:], "--quiet"], cwd=source, env=env, check=True
            )
    # A package may be locked at one version per range of Pythons.
    locked: dict[str, set[str]] = {}
    for package in tomllib.loads(serving_trained.read("uv.lock"))["package"]:
        locked.setdefault(package["name"], set()).add(package.get("version", ""))
    installed = subprocess.run(
        [uv(), "pip", "list", "--format", "json", "--python", str(venv / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    )
    for package in json.loads(installed.stdout):
        name = re.sub(r"[-_.]+", "-", package["name"]).lower()
        if name != serving_trained.path.name:
            assert package["version"] in locked.get(name, set()), (name, package["version"])
    # Only the serving dependencies, none of the tools of the dev extra.
    for tool in ("fastapi", "uvicorn"):
        assert any((venv / "lib").glob(f"python3*/site-packages/{tool}")), tool
    for tool in ("pytest", "dvc", "black", "mkdocs"):
        assert not (venv / "bin" / tool).exists(), tool

    workdir = "/"
    for keyword, arguments in final_stage[1:]:
        if keyword == "WORKDIR":
            workdir = arguments
        elif keyword == "COPY" and arguments == "--from=build /opt/venv /opt/venv":
            (final_root / "opt").mkdir(parents=True, exist_ok=True)
            (final_root / "opt" / "venv").symlink_to(venv)  # keeps its script paths valid
        elif keyword == "COPY":
            emulate_copy(arguments, context, final_root, workdir)
    app_dir = final_root / workdir.lstrip("/")
    assert sorted(p.relative_to(app_dir).as_posix() for p in app_dir.rglob("*") if p.is_file()) == [
        "models/model.joblib",
        "models/model.joblib.schema.json",
        "params.yaml",
        "reports/metrics.json",
    ]

    port = free_port()
    image_port = str(exposed_port(dockerfile))
    command = exec_form(only(final_stage, "CMD")[-1])
    command[command.index("--host") + 1] = LOOPBACK
    command[command.index("--port") + 1] = str(port)
    run_env = dict(env, PATH=f"{final_root / 'opt' / 'venv' / 'bin'}:{env['PATH']}")
    run_env.pop("PYTHONPATH", None)
    log = tmp_path / "image.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=app_dir, env=run_env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_healthy(f"http://{LOOPBACK}:{port}", process, log, timeout=120)
        (healthcheck,) = only(final_stage, "HEALTHCHECK")
        probe = [part.replace(f":{image_port}/", f":{port}/") for part in exec_form(healthcheck)]
        result = subprocess.run(probe, cwd=app_dir, env=run_env, timeout=30, check=False)
        assert result.returncode == 0
        _, health = get_json(f"http://{LOOPBACK}:{port}/health")
        model = (serving_trained.path / "models" / "model.joblib").read_bytes()
        assert health["model"]["sha256"] == hashlib.sha256(model).hexdigest()
        # The API page's scripts are in the image (fastapi-offline), not on a CDN.
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/docs", timeout=30) as page:
            assets = re.findall(r'src="([^"]+\.js)"', page.read().decode())
        assert assets and all(asset.startswith("/") for asset in assets), assets
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{assets[0]}", timeout=30) as script:
            assert script.status == 200 and len(script.read()) > 100_000
    finally:
        stop_process(process)
