"""Local stand-ins for the third-party actions the baked workflows use.

act runs every ``uses: owner/repo@sha`` from a local folder given with
``--local-repository``, so no action is ever fetched. Each stand-in is a
composite action, written by :func:`write_actions` from the table
``STANDINS`` below, whose one step runs ``python3 actions.py <name>`` with the
inputs as ``INPUT_<NAME>`` variables, exactly as a JavaScript action reads
them. What each function does is what the real action does to the workspace,
the environment and GitHub's side, refusals included (Pages not enabled, a
missing region or identity provider, a package namespace the token may not
write). Its state lives in ``$STANDIN_STATE`` beside the fake GitHub's.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent

# action -> (inputs with their defaults, outputs). Only the inputs the workflows
# use or whose default matters are listed; act passes every declared input.
STANDINS: dict[str, tuple[dict[str, str], list[str]]] = {
    "actions/checkout": (
        {"fetch-depth": "1", "persist-credentials": "true", "ref": "", "fetch-tags": "false"},
        [],
    ),
    "astral-sh/setup-uv": (
        {"enable-cache": "auto", "cache-dependency-glob": "", "cache-suffix": ""},
        [],
    ),
    "actions/cache": ({"path": "", "key": "", "restore-keys": ""}, ["cache-hit"]),
    "actions/upload-artifact": (
        {
            "name": "artifact",
            "path": "",
            "if-no-files-found": "warn",
            "retention-days": "",
            "include-hidden-files": "false",
            "overwrite": "false",
        },
        ["artifact-id", "artifact-url"],
    ),
    "actions/download-artifact": ({"name": "", "path": ""}, ["download-path"]),
    "actions/upload-pages-artifact": ({"path": "_site/", "name": "github-pages"}, ["artifact_id"]),
    "actions/deploy-pages": ({"artifact_name": "github-pages"}, ["page_url"]),
    "aws-actions/configure-aws-credentials": ({"aws-region": "", "role-to-assume": ""}, []),
    "google-github-actions/auth": (
        {"workload_identity_provider": "", "service_account": "", "credentials_json": ""},
        ["credentials_file_path"],
    ),
    "azure/login": ({"client-id": "", "tenant-id": "", "subscription-id": ""}, []),
    "docker/metadata-action": ({"images": "", "tags": ""}, ["tags", "labels"]),
    "docker/setup-buildx-action": ({}, []),
    "docker/login-action": ({"registry": "", "username": "", "password": ""}, []),
    "docker/build-push-action": (
        {"context": ".", "push": "false", "tags": "", "labels": "", "provenance": ""},
        ["digest"],
    ),
    "superfly/flyctl-actions/setup-flyctl": ({"version": "latest"}, []),
    "google-github-actions/deploy-cloudrun": ({"service": "", "image": "", "region": ""}, ["url"]),
}


class Refused(Exception):
    """What the real action prints as its error before failing the step."""


def inp(name: str) -> str:
    """An input, as a JavaScript action reads it."""
    return os.environ.get(f"INPUT_{name.upper()}", "").strip()


def state_dir() -> Path:
    """Where the stand-ins keep what GitHub and the clouds would keep."""
    return Path(os.environ["STANDIN_STATE"])


def cloud() -> dict:
    """Registries, apps and services outside GitHub."""
    path = state_dir() / "cloud.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_cloud(data: dict) -> None:
    """Write the cloud state back."""
    (state_dir() / "cloud.json").write_text(json.dumps(data, indent=2))


def github_state() -> dict:
    """The fake GitHub's state (fake_github.py)."""
    return json.loads(Path(os.environ["FAKE_GITHUB_STATE"]).read_text())


def set_output(name: str, value: str) -> None:
    """A step output, multi-line safe."""
    with open(os.environ["GITHUB_OUTPUT"], "a") as out:
        out.write(f"{name}<<__EOF__\n{value}\n__EOF__\n")


