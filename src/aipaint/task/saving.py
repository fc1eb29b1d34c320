"""Group commit of task writes: writes that arrive together share one transaction.

Under load most of a write's cost is its fixed part: taking the writer lock, the locking read,
the commit, each a round trip to SQLite's thread. So writes queued while a transaction runs are
applied together in the next one, in arrival order, and committed at once. A write is never
reported done before its commit, so nothing a caller does next (a submit, say) runs ahead of what
it depends on; an idle server still commits each write at once. If a shared transaction fails,
each of its writes is retried alone, so one bad write fails only its own caller.

`TaskSaver` changes existing tasks: every write of a task by the worker, the API (cancel) or a
webhook (a hint) goes through it and the state machine; it also claims upstream slots and renews
submit leases, each in a transaction of its own. A change of status that the app is to be told
of writes its outbound webhook delivery in the same transaction (`webhooks.outbox`).
`TaskInserter` stores new tasks (`POST /v1/tasks`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import transaction
from aipaint.metrics import TASKS_FINISHED
from aipaint.models import Task
from aipaint.models.base import utc_now
from aipaint.task import repository
from aipaint.task.events import TaskEvents
from aipaint.task.slots import reported_in_flight
from aipaint.task.state import Event, SubmitStarted, apply
from aipaint.webhooks import outbox

Change = Callable[[Task], bool | None]
# Told the ids of webhook deliveries once the transaction that wrote them has committed.
Committed = Callable[[Sequence[str]], None]
MAX_BATCH = 100  # writes per transaction: bounds the time the writer lock is held
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Request(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _GroupCommit(Generic[Item, Result]):
    """Queues writes and applies them, a batch per transaction, from one flushing task."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._queue: list[_Request[Item, Result]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def _write(self, item: Item) -> Result:
        request: _Request[Item, Result] = _Request(item)
        self._queue.append(request)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=type(self).__name__)
        return await request.done

    async def _apply(self, session: AsyncSession, batch: Sequence[Item]) -> list[Result]:
        """Apply the batch within the open transaction; one result per item."""
        raise NotImplementedError

    def _committed(self, item: Item, result: Result) -> None:
        """After the commit, per item (e.g. tell the task's watchers)."""

    async def _flush(self) -> None:
        batch: list[_Request[Item, Result]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    await self._commit(batch)
                except Exception as error:
                    if len(batch) == 1:
                        _fail(batch[0], error)
                    else:
                        await self._one_by_one(batch)
        except BaseException as error:  # cancelled (shutdown): no caller may wait forever
            for request in [*batch, *self._queue]:
                _fail(request, error)
            self._queue = []
            raise

    async def _one_by_one(self, batch: Sequence[_Request[Item, Result]]) -> None:
        for request in batch:
            try:
                await self._commit([request])
            except Exception as error:
                _fail(request, error)

    async def _commit(self, batch: Sequence[_Request[Item, Result]]) -> None:
        async with transaction(self.sessions) as session:
            results = await self._apply(session, [request.item for request in batch])
        for request, result in zip(batch, results, strict=True):
            self._committed(request.item, result)
            if not request.done.done():  # a caller that gave up (cancelled) is not told
                request.done.set_result(result)


def _fail(request: _Request[Item, Result], error: BaseException) -> None:
    if not request.done.done():
        request.done.set_exception(error)


@dataclass(frozen=True)
class _Save:
    task_id: str
    change: Change
    check_at: float | None


@dataclass(frozen=True)
class _Saved:
    task: Task | None
    changed: bool
    deliveries: list[str]


class TaskSaver(_GroupCommit[_Save, _Saved]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: TaskEvents,
        *,
        link_ttl: timedelta = timedelta(days=1),
        deliveries: Committed | None = None,
    ) -> None:
        super().__init__(sessions)
        self.events = events
        self.link_ttl = link_ttl
        self.deliveries = deliveries

    async def apply(
        self, task_id: str, event: Event, *, check_at: float | None = None
    ) -> Task | None:
        """Move the task by `event` through the state machine, and save it."""
        now = utc_now()
        return await self.save(
            task_id, lambda task: self.apply_now(task, event, now), check_at=check_at
        )

    def apply_now(self, task: Task, event: Event, now: datetime) -> bool:
        """`state.apply` with this deployment's link lifetime, for changes made inside `save`."""
        return apply(task, event, now, link_ttl=self.link_ttl)

    async def claim(
        self,
        account: str,
        limit: int,
        owner: str,
        *,
        lease_s: float,
        fresh_s: float,
        at_most: int | None = None,
    ) -> list[Task]:
        """Mark as many due pending tasks as the key has free slots (and at most `at_most`) as
        being submitted by `owner`, in one transaction under the key's lock, and return them:
        every process may call this at once, and tasks in flight never exceed `limit`."""
        now = utc_now()
        started = SubmitStarted(owner, now + timedelta(seconds=lease_s), account)
        async with transaction(self.sessions) as session:
            row = await repository.lock_account(session, account)
            counts = await repository.slot_counts(session, account, now, row.checked_at)
            free = limit - counts.used(reported_in_flight(row, now, fresh_s))
            if at_most is not None:
                free = min(free, at_most)
            if free <= 0:
                return []
            tasks = await repository.claimable(session, now, free)
            changed, deliveries = [], []
            for task in tasks:
                before = task.status
                if apply(task, started, now, link_ttl=self.link_ttl):
                    changed.append(task)
                    deliveries += outbox.record(session, task, before, now)
                # The sweep leaves a submit alone until its lease could have lapsed.
                task.next_check_at = None if task.is_final else started.lease_until
        for task in changed:
            self.events.publish(task.id)
        # Out before the submits begin: a burst of them can keep this process busy for a while.
        await self.events.sent()
        self._tell(deliveries)
        return [task for task in tasks if task.submit_owner == owner]

    async def renew_leases(self, owner: str, task_ids: Sequence[str], lease_s: float) -> list[str]:
        """Extend `owner`'s leases on these submits; the ids whose lease it still held."""
        until = utc_now() + timedelta(seconds=lease_s)
        async with transaction(self.sessions) as session:
            return await repository.renew_leases(session, owner, task_ids, until)

    async def save(
        self, task_id: str, change: Change, *, check_at: float | None = None
    ) -> Task | None:
        """Load the task (locked), let `change` edit it, commit, tell its watchers; the task as
        saved, or None when there is no such task. `check_at`: seconds until the next look."""
        return (await self._write(_Save(task_id, change, check_at))).task

    async def _apply(self, session: AsyncSession, batch: Sequence[_Save]) -> list[_Saved]:
        tasks = await repository.get_many_for_update(session, [save.task_id for save in batch])
        now = utc_now()
        outcomes: list[_Saved] = []
        for save in batch:
            task = tasks.get(save.task_id)
            if task is None:
                outcomes.append(_Saved(None, False, []))
                continue
            was_final, before = task.is_final, task.status
            changed = bool(save.change(task))
            if not was_final and task.is_final:
                TASKS_FINISHED.labels(task.status).inc()
            if save.check_at is not None and not task.is_final:
                task.next_check_at = now + timedelta(seconds=save.check_at)
            outcomes.append(_Saved(task, changed, outbox.record(session, task, before, now)))
        return outcomes

    def _committed(self, item: _Save, result: _Saved) -> None:
        if result.changed:
            self.events.publish(item.task_id)
        self._tell(result.deliveries)

    def _tell(self, deliveries: list[str]) -> None:
        if deliveries and self.deliveries is not None:
            self.deliveries(deliveries)


class TaskInserter(_GroupCommit[Task, Task]):
    async def insert(self, task: Task) -> Task:
        """Store a new task; raises IntegrityError as a lone INSERT would (a reused
        Idempotency-Key), since a failed batch is retried one task at a time."""
        return await self._write(task)

    async def _apply(self, session: AsyncSession, batch: Sequence[Task]) -> list[Task]:
        await repository.add_new(session, batch)
        return list(batch)
