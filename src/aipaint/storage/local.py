"""Objects as files under one directory, written so that a crash never leaves a partial object.

`put` streams into a temp file beside the final one (same directory, hence same filesystem, so
the rename is atomic), hashes while writing, fsyncs, then renames into place. Readers therefore
see the old object or the new one, never a torn write. All disk work runs in worker threads so
the event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Final

import anyio
import anyio.to_thread
import structlog

from aipaint.kit.sniff import HEAD_BYTES
from aipaint.storage.base import (
    ObjectNotFound,
    StoredObject,
    check_range,
    recorded_type,
    validate_key,
)

__all__ = ["LocalStorage"]

log = structlog.get_logger(__name__)

# Small chunks (64 KiB from an HTTP body) are gathered up to this much before one thread hop
# writes them: fewer hops, and memory stays bounded by this, not by the object's size.
WRITE_BUFFER_BYTES: Final = 1 << 20
TEMP_SUFFIX: Final = ".part"

_MISSING: Final = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        # abspath, not resolve(): no disk access here, and a later chdir cannot move the store.
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str
    ) -> StoredObject:
        path = self._path(key)
        # Shielded: a cancel landing while the thread creates the file would otherwise lose the
        # handle and leak the temp file; after this, the `finally` below owns the cleanup.
        with anyio.CancelScope(shield=True):
            temp, file = await anyio.to_thread.run_sync(_create_temp, path)
        digest = hashlib.sha256()
        size = 0
        head = b""
        committed = False
        try:
            buffer = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                if not buffer and len(chunk) >= WRITE_BUFFER_BYTES:
                    # A big chunk goes straight out: copying it into the buffer would double it.
                    await anyio.to_thread.run_sync(_write, file, digest, chunk)
                    continue
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER_BYTES:
                    # The producer is not pulled again until this write returns, so the buffer
                    # is never mutated while the thread reads it.
                    await anyio.to_thread.run_sync(_write, file, digest, buffer)
                    buffer.clear()
            if buffer:
                await anyio.to_thread.run_sync(_write, file, digest, buffer)
            await anyio.to_thread.run_sync(_commit, file, temp, path)
            committed = True
        finally:
            if not committed:
                # Shielded so a cancelled put still removes its temp file. Threads started by
                # to_thread are never abandoned on cancel, so no write can still be running.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(_discard, file, temp)
        recorded = recorded_type(key, head, content_type)
        return StoredObject(key=key, size=size, sha256=digest.hexdigest(), content_type=recorded)

    def open(
        self, key: str, *, chunk_size: int = 1 << 16, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        # A plain method around the generator so a bad key or chunk size fails at the call site;
        # a missing object can only be noticed when reading starts.
        check_range(chunk_size, start, end)
        return self._read(key, self._path(key), chunk_size, start, end)

    async def _read(
        self, key: str, path: Path, chunk_size: int, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        try:
            file = await anyio.to_thread.run_sync(_open_for_reading, path, start)
        except _MISSING as error:
            raise ObjectNotFound(key) from error
        remaining = None if end is None else end - start
        try:
            while remaining != 0:
                size = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = await anyio.to_thread.run_sync(file.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            # Closing a read-only file does no disk work worth a thread, and a synchronous
            # close also runs when the generator is closed without an event loop.
            file.close()

    async def stat(self, key: str) -> int | None:
        return await anyio.to_thread.run_sync(_file_size, self._path(key))

    async def delete(self, key: str) -> None:
        # Empty parent directories are left in place: removing them could race a concurrent
        # put that has just created them.
        await anyio.to_thread.run_sync(_unlink_if_present, self._path(key))

    async def presigned_url(
        self, key: str, *, expires_s: int, content_type: str, filename: str
    ) -> str | None:
        return None  # files on disk are served by `/files` itself

    async def aclose(self) -> None:
        pass

    def walk(self) -> Iterator[str]:
        """Every object's key (temp files of puts in flight left out), for `storage copy`."""
        for directory, names, files in os.walk(self.root):
            names[:] = sorted(n for n in names if not n.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    path = Path(directory, name).relative_to(self.root)
                    yield path.as_posix()


# Everything below runs in worker threads.


def _create_temp(path: Path) -> tuple[Path, IO[bytes]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keys never have segments starting with ".", so this name cannot collide with an object;
    # the random part keeps concurrent puts of the same key apart.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
    # 0o644 (less the umask) like any file the process creates; mkstemp's 0o600 would hide
    # archived outputs from a separate web server process.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    return temp, os.fdopen(fd, "wb")


def _write(file: IO[bytes], digest: hashlib._Hash, data: bytes | bytearray) -> None:
    # sha256 releases the GIL on large inputs, so hashing here keeps it off the event loop too.
    digest.update(data)
    file.write(data)


def _commit(file: IO[bytes], temp: Path, path: Path) -> None:
    file.flush()
    os.fsync(file.fileno())  # the data is on disk before the name points at it
    file.close()
    os.replace(temp, path)
    _fsync_directory(path.parent)  # and the rename itself survives a power cut


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # platforms without O_DIRECTORY or directory fsync: best effort
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(file: IO[bytes], temp: Path) -> None:
    file.close()
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def _open_for_reading(path: Path, start: int) -> IO[bytes]:
    file = path.open("rb")
    if start:
        file.seek(start)
    return file


def _file_size(path: Path) -> int | None:
    try:
        info = path.stat()
    except _MISSING:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _unlink_if_present(path: Path) -> None:
    with contextlib.suppress(*_MISSING):
        path.unlink()
