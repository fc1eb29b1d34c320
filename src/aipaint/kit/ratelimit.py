"""Rate limits: one budget of calls per second shared by the process (`RateBudget`), and an
allowance of failures per key (`FailureAllowance`).

`RateBudget`: one budget of calls per second, shared by every coroutine of the process.

A token bucket would let a full bucket's burst and the refill land in the same second, up to
twice the rate there; an upstream counting calls per second would see the budget broken. So this
remembers when its latest calls went out and holds the next one until no one-second window
(longer for rates under 1/s) would hold more than the budget. The window it keeps is a little
longer than the one it promises (GUARD), because the network may bunch calls up by a few
milliseconds on their way: the upstream must still count no more than the budget.

Urgent calls (confirming a webhook: a task has just finished) go before routine ones (polls),
and routine calls may be held to a share of the budget, so that urgent ones always find room.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

GUARD = 0.02  # of the window: 20 ms a second


class RateBudget:
    def __init__(
        self,
        rate: float,
        *,
        routine_share: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        # Under one call per second, one call per 1/rate seconds.
        promised = max(1.0, 1.0 / rate)
        self.limit = max(1, math.floor(rate * promised + 1e-9))
        self.window = promised * (1 + GUARD)
        # Routine calls may use only this many slots a window; the rest wait for urgent ones.
        self.routine_limit = max(1, math.floor(self.limit * routine_share + 1e-9))
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._routine: deque[float] = deque()  # the routine calls among them
        self._lock = asyncio.Lock()
        self._urgent = 0  # urgent callers waiting for a slot

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait for a slot. Callers queue on the lock, so the budget is shared fairly; urgent
        callers skip that queue and take the next free slot before any of them."""
        if urgent:
            self._urgent += 1
            try:
                await self._take(urgent=True)
            finally:
                self._urgent -= 1
            return
        async with self._lock:
            await self._take(urgent=False)

    async def _take(self, *, urgent: bool) -> None:
        while True:
            now = self._clock()
            for sent in (self._sent, self._routine):
                while sent and sent[0] <= now - self.window:
                    sent.popleft()
            if urgent:
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                await self._sleep(self._sent[0] + self.window - now)
                continue
            if len(self._routine) >= self.routine_limit:
                await self._sleep(self._routine[0] + self.window - now)
            elif len(self._sent) >= self.limit:
                await self._sleep(self._sent[0] + self.window - now)
            elif self._urgent:
                # A slot is free but an urgent caller is about to take it: let it run first.
                await asyncio.sleep(0)
            else:
                self._sent.append(now)
                self._routine.append(now)
                return


class FailureAllowance:
    """Failures allowed per key (e.g. a client address): `burst` at once, then one every
    `refill_s` seconds. Only failures are counted, so a key that only succeeds is never held.

    At most `max_keys` keys are remembered, the least recently failing forgotten first: memory
    stays bounded however many addresses fail.
    """

    def __init__(
        self,
        burst: int,
        refill_s: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or refill_s <= 0:
            raise ValueError("burst must be at least 1 and refill_s positive")
        self.burst = burst
        self.refill_s = refill_s
        self.max_keys = max_keys
        self._clock = clock
        self._left: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (left, at)

    def _current(self, key: str) -> float:
        left, at = self._left.get(key, (float(self.burst), 0.0))
        return min(float(self.burst), left + (self._clock() - at) / self.refill_s)

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may fail again, or None when it may try now."""
        left = self._current(key)
        return None if left >= 1 else (1 - left) * self.refill_s

    def failed(self, key: str) -> None:
        """Count one failure of `key`."""
        left = self._current(key) - 1
        self._left[key] = (left, self._clock())
        self._left.move_to_end(key)
        while len(self._left) > self.max_keys:
            self._left.popitem(last=False)
