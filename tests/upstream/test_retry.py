"""The backoff policy, alone and as the client's retry loop applies it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from aipaint.upstream import RetryPolicy, RunningHubClient
from aipaint.upstream.errors import UpstreamAuth, UpstreamTransient
from aipaint.upstream.retry import parse_retry_after

KEY = "0123456789abcdef0123456789abcdef"
SUCCESS = {"taskId": "1", "status": "SUCCESS", "errorCode": "", "errorMessage": "", "results": []}


class TestPolicy:
    def test_defaults(self) -> None:
        policy = RetryPolicy()
        assert (policy.attempts, policy.base, policy.cap, policy.max_retry_after) == (
            4,
            0.5,
            15.0,
            60.0,
        )

    def test_backoff_doubles_then_caps(self) -> None:
        policy = RetryPolicy()
        assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 15, 15]
        assert policy.backoff(10_000) == 15.0

    @pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.999999])
    @pytest.mark.parametrize("retry", [1, 2, 3, 6, 50])
    def test_full_jitter_stays_below_the_ceiling(self, draw: float, retry: int) -> None:
        policy = RetryPolicy(random=lambda: draw)
        delay = policy.delay(retry)
        assert 0.0 <= delay <= policy.backoff(retry)
        assert delay == pytest.approx(draw * policy.backoff(retry))

    def test_retry_after_is_honoured_without_jitter(self) -> None:
        policy = RetryPolicy(random=lambda: 0.0)
        assert policy.delay(1, retry_after=7.0) == 7.0

    def test_retry_after_is_capped(self) -> None:
        assert RetryPolicy().delay(1, retry_after=3600.0) == 60.0
        assert RetryPolicy(max_retry_after=5.0).delay(1, retry_after=30.0) == 5.0

    def test_negative_retry_after_means_now(self) -> None:
        assert RetryPolicy().delay(1, retry_after=-3.0) == 0.0

    @pytest.mark.parametrize(
        "kwargs", [{"attempts": 0}, {"base": -1.0}, {"cap": -1.0}, {"max_retry_after": -1.0}]
    )
    def test_nonsense_is_refused(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="must"):
            RetryPolicy(**kwargs)


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0), ("-4", 0.0), ("inf", float("inf"))],
    )
    def test_seconds(self, value: str, seconds: float) -> None:
        assert parse_retry_after(value) == seconds

    @pytest.mark.parametrize("value", [None, "", "soon", "nan"])
    def test_junk_is_no_hint(self, value: str | None) -> None:
        assert parse_retry_after(value) is None

    def test_http_date(self) -> None:
        now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        header = format_datetime(now + timedelta(seconds=30), usegmt=True)
        assert parse_retry_after(header, now=now) == 30.0

    def test_http_date_in_the_past_means_now(self) -> None:
        now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        header = format_datetime(now - timedelta(seconds=30), usegmt=True)
        assert parse_retry_after(header, now=now) == 0.0


Step = httpx.Response | Exception


@asynccontextmanager
async def scripted(
    steps: list[Step], *, draw: float = 0.5, attempts: int = 4
) -> AsyncIterator[tuple[RunningHubClient, list[float], list[httpx.Request]]]:
    """A client whose transport plays `steps` in order and whose sleeps are recorded."""
    sleeps: list[float] = []
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        step = steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    random: Callable[[], float] = lambda: draw  # noqa: E731
    policy = RetryPolicy(attempts=attempts, sleep=sleep, random=random)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        yield RunningHubClient("https://rh.test", KEY, http=http, retry=policy), sleeps, requests


@pytest.mark.anyio
async def test_retry_after_is_slept() -> None:
    steps: list[Step] = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(429, headers={"Retry-After": "120"}),
        httpx.Response(200, json=SUCCESS),
    ]
    async with scripted(steps) as (client, sleeps, requests):
        await client.query("1")
    assert sleeps == [3.0, 60.0]  # the second hint is capped at max_retry_after
    assert len(requests) == 3


@pytest.mark.anyio
async def test_backoff_grows_and_is_jittered() -> None:
    steps: list[Step] = [httpx.Response(503), httpx.Response(503), httpx.Response(503)]
    steps.append(httpx.Response(200, json=SUCCESS))
    async with scripted(steps, draw=0.5) as (client, sleeps, _):
        await client.query("1")
    assert sleeps == [0.25, 0.5, 1.0]


@pytest.mark.anyio
async def test_gives_up_after_attempts() -> None:
    steps: list[Step] = [httpx.Response(502) for _ in range(6)]
    async with scripted(steps, attempts=3) as (client, sleeps, requests):
        with pytest.raises(UpstreamTransient) as caught:
            await client.query("1")
    assert caught.value.upstream_code == "http_502"
    assert len(requests) == 3
    assert len(sleeps) == 2


@pytest.mark.anyio
async def test_a_single_attempt_never_sleeps() -> None:
    async with scripted([httpx.Response(503)], attempts=1) as (client, sleeps, requests):
        with pytest.raises(UpstreamTransient):
            await client.query("1")
    assert (sleeps, len(requests)) == ([], 1)


@pytest.mark.anyio
async def test_non_retryable_errors_raise_at_once() -> None:
    async with scripted([httpx.Response(401)]) as (client, sleeps, requests):
        with pytest.raises(UpstreamAuth):
            await client.query("1")
    assert (sleeps, len(requests)) == ([], 1)
