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
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

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


class Budget(Protocol):
    """Something that holds a caller until a call fits the budget."""

    async def acquire(self, *, urgent: bool = False) -> None: ...


# One sliding window per budget, kept as two sorted sets of call times (all calls, routine
# calls): atomic in Redis, on Redis's clock, so every process of a deployment shares one budget.
# A third key notes when this Redis first saw the budget: for one window after that, nothing
# goes (what went before it may be forgotten). Answers 0 when the call may go now, else how many
# milliseconds until a slot frees.
_WINDOW_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit, routine_limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('SET', KEYS[3], now, 'NX') then
  return tostring(window)
end
if now - tonumber(redis.call('GET', KEYS[3])) < window then
  return tostring(tonumber(redis.call('GET', KEYS[3])) + window - now)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
if ARGV[4] == '0' then
  if redis.call('ZCARD', KEYS[2]) >= routine_limit then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return tostring(tonumber(oldest[2]) + window - now)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], math.ceil(window * 2))
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 2))
return '0'
"""


class RedisBudget:
    """`RateBudget`'s promise for a whole deployment: no window holds more calls than the budget,
    whichever process makes them.

    When Redis cannot be reached it fails closed: callers wait until it answers again, rather
    than each process spending a budget of its own (which would multiply the rate). A Redis that
    restarted empty has forgotten the calls of the last window, so the first caller to find it
    so waits a whole window before anyone calls again. Calls of several processes reach the
    upstream less evenly than one process's (a process may be descheduled for a few hundred
    milliseconds between its grant and its call on a busy host), hence a wider guard than
    `RateBudget`'s: the window kept is a quarter longer than the second promised.
    """

    GUARD = 0.25

    def __init__(
        self, redis: Redis, rate: float, *, routine_share: float = 1.0, name: str = "aipaint"
    ) -> None:
        local = RateBudget(rate, routine_share=routine_share)
        self.limit, self.routine_limit = local.limit, local.routine_limit
        self.window_ms = local.window / (1 + GUARD) * (1 + self.GUARD) * 1000
        self._redis = redis
        self._keys = [f"{name}:budget:all", f"{name}:budget:routine", f"{name}:budget:since"]
        self._script = redis.register_script(_WINDOW_SCRIPT)
        self._unreachable = False

    async def acquire(self, *, urgent: bool = False) -> None:
        while True:
            member = uuid.uuid4().hex
            args: list[int | float | str] = [
                self.limit,
                self.routine_limit,
                self.window_ms,
                int(urgent),
                member,
            ]
            try:
                wait_ms = float(await self._script(keys=self._keys, args=args))
            except RedisError as error:
                if not self._unreachable:
                    log.warning("budget_unreachable", error=str(error))
                self._unreachable = True
                await asyncio.sleep(0.5)
                continue
            self._unreachable = False
            if wait_ms <= 0:
                return
            # Urgent callers look again sooner, so they win the next free slot.
            await asyncio.sleep(wait_ms / 1000 + (0.0 if urgent else 0.005))


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