def export(name: str, value: str) -> None:
    """A variable for the next steps (GITHUB_ENV)."""
    with open(os.environ["GITHUB_ENV"], "a") as out:
        out.write(f"{name}={value}\n")


def workspace() -> Path:
    """GITHUB_WORKSPACE."""
    return Path(os.environ["GITHUB_WORKSPACE"])


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git in the workspace."""
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd or workspace(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# --- actions/* ---------------------------------------------------------------


def checkout() -> None:
    """Clone the origin at GITHUB_SHA: depth 1 unless fetch-depth is 0."""
    root = workspace()
    for child in root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    origin = os.environ["STANDIN_ORIGIN"]
    sha = inp("ref") or os.environ["GITHUB_SHA"]
    git("init", "-q", ".")
    git("remote", "add", "origin", origin)
    if inp("fetch-depth") == "0":
        git("fetch", "-q", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
        git("fetch", "-q", "origin", sha)
    else:
        git("fetch", "-q", "--no-tags", f"--depth={inp('fetch-depth')}", "origin", sha)
        ref = os.environ.get("GITHUB_REF", "")
        if ref.startswith("refs/tags/"):
            git("fetch", "-q", "--no-tags", "--depth=1", "origin", f"+{ref}:{ref}")
    git("checkout", "-q", "--detach", "FETCH_HEAD" if inp("fetch-depth") != "0" else sha)
    if inp("persist-credentials") == "true":
        git("config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic ***")


def setup_uv() -> None:
    """uv on PATH (the test run's own, with its warm cache)."""
    with open(os.environ["GITHUB_PATH"], "a") as out:
        out.write(os.environ["STANDIN_UV_DIR"] + "\n")


def cache() -> None:
    """Always a miss: the jobs must work from nothing."""
    set_output("cache-hit", "false")


def artifacts() -> Path:
    """This run's artifacts."""
    path = state_dir() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def search_root(pattern: str) -> Path:
    """The folder a search path contributes to the artifact's root."""
    path = workspace() / pattern
    if path.is_dir():
        return path
    if "*" not in pattern:
        return path.parent
    fixed = itertools.takewhile(lambda part: "*" not in part, Path(pattern).parts)
    return workspace().joinpath(*fixed)


def upload_artifact() -> None:
    """Files under their least common root; hidden files only when asked."""
    name = inp("name") or "artifact"
    target = artifacts() / name
    if target.exists() and inp("overwrite") != "true":
        raise Refused(
            f"Failed to CreateArtifact: an artifact with this name already exists: {name}"
        )
    patterns = [p.strip() for p in inp("path").splitlines() if p.strip()]
    files: list[Path] = []
    for pattern in patterns:
        path = workspace() / pattern
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file()]
        elif path.is_file():
            files.append(path)
        else:
            files += [
                p
                for p in workspace().rglob("*")
                if fnmatch.fnmatch(str(p.relative_to(workspace())), pattern)
            ]
    roots = [search_root(p) for p in patterns]
    root = Path(os.path.commonpath([str(r) for r in roots])) if roots else workspace()
    hidden = inp("include-hidden-files") == "true"
    files = [
        f
        for f in files
        if hidden or not any(part.startswith(".") for part in f.relative_to(root).parts)
    ]
    if not files:
        message = (
            f"No files were found with the provided path: {inp('path')}. "
            "No artifacts will be uploaded."
        )
        if inp("if-no-files-found") == "error":
            raise Refused(message)
        if inp("if-no-files-found") == "warn":
            print(f"::warning::{message}")
        return
    shutil.rmtree(target, ignore_errors=True)
    for file in files:
        destination = target / file.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    number = len(list(artifacts().iterdir()))
    set_output("artifact-id", str(number))
    repository = os.environ["GITHUB_REPOSITORY"]
    run_id = os.environ.get("GITHUB_RUN_ID", "1")
    set_output(
        "artifact-url", f"https://github.com/{repository}/actions/runs/{run_id}/artifacts/{number}"
    )


