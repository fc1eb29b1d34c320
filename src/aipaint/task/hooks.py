"""The receiver of RunningHub's webhooks.

RunningHub signs nothing, so the URL carries an unguessable per-task signature; a call without
the right one is refused. The body is only a hint: the task is confirmed with a query, through
the same job that polls it. The answer is immediate, so RunningHub never times out and retries.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from aipaint.db import reading
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.metrics import WEBHOOKS
from aipaint.models import Task
from aipaint.runtime import Runtime
from aipaint.task import repository
from aipaint.task.jobs import CONFIRM
from aipaint.task.state import Hinted, TaskStatus

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])
_MAX_ID_LENGTH = 100  # the column that keeps an upstream id


class HookNotFound(AipaintError):
    """An unknown task or a wrong signature: both answer alike, so neither can be probed."""

    status_code = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__(Text(zh="未找到。", en="Not found."))


@router.post("/hooks/runninghub/{task_id}/{signature}", status_code=202, include_in_schema=False)
async def runninghub_webhook(task_id: str, signature: str, request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    if not runtime.verify("hook", task_id, signature):
        log.warning("webhook_forged", task_id=task_id)
        WEBHOOKS.labels("forged").inc()
        raise HookNotFound()
    upstream_id = _upstream_task_id(await request.body())
    # A read, not a write, in the usual case: the answer never waits for the writer lock.
    async with reading(runtime.sessions) as session:
        task = await repository.get(session, task_id)
    if task is None:
        raise HookNotFound()
    if upstream_id and _names_an_uncertain_submit(task):
        # An uncertain submit did land: remember which task it became; `poll` confirms.
        await runtime.saver.apply(task_id, Hinted(upstream_id))
    log.info("webhook_received", task_id=task_id, upstream_task_id=upstream_id)
    WEBHOOKS.labels("accepted").inc()
    await runtime.queue.enqueue(CONFIRM, task_id, urgent=True)
    return JSONResponse({"received": True}, status_code=202)


def _names_an_uncertain_submit(task: Task) -> bool:
    return task.upstream_task_id is None and task.status == TaskStatus.PENDING


def _upstream_task_id(body: bytes) -> str | None:
    """RunningHub's task id from any of the shapes a TASK_END webhook may take.

    orjson, not the standard library: it stops at 1,024 levels of nesting, where a body nested
    100,000 deep would exhaust Python's recursion limit.
    """
    try:
        payload: Any = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    task_id = payload.get("taskId") or payload.get("task_id")
    if task_id is None and isinstance(payload.get("eventData"), str):
        try:
            inner = orjson.loads(payload["eventData"])
        except orjson.JSONDecodeError:
            inner = None
        if isinstance(inner, dict):
            task_id = inner.get("taskId")
    # An id is a short string or number; anything else names no task.
    if isinstance(task_id, bool) or not isinstance(task_id, str | int):
        return None
    text = str(task_id)
    return text if 0 < len(text) <= _MAX_ID_LENGTH else None
