"""Post the pipeline report on an Azure Repos pull request, as one thread.

    python3 tools/azure_pr_thread.py pipeline-report.md

The CI pipeline (azure-pipelines.yml) runs it on a pull request. It reads the
predefined variables Azure Pipelines exports (SYSTEM_COLLECTIONURI,
SYSTEM_TEAMPROJECT, BUILD_REPOSITORY_ID, SYSTEM_PULLREQUEST_PULLREQUESTID)
and the job's token (SYSTEM_ACCESSTOKEN, mapped in explicitly). The first run
opens a thread whose comment starts with a hidden marker; later runs find that
thread and replace its comment, so a pull request carries one report. Only the
standard library: nothing needs installing. REST API: Pull Request Threads,
api-version 7.1.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MARKER = "<!-- pipeline-report -->"
API_VERSION = "7.1"


def request(
    method: str, url: str, token: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One REST call with the job's token; the decoded JSON answer."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    call = urllib.request.Request(url, data=data, method=method)
    call.add_header("Authorization", f"Bearer {token}")
    call.add_header("Accept", "application/json")
    if data is not None:
        call.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(call, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read().decode("utf-8") or "{}")
    return answer


def threads_url(env: Mapping[str, str]) -> str:
    """The pull request's threads collection."""
    collection = env["SYSTEM_COLLECTIONURI"].rstrip("/")
    project = urllib.parse.quote(env["SYSTEM_TEAMPROJECT"], safe="")
    repository = urllib.parse.quote(env["BUILD_REPOSITORY_ID"], safe="")
    pull_request = env["SYSTEM_PULLREQUEST_PULLREQUESTID"]
    return (
        f"{collection}/{project}/_apis/git/repositories/{repository}"
        f"/pullRequests/{pull_request}/threads"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 tools/azure_pr_thread.py <report.md>", file=sys.stderr)
        return 2
    env = os.environ
    missing = [
        name
        for name in (
            "SYSTEM_COLLECTIONURI",
            "SYSTEM_TEAMPROJECT",
            "BUILD_REPOSITORY_ID",
            "SYSTEM_PULLREQUEST_PULLREQUESTID",
            "SYSTEM_ACCESSTOKEN",
        )
        if not env.get(name)
    ]
    if missing:
        print(f"error: not set: {' '.join(missing)}", file=sys.stderr)
        return 2
    content = f"{MARKER}\n{Path(argv[0]).read_text(encoding='utf-8')}"
    url = threads_url(env)
    token = env["SYSTEM_ACCESSTOKEN"]
    query = f"?api-version={API_VERSION}"
    try:
        threads = request("GET", url + query, token).get("value", [])
        for thread in threads:
            comments = thread.get("comments") or []
            if comments and MARKER in (comments[0].get("content") or ""):
                comment = f"{url}/{thread['id']}/comments/{comments[0]['id']}{query}"
                request("PATCH", comment, token, {"content": content})
                print(f"Updated the report in thread {thread['id']}.")
                return 0
        body = {
            "comments": [{"parentCommentId": 0, "content": content, "commentType": 1}],
            "status": 1,
        }
        created = request("POST", url + query, token, body)
    except urllib.error.HTTPError as error:
        print(
            f"error: Azure DevOps answered {error.code} {error.reason} for {error.url}"
            " (the build service needs 'Contribute to pull requests' on the repository;"
            " docs/azure-devops.md)",
            file=sys.stderr,
        )
        return 1
    print(f"Posted the report as thread {created.get('id')}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
