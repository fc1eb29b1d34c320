"""`GET /files/...`: archived outputs, for their owner's token or a signed, expiring link."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from aipaint.accounts.dependencies import current_user
from aipaint.accounts.service import NotAuthenticated
from aipaint.db import reading
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.runtime import Runtime
from aipaint.task import repository

router = APIRouter(tags=["files"])


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
    index_text, _, _ = name.partition(".")
    if not index_text.isdigit():
        raise FileNotFound()
    async with reading(runtime.sessions) as session:
        task = await repository.get(session, task_id)
        output = await repository.output(session, task_id, int(index_text)) if task else None
    if task is None or output is None or not output.archived or output.storage_key is None:
        raise FileNotFound()
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
    if await runtime.storage.stat(output.storage_key) is None:
        raise FileNotFound()  # recorded but gone from storage: a 404, not a broken stream
    media_type = output.content_type or "application/octet-stream"
    path = runtime.storage.local_path(output.storage_key)
    if path is not None:
        return FileResponse(path, media_type=media_type)
    return StreamingResponse(runtime.storage.open(output.storage_key), media_type=media_type)
