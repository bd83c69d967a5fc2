"""The support code on kept libraries keeps the promises the tests rely on.

servers.py is built on moto's ThreadedMotoServer, pytest-httpserver and
trustme; what those do unlike the hand-written servers they replaced is checked
here: moto's buckets live in the test process, werkzeug decodes paths, a
certificate authority signs the HTTPS certificate. browser.py (Playwright)
keeps the fast tier's guard.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.browser import chromium_page
from support.servers import LOOPBACK, JSONServer, S3Server, ServingApp, StaticHTTPServer, get_json


def test_each_s3_server_starts_without_buckets(tmp_path: Path) -> None:
    """moto keeps its state in the test process: a second server must not see the first's."""
    with S3Server(tmp_path / "first") as s3:
        s3.create_bucket("bucket-one")
        s3.client().put_object(Bucket="bucket-one", Key="storage/ab/cd", Body=b"data")
        assert s3.keys("bucket-one") == ["storage/ab/cd"]
        assert s3.url.startswith(f"http://{LOOPBACK}:")
    with S3Server(tmp_path / "second") as s3:
        assert s3.client().list_buckets()["Buckets"] == []


def test_json_server_records_the_path_as_sent_and_answers_the_handler(tmp_path: Path) -> None:
    seen: list[tuple[str, str, object]] = []

    def handler(method: str, path: str, body: object) -> tuple[int, object]:
        seen.append((method, path, body))
        return 404, {"path": path}

    with JSONServer(handler) as server:
        request = urllib.request.Request(
            f"{server.url}/acme/ML%20Project/threads?api-version=7.1",
            data=json.dumps({"content": "hi"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Basic x"},
            method="PATCH",
        )
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 404 and json.load(error) == {"path": "/acme/ML%20Project/threads"}
        else:
            raise AssertionError("the handler's 404 did not reach the client")
        assert get_json(f"{server.url}/health") == (404, {"path": "/health"})

    assert seen[0] == ("PATCH", "/acme/ML%20Project/threads", {"content": "hi"})
    method, path, body, headers = server.requests[0]
    assert (method, path, body) == (
        "PATCH",
        "/acme/ML%20Project/threads?api-version=7.1",
        {"content": "hi"},
    )
    assert headers["Authorization"] == "Basic x"
    assert [r[:2] for r in server.requests[1:]] == [("GET", "/health")]


def test_https_json_server_is_trusted_through_its_certificate_only(tmp_path: Path) -> None:
    with JSONServer(ServingApp("ab" * 32), tls_dir=tmp_path / "tls") as server:
        assert server.cert is not None and server.url == f"https://{server.address}"
        trusting = ssl.create_default_context(cafile=str(server.cert))
        with urllib.request.urlopen(f"{server.url}/health", context=trusting) as response:
            assert json.load(response)["model"]["sha256"] == "ab" * 32
        other = JSONServer(ServingApp(), tls_dir=tmp_path / "other")
        assert other.cert is not None
        stranger = ssl.create_default_context(cafile=str(other.cert))
        try:
            urllib.request.urlopen(f"{server.url}/health", context=stranger, timeout=10)
        except urllib.error.URLError as error:
            assert isinstance(error.reason, ssl.SSLCertVerificationError), error
        else:
            raise AssertionError("another authority's certificate was trusted")


def test_servers_stop_listening_on_exit(tmp_path: Path) -> None:
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<p>hello</p>")
    with StaticHTTPServer(tmp_path) as static, JSONServer(ServingApp()) as app:
        with urllib.request.urlopen(f"{static.url}/page/", timeout=10) as response:
            assert response.read() == b"<p>hello</p>"
        assert static.requests == ["GET /page/ 200"]
        addresses = [static.url.removeprefix("http://"), app.address]
    for address in addresses:
        host, port = address.split(":")
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            continue
        raise AssertionError(f"{address} still accepts connections")


def test_chromium_refuses_to_start_in_the_fast_tier() -> None:
    """This test is not marked slow: conftest.py's guard stops chromium_page() first."""
    with pytest.raises(AssertionError, match="starts Chromium: mark it slow"):
        with chromium_page():
            raise AssertionError("Chromium started in the fast tier")
