"""GitHub's REST API for the releases and tags of a few action repositories:
what tools/bump_pins.py reads to pin an action's newest release by commit SHA.

* ``GET /repos/{owner}/{repo}/releases/latest``: "the most recent non-prerelease,
  non-draft release, sorted by the created_at attribute"; 404 when there is
  none (https://docs.github.com/en/rest/releases/releases#get-the-latest-release).
* ``GET /repos/{owner}/{repo}/git/ref/tags/{tag}``: the ref, whose ``object`` is
  the commit (``"type": "commit"``) of a lightweight tag or the tag object
  (``"type": "tag"``) of an annotated one; 404 for no such tag
  (https://docs.github.com/en/rest/git/refs#get-a-reference).
* ``GET /repos/{owner}/{repo}/git/tags/{tag_sha}``: an annotated tag, whose
  ``object`` is the commit it tags (https://docs.github.com/en/rest/git/tags#get-a-tag).

A 404 carries GitHub's body: ``{"message": "Not Found", "documentation_url": ...,
"status": "404"}``. Serve it with ``servers.JSONServer(GitHubAPI(...))``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

DOCS = "https://docs.github.com/rest"


def not_found(page: str) -> tuple[int, dict[str, str]]:
    """GitHub's 404."""
    return 404, {"message": "Not Found", "documentation_url": f"{DOCS}/{page}", "status": "404"}


@dataclass
class Release:
    """One release of a repository, and the tag it names."""

    tag: str
    commit: str
    created_at: str
    annotated: bool = False
    prerelease: bool = False
    draft: bool = False

    @property
    def tag_object(self) -> str:
        """The SHA of the annotated tag's own object."""
        return hashlib.sha1(f"tag {self.tag} {self.commit}".encode()).hexdigest()


@dataclass
class GitHubAPI:
    """Repositories -> their releases, in the order they were created."""

    repositories: dict[str, list[Release]] = field(default_factory=dict)

    def add(self, repo: str, release: Release) -> None:
        """A release of ``repo`` (``owner/name``)."""
        self.repositories.setdefault(repo.lower(), []).append(release)

    def latest(self, repo: str) -> tuple[int, Any]:
        """The latest release, or 404."""
        published = [r for r in self.repositories.get(repo, []) if not (r.prerelease or r.draft)]
        if not published:
            return not_found("releases/releases#get-the-latest-release")
        release = max(published, key=lambda r: r.created_at)
        return 200, {
            "tag_name": release.tag,
            "name": release.tag,
            "draft": False,
            "prerelease": False,
            "created_at": release.created_at,
            "published_at": release.created_at,
        }

    def ref(self, repo: str, tag: str) -> tuple[int, Any]:
        """The ref of a tag, or 404."""
        for release in self.repositories.get(repo, []):
            if release.tag == tag:
                kind, sha = (
                    ("tag", release.tag_object) if release.annotated else ("commit", release.commit)
                )
                return 200, {"ref": f"refs/tags/{tag}", "object": {"type": kind, "sha": sha}}
        return not_found("git/refs#get-a-reference")

    def tag(self, repo: str, sha: str) -> tuple[int, Any]:
        """An annotated tag object, or 404."""
        for release in self.repositories.get(repo, []):
            if release.annotated and release.tag_object == sha:
                return 200, {
                    "tag": release.tag,
                    "sha": sha,
                    "object": {"type": "commit", "sha": release.commit},
                }
        return not_found("git/tags#get-a-tag")

    def __call__(self, method: str, path: str, body: object) -> tuple[int, Any]:
        """A JSONServer handler."""
        found = re.fullmatch(
            r"/repos/([^/]+/[^/]+)/(releases/latest|git/ref/tags/|git/tags/)(.*)", path
        )
        if method != "GET" or not found:
            return not_found("")
        repo, endpoint, rest = found.group(1).lower(), found.group(2), found.group(3)
        if endpoint == "releases/latest" and not rest:
            return self.latest(repo)
        if endpoint == "git/ref/tags/":
            return self.ref(repo, rest)
        return self.tag(repo, rest)
