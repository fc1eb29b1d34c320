"""TaskEvents over a real Redis: a change published in one process wakes the streams of another;
with Redis gone, the publishing process's own streams still hear of it."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import pytest
from redis.asyncio import Redis

from aipaint.task.events import TaskEvents
from tests.stacks import redis_server

pytestmark = pytest.mark.anyio
IDS = [f"tsk_{n:02d}" for n in range(20)]


async def test_changes_committed_together_reach_another_process(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        worker, api = Redis.from_url(server.url), Redis.from_url(server.url)
        publisher, listener = TaskEvents(worker), TaskEvents(api)
        listener.start()
        try:
            with ExitStack() as streams:
                waiters = [streams.enter_context(listener.subscribe(task_id)) for task_id in IDS]
                await _until_subscribed(api)
                for task_id in IDS:  # as a group commit's tasks are published
                    publisher.publish(task_id)
                async with asyncio.timeout(5):
                    await asyncio.gather(*(waiter.wait() for waiter in waiters))
        finally:
            await publisher.stop()
            await listener.stop()
            await worker.aclose()
            await api.aclose()


async def test_without_redis_the_publishing_process_still_wakes_its_streams(
    tmp_path: Path,
) -> None:
    with redis_server(tmp_path) as server:
        client = Redis.from_url(server.url)
        server.stop()
        events = TaskEvents(client)
        try:
            with events.subscribe(IDS[0]) as changed:
                events.publish(IDS[0])
                async with asyncio.timeout(5):
                    await changed.wait()
        finally:
            await events.stop()
            await client.aclose()


async def _until_subscribed(redis: Redis) -> None:
    async with asyncio.timeout(5):
        while not (await redis.pubsub_numsub("aipaint:task-changed"))[0][1]:
            await asyncio.sleep(0.01)
