"""Reads of one task each that arrive together share one query.

A burst of changes (a group commit's tasks) wakes as many SSE streams at once, and a busy API
process answers many `GET /v1/tasks/{id}` at a time: each would otherwise be a query of its own,
and on SQLite several hops to its thread. Reads asked for while one is under way are gathered and
answered by the next single `SELECT … WHERE id IN (…)`.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import reading
from aipaint.models import Task
from aipaint.task import repository

MAX_BATCH = 200


class TaskReads:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._wanted: dict[str, list[asyncio.Future[Task | None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def get(self, task_id: str) -> Task | None:
        """The task as committed when the read began, or None."""
        answer: asyncio.Future[Task | None] = asyncio.get_running_loop().create_future()
        self._wanted.setdefault(task_id, []).append(answer)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="task-reads")
        return await answer

    async def _read(self) -> None:
        while self._wanted:
            ids = list(self._wanted)[:MAX_BATCH]
            batch = {task_id: self._wanted.pop(task_id) for task_id in ids}
            try:
                async with reading(self.sessions) as session:
                    found = await repository.get_many(session, ids)
            except Exception as error:
                _fail(batch, error)
                continue
            except BaseException as error:  # cancelled (shutdown): no caller may wait forever
                _fail({**batch, **self._wanted}, error)
                self._wanted = {}
                raise
            for task_id, answers in batch.items():
                for answer in answers:
                    if not answer.done():  # a caller that gave up (cancelled) is not told
                        answer.set_result(found.get(task_id))


def _fail(batch: dict[str, list[asyncio.Future[Task | None]]], error: BaseException) -> None:
    for answers in batch.values():
        for answer in answers:
            if not answer.done():
                answer.set_exception(error)
