"""What the model server refuses before the model sees a request.

``BodyLimits``, an ASGI middleware, looks at a request body's headers, then at
the body while it arrives: 413 over ``max_body_bytes``, 415 unless it is
uncompressed ``application/json`` (a browser's cross-site form or text POST
never reaches the model), 408 when it takes over ``timeout`` seconds (a
slowloris client). ``JSONRoute`` reads the JSON with ``parse_json``: a key
given twice, an object with too many keys, text that is not UTF-8 or JSON
nested too deeply each get a 422. A ``Refusal`` carries the problem, and
``problems_response`` answers ``{"detail": [{"field", "message", "type"}]}``.
Nothing here knows the model; ``serving/app.py`` puts the server together.
"""

import json
from collections import Counter
from functools import partial
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Problems listed in one 4xx answer; the rest are only counted.
MAX_PROBLEMS = 10
# Seconds a client may take to send a whole request body.
READ_TIMEOUT = 10.0


class Problem(BaseModel):
    """One thing wrong with a request."""

    field: str = Field(description="Where: a dotted path such as instances.0.age.")
    message: str
    type: str = Field(description="A machine-readable kind, such as missing.")


class Problems(BaseModel):
    """What a refused request gets."""

    detail: list[Problem]


class Refusal(HTTPException):
    """A request refused for one problem with its body. An ``HTTPException``,
    so that FastAPI passes it on when it is raised while reading the body."""

    def __init__(self, status_code: int, kind: str, message: str) -> None:
        super().__init__(status_code, detail=message)
        self.problem = {"field": "body", "message": message, "type": kind}


def problems_response(
    status_code: int, listed: list[dict[str, Any]], total: int = 1
) -> JSONResponse:
    """The problems ``listed``, and how many more of ``total`` there are."""
    if total > len(listed):
        more = f"{total - len(listed)} more problems not listed"
        listed.append({"field": "body", "message": more, "type": "too_many_problems"})
    return JSONResponse(status_code=status_code, content={"detail": listed})


async def refusal_response(request: Request, error: Exception) -> JSONResponse:
    """Answer a ``Refusal`` with its status and problem."""
    assert isinstance(error, Refusal)
    return problems_response(error.status_code, [error.problem])


def json_object(pairs: list[tuple[str, Any]], max_keys: int) -> dict[str, Any]:
    """A JSON object as a dict, refused when a key is given twice (JSON keeps
    the last silently) or when it has over ``max_keys`` keys (so that a flood
    of unknown keys costs no error object each)."""
    if len(pairs) > max_keys:
        message = f"an object has {len(pairs)} keys, more than {max_keys}"
        raise Refusal(422, "too_many_keys", message)
    result = dict(pairs)
    if len(result) < len(pairs):
        key = Counter(key for key, _ in pairs).most_common(1)[0][0]
        raise Refusal(422, "duplicate_key", f"the key {key!r} appears twice")
    return result


def parse_json(body: bytes, max_keys: int) -> Any:
    """The JSON document in ``body``; a ``Refusal`` (422) says what is wrong."""
    try:
        hook = partial(json_object, max_keys=max_keys)
        return json.loads(body.decode("utf-8"), object_pairs_hook=hook)
    except UnicodeDecodeError as error:
        raise Refusal(
            422,
            "utf8_invalid",
            f"the body is not UTF-8 text (byte {body[error.start]:#04x} at position"
            f" {error.start}); send JSON encoded as UTF-8",
        ) from None
    except RecursionError:
        message = "the body is JSON nested too deeply to read"
        raise Refusal(422, "json_too_deep", message) from None
    except ValueError as error:  # not JSON, or an integer of thousands of digits
        raise Refusal(422, "json_invalid", f"the body is not valid JSON: {error}")


class JSONRequest(Request):
    """A request whose JSON body ``parse_json`` reads (with the app's
    ``state.max_keys``)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body(), self.app.state.max_keys)
        return self._json


class JSONRoute(APIRoute):
    """A route that gives FastAPI a ``JSONRequest`` (FastAPI's documented way
    to change how a body is read: a custom request and route class)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def with_json_request(request: Request) -> Any:
            return await handler(JSONRequest(request.scope, request.receive))

        return with_json_request


class BodyLimits:
    """ASGI middleware: refuses a request body by its headers, then while it
    arrives, so that no large, slow or unwanted body reaches the app."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        length = headers.get("content-length", "0")
        if length == "0" and "transfer-encoding" not in headers:  # no body
            await self.app(scope, receive, send)
            return
        try:
            self.check(headers)
        except Refusal as refusal:
            response = problems_response(refusal.status_code, [refusal.problem])
            await response(scope, receive, send)
            return
        await self.app(scope, self.limited(receive), send)

    def check(self, headers: Headers) -> None:
        """Refuse a body by its encoding, media type or declared length."""
        encoding = headers.get("content-encoding", "identity").lower()
        if encoding != "identity":
            message = (
                f"Content-Encoding {encoding} is not supported: send JSON as it is"
            )
            raise Refusal(415, "encoding_unsupported", message)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            message = f"Content-Type {media_type or '(none)'} is not application/json"
            raise Refusal(415, "media_type_unsupported", message)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self.too_large()

    def too_large(self) -> Refusal:
        """The 413 for a body over the limit."""
        return Refusal(
            413,
            "body_too_large",
            f"the request body is larger than {self.max_body_bytes} bytes"
            " (serve.max_body_bytes in params.yaml); send fewer instances per request",
        )

    def limited(self, receive: Receive) -> Receive:
        """``receive``, counting the body's bytes and bounding its time."""
        size = 0
        deadline = anyio.current_time() + self.timeout

        async def receive_within_limits() -> Message:
            nonlocal size
            with anyio.move_on_after(deadline - anyio.current_time()) as waiting:
                message = await receive()
            if waiting.cancelled_caught:
                too_slow = f"the body took over {self.timeout:g} s to arrive"
                raise Refusal(408, "body_too_slow", too_slow)
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                raise self.too_large()
            return message

        return receive_within_limits
