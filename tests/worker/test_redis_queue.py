"""RedisJobQueue on a real Redis: runs, merging, wake-ups, the urgent lane, draining."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from aipaint.models.base import utc_now
from aipaint.worker.queue import EVERY, Job
from aipaint.worker.redis_queue import WAKE_WINDOW_S, RedisJobQueue
from tests.stacks import RedisServer, redis_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as running:
        yield running


@pytest.fixture
async def redis(server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.url)
    await client.flushall()
    yield client
    await client.aclose()


class Runs:
    def __init__(self, hold: float = 0.0) -> None:
        self.runs: list[tuple[str, str]] = []
        self.hold = hold

    def job(self, name: str) -> Job:
        async def run(target: str) -> None:
            await asyncio.sleep(self.hold)
            self.runs.append((name, target))

        return run

    async def until(self, count: int, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while len(self.runs) < count:
                await asyncio.sleep(0.02)


async def test_a_job_runs_in_a_consumer_and_its_planned_duplicate_is_merged(redis: Redis) -> None:
    runs = Runs()
    queue = RedisJobQueue(redis, name="t1")
    queue.start({"poll": runs.job("poll")})
    at = utc_now() + timedelta(seconds=0.3)
    for _ in range(3):  # the job's own successor and two overlapping sweeps
        await queue.enqueue("poll", "task-1", at=at)
    await runs.until(1)
    await asyncio.sleep(0.5)
    await queue.stop()
    assert runs.runs == [("poll", "task-1")]


async def test_wake_ups_are_never_merged_into_a_run_under_way(redis: Redis) -> None:
    runs = Runs(hold=0.3)
    queue = RedisJobQueue(redis, name="t2", concurrency=1)
    queue.start({"dispatch": runs.job("dispatch")})
    await queue.enqueue("dispatch", EVERY)
    await asyncio.sleep(0.1)  # the first one is running now
    await queue.enqueue("dispatch", EVERY)
    await runs.until(2)
    await queue.stop()
    assert runs.runs == [("dispatch", EVERY)] * 2


async def test_a_burst_of_wake_ups_costs_one_enqueue_per_window_and_none_is_lost(
    redis: Redis,
) -> None:
    runs = Runs()
    queue = RedisJobQueue(redis, name="t6")
    before = (await redis.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    for _ in range(50):  # a burst of submits, each waking the dispatcher
        await queue.enqueue("dispatch", EVERY)
    await asyncio.sleep(WAKE_WINDOW_S * 3)
    after = (await redis.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    assert after - before == 2  # the first at once, the rest as one at the window's end
    queue.start({"dispatch": runs.job("dispatch")})
    await runs.until(2)
    await queue.stop()
    await queue.close()


async def test_urgent_jobs_pass_a_backlog_of_routine_ones(redis: Redis) -> None:
    runs = Runs(hold=0.05)
    queue = RedisJobQueue(redis, name="t3", concurrency=1, urgent_concurrency=1)
    for n in range(20):
        await queue.enqueue("poll", f"t{n}")
    await queue.enqueue("confirm", "t99", urgent=True)
    queue.start({"poll": runs.job("poll"), "confirm": runs.job("confirm")})
    await runs.until(3)
    await queue.stop()
    assert ("confirm", "t99") in runs.runs[:2]


async def test_a_stopping_queue_lets_the_running_job_finish(redis: Redis) -> None:
    runs = Runs(hold=0.5)
    queue = RedisJobQueue(redis, name="t4", drain_s=5)
    queue.start({"archive": runs.job("archive")})
    await queue.enqueue("archive", "t1")
    await asyncio.sleep(0.2)
    await queue.stop()
    assert runs.runs == [("archive", "t1")]


async def test_a_job_enqueued_while_redis_is_down_is_not_an_error(tmp_path: Path) -> None:
    with redis_server(tmp_path) as down:
        client = Redis.from_url(down.url)
        down.kill()
        queue = RedisJobQueue(client, name="t5")
        await queue.enqueue("poll", "t1")  # logged; the sweep enqueues it again later
        await client.aclose()
