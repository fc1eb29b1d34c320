"""The one state machine: every event, final states final, every event idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aipaint.models import Task
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
from aipaint.upstream import TaskResult, UpstreamStatus, Usage

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
RESULT = TaskResult(url="https://rh.example/out.png", node_id="9", output_type="png", text=None)
SUCCESS = UpstreamReport(
    UpstreamStatus.SUCCEEDED, [RESULT], Usage.model_validate({"consumeMoney": "0.1"})
)


def new_task(**fields: object) -> Task:
    values: dict[str, object] = {
        "id": "tsk_1",
        "user_id": "usr_1",
        "model": "m",
        "params": {},
        "status": "pending",
        "version": 1,
        "outputs": [],
        "cancel_requested": False,
        "query_failures": 0,
        "not_found_count": 0,
        "submit_attempts": 1,
        "submit_started_at": NOW,
        **fields,
    }
    return Task(**values)


def run(task: Task, *events: Event) -> list[bool]:
    return [apply(task, event, NOW, link_ttl=TTL) for event in events]


class TestForward:
    def test_submitted_then_running_then_archived(self) -> None:
        task = new_task()
        run(task, Submitted("u1", UpstreamStatus.QUEUED))
        assert (task.status, task.upstream_task_id, task.submit_started_at) == (
            "queued",
            "u1",
            None,
        )
        run(task, UpstreamReport(UpstreamStatus.RUNNING))
        assert task.status == "running"
        run(task, SUCCESS)
        # Not succeeded until the outputs are ours.
        assert task.status == "running"
        [output] = task.outputs
        assert (output.source_url, output.archived) == (RESULT.url, False)
        assert output.source_expires_at == NOW + TTL
        assert task.usage is not None
        assert task.usage["money"] == "0.1"
        run(task, Archived())
        assert task.status == "running"  # an output is still not archived
        output.archived = True
        run(task, Archived())
        assert (task.status, task.finished_at) == ("succeeded", NOW)

    def test_text_results_are_archived_as_they_come(self) -> None:
        task = new_task(upstream_task_id="u1", status="running")
        text = TaskResult(url=None, node_id="9", output_type="txt", text="hello")
        run(task, UpstreamReport(UpstreamStatus.SUCCEEDED, [text]), Archived())
        assert task.status == "succeeded"
        assert task.outputs[0].text == "hello"

    def test_status_never_goes_backwards(self) -> None:
        task = new_task(upstream_task_id="u1", status="running", upstream_status="running")
        assert run(task, UpstreamReport(UpstreamStatus.QUEUED)) == [True]
        assert task.status == "running"

    def test_a_late_running_does_not_undo_an_upstream_success(self) -> None:
        task = new_task(upstream_task_id="u1", status="running")
        run(task, SUCCESS, UpstreamReport(UpstreamStatus.RUNNING))
        assert task.upstream_status == "succeeded"

    def test_submitted_never_takes_success_without_results(self) -> None:
        task = new_task()
        run(task, Submitted("u1", UpstreamStatus.SUCCEEDED))
        assert (task.status, task.upstream_status) == ("running", "running")


class TestFailures:
    def test_upstream_failure(self) -> None:
        task = new_task(upstream_task_id="u1", status="running")
        run(task, UpstreamReport(UpstreamStatus.FAILED, error_code="1015", error_message="boom"))
        assert task.status == "failed"
        assert task.error == {"code": "upstream_failed", "message": "boom", "upstream_code": "1015"}

    def test_failed_event_keeps_details(self) -> None:
        task = new_task()
        run(task, Failed("submit_uncertain", "maybe", details={"model": "m"}))
        assert task.error is not None
        assert (task.status, task.error["details"]) == ("failed", {"model": "m"})

    def test_upstream_cancel(self) -> None:
        task = new_task(upstream_task_id="u1", status="running")
        run(task, UpstreamReport(UpstreamStatus.CANCELED))
        assert task.status == "canceled"

    def test_cancel_requested_during_submit_applies_once_it_returns(self) -> None:
        task = new_task(cancel_requested=True)
        run(task, Submitted("u1", UpstreamStatus.RUNNING))
        assert (task.status, task.upstream_task_id) == ("canceled", "u1")


FINALS = [
    ("succeeded", None),
    ("failed", {"code": "x", "message": "y", "upstream_code": None}),
    ("canceled", None),
]
EVENTS: list[Event] = [
    Submitted("u2", UpstreamStatus.RUNNING),
    UpstreamReport(UpstreamStatus.RUNNING),
    SUCCESS,
    UpstreamReport(UpstreamStatus.FAILED),
    Archived(),
    Failed("late", "late"),
    Canceled(),
]


@pytest.mark.parametrize(("status", "error"), FINALS)
@pytest.mark.parametrize("event", EVENTS)
def test_final_states_never_change(status: str, error: dict[str, str] | None, event: Event) -> None:
    task = new_task(status=status, error=error, upstream_task_id="u1", finished_at=NOW)
    assert run(task, event) == [False]
    assert (task.status, task.error, task.upstream_task_id, task.version) == (
        status,
        error,
        "u1",
        1,
    )


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_applied_twice_is_applied_once(event: Event) -> None:
    once = new_task(upstream_task_id="u1", status="running", upstream_status="running")
    twice = new_task(upstream_task_id="u1", status="running", upstream_status="running")
    run(once, event)
    changed = run(twice, event, event)
    assert changed[1] is False
    assert (twice.status, twice.error, len(twice.outputs), twice.version) == (
        once.status,
        once.error,
        len(once.outputs),
        once.version,
    )


def test_status_values_match_the_contract() -> None:
    assert [s.value for s in TaskStatus] == [
        "pending",
        "queued",
        "running",
        "succeeded",
        "failed",
        "canceled",
    ]
