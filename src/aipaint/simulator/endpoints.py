"""RunningHub's OpenAPI v2 routes, as the simulator serves them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, UploadFile
from starlette.responses import JSONResponse, Response

from aipaint.simulator import wire
from aipaint.simulator.service import Rejected, Simulator

router = APIRouter(tags=["RunningHub OpenAPI v2 (simulated)"])
Authorization = Annotated[str | None, Header()]


def _sim(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise Rejected(wire.INVALID_PARAMS, "the body is not JSON") from None


def _note_task(request: Request, task_id: str) -> None:
    entry = getattr(request.state, "sim_request", None)
    if entry is not None:
        entry["task_id"] = task_id


@router.post("/openapi/v2/query")
async def query(request: Request, authorization: Authorization = None) -> Response:
    simulator = _sim(request)
    try:
        key = simulator.authenticate(authorization, standard_model=False)
        body = await _json(request)
        task_id = body.get("taskId") or body.get("task_id") if isinstance(body, dict) else None
        task = simulator.find(key, task_id)
    except Rejected as rejected:
        return wire.v2_error(rejected.error, rejected.detail)
    _note_task(request, task.id)
    return JSONResponse(simulator.query_body(task))


@router.post("/openapi/v2/media/upload/binary")
async def upload(
    request: Request, file: UploadFile | None = None, authorization: Authorization = None
) -> Response:
    simulator = _sim(request)
    try:
        simulator.authenticate(authorization, standard_model=False)
    except Rejected:
        return wire.envelope(wire.UNAUTHORIZED[0], wire.UNAUTHORIZED[1], None, "message")
    if file is None:
        return wire.envelope(808, "APIKEY_UPLOAD_FAILED: multipart field `file` is missing", None)
    data = await file.read()
    content_type = file.content_type or "application/octet-stream"
    try:
        uploaded = simulator.upload(data, file.filename or "upload", content_type, _base(request))
    except Rejected as rejected:
        return wire.envelope(int(rejected.error[0]), rejected.error[1], None, "message")
    return wire.envelope(0, "success", uploaded, "message")


@router.get("/openapi/v2/queue/status")
async def queue_status(request: Request, authorization: Authorization = None) -> Response:
    simulator = _sim(request)
    try:
        key = simulator.authenticate(authorization, standard_model=False)
    except Rejected:
        return wire.envelope(wire.UNAUTHORIZED[0], wire.UNAUTHORIZED[1], None)
    return wire.envelope(0, "success", simulator.queue_status(key))


@router.post("/openapi/v2/price-preview/{model_id:path}")
async def price_preview(
    model_id: str, request: Request, authorization: Authorization = None
) -> Response:
    simulator = _sim(request)
    try:
        simulator.authenticate(authorization, standard_model=True)
        return JSONResponse(simulator.price_preview(model_id, await _json(request)))
    except Rejected as rejected:
        code, message = rejected.error
        detail = f"{message}: {rejected.detail}" if rejected.detail else message
        return JSONResponse({"errorCode": code, "errorMessage": detail, "estimatedPrice": None})


@router.post("/uc/openapi/accountStatus")
async def account_status(request: Request, authorization: Authorization = None) -> Response:
    simulator = _sim(request)
    try:
        key = simulator.authenticate(authorization, standard_model=False)
        body = await _json(request)
    except Rejected:
        return wire.envelope(wire.UNAUTHORIZED[0], wire.UNAUTHORIZED[1], None)
    # The account call names the key twice: Bearer header and a lower-case `apikey` in the body.
    if not isinstance(body, dict) or body.get("apikey") != key:
        return wire.envelope(wire.UNAUTHORIZED[0], wire.UNAUTHORIZED[1], None)
    return wire.envelope(0, "success", simulator.account_status(key))


@router.post("/openapi/v2/{model_id:path}")
async def submit(model_id: str, request: Request, authorization: Authorization = None) -> Response:
    simulator = _sim(request)
    try:
        key = simulator.authenticate(authorization, standard_model=True)
        body = simulator.submit(key, model_id, await _json(request), _base(request))
    except Rejected as rejected:
        return wire.v2_error(rejected.error, rejected.detail)
    _note_task(request, body["taskId"])
    return JSONResponse(body)
