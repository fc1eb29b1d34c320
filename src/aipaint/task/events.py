"""Change notifications for SSE streams: within one process, or across all of them over Redis.

Each change of a task wakes its streams, which then re-read the task from the database. With
Redis, a change is published on one channel that every process listens to, so a worker's write
reaches the streams of every API process at once; streams also re-read on a timer, so a lost
message (Redis restarting) only delays an update.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)


class TaskEvents:
    def __init__(
        self, redis: Redis | None = None, *, channel: str = "aipaint:task-changed"
    ) -> None:
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._redis = redis
        self._channel = channel
        self._listener: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._unsent: list[str] = []

    def publish(self, task_id: str) -> None:
        if self._redis is None:
            self._wake(task_id)
            return
        # Changes published together (a group commit's tasks) go out in one round trip.
        self._unsent.append(task_id)
        if len(self._unsent) == 1:
            send = asyncio.get_running_loop().create_task(self._send())
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)

    async def sent(self) -> None:
        """Wait until every change published so far has gone out."""
        await asyncio.gather(*self._sends, return_exceptions=True)

    @contextlib.contextmanager
    def subscribe(self, task_id: str) -> Iterator[asyncio.Event]:
        """An event set on each change of the task; subscribe before reading, so none is missed."""
        waiter = asyncio.Event()
        self._waiters[task_id].add(waiter)
        try:
            yield waiter
        finally:
            self._waiters[task_id].discard(waiter)
            if not self._waiters[task_id]:
                del self._waiters[task_id]

    def start(self) -> None:
        if self._redis is not None:
            self._listener = asyncio.create_task(self._listen(self._redis), name="task-events")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await asyncio.gather(*self._sends, return_exceptions=True)

    def _wake(self, task_id: str) -> None:
        for waiter in self._waiters.get(task_id, ()):
            waiter.set()

    async def _send(self) -> None:
        assert self._redis is not None
        task_ids, self._unsent = self._unsent, []
        try:
            async with self._redis.pipeline(transaction=False) as pipeline:
                for task_id in task_ids:
                    pipeline.publish(self._channel, task_id)
                await pipeline.execute()
        except RedisError:
            for task_id in task_ids:
                self._wake(task_id)  # at least this process's streams hear of it now

    async def _listen(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        data = message.get("data")
                        if isinstance(data, bytes):
                            self._wake(data.decode())
            except RedisError as error:
                log.warning("task_events_reconnecting", error=str(error))
                await asyncio.sleep(0.5)
