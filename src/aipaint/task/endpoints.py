"""HTTP routes of tasks: create, read, list, follow (SSE), cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from aipaint.accounts.dependencies import CurrentUser
from aipaint.requests import StrictJSONRoute
from aipaint.task.schemas import RunTimes, TaskCreate, TaskList, TaskRead
from aipaint.task.service import TaskService
from aipaint.task.state import TaskStatus
from aipaint.webhooks.schemas import DeliveryList, DeliveryRead

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], route_class=StrictJSONRoute)
run_times_router = APIRouter(prefix="/v1", tags=["tasks"])
# An SSE stream re-reads its task at least this often, and sends a comment to keep proxies open.
SSE_REFRESH_S = 1.0
SSE_KEEPALIVE_S = 15.0


async def get_service(request: Request) -> TaskService:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
    service: TaskService = request.app.state.tasks
    return service


Service = Annotated[TaskService, Depends(get_service)]


def as_json(
    answer: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The answer serialised once. Returning the model itself would have FastAPI validate it
    against the response model again and serialise it through `jsonable_encoder`: a third of a
    task read's cost, for a model built and validated a moment before."""
    body = answer.model_dump_json()
    return Response(body, status_code, headers, media_type="application/json")


@router.post(
    "",
    status_code=202,
    response_model=TaskRead,
    summary="Create a task (validated, then queued for RunningHub)",
)
async def create_task(
    body: TaskCreate,
    who: CurrentUser,
    service: Service,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    task, new = await service.create(who, body, idempotency_key)
    headers = None if new else {"Idempotent-Replayed": "true"}
    return as_json(service.read(task), 202, headers)


@router.get("/{task_id}", response_model=TaskRead, summary="One task")
async def get_task(task_id: str, who: CurrentUser, service: Service) -> Response:
    return as_json(service.read(await service.get(who, task_id)))


@router.get("", response_model=TaskList, summary="Tasks, newest first, with cursor pagination")
async def list_tasks(
    who: CurrentUser,
    service: Service,
    status: Annotated[TaskStatus | None, Query()] = None,
    model: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    tasks, next_cursor = await service.page(
        who, status=status.value if status else None, model=model, limit=limit, cursor=cursor
    )
    return as_json(service.list(tasks, next_cursor))


@run_times_router.get("/run-times", summary="How long a model's recent tasks took")
async def run_times(
    _: CurrentUser, service: Service, model: Annotated[str, Query(min_length=1, max_length=300)]
) -> RunTimes:
    return await service.run_times(model)


@router.post(
    "/{task_id}/cancel", response_model=TaskRead, summary="Cancel a task that has not finished"
)
async def cancel_task(task_id: str, who: CurrentUser, service: Service) -> Response:
    return as_json(service.read(await service.cancel(who, task_id)))


@router.get(
    "/{task_id}/deliveries",
    summary="The task's outbound webhook deliveries, each with its attempts",
)
async def list_deliveries(task_id: str, who: CurrentUser, service: Service) -> DeliveryList:
    await service.get(who, task_id)  # 404 for a task the caller may not see
    return DeliveryList(deliveries=await service.webhooks.deliveries(task_id))


@router.post(
    "/{task_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Send a delivery again now (same webhook-id)",
)
async def retry_delivery(
    task_id: str, delivery_id: str, who: CurrentUser, service: Service
) -> DeliveryRead:
    await service.get(who, task_id)
    return await service.webhooks.retry(task_id, delivery_id)


@router.get(
    "/{task_id}/events",
    summary="Server-Sent Events: the task JSON on every change; ends at a final status",
    response_class=StreamingResponse,
)
async def task_events(task_id: str, who: CurrentUser, service: Service) -> StreamingResponse:
    await service.get(who, task_id)  # 404 for a task the caller may not see
    return StreamingResponse(
        _stream(service, who, task_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(service: TaskService, who: CurrentUser, task_id: str) -> AsyncIterator[str]:
    events = service.rt.events
    last_version = -1
    quiet = 0.0
    with events.subscribe(task_id) as changed:
        while True:
            changed.clear()
            task = await service.get(who, task_id)
            if task.version != last_version:
                last_version = task.version
                body = service.read(task).model_dump_json()
                yield f"id: {task.version}\nevent: task\ndata: {body}\n\n"
                quiet = 0.0
                if task.is_final:
                    return
            elif quiet >= SSE_KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet = 0.0
            try:
                await asyncio.wait_for(changed.wait(), SSE_REFRESH_S)
            except TimeoutError:
                quiet += SSE_REFRESH_S
