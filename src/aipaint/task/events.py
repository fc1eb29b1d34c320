"""Change notifications for SSE streams, within one process.

Each change of a task wakes its streams, which then re-read the task from the database. Streams
also re-read on a timer, so a change made by another process (a separate worker) is seen too.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class TaskEvents:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def publish(self, task_id: str) -> None:
        for waiter in self._waiters.get(task_id, ()):
            waiter.set()

    @contextmanager
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
