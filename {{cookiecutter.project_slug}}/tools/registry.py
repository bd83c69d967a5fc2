"""The model registry in CI: which model version a deploy-model run delivers.

    python tools/registry.py plan      # after a push to main or a registry tag
    python tools/registry.py compare   # this commit's model against production's
    python tools/registry.py request   # one test-set row, a body for POST /predict

The registry is GTO's (docs/model-registry.md): a version is a git tag
``model@vX.Y.Z`` on the commit whose ``dvc.lock`` records the model, a stage is
a tag ``model#<stage>#N``. ``plan`` decides what the run does and writes it to
``$GITHUB_OUTPUT`` (or prints it):

* a push to main whose ``dvc.lock`` records a model that no version registers
  yet: register it (the next patch version), ``register=true``;
* a push to main with the model of the latest version, or no model yet: nothing
  to deliver (an empty ``version``), with a notice that says why;
* a pushed ``model@vX.Y.Z`` tag: deliver that version to staging, then production;
* a pushed ``model#<stage>#N`` tag (a promotion or a rollback by hand with
  ``gto assign``): deliver its version to that stage only, as the person chose,
  unless a newer tag of that stage was pushed since (two promotions at once):
  then only the newest one's run delivers, so that the stage ends with the
  version ``gto show`` names whichever run starts first;
* a pushed ``model#<stage>!#N`` tag (a stage unassigned): nothing to deliver.

GTO refuses a registry with two version tags on one commit (``ManyVersions``,
for every command). A version tag pushed on a commit that an earlier one
registered (``model@v1.0.0-rc1`` by hand) is named in one line and left out:
the plan goes on for every other ref, and refuses that tag itself.

``compare`` runs ``python -m {{ cookiecutter.package_name }} compare`` against
the champion, the commit of the version in production: a release or a newly
registered model that scores worse is not deployed. Run it with the project's
virtualenv (``make setup``): it needs GTO and the project's own package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from gto import api
from gto.base import Assignment, Version
from gto.constants import Action
from gto.exceptions import ArtifactNotFound
from gto.tag import find, parse_name
from scmrepo.git import Git

from {{ cookiecutter.package_name }}.config import load_params
from {{ cookiecutter.package_name }}.pipeline.prepare import load_prepared
from {{ cookiecutter.package_name }}.model.integrity import LOCK_FILE, md5_in_lock

ARTIFACT = "model"
PACKAGE = "{{ cookiecutter.package_name }}"
STAGES = ("staging", "production")
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class Registry(Git):
    """This repository as GTO reads it, without the stray version tags."""

    def list_tags(self) -> list[str]:
        stray = set(stray_tags())
        return [tag for tag in super().list_tags() if tag not in stray]


@cache
def stray_tags() -> dict[str, str]:
    """Each version tag on a commit that an earlier version tag registered,
    with that earlier tag (GTO allows one version per commit)."""
    listed = subprocess.run(
        [
            "git",
            "for-each-ref",
            "--format=%(creatordate:unix) %(*objectname) %(refname:strip=2)",
            f"refs/tags/{ARTIFACT}@*",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tags = []
    for line in listed.splitlines():
        date, commit, name = (line.split(" ") + ["", ""])[:3]
        # Annotated version tags only: GTO ignores lightweight ones.
        if commit and re.fullmatch(rf"{ARTIFACT}@v[^!#]+", name):
            prerelease = not re.fullmatch(rf"{ARTIFACT}@v\d+\.\d+\.\d+", name)
            tags.append((int(date), prerelease, name, commit))
    first: dict[str, str] = {}
    stray = {}
    for _, _, name, commit in sorted(tags):
        if commit in first:
            stray[name] = first[commit]
        else:
            first[commit] = name
    return stray


@cache
def registry() -> Registry:
    """The registry for GTO's calls, each stray tag named once on the way."""
    for tag, registered in stray_tags().items():
        warning(
            "Stray registry tag",
            f"{tag} is ignored: its commit is {registered} already (GTO allows one"
            f" version per commit); delete it: git push origin :refs/tags/{tag}",
        )
    return Registry(".")


