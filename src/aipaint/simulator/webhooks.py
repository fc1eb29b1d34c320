"""Webhook delivery on task completion, with retries, and the webhook faults.

RunningHub POSTs `{"event": "TASK_END", "taskId", "eventData": "<JSON string>"}` once a task ends
and retries when the receiver fails or is slow (getWebhookDetail shows up to 3 retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from aipaint.simulator.state import SimTask, SimulatorState

log = structlog.get_logger("aipaint.simulator")

# Builds the eventData object of a finished task (shape chosen by the settings).
EventData = Callable[[SimTask], dict[str, Any]]


@dataclass(order=True)
class _Delivery:
    due: float
    sequence: int
    task_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


class WebhookDispatcher:
    def __init__(self, state: SimulatorState, event_data: EventData) -> None:
        self.state = state
        self.event_data = event_data
        self._queue: list[_Delivery] = []
        self._sequence = 0
        self._wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._runner: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def schedule(self, task: SimTask) -> None:
        """Plan the TASK_END webhook of a task that has a webhook URL and will finish."""
        state, faults = self.state, self.state.settings.faults
        if task.ends_at is None or task.webhook_url is None:
            return
        if state.roll(faults.webhook_drop_rate):
            state.webhooks["dropped"] += 1
            task.faults.append("webhook_dropped")
            log.info("sim_fault", fault="webhook_dropped", task_id=task.id)
            return
        due = task.ends_at
        if faults.webhook_delay_s:
            due += state.random.uniform(0, faults.webhook_delay_s)
        self._push(due, task.id)
        if state.roll(faults.webhook_duplicate_rate):
            state.webhooks["duplicated"] += 1
            task.faults.append("webhook_duplicated")
            log.info("sim_fault", fault="webhook_duplicated", task_id=task.id)
            self._push(due + state.random.uniform(0, 0.5) / state.settings.speed, task.id)

    def _push(self, due: float, task_id: str, attempt: int = 1) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, _Delivery(due, self._sequence, task_id, attempt))
        self._wake.set()

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.state.settings.webhook_timeout_s)
        self._runner = asyncio.create_task(self._run(), name="sim-webhooks")

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        for sending in list(self._sending):
            sending.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.state.clock()
            while self._queue and self._queue[0].due <= now:
                delivery = heapq.heappop(self._queue)
                sending = asyncio.create_task(self._deliver(delivery))
                self._sending.add(sending)
                sending.add_done_callback(self._sending.discard)
            timeout = self._queue[0].due - now if self._queue else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _deliver(self, delivery: _Delivery) -> None:
        assert self._http is not None
        state = self.state
        task = state.tasks[delivery.task_id]
        assert task.webhook_url is not None
        body = {
            "event": "TASK_END",
            "taskId": task.id,
            "eventData": json.dumps(self.event_data(task), ensure_ascii=False),
        }
        started = time.monotonic()
        outcome: str
        try:
            response = await self._http.post(task.webhook_url, json=body)
            outcome = str(response.status_code)
            ok = response.is_success
        except httpx.HTTPError as exc:
            outcome, ok = type(exc).__name__, False
        task.webhook_deliveries.append(
            {
                "attempt": delivery.attempt,
                "at": state.clock(),
                "outcome": outcome,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
        )
        state.webhooks["sent"] += 1
        if ok:
            state.webhooks["delivered"] += 1
            return
        state.webhooks["failed"] += 1
        settings = state.settings
        if delivery.attempt >= settings.webhook_attempts:
            state.webhooks["given_up"] += 1
            log.info("sim_webhook_given_up", task_id=task.id, outcome=outcome)
            return
        backoff = settings.webhook_backoff_s * 2 ** (delivery.attempt - 1) / settings.speed
        self._push(state.clock() + backoff, task.id, delivery.attempt + 1)
