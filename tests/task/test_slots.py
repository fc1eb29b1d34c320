"""Slots taken: what RunningHub's own count leaves to submits of unknown outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aipaint.models import UpstreamAccount
from aipaint.task.slots import SlotCounts, reported_in_flight

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_unknown_outcomes_hold_every_slot_while_runninghub_says_nothing() -> None:
    assert SlotCounts(known=1, live=1, unknown=3).used(None) == 5


def test_unknown_outcomes_hold_no_slot_once_runninghub_runs_only_what_we_track() -> None:
    # The burst of 5xx answers that once stalled the queue for an hour: RunningHub runs nothing.
    assert SlotCounts(0, 0, 3, known_then=0, unknown_then=3).used(0) == 0
    assert SlotCounts(2, 0, 3, known_then=2, unknown_then=3).used(2) == 2


def test_unknown_outcomes_hold_as_many_slots_as_runninghub_runs_beyond_what_we_track() -> None:
    assert SlotCounts(1, 0, 3, known_then=1, unknown_then=3).used(3) == 3
    assert SlotCounts(1, 1, 3, known_then=1, unknown_then=3).used(9) == 5  # never more


def test_a_count_read_before_an_outcome_became_unknown_does_not_judge_it() -> None:
    # Read while a worker's submit was on its way, before the worker was killed: the task may
    # have landed after the count, so it holds its slot.
    assert SlotCounts(0, 0, 1, known_then=0, unknown_then=0).used(0) == 1
    assert SlotCounts(2, 0, 3, known_then=2, unknown_then=1).used(2) == 4


def test_tasks_accepted_after_the_count_leave_its_room_to_the_unknown_outcomes() -> None:
    # Counted 3 in flight: 1 known then, so 2 of the unknown outcomes run; 4 were accepted
    # since, which the count cannot show.
    assert SlotCounts(5, 0, 2, known_then=1, unknown_then=2).used(3) == 7


def test_runninghubs_count_is_trusted_only_while_fresh() -> None:
    account = UpstreamAccount(id="k", running=2, queued=1, checked_at=NOW)
    assert reported_in_flight(account, NOW + timedelta(seconds=10), fresh_s=15) == 3
    assert reported_in_flight(account, NOW + timedelta(seconds=20), fresh_s=15) is None
    assert reported_in_flight(UpstreamAccount(id="k"), NOW, fresh_s=15) is None