def download_artifact() -> None:
    """Copy an artifact of this run into the workspace."""
    name = inp("name")
    source = artifacts() / name
    if not source.is_dir():
        raise Refused(f"Unable to download artifact(s): Artifact not found for name: {name}")
    target = workspace() / inp("path") if inp("path") else workspace()
    shutil.copytree(source, target, dirs_exist_ok=True)
    set_output("download-path", str(target))


def upload_pages_artifact() -> None:
    """The site folder as the github-pages artifact."""
    source = workspace() / inp("path")
    if not source.is_dir():
        raise Refused(f"tar: {inp('path')}: Cannot open: No such file or directory")
    target = artifacts() / (inp("name") or "github-pages")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git", ".github"))
    set_output("artifact_id", "1")


def deploy_pages() -> None:
    """Deploy, or GitHub's 404 when Pages is not set up."""
    repository = os.environ["GITHUB_REPOSITORY"]
    pages = github_state()["pages"]
    if pages is None or pages.get("build_type") != "workflow":
        raise Refused(
            "Failed to create deployment (status: 404) with build version "
            f"{os.environ['GITHUB_SHA']}. "
            f"Ensure GitHub Pages has been enabled: https://github.com/{repository}/settings/pages"
        )
    site = artifacts() / (inp("artifact_name") or "github-pages")
    if not site.is_dir():
        raise Refused("Failed to create deployment: no github-pages artifact in this run")
    data = cloud()
    data.setdefault("pages_deployments", []).append(sorted(p.name for p in site.iterdir()))
    save_cloud(data)
    owner, name = repository.split("/")
    set_output("page_url", f"https://{owner.lower()}.github.io/{name}/")


# --- cloud logins -------------------------------------------------------------


def configure_aws_credentials() -> None:
    """OIDC into a role: needs the region and the role; exports the session."""
    if not inp("aws-region"):
        raise Refused("Input required and not supplied: aws-region")
    if not inp("role-to-assume"):
        raise Refused("Credentials could not be loaded, please check your action inputs")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        export(key, os.environ.get(f"STANDIN_{key}", "testing"))
    export("AWS_REGION", inp("aws-region"))
    export("AWS_DEFAULT_REGION", inp("aws-region"))


def google_auth() -> None:
    """Workload identity federation: writes gha-creds-*.json INTO the workspace."""
    if bool(inp("workload_identity_provider")) == bool(inp("credentials_json")):
        raise Refused(
            'the GitHub Action workflow must specify exactly one of "workload_identity_provider" '
            'or "credentials_json"!'
        )
    digest = hashlib.sha256(os.environ.get("GITHUB_RUN_ID", "1").encode()).hexdigest()[:16]
    path = workspace() / f"gha-creds-{digest}.json"
    path.write_text(json.dumps({"type": "external_account", "token": "ACTIONS_ID_TOKEN"}))
    for key in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
        "GOOGLE_GHA_CREDS_PATH",
    ):
        export(key, str(path))
    set_output("credentials_file_path", str(path))


def azure_login() -> None:
    """OIDC login: client, tenant and subscription are all required."""
    missing = [name for name in ("client-id", "tenant-id", "subscription-id") if not inp(name)]
    if missing:
        raise Refused(
            "Using auth-type: SERVICE_PRINCIPAL. Not all values are present. "
            "Ensure 'client-id' and 'tenant-id' are supplied."
        )
    export("AZURE_STANDIN_LOGGED_IN", "1")


# --- images and deploys -------------------------------------------------------


