"""Guards at the edge of the app, in front of routing, parsing and authentication.

`BodyLimit`: request bodies are limited as the bytes arrive, so an oversized request costs the
server no more than the limit. A declared `Content-Length` over the limit is refused without
reading a byte; a body without one (chunked) is counted as it streams in, and refused the moment it
passes the limit. Either way the answer is 413 in the one error shape, and the connection is closed
rather than drained.

`SecurityHeaders`: every answer says `X-Content-Type-Options: nosniff` and carries a Content
Security Policy: the studio's, the API docs', the archived files' (sandboxed, nothing runs), or
for everything else (JSON) one that allows nothing at all. A route that sets its own keeps it.

`NoNulInUrl`: a NUL character has no place in a URL, and PostgreSQL refuses it in any text it is
asked to compare, so a path or query holding one is answered 400 before it reaches a query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    size = f"{limit / MB:g} MB"
    message = Text(zh=f"请求体超过上限 {size}。", en=f"The request body is over the {size} limit.")
    # The rest of the body is not read: closing the connection is cheaper than draining it.
    await _answer(scope, send, 413, "body_too_large", message, close=True)


class NoNulInUrl:
    """ASGI middleware: a path or query string holding a NUL character is answered 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                message = Text(zh="链接中含有 NUL 字符。", en="The URL holds a NUL character.")
                await _answer(scope, send, 400, "bad_request", message)
                return
        await self.app(scope, receive, send)


async def _answer(
    scope: Scope, send: Send, status: int, code: str, message: Text, *, close: bool = False
) -> None:
    accept_language = next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == b"accept-language"),
        None,
    )
    body = orjson.dumps(error_body(code, message.get(negotiate(accept_language))))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# Answers that are data, not pages: nothing may load or run, and no page may frame them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# An archived output opened on its own: shown, never run (sandbox: no script, no same origin).
FILES_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


class SecurityHeaders:
    """ASGI middleware: `nosniff`, no referrer, and the CSP of the first matching path prefix."""

    def __init__(self, app: ASGIApp, policies: Sequence[tuple[str, str]]) -> None:
        self.app = app
        self.policies = policies

    def policy(self, path: str) -> str:
        return next(
            (policy for prefix, policy in self.policies if path.startswith(prefix)), API_POLICY
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy(scope["path"]).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", policy),
                    (b"referrer-policy", b"no-referrer"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
