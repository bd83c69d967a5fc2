"""Smoke-test a deployed serving app: its /health answers, with a model loaded.

    python3 tools/smoke_test.py https://<app address> [--timeout SECONDS]

The timeout defaults to $SMOKE_TEST_TIMEOUT, else 120 seconds.

Retries until the timeout (a new revision takes a moment to start), then exits
1 with the last error. Only the standard library: the deploy jobs run it
without installing the project. Every CI platform calls this same script after
a deploy (docs/serving.md: a failed smoke test leaves the previous revision to
roll back to).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


def check(url: str) -> str | None:
    """None when ``url``/health answers 200 with status ok, else what went wrong."""
    try:
        with urllib.request.urlopen(
            f"{url.rstrip('/')}/health", timeout=10
        ) as response:
            body = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{url}/health: {error}"
    if body.get("status") != "ok":
        return f"{url}/health answered {body}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the deployed app's base address")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("SMOKE_TEST_TIMEOUT") or 120),
        help="seconds to keep trying",
    )
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://")):
        print(f"error: not an http(s) address: {args.url!r}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    while True:
        problem = check(args.url)
        if problem is None:
            print(f"Smoke test passed: {args.url.rstrip('/')}/health is ok.")
            return 0
        if time.monotonic() >= deadline:
            print(f"error: smoke test failed: {problem}", file=sys.stderr)
            return 1
        time.sleep(3)


if __name__ == "__main__":
    raise SystemExit(main())
