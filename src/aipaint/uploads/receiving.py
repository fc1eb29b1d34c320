"""Receiving an upload: the multipart body streamed into a temporary file, never held in memory.

The token is checked before the first byte is read. The file is written as it arrives, hashed on
the way, and refused the moment it passes its size limit: the limit of the model and param named
by the fields sent before it (aipaint's clients send them first), else the largest any upload may
have; the exact limit is checked again once every field is known.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from aipaint.kit.sniff import HEAD_BYTES
from aipaint.uploads.errors import UploadInvalid

MB = 1024 * 1024
FILE_FIELD = "file"
# Besides the file, a form has a field or two of a few words each.
MAX_PARTS = 8
MAX_FIELD_BYTES = 1024
# Gathered up to this much before one thread hop writes it to disk.
WRITE_BUFFER_BYTES = MB


@dataclass
class Received:
    """An uploaded file on disk (deleted when the `receive` block ends) and the form's fields."""

    path: Path
    filename: str
    size: int
    sha256: str
    head: bytes  # the first HEAD_BYTES, for sniffing
    fields: dict[str, str]


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Events:
    """The parser's callbacks, recorded to be handled (with awaits) after each chunk."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": lambda: self.items.append(("begin", b"")),
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": lambda: self.items.append(("headers", b"")),
            "on_part_data": lambda data, start, end: self.items.append(("data", data[start:end])),
            "on_part_end": lambda: self.items.append(("end", b"")),
        }

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self.items.append(("header", self._field.lower() + b"\0" + self._value))
        self._field = self._value = b""


@asynccontextmanager
async def receive(
    request: Request, limit: Callable[[dict[str, str]], int]
) -> AsyncIterator[Received]:
    """The uploaded file, streamed to a temporary file. `limit(fields)` is the largest file, in
    bytes, given the fields received so far (it may raise to refuse them)."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadInvalid("send it as multipart/form-data, the file in a field named `file`")
    temp, file = await anyio.to_thread.run_sync(_create_temp)
    try:
        received = await _read(request, boundary, file, temp, limit)
        yield received
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, file, temp)


async def _read(
    request: Request,
    boundary: bytes,
    file: IO[bytes],
    temp: Path,
    limit: Callable[[dict[str, str]], int],
) -> Received:
    events = _Events()
    try:
        parser = MultipartParser(boundary, events.callbacks())  # type: ignore[arg-type]
    except (MultipartParseError, ValueError):
        raise UploadInvalid("the multipart boundary is malformed") from None
    fields: dict[str, str] = {}
    digest = hashlib.sha256()
    head = b""
    size = 0
    largest = 0
    filename: str | None = None
    parts = 0
    part = _Part()
    buffer = bytearray()
    file_done = False
    async for chunk in request.stream():
        if not chunk:
            continue
        try:
            parser.write(chunk)
        except MultipartParseError:
            raise UploadInvalid("the multipart body is malformed") from None
        for event, data in events.items:
            if event == "begin":
                parts += 1
                if parts > MAX_PARTS:
                    raise UploadInvalid(f"the form has more than {MAX_PARTS} parts")
                part = _Part()
            elif event == "header":
                name, _, value = data.partition(b"\0")
                part.headers[name] = value
            elif event == "headers":
                _name_part(part)
                if part.filename is not None:
                    if part.name != FILE_FIELD or filename is not None:
                        raise UploadInvalid("send one file, in the field named `file`")
                    filename = part.filename
                    largest = limit(fields)
            elif event == "data":
                if part.filename is None:
                    part.data += data
                    if len(part.data) > MAX_FIELD_BYTES:
                        raise UploadInvalid(f"the field {part.name!r} is too long")
                    continue
                size += len(data)
                if size > largest:
                    raise UploadInvalid(
                        f"the file is over the {largest / MB:g} MB limit", status_code=413
                    )
                digest.update(data)
                if len(head) < HEAD_BYTES:
                    head += data[: HEAD_BYTES - len(head)]
                buffer += data
                if len(buffer) >= WRITE_BUFFER_BYTES:
                    await anyio.to_thread.run_sync(file.write, buffer)
                    buffer = bytearray()
            elif event == "end":
                if part.filename is None:
                    fields[part.name] = _text(part)
                else:
                    file_done = True
        events.items.clear()
    try:
        parser.finalize()
    except MultipartParseError:
        raise UploadInvalid("the multipart body is malformed") from None
    if filename is None or not file_done:
        raise UploadInvalid("the form has no file (a field named `file`)")
    await anyio.to_thread.run_sync(_finish, file, buffer)
    return Received(temp, filename, size, digest.hexdigest(), head, fields)


def _name_part(part: _Part) -> None:
    disposition, options = parse_options_header(part.headers.get(b"content-disposition", b""))
    if disposition != b"form-data" or b"name" not in options:
        raise UploadInvalid("each part needs Content-Disposition: form-data; name=...")
    part.name = options[b"name"].decode("utf-8", "replace")
    raw = options.get(b"filename")
    part.filename = raw.decode("utf-8", "replace")[:255] if raw is not None else None


def _text(part: _Part) -> str:
    try:
        return bytes(part.data).decode("utf-8")
    except UnicodeDecodeError:
        raise UploadInvalid(f"the field {part.name!r} is not UTF-8 text") from None


def _create_temp() -> tuple[Path, IO[bytes]]:
    descriptor, name = tempfile.mkstemp(prefix="aipaint-upload-")
    return Path(name), os.fdopen(descriptor, "wb")


def _finish(file: IO[bytes], buffer: bytearray) -> None:
    file.write(buffer)
    file.flush()


def _discard(file: IO[bytes], temp: Path) -> None:
    file.close()
    temp.unlink(missing_ok=True)
