"""A Server-Sent Events decoder fed raw byte chunks exactly as they come off the network.

It follows the WHATWG event-stream rules: a line ends with CRLF, LF or CR (a CRLF may arrive split
across two chunks, and a UTF-8 character across two reads), a line starting with `:` is a comment
(keep-alive), a field's value loses one leading space, `data` lines join with "\n", an empty line
dispatches the event, an event without `data` is dropped, and an event cut off by the end of the
stream is discarded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

_EOL: Final = re.compile(r"\r\n|\r|\n")
_BOM: Final = "\ufeff"


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        # The previous chunk ended in CR: a LF opening the next one completes that CRLF.
        self._skip_lf = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        # The last event id and the retry delay persist from event to event, as the spec says.
        self._last_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The reconnection delay in milliseconds the server asked for, if it did."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by `chunk`, in order."""
        text = self._text.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix(_BOM)
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        buffer = self._buffer + text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _EOL.finditer(buffer):
            event = self._line(buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._buffer = buffer[start:]
        self._skip_lf = buffer.endswith("\r")
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(
            data="\n".join(data), event=event or "message", id=self._last_id, retry=self._retry
        )


def iter_events(
    chunks: Iterable[bytes], decoder: SSEDecoder | None = None
) -> Iterator[ServerSentEvent]:
    decoder = decoder or SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)


async def aiter_events(
    chunks: AsyncIterable[bytes], decoder: SSEDecoder | None = None
) -> AsyncIterator[ServerSentEvent]:
    decoder = decoder or SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
