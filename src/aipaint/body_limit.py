"""A limit on request bodies, enforced as the bytes arrive: before any parsing and before the
token is checked, so an oversized request costs the server no more than the limit.

A declared `Content-Length` over the limit is refused without reading a byte. A body without one
(chunked) is counted as it streams in, and refused the moment it passes the limit. Either way
the answer is 413 in the one error shape, and the connection is closed rather than drained.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aipaint.errors import error_body
from aipaint.i18n import Text, negotiate

MB = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised into the app from `receive` when the body passes its limit."""


class BodyLimit:
    """ASGI middleware: `limit(path)` is the largest body (bytes) a request to `path` may have."""

    def __init__(self, app: ASGIApp, limit: Callable[[str], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app answers to the cut-off body, the answer is ours
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(scope, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    accept_language = next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == b"accept-language"),
        None,
    )
    size = f"{limit / MB:g} MB"
    message = Text(zh=f"请求体超过上限 {size}。", en=f"The request body is over the {size} limit.")
    body = orjson.dumps(error_body("body_too_large", message.get(negotiate(accept_language))))
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not read: closing is cheaper than draining it.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
