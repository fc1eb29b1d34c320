"""What a process runs. `aipaint serve`: the API and the studio, plus the worker unless
`AIPAINT_WORKER=false`. `aipaint worker`: the worker alone. Split roles share the job queue, the
query budget and change notifications through Redis, and the tasks through one database.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import threading

import structlog

from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.runtime import Runtime
from aipaint.task.jobs import Lifecycle
from aipaint.task.service import TaskService
from aipaint.webhooks.jobs import Deliverer
from aipaint.worker.redis_queue import STOP_MARGIN_S, pending_tasks
from aipaint.worker.runner import Worker

log = structlog.get_logger(__name__)

# Closing connections once the jobs are drained takes well under this; past it, a stop is stuck.
CLEANUP_S = 10.0


class RoleError(ValueError):
    """Settings that cannot run the asked-for process."""


def check_roles(settings: Settings, *, worker_only: bool = False) -> None:
    if not (worker_only or not settings.worker):
        return
    if not settings.redis_url:
        raise RoleError(
            "A worker process of its own, or an API process without one, shares the job queue "
            "through Redis: set AIPAINT_REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
        )
    if settings.demo:
        raise RoleError(
            "Demo mode runs its simulator inside one process: to split the API and the worker, "
            "set AIPAINT_RUNNINGHUB_API_KEY (and AIPAINT_RUNNINGHUB_BASE_URL for a simulator "
            "started with `aipaint simulator`)."
        )


async def start_worker(runtime: Runtime) -> Worker:
    """The lifecycle's and the webhook deliverer's jobs and chores on the runtime's queue,
    recovered and running."""
    lifecycle = Lifecycle(runtime, runtime.queue)
    tasks = TaskService(runtime)
    deliverer = Deliverer(runtime, lambda task: tasks.read(task).model_dump(mode="json"))
    worker = Worker(
        runtime.queue,
        {**lifecycle.jobs, **deliverer.jobs},
        [*lifecycle.chores, *deliverer.chores],
    )
    recovered = await lifecycle.start()
    await deliverer.sweep()
    worker.start()
    log.info(
        "worker_started",
        recovered=recovered,
        upstream_limit=runtime.upstream_limit,
        owner=runtime.owner,
        queue="redis" if runtime.redis is not None else "in-process",
    )
    return worker


async def run_worker(settings: Settings) -> None:
    """`aipaint worker`: run until SIGTERM or SIGINT, then drain and exit."""
    check_roles(settings, worker_only=True)
    catalog = Catalog.load(settings.catalog_dir)
    runtime = await Runtime.start(settings, catalog)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        worker = await start_worker(runtime)
        await stop.wait()
        log.info("worker_draining", drain_timeout_s=settings.drain_timeout_s)
        _exit_if_stuck(settings.drain_timeout_s + STOP_MARGIN_S + CLEANUP_S)
        await worker.stop()
    finally:
        await runtime.stop()
    log.info("worker_stopped")


def _exit_if_stuck(after_s: float) -> None:
    """A process asked to stop exits within `after_s`, whatever holds it up (a stuck
    connection, a thread the interpreter would wait for): what was still running is logged, and
    anything it held goes back to the others through the database (leases lapse, sweeps
    re-enqueue). A thread, so that an event loop blocked for good cannot hold it back."""
    loop = asyncio.get_running_loop()
    # Asked a moment before the exit, while the loop can still answer.
    loop.call_later(after_s - 1, lambda: log.error("worker_stop_slow", waiting=pending_tasks()))

    def give_up() -> None:
        log.error("worker_stop_overran", after_s=after_s)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(1)

    timer = threading.Timer(after_s, give_up)
    timer.daemon = True  # never what keeps the interpreter from exiting
    timer.start()
