"""The lifecycle's job paths, one at a time, on the in-process app's runtime."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aipaint.db import reading, transaction
from aipaint.kit.ids import new_id
from aipaint.models import Task, User
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.task import repository
from aipaint.task.jobs import DISPATCH, SUBMITS_IN_FLIGHT, Lifecycle
from aipaint.upstream import UpstreamCapacity
from tests.support import LTX, LTX_PARAMS

pytestmark = pytest.mark.anyio


class Recorded:
    """A queue that records what the lifecycle asks of it."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, str, dict[str, Any]]] = []

    async def enqueue(self, job: str, target: str, **when: Any) -> None:
        self.enqueued.append((job, target, when))


async def _parked_task(runtime: Runtime) -> Task:
    """A pending task the app's own worker leaves alone (its next check is a day away)."""
    async with transaction(runtime.sessions) as session:
        user = User(id=new_id("usr_"), name="jobs", token_hash=new_id())
        session.add(user)
        await session.flush()
        task = Task(
            id=new_id("tsk_"),
            user_id=user.id,
            model="alibaba/wan-2.7/text-to-image",
            params={"prompt": "x"},
            next_check_at=utc_now() + timedelta(days=1),
            outputs=[],
        )
        session.add(task)
    return task


async def test_a_deferred_submit_backs_off_longer_at_every_attempt(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    queue = Recorded()
    lifecycle = Lifecycle(runtime, queue)  # type: ignore[arg-type]
    # Without jitter the delays are the backoff's ceilings: 5 s doubling up to the 120 s cap.
    lifecycle.submit_backoff = dataclasses.replace(lifecycle.submit_backoff, random=lambda: 1.0)
    task = await _parked_task(runtime)
    delays = []
    for attempt in range(1, 8):
        task.submit_attempts = attempt  # what the claim of each attempt counted
        before = utc_now()
        await lifecycle._refused(task, UpstreamCapacity("421", "queue full"))
        async with reading(runtime.sessions) as session:
            saved = await repository.get(session, task.id)
        assert saved is not None
        assert saved.next_check_at is not None
        delays.append(round((saved.next_check_at - before).total_seconds()))
    settings = runtime.settings
    assert delays == [
        min(settings.submit_backoff_max_s, settings.submit_backoff_s * 2 ** (n - 1))
        for n in range(1, 8)
    ]
    assert all(job == DISPATCH for job, _, _ in queue.enqueued)


async def test_a_retry_after_from_runninghub_is_honoured(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    lifecycle = Lifecycle(runtime, Recorded())  # type: ignore[arg-type]
    task = await _parked_task(runtime)
    task.submit_attempts = 1
    before = utc_now()
    await lifecycle._refused(task, UpstreamCapacity("421", "full", retry_after=42))
    async with reading(runtime.sessions) as session:
        saved = await repository.get(session, task.id)
    assert saved is not None
    assert saved.next_check_at is not None
    assert round((saved.next_check_at - before).total_seconds()) == 42


async def test_a_cancel_through_the_api_is_a_write_of_the_saver(client: httpx.AsyncClient) -> None:
    def canceled(metrics: str) -> float:
        for line in metrics.splitlines():
            if line.startswith('aipaint_tasks_finished_total{status="canceled"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = canceled((await client.get("/metrics")).text)
    created = await client.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS})
    task_id = created.json()["id"]
    answer = await client.post(f"/v1/tasks/{task_id}/cancel")
    assert answer.status_code == 200, answer.text
    # A submit in flight is canceled as soon as it returns.
    for _ in range(100):
        if (await client.get(f"/v1/tasks/{task_id}")).json()["status"] == "canceled":
            break
        await asyncio.sleep(0.05)
    assert (await client.get(f"/v1/tasks/{task_id}")).json()["status"] == "canceled"
    assert canceled((await client.get("/metrics")).text) == before + 1


class _Slots:
    """As many free slots as asked for: the key's limit is far above one process's bound."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    async def reconcile(self) -> None:
        pass

    async def claim(self, owner: str, at_most: int) -> list[Task]:
        self.asked.append(at_most)
        await asyncio.sleep(0)  # dispatches running at once interleave here
        return [Task(id=new_id("tsk_")) for _ in range(at_most)]


async def test_one_process_sends_at_most_its_bound_of_submits_at_once(app: FastAPI) -> None:
    lifecycle = Lifecycle(app.state.runtime, Recorded())  # type: ignore[arg-type]
    slots = lifecycle.slots = _Slots()  # type: ignore[assignment]
    release, first_done = asyncio.Event(), asyncio.Event()
    sending: set[str] = set()
    most = 0

    async def submit(task: Task) -> None:
        nonlocal most
        sending.add(task.id)
        most = max(most, len(sending))
        if len(sending) > 1:  # the first one ends at once, the others wait
            await release.wait()
        else:
            await first_done.wait()
        sending.discard(task.id)

    lifecycle._submit = submit  # type: ignore[method-assign]
    dispatches = [asyncio.create_task(lifecycle.dispatch()) for _ in range(4)]
    while len(sending) < SUBMITS_IN_FLIGHT:
        await asyncio.sleep(0.01)
    await lifecycle.dispatch()  # no room: returns at once, claiming nothing
    assert most == SUBMITS_IN_FLIGHT
    assert sum(slots.asked) == SUBMITS_IN_FLIGHT
    first_done.set()
    while lifecycle._submitting == SUBMITS_IN_FLIGHT:
        await asyncio.sleep(0.01)
    # A submit that ended frees its room at once, before the rest of its batch.
    dispatches.append(asyncio.create_task(lifecycle.dispatch()))
    while len(slots.asked) < 2:
        await asyncio.sleep(0.01)
    assert slots.asked[-1] == 1
    release.set()
    await asyncio.gather(*dispatches)
    assert lifecycle._submitting == 0
    # Once its submits ended, the dispatch that sent them looks again.
    assert lifecycle.queue.enqueued[-1][0] == DISPATCH  # type: ignore[attr-defined]
