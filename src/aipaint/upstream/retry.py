"""How long to wait before asking RunningHub again: capped exponential backoff with full jitter."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anyio


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings of the idempotent calls; `submit` never retries.

    Attributes:
        attempts: calls in all, the first one included.
        base: the backoff ceiling of the first retry, in seconds; it doubles per retry.
        cap: the largest backoff ceiling, in seconds.
        max_retry_after: the longest `Retry-After` honoured, so a hostile or buggy header
            cannot park a worker for hours.
        sleep, random: injectable so tests record the waits instead of sleeping them.
    """

    attempts: int = 4
    base: float = 0.5
    cap: float = 15.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=anyio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry: int) -> float:
        """The ceiling of the wait before retry number `retry` (1 = the first retry)."""
        # The exponent is clamped so a large retry count cannot overflow the float.
        return min(self.cap, self.base * 2.0 ** min(retry - 1, 62))

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """The wait before retry `retry`: the server's hint when given, else jittered backoff.

        Full jitter (a uniform draw below the ceiling) spreads the retries of many workers
        that failed together, instead of sending them back in lockstep.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.random() * self.backoff(retry)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header, which is either delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN: a header that names no time at all
        return None
    return max(seconds, 0.0)
