"""A DVC HTTP remote on 127.0.0.1: a plain web server that stores uploads.

What DVC does against an ``http://`` remote, and this server answers as a
storage server must:

- an upload is a ``POST`` of the object to its URL, its body sent chunked
  (``Transfer-Encoding: chunked``) from a generator of 5 MiB pieces; ``PUT``
  when the remote sets ``method PUT`` (dvc-http 2.32.0 ``dvc_http/spec.py``:
  ``upload_method`` defaults to ``"post"``; fsspec 2026.9.0
  ``fsspec/implementations/http.py``: ``_put_file`` takes ``post`` or
  ``put`` and sends ``data=gen_chunks()``). A status of 400 or more fails the
  push (``_raise_not_found_for_status``);
- whether an object exists is a ``GET`` whose status is below 400
  (``_exists``); a missing object must be a 404;
- a download is a ``GET``; its size comes from ``HEAD`` first
  (``_file_info``, ``size_policy="head"``), with ``Content-Length``.

Refused as a server should: a path that climbs out of the storage directory
(403), a body over ``MAX_BODY`` (413), a chunked body that breaks the framing
(400). Every request is recorded as (method, path).
"""

from __future__ import annotations

import shutil
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

MAX_BODY = 256 * 2**20


class BadFraming(ValueError):
    """A chunked body that does not follow RFC 9112 section 7.1."""


def read_chunked(stream: BufferedIOBase, limit: int) -> bytes:
    """The body of a ``Transfer-Encoding: chunked`` request (RFC 9112 7.1)."""
    body = bytearray()
    while True:
        size_line = stream.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as error:
            raise BadFraming(f"chunk size {size_line!r}") from error
        if size == 0:
            while stream.readline(1024).strip():  # trailer fields, then the empty line
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise OverflowError
        body += stream.read(size)
        if stream.read(2) != b"\r\n":
            raise BadFraming("chunk without CRLF")


class Storage(ThreadingHTTPServer):
    """Serves and stores files under ``root``; ``with`` starts and stops it."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.requests: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> Storage:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)


class Handler(BaseHTTPRequestHandler):
    server: Storage
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the test reads ``server.requests``."""

    def target(self) -> Path | None:
        """The file the URL names, or None (answered 403) outside the storage."""
        self.server.requests.append((self.command, self.path))
        path = (self.server.root / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
        if not path.is_relative_to(self.server.root):
            self.answer(HTTPStatus.FORBIDDEN)
            return None
        return path

    def answer(self, status: HTTPStatus, body: bytes = b"", length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        """The object (HEAD: its size alone; ``answer`` writes no body then)."""
        path = self.target()
        if path is None:
            return
        if not path.is_file():
            self.answer(HTTPStatus.NOT_FOUND)
            return
        self.answer(HTTPStatus.OK, path.read_bytes())

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        path = self.target()
        if path is None:
            return
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = read_chunked(self.rfile, MAX_BODY)
            else:
                length = int(self.headers.get("Content-Length", "0"))
                if length > MAX_BODY:
                    raise OverflowError
                body = self.rfile.read(length)
        except OverflowError:
            self.close_connection = True
            self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        except BadFraming:
            self.close_connection = True
            self.answer(HTTPStatus.BAD_REQUEST)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(body)
        shutil.move(partial, path)
        self.answer(HTTPStatus.OK)

    do_PUT = do_POST