def metadata() -> None:
    """Tags from type=match, type=raw and type=sha rules, for each image."""
    images = [i.strip() for i in inp("images").splitlines() if i.strip()]
    ref = os.environ.get("GITHUB_REF", "")
    tag = ref.removeprefix("refs/tags/") if ref.startswith("refs/tags/") else ""
    values = []
    for rule in [r.strip() for r in inp("tags").splitlines() if r.strip()]:
        fields = dict(part.split("=", 1) for part in rule.split(","))
        if fields["type"] == "match" and tag:
            found = re.search(fields["pattern"], tag)
            if found:
                values.append(found.group(int(fields.get("group", "0"))))
        elif fields["type"] == "raw":
            values.append(fields["value"])
        elif fields["type"] == "sha":
            values.append(f"sha-{os.environ['GITHUB_SHA'][:7]}")
    tags = [f"{image}:{value}" for image in images for value in values]
    set_output("tags", "\n".join(tags))
    set_output("labels", f"org.opencontainers.image.revision={os.environ['GITHUB_SHA']}")


def setup_buildx() -> None:
    """Nothing to set up without Docker."""


def docker_login() -> None:
    """A registry login needs a password (a token)."""
    if not inp("password"):
        raise Refused("Password required")
    data = cloud()
    data.setdefault("logins", []).append(inp("registry"))
    save_cloud(data)


def package_of(image: str) -> str:
    """ghcr.io/owner/name of an image reference (by tag or by digest)."""
    head, _, last = image.split("@")[0].rpartition("/")
    return f"{head}/{last.split(':')[0]}"


def anonymous_pull_refusal(data: dict, image: str) -> str | None:
    """What a registry answers a platform that pulls ``image`` without
    credentials (Fly.io, Cloud Run from ghcr.io): a private ghcr.io package
    refuses (public ones allow anonymous pulls: GitHub docs, "Configuring a
    package's access control and visibility"). None when the pull works."""
    if data.get("packages", {}).get(package_of(image)) == "private":
        return f"unauthorized: authentication required to pull {image}"
    return None


