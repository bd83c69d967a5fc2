"""An ``az`` for the Container Apps and Container Registry commands that the docs
and the deploy scripts run, with Azure's refusals.

The cloud lives in ``$STANDIN_STATE/cloud.json``: the container apps under
``container_apps`` (resource group, ingress address and target port,
registries, revisions), the Container Apps environments under
``managed_environments`` (the ingress addresses they hand out), the images the
registries hold (``images``, ``digests``), the role assignments on each
registry (``acr_roles``: principal -> roles) and the models the images built
by ``az acr build`` hold (``image_models``: image -> SHA-256 of its model).
Without a login (azure/login on GitHub Actions, AzureCLI@2 on Azure
Pipelines: both leave ``AZURE_STANDIN_LOGGED_IN``; ``AZURE_STANDIN_PRINCIPAL``
names who is logged in, a person by default) every command fails as the real
CLI does; an app that does not exist, one in another resource group, or an
image the registry never got fails too.

Modelled: ``containerapp create``, ``update``, ``show --query <dotted path>``,
``registry set``, and ``acr build``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

NOT_LOGGED_IN = "ERROR: Please run 'az login' to setup account."
# An app a test writes into cloud.json by hand, without "target_port", is one
# created as the docs say; test_deploy_container_apps.py runs the docs'
# commands and checks that they give this port (the image's EXPOSE).
DOCUMENTED_TARGET_PORT = 8080
ACR_SUFFIX = ".azurecr.io"
# Built-in roles and what they allow on a registry
# (https://learn.microsoft.com/en-us/azure/container-registry/container-registry-roles):
# AcrPull pulls, AcrPush pushes and pulls; ACR Tasks (`az acr build`) need the
# actions listBuildSourceUploadUrl and scheduleRun, which no Acr* role has:
# Contributor (or Owner, or a custom role with those actions, Azure/acr#174).
PULL_ROLES = {"AcrPull", "AcrPush", "Contributor", "Owner"}
BUILD_ROLES = {"Contributor", "Owner"}
# The error `az acr build` prints without them (Azure/azure-cli#8140).
NO_BUILD_ROLE = (
    "ERROR: (AuthorizationFailed) The client '{principal}' does not have authorization to"
    " perform action 'Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action'"
    " over scope '/registries/{registry}'. Could not get SAS URL to upload."
)


def option(args: list[str], *names: str) -> str | None:
    """The value after the first of ``names`` present."""
    for name in names:
        if name in args:
            return args[args.index(name) + 1]
    return None


def not_found(app: str, group: str) -> int:
    print(
        f"ERROR: (ResourceNotFound) The Resource 'Microsoft.App/containerApps/{app}'"
        f" under resource group '{group}' was not found.",
        file=sys.stderr,
    )
    return 3


def registry_of(image: str) -> str | None:
    """The registry name of an Azure Container Registry image, else None."""
    server = image.split("/", 1)[0]
    return server.removesuffix(ACR_SUFFIX) if server.endswith(ACR_SUFFIX) else None


def can_pull(cloud: dict, name: str, app: dict, image: str) -> bool:
    """Container Apps pulls an ACR image with the identity the app's registry
    entry names, which needs a pull role on that registry
    (https://learn.microsoft.com/en-us/azure/container-apps/managed-identity-image-pull);
    other registries' images are public here."""
    registry = registry_of(image)
    if registry is None:
        return True
    for entry in app.get("registries", []):
        if entry["server"] == registry + ACR_SUFFIX and entry.get("identity") == "system":
            roles = set(cloud.get("acr_roles", {}).get(registry, {}).get(f"app:{name}", []))
            return bool(roles & PULL_ROLES)
    return False


def resource(name: str, app: dict) -> dict:
    """The app as `az containerapp show` prints it (the fields the scripts read)."""
    ingress = None
    if app.get("fqdn"):
        ingress = {
            "external": True,
            "fqdn": app["fqdn"],
            "targetPort": app.get("target_port", DOCUMENTED_TARGET_PORT),
        }
    return {"name": name, "properties": {"configuration": {"ingress": ingress}}}


def query(document: object, path: str) -> object:
    """A dotted JMESPath (the only kind the scripts use); None once a key is missing."""
    for key in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def tsv(value: object) -> str:
    """``--output tsv``: a missing value prints nothing."""
    return "" if value is None else str(value)


def refuse_image(name: str, image: str, reason: str) -> int:
    print(
        f"ERROR: Failed to provision revision for container app '{name}'. Error details:"
        f" The following field(s) are either invalid or missing. Field"
        f" 'template.containers.{name}.image' is invalid with details: 'Invalid value:"
        f' "{image}": GET {image}: {reason}\'',
        file=sys.stderr,
    )
    return 1


def check_image(cloud: dict, name: str, app: dict, image: str) -> int:
    """0, or the refusal of a revision whose image cannot be pulled."""
    if image not in cloud.get("digests", []) and image not in cloud.get("images", {}):
        return refuse_image(name, image, "MANIFEST_UNKNOWN")
    if not can_pull(cloud, name, app, image):
        return refuse_image(name, image, "UNAUTHORIZED: authentication required")
    return 0


def create(cloud: dict, argv: list[str], name: str, group: str) -> int:
    """`az containerapp create`: the app, its ingress on ``--target-port``
    (https://learn.microsoft.com/en-us/azure/container-apps/ingress-overview: the
    port the container listens on), its registry identity."""
    environment = option(argv, "--environment")
    environments = cloud.get("managed_environments", {})
    if environment not in environments:
        print(
            f"ERROR: (ResourceNotFound) The Resource 'Microsoft.App/managedEnvironments/"
            f"{environment}' under resource group '{group}' was not found.",
            file=sys.stderr,
        )
        return 3
    app: dict = {"resource_group": group}
    if option(argv, "--ingress") == "external":
        target = option(argv, "--target-port")
        if target is None:
            print("ERROR: Usage error: --target-port is required with --ingress.", file=sys.stderr)
            return 2
        app["target_port"] = int(target)
        app["fqdn"] = environments[environment]["addresses"].pop(0)
    server = option(argv, "--registry-server")
    if server:
        assign_pull_identity(cloud, name, app, server, option(argv, "--registry-identity"))
    image = option(argv, "--image") or ""
    if status := check_image(cloud, name, app, image):
        return status
    app["image"] = image
    app["revisions"] = [image]
    cloud.setdefault("container_apps", {})[name] = app
    return 0


def assign_pull_identity(
    cloud: dict, name: str, app: dict, server: str, identity: str | None
) -> None:
    """``--identity system`` (registry set) or ``--registry-identity system``
    (create): the app's system identity pulls from ``server``, and the CLI gives
    it AcrPull on the registry itself
    (https://learn.microsoft.com/en-us/azure/container-apps/managed-identity-image-pull:
    "The Azure CLI automatically makes this assignment")."""
    entries = [e for e in app.get("registries", []) if e["server"] != server]
    app["registries"] = [*entries, {"server": server, "identity": identity}]
    registry = registry_of(server)
    if identity == "system" and registry is not None:
        roles = cloud.setdefault("acr_roles", {}).setdefault(registry, {})
        roles.setdefault(f"app:{name}", [])
        if "AcrPull" not in roles[f"app:{name}"]:
            roles[f"app:{name}"].append("AcrPull")


def acr_build(cloud: dict, argv: list[str]) -> int:
    """`az acr build --registry R --image I <context>`: needs a role with the ACR
    Tasks actions; records the image and the model its context holds."""
    registry = option(argv, "--registry", "-r") or ""
    principal = os.environ.get("AZURE_STANDIN_PRINCIPAL", "person")
    roles = set(cloud.get("acr_roles", {}).get(registry, {}).get(principal, []))
    if not roles & BUILD_ROLES:
        print(NO_BUILD_ROLE.format(principal=principal, registry=registry), file=sys.stderr)
        return 1
    context = Path(argv[-1])
    image = f"{registry}{ACR_SUFFIX}/{option(argv, '--image', '-t')}"
    model = hashlib.sha256((context / "models" / "model.joblib").read_bytes()).hexdigest()
    cloud.setdefault("images", {})[image] = "sha256:" + model[:12]
    cloud.setdefault("image_models", {})[image] = model
    print(f"Run ID: ca1 was successful after 1m2s ({image})")
    return 0


def main(argv: list[str]) -> int:
    """Run one az command against the cloud state."""
    path = Path(os.environ["STANDIN_STATE"]) / "cloud.json"
    cloud = json.loads(path.read_text()) if path.exists() else {}
    apps = cloud.setdefault("container_apps", {})
    if not os.environ.get("AZURE_STANDIN_LOGGED_IN"):
        print(NOT_LOGGED_IN, file=sys.stderr)
        return 1
    if argv[:2] == ["acr", "build"]:
        status = acr_build(cloud, argv)
        path.write_text(json.dumps(cloud, indent=2))
        return status
    command = argv[1:3] if argv[1:2] == ["registry"] else argv[1:2]
    if argv[:1] != ["containerapp"] or command not in (
        ["create"],
        ["update"],
        ["show"],
        ["registry", "set"],
    ):
        print(f"fake az: command not modelled: {argv}", file=sys.stderr)
        return 2
    name = option(argv, "--name", "-n")
    group = option(argv, "--resource-group", "-g")
    if not name or not group:
        print(
            "ERROR: the following arguments are required: --name/-n, --resource-group/-g",
            file=sys.stderr,
        )
        return 2
    if command == ["create"]:
        status = create(cloud, argv, name, group)
        path.write_text(json.dumps(cloud, indent=2))
        return status
    app = apps.get(name)
    if app is None or app["resource_group"] != group:
        return not_found(name, group)
    if command == ["registry", "set"]:
        server = option(argv, "--server") or ""
        assign_pull_identity(cloud, name, app, server, option(argv, "--identity"))
        path.write_text(json.dumps(cloud, indent=2))
        return 0
    if command == ["update"]:
        image = option(argv, "--image", "-i") or ""
        if status := check_image(cloud, name, app, image):
            return status
        app.setdefault("revisions", []).append(image)
        app["image"] = image
        path.write_text(json.dumps(cloud, indent=2))
        return 0
    wanted = option(argv, "--query") or ""
    if not re.fullmatch(r"[A-Za-z.]+", wanted) or option(argv, "--output", "-o") != "tsv":
        print(f"fake az: query not modelled: {argv}", file=sys.stderr)
        return 2
    print(tsv(query(resource(name, app), wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
