"""RunningHub's task statuses, folded into the five states aipaint reasons about."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import structlog

log = structlog.get_logger(__name__)


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


# Every spelling seen on the wire: the v2 enum, the legacy `taskStatus` values (CREATE, CANCEL)
# and the variants third-party clients guard against.
_SPELLINGS: Final[dict[str, TaskStatus]] = {
    "CREATE": TaskStatus.QUEUED,
    "QUEUED": TaskStatus.QUEUED,
    "PENDING": TaskStatus.QUEUED,
    "RUNNING": TaskStatus.RUNNING,
    "SUCCESS": TaskStatus.SUCCEEDED,
    "SUCCEEDED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "FAIL": TaskStatus.FAILED,
    "ERROR": TaskStatus.FAILED,
    "CANCEL": TaskStatus.CANCELED,
    "CANCELED": TaskStatus.CANCELED,
    "CANCELLED": TaskStatus.CANCELED,
}

# Bounded so that an upstream inventing a new status per task cannot grow memory without end.
_MAX_WARNED: Final = 256
_warned: set[str] = set()


def normalize_status(raw: str | None) -> TaskStatus:
    """The status a raw upstream value means; unknown or empty values count as still running.

    Running is the safe reading of a value we do not know: the poller keeps asking and its
    deadline still ends the task, whereas a guessed terminal state would end it wrongly.
    """
    value = (raw or "").strip()
    status = _SPELLINGS.get(value.upper())
    if status is not None:
        return status
    if value not in _warned and len(_warned) < _MAX_WARNED:
        _warned.add(value)
        log.warning("unknown_upstream_status", raw_status=value)
    return TaskStatus.RUNNING
