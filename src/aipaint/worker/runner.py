"""The worker: a job queue's consumers plus the periodic chores registered with it.

It knows nothing of tasks. The process that starts it (`aipaint.roles`) registers the lifecycle's
jobs and chores (the recovery sweep, the lease keeper), so the same runner serves any job set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from aipaint.worker.queue import Job, JobQueue

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Chore:
    """Something to run every `interval` seconds (the first run `interval` after start)."""

    name: str
    interval: float
    run: Callable[[], Awaitable[object]]


class Worker:
    def __init__(self, queue: JobQueue, jobs: dict[str, Job], chores: list[Chore]) -> None:
        self.queue = queue
        self.jobs = jobs
        self.chores = chores
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.queue.start(self.jobs)
        self._loops = [
            asyncio.create_task(self._every(chore), name=chore.name) for chore in self.chores
        ]

    async def stop(self) -> None:
        """Drain: take no new job, let running ones finish (up to the queue's drain time); the
        chores go on meanwhile, since a running submit needs its lease kept alive."""
        await self.queue.stop()
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []

    async def _every(self, chore: Chore) -> None:
        while True:
            await asyncio.sleep(chore.interval)
            try:
                await chore.run()
            except Exception:
                # A chore that fails is logged and runs again at its next turn.
                log.exception("chore_failed", chore=chore.name)
