"""TaskReads: reads that arrive together share one query, and none is answered by a query that
began before it was asked."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import transaction
from aipaint.models import Task
from aipaint.task.reads import TaskReads
from tests.task.conftest import TASK_IDS

pytestmark = pytest.mark.anyio
IDS = TASK_IDS[:10]


def task_selects(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    statements: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def seen(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("SELECT tasks."):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    return statements


async def test_reads_asked_together_share_one_query(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    reads = TaskReads(sessions)
    selects = task_selects(sessions)
    found = await asyncio.gather(*(reads.get(task_id) for task_id in [*IDS, IDS[0], "tsk_none"]))
    assert [task.id if task else None for task in found] == [*IDS, IDS[0], None]
    assert len(selects) == 1


async def test_a_read_asked_during_a_query_waits_for_the_next_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    reads = TaskReads(sessions)
    first = asyncio.create_task(reads.get(IDS[0]))
    await asyncio.sleep(0)  # the first query is under way
    async with transaction(sessions) as session:
        await session.execute(update(Task).where(Task.id == IDS[0]).values(model="changed"))
    second = await reads.get(IDS[0])  # asked after the commit: it must see it
    await first
    assert second is not None
    assert second.model == "changed"


async def test_a_failed_query_fails_its_readers_and_the_next_reads_go_on(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = TaskReads(sessions)
    engine = sessions.kw["bind"].sync_engine

    def broken(*_: object) -> None:
        raise RuntimeError("the database went away")

    event.listen(engine, "before_cursor_execute", broken)
    outcomes = await asyncio.gather(reads.get(IDS[0]), reads.get(IDS[1]), return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [RuntimeError, RuntimeError]
    event.remove(engine, "before_cursor_execute", broken)
    task = await reads.get(IDS[2])
    assert task is not None
