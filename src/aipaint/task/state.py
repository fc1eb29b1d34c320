"""The one state machine of a task. Webhooks, polling, cancel and recovery all go through `apply`.

    pending ──► queued ──► running ──► (archiving) ──► succeeded
       │           │          │
       └───────────┴──────────┴──► failed | canceled

Final states never change, and every event is idempotent: applying the same event twice leaves
the task as once. The submit's own bookkeeping (its marker and lease, a deferral, an unknown
outcome, a webhook's hint, a cancel waiting for a submit in flight) are events too, so that every
write of a task, by whichever process, goes through here. A task is `succeeded` only when every
output is in our own storage, so a client that sees `succeeded` can always fetch the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aipaint.models import Output, Task
from aipaint.upstream import TaskResult, TaskState, UpstreamStatus, Usage


class TaskStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED})
_RANK = {TaskStatus.PENDING: 0, TaskStatus.QUEUED: 1, TaskStatus.RUNNING: 2}


@dataclass(frozen=True)
class SubmitStarted:
    """A submit is about to be sent. Committed before the call, the marker says the task may
    exist upstream from now on; its owner renews the lease while the call is in flight."""

    owner: str
    lease_until: datetime
    account: str


@dataclass(frozen=True)
class SubmitDeferred:
    """RunningHub turned the submit away without creating a task: it waits its turn again."""


@dataclass(frozen=True)
class OutcomeUnknown:
    """The submit may or may not have landed: wait for a webhook that names the task."""


@dataclass(frozen=True)
class Hinted:
    """A webhook named the upstream task of a submit whose outcome was unknown."""

    upstream_task_id: str


@dataclass(frozen=True)
class CancelRequested:
    """The user canceled. A submit in flight is canceled once it returns, so its outcome is
    recorded (RunningHub's v2 API has no cancel: a task it runs is no longer followed)."""


@dataclass(frozen=True)
class Submitted:
    """RunningHub accepted the task."""

    upstream_task_id: str
    upstream_status: UpstreamStatus


@dataclass(frozen=True)
class UpstreamReport:
    """What RunningHub says about the task now (from a query, confirming a webhook or a poll)."""

    upstream_status: UpstreamStatus
    results: list[TaskResult] = field(default_factory=list)
    usage: Usage | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def of(cls, state: TaskState) -> UpstreamReport:
        return cls(state.status, state.results, state.usage, state.error_code, state.error_message)


@dataclass(frozen=True)
class Archived:
    """Every output is in our storage."""


@dataclass(frozen=True)
class Failed:
    code: str
    message: str
    upstream_code: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Canceled:
    pass


Event = (
    SubmitStarted
    | SubmitDeferred
    | OutcomeUnknown
    | Hinted
    | CancelRequested
    | Submitted
    | UpstreamReport
    | Archived
    | Failed
    | Canceled
)


def apply(task: Task, event: Event, now: datetime, *, link_ttl: timedelta) -> bool:
    """Move `task` by `event`; returns whether anything changed (the caller then saves it)."""
    if task.is_final:
        return False
    before = _snapshot(task)
    match event:
        case SubmitStarted(owner=owner, lease_until=lease_until, account=account):
            if task.status != TaskStatus.PENDING or task.submit_started_at is not None:
                return False
            if task.cancel_requested:
                _finish(task, TaskStatus.CANCELED, now)
            else:
                task.submit_started_at = now
                task.submit_attempts += 1
                task.submit_owner, task.submit_lease_until = owner, lease_until
                task.upstream_account = account
        case SubmitDeferred():
            if task.upstream_task_id is None:
                _clear_submit(task)
        case OutcomeUnknown():
            if task.upstream_task_id is None and task.submit_started_at is not None:
                task.uncertain_since = task.uncertain_since or now
                task.submit_owner = task.submit_lease_until = None
        case Hinted(upstream_task_id=upstream_id):
            if task.upstream_task_id is None and task.status == TaskStatus.PENDING:
                task.upstream_hint = upstream_id
        case CancelRequested():
            if task.submit_started_at is not None and task.upstream_task_id is None:
                task.cancel_requested = True
            else:
                _finish(task, TaskStatus.CANCELED, now)
        case Submitted(upstream_task_id=upstream_id, upstream_status=upstream_status):
            if task.upstream_task_id is None:
                task.upstream_task_id = upstream_id
                task.submitted_at = now
            _clear_submit(task)
            # A success is only taken from a report that carries its results.
            _upstream(task, min(upstream_status, UpstreamStatus.RUNNING, key=_upstream_rank))
            if task.cancel_requested:
                # Canceled while the submit was in flight: now that it returned, it stops here.
                _finish(task, TaskStatus.CANCELED, now)
        case UpstreamReport():
            _report(task, event, now, link_ttl)
        case Archived():
            if task.upstream_status == UpstreamStatus.SUCCEEDED and all(
                o.archived for o in task.outputs
            ):
                _finish(task, TaskStatus.SUCCEEDED, now)
        case Failed(code=code, message=message, upstream_code=upstream_code, details=details):
            task.error = {"code": code, "message": message, "upstream_code": upstream_code}
            if details:
                task.error["details"] = details
            _finish(task, TaskStatus.FAILED, now)
        case Canceled():
            _finish(task, TaskStatus.CANCELED, now)
    changed = _snapshot(task) != before
    if changed:
        task.version += 1
        task.updated_at = now
    return changed


def _report(task: Task, report: UpstreamReport, now: datetime, link_ttl: timedelta) -> None:
    task.query_failures = 0
    task.not_found_count = 0
    if report.usage is not None:
        task.usage = {
            "money": _text(report.usage.money),
            "coins": _text(report.usage.coins),
            "cost_time_s": report.usage.cost_time_s,
            "third_party_money": _text(report.usage.third_party_money),
        }
    status = report.upstream_status
    if status is UpstreamStatus.SUCCEEDED and not task.outputs:
        if task.upstream_finished_at is None:
            task.upstream_finished_at = now
        expires = task.upstream_finished_at + link_ttl
        task.outputs = [
            _output(index, result, expires) for index, result in enumerate(report.results)
        ]
    if status is UpstreamStatus.FAILED:
        task.upstream_status = status
        task.upstream_finished_at = task.upstream_finished_at or now
        task.error = {
            "code": "upstream_failed",
            "message": report.error_message or "RunningHub reported the task as failed.",
            "upstream_code": report.error_code,
        }
        _finish(task, TaskStatus.FAILED, now)
        return
    if status is UpstreamStatus.CANCELED:
        task.upstream_status = status
        _finish(task, TaskStatus.CANCELED, now)
        return
    _upstream(task, status)


def _upstream(task: Task, status: UpstreamStatus) -> None:
    """Record RunningHub's status and move ours forward, never backward."""
    if task.upstream_status == UpstreamStatus.SUCCEEDED:
        return  # a late or duplicated "running" must not un-finish an upstream success
    task.upstream_status = status.value
    target = {
        UpstreamStatus.QUEUED: TaskStatus.QUEUED,
        UpstreamStatus.RUNNING: TaskStatus.RUNNING,
        # Still ours to finish: the outputs are being archived.
        UpstreamStatus.SUCCEEDED: TaskStatus.RUNNING,
    }.get(status)
    if target is not None and _RANK[target] > _RANK[TaskStatus(task.status)]:
        task.status = target.value


def _upstream_rank(status: UpstreamStatus) -> int:
    return {UpstreamStatus.QUEUED: 0, UpstreamStatus.RUNNING: 1}.get(status, 2)


def _output(index: int, result: TaskResult, expires: datetime) -> Output:
    text_only = result.url is None and result.text is not None
    return Output(
        index=index,
        type=(result.output_type or ("txt" if text_only else "bin")).lower(),
        source_url=result.url,
        source_expires_at=expires,
        node_id=result.node_id,
        text=result.text,
        # A text output is its own archive: it lives in the row.
        archived=text_only,
    )


def _clear_submit(task: Task) -> None:
    task.submit_started_at = task.uncertain_since = None
    task.submit_owner = task.submit_lease_until = None


def _finish(task: Task, status: TaskStatus, now: datetime) -> None:
    task.status = status.value
    task.finished_at = now
    task.next_check_at = None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _snapshot(task: Task) -> tuple[Any, ...]:
    return (
        task.status,
        task.upstream_task_id,
        task.upstream_status,
        task.error,
        task.usage,
        task.submit_started_at,
        task.uncertain_since,
        task.cancel_requested,
        len(task.outputs),
        tuple(o.archived for o in task.outputs),
    )
