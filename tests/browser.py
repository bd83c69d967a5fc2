"""Headless Chromium driven over the DevTools protocol, with the standard library only.

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands from
its file descriptor 3 and writes replies and events to descriptor 4, one JSON
message per NUL-terminated record. That is all a test needs to open a page,
wait for it to load, evaluate JavaScript in it and take a screenshot, without a
WebSocket client, Playwright or Selenium.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from helpers import refuse_in_fast_tier

# Headless, no sandbox (the tests run as root in CI), and nothing that talks to
# the network on its own (updates, sync, field trials, QUIC probes).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
COMMAND_FD, REPLY_FD = 3, 4
# Seconds to wait for any message (a page load included) before giving up.
REPLY_TIMEOUT = 60


def chromium_executable() -> str | None:
    """Debian's ``chromium`` (what .ci/run installs), or another Chromium on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one tab; use it as a context manager."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900) -> None:
        refuse_in_fast_tier("Chromium")
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        command_read, self._command_write = os.pipe()
        self._reply_read, reply_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child, before exec
            read_end, write_end = os.dup(command_read), os.dup(reply_write)
            os.dup2(read_end, COMMAND_FD)
            os.dup2(write_end, REPLY_FD)

        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(COMMAND_FD, REPLY_FD),
            preexec_fn=wire_pipes,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(command_read)
        os.close(reply_write)
        self._buffer = b""
        self._last_id = 0
        self._events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable", session=self.session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=self.session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._reply_read], [], [], REPLY_TIMEOUT)
            if not ready:
                raise TimeoutError(f"Chromium sent nothing for {REPLY_TIMEOUT} s")
            chunk = os.read(self._reply_read, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict:
        """Send one DevTools command and return its result (events are kept)."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._command_write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def open(self, url: str) -> None:
        """Navigate the tab to ``url`` and wait for its load event (images included)."""
        self._events.clear()
        self.call("Page.navigate", session=self.session, url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._receive())

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.call(
            "Runtime.evaluate", session=self.session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        """Save the whole page (not only the viewport) as a PNG."""
        shot = self.call(
            "Page.captureScreenshot", session=self.session, format="png", captureBeyondViewport=True
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        """Close Chromium (by its own process id) and remove its profile."""
        try:
            self.call("Browser.close")
            self.process.wait(timeout=20)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):  # TimeoutError is an OSError
            self.process.kill()
            self.process.wait(timeout=20)
        os.close(self._command_write)
        os.close(self._reply_read)
        shutil.rmtree(self.profile, ignore_errors=True)
