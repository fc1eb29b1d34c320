"""Slot claims and submit leases, as several processes make them on one database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import create_engine, migrate, reading, session_factory, transaction
from aipaint.models import Task, User
from aipaint.models.base import utc_now
from aipaint.task import repository
from aipaint.task.events import TaskEvents
from aipaint.task.leases import SubmitLeases
from aipaint.task.saving import TaskSaver
from aipaint.task.slots import SlotCounts
from aipaint.task.state import OutcomeUnknown, Submitted
from aipaint.upstream import UpstreamStatus
from tests.stacks import redis_server
from tests.support import fresh_database

pytestmark = pytest.mark.anyio
ACCOUNT = "acct"
PENDING = [f"tsk_{n:03d}" for n in range(12)]


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Two engines on one database: two processes' connection pools."""
    with fresh_database(tmp_path) as url:
        engines = [create_engine(url), create_engine(url)]
        await migrate(engines[0])
        first = session_factory(engines[0])
        async with transaction(first) as session:
            session.add(User(id="usr_1", name="u", token_hash="h"))
            await session.flush()
            for task_id in PENDING:
                session.add(Task(id=task_id, user_id="usr_1", model="m", params={}))
        try:
            yield [first, session_factory(engines[1])]
        finally:
            for engine in engines:
                await engine.dispose()


def _savers(engines: list[async_sessionmaker[AsyncSession]]) -> list[TaskSaver]:
    return [TaskSaver(sessions, TaskEvents()) for sessions in engines]


async def _counted(sessions: async_sessionmaker[AsyncSession], running: int) -> None:
    """As if RunningHub's queue status had just said `running` tasks run and none queue."""
    async with transaction(sessions) as session:
        account = await repository.lock_account(session, ACCOUNT)
        account.running, account.queued, account.checked_at = running, 0, utc_now()


async def _claim(saver: TaskSaver, owner: str, limit: int) -> list[Task]:
    return await saver.claim(ACCOUNT, limit, owner, lease_s=30, fresh_s=15)


async def test_concurrent_claims_of_two_processes_never_exceed_the_limit(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    a, b = _savers(engines)
    rounds = await asyncio.gather(*(_claim(s, f"p{n}", 3) for n, s in enumerate([a, b] * 4)))
    claimed = [task.id for tasks in rounds for task in tasks]
    assert len(claimed) == len(set(claimed)) == 3
    async with reading(engines[0]) as session:
        assert await repository.slot_counts(session, ACCOUNT, utc_now()) == SlotCounts(0, 3, 0)


async def test_a_claim_takes_no_more_than_the_process_asks_for(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    [a, _] = _savers(engines)
    claimed = await a.claim(ACCOUNT, 10, "p", lease_s=30, fresh_s=15, at_most=2)
    assert [t.id for t in claimed] == PENDING[:2]
    assert len(await _claim(a, "p", 10)) == 8  # the rest of the key's slots


async def test_a_task_running_upstream_holds_its_slot_and_a_finished_one_frees_it(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    a, _ = _savers(engines)
    [first, second] = await _claim(a, "p", 2)
    await a.apply(first.id, Submitted("up-1", UpstreamStatus.RUNNING))
    assert await _claim(a, "p", 2) == []
    await a.apply(second.id, OutcomeUnknown())
    assert await _claim(a, "p", 2) == []  # RunningHub's count unknown: it may run
    await a.apply(first.id, Submitted("up-1", UpstreamStatus.RUNNING))
    await _counted(engines[0], running=1)
    # RunningHub runs only the task we track: the unknown outcome holds nothing.
    assert len(await _claim(a, "p", 2)) == 1


async def test_a_count_read_before_an_outcome_became_unknown_leaves_it_its_slot(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    a, _ = _savers(engines)
    [first, second] = await _claim(a, "p", 2)
    await a.apply(first.id, Submitted("up-1", UpstreamStatus.RUNNING))
    # RunningHub counted the one task we track while the second submit was on its way ...
    await _counted(engines[0], running=1)
    await asyncio.sleep(0.01)
    await a.apply(second.id, OutcomeUnknown())  # ... and its outcome became unknown after
    assert await _claim(a, "p", 2) == []  # it may have landed since: it holds its slot
    await _counted(engines[0], running=1)  # counted again, still 1: it never landed
    assert len(await _claim(a, "p", 2)) == 1


async def test_only_the_owner_renews_a_lease_and_a_taken_over_submit_is_not_sent(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    a, b = _savers(engines)
    [task] = await _claim(a, "owner-a", 1)
    leases_a = SubmitLeases(a, "owner-a", lease_s=30)
    leases_b = SubmitLeases(b, "owner-b", lease_s=30)
    leases_a.hold(task.id)
    assert await b.renew_leases("owner-b", [task.id], 30) == []
    assert await leases_a.confirm(task.id)

    # A stalls past its lease; B resolves the submit as one a crash interrupted.
    def lapse(t: Task) -> bool:
        t.submit_lease_until = utc_now()
        return True

    await b.save(task.id, lapse)
    await b.apply(task.id, OutcomeUnknown())
    leases_a._renewed[task.id] -= timedelta(minutes=1).total_seconds()
    assert not await leases_a.confirm(task.id)
    assert task.id not in leases_b


async def test_a_claims_changes_are_out_on_redis_before_its_submits_begin(
    engines: list[async_sessionmaker[AsyncSession]], tmp_path: Path
) -> None:
    """The submits that follow a claim can keep the worker busy for a while: its streams must
    not wait for them to hear that the submits began."""
    with redis_server(tmp_path) as server:
        listener = SyncRedis.from_url(server.url).pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        listener.subscribe("aipaint:task-changed")
        redis = Redis.from_url(server.url)
        try:
            saver = TaskSaver(engines[0], TaskEvents(redis))
            claimed = await _claim(saver, "p", 3)
            # Blocking calls from here on: nothing left for the event loop to send later.
            told: list[str] = []
            deadline = time.monotonic() + 2
            while len(told) < len(claimed) and time.monotonic() < deadline:
                if message := listener.get_message(timeout=0.1):
                    told.append(message["data"].decode())
            assert sorted(told) == sorted(t.id for t in claimed)
        finally:
            listener.close()
            await redis.aclose()
