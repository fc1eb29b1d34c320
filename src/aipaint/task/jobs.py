"""The worker's jobs: dispatch (submit), poll (track) and archive, plus the recovery sweep.

Every job reads the task from the database, acts, and writes the outcome through the one state
machine (`TaskSaver.apply`). Jobs are idempotent, so running one twice — after a crash, in two
processes, or because a webhook and a timer both asked — does no harm.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import structlog

from aipaint.db import reading
from aipaint.metrics import ARCHIVED_BYTES, SUBMITS
from aipaint.models import Output, Task
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.storage import StorageUnavailable
from aipaint.task import repository
from aipaint.task.leases import SubmitLeases
from aipaint.task.saving import Change
from aipaint.task.state import (
    Archived,
    Failed,
    OutcomeUnknown,
    SubmitDeferred,
    Submitted,
    UpstreamReport,
)
from aipaint.task.upstream_slots import UpstreamSlots
from aipaint.upstream import (
    ErrorKind,
    RetryPolicy,
    SubmitUncertain,
    UpstreamError,
    UpstreamNotFound,
    UpstreamStatus,
)
from aipaint.upstream.client import DEFAULT_LIMITS
from aipaint.worker.queue import EVERY, Job, JobQueue
from aipaint.worker.runner import Chore

log = structlog.get_logger(__name__)

DISPATCH, POLL, ARCHIVE = "task.dispatch", "task.poll", "task.archive"
# A poll a webhook asked for: the task has likely just finished, so it goes before routine polls.
CONFIRM = "task.confirm"
# Submits one process sends at once, whatever the key's limit: beyond the upstream client's
# connections they would only queue, and httpx's pool spends time quadratic in its queue.
SUBMITS_IN_FLIGHT = DEFAULT_LIMITS.max_connections or 50
# Where the capacity family lands: keep the task pending and try later.
_WAIT_KINDS = {
    ErrorKind.CAPACITY,
    ErrorKind.RATE_LIMITED,
    ErrorKind.UNAVAILABLE,
    ErrorKind.TRANSIENT,
}
# Webhooks name the task; without them a submit of unknown outcome can never be found again.
_UNCERTAIN_HINT = (
    "The task may exist on RunningHub: look for it in the RunningHub call records at that time "
    "before submitting it again."
)


class Lifecycle:
    def __init__(self, runtime: Runtime, queue: JobQueue) -> None:
        self.rt = runtime
        self.queue = queue
        self.settings = settings = runtime.settings
        self.saver = runtime.saver
        self.leases = SubmitLeases(runtime.saver, runtime.owner, settings.submit_lease_s)
        self.slots = UpstreamSlots(runtime)
        self._submitting = 0  # this process's submits claimed and not yet ended
        self.submit_backoff = _policy(settings.submit_backoff_s, settings.submit_backoff_max_s)
        self.query_backoff = _policy(settings.poll_min_s, settings.poll_max_s)
        self.archive_backoff = _policy(settings.archive_backoff_s, settings.archive_backoff_max_s)
        # With webhooks on, routine polls get half the budget (the rest confirms webhooks).
        self.poll_rate = settings.upstream_qps * (0.5 if settings.public_url else 1.0)
        self.tracked = 0  # tasks followed upstream, deployment-wide (refreshed by the sweep)

    @property
    def jobs(self) -> dict[str, Job]:
        return {
            DISPATCH: self.dispatch,
            POLL: self.poll,
            CONFIRM: self.confirm,
            ARCHIVE: self.archive,
        }

    @property
    def chores(self) -> list[Chore]:
        settings = self.settings
        return [
            Chore("sweep", settings.sweep_interval_s, self.sweep),
            Chore("leases", settings.submit_lease_s / 3, self.leases.renew),
            Chore("upstream-limit", 60.0, self.slots.refresh_limit),
        ]

    async def start(self) -> int:
        """Before the queue runs: learn the key's limit, then sweep (recovery after a crash)."""
        await self.slots.refresh_limit()
        return await self.sweep()

    # --- dispatch: submit pending tasks while upstream slots are free ---------------------------

    async def dispatch(self, _: str = EVERY) -> None:
        await self.slots.reconcile()
        room = SUBMITS_IN_FLIGHT - self._submitting
        if room <= 0:
            return  # the submits in flight look again when they end
        # Reserved before the claim's wait: dispatches running at once share the room.
        self._submitting += room
        claimed: list[Task] = []
        try:
            claimed = await self.slots.claim(self.leases.owner, room)
        finally:
            self._submitting -= room - len(claimed)
        if not claimed:
            return
        for task in claimed:
            self.leases.hold(task.id)

        async def submit(task: Task) -> None:
            try:
                await self._submit(task)
            finally:
                self._submitting -= 1  # room for a dispatch woken meanwhile, not after the last

        await asyncio.gather(*(submit(task) for task in claimed))
        # Slots or the queue changed: look again.
        await self.queue.enqueue(DISPATCH, EVERY)

    async def _submit(self, task: Task) -> None:
        """Send one claimed task; its lease is kept alive until the outcome is saved."""
        try:
            if await self.leases.confirm(task.id):
                await self._send(task)
        finally:
            self.leases.release(task.id)

    async def _send(self, task: Task) -> None:
        try:
            accepted = await self.rt.upstream.submit(
                task.model, task.params, webhook_url=self.hook_url(task.id)
            )
        except SubmitUncertain as uncertain:
            SUBMITS.labels("uncertain").inc()
            await self._outcome_unknown(task.id, uncertain.params_digest)
            return
        except UpstreamError as error:
            await self._refused(task, error)
            return
        SUBMITS.labels("accepted").inc()
        # The first poll time is saved with the outcome, so the sweep leaves it to its timer.
        saved = await self.saver.apply(
            task.id, Submitted(accepted.task_id, accepted.status), check_at=self.poll_delay()
        )
        log.info("task_submitted", task_id=task.id, upstream_task_id=accepted.task_id)
        if accepted.status is UpstreamStatus.SUCCEEDED:
            saved = await self.saver.apply(
                task.id, UpstreamReport(accepted.status, accepted.results)
            )
        # A final status other than success is confirmed (with its reason) by the first poll.
        await self._follow(saved)

    async def _refused(self, task: Task, error: UpstreamError) -> None:
        if error.kind in _WAIT_KINDS:
            # Queue, don't reject: the task stays pending and waits its turn. The claim counted
            # this attempt, so the backoff grows with every deferral.
            SUBMITS.labels("deferred").inc()
            delay = self.submit_backoff.delay(task.submit_attempts, error.retry_after)
            await self.saver.apply(task.id, SubmitDeferred(), check_at=delay)
            log.info(
                "task_submit_deferred", task_id=task.id, code=error.upstream_code, delay_s=delay
            )
            await self.queue.enqueue(DISPATCH, EVERY, delay=delay)
            return
        SUBMITS.labels("refused").inc()
        await self.saver.apply(
            task.id, Failed(error.code, error.message.en, upstream_code=error.upstream_code)
        )
        log.info("task_refused", task_id=task.id, code=error.upstream_code)

    async def _outcome_unknown(self, task_id: str, digest: str | None) -> None:
        if not self.settings.public_url:
            await self._fail_uncertain(task_id, digest, by_owner=True)
            return
        # The webhook URL carries our task id: if the task did land, its webhook names it.
        wait = self._uncertain_wait(utc_now(), utc_now())
        saved = await self.saver.apply(task_id, OutcomeUnknown(), check_at=wait)
        log.warning("task_submit_uncertain_waiting", task_id=task_id)
        await self.queue.enqueue(POLL, task_id, at=saved.next_check_at if saved else None)

    async def _fail_uncertain(
        self, task_id: str, digest: str | None = None, *, by_owner: bool = False
    ) -> None:
        """Fail a task whose submit may or may not have landed: by its owner, when the call's
        outcome is unknown, or by recovery, once no live owner holds it and nothing named it."""
        now = utc_now()

        def fail(task: Task) -> bool:
            # Decided on the locked, current row: a submit that settled meanwhile stays settled.
            if task.upstream_task_id is not None or task.submit_started_at is None:
                return False
            if not by_owner and _lease_live(task, now):
                return False
            details = {
                "model": task.model,
                "submitted_at": task.submit_started_at.isoformat(),
                "params_sha256": digest,
                "hint": _UNCERTAIN_HINT,
            }
            message = "RunningHub may or may not have accepted the task; it was not resubmitted."
            failed = Failed("submit_uncertain", message, details=details)
            return self.saver.apply_now(task, failed, now)

        await self.saver.save(task_id, fail)

    # --- poll: follow a task upstream ----------------------------------------------------------

    async def confirm(self, task_id: str) -> None:
        await self.poll(task_id, urgent=True)

    async def poll(self, task_id: str, *, urgent: bool = False) -> None:
        async with reading(self.rt.sessions) as session:
            task = await repository.get(session, task_id)
        if task is None or task.is_final:
            return
        if task.upstream_task_id is None:
            await self._reconcile(task)
            return
        if task.upstream_status == UpstreamStatus.SUCCEEDED:
            await self.queue.enqueue(ARCHIVE, task_id, urgent=True)
            return
        try:
            state = await self.rt.upstream.query(task.upstream_task_id, urgent=urgent)
        except UpstreamNotFound:
            await self._not_found(task_id)
            return
        except UpstreamError as error:
            await self._query_failed(task, error)
            return
        report = UpstreamReport.of(state)
        saved = await self.saver.save(task_id, self._recorder(report), check_at=self.poll_delay())
        await self._follow(saved)

    def _recorder(self, report: UpstreamReport) -> Change:
        now = utc_now()

        def record(task: Task) -> bool:
            changed = self.saver.apply_now(task, report, now)
            if task.upstream_status == UpstreamStatus.SUCCEEDED and all(
                o.archived for o in task.outputs
            ):
                # Nothing to download (text outputs live in the row): finished in this write.
                changed = self.saver.apply_now(task, Archived(), now) or changed
            return changed

        return record

    async def _follow(self, task: Task | None) -> None:
        """What comes after a saved upstream state: the next poll, archival, or a free slot."""
        if task is None or task.is_final:
            await self.queue.enqueue(DISPATCH, EVERY)
            return
        if task.upstream_status == UpstreamStatus.SUCCEEDED:
            await self.queue.enqueue(DISPATCH, EVERY)  # its upstream slot is free
            # Done upstream, waited for by a user: ahead of any backlog of routine polls.
            await self.queue.enqueue(ARCHIVE, task.id, urgent=True)
            return
        await self.queue.enqueue(POLL, task.id, at=task.next_check_at)

    async def _reconcile(self, task: Task) -> None:
        """A pending task: waiting for a slot, submitted by a live process, interrupted by a
        crash, or waiting on a submit of unknown outcome."""
        now = utc_now()
        if task.submit_started_at is None:
            await self.queue.enqueue(DISPATCH, EVERY)
            return
        if task.id in self.leases:
            return  # a live submit of this process: its own outcome settles it
        if _lease_live(task, now):
            # Another live process is submitting it: look again once its lease could lapse.
            await self.queue.enqueue(POLL, task.id, at=task.submit_lease_until)
            return
        if task.upstream_hint is not None:
            await self.adopt(task.id, task.upstream_hint)
            return
        if not self.settings.public_url:
            await self._fail_uncertain(task.id)
            return
        since = task.uncertain_since or task.submit_started_at
        deadline = since + timedelta(seconds=self.settings.uncertain_timeout_s)
        if now >= deadline or await self.slots.vouches_absent(since):
            await self._fail_uncertain(task.id)
            return
        saved = await self.saver.apply(
            task.id, OutcomeUnknown(), check_at=self._uncertain_wait(since, now)
        )
        await self.queue.enqueue(POLL, task.id, at=saved.next_check_at if saved else None)

    async def adopt(self, task_id: str, upstream_task_id: str) -> None:
        """A webhook named the upstream task of an uncertain submit: confirm it, then track it."""
        try:
            state = await self.rt.upstream.query(upstream_task_id)
        except UpstreamError as error:
            log.warning("task_adopt_failed", task_id=task_id, code=error.upstream_code)
            return
        await self.saver.apply(task_id, Submitted(upstream_task_id, state.status))
        saved = await self.saver.save(
            task_id, self._recorder(UpstreamReport.of(state)), check_at=self.poll_delay()
        )
        log.info("task_adopted", task_id=task_id, upstream_task_id=upstream_task_id)
        await self._follow(saved)

    async def _not_found(self, task_id: str) -> None:
        limit, now = self.settings.not_found_limit, utc_now()

        def count(task: Task) -> bool:
            task.not_found_count += 1
            if task.not_found_count >= limit:
                message = f"RunningHub answered 'task not found' {limit} times in a row."
                return self.saver.apply_now(task, Failed("upstream_not_found", message), now)
            return True

        saved = await self.saver.save(task_id, count, check_at=self.settings.poll_min_s)
        await self._follow(saved)

    async def _query_failed(self, task: Task, error: UpstreamError) -> None:
        # Never given up while unanswered: a long outage only stretches the interval.
        delay = self.query_backoff.delay(task.query_failures + 1, error.retry_after)

        def count(t: Task) -> bool:
            t.query_failures += 1
            return True

        log.info("task_query_failed", task_id=task.id, code=error.upstream_code, delay_s=delay)
        saved = await self.saver.save(task.id, count, check_at=delay)
        await self._follow(saved)

    # --- archive: stream every output into our storage -----------------------------------------

    async def archive(self, task_id: str) -> None:
        async with reading(self.rt.sessions) as session:
            task = await repository.get(session, task_id)
        if task is None or task.is_final:
            return
        pending = [o for o in task.outputs if not o.archived]
        failures = await asyncio.gather(*(self._archive_one(task, o) for o in pending))
        if not any(failures):
            updated = await self.saver.apply(task_id, Archived())
            if updated is not None:
                log.info("task_archived", task_id=task_id, status=updated.status)
            return
        expired = [o for o in pending if o.source_expires_at and o.source_expires_at <= utc_now()]
        if expired:
            message = "An output could not be archived before RunningHub's link expired."
            await self.saver.apply(task_id, Failed("archive_failed", message))
            return
        attempts = max(o.archive_attempts for o in pending) + 1
        delay = self.archive_backoff.delay(attempts)
        saved = await self.saver.save(task_id, lambda t: False, check_at=delay)
        await self.queue.enqueue(ARCHIVE, task_id, at=saved.next_check_at if saved else None)

    async def _archive_one(self, task: Task, output: Output) -> bool:
        """Stream one output into storage; True when it failed (and will be retried)."""
        assert output.source_url is not None
        key = f"tasks/{task.id}/{output.index}.{output.type}"
        try:
            async with self.rt.downloads.stream("GET", output.source_url) as response:
                response.raise_for_status()
                content_type = response.headers.get("content-type", "application/octet-stream")
                # Chunks as they come off the socket: re-cutting them to a fixed size would copy
                # every byte once more, a third of the CPU archival costs.
                stored = await self.rt.storage.put(
                    key, response.aiter_bytes(), content_type=content_type
                )
        except (httpx.HTTPError, OSError, StorageUnavailable) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]

            def count(t: Task) -> bool:
                for o in t.outputs:
                    if o.index == output.index:
                        o.archive_attempts += 1
                        o.archive_error = error
                return True

            await self.saver.save(task.id, count)
            log.warning("output_archive_failed", task_id=task.id, index=output.index, error=error)
            return True

        def record(t: Task) -> bool:
            for o in t.outputs:
                if o.index == output.index:
                    o.storage_key = stored.key
                    o.sha256 = stored.sha256
                    o.bytes = stored.size
                    o.content_type = stored.content_type
                    o.archived = True
                    o.archive_error = None
            t.version += 1
            return True

        await self.saver.save(task.id, record)
        ARCHIVED_BYTES.inc(stored.size)
        return False

    # --- recovery -------------------------------------------------------------------------------

    async def sweep(self, limit: int = 500) -> int:
        """Enqueue the right job for every unfinished task whose next check is due.

        Run at start-up (every unfinished task is due then) and periodically by every worker
        process, so that nothing depends on a timer or a queue surviving. Overlapping sweeps do
        no harm: a run planned for a task's next check is enqueued under that time, and the
        queue merges it with the one already waiting.
        """
        async with reading(self.rt.sessions) as session:
            rows = await repository.due(session, utc_now(), limit)
            self.tracked = await repository.count_tracked(session)
        for task_id, waiting_for_slot, next_check_at in rows:
            # A pending task waiting for a slot is the dispatcher's; every other one (tracked
            # upstream, archiving, or caught mid-submit by a crash) is looked at by `poll`.
            if not waiting_for_slot:
                await self.queue.enqueue(POLL, task_id, at=next_check_at)
        await self.queue.enqueue(DISPATCH, EVERY)
        return len(rows)

    # --- timing --------------------------------------------------------------------------------

    def _uncertain_wait(self, since: datetime, now: datetime) -> float:
        """Seconds until a submit of unknown outcome made at `since` is looked at again: once
        RunningHub's count may vouch for its absence, then as that count is refreshed, and at
        the latest at its deadline."""
        settings = self.settings
        deadline = since + timedelta(seconds=settings.uncertain_timeout_s)
        settle = since + timedelta(seconds=settings.uncertain_grace_s)
        refresh = now + timedelta(seconds=settings.queue_status_refresh_s)
        return max(0.0, (min(deadline, max(settle, refresh)) - now).total_seconds())

    def hook_url(self, task_id: str) -> str | None:
        base = self.settings.public_url
        if not base:
            return None
        return f"{base.rstrip('/')}/hooks/runninghub/{task_id}/{self.rt.sign('hook', task_id)}"

    def poll_delay(self) -> float:
        """How long until a tracked task's next poll: its fair share of the query budget.

        The budget is spent, not only capped: with few tasks in flight each is polled as often
        as the budget allows (within `AIPAINT_POLL_MIN_S`), so a finished task is seen within
        about a second even without webhooks; with many, the budget is shared evenly and the
        queue runs the most overdue first.
        """
        fair = max(self.tracked, 1) / self.poll_rate
        return max(self.settings.poll_min_s, fair)


def _policy(base: float, cap: float) -> RetryPolicy:
    return RetryPolicy(base=base, cap=cap, max_retry_after=cap)


def _lease_live(task: Task, now: datetime) -> bool:
    """Whether a live process still holds the task's submit (its lease has not lapsed)."""
    return (
        task.uncertain_since is None
        and task.submit_lease_until is not None
        and task.submit_lease_until > now
    )
