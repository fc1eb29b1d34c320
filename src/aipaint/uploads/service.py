"""Uploads: checked by size and real content type, forwarded to RunningHub, cached by sha256."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from aipaint.catalog.schemas import ModelSpec, ParamSpec
from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.db import reading, transaction
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.sniff import HEAD_BYTES, sniff
from aipaint.models import Upload
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.task import repository

MB = 1024 * 1024
# RunningHub keeps an upload one day; reuse a cached link only while a task can still use it.
LINK_LIFETIME = timedelta(days=1)
REUSE_MARGIN = timedelta(hours=2)
_SAME_FORMAT = {"jpg": {"JPG", "JPEG"}, "jpeg": {"JPG", "JPEG"}, "mov": {"MOV", "QT"}}


class UploadInvalid(AipaintError):
    """The file is too large, not a media file, or not a format the parameter accepts."""

    status_code = 422
    code = "invalid_upload"

    def __init__(self, reason: str, *, status_code: int = 422) -> None:
        self.reason = reason
        self.status_code = status_code
        super().__init__(Text(zh=f"文件不可用：{reason}", en=f"The file cannot be used: {reason}"))


def size_limit_mb(runtime: Runtime, spec: ModelSpec | None, param: ParamSpec | None) -> float:
    """The param's own limit, else the largest of the model's file params, else 30 MB."""
    if param is not None and param.max_size_mb:
        return param.max_size_mb
    if spec is not None:
        limits = [p.max_size_mb for p in spec.params if p.max_size_mb]
        if limits:
            return max(limits)
    return runtime.settings.upload_max_mb


def largest_upload_mb(settings: Settings, catalog: Catalog) -> float:
    """The largest file any upload may be: the default limit, or a param's own if larger."""
    limits = [p.max_size_mb for spec in catalog.search() for p in spec.params if p.max_size_mb]
    return max([settings.upload_max_mb, *limits])


async def upload_bytes(
    runtime: Runtime,
    data: bytes,
    filename: str,
    *,
    spec: ModelSpec | None = None,
    param: ParamSpec | None = None,
) -> dict[str, Any]:
    limit = size_limit_mb(runtime, spec, param)
    if len(data) > limit * MB:
        raise UploadInvalid(
            f"{len(data) / MB:.1f} MB is over the {limit:g} MB limit", status_code=413
        )
    kind = sniff(data[:HEAD_BYTES])
    if kind is None:
        raise UploadInvalid("not an image, video or audio file", status_code=415)
    if param is not None:
        if param.type.media is not None and kind.media != param.type.media:
            raise UploadInvalid(f"a {kind.media} file, but {param.name} takes {param.type.media}")
        accepted = set(param.accept or [])
        if accepted and not (_SAME_FORMAT.get(kind.extension, {kind.extension.upper()}) & accepted):
            raise UploadInvalid(f"{kind.extension} is not one of {', '.join(sorted(accepted))}")
    digest = hashlib.sha256(data).hexdigest()
    now = utc_now()
    async with reading(runtime.sessions) as session:
        cached = await repository.cached_upload(session, digest, now + REUSE_MARGIN)
    if cached is None:
        stem = filename.rsplit(".", 1)[0] or "upload"
        uploaded = await runtime.upstream.upload(data, f"{stem}.{kind.extension}", kind.mime)
        cached = Upload(
            sha256=digest,
            url=uploaded.download_url,
            file_name=uploaded.file_name,
            content_type=kind.mime,
            size=len(data),
            expires_at=now + LINK_LIFETIME,
        )
        async with transaction(runtime.sessions) as session:
            await repository.save_upload(session, cached)
    return {
        "url": cached.url,
        "expires_at": cached.expires_at.isoformat(),
        "sha256": digest,
        "size": cached.size,
        "content_type": cached.content_type,
    }
