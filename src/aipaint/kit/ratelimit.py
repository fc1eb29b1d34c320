"""One budget of calls per second, shared by every coroutine of the process.

A token bucket would let a full bucket's burst and the refill land in the same second, up to
twice the rate there; an upstream counting calls per second would see the budget broken. So this
remembers when its latest calls went out and holds the next one until no one-second window
(longer for rates under 1/s) would hold more than the budget. The window it keeps is a little
longer than the one it promises (GUARD), because the network may bunch calls up by a few
milliseconds on their way: the upstream must still count no more than the budget.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

GUARD = 0.02  # of the window: 20 ms a second


class RateBudget:
    def __init__(
        self,
        rate: float,
        *,
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
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
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
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit and (urgent or not self._urgent):
                self._sent.append(now)
                return
            if self._sent and len(self._sent) >= self.limit:
                await self._sleep(self._sent[0] + self.window - now)
            else:
                # A slot is free but an urgent caller is about to take it: let it run first.
                await asyncio.sleep(0)
