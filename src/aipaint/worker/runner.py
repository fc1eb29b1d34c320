"""The in-process worker: the job queue, the lifecycle's jobs, and the recovery sweep."""

from __future__ import annotations

import asyncio

import structlog

from aipaint.runtime import Runtime
from aipaint.task.jobs import Lifecycle
from aipaint.upstream import UpstreamError
from aipaint.worker.queue import InProcessQueue

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue = InProcessQueue({}, concurrency=runtime.settings.worker_concurrency)
        self.lifecycle = Lifecycle(runtime, self.queue)
        self.queue.jobs.update(self.lifecycle.jobs)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh_upstream_limit()
        self.queue.start()
        # Every unfinished task is due at start-up: this is the recovery after a crash.
        recovered = await self.lifecycle.sweep()
        log.info("worker_started", recovered=recovered, upstream_limit=self.runtime.upstream_limit)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.queue.stop()

    async def refresh_upstream_limit(self) -> None:
        """AIPAINT_UPSTREAM_CONCURRENCY, else RunningHub's queue status, else 1."""
        configured = self.runtime.settings.upstream_concurrency
        if configured is not None:
            self.runtime.upstream_limit = configured
            return
        try:
            status = await self.runtime.upstream.queue_status()
        except UpstreamError as error:
            log.warning("upstream_limit_unknown", code=error.upstream_code)
            return
        if status.concurrent_limit and status.concurrent_limit > 0:
            self.runtime.upstream_limit = status.concurrent_limit

    async def _sweep_forever(self) -> None:
        interval = self.runtime.settings.sweep_interval_s
        rounds = 0
        while True:
            await asyncio.sleep(interval)
            rounds += 1
            try:
                await self.lifecycle.sweep()
                if rounds % max(1, round(60 / interval)) == 0:
                    await self.refresh_upstream_limit()
            except Exception:
                log.exception("sweep_failed")
