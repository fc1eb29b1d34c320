"""The RunningHub key's upstream slots: its limit, RunningHub's own count, and atomic claims."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from aipaint.db import reading, transaction
from aipaint.models import Task
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.task import repository
from aipaint.upstream import QueueStatus, UpstreamError

log = structlog.get_logger(__name__)


class UpstreamSlots:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        # RunningHub's count is trusted for a few refresh intervals, then assumed unknown.
        self.fresh_s = 3 * self.settings.queue_status_refresh_s

    async def claim(self, owner: str, at_most: int) -> list[Task]:
        """Claim free slots for at most `at_most` due pending tasks, as `owner` (see
        `TaskSaver.claim`)."""
        return await self.rt.saver.claim(
            self.rt.account,
            self.rt.upstream_limit,
            owner,
            lease_s=self.settings.submit_lease_s,
            fresh_s=self.fresh_s,
            at_most=at_most,
        )

    async def refresh_limit(self) -> None:
        """AIPAINT_UPSTREAM_CONCURRENCY, else RunningHub's queue status, else 1."""
        configured = self.settings.upstream_concurrency
        if configured is not None:
            self.rt.upstream_limit = configured
            return
        status = await self._read_status()
        if status is not None and status.concurrent_limit and status.concurrent_limit > 0:
            self.rt.upstream_limit = status.concurrent_limit

    async def reconcile(self) -> None:
        """While submits of unknown outcome wait, keep RunningHub's count of the key's tasks in
        flight fresh: it decides how many slots they hold."""
        now = utc_now()
        async with reading(self.rt.sessions) as session:
            unknown = (await repository.slot_counts(session, self.rt.account, now)).unknown
            account = await repository.get_account(session, self.rt.account)
        if unknown == 0:
            return
        checked = account.checked_at if account is not None else None
        if (
            checked is not None
            and (now - checked).total_seconds() < self.settings.queue_status_refresh_s
        ):
            return
        await self._read_status()

    async def _read_status(self) -> QueueStatus | None:
        try:
            status = await self.rt.upstream.queue_status()
        except UpstreamError as error:
            log.warning("upstream_queue_status_unknown", code=error.upstream_code)
            return None
        now = utc_now()
        async with transaction(self.rt.sessions) as session:
            account = await repository.lock_account(session, self.rt.account)
            known = (await repository.slot_counts(session, self.rt.account, now)).known
            account.concurrent_limit = status.concurrent_limit
            account.running, account.queued = status.running or 0, status.queued or 0
            account.checked_at = now
            idle = account.running + account.queued <= known
            account.idle_since = (account.idle_since or now) if idle else None
        return status

    async def vouches_absent(self, since: datetime) -> bool:
        """Whether RunningHub's count, read at least `uncertain_grace_s` after `since`, shows
        nothing in flight beyond the tasks we track: a submit of unknown outcome made at
        `since` then either never landed or finished without its webhook reaching us."""
        async with reading(self.rt.sessions) as session:
            account = await repository.get_account(session, self.rt.account)
        if account is None or account.idle_since is None or account.checked_at is None:
            return False
        return account.checked_at >= since + timedelta(seconds=self.settings.uncertain_grace_s)
