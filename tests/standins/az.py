"""An ``az`` for the Container Apps commands the deploy scripts run, with Azure's refusals.

Container apps (their resource group, ingress address and revisions) live in
``$STANDIN_STATE/cloud.json`` under ``container_apps``, beside the images the
registry holds (``images``, ``digests``). Without a login (azure/login on
GitHub Actions, AzureCLI@2 on Azure Pipelines: both leave
``AZURE_STANDIN_LOGGED_IN``) every command fails as the real CLI does; an app
that does not exist, one in another resource group, or an image the registry
never got fails too. Only ``containerapp update`` and ``containerapp show
--query properties.configuration.ingress.fqdn`` are modelled.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

NOT_LOGGED_IN = "ERROR: Please run 'az login' to setup account."
FQDN_QUERY = "properties.configuration.ingress.fqdn"


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


def main(argv: list[str]) -> int:
    """Run one az command against the cloud state."""
    path = Path(os.environ["STANDIN_STATE"]) / "cloud.json"
    cloud = json.loads(path.read_text()) if path.exists() else {}
    apps = cloud.setdefault("container_apps", {})
    if not os.environ.get("AZURE_STANDIN_LOGGED_IN"):
        print(NOT_LOGGED_IN, file=sys.stderr)
        return 1
    if argv[:1] != ["containerapp"] or argv[1:2] not in (["update"], ["show"]):
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
    app = apps.get(name)
    if app is None or app["resource_group"] != group:
        return not_found(name, group)
    if argv[1] == "update":
        image = option(argv, "--image", "-i") or ""
        if image not in cloud.get("digests", []) and image not in cloud.get("images", {}):
            print(
                f"ERROR: Failed to provision revision for container app '{name}'. Error details:"
                f" The following field(s) are either invalid or missing. Field"
                f" 'template.containers.{name}.image' is invalid with details: 'Invalid value:"
                f' "{image}": GET {image}: MANIFEST_UNKNOWN\'',
                file=sys.stderr,
            )
            return 1
        app.setdefault("revisions", []).append(image)
        app["image"] = image
        path.write_text(json.dumps(cloud, indent=2))
        if option(argv, "--output", "-o") != "none":
            print(json.dumps({"name": name, "properties": {"template": {"image": image}}}))
        return 0
    if option(argv, "--query") != FQDN_QUERY or option(argv, "--output", "-o") != "tsv":
        print(f"fake az: query not modelled: {argv}", file=sys.stderr)
        return 2
    print(app.get("fqdn", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
