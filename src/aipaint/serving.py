"""How `aipaint serve` runs uvicorn: timeouts for idle and slow connections, and a cap on them.

Without them, a client can hold a connection (a file descriptor, a slot) forever by sending
nothing, or by sending a request's headers a byte at a time; a few hundred such sockets exhaust
a process's file limit and `/healthz` fails. So:

- a connection must complete each request's headers within `http_header_timeout_s` of opening,
  or of the first byte of the request, else it is closed (uvicorn has no such timeout of its
  own; `HeaderTimeout` adds it to uvicorn's httptools protocol);
- a keep-alive connection idle for `http_keep_alive_s` after an answer is closed (uvicorn's
  `timeout_keep_alive`);
- beyond `http_max_connections` open connections or running requests, a request is answered 503
  at once (uvicorn's `limit_concurrency`), so the process never runs out of descriptors.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from aipaint.config import Settings


class HeaderTimeout(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers do not arrive
    within `header_timeout` seconds (set on the subclass `protocol_class` makes)."""

    header_timeout = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_class(header_timeout: float) -> type[HeaderTimeout]:
    return type("HeaderTimeoutProtocol", (HeaderTimeout,), {"header_timeout": header_timeout})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` that bound connections and memory."""
    return {
        "http": protocol_class(settings.http_header_timeout_s),
        "timeout_keep_alive": settings.http_keep_alive_s,
        "limit_concurrency": settings.http_max_connections,
        # asyncio's own loop, as `aipaint worker` runs, not uvloop: under uvloop a download read
        # through httpx (anyio) takes up to 32 reads of 256 KiB each time it asks for more, so
        # every output archived into a store slower than the link held up to 8 MiB of unread
        # chunks (measured: 4 to 7.5 MB per download); asyncio reads 256 KiB at a time.
        "loop": "asyncio",
    }
