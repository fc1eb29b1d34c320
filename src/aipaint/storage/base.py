"""What every object store offers the archiver and the file routes: put, open, stat, delete.

Keys are relative POSIX paths ("tasks/01J…/0.png") chosen by aipaint, never by a user, so a key
that could climb out of its store or mean two different objects is a bug and is refused loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from aipaint.kit.sniff import sniff

__all__ = [
    "UNKNOWN_TYPE",
    "InvalidKey",
    "ObjectNotFound",
    "Storage",
    "StoredObject",
    "content_type_of",
    "validate_key",
]

# A key segment becomes a file name, and the temp file written beside it adds a prefix and a
# suffix (see local.py); 200 bytes keeps that within the 255-byte NAME_MAX of common filesystems.
MAX_SEGMENT_BYTES: Final = 200
MAX_KEY_BYTES: Final = 1024


# What an object is recorded as when its first bytes are no media type aipaint knows: a type no
# browser renders, whatever the source declared.
UNKNOWN_TYPE: Final = "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    """An object as stored: its size, SHA-256 and content type all come from the bytes actually
    written (the type sniffed from the first bytes, never the one the source declared)."""

    key: str
    size: int
    sha256: str  # lower-case hex
    content_type: str


def content_type_of(head: bytes) -> str:
    """The content type recorded for an object that starts with `head` (HEAD_BYTES of it)."""
    kind = sniff(head)
    return kind.mime if kind is not None else UNKNOWN_TYPE


class ObjectNotFound(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object under key {key!r}")
        self.key = key


class InvalidKey(ValueError):
    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"invalid storage key {key!r}: {why}")
        self.key = key
        self.why = why


class Storage(Protocol):
    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str
    ) -> StoredObject:
        """Store the streamed bytes under `key`, replacing any object there, all or nothing.

        `content_type` is what the source declared: it is only compared with what the bytes are
        (a mismatch is logged); the stored object's type is sniffed from its first bytes.
        """
        ...

    # Declared without `async`: an async generator function returns its iterator when called,
    # so implementations written as `async def open(...): ... yield chunk` match this signature.
    def open(self, key: str, *, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; raises ObjectNotFound when iteration starts."""
        ...

    async def stat(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where the object lives on this machine (for FileResponse), None for remote stores.

        The path is where the object would be; whether it exists is for `stat` to say.
        """
        ...


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a canonical relative POSIX path, else raise InvalidKey."""
    if not key:
        raise InvalidKey(key, "empty")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot become a file name
        raise InvalidKey(key, "not valid Unicode") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"longer than {MAX_KEY_BYTES} bytes")
    # Control characters (NUL included) are refused: NUL truncates C paths, and newlines end up
    # in logs and headers. A backslash is a separator on Windows and in some URL parsers.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise InvalidKey(key, "contains a control character")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(key, "has an empty segment")
        if segment in (".", ".."):
            raise InvalidKey(key, f"has a {segment!r} segment")
        # Leading dots are reserved for the in-flight temp files beside each object, so no key
        # can ever name (or collide with) one of them.
        if segment.startswith("."):
            raise InvalidKey(key, "has a segment starting with '.'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(key, f"has a segment longer than {MAX_SEGMENT_BYTES} bytes")
    return key
