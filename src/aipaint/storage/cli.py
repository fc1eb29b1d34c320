"""`aipaint storage check | copy`: is the configured store usable, and move a local archive to S3.

`check` writes, reads back and deletes a probe object, and says in one line what is wrong.
`copy --to s3://…` sends every object of the local archive, verifying each one's sha256 against
what the database recorded at archival (an upload's is its name) and against what arrived; an
object already there with the right sha256 is skipped, so it can be re-run after any failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from aipaint.config import Settings, get_settings
from aipaint.db import create_engine, database_url, migrate, reading, session_factory
from aipaint.kit.sniff import HEAD_BYTES
from aipaint.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageUnavailable,
    s3_options,
    storage_from_settings,
    storage_from_url,
)
from aipaint.storage.base import UNKNOWN_TYPE, content_type_of

storage_app = typer.Typer(
    help="Check the configured storage; copy a local archive to S3.", no_args_is_help=True
)
T = TypeVar("T")
PROBE = b"aipaint storage check\n"
READ_BYTES = 1 << 20


@storage_app.command("check")
def check() -> None:
    """Write, read back and delete a probe object in the configured storage
    (AIPAINT_STORAGE_URL); exit 0 when all is well, else say in one line what is wrong."""
    settings = get_settings()
    storage = _configured(settings, "check")
    _run("check", storage, lambda: _probe(storage))
    typer.echo(f"storage ok: {_describe(storage)} (a probe object written, read and deleted)")


@storage_app.command("copy")
def copy(
    to: Annotated[str, typer.Option("--to", help="Where to: s3://bucket/prefix")],
) -> None:
    """Copy the local archive to S3, verifying every sha256; objects already there with the
    right sha256 are skipped, so it can be re-run. Then point AIPAINT_STORAGE_URL at it."""
    settings = get_settings()
    source = _configured(settings, "copy")
    if not isinstance(source, LocalStorage):
        _fail("copy", f"the configured storage {_describe(source)} is not a local archive", 2)
    try:
        target = storage_from_url(to, s3_options(settings))
    except ValueError as error:
        _fail("copy", str(error), 2)
    if not isinstance(target, S3Storage):
        _fail("copy", f"--to takes an s3:// URL, not {to!r}", 2)
    report = _run("copy", target, lambda: _copy(settings, source, target))
    for line in report.failures:
        typer.echo(f"failed: {line}", err=True)
    typer.echo(
        f"copied {report.copied}, already there {report.skipped}, failed {len(report.failures)}"
        f" ({_describe(source)} -> {_describe(target)})"
    )
    if report.failures:
        raise typer.Exit(1)


# --- check -------------------------------------------------------------------------------------


async def _probe(storage: Storage) -> None:
    key = f"aipaint-check/{secrets.token_hex(8)}.txt"

    async def body() -> AsyncIterator[bytes]:
        yield PROBE

    await storage.put(key, body(), content_type=UNKNOWN_TYPE)
    try:
        read = b"".join([chunk async for chunk in storage.open(key)])
        if read != PROBE:
            raise StorageUnavailable("the probe object read back differs from what was written")
    finally:
        await storage.delete(key)


# --- copy --------------------------------------------------------------------------------------


@dataclass
class CopyReport:
    copied: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


async def _copy(settings: Settings, source: LocalStorage, target: S3Storage) -> CopyReport:
    recorded = await _recorded(settings)
    report = CopyReport()
    for key in source.walk():
        path = source.local_path(key)
        sha256, head = await asyncio.to_thread(_hash_file, path)
        expected = recorded.get(key) or _named_sha256(key)
        if expected is not None and expected != sha256:
            report.failures.append(f"{key}: the local file's sha256 is not the one recorded")
            continue
        if await target.sha256(key) == sha256:
            report.skipped += 1
            continue
        stored = await target.put(key, source.open(key, chunk_size=READ_BYTES), content_type=head)
        if stored.sha256 != sha256 or await target.sha256(key) != sha256:
            report.failures.append(f"{key}: the copy's sha256 differs (changed while copying?)")
            continue
        report.copied += 1
    return report


async def _recorded(settings: Settings) -> dict[str, str]:
    """The sha256 recorded for each archived output's key, from the configured database."""
    from aipaint.task import repository  # the outputs' SQL lives with the tasks

    engine = create_engine(database_url(settings))
    try:
        await migrate(engine)
        async with reading(session_factory(engine)) as session:
            return await repository.archived_checksums(session)
    finally:
        await engine.dispose()


def _named_sha256(key: str) -> str | None:
    """An upload is kept as `uploads/<sha256>.<ext>`: its name is its checksum."""
    folder, _, name = key.partition("/")
    stem = name.split(".", 1)[0]
    if folder == "uploads" and len(stem) == 64:
        return stem
    return None


def _hash_file(path: Path | None) -> tuple[str, str]:
    """The file's sha256 and the content type its first bytes show."""
    assert path is not None
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
        file.seek(0)
        return hashlib.file_digest(file, "sha256").hexdigest(), content_type_of(head)


# --- shared ------------------------------------------------------------------------------------


def _configured(settings: Settings, command: str) -> Storage:
    try:
        return storage_from_settings(settings)
    except ValueError as error:
        _fail(command, f"AIPAINT_STORAGE_URL: {error}", 2)


def _run(command: str, storage: Storage, work: Callable[[], Awaitable[T]]) -> T:
    """`work()` run to its end, `storage` closed after it; its failure said in one line."""

    async def main() -> T:
        try:
            return await work()
        finally:
            await storage.aclose()

    try:
        return asyncio.run(main())
    except StorageUnavailable as error:
        _fail(command, f"{_describe(storage)}: {error.reason}", 1)
    except OSError as error:  # a local directory that cannot be written
        _fail(command, f"{_describe(storage)}: {error.strerror or error}", 1)


def _describe(storage: Storage) -> str:
    if isinstance(storage, S3Storage):
        return storage.url
    if isinstance(storage, LocalStorage):
        return storage.root.as_uri()
    return repr(storage)


def _fail(command: str, message: str, code: int) -> NoReturn:
    typer.echo(f"aipaint storage {command}: {message}", err=True)
    raise typer.Exit(code)
