"""Network faults in front of the real server: transports that cut or refuse its event streams.

Every request goes to the real server over a real socket; only the `/events` streams are
interfered with, the way a proxy or a flaky network would: refused, or cut after N events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Literal

import httpx

from aipaint.client.sse import SSEDecoder

Mode = Literal["refuse", "cut_first", "cut_always"]


class _Recorder:
    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.event_requests: list[httpx.Request] = []
        # The last event id each cut stream delivered before it was cut.
        self.event_ids: list[str | None] = []
        self.on_events: Callable[[httpx.Request], None] | None = None

    def before(self, request: httpx.Request) -> bool:
        """Record an events request; True when it is one to interfere with."""
        if not request.url.path.endswith("/events"):
            return False
        self.event_requests.append(request)
        if self.on_events is not None:
            self.on_events(request)
        if self.mode == "refuse":
            raise httpx.ConnectError("refused by the test", request=request)
        return self.mode == "cut_always" or len(self.event_requests) == 1

    def keep(self) -> int:
        """Events a cut stream delivers before the cut."""
        return 0 if self.mode == "cut_always" else 1


class CutEvents(httpx.HTTPTransport, _Recorder):
    def __init__(self, mode: Mode) -> None:
        httpx.HTTPTransport.__init__(self)
        _Recorder.__init__(self, mode)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        cut = self.before(request)
        response = super().handle_request(request)
        if not cut:
            return response
        stream = _CutStream(response.stream, self.keep(), self.event_ids)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, request=request
        )


class AsyncCutEvents(httpx.AsyncHTTPTransport, _Recorder):
    def __init__(self, mode: Mode) -> None:
        httpx.AsyncHTTPTransport.__init__(self)
        _Recorder.__init__(self, mode)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cut = self.before(request)
        response = await super().handle_async_request(request)
        if not cut:
            return response
        stream = _AsyncCutStream(response.stream, self.keep(), self.event_ids)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, request=request
        )


class _Cutter:
    """Passes bytes through until `keep` events are complete, then fails like a dropped link."""

    def __init__(self, keep: int, ids: list[str | None]) -> None:
        self.keep = keep
        self.ids = ids
        self.decoder = SSEDecoder()
        self.seen = 0

    def pass_on(self, chunk: bytes) -> bytes:
        if self.seen >= self.keep:
            self.cut()
        passed = bytearray()
        for index in range(len(chunk)):
            byte = chunk[index : index + 1]
            passed += byte
            self.seen += len(self.decoder.feed(byte))
            if self.seen >= self.keep:
                break
        return bytes(passed)

    def cut(self) -> None:
        self.ids.append(self.decoder.last_event_id)
        raise httpx.RemoteProtocolError("the test cut the event stream")


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: object, keep: int, ids: list[str | None]) -> None:
        assert isinstance(inner, httpx.SyncByteStream)
        self.inner = inner
        self.cutter = _Cutter(keep, ids)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            yield self.cutter.pass_on(chunk)
        self.cutter.cut()

    def close(self) -> None:
        self.inner.close()


class _AsyncCutStream(httpx.AsyncByteStream):
    def __init__(self, inner: object, keep: int, ids: list[str | None]) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self.inner = inner
        self.cutter = _Cutter(keep, ids)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield self.cutter.pass_on(chunk)
        self.cutter.cut()

    async def aclose(self) -> None:
        await self.inner.aclose()
