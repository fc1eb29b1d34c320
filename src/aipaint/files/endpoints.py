"""`GET /files/...`: archived outputs, for their owner's token or a signed, expiring link.

Local files are served by FileResponse; objects in S3 are streamed through (with single byte
ranges, for video seeking), or with AIPAINT_S3_PRESIGN answered by a redirect to a short-lived
presigned URL, once the token or the link's signature has been checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from aipaint.accounts.dependencies import current_user
from aipaint.accounts.service import NotAuthenticated
from aipaint.db import reading
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.sniff import MEDIA_TYPES
from aipaint.models import Output, Task
from aipaint.runtime import Runtime
from aipaint.storage import UNKNOWN_TYPE, ObjectNotFound, Storage
from aipaint.task import repository

router = APIRouter(tags=["files"])
_NAME = re.compile(r"([0-9]{1,6})\.([A-Za-z0-9]{1,10})")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileNotFound(AipaintError):
    """No such file, or not the caller's: both answer alike."""

    status_code = 404
    code = "file_not_found"

    def __init__(self) -> None:
        super().__init__(Text(zh="文件不存在。", en="File not found."))


@router.get("/files/{task_id}/{name}", summary="An archived output")
async def get_file(
    task_id: str,
    name: str,
    request: Request,
    expires: Annotated[int | None, Query()] = None,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    runtime: Runtime = request.app.state.runtime
    # ASCII digits only ("²" is a digit to str.isdigit), and few enough to fit the column.
    parsed = _NAME.fullmatch(name)
    if parsed is None:
        raise FileNotFound()
    async with reading(runtime.sessions) as session:
        task = await repository.get(session, task_id)
        output = await repository.output(session, task_id, int(parsed[1])) if task else None
    if task is None or output is None or not output.archived or output.storage_key is None:
        raise FileNotFound()
    if parsed[2] != output.type:
        raise FileNotFound()  # the name of an output is its index and its own extension
    signed = (
        expires is not None
        and sig is not None
        and expires > time.time()
        and runtime.verify("file", f"{task_id}/{name}:{expires}", sig)
    )
    if not signed:
        try:
            who = await current_user(request)
        except NotAuthenticated:
            raise FileNotFound() from None
        if not (who.is_admin or who.user_id == task.user_id):
            raise FileNotFound()
    storage = runtime.storage
    size = await storage.stat(output.storage_key)
    if size is None:
        raise FileNotFound()  # recorded but gone from storage: a 404, not a broken stream
    # The type recorded from the bytes at archival. A row archived before types were sniffed may
    # hold the one RunningHub sent: anything but a media type is served as opaque bytes.
    media_type = output.content_type if output.content_type in MEDIA_TYPES else UNKNOWN_TYPE
    name = file_name(task, output)
    path = storage.local_path(output.storage_key)
    if path is not None:
        headers = {"Content-Disposition": f'inline; filename="{name}"'}
        return FileResponse(path, media_type=media_type, headers=headers)
    redirect = await storage.presigned_url(
        output.storage_key,
        expires_s=runtime.settings.s3_presign_ttl_s,
        content_type=media_type,
        filename=name,
    )
    if redirect is not None:
        return RedirectResponse(redirect, status_code=307, headers={"Cache-Control": "no-store"})
    return await stream(storage, output.storage_key, size, media_type, name, request)


async def stream(
    storage: Storage, key: str, size: int, media_type: str, name: str, request: Request
) -> Response:
    """An object from a remote store, whole or one byte range of it (206, or 416 as
    FileResponse answers for local files). Several ranges, or an If-Range this route cannot
    check, get the whole object: RFC 9110 lets a server ignore Range."""
    headers = {
        "Content-Disposition": f'inline; filename="{name}"',
        "Accept-Ranges": "bytes",
    }
    status, start, end = 200, 0, size
    wanted = request.headers.get("range")
    if wanted and "if-range" not in request.headers:
        try:
            ranges = FileResponse._parse_range_header(wanted, size)
        except MalformedRangeHeader as malformed:
            return PlainTextResponse(malformed.content, status_code=400)
        except RangeNotSatisfiable:
            return PlainTextResponse(
                "", status_code=416, headers={"Content-Range": f"bytes */{size}"}
            )
        if len(ranges) == 1:
            (start, end), status = ranges[0], 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    chunks = storage.open(key, start=start, end=end)
    # The first chunk is read before the answer starts, so a store that fails now is a clean
    # error answer (404, 503), not a stream broken after its headers.
    try:
        first = await anext(chunks, b"")
    except ObjectNotFound:
        raise FileNotFound() from None  # deleted since it was looked up
    return StreamingResponse(
        _prepend(first, chunks), status_code=status, media_type=media_type, headers=headers
    )


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


def file_name(task: Task, output: Output) -> str:
    """What a saved file is called: model, task and index, e.g.
    `alibaba-wan-2.7-text-to-image_tsk_01k…_0.png`; ASCII, so no header encoding is needed."""
    model = _UNSAFE.sub("-", task.model).strip("-") or "output"
    return f"{model}_{task.id}_{output.index}.{output.type}"
