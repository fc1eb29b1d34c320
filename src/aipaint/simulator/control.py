"""The simulator's own routes, outside `/openapi`: result and upload files, counters, fault control.

Tests read the counters to prove what RunningHub saw ("this key submitted exactly one task"), and
script faults to make a given call fail in a given way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from aipaint.simulator.faults import ScriptedFault, Target, TransportFault
from aipaint.simulator.outputs import render
from aipaint.simulator.service import Rejected, Simulator
from aipaint.simulator.settings import Faults
from aipaint.simulator.state import SimTask, SimulatorState, mask_key

router = APIRouter(prefix="/simulator", tags=["simulator control"])
_EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)
_BAD_SIGNATURE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    b"<Message>The request signature we calculated does not match</Message></Error>"
)
_CONTENT_TYPES = {
    "png": "image/png",
    "mp4": "video/mp4",
    "mp3": "audio/mpeg",
    "glb": "model/gltf-binary",
}


def _sim(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


def _check_link(simulator: Simulator, path: str, expires: int, sig: str) -> Response | None:
    """An object-storage style refusal for a forged or expired link, else None."""
    if not simulator.link_valid(path, expires, sig):
        return Response(_BAD_SIGNATURE, status_code=403, media_type="application/xml")
    if simulator.state.clock() > expires:
        return Response(_EXPIRED, status_code=403, media_type="application/xml")
    return None


@router.get("/files/{task_id}/{name}", summary="A task's result file (signed, expiring link)")
async def result_file(
    task_id: str,
    name: str,
    request: Request,
    expires: int = Query(0),
    sig: str = Query(""),
) -> Response:
    simulator = _sim(request)
    refusal = _check_link(simulator, f"files/{task_id}/{name}", expires, sig)
    if refusal is not None:
        return refusal
    task = simulator.state.tasks.get(task_id)
    index, _, extension = name.partition(".")
    if task is None or not index.isdigit():
        raise HTTPException(404)
    pad = int(simulator.state.settings.output_pad_mb * 1024 * 1024) or None
    # Drawn and encoded on a thread: the API routes keep answering meanwhile, as RunningHub's do
    # while its CDN serves files (and the calls they count arrive when they are sent).
    output = await asyncio.to_thread(
        render, task.output_type, task.params, seed=task.seed + int(index), pad_to_bytes=pad
    )
    media_type = _CONTENT_TYPES.get(extension, output.content_type)
    return Response(output.data, media_type=media_type)


@router.get("/media/{name}", summary="An uploaded file (signed, expiring link)")
async def media_file(
    name: str, request: Request, expires: int = Query(0), sig: str = Query("")
) -> Response:
    simulator = _sim(request)
    refusal = _check_link(simulator, f"media/{name}", expires, sig)
    if refusal is not None:
        return refusal
    upload = simulator.state.uploads.get(name)
    if upload is None:
        raise HTTPException(404)
    return Response(upload.data, media_type=upload.content_type)


@router.get("/stats", summary="What the simulator saw: submits per key, faults, webhooks")
async def stats(request: Request) -> dict[str, Any]:
    state = _sim(request).state
    return {
        "submits_by_key": {mask_key(k): n for k, n in state.submits_by_key.items()},
        "submits": sum(state.submits_by_key.values()),
        "seeded_by_key": {mask_key(k): n for k, n in state.seeded_by_key.items()},
        "peak_active_by_key": {mask_key(k): n for k, n in state.peak_active_by_key.items()},
        "peak_calls_per_second_by_key": {
            mask_key(k): n for k, n in state.peak_calls_per_second_by_key.items()
        },
        "tasks": len(state.tasks),
        "requests": len(state.requests),
        "faults": dict(state.faults),
        "faults_by_call": dict(state.faults_by_call),
        "webhooks": dict(state.webhooks),
    }


@router.get("/tasks", summary="The truth about every task, for tests")
async def all_tasks(request: Request) -> dict[str, Any]:
    state = _sim(request).state
    return {"tasks": [_truth(state, task) for task in state.tasks.values()]}


@router.get("/tasks/{task_id}", summary="The truth about one task, for tests")
async def task_truth(task_id: str, request: Request) -> dict[str, Any]:
    state = _sim(request).state
    task = state.tasks.get(task_id)
    if task is None:
        raise HTTPException(404)
    return _truth(state, task)


def _truth(state: SimulatorState, task: SimTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "key": mask_key(task.key),
        "model": task.model_id,
        "status": task.status(state.clock()),
        "faults": task.faults,
        "created_at": task.created_at,
        "starts_at": task.starts_at,
        "ends_at": task.ends_at,
        "webhook_url": task.webhook_url,
        "webhook_deliveries": task.webhook_deliveries,
    }


class SeedIn(BaseModel):
    key: str
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    run_s: tuple[float, float] = Field(description="Nominal run time range, scaled by speed")
    webhook_urls: list[str | None] = Field(
        description="One per task to create (null: none)", max_length=100_000
    )


@router.post("/tasks", summary="Put tasks in flight at once, without submits (benchmarks)")
async def seed_tasks(body: SeedIn, request: Request) -> dict[str, Any]:
    simulator = _sim(request)
    low, high = body.run_s
    if not 0 <= low <= high:
        raise HTTPException(422, "run_s must be [low, high] with 0 <= low <= high")
    base = str(request.base_url).rstrip("/")
    try:
        tasks = simulator.seed(
            body.key, body.model, body.params, (low, high), body.webhook_urls, base
        )
    except Rejected as rejected:
        raise HTTPException(422, rejected.error[1]) from None
    return {"tasks": [{"id": task.id, "ends_at": task.ends_at} for task in tasks]}


class StatusIn(BaseModel):
    status: str | None


@router.put("/tasks/{task_id}/status", summary="Report a task's status as this string, verbatim")
async def force_status(task_id: str, body: StatusIn, request: Request) -> dict[str, Any]:
    state = _sim(request).state
    task = state.tasks.get(task_id)
    if task is None:
        raise HTTPException(404)
    task.forced_status = body.status
    return {"id": task.id, "status": task.status(state.clock())}


@router.get("/requests", summary="The request log (latest 10,000), with injected faults")
async def requests(request: Request, since: int = Query(0, ge=0)) -> dict[str, Any]:
    state = _sim(request).state
    return {"requests": [entry for entry in state.requests if entry["seq"] > since]}


@router.get("/faults", summary="The fault rates in force")
async def get_faults(request: Request) -> Faults:
    return _sim(request).injector.config


@router.put("/faults", summary="Replace the fault rates")
async def put_faults(faults: Faults, request: Request) -> Faults:
    simulator = _sim(request)
    simulator.injector.config = faults
    simulator.state.settings.faults = faults
    return faults


class ScriptIn(BaseModel):
    fault: TransportFault
    target: Target = "any"
    times: int = 1


@router.post("/faults/script", summary="Make the next matching call(s) fail in a given way")
async def script_fault(body: ScriptIn, request: Request) -> dict[str, Any]:
    injector = _sim(request).injector
    injector.script.extend(ScriptedFault(body.fault, body.target) for _ in range(body.times))
    return {"scripted": len(injector.script)}


@router.get("/health", summary="The simulator is up")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "simulator": True, "speed": _sim(request).state.settings.speed}
