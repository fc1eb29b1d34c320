"""The one enqueue seam of the worker, and its in-process implementation.

The lifecycle only ever calls `queue.enqueue(job, target, at=… | delay=…)`. Jobs are idempotent and
read the task's state from the database, which is the durable truth: the queue only decides *when*
a job runs. So losing the queue (a crash, or Redis restarted empty) loses nothing — the recovery
sweep re-enqueues from the database. `redis_queue.RedisJobQueue` is the same seam on Redis, for
many processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

import structlog

from aipaint.models.base import utc_now

log = structlog.get_logger(__name__)

Job = Callable[[str], Awaitable[None]]
_Entry = tuple[float, int, str, str]  # (due at, tie-breaker, job, target)
# The target of a job that is about no one task (the dispatcher): enqueuing it is a wake-up, which
# is never dropped as a duplicate of a run already under way.
EVERY = "*"


class JobQueue(Protocol):
    """Runs `job(target)` once it is due: `at` a time, or `delay` seconds from now.

    Asking for a run of the same job and target that is already waiting is merged with it;
    `urgent` runs go ahead of every other due job.
    """

    async def enqueue(
        self,
        job: str,
        target: str,
        *,
        delay: float = 0.0,
        at: datetime | None = None,
        urgent: bool = False,
    ) -> None: ...

    def start(self, jobs: dict[str, Job]) -> None:
        """Start running jobs in this process (a process that only enqueues never calls it)."""

    async def stop(self) -> None:
        """Take no more jobs; let running ones finish within the drain time, then cancel them."""

    async def close(self) -> None:
        """Release connections (after `stop`)."""


def seconds_until(at: datetime | None, delay: float) -> float:
    return (at - utc_now()).total_seconds() if at is not None else delay


class InProcessQueue:
    """A delay queue run by a few asyncio workers, with one job at a time per task.

    A job already waiting for the same task is merged into the earlier of the two runs, so a burst
    of webhooks and polls for one task costs one run. Urgent jobs (a webhook's confirmation) run
    before any other due job: behind a backlog of routine polls, a finished task would otherwise
    wait as long as the backlog takes to clear.
    """

    def __init__(
        self, jobs: dict[str, Job] | None = None, *, concurrency: int = 8, drain_s: float = 0.0
    ) -> None:
        self.jobs = dict(jobs or {})
        self.concurrency = concurrency
        self.drain_s = drain_s
        # One heap per lane, urgent first; an entry is live while `_due` names its time and lane.
        self._lanes: tuple[list[_Entry], list[_Entry]] = ([], [])
        self._due: dict[tuple[str, str], tuple[float, bool]] = {}
        self._counter = itertools.count()
        self._running: set[str] = set()
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False

    async def enqueue(
        self,
        job: str,
        task_id: str,
        *,
        delay: float = 0.0,
        at: datetime | None = None,
        urgent: bool = False,
    ) -> None:
        if self.jobs and job not in self.jobs:
            raise KeyError(f"unknown job {job!r}")
        due = time.monotonic() + max(0.0, seconds_until(at, delay))
        key = (job, task_id)
        waiting = self._due.get(key)
        if waiting is not None:
            waiting_at, waiting_urgent = waiting
            # Merged into the run already waiting, unless this one is sooner or more urgent.
            if waiting_at <= due and (waiting_urgent or not urgent):
                return
            urgent = urgent or waiting_urgent
            due = min(due, waiting_at)
        self._push(due, job, task_id, urgent)

    def _push(self, at: float, job: str, task_id: str, urgent: bool) -> None:
        self._due[(job, task_id)] = (at, urgent)
        heapq.heappush(self._lanes[0 if urgent else 1], (at, next(self._counter), job, task_id))
        self._wake.set()

    def start(self, jobs: dict[str, Job] | None = None) -> None:
        self.jobs.update(jobs or {})
        self._stopping = False
        self._workers = [
            asyncio.create_task(self._work(), name=f"worker-{n}") for n in range(self.concurrency)
        ]

    async def stop(self) -> None:
        # Idle workers stop at once; busy ones finish their job first, within the drain time.
        self._stopping = True
        self._wake.set()
        if not self._workers:
            return
        _, busy = await asyncio.wait(self._workers, timeout=self.drain_s)
        for worker in busy:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def close(self) -> None:
        return None

    @property
    def pending(self) -> int:
        return len(self._due)

    async def _next(self) -> tuple[str, str] | None:
        while not self._stopping:
            now = time.monotonic()
            for urgent, lane in zip((True, False), self._lanes, strict=True):
                found = self._take_due(lane, urgent, now)
                if found is not None:
                    return found
            heads = [lane[0][0] for lane in self._lanes if lane]
            timeout = min(heads) - now if heads else None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        return None

    def _take_due(self, lane: list[_Entry], urgent: bool, now: float) -> tuple[str, str] | None:
        """The first due job of a lane, removed from it; None when none is due yet."""
        while lane:
            at, _, job, task_id = lane[0]
            key = (job, task_id)
            if self._due.get(key) != (at, urgent):  # superseded by a sooner or urgent run
                heapq.heappop(lane)
                continue
            if at > now:
                return None
            heapq.heappop(lane)
            if task_id in self._running:
                # One job per task at a time: try again a little later, in the same lane.
                self._push(now + 0.05, job, task_id, urgent)
                continue
            del self._due[key]
            return job, task_id
        return None

    async def _work(self) -> None:
        while True:
            picked = await self._next()
            if picked is None:
                self._wake.set()  # pass the stop on to the next idle worker
                return
            job, task_id = picked
            self._running.add(task_id)
            try:
                await self.jobs[job](task_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A job that fails unexpectedly is logged; the recovery sweep brings its task back.
                log.exception("job_failed", job=job, task_id=task_id)
            finally:
                self._running.discard(task_id)
                self._wake.set()
