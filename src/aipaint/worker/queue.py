"""The one enqueue seam of the worker, and its in-process implementation.

The lifecycle only ever calls `queue.enqueue(job, task_id, delay=…)`. Jobs are idempotent and read
the task's state from the database, which is the durable truth: the queue only decides *when*
a job runs. So losing the queue (a crash) loses nothing — the recovery sweep re-enqueues from the
database — and a distributed queue (arq, Redis) can replace this one without touching the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

Job = Callable[[str], Awaitable[None]]


class JobQueue(Protocol):
    async def enqueue(self, job: str, task_id: str, *, delay: float = 0.0) -> None: ...


class InProcessQueue:
    """A delay queue run by a few asyncio workers, with one job at a time per task.

    A job already waiting for the same task is merged into the earlier of the two runs, so a burst
    of webhooks and polls for one task costs one run.
    """

    def __init__(self, jobs: dict[str, Job], *, concurrency: int = 8) -> None:
        self.jobs = jobs
        self.concurrency = concurrency
        self._heap: list[tuple[float, int, str, str]] = []
        self._due: dict[tuple[str, str], float] = {}
        self._counter = itertools.count()
        self._running: set[str] = set()
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []

    async def enqueue(self, job: str, task_id: str, *, delay: float = 0.0) -> None:
        if job not in self.jobs:
            raise KeyError(f"unknown job {job!r}")
        at = time.monotonic() + max(0.0, delay)
        key = (job, task_id)
        if key in self._due and self._due[key] <= at:
            return
        self._due[key] = at
        heapq.heappush(self._heap, (at, next(self._counter), job, task_id))
        self._wake.set()

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"worker-{n}") for n in range(self.concurrency)
        ]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    @property
    def pending(self) -> int:
        return len(self._due)

    async def _next(self) -> tuple[str, str]:
        while True:
            now = time.monotonic()
            while self._heap:
                at, _, job, task_id = self._heap[0]
                key = (job, task_id)
                if self._due.get(key) != at:  # superseded by an earlier run of the same job
                    heapq.heappop(self._heap)
                    continue
                if at > now:
                    break
                if task_id in self._running:
                    # One job per task at a time: try again a little later.
                    heapq.heapreplace(self._heap, (now + 0.05, next(self._counter), job, task_id))
                    self._due[key] = now + 0.05
                    continue
                heapq.heappop(self._heap)
                del self._due[key]
                return job, task_id
            timeout = self._heap[0][0] - now if self._heap else None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _work(self) -> None:
        while True:
            job, task_id = await self._next()
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
