"""The job queue on Redis, for many processes: SAQ underneath (why SAQ: docs/architecture/05).

Every process enqueues; worker processes also run jobs. Two SAQ queues make the two lanes: urgent
jobs (a webhook's confirmation, archiving a finished task) have consumers of their own, so a
backlog of routine polls never delays them.

What SAQ gives: at most one waiting or running job per key across the deployment; jobs of a
worker that died are found by their missed heartbeats and run again elsewhere; a stopping worker
takes no new job and lets running ones finish. Keys are chosen so that merging works as the
in-process queue's does: `job|target|due time`, where a run planned for a task's next check
(`at`) carries that time, so the sweep's re-enqueue of a task whose run is already waiting is
dropped as a duplicate. Wake-ups (target `EVERY`) are never merged away: each gets a key of its
own, and this process sends at most one per job every `WAKE_WINDOW_S`: the ones asked for
meanwhile go out as one at the window's end.

SAQ schedules delayed jobs once a second; runs due within `LOCAL_TIMER_S` wait on a timer here
instead and are enqueued when due, so short poll intervals keep their precision. A process that
dies loses those timers and nothing else: the database's next check brings the task back.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
import uuid
from datetime import datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job as SaqJob
from saq import Queue as SaqQueue
from saq import Worker as SaqWorker
from saq.queue.redis import RedisQueue
from saq.types import Context, TimersDict

from aipaint.worker.queue import EVERY, Job, seconds_until

log = structlog.get_logger(__name__)

LOCAL_TIMER_S = 2.0
WAKE_WINDOW_S = 0.02
HEARTBEAT_S = 10  # a job whose worker stops beating for this long is run again elsewhere
# How often SAQ looks for such jobs. Its sweep can also take a job that a worker has only just
# dequeued for a stuck one (a race inside SAQ): so not too often, and jobs are shielded from
# the cancel that follows (they are idempotent; a second run does no harm).
SWEEP_S = 30
# How much longer than the drain time stopping may take before it gives up on SAQ's consumers.
STOP_MARGIN_S = 5.0


class _Lane(RedisQueue):
    """An SAQ queue that waits a moment when Redis is out of reach, instead of its consumers
    asking again in a tight loop until it is back."""

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        try:
            return await super().sweep(lock, abort)
        except RuntimeError:
            # SAQ's sweep took a job that had only just been dequeued for a stuck one, and it
            # finished meanwhile (see SWEEP_S): there is nothing left to sweep.
            return []

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> SaqJob | None:
        try:
            return await super().dequeue(timeout, poll_interval)
        except RedisError as error:
            log.warning("dequeue_failed", queue=self.name, error=str(error))
            await asyncio.sleep(0.5)
            return None


class _QuietWorker(SaqWorker[Context]):
    # The process's own shutdown (uvicorn's, or `aipaint worker`'s) handles the signals.
    SIGNALS: list[signal.Signals] = []  # noqa: RUF012


class RedisJobQueue:
    def __init__(
        self,
        redis: Redis,
        *,
        name: str = "aipaint",
        concurrency: int = 8,
        urgent_concurrency: int = 4,
        drain_s: float = 30.0,
    ) -> None:
        self.redis = redis
        self._lanes: dict[bool, SaqQueue] = {
            urgent: _Lane(redis, name=f"{name}-{'urgent' if urgent else 'routine'}")
            for urgent in (False, True)
        }
        self._concurrency = {False: concurrency, True: urgent_concurrency}
        self._drain_s = drain_s
        self._workers: list[_QuietWorker] = []
        self._running: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._waking: dict[str, bool] = {}  # wake-ups in their window: job -> another asked for
        self._trailing: set[asyncio.Task[None]] = set()
        self._heartbeats: dict[str, asyncio.Task[None]] = {}  # job key -> its heartbeat

    async def enqueue(
        self,
        job: str,
        target: str,
        *,
        delay: float = 0.0,
        at: datetime | None = None,
        urgent: bool = False,
    ) -> None:
        wait = seconds_until(at, delay)
        if target == EVERY:
            await self._wake(job, wait, urgent)
            return
        due = f"{at.timestamp():.3f}" if at is not None else ("now" if wait <= 0 else None)
        key = f"{job}|{target}|{due or f'{time.time() + wait:.3f}'}"
        await self._put(job, target, key, wait, urgent)

    async def _wake(self, job: str, wait: float, urgent: bool) -> None:
        if wait > 0:
            await self._put(job, EVERY, f"{job}|{EVERY}|{uuid.uuid4().hex}", wait, urgent)
            return
        if job in self._waking:
            self._waking[job] = True  # sent as one at the end of the window
            return
        self._waking[job] = False
        try:
            await self._put(job, EVERY, f"{job}|{EVERY}|{uuid.uuid4().hex}", 0.0, urgent)
        finally:
            trailing = asyncio.create_task(self._trail(job, urgent), name="wake-up-window")
            self._trailing.add(trailing)
            trailing.add_done_callback(self._trailing.discard)

    async def _trail(self, job: str, urgent: bool) -> None:
        """Wake-ups asked for within WAKE_WINDOW_S of one sent go out as one at the window's
        end: a burst of submits costs Redis one enqueue per window, not one each."""
        try:
            while True:
                await asyncio.sleep(WAKE_WINDOW_S)
                if not self._waking[job]:
                    return
                self._waking[job] = False
                await self._put(job, EVERY, f"{job}|{EVERY}|{uuid.uuid4().hex}", 0.0, urgent)
        finally:
            del self._waking[job]

    async def _put(self, job: str, target: str, key: str, wait: float, urgent: bool) -> None:
        if 0 < wait <= LOCAL_TIMER_S:
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle

            def fire() -> None:
                self._timers.discard(handle)
                task = loop.create_task(self._put(job, target, key, 0.0, urgent))
                task.add_done_callback(_log_failure)

            handle = loop.call_later(wait, fire)
            self._timers.add(handle)
            return
        scheduled = time.time() + wait if wait > 0 else 0
        try:
            await self._lanes[urgent].enqueue(
                job,
                key=key,
                scheduled=scheduled,
                target=target,
                timeout=0,
                heartbeat=HEARTBEAT_S,
                retries=2,
                ttl=-1,
            )
        except RedisError as error:
            # The task's next check is in the database: the recovery sweep enqueues it again.
            log.warning("enqueue_failed", job=job, target=target, error=str(error))

    def start(self, jobs: dict[str, Job]) -> None:
        functions = [(name, _runner(run)) for name, run in jobs.items()]
        for urgent, lane in self._lanes.items():
            worker = _QuietWorker(
                lane,
                functions,
                concurrency=self._concurrency[urgent],
                timers=TimersDict(schedule=1, worker_info=10, sweep=SWEEP_S, abort=1),
                dequeue_timeout=1.0,
                shutdown_grace_period_s=math.ceil(self._drain_s),
                before_process=[self._start_heartbeat],
                after_process=[self._stop_heartbeat],
            )
            self._workers.append(worker)
            self._running.append(asyncio.create_task(worker.start(), name=f"saq-{lane.name}"))

    async def stop(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for worker in self._workers:
            # SAQ waits for its upkeep loops too, which sleep up to a sweep interval between
            # rounds: only the jobs deserve the drain time.
            worker.event.set()
            for task in worker.tasks:
                if task.get_name() != "process":
                    task.cancel()
        try:
            # Bounded: a process asked to stop must exit, whatever a consumer is stuck on.
            async with asyncio.timeout(self._drain_s + STOP_MARGIN_S):
                await asyncio.gather(
                    *(worker.stop() for worker in self._workers), return_exceptions=True
                )
        except TimeoutError:
            log.error("queue_stop_overran", waiting=pending_tasks())
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        self._workers, self._running = [], []

    async def _start_heartbeat(self, ctx: Context) -> None:
        job = ctx["job"]

        async def beat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_S / 3)
                with contextlib.suppress(RedisError):
                    await job.update()

        self._heartbeats[job.key] = asyncio.create_task(beat(), name="heartbeat")

    async def _stop_heartbeat(self, ctx: Context) -> None:
        beat = self._heartbeats.pop(ctx["job"].key, None)
        if beat is not None:
            beat.cancel()

    async def close(self) -> None:
        # A wake-up still in its window goes out: another process's worker may be waiting for it.
        await asyncio.gather(*self._trailing, return_exceptions=True)
        for lane in self._lanes.values():
            with contextlib.suppress(Exception):
                await lane.disconnect()


def _runner(run: Job) -> Any:
    async def job(ctx: Context, *, target: str) -> None:
        # Never cancelled halfway: a submit cut off mid-call would leave its outcome unknown.
        # A job SAQ gives up on (a sweep, the end of the drain time) finishes in the background.
        await asyncio.shield(run(target))

    return job


def pending_tasks() -> list[str]:
    """Where each of this process's unfinished tasks waits, to tell what held a stop up."""
    described = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=1)
        where = f"{frames[0].f_code.co_filename}:{frames[0].f_lineno}" if frames else "?"
        described.append(f"{task.get_name()} at {where}")
    return described


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("enqueue_failed", error=str(task.exception()))
