"""Group commit of the worker's writes: changes to tasks that arrive together share a transaction.

Every change goes through `save(task_id, change)`: the task is loaded locked, `change` edits it,
the transaction commits. Under load most of a write's cost is the fixed part (taking the writer
lock, the locking read, the commit, each a round trip to SQLite's thread), so changes queued
while a transaction runs are applied together in the next one: each to its own freshly locked
task, in arrival order, committed at once. A change is never reported saved before its commit,
so nothing a caller does next (a submit, say) runs ahead of what it depends on. If a shared
transaction fails, each of its changes is retried alone, so one bad change fails only its caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import transaction
from aipaint.metrics import TASKS_FINISHED
from aipaint.models import Task
from aipaint.models.base import utc_now
from aipaint.task import repository
from aipaint.task.events import TaskEvents
from aipaint.task.state import Status

Change = Callable[[Task], bool | None]
MAX_BATCH = 100  # changes per transaction: bounds the time the writer lock is held


@dataclass
class _Request:
    task_id: str
    change: Change
    check_at: float | None
    done: asyncio.Future[Task | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class TaskSaver:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: TaskEvents) -> None:
        self.sessions = sessions
        self.events = events
        self._queue: list[_Request] = []
        self._flusher: asyncio.Task[None] | None = None

    async def save(
        self, task_id: str, change: Change, *, check_at: float | None = None
    ) -> Task | None:
        """Load the task (locked), let `change` edit it, commit, tell its watchers; the task as
        saved, or None when there is no such task. `check_at`: seconds until the next look."""
        request = _Request(task_id, change, check_at)
        self._queue.append(request)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="task-saver")
        return await request.done

    async def _flush(self) -> None:
        batch: list[_Request] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    outcomes = await self._apply(batch)
                except Exception as error:
                    if len(batch) == 1:
                        _fail(batch[0], error)
                    else:
                        await self._one_by_one(batch)
                    continue
                self._resolve(batch, outcomes)
        except BaseException as error:  # cancelled (shutdown): no caller may wait forever
            for request in [*batch, *self._queue]:
                _fail(request, error)
            self._queue = []
            raise

    async def _one_by_one(self, batch: Sequence[_Request]) -> None:
        for request in batch:
            try:
                outcomes = await self._apply([request])
            except Exception as error:
                _fail(request, error)
            else:
                self._resolve([request], outcomes)

    async def _apply(self, batch: Sequence[_Request]) -> list[tuple[Task | None, bool]]:
        """One transaction for the whole batch: (saved task, changed?) per request."""
        outcomes: list[tuple[Task | None, bool]] = []
        async with transaction(self.sessions) as session:
            tasks = await repository.get_many_for_update(session, [r.task_id for r in batch])
            now = utc_now()
            for request in batch:
                task = tasks.get(request.task_id)
                if task is None:
                    outcomes.append((None, False))
                    continue
                was_final = Status(task.status).is_final
                changed = bool(request.change(task))
                if not was_final and Status(task.status).is_final:
                    TASKS_FINISHED.labels(task.status).inc()
                if request.check_at is not None and not Status(task.status).is_final:
                    task.next_check_at = now + timedelta(seconds=request.check_at)
                outcomes.append((task, changed))
        return outcomes

    def _resolve(self, batch: Sequence[_Request], outcomes: list[tuple[Task | None, bool]]) -> None:
        for request, (task, changed) in zip(batch, outcomes, strict=True):
            if changed:
                self.events.publish(request.task_id)
            if not request.done.done():  # a caller that gave up (cancelled) is not told
                request.done.set_result(task)


def _fail(request: _Request, error: BaseException) -> None:
    if not request.done.done():
        request.done.set_exception(error)
