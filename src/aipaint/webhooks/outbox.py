"""The outbox: a task's webhook deliveries, written in the transaction of the change that causes
them, and their send jobs enqueued once that transaction has committed.

`TaskSaver` calls `record` for every task it changes, inside its transaction, so a delivery
exists exactly when the state change does: a crash can lose neither one without the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aipaint.kit.ids import new_id
from aipaint.models import Task, WebhookDelivery
from aipaint.worker.queue import JobQueue

SEND = "webhook.send"
RUNNING = "task.running"
# Sent for every task that has a webhook URL; task.running only when the task asked for it.
FINAL_EVENTS = ("task.succeeded", "task.failed", "task.canceled")
EVENTS = (RUNNING, *FINAL_EVENTS)


def events_of(task: Task, status_before: str) -> list[str]:
    """The events a change of `task` from `status_before` causes."""
    if task.webhook_url is None or task.status == status_before:
        return []
    event = f"task.{task.status}"
    if event in FINAL_EVENTS or (event == RUNNING and RUNNING in (task.webhook_events or ())):
        return [event]
    return []


def record(session: AsyncSession, task: Task, status_before: str, now: datetime) -> list[str]:
    """Add the deliveries the change causes to the session (its transaction); their ids."""
    ids = []
    for event in events_of(task, status_before):
        assert task.webhook_url is not None
        delivery = WebhookDelivery(
            id=new_id("msg_"),
            task_id=task.id,
            user_id=task.user_id,
            event=event,
            url=task.webhook_url,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        ids.append(delivery.id)
    return ids


class Outbox:
    """Enqueues the first attempt of deliveries whose transaction has committed. Should the
    enqueue be lost (a crash, Redis down), the worker's sweep finds the delivery in the
    database."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._enqueuing: set[asyncio.Task[None]] = set()

    def committed(self, delivery_ids: Sequence[str]) -> None:
        loop = asyncio.get_running_loop()
        for delivery_id in delivery_ids:
            enqueue = loop.create_task(self.queue.enqueue(SEND, delivery_id))
            self._enqueuing.add(enqueue)
            enqueue.add_done_callback(self._enqueuing.discard)
