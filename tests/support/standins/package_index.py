"""PyPI's JSON API for a few projects: what tools/bump_pins.py reads.

``GET /pypi/<project>/json`` (https://docs.pypi.org/api/json/, "Get a
project") answers the project's ``info`` and ``releases``: every version with
its files, each file with ``upload_time_iso_8601`` and ``yanked``. A project the
index does not have is a 404 with ``{"message": "Not Found"}``, as PyPI
answers. Serve it with ``servers.JSONServer(PackageIndex(...))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


def normalized(name: str) -> str:
    """A project name as the index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PackageIndex:
    """Projects -> versions -> (upload time, yanked)."""

    projects: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)

    def add(self, name: str, version: str, uploaded: str, yanked: bool = False) -> None:
        """One release of ``name``, uploaded at ``uploaded`` (ISO 8601, UTC)."""
        self.projects.setdefault(normalized(name), {})[version] = (uploaded, yanked)

    def project(self, name: str) -> dict[str, Any]:
        """The JSON of ``GET /pypi/<name>/json``."""
        releases = self.projects[normalized(name)]
        files = {
            version: [
                {
                    "filename": f"{normalized(name)}-{version}.tar.gz",
                    "packagetype": "sdist",
                    "upload_time_iso_8601": uploaded,
                    "yanked": yanked,
                    "yanked_reason": "broken" if yanked else None,
                }
            ]
            for version, (uploaded, yanked) in releases.items()
        }
        return {
            "info": {"name": name, "version": list(releases)[-1]},
            "releases": files,
            "urls": files[list(releases)[-1]],
            "vulnerabilities": [],
        }

    def __call__(self, method: str, path: str, body: object) -> tuple[int, Any]:
        """A JSONServer handler."""
        found = re.fullmatch(r"/pypi/([^/]+)/json/?", path)
        if method != "GET" or not found or normalized(found.group(1)) not in self.projects:
            return 404, {"message": "Not Found"}
        return 200, self.project(found.group(1))
