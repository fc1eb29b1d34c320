"""The worker's side of outbound webhooks: send one attempt of a delivery, and the recovery
sweep that enqueues every due delivery from the database.

Each attempt is claimed first (a lease on its row, taken by one atomic UPDATE), so however many
processes run the job, one sends it; a sender that dies leaves a lease that lapses, and the
sweep brings the delivery back. The outcome (the attempt, and the next one's time) is written
after the request; a crash between the two sends that attempt again: at least once.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from standardwebhooks import Webhook

from aipaint.db import reading, transaction
from aipaint.kit.netguard import UnsafeUrl
from aipaint.models import Task, WebhookAttempt
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.webhooks import repository
from aipaint.webhooks.outbox import SEND
from aipaint.webhooks.service import WebhookService
from aipaint.worker.queue import Job
from aipaint.worker.runner import Chore

log = structlog.get_logger(__name__)

# A sender's claim on an attempt lasts the request's timeout and this much more.
LEASE_MARGIN_S = 30.0
# A job may run a moment before its delivery's time (clocks of two processes, timers).
EARLY_S = 1.0
MAX_RETRY_AFTER_S = 86400.0
USER_AGENT = "aipaint-webhooks/1"

# The task as GET /v1/tasks/{id} returns it, as JSON-ready data.
Render = Callable[[Task], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def next_delay(schedule: list[float], attempts: int, retry_after: float | None) -> float | None:
    """Seconds until the attempt after `attempts` failed ones (the schedule's next step, ±10%
    jitter, or a longer Retry-After); None once the schedule has run out."""
    if attempts >= len(schedule):
        return None
    delay = schedule[attempts] * random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds, from its delay-seconds or HTTP-date form; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class Deliverer:
    def __init__(self, runtime: Runtime, render: Render) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.render = render
        self.webhooks = WebhookService(runtime)

    @property
    def jobs(self) -> dict[str, Job]:
        return {SEND: self.send}

    @property
    def chores(self) -> list[Chore]:
        return [Chore("webhook-sweep", self.settings.sweep_interval_s, self.sweep)]

    async def sweep(self, limit: int = 500) -> int:
        """Enqueue every pending delivery that is due and held by no live sender: at start-up
        (recovery after a crash) and periodically, so nothing depends on the queue surviving."""
        async with reading(self.rt.sessions) as session:
            rows = await repository.due(session, utc_now(), limit)
        for delivery_id, at in rows:
            await self.rt.queue.enqueue(SEND, delivery_id, at=at)
        return len(rows)

    async def send(self, delivery_id: str) -> None:
        """Send the delivery's next attempt, if it is due and no one else is sending it."""
        now = utc_now()
        until = now + timedelta(seconds=self.settings.webhook_timeout_s + LEASE_MARGIN_S)
        async with transaction(self.rt.sessions) as session:
            if not await repository.claim(
                session, delivery_id, now + timedelta(seconds=EARLY_S), now, until
            ):
                return
            delivery = await repository.get(session, delivery_id)
            assert delivery is not None
            task = await session.get(Task, delivery.task_id)
            gone = await repository.is_gone(session, delivery.user_id, delivery.url)
        if gone or task is None:
            await self._disable(delivery_id, delivery.user_id, delivery.url, gone)
            return
        keys = await self.webhooks.signing_keys(delivery.user_id, now)
        body = json.dumps(
            {
                "type": delivery.event,
                "timestamp": delivery.created_at.isoformat(),
                "data": self.render(task),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        outcome = await self._post(delivery.url, delivery_id, body, keys)
        await self._record(delivery_id, outcome)

    async def _post(self, url: str, msg_id: str, body: str, keys: list[str]) -> Outcome:
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            # Checked again now: DNS may have moved since the task was created.
            await self.rt.webhook_guard.check(url, follow_redirects=False)
        except UnsafeUrl as unsafe:
            return Outcome(None, took(), f"refused before sending: {unsafe.reason} ({unsafe})")
        sent_at = utc_now()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": " ".join(Webhook(key).sign(msg_id, sent_at, body) for key in keys),
        }
        timeout = self.settings.webhook_timeout_s
        try:
            # The deadline covers the whole exchange: httpx's applies to each network step.
            async with (
                asyncio.timeout(timeout),
                self.rt.webhook_http.stream(
                    "POST", url, content=body.encode(), headers=headers
                ) as response,
            ):
                code = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"), utc_now())
                location = response.headers.get("location")
        except TimeoutError:
            return Outcome(None, took(), f"no answer within {timeout:g} s")
        except httpx.HTTPError as error:
            return Outcome(None, took(), f"{type(error).__name__}: {error}"[:500])
        problem = None
        if 300 <= code < 400:
            problem = f"redirect to {location or '?'} not followed"[:500]
        elif not 200 <= code < 300:
            problem = f"answered {code}"
        return Outcome(code, took(), problem, retry_after)

    async def _record(self, delivery_id: str, outcome: Outcome) -> None:
        now = utc_now()
        stopped: list[str] = []
        async with transaction(self.rt.sessions) as session:
            delivery = await repository.get(session, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            await repository.add_attempt(
                session,
                WebhookAttempt(
                    delivery_id=delivery_id,
                    number=delivery.attempts,
                    at=now - timedelta(milliseconds=outcome.duration_ms),
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    error=outcome.error,
                ),
            )
            delivery.lease_until = None
            delivery.updated_at = now
            delay = None
            if outcome.ok:
                delivery.status = "succeeded"
            elif outcome.gone:
                delivery.status = "disabled"
                stopped = await repository.mark_gone(session, delivery.user_id, delivery.url, now)
            else:
                delay = next_delay(
                    self.settings.webhook_retry_schedule_s, delivery.attempts, outcome.retry_after
                )
                delivery.status = "pending" if delay is not None else "failed"
            delivery.next_attempt_at = None if delay is None else now + timedelta(seconds=delay)
            next_at = delivery.next_attempt_at
            attempts, status = delivery.attempts, delivery.status
        log.info(
            "webhook_attempt",
            delivery_id=delivery_id,
            attempt=attempts,
            status=status,
            status_code=outcome.status_code,
            error=outcome.error,
            stopped=len(stopped),
        )
        if next_at is not None:
            await self.rt.queue.enqueue(SEND, delivery_id, at=next_at)

    async def _disable(self, delivery_id: str, user_id: str, url: str, gone: bool) -> None:
        """Not sent: the URL answered 410 before (or the task is gone)."""
        now = utc_now()
        error = "not sent: the URL answered 410 Gone before" if gone else "not sent: no task"
        async with transaction(self.rt.sessions) as session:
            delivery = await repository.get(session, delivery_id)
            if delivery is None:
                return
            delivery.status = "disabled"
            delivery.lease_until = delivery.next_attempt_at = None
            delivery.updated_at = now
            await repository.add_attempt(
                session,
                WebhookAttempt(
                    delivery_id=delivery_id,
                    number=delivery.attempts + 1,
                    at=now,
                    status_code=None,
                    duration_ms=0,
                    error=error,
                ),
            )
            delivery.attempts += 1
        log.info("webhook_not_sent", delivery_id=delivery_id, user_id=user_id, url=url)
