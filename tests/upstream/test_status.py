"""Status normalisation: every spelling RunningHub uses, and a safe reading of the unknown."""

from __future__ import annotations

import uuid

import pytest
from structlog.testing import capture_logs

from aipaint.upstream.status import UpstreamStatus, normalize_status


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CREATE", UpstreamStatus.QUEUED),
        ("QUEUED", UpstreamStatus.QUEUED),
        ("PENDING", UpstreamStatus.QUEUED),
        ("RUNNING", UpstreamStatus.RUNNING),
        ("SUCCESS", UpstreamStatus.SUCCEEDED),
        ("SUCCEEDED", UpstreamStatus.SUCCEEDED),
        ("FAILED", UpstreamStatus.FAILED),
        ("FAIL", UpstreamStatus.FAILED),
        ("ERROR", UpstreamStatus.FAILED),
        ("CANCEL", UpstreamStatus.CANCELED),
        ("CANCELED", UpstreamStatus.CANCELED),
        ("CANCELLED", UpstreamStatus.CANCELED),
    ],
)
def test_every_spelling_in_any_case(raw: str, expected: UpstreamStatus) -> None:
    assert normalize_status(raw) is expected
    assert normalize_status(raw.lower()) is expected
    assert normalize_status(raw.capitalize()) is expected
    assert normalize_status(f"  {raw} ") is expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_means_running(raw: str | None) -> None:
    assert normalize_status(raw) is UpstreamStatus.RUNNING


def test_unknown_means_running_and_is_logged_once() -> None:
    raw = f"WARMING_UP_{uuid.uuid4().hex}"
    with capture_logs() as logs:
        assert normalize_status(raw) is UpstreamStatus.RUNNING
        assert normalize_status(raw) is UpstreamStatus.RUNNING
    assert logs == [{"event": "unknown_upstream_status", "raw_status": raw, "log_level": "warning"}]


def test_each_unknown_value_is_logged() -> None:
    first, second = (f"ODD_{uuid.uuid4().hex}" for _ in range(2))
    with capture_logs() as logs:
        normalize_status(first)
        normalize_status(second)
    assert [entry["raw_status"] for entry in logs] == [first, second]


def test_known_values_are_not_logged() -> None:
    with capture_logs() as logs:
        normalize_status("SUCCESS")
    assert logs == []


def test_terminal_states() -> None:
    terminal = {status for status in UpstreamStatus if status.is_terminal}
    assert terminal == {UpstreamStatus.SUCCEEDED, UpstreamStatus.FAILED, UpstreamStatus.CANCELED}