def model_md5(revision: str) -> str | None:
    """The model's hash that ``dvc.lock`` records at a git revision, if any."""
    shown = subprocess.run(
        ["git", "show", f"{revision}:{LOCK_FILE}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return None
    return md5_in_lock(shown.stdout, Path("."), Path(load_params().paths.model))


def latest_version() -> Version | None:
    """The newest registered version, or None before the first one."""
    try:
        latest: Version | None = api.find_latest_version(registry(), ARTIFACT)
    except ArtifactNotFound:
        return None
    return latest


def version_in_stage(stage: str) -> str:
    """The version in ``stage`` as ``gto show`` names it, or "" when none is.

    That is the version of the stage's newest assignment: after a rollback
    (an older version assigned again) the older one. GTO's
    ``api.find_versions_in_stage`` orders by version number instead and would
    name the newer version.
    """
    stages = api.show(registry()).get(ARTIFACT, {}).get("stage", {})
    return str(stages.get(stage) or "")


def newest_assignment(stage: str) -> str:
    """The newest tag that assigns ``stage``, or "" when none does.

    GTO orders a stage's tags by their time, to the second; the counter at the
    end of the tag (``model#production#3``) breaks a tie.
    """
    tags = find(action=Action.ASSIGN, name=ARTIFACT, stage=stage, scm=registry())
    if not tags:
        return ""
    newest = max(tags, key=lambda tag: (tag.tag_time, parse_name(tag.name)["counter"]))
    return str(newest.name)


def champion_commit() -> str:
    """The commit of the version in production, or "" when none is."""
    version = version_in_stage("production")
    return registered_commit(version) if version else ""


def run_url() -> str:
    """This GitHub Actions run's page, or "" outside GitHub Actions."""
    env = os.environ
    if "GITHUB_RUN_ID" not in env:
        return ""
    repository = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
    return f"{repository}/actions/runs/{env['GITHUB_RUN_ID']}"


def plan_push() -> dict[str, str]:
    """What a push to main delivers: a new model gets the next version."""
    head = model_md5("HEAD")
    if head is None:
        notice(
            "No model yet",
            f"{LOCK_FILE} records no model: train one (make repro), commit it.",
        )
        return {"version": ""}
    latest = latest_version()
    if latest is not None and model_md5(latest.commit_hexsha) == head:
        notice(
            "Model unchanged",
            f"{ARTIFACT}@{latest.version} registers this model already: nothing to do.",
        )
        return {"version": ""}
    # The tag's message names the run, so `gto history` leads back to it.
    url = run_url()
    message = f"Registered by {url}" if url else None
    registration = api.register(
        registry(),
        ARTIFACT,
        "HEAD",
        message=message,
        author=BOT[0],
        author_email=BOT[1],
    )
    return {
        "version": registration.version,
        "register": "true",
        "stages": " ".join(STAGES),
    }


def plan_tag(ref: str) -> dict[str, str]:
    """What a pushed registry tag delivers, and to which stages."""
    if ref in stray_tags():
        raise SystemExit(
            f"error: {ref} is not delivered: its commit is {stray_tags()[ref]} already"
            " (GTO allows one version per commit); delete it with"
            f" git push origin :refs/tags/{ref}"
        )
    events = api.check_ref(registry(), ref)
    if not events:
        raise SystemExit(
            f"error: {ref} is not a tag of the model registry (docs/model-registry.md)"
        )
    event = events[0]
    stage = getattr(event, "stage", None)
    if stage is None:
        return {"version": event.version, "stages": " ".join(STAGES)}
    if not isinstance(event, Assignment):
        notice("No deploy", f"{ref} unassigns the stage {stage}: nothing to deliver.")
        return {"version": ""}
    if stage not in STAGES:
        notice(
            "No deploy",
            f"{ref} assigns the stage {stage}: only {' and '.join(STAGES)} deploy.",
        )
        return {"version": ""}
    newest = newest_assignment(stage)
    if newest != ref:
        notice(
            "Superseded",
            f"{ref} is not delivered: {newest}, pushed after it, assigns {stage}"
            f" to {version_in_stage(stage)}, and its run delivers that.",
        )
        return {"version": ""}
    # A person chose this version for this stage (a promotion or a rollback):
    # it is deployed without comparing it, and its stage is already recorded.
    return {
        "version": event.version,
        "stages": stage,
        "assigned": stage,
    }


def plan(ref: str) -> dict[str, str]:
    """The outputs of the plan step for the pushed ``ref``."""
    if ref.startswith("refs/tags/"):
        outputs = plan_tag(ref.removeprefix("refs/tags/"))
    else:
        outputs = plan_push()
    if outputs["version"]:
        outputs["tag"] = f"{ARTIFACT}@{outputs['version']}"
        outputs["commit"] = registered_commit(outputs["version"])
    return outputs


def registered_commit(version: str) -> str:
    """The commit that ``model@<version>`` points to."""
    return subprocess.run(
        ["git", "rev-list", "-n", "1", f"refs/tags/{ARTIFACT}@{version}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def compare_with_production() -> int:
    """Compare this commit's model with production's: the compare command's code."""
    champion = champion_commit()
    if not champion:
        print("No version is in production yet: nothing to compare with.")
        return 0
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if champion == head:
        print("This commit's model is the one in production: nothing to compare.")
        return 0
    command = [sys.executable, "-m", PACKAGE, "compare", "--champion", champion]
    return subprocess.run(command, check=False).returncode


def notice(title: str, message: str) -> None:
    """A notice on the run's page (and a line in the log)."""
    print(f"::notice title={title}::{message}")


def warning(title: str, message: str) -> None:
    """A warning on the run's page (and a line in the log)."""
    print(f"::warning title={title}::{message}")


def write_outputs(outputs: dict[str, str]) -> None:
    """Step outputs for the next steps and jobs, printed too."""
    lines = [f"{key}={value}" for key, value in outputs.items()]
    print("\n".join(lines))
    if "GITHUB_OUTPUT" in os.environ:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def smoke_request() -> dict[str, Any]:
    """The first row of the test set, without its label: a real request body."""
    params = load_params()
    features, _ = load_prepared(Path(params.paths.test), params.data.target)
    return {"instances": features.head(1).to_dict(orient="records")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["plan", "compare", "request"])
    args = parser.parse_args(argv)
    if args.command == "plan":
        write_outputs(plan(os.environ.get("GITHUB_REF", "refs/heads/main")))
    elif args.command == "compare":
        return compare_with_production()
    else:
        json.dump(smoke_request(), sys.stdout)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