def build_push() -> None:
    """Check the build context as BuildKit would, and 'push' to ghcr.io by the rules of GHCR."""
    context = workspace() / inp("context")
    for line in (context / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            for source in [w for w in words[1:-1] if not w.startswith("--")]:
                if not list(context.glob(source)):
                    raise Refused(f'failed to compute cache key: "/{source}": not found')
    tags = [t.strip() for t in inp("tags").splitlines() if t.strip()]
    owner = os.environ["GITHUB_REPOSITORY_OWNER"]
    data = cloud()
    for tag in tags:
        name = tag.split(":")[0]
        if name != name.lower():
            raise Refused(f'invalid tag "{tag}": repository name must be lowercase')
        if inp("push") == "true" and name.split("/")[1] != owner.lower():
            raise Refused("denied: permission_denied: write_package")
    model = (context / "models" / "model.joblib").read_bytes()
    digest = "sha256:" + hashlib.sha256(model + "\n".join(tags).encode()).hexdigest()
    if inp("push") == "true":
        # A package's first push creates it private: "When you first publish a
        # package that is scoped to your personal account, the default
        # visibility is private" (https://docs.github.com/en/packages/learn-github-packages/configuring-a-packages-access-control-and-visibility;  # noqa: E501
        # always so for organisations: armbian/ci#64). A person makes it public.
        for tag in tags:
            data.setdefault("packages", {}).setdefault(package_of(tag), "private")
        for tag in tags:
            data.setdefault("images", {})[tag] = digest
        data.setdefault("digests", []).append(f"{tags[0].split(':')[0]}@{digest}")
        # What `docker run <image> sha256sum models/model.joblib` would print.
        data.setdefault("image_models", {})[digest] = hashlib.sha256(model).hexdigest()
    save_cloud(data)
    set_output("digest", digest)


def setup_flyctl() -> None:
    """flyctl on PATH."""
    with open(os.environ["GITHUB_PATH"], "a") as out:
        out.write(str(Path(os.environ["STANDIN_TOOLS"]) / "fly") + "\n")


def deploy_cloudrun() -> None:
    """Deploy an image that exists, with credentials from google-github-actions/auth."""
    if not os.environ.get("GOOGLE_GHA_CREDS_PATH"):
        raise Refused("google-github-actions/deploy-cloudrun failed with: failed to authenticate")
    image = inp("image")
    data = cloud()
    if image.replace("ghcr.io/", "", 1) not in {
        d.replace("ghcr.io/", "", 1) for d in data.get("digests", [])
    }:
        raise Refused(f"Image '{image}' not found.")
    refusal = anonymous_pull_refusal(data, image)
    if refusal:
        raise Refused(
            f"Revision for service {inp('service')} could not import the image: {refusal}"
        )
    # "New deployments are automatically private services": nobody may invoke
    # a service deploy-cloudrun creates until a person lets allUsers do it
    # (google-github-actions/deploy-cloudrun@2028e2d:README.md, "Allowing
    # unauthenticated requests"); a redeploy keeps the service's policy.
    data.setdefault("cloud_run_invokers", {}).setdefault(inp("service"), [])
    data.setdefault("cloud_run", {})[inp("service")] = image
    save_cloud(data)
    # The service's address; a test points it at a server on 127.0.0.1.
    url = data.get("cloud_run_urls", {}).get(inp("service"))
    set_output("url", url or f"https://{inp('service')}-abc123-ew.a.run.app")


RUN = {
    "actions/checkout": checkout,
    "astral-sh/setup-uv": setup_uv,
    "actions/cache": cache,
    "actions/upload-artifact": upload_artifact,
    "actions/download-artifact": download_artifact,
    "actions/upload-pages-artifact": upload_pages_artifact,
    "actions/deploy-pages": deploy_pages,
    "aws-actions/configure-aws-credentials": configure_aws_credentials,
    "google-github-actions/auth": google_auth,
    "azure/login": azure_login,
    "docker/metadata-action": metadata,
    "docker/setup-buildx-action": setup_buildx,
    "docker/login-action": docker_login,
    "docker/build-push-action": build_push,
    "superfly/flyctl-actions/setup-flyctl": setup_flyctl,
    "google-github-actions/deploy-cloudrun": deploy_cloudrun,
}


def action_yaml(name: str) -> str:
    """The composite action.yml of one stand-in of this module."""
    inputs, outputs = STANDINS[name]
    return composite_action(name, f'python3 "$STANDIN_TOOLS/actions.py" {name}', inputs, outputs)


def composite_action(name: str, run: str, inputs: Mapping[str, str], outputs: Iterable[str]) -> str:
    """A composite action.yml (written as JSON, which is YAML) whose one step
    runs ``run`` with each input as ``INPUT_<NAME>`` and whose outputs are that
    step's."""
    step = {
        "id": "run",
        "shell": "bash",
        "run": run,
        "env": {f"INPUT_{key.upper()}": f"${{{{ inputs.{key} }}}}" for key in inputs},
    }
    action = {
        "name": f"{name} (stand-in)",
        "inputs": {key: {"default": value} for key, value in inputs.items()},
        "outputs": {key: {"value": f"${{{{ steps.run.outputs.{key} }}}}"} for key in outputs},
        "runs": {"using": "composite", "steps": [step]},
    }
    return json.dumps(action, indent=2) + "\n"


def write_actions(directory: Path) -> dict[str, Path]:
    """Write every stand-in under ``directory``; return action -> folder (for act)."""
    folders = {}
    for name in STANDINS:
        parts = name.split("/")
        repo = "/".join(parts[:2])
        folder = directory / repo.replace("/", "__")
        target = folder.joinpath(*parts[2:])
        target.mkdir(parents=True, exist_ok=True)
        (target / "action.yml").write_text(action_yaml(name))
        folders[repo] = folder
    return folders


def main(argv: list[str]) -> int:
    """Run one stand-in; a refusal is an ::error:: and exit 1, as in the real action."""
    try:
        RUN[argv[0]]()
    except Refused as refusal:
        print(f"::error::{refusal}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
