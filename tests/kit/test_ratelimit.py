"""RateBudget: never more calls in a window than the budget; FailureAllowance: a burst of
failures per key, then one per refill period. Both on a clock the test drives."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from aipaint.kit.ratelimit import GUARD, FailureAllowance, RateBudget, RedisBudget
from tests.stacks import redis_server


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)  # like a real sleep, it lets other tasks run


def _grants(rate: float, calls: int) -> list[float]:
    fake = FakeTime()
    budget = RateBudget(rate, clock=fake.clock, sleep=fake.sleep)

    async def run() -> list[float]:
        times = []
        for _ in range(calls):
            await budget.acquire()
            times.append(fake.now)
        return times

    return asyncio.run(run())


def _most_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_a_burst_is_allowed_up_to_the_budget_and_no_further() -> None:
    times = _grants(20, 100)

    assert times[:20] == [100.0] * 20  # an idle budget answers at once
    assert _most_in_window(times, 1.0) == 20
    # 100 calls at 20 per second, each second stretched by the guard against network bunching.
    assert times[-1] == pytest.approx(100 + 4 * (1 + GUARD))


def test_a_rate_under_one_per_second_spaces_single_calls() -> None:
    times = _grants(0.5, 4)

    step = 2 * (1 + GUARD)
    assert times == pytest.approx([100.0, 100 + step, 100 + 2 * step, 100 + 3 * step])


def test_concurrent_callers_share_one_budget() -> None:
    fake = FakeTime()
    budget = RateBudget(5, clock=fake.clock, sleep=fake.sleep)
    times: list[float] = []

    async def caller() -> None:
        for _ in range(5):
            await budget.acquire()
            times.append(fake.now)

    async def run() -> None:
        await asyncio.gather(*(caller() for _ in range(4)))

    asyncio.run(run())

    assert len(times) == 20
    assert _most_in_window(sorted(times), 1.0) == 5


class ManualTime(FakeTime):
    """Time moves only when the test says; a sleeper waits for it."""

    async def sleep(self, seconds: float) -> None:
        wake_at = self.now + seconds
        while self.now < wake_at:
            await asyncio.sleep(0)


def test_an_urgent_caller_takes_the_next_slot_before_routine_ones() -> None:
    clock = ManualTime()
    budget = RateBudget(2, clock=clock.clock, sleep=clock.sleep)
    order: list[str] = []

    async def call(name: str, *, urgent: bool = False) -> None:
        await budget.acquire(urgent=urgent)
        order.append(name)

    async def settle() -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def run() -> None:
        routine = [asyncio.create_task(call(f"routine-{n}")) for n in range(4)]
        await settle()  # two routine calls went out; the others wait for the next second
        urgent = asyncio.create_task(call("urgent", urgent=True))
        await settle()
        while not all(task.done() for task in (urgent, *routine)):
            clock.now += 1 + GUARD
            await settle()

    asyncio.run(run())

    assert order[:2] == ["routine-0", "routine-1"]
    assert order[2] == "urgent"
    assert sorted(order[3:]) == ["routine-2", "routine-3"]


def test_routine_calls_keep_to_their_share_and_leave_the_rest_to_urgent_ones() -> None:
    fake = FakeTime()
    budget = RateBudget(10, routine_share=0.5, clock=fake.clock, sleep=fake.sleep)
    routine: list[float] = []
    urgent: list[float] = []

    async def run() -> None:
        for _ in range(10):
            await budget.acquire()
            routine.append(fake.now)
        for _ in range(5):
            await budget.acquire(urgent=True)
            urgent.append(fake.now)

    asyncio.run(run())

    assert _most_in_window(routine, 1.0) == 5
    # The urgent calls use the half of the last window that routine calls left free.
    assert urgent == [routine[-1]] * 5


def test_refuses_a_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateBudget(0)


class TestRedisBudget:
    """The deployment's budget on a real Redis: two instances stand for two processes."""

    @staticmethod
    async def _grant_times(budgets: list[RedisBudget], calls: int) -> list[float]:
        times: list[float] = []

        async def call(budget: RedisBudget) -> None:
            await budget.acquire()
            times.append(time.monotonic())

        await asyncio.gather(*(call(budgets[n % len(budgets)]) for n in range(calls)))
        return sorted(times)

    def test_two_processes_share_one_budget(self, tmp_path: Path) -> None:
        async def run() -> list[float]:
            with redis_server(tmp_path) as server:
                clients = [Redis.from_url(server.url) for _ in range(2)]
                budgets = [RedisBudget(client, 10) for client in clients]
                try:
                    await budgets[0].acquire()  # a fresh Redis first waits one window
                    return await self._grant_times(budgets, 30)
                finally:
                    for client in clients:
                        await client.aclose()

        times = asyncio.run(run())
        assert _most_in_window(times, 1.0) <= 10
        assert times[-1] - times[0] >= 2.0  # 30 calls at 10/s: the budget, not a local one each

    def test_a_redis_that_restarted_empty_holds_every_call_for_a_window(
        self, tmp_path: Path
    ) -> None:
        async def run() -> float:
            with redis_server(tmp_path) as server:
                client = Redis.from_url(server.url)
                budget = RedisBudget(client, 100)
                try:
                    await budget.acquire()
                    server.kill()
                    server.start()
                    started = time.monotonic()
                    await budget.acquire()
                    return time.monotonic() - started
                finally:
                    await client.aclose()

        assert asyncio.run(run()) >= 1.0

    def test_without_redis_callers_wait_instead_of_spending_a_budget_of_their_own(
        self, tmp_path: Path
    ) -> None:
        async def run() -> None:
            with redis_server(tmp_path) as server:
                client = Redis.from_url(server.url)
                server.kill()
                try:
                    with pytest.raises(TimeoutError):
                        await asyncio.wait_for(RedisBudget(client, 100).acquire(), 1.5)
                finally:
                    await client.aclose()
                server.start()

        asyncio.run(run())


class TestFailureAllowance:
    def test_a_burst_then_one_per_refill_period(self) -> None:
        fake = FakeTime()
        allowance = FailureAllowance(3, 10.0, clock=fake.clock)
        for _ in range(3):
            assert allowance.retry_after("a") is None
            allowance.failed("a")
        assert allowance.retry_after("a") == pytest.approx(10.0)
        assert allowance.retry_after("b") is None  # per key
        fake.now += 4
        assert allowance.retry_after("a") == pytest.approx(6.0)
        fake.now += 6
        assert allowance.retry_after("a") is None
        allowance.failed("a")
        assert allowance.retry_after("a") == pytest.approx(10.0)
        fake.now += 1000
        assert allowance.retry_after("a") is None  # refilled, never above the burst
        for _ in range(3):
            allowance.failed("a")
        assert allowance.retry_after("a") is not None

    def test_memory_is_bounded_by_max_keys(self) -> None:
        fake = FakeTime()
        allowance = FailureAllowance(1, 60.0, max_keys=100, clock=fake.clock)
        for number in range(10_000):
            allowance.failed(f"10.0.{number // 256}.{number % 256}")
        assert len(allowance._left) == 100
        assert allowance.retry_after("10.0.39.15") is not None  # the latest are remembered

    def test_bad_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="burst"):
            FailureAllowance(0, 1.0)
