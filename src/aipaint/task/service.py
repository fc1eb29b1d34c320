"""Tasks as the API sees them: create (validated, idempotent), read, list, cancel."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import statistics
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from aipaint.accounts.service import Principal
from aipaint.catalog.errors import ParamsInvalid
from aipaint.catalog.schemas import ModelSpec, ParamSpec
from aipaint.catalog.urls import parse_data_uri
from aipaint.catalog.validation import ErrorCode, ParamError
from aipaint.db import reading
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.ids import new_id
from aipaint.kit.netguard import UnsafeUrl
from aipaint.metrics import TASKS_CREATED
from aipaint.models import Output, Task
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.task import repository
from aipaint.task.jobs import DISPATCH
from aipaint.task.reads import TaskReads
from aipaint.task.saving import TaskInserter
from aipaint.task.schemas import (
    OutputRead,
    RunTimes,
    TaskCreate,
    TaskError,
    TaskList,
    TaskRead,
)
from aipaint.task.state import CancelRequested, TaskStatus
from aipaint.uploads.service import UploadInvalid, upload_bytes
from aipaint.webhooks.outbox import RUNNING
from aipaint.webhooks.service import WebhookService
from aipaint.worker.queue import EVERY

MAX_PAGE = 100
LINK_STEP_S = 60
RUN_TIME_SAMPLES = 50


class TaskNotFound(AipaintError):
    """No task with this id is visible to the caller (another user's task answers the same)."""

    status_code = 404
    code = "task_not_found"

    def __init__(self, task_id: str) -> None:
        super().__init__(Text(zh=f"任务 {task_id} 不存在。", en=f"Task {task_id} does not exist."))


class IdempotencyConflict(AipaintError):
    """The Idempotency-Key was used before with a different request."""

    status_code = 409
    code = "idempotency_conflict"

    def __init__(self) -> None:
        super().__init__(
            Text(
                zh="该 Idempotency-Key 已用于另一个不同的请求。",
                en="This Idempotency-Key was already used with a different request.",
            )
        )


class TaskFinished(AipaintError):
    """A finished task cannot be canceled."""

    status_code = 409
    code = "task_finished"

    def __init__(self, status: str) -> None:
        super().__init__(
            Text(zh=f"任务已结束（{status}），无法取消。", en=f"The task is already {status}.")
        )


def request_hash(body: TaskCreate) -> str:
    canonical = json.dumps(body.model_dump(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class TaskService:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self._inserter = TaskInserter(runtime.sessions)
        self.webhooks = WebhookService(runtime)
        self._reads = TaskReads(runtime.sessions)

    async def create(
        self, who: Principal, body: TaskCreate, idempotency_key: str | None
    ) -> tuple[Task, bool]:
        """The stored task and whether it is new (False: an idempotent replay)."""
        digest = request_hash(body)
        if idempotency_key:
            async with reading(self.rt.sessions) as session:
                existing = await repository.by_idempotency_key(
                    session, who.user_id, idempotency_key
                )
            if existing is not None:
                return self._replay(existing, digest)
        spec = self.rt.catalog.get(body.model)
        params = self.rt.catalog.validate(body.model, body.params)
        params = await self._inputs(spec, params)
        webhook_url = await self.webhooks.target(who, body.webhook_url, body.webhook_events)
        task = Task(
            id=new_id("tsk_"),
            user_id=who.user_id,
            model=spec.id,
            params=params,
            webhook_url=webhook_url,
            # The final events are always sent; only task.running is worth keeping.
            webhook_events=[RUNNING] if RUNNING in body.webhook_events else None,
            status=TaskStatus.PENDING.value,
            idempotency_key=idempotency_key,
            request_hash=digest,
            outputs=[],
        )
        try:
            await self._inserter.insert(task)
        except IntegrityError:
            # Two requests with one Idempotency-Key raced; the first one's task is the answer.
            async with reading(self.rt.sessions) as session:
                existing = await repository.by_idempotency_key(
                    session, who.user_id, idempotency_key or ""
                )
            if existing is None:
                raise
            return self._replay(existing, digest)
        TASKS_CREATED.inc()
        await self.rt.queue.enqueue(DISPATCH, EVERY)
        return task, True

    def _replay(self, task: Task, digest: str) -> tuple[Task, bool]:
        if task.request_hash != digest:
            raise IdempotencyConflict()
        return task, False

    async def _inputs(self, spec: ModelSpec, params: dict[str, Any]) -> dict[str, Any]:
        """Check every media input: URLs must be public, data URIs become RunningHub uploads.

        Data URIs never reach the task row: a base64 video in every history query would bloat
        the database (a lesson from peers).
        """
        errors: list[ParamError] = []
        result = dict(params)
        for param, index, value in _media_values(spec, params):
            try:
                replaced = await self._input(param, value)
            except UnsafeUrl as unsafe:
                errors.append(_input_error(param, index, ErrorCode.UNSAFE_URL, unsafe.reason))
                continue
            except UploadInvalid as invalid:
                errors.append(_input_error(param, index, ErrorCode.INVALID_FILE, invalid.reason))
                continue
            if replaced != value:
                if index is None:
                    result[param.name] = replaced
                else:
                    result[param.name] = list(result[param.name])
                    result[param.name][index] = replaced
        if errors:
            raise ParamsInvalid(spec.id, errors)
        return result

    async def _input(self, param: ParamSpec, value: str) -> str:
        data = parse_data_uri(value)
        if data is None:
            await self.rt.guard.check(value)
            return value
        limit = min(
            param.max_size_mb or self.rt.settings.max_data_uri_mb, self.rt.settings.max_data_uri_mb
        )
        if data.size_mb > limit:
            raise UploadInvalid(f"data URI over {limit:g} MB: upload the file instead")
        payload = base64.b64decode(value.split(",", 1)[1])
        uploaded = await upload_bytes(self.rt, payload, f"input.{data.subtype}", param=param)
        return str(uploaded["url"])

    async def get(self, who: Principal, task_id: str) -> Task:
        task = await self._reads.get(task_id)
        if task is None or not (who.is_admin or task.user_id == who.user_id):
            raise TaskNotFound(task_id)
        return task

    async def page(
        self,
        who: Principal,
        *,
        status: str | None,
        model: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Task], str | None]:
        limit = max(1, min(limit, MAX_PAGE))
        async with reading(self.rt.sessions) as session:
            tasks = await repository.page(
                session,
                user_id=None if who.is_admin else who.user_id,
                status=status,
                model=model,
                before=cursor,
                limit=limit + 1,
            )
        more = len(tasks) > limit
        tasks = tasks[:limit]
        return tasks, tasks[-1].id if more else None

    async def cancel(self, who: Principal, task_id: str) -> Task:
        task = await self.get(who, task_id)
        if task.is_final:
            raise TaskFinished(task.status)
        saved = await self.rt.saver.apply(task_id, CancelRequested())
        assert saved is not None
        if saved.is_final and saved.status != TaskStatus.CANCELED:
            raise TaskFinished(saved.status)  # it finished while the cancel was on its way
        await self.rt.queue.enqueue(DISPATCH, EVERY)
        return saved

    async def run_times(self, model: str) -> RunTimes:
        spec = self.rt.catalog.get(model)
        async with reading(self.rt.sessions) as session:
            rows = await repository.recent_run_times(session, spec.id, RUN_TIME_SAMPLES)
        seconds = sorted((finished - submitted).total_seconds() for submitted, finished in rows)
        if not seconds:
            return RunTimes(model=spec.id, samples=0, median_s=None, p90_s=None)
        return RunTimes(
            model=spec.id,
            samples=len(seconds),
            median_s=round(statistics.median(seconds), 3),
            p90_s=round(seconds[min(len(seconds) - 1, int(len(seconds) * 0.9))], 3),
        )

    # --- the contract's JSON ------------------------------------------------------------------

    def read(self, task: Task) -> TaskRead:
        return TaskRead(
            id=task.id,
            model=task.model,
            params=task.params,
            status=TaskStatus(task.status),
            upstream_task_id=task.upstream_task_id,
            error=TaskError.model_validate(task.error) if task.error else None,
            outputs=[self._output(task, output) for output in task.outputs],
            usage=task.usage,
            webhook_url=task.webhook_url,
            webhook_events=list(task.webhook_events or ()),
            created_at=task.created_at,
            submitted_at=task.submitted_at,
            finished_at=task.finished_at,
        )

    def list(self, tasks: list[Task], cursor: str | None) -> TaskList:
        return TaskList(tasks=[self.read(task) for task in tasks], next_cursor=cursor)

    def _output(self, task: Task, output: Output) -> OutputRead:
        url = None
        if output.archived and output.storage_key is not None:
            url = self.file_url(task.id, output.index, output.type)
        return OutputRead(
            index=output.index,
            type=output.type,
            url=url,
            source_url=output.source_url,
            archived=output.archived,
            sha256=output.sha256,
            bytes=output.bytes,
            node_id=output.node_id,
            text=output.text,
        )

    def file_url(self, task_id: str, index: int, extension: str) -> str:
        """A signed, expiring link a browser can use in <img> or <video> as it is."""
        path = f"{task_id}/{index}.{extension}"
        # Rounded up to the minute: reads of a task within that minute give the same links, so a
        # browser showing a live task keeps its cached files instead of fetching them again.
        earliest = utc_now().timestamp() + self.rt.settings.file_link_ttl_s
        expires = math.ceil(earliest / LINK_STEP_S) * LINK_STEP_S
        signature = self.rt.sign("file", f"{path}:{expires}")
        base = (self.rt.settings.public_url or "").rstrip("/")
        return f"{base}/files/{path}?expires={expires}&sig={signature}"


def _media_values(
    spec: ModelSpec, params: dict[str, Any]
) -> Iterator[tuple[ParamSpec, int | None, str]]:
    for param in spec.params:
        if param.type.media is None or param.name not in params:
            continue
        value = params[param.name]
        if isinstance(value, list):
            yield from ((param, index, item) for index, item in enumerate(value))
        else:
            yield param, None, value


def _input_error(param: ParamSpec, index: int | None, code: ErrorCode, reason: str) -> ParamError:
    return ParamError(param.name, code, param.label, index, {"reason": reason})
