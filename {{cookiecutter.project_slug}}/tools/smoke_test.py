"""Smoke-test a deployed serving app: its /health answers, with a model loaded.

    python3 tools/smoke_test.py https://<app address> [--timeout SECONDS]
        [--model-sha256 SHA256] [--request FILE]

With ``--model-sha256`` the app must serve that model (the version that was
promoted, not the one before it); with ``--request`` it must answer that
``POST /predict`` body with one prediction per instance, from that model. The
model is named as everywhere else (the model card, ``/health``, batch output,
``compare``): the first characters of its SHA-256.
Each option defaults to a variable, so that every CI platform runs the same
command: $SMOKE_TEST_TIMEOUT (else 120 seconds), $SMOKE_TEST_MODEL_SHA256 and
$SMOKE_TEST_REQUEST (else no such check).

Retries until the timeout (a new revision takes a moment to start and to take
over from the previous one), then exits 1 with the last error. An app that
refuses the calls (HTTP 401 or 403: a private service) fails at once, with
$SMOKE_TEST_REFUSED_HINT (what makes this platform's service answer). The
error is also an annotation on the run's page when a CI platform runs it. Only the
standard library: the deploy jobs run it without installing the project.
Every CI platform calls this same script after a deploy (docs/serving.md: a
failed smoke test leaves the previous revision to roll back to).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

# A private service answers these until a person changes who may call it.
REFUSED = (401, 403)
# Characters of the SHA-256 that name a model: the package's
# integrity.MODEL_ID_LENGTH (this script runs without the package installed).
MODEL_ID_LENGTH = 12


class Refused(Exception):
    """The app refuses calls without credentials."""


def call(url: str, body: object = None) -> Any:
    """The JSON answer of a GET (or of a POST of ``body``); raises on failure."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def check(url: str, sha256: str = "", request: Any = None) -> str | None:
    """None when the app at ``url`` passes, else what went wrong."""
    base = url.rstrip("/")
    try:
        health = call(f"{base}/health")
    except urllib.error.HTTPError as error:
        if error.code in REFUSED:
            raise Refused(f"{base}/health: {error}") from error
        return f"{base}/health: {error}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{base}/health: {error}"
    if not isinstance(health, dict) or health.get("status") != "ok":
        return f"{base}/health answered {health}"
    served = (health.get("model") or {}).get("sha256", "")
    if sha256 and served != sha256:
        return (
            f"{base} serves the model with SHA-256 {served or '(none)'}, not {sha256}"
        )
    if request is None:
        return None
    try:
        answer = call(f"{base}/predict", request)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{base}/predict: {error}"
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(
        request["instances"]
    ):
        return f"{base}/predict answered {answer}"
    # /predict names the model by the first characters of its SHA-256.
    version = str(answer.get("model_version") or "")
    if sha256 and not (version and sha256.startswith(version)):
        answered = version or "(none)"
        expected = sha256[:MODEL_ID_LENGTH]
        return f"{base}/predict answered with model {answered}, not {expected}"
    return None


def fail(problem: str) -> None:
    """The error, on stderr and as the CI platform's error annotation (GitHub
    Actions sets GITHUB_ACTIONS, Azure Pipelines TF_BUILD)."""
    print(f"error: smoke test failed: {problem}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=Smoke test failed::{problem}")
    elif os.environ.get("TF_BUILD"):
        print(f"##vso[task.logissue type=error]Smoke test failed: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the deployed app's base address")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("SMOKE_TEST_TIMEOUT") or 120),
        help="seconds to keep trying",
    )
    parser.add_argument(
        "--model-sha256",
        default=os.environ.get("SMOKE_TEST_MODEL_SHA256", ""),
        help="the SHA-256 of the model the app must serve",
    )
    parser.add_argument(
        "--request",
        type=Path,
        default=os.environ.get("SMOKE_TEST_REQUEST") or None,
        help="a POST /predict body (JSON) the app must answer",
    )
    parser.add_argument(
        "--refused-hint",
        default=os.environ.get("SMOKE_TEST_REFUSED_HINT", ""),
        help="what to do when the app refuses calls without credentials",
    )
    args = parser.parse_args(argv)
    request = json.loads(args.request.read_text("utf-8")) if args.request else None
    if not args.url.startswith(("https://", "http://")):
        print(f"error: not an http(s) address: {args.url!r}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            problem = check(args.url, args.model_sha256, request)
        except Refused as refused:
            hint = f" {args.refused_hint}" if args.refused_hint else ""
            fail(f"{refused}: the app refuses calls without credentials.{hint}")
            return 1
        if problem is None:
            model = args.model_sha256[:MODEL_ID_LENGTH]
            served = f", serving model {model}" if model else ""
            answered = ", and /predict answered" if request else ""
            health = f"{args.url.rstrip('/')}/health"
            print(f"Smoke test passed: {health} is ok{served}{answered}.")
            return 0
        if time.monotonic() >= deadline:
            fail(problem)
            return 1
        time.sleep(3)


if __name__ == "__main__":
    raise SystemExit(main())
