"""`POST /v1/uploads`: a file for image / video / audio params, streamed to disk as it arrives."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from aipaint.accounts.dependencies import CurrentUser
from aipaint.catalog.errors import ModelNotFound
from aipaint.catalog.schemas import ModelSpec, ParamSpec
from aipaint.runtime import Runtime
from aipaint.uploads.receiving import MB, receive
from aipaint.uploads.service import largest_upload_mb, size_limit_mb, upload_file

router = APIRouter(tags=["uploads"])
UPLOADS_PATH = "/v1/uploads"
# The form, described by hand: the route reads it from the stream itself (after the token is
# checked, and never into memory), so FastAPI does not know it.
FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "model": {
                            "type": "string",
                            "description": "Model the file is for (its size limit); send it "
                            "before the file, so the limit applies as the file arrives",
                        },
                        "param": {
                            "type": "string",
                            "description": "Param the file is for (its formats and size)",
                        },
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    UPLOADS_PATH,
    summary="Upload a file; returns a URL usable in media params",
    openapi_extra=FORM,
)
async def create_upload(request: Request, _: CurrentUser) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    largest = largest_upload_mb(runtime.settings, runtime.catalog)

    def limit(fields: dict[str, str]) -> int:
        """The largest file the fields received so far allow, in bytes."""
        if "model" not in fields:
            return int(largest * MB)  # the model may still come, after the file
        spec, param = _target(runtime, fields)
        return int(size_limit_mb(runtime.settings, spec, param) * MB)

    async with receive(request, limit) as received:
        spec, param = _target(runtime, received.fields)
        return await upload_file(runtime, received, spec=spec, param=param)


def _target(runtime: Runtime, fields: dict[str, str]) -> tuple[ModelSpec | None, ParamSpec | None]:
    """The model and param the form names, if any; an unknown one is refused."""
    model, param = fields.get("model"), fields.get("param")
    spec = runtime.catalog.get(model) if model else None
    spec_param = spec.param(param) if spec is not None and param else None
    if spec is not None and param and spec_param is None:
        raise ModelNotFound(f"{model}#{param}")
    return spec, spec_param
