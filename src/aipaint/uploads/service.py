"""Uploads: checked by size and real content (the header decoded), kept in aipaint's storage
(`uploads/<sha256>.<ext>`, beside the archived outputs), forwarded to RunningHub from disk,
cached by sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from aipaint.catalog.schemas import ModelSpec, ParamSpec
from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.db import reading, transaction
from aipaint.kit.probe import NotMedia, probe
from aipaint.kit.sniff import HEAD_BYTES, sniff
from aipaint.models import Upload
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.storage import Storage
from aipaint.task import repository
from aipaint.uploads.errors import UploadInvalid
from aipaint.uploads.receiving import Received

# UploadInvalid is part of this module's interface: the tasks feature raises it for data URIs.
__all__ = [
    "UploadInvalid",
    "keep",
    "largest_upload_mb",
    "size_limit_mb",
    "upload_bytes",
    "upload_file",
]

MB = 1024 * 1024
READ_BYTES = MB
# RunningHub keeps an upload one day; reuse a cached link only while a task can still use it.
LINK_LIFETIME = timedelta(days=1)
REUSE_MARGIN = timedelta(hours=2)
_SAME_FORMAT = {"jpg": {"JPG", "JPEG"}, "jpeg": {"JPG", "JPEG"}, "mov": {"MOV", "QT"}}


def size_limit_mb(settings: Settings, spec: ModelSpec | None, param: ParamSpec | None) -> float:
    """The param's own limit, else the largest of the model's file params, else the default."""
    if param is not None and param.max_size_mb:
        return param.max_size_mb
    if spec is not None:
        limits = [p.max_size_mb for p in spec.params if p.max_size_mb]
        if limits:
            return max(limits)
    return settings.upload_max_mb


def largest_upload_mb(settings: Settings, catalog: Catalog) -> float:
    """The largest file any upload may be: the default limit, or a param's own if larger."""
    limits = [p.max_size_mb for spec in catalog.search() for p in spec.params if p.max_size_mb]
    return max([settings.upload_max_mb, *limits])


async def upload_file(
    runtime: Runtime,
    received: Received,
    *,
    spec: ModelSpec | None = None,
    param: ParamSpec | None = None,
) -> dict[str, Any]:
    """Check a received file and forward it to RunningHub (from disk), unless the same bytes
    went up recently: the answer of `POST /v1/uploads`."""
    limit = size_limit_mb(runtime.settings, spec, param)
    if received.size > limit * MB:
        raise UploadInvalid(
            f"{received.size / MB:.1f} MB is over the {limit:g} MB limit", status_code=413
        )
    if received.size == 0:
        raise UploadInvalid("the file is empty")
    kind = sniff(received.head)
    if kind is None:
        raise UploadInvalid("not an image, video or audio file", status_code=415)
    if param is not None:
        if param.type.media is not None and kind.media != param.type.media:
            raise UploadInvalid(f"a {kind.media} file, but {param.name} takes {param.type.media}")
        accepted = set(param.accept or [])
        if accepted and not (_SAME_FORMAT.get(kind.extension, {kind.extension.upper()}) & accepted):
            raise UploadInvalid(f"{kind.extension} is not one of {', '.join(sorted(accepted))}")
    try:
        await anyio.to_thread.run_sync(probe, received.path, kind)
    except NotMedia as not_media:
        raise UploadInvalid(str(not_media), status_code=415) from None
    await keep(runtime.storage, received.path, received.sha256, kind.extension, kind.mime)
    now = utc_now()
    async with reading(runtime.sessions) as session:
        cached = await repository.cached_upload(session, received.sha256, now + REUSE_MARGIN)
    if cached is None:
        stem = received.filename.rsplit(".", 1)[0] or "upload"
        with received.path.open("rb") as file:
            uploaded = await runtime.upstream.upload(file, f"{stem}.{kind.extension}", kind.mime)
        cached = Upload(
            sha256=received.sha256,
            url=uploaded.download_url,
            file_name=uploaded.file_name,
            content_type=kind.mime,
            size=received.size,
            expires_at=now + LINK_LIFETIME,
        )
        async with transaction(runtime.sessions) as session:
            await repository.save_upload(session, cached)
    return {
        "url": cached.url,
        "expires_at": cached.expires_at.isoformat(),
        "sha256": received.sha256,
        "size": cached.size,
        "content_type": cached.content_type,
    }


async def keep(storage: Storage, path: Path, sha256: str, extension: str, mime: str) -> str:
    """The upload's key in storage, where it is stored once: the key is its content."""
    key = f"uploads/{sha256}.{extension}"
    if await storage.stat(key) is None:
        await storage.put(key, _chunks(path), content_type=mime)
    return key


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(READ_BYTES):
            yield chunk


async def upload_bytes(
    runtime: Runtime,
    data: bytes,
    filename: str,
    *,
    spec: ModelSpec | None = None,
    param: ParamSpec | None = None,
) -> dict[str, Any]:
    """`upload_file` for bytes already in memory (a data URI's), through a temporary file."""
    path = Path(await anyio.to_thread.run_sync(_write_temp, data))
    try:
        received = Received(
            path, filename, len(data), hashlib.sha256(data).hexdigest(), data[:HEAD_BYTES], {}
        )
        return await upload_file(runtime, received, spec=spec, param=param)
    finally:
        path.unlink(missing_ok=True)


def _write_temp(data: bytes) -> str:
    descriptor, name = tempfile.mkstemp(prefix="aipaint-upload-")
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return name
