"""`POST /v1/uploads`: a file for image / video / audio params."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile

from aipaint.accounts.dependencies import CurrentUser
from aipaint.catalog.errors import ModelNotFound
from aipaint.runtime import Runtime
from aipaint.uploads.service import UploadInvalid, upload_bytes

router = APIRouter(tags=["uploads"])
UPLOADS_PATH = "/v1/uploads"


@router.post(UPLOADS_PATH, summary="Upload a file; returns a URL usable in media params")
async def create_upload(
    request: Request,
    who: CurrentUser,
    file: UploadFile,
    model: Annotated[str | None, Form(description="Model the file is for (its size limit)")] = None,
    param: Annotated[str | None, Form(description="Param the file is for (its formats)")] = None,
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    spec = runtime.catalog.get(model) if model else None
    spec_param = spec.param(param) if spec is not None and param else None
    if spec is not None and param and spec_param is None:
        raise ModelNotFound(f"{model}#{param}")
    data = await file.read()
    if not data:
        raise UploadInvalid("the file is empty")
    return await upload_bytes(runtime, data, file.filename or "upload", spec=spec, param=spec_param)
