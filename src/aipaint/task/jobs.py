"""The worker's jobs: dispatch (submit), poll (track) and archive, plus the recovery sweep.

Every job reads the task from the database, acts, and writes the outcome through the one state
machine (`state.apply`). Jobs are idempotent, so running one twice — after a crash, or because a
webhook and a timer both asked — does no harm.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta

import httpx
import structlog

from aipaint.db import reading
from aipaint.kit.ratelimit import RateBudget
from aipaint.metrics import ARCHIVED_BYTES, SUBMITS
from aipaint.models import Output, Task
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.task import repository
from aipaint.task.saving import TaskSaver
from aipaint.task.state import (
    Archived,
    Canceled,
    Event,
    Failed,
    Submitted,
    TaskStatus,
    UpstreamReport,
    apply,
)
from aipaint.upstream import (
    ErrorKind,
    SubmitUncertain,
    UpstreamError,
    UpstreamNotFound,
    UpstreamStatus,
)
from aipaint.worker.queue import Job, JobQueue

log = structlog.get_logger(__name__)

DISPATCH, POLL, ARCHIVE = "task.dispatch", "task.poll", "task.archive"
# A poll a webhook asked for: the task has likely just finished, so it goes before routine polls.
CONFIRM = "task.confirm"
# The dispatcher is one job for all pending tasks; this is its queue key.
ALL = "*"
# Nominal seconds a task of each output type takes upstream: the polling cadence follows it.
EXPECTED_S = {"image": 20.0, "video": 150.0, "audio": 30.0, "text": 6.0, "3d": 120.0}
# Where the capacity family lands: keep the task pending and try later.
_WAIT_KINDS = {
    ErrorKind.CAPACITY,
    ErrorKind.RATE_LIMITED,
    ErrorKind.UNAVAILABLE,
    ErrorKind.TRANSIENT,
}


class Lifecycle:
    def __init__(self, runtime: Runtime, queue: JobQueue) -> None:
        self.rt = runtime
        self.queue = queue
        self.settings = runtime.settings
        self.link_ttl = timedelta(seconds=runtime.settings.link_ttl_s)
        self._in_flight: set[str] = set()
        self._budget: RateBudget = runtime.budget
        self._saver = TaskSaver(runtime.sessions, runtime.events)

    @property
    def jobs(self) -> dict[str, Job]:
        return {
            DISPATCH: self.dispatch,
            POLL: self.poll,
            CONFIRM: self.confirm,
            ARCHIVE: self.archive,
        }

    # --- saving through the state machine -------------------------------------------------------

    async def save(
        self, task_id: str, change: Callable[[Task], bool | None], *, check_at: float | None = None
    ) -> Task | None:
        """Load the task (locked), let `change` edit it, commit, and tell its watchers."""
        return await self._saver.save(task_id, change, check_at=check_at)

    async def event(
        self, task_id: str, event: Event, *, check_at: float | None = None
    ) -> Task | None:
        now = utc_now()
        return await self.save(
            task_id, lambda task: apply(task, event, now, link_ttl=self.link_ttl), check_at=check_at
        )

    # --- dispatch: submit pending tasks while upstream slots are free ---------------------------

    async def dispatch(self, _: str = ALL) -> None:
        async with reading(self.rt.sessions) as session:
            used = await repository.upstream_slots_used(session)
            free = self.rt.upstream_limit - used
            due = await repository.next_pending(session, utc_now(), max(free, 0))
        if free <= 0 or not due:
            return
        results = await asyncio.gather(*(self._submit(task_id) for task_id in due))
        if any(results):
            # Slots or the queue changed; look again (merged with any dispatch already waiting).
            await self.queue.enqueue(DISPATCH, ALL, delay=0.0)

    async def _submit(self, task_id: str) -> bool:
        """Submit one pending task; True when it left the pending queue."""
        now = utc_now()
        go = False

        def start(task: Task) -> bool:
            nonlocal go
            if task.status != TaskStatus.PENDING or task.submit_started_at is not None:
                return False
            if task.cancel_requested:
                return apply(task, Canceled(), now, link_ttl=self.link_ttl)
            # Committed before the call: from here on, a crash leaves a task that may exist.
            task.submit_started_at = now
            task.submit_attempts += 1
            go = True
            return True

        # In flight from before the marker is committed until the outcome is: `poll` must never
        # take this live submit for one a crash interrupted.
        self._in_flight.add(task_id)
        try:
            task = await self.save(task_id, start)
            if task is None or not go:
                return False
            return await self._send(task)
        finally:
            self._in_flight.discard(task_id)

    async def _send(self, task: Task) -> bool:
        task_id = task.id
        try:
            accepted = await self.rt.upstream.submit(
                task.model, task.params, webhook_url=self.hook_url(task_id)
            )
        except SubmitUncertain as uncertain:
            SUBMITS.labels("uncertain").inc()
            await self._uncertain(task_id, uncertain)
            return True
        except UpstreamError as error:
            return await self._refused(task_id, error)
        SUBMITS.labels("accepted").inc()
        # The first poll time is recorded with the outcome, so the sweep leaves it to its timer.
        delay = self._poll_delay(task)
        await self.event(task_id, Submitted(accepted.task_id, accepted.status), check_at=delay)
        log.info("task_submitted", task_id=task_id, upstream_task_id=accepted.task_id)
        if accepted.status is UpstreamStatus.SUCCEEDED:
            await self.event(task_id, UpstreamReport(accepted.status, accepted.results))
        # A final status other than success is confirmed (with its reason) by the first poll.
        await self.queue.enqueue(POLL, task_id, delay=delay)
        return True

    async def _refused(self, task_id: str, error: UpstreamError) -> bool:
        if error.kind in _WAIT_KINDS:
            # Queue, don't reject: the task stays pending and waits its turn.
            attempts = 0

            def back_off(task: Task) -> bool:
                nonlocal attempts
                task.submit_started_at = None
                attempts = task.submit_attempts
                return True

            SUBMITS.labels("deferred").inc()
            delay = self._backoff(attempts + 1, error.retry_after)
            await self.save(task_id, back_off, check_at=delay)
            log.info(
                "task_submit_deferred", task_id=task_id, code=error.upstream_code, delay_s=delay
            )
            await self.queue.enqueue(DISPATCH, ALL, delay=delay)
            return False
        SUBMITS.labels("refused").inc()
        await self.event(
            task_id, Failed(error.code, error.message.en, upstream_code=error.upstream_code)
        )
        log.info("task_refused", task_id=task_id, code=error.upstream_code)
        return True

    async def _uncertain(self, task_id: str, uncertain: SubmitUncertain) -> None:
        if self.settings.public_url:
            # The webhook URL carries our task id: if the task did land, its webhook names it.
            now = utc_now()

            def wait(task: Task) -> bool:
                task.uncertain_since = task.uncertain_since or now
                return True

            await self.save(task_id, wait, check_at=self.settings.uncertain_timeout_s)
            log.warning("task_submit_uncertain_waiting", task_id=task_id)
            await self.queue.enqueue(POLL, task_id, delay=self.settings.uncertain_timeout_s)
            return
        await self._fail_uncertain(task_id, uncertain.params_digest, by_submit=True)

    async def _fail_uncertain(
        self, task_id: str, digest: str | None = None, *, by_submit: bool = False
    ) -> None:
        """Fail a task whose submit may or may not have landed (by the submit itself, or by
        recovery once a crash-interrupted submit can no longer be found)."""
        now = utc_now()

        def fail(task: Task) -> bool:
            # Decided on the locked, current row: a submit that settled meanwhile stays settled.
            if task.upstream_task_id is not None or task.submit_started_at is None:
                return False
            if task.id in self._in_flight and not by_submit:
                return False
            details = {
                "model": task.model,
                "submitted_at": task.submit_started_at.isoformat(),
                "params_sha256": digest,
                "hint": "The task may exist on RunningHub: look for it in the RunningHub call "
                "records at that time before submitting it again.",
            }
            message = "RunningHub may or may not have accepted the task; it was not resubmitted."
            failed = Failed("submit_uncertain", message, details=details)
            return apply(task, failed, now, link_ttl=self.link_ttl)

        await self.save(task_id, fail)

    # --- poll: follow a task upstream ----------------------------------------------------------

    async def confirm(self, task_id: str) -> None:
        await self.poll(task_id, urgent=True)

    async def poll(self, task_id: str, *, urgent: bool = False) -> None:
        async with reading(self.rt.sessions) as session:
            task = await repository.get(session, task_id)
        if task is None or task.is_final:
            return
        if task.status == TaskStatus.PENDING and task.upstream_task_id is None:
            await self._reconcile(task)
            return
        if task.upstream_status == UpstreamStatus.SUCCEEDED:
            await self.queue.enqueue(ARCHIVE, task_id, urgent=True)
            return
        assert task.upstream_task_id is not None
        await self._budget.acquire(urgent=urgent)
        try:
            state = await self.rt.upstream.query(task.upstream_task_id)
        except UpstreamNotFound:
            await self._not_found(task_id)
            return
        except UpstreamError as error:
            await self._query_failed(task_id, error)
            return
        delay = self._poll_delay(task)
        report, now = UpstreamReport.of(state), utc_now()

        def record(task: Task) -> bool:
            changed = apply(task, report, now, link_ttl=self.link_ttl)
            if task.upstream_status == UpstreamStatus.SUCCEEDED and all(
                o.archived for o in task.outputs
            ):
                # Nothing to download (text outputs live in the row): finished in this write.
                changed = apply(task, Archived(), now, link_ttl=self.link_ttl) or changed
            return changed

        updated = await self.save(task_id, record, check_at=delay)
        if updated is None or updated.is_final:
            await self.queue.enqueue(DISPATCH, ALL)
            return
        if updated.upstream_status == UpstreamStatus.SUCCEEDED:
            await self.queue.enqueue(DISPATCH, ALL)  # its upstream slot is free
            # Done upstream, waited for by a user: ahead of any backlog of routine polls.
            await self.queue.enqueue(ARCHIVE, task_id, urgent=True)
            return
        await self.queue.enqueue(POLL, task_id, delay=delay)

    async def _reconcile(self, task: Task) -> None:
        """A pending task: submitted by a crashed process, or waiting on an uncertain submit."""
        if task.submit_started_at is None:
            await self.queue.enqueue(DISPATCH, ALL)
            return
        if task.id in self._in_flight:
            return  # a live submit of this process: its own outcome settles it
        if task.upstream_hint is not None:
            await self.adopt(task.id, task.upstream_hint)
            return
        if not self.settings.public_url:
            await self._fail_uncertain(task.id)
            return
        since = task.uncertain_since or task.submit_started_at
        deadline = since + timedelta(seconds=self.settings.uncertain_timeout_s)
        if utc_now() >= deadline:
            await self._fail_uncertain(task.id)
            return
        if task.uncertain_since is None:

            def mark(t: Task) -> bool:
                t.uncertain_since = since
                return True

            await self.save(task.id, mark)
        wait = (deadline - utc_now()).total_seconds()
        await self.save(task.id, lambda t: False, check_at=wait)
        await self.queue.enqueue(POLL, task.id, delay=wait)

    async def adopt(self, task_id: str, upstream_task_id: str) -> None:
        """A webhook named the upstream task of an uncertain submit: confirm it, then track it."""
        try:
            state = await self.rt.upstream.query(upstream_task_id)
        except UpstreamError as error:
            log.warning("task_adopt_failed", task_id=task_id, code=error.upstream_code)
            return
        await self.event(task_id, Submitted(upstream_task_id, state.status))
        report = UpstreamReport.of(state)
        await self.event(task_id, report)
        log.info("task_adopted", task_id=task_id, upstream_task_id=upstream_task_id)
        await self.queue.enqueue(POLL, task_id)

    async def _not_found(self, task_id: str) -> None:
        limit = self.settings.not_found_limit

        def count(task: Task) -> bool:
            task.not_found_count += 1
            if task.not_found_count >= limit:
                message = f"RunningHub answered 'task not found' {limit} times in a row."
                return apply(
                    task, Failed("upstream_not_found", message), utc_now(), link_ttl=self.link_ttl
                )
            return True

        task = await self.save(task_id, count, check_at=self.settings.poll_min_s)
        if task is not None and not task.is_final:
            await self.queue.enqueue(POLL, task_id, delay=self.settings.poll_min_s)
        else:
            await self.queue.enqueue(DISPATCH, ALL)

    async def _query_failed(self, task_id: str, error: UpstreamError) -> None:
        delay = self.settings.poll_min_s

        def count(task: Task) -> bool:
            nonlocal delay
            task.query_failures += 1
            delay = self._backoff(
                task.query_failures, error.retry_after, cap=self.settings.poll_max_s
            )
            task.next_check_at = utc_now() + timedelta(seconds=delay)
            return True

        # Never given up while unanswered: a long outage only stretches the interval.
        await self.save(task_id, count)
        log.info("task_query_failed", task_id=task_id, code=error.upstream_code, delay_s=delay)
        await self.queue.enqueue(POLL, task_id, delay=delay)

    # --- archive: stream every output into our storage -----------------------------------------

    async def archive(self, task_id: str) -> None:
        async with reading(self.rt.sessions) as session:
            task = await repository.get(session, task_id)
        if task is None or task.is_final:
            return
        pending = [o for o in task.outputs if not o.archived]
        failures = await asyncio.gather(*(self._archive_one(task, o) for o in pending))
        if not any(failures):
            updated = await self.event(task_id, Archived())
            if updated is not None:
                log.info("task_archived", task_id=task_id, status=updated.status)
            return
        expired = [o for o in pending if o.source_expires_at and o.source_expires_at <= utc_now()]
        if expired:
            message = "An output could not be archived before RunningHub's link expired."
            await self.event(task_id, Failed("archive_failed", message))
            return
        attempts = max(o.archive_attempts for o in pending) + 1
        delay = self._backoff(
            attempts,
            None,
            base=self.settings.archive_backoff_s,
            cap=self.settings.archive_backoff_max_s,
        )
        await self.save(task_id, lambda t: False, check_at=delay)
        await self.queue.enqueue(ARCHIVE, task_id, delay=delay)

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
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]

            def count(t: Task) -> bool:
                for o in t.outputs:
                    if o.index == output.index:
                        o.archive_attempts += 1
                        o.archive_error = error
                return True

            await self.save(task.id, count)
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

        await self.save(task.id, record)
        ARCHIVED_BYTES.inc(stored.size)
        return False

    # --- recovery -------------------------------------------------------------------------------

    async def sweep(self, limit: int = 500) -> int:
        """Enqueue the right job for every unfinished task whose next check is due.

        Run at start-up (every unfinished task is due then) and periodically, so that nothing
        depends on an in-memory timer surviving.
        """
        async with reading(self.rt.sessions) as session:
            rows = await repository.due(session, utc_now(), limit)
        for task_id, waiting_for_slot in rows:
            # A pending task waiting for a slot is the dispatcher's; every other one (tracked
            # upstream, archiving, or caught mid-submit by a crash) is looked at by `poll`.
            if not waiting_for_slot:
                await self.queue.enqueue(POLL, task_id)
        await self.queue.enqueue(DISPATCH, ALL)
        return len(rows)

    # --- timing --------------------------------------------------------------------------------

    def hook_url(self, task_id: str) -> str | None:
        base = self.settings.public_url
        if not base:
            return None
        return f"{base.rstrip('/')}/hooks/runninghub/{task_id}/{self.rt.sign('hook', task_id)}"

    def _poll_delay(self, task: Task | None) -> float:
        """Soon after submit, then slower; long for video, longer still when webhooks are on."""
        settings = self.settings
        if task is None:
            return settings.poll_min_s
        spec_type = self.rt.catalog.get(task.model).output_type if task.model else "image"
        expected = EXPECTED_S.get(spec_type, 30.0)
        start = task.submitted_at or task.created_at
        elapsed = (utc_now() - start).total_seconds()
        delay = 0.2 * elapsed + 0.05 * expected
        ceiling = settings.poll_max_s * (4 if settings.public_url else 1)
        return min(max(delay, settings.poll_min_s), ceiling)

    def _backoff(
        self,
        attempt: int,
        retry_after: float | None,
        *,
        base: float | None = None,
        cap: float | None = None,
    ) -> float:
        base = self.settings.submit_backoff_s if base is None else base
        cap = self.settings.submit_backoff_max_s if cap is None else cap
        if retry_after is not None:
            return min(max(retry_after, base), cap)
        exponent = min(max(attempt - 1, 0), 16)
        # Jitter, so that tasks deferred together do not all come back in the same instant.
        return min(cap, base * 2.0**exponent * random.uniform(0.5, 1.5))
