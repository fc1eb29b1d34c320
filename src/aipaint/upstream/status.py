"""RunningHub's task statuses, folded into the five states aipaint reasons about."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import structlog

log = structlog.get_logger(__name__)


class UpstreamStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (UpstreamStatus.SUCCEEDED, UpstreamStatus.FAILED, UpstreamStatus.CANCELED)


# Every spelling seen on the wire: the v2 enum, the legacy `taskStatus` values (CREATE, CANCEL)
# and the variants third-party clients guard against.
_SPELLINGS: Final[dict[str, UpstreamStatus]] = {
    "CREATE": UpstreamStatus.QUEUED,
    "QUEUED": UpstreamStatus.QUEUED,
    "PENDING": UpstreamStatus.QUEUED,
    "RUNNING": UpstreamStatus.RUNNING,
    "SUCCESS": UpstreamStatus.SUCCEEDED,
    "SUCCEEDED": UpstreamStatus.SUCCEEDED,
    "FAILED": UpstreamStatus.FAILED,
    "FAIL": UpstreamStatus.FAILED,
    "ERROR": UpstreamStatus.FAILED,
    "CANCEL": UpstreamStatus.CANCELED,
    "CANCELED": UpstreamStatus.CANCELED,
    "CANCELLED": UpstreamStatus.CANCELED,
}

# Bounded so that an upstream inventing a new status per task cannot grow memory without end.
_MAX_WARNED: Final = 256
_warned: set[str] = set()


def normalize_status(raw: str | None) -> UpstreamStatus:
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
    return UpstreamStatus.RUNNING
