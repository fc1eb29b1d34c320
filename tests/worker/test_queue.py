"""InProcessQueue: merging, and the urgent lane that runs ahead of a backlog."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aipaint.worker.queue import InProcessQueue, Job

Enqueue = Callable[[InProcessQueue], Awaitable[None]]


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def job(self, name: str) -> Job:
        async def run(task_id: str) -> None:
            self.runs.append((name, task_id))

        return run


def _run(enqueue_all: Enqueue, jobs: int) -> list[tuple[str, str]]:
    recorder = Recorder()

    async def main() -> None:
        queue = InProcessQueue(
            {"poll": recorder.job("poll"), "confirm": recorder.job("confirm")}, concurrency=1
        )
        await enqueue_all(queue)
        queue.start()
        for _ in range(200):
            if len(recorder.runs) >= jobs:
                break
            await asyncio.sleep(0.01)
        await queue.stop()

    asyncio.run(main())
    return recorder.runs


def test_an_urgent_job_runs_before_a_backlog_of_due_jobs() -> None:
    async def enqueue_all(queue: InProcessQueue) -> None:
        for n in range(5):
            await queue.enqueue("poll", f"t{n}")
        await queue.enqueue("confirm", "t9", urgent=True)

    runs = _run(enqueue_all, 6)

    assert runs[0] == ("confirm", "t9")
    assert sorted(runs[1:]) == [("poll", f"t{n}") for n in range(5)]


def test_the_same_job_enqueued_twice_runs_once() -> None:
    async def enqueue_all(queue: InProcessQueue) -> None:
        await queue.enqueue("poll", "t1", delay=0.02)
        await queue.enqueue("poll", "t1")
        await queue.enqueue("poll", "t1", delay=5)

    assert _run(enqueue_all, 2) == [("poll", "t1")]


def test_an_urgent_enqueue_lifts_a_routine_one_of_the_same_job() -> None:
    async def enqueue_all(queue: InProcessQueue) -> None:
        for n in range(3):
            await queue.enqueue("poll", f"t{n}")
        await queue.enqueue("poll", "t7", delay=30)  # a routine poll, far off
        await queue.enqueue("poll", "t7", urgent=True)  # a webhook: now, ahead of the rest

    runs = _run(enqueue_all, 4)

    assert runs[0] == ("poll", "t7")
    assert len(runs) == 4
