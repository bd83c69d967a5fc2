"""Headless Chromium for the tests, driven by Playwright.

Playwright (not Selenium): it drives the Chromium that Debian installs through
its ``executable_path``, with no driver binary that must match the browser's
version (Selenium needs ``chromium-driver``), and it waits for a page's load
event and takes full-page screenshots by itself. ``playwright install`` is
never run: no browser is downloaded.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright

from support.helpers import refuse_in_fast_tier

# No sandbox (the tests run as root in CI), and nothing that talks to the
# network on its own (updates, sync, field trials, QUIC probes).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium_executable() -> str | None:
    """Debian's ``chromium`` (what .ci/run installs), or another Chromium on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[Page]:
    """One tab of a headless Chromium of its own, closed (and its process gone) on exit."""
    refuse_in_fast_tier("Chromium")
    executable = chromium_executable()
    assert executable, "needs Chromium (.ci/run installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
