"""One budget of calls per second, shared by every coroutine of the process.

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
from collections import deque
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
