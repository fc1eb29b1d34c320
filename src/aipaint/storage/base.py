"""What every object store offers the archiver and the file routes: put, open, stat, delete.

Two stores implement it: `LocalStorage` (files under a directory) and `S3Storage` (any
S3-compatible service). Callers never ask which one they hold.

Keys are relative POSIX paths ("tasks/01J…/0.png") chosen by aipaint, never by a user, so a key
that could climb out of its store or mean two different objects is a bug and is refused loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import structlog

from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.sniff import sniff

__all__ = [
    "UNKNOWN_TYPE",
    "BucketMissing",
    "CredentialsRefused",
    "InvalidKey",
    "ObjectNotFound",
    "Storage",
    "StorageUnavailable",
    "StorageUnreachable",
    "StoredObject",
    "check_range",
    "content_type_of",
    "validate_key",
]

log = structlog.get_logger(__name__)

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


def recorded_type(key: str, head: bytes, declared: str) -> str:
    """`content_type_of(head)`, logging when it is not what the source declared."""
    recorded = content_type_of(head)
    if recorded != declared.partition(";")[0].strip().lower():
        log.info("content_type_mismatch", key=key, declared=declared, recorded=recorded)
    return recorded


class ObjectNotFound(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object under key {key!r}")
        self.key = key


class InvalidKey(ValueError):
    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"invalid storage key {key!r}: {why}")
        self.key = key
        self.why = why


class StorageUnavailable(AipaintError):
    """The store refused or could not be reached: a 503 for an API client, a retry for the
    archiver, one line for `aipaint storage check`. `reason` says what is wrong, in English."""

    status_code = 503
    code = "storage_unavailable"

    def __init__(self, reason: str, *, zh: str = "存储服务出错") -> None:
        self.reason = reason
        message = Text(zh=f"文件存储不可用：{zh}。", en=f"File storage is unavailable: {reason}.")
        super().__init__(message)


class BucketMissing(StorageUnavailable):
    """The bucket named by AIPAINT_STORAGE_URL does not exist."""

    def __init__(self, bucket: str) -> None:
        super().__init__(f"the bucket {bucket!r} does not exist", zh=f"存储桶 {bucket!r} 不存在")


class CredentialsRefused(StorageUnavailable):
    """No credentials, or the service refused them."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the credentials were refused ({detail})", zh="凭证被拒绝")


class StorageUnreachable(StorageUnavailable):
    """The endpoint did not answer (wrong address, down, or a network in between)."""

    def __init__(self, endpoint: str, detail: str) -> None:
        reason = f"the endpoint {endpoint} is unreachable ({detail})"
        super().__init__(reason, zh="无法连接存储服务")


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
    def open(
        self, key: str, *, chunk_size: int = 1 << 16, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The object's bytes in chunks, from `start` up to `end` (exclusive; None: to the end);
        raises ObjectNotFound when iteration starts."""
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

    async def presigned_url(
        self, key: str, *, expires_s: int, content_type: str, filename: str
    ) -> str | None:
        """A short-lived URL a browser can fetch the object from directly, or None when this
        store has none to give (or is not configured to)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


def check_range(chunk_size: int, start: int, end: int | None) -> None:
    """Refuse a chunk size or byte range no `open` can honour, at the call site."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range {start}..{end}")


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
