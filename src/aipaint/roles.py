"""What a process runs. `aipaint serve`: the API and the studio, plus the worker unless
`AIPAINT_WORKER=false`. `aipaint worker`: the worker alone. Split roles share the job queue, the
query budget and change notifications through Redis, and the tasks through one database.
"""

from __future__ import annotations

import asyncio
import signal

import structlog

from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.runtime import Runtime
from aipaint.task.jobs import Lifecycle
from aipaint.task.service import TaskService
from aipaint.webhooks.jobs import Deliverer
from aipaint.worker.runner import Worker

log = structlog.get_logger(__name__)


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
        await worker.stop()
    finally:
        await runtime.stop()
    log.info("worker_stopped")
