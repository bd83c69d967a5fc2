"""A ``flyctl`` for the commands the publish workflow runs, with Fly.io's refusals.

Apps, deploys and the images they ran live in ``$STANDIN_STATE/cloud.json``.
Without ``FLY_API_TOKEN`` every command fails as flyctl does; deploying to an
app that was never created, an image that was never pushed or one in a
private package (actions.anonymous_pull_refusal) fails too.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# actions.py beside this file (the stand-ins' folder is first on sys.path when run).
from actions import anonymous_pull_refusal  # type: ignore[import-not-found]

NO_TOKEN = "Error: no access token available. Please login with 'flyctl auth login'"


def option(args: list[str], name: str) -> str | None:
    """The value after ``name``."""
    return args[args.index(name) + 1] if name in args else None


def main(argv: list[str]) -> int:
    """Run one flyctl command against the cloud state."""
    path = Path(os.environ["STANDIN_STATE"]) / "cloud.json"
    cloud = json.loads(path.read_text()) if path.exists() else {}
    apps = cloud.setdefault("fly_apps", {})
    if not os.environ.get("FLY_API_TOKEN"):
        print(NO_TOKEN, file=sys.stderr)
        return 1
    command = argv[:2] if argv[:1] == ["apps"] else argv[:1]
    app = option(argv, "--app") or (argv[2] if command == ["apps", "create"] else None)
    if command == ["apps", "create"]:
        if app in apps:
            print(f'Error: Name "{app}" is already taken', file=sys.stderr)
            return 1
        apps[app] = {"org": option(argv, "--org") or "personal", "image": None}
    elif command == ["status"]:
        if app not in apps:
            print(f'Error: Could not find App "{app}"', file=sys.stderr)
            return 1
        # An app's address; a test points it at a server on 127.0.0.1.
        hostname = cloud.get("fly_hostnames", {}).get(app, f"{app}.fly.dev")
        print(json.dumps({"Name": app, "Hostname": hostname, **apps[app]}))
    elif command == ["deploy"]:
        image = option(argv, "--image") or ""
        if app not in apps:
            print(f'Error: Could not find App "{app}"', file=sys.stderr)
            return 1
        if image not in cloud.get("digests", []) and image not in cloud.get("images", {}):
            print(
                "Error: failed to fetch an image or build from source: "
                f"Could not find image {image!r}",
                file=sys.stderr,
            )
            return 1
        # Fly.io pulls the image without credentials (flyctl deploy --image).
        refusal = anonymous_pull_refusal(cloud, image)
        if refusal:
            print(
                f"Error: failed to fetch an image or build from source: {refusal}", file=sys.stderr
            )
            return 1
        apps[app]["image"] = image
        print(f"Visit your newly deployed app at https://{app}.fly.dev/")
    else:
        print(f"fake flyctl: command not modelled: {argv}", file=sys.stderr)
        return 2
    path.write_text(json.dumps(cloud, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
