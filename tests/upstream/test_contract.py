"""Contract suite: the real client against the simulator, over a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import anyio
import httpx
import pytest

from aipaint.catalog.service import Catalog
from aipaint.kit.background_server import free_port
from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY, Account, KeyType, SimulatorSettings
from aipaint.upstream import (
    ErrorKind,
    RateLimited,
    RetryPolicy,
    RunningHubClient,
    SubmitUncertain,
    TaskState,
    UpstreamError,
    UpstreamStatus,
    UpstreamUnavailable,
)
from tests.support import LTX, LTX_PARAMS

pytestmark = pytest.mark.anyio

NORMAL_KEY = "aipaint-contract-normal-key-0001"
POOR_KEY = "aipaint-contract-poor-key-000001"


class Sleeps:
    """Records the client's retry waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await anyio.sleep(0)


@pytest.fixture(scope="module")
def sim(catalog: Catalog) -> Iterator[SimulatorServer]:
    accounts = {
        DEMO_KEY: Account(concurrency_limit=1000),
        NORMAL_KEY: Account(type=KeyType.NORMAL),
        POOR_KEY: Account(balance=Decimal(0)),
    }
    settings = SimulatorSettings(accounts=accounts, speed=1000, seed=3)
    with SimulatorServer(settings, catalog=catalog) as server:
        yield server


@pytest.fixture(autouse=True)
def no_faults(sim: SimulatorServer) -> Iterator[None]:
    yield
    httpx.put(f"{sim.url}/simulator/faults", json={})
    sim.simulator.injector.script.clear()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(sim: SimulatorServer, sleeps: Sleeps) -> AsyncIterator[RunningHubClient]:
    retry = RetryPolicy(attempts=4, base=0.01, cap=0.05, sleep=sleeps)
    async with RunningHubClient(sim.url, DEMO_KEY, retry=retry) as upstream:
        yield upstream


def script(sim: SimulatorServer, fault: str, target: str, times: int = 1) -> None:
    body = {"fault": fault, "target": target, "times": times}
    httpx.post(f"{sim.url}/simulator/faults/script", json=body).raise_for_status()


def submits(sim: SimulatorServer) -> int:
    count: int = httpx.get(f"{sim.url}/simulator/stats").json()["submits"]
    return count


def submit_requests(sim: SimulatorServer) -> int:
    log = httpx.get(f"{sim.url}/simulator/requests").json()["requests"]
    return sum(1 for entry in log if entry["call"] == "submit")


async def finish(client: RunningHubClient, task_id: str) -> TaskState:
    with anyio.fail_after(10):
        while True:
            state = await client.query(task_id)
            if state.status.is_terminal:
                return state
            await anyio.sleep(0.02)


class TestHappyPaths:
    async def test_submit_then_query_to_success(self, client: RunningHubClient) -> None:
        accepted = await client.submit(LTX, LTX_PARAMS)
        assert accepted.task_id
        assert accepted.status in (UpstreamStatus.QUEUED, UpstreamStatus.RUNNING)
        state = await finish(client, accepted.task_id)
        assert state.status is UpstreamStatus.SUCCEEDED
        [result] = state.results
        assert result.output_type == "mp4"
        assert result.url is not None
        assert state.usage is not None
        assert state.usage.money is not None

    async def test_upload(self, client: RunningHubClient) -> None:
        uploaded = await client.upload(b"\x89PNG\r\n\x1a\nfake", "cat.png", "image/png")
        assert uploaded.file_name is not None
        assert uploaded.file_name.startswith("openapi/")
        assert uploaded.type == "image"
        assert httpx.get(uploaded.download_url).content == b"\x89PNG\r\n\x1a\nfake"

    async def test_queue_status(self, client: RunningHubClient) -> None:
        status = await client.queue_status()
        assert (status.api_key_type, status.concurrent_limit) == ("SHARED", 1000)
        assert status.total == status.running + status.queued

    async def test_price_preview(self, client: RunningHubClient) -> None:
        params = {"imageUrl": "https://example.com/a.png", "resolution": "720p", "duration": "5"}
        preview = await client.price_preview("alibaba/happyhorse-1.0/image-to-video", params)
        assert (str(preview.estimated_price), preview.currency) == ("4.5", "CNY")

    async def test_account_status(self, client: RunningHubClient) -> None:
        account = await client.account_status()
        assert (account.api_type, account.currency) == ("SHARED", "CNY")
        assert account.remain_money is not None

    async def test_instant_success_carries_results(
        self, sim: SimulatorServer, client: RunningHubClient
    ) -> None:
        httpx.put(f"{sim.url}/simulator/faults", json={"instant_rate": 1.0})
        accepted = await client.submit(LTX, LTX_PARAMS)
        assert accepted.status is UpstreamStatus.SUCCEEDED
        assert accepted.results


class TestErrorFamilies:
    @pytest.mark.parametrize(
        ("key", "kind", "code"),
        [("not-a-key-of-this-simulator-0000", "auth", "1002"), (NORMAL_KEY, "auth", "1014")],
    )
    async def test_keys(self, sim: SimulatorServer, key: str, kind: str, code: str) -> None:
        async with RunningHubClient(sim.url, key) as upstream:
            with pytest.raises(UpstreamError) as caught:
                await upstream.submit(LTX, LTX_PARAMS)
        assert (caught.value.kind, caught.value.upstream_code) == (kind, code)
        assert key not in str(caught.value)

    async def test_bad_params(self, client: RunningHubClient) -> None:
        with pytest.raises(UpstreamError) as caught:
            await client.submit(LTX, {**LTX_PARAMS, "duration": 99})
        assert caught.value.kind is ErrorKind.BAD_REQUEST
        assert caught.value.is_bad_request

    async def test_capacity(self, catalog: Catalog) -> None:
        settings = SimulatorSettings(
            accounts={DEMO_KEY: Account(concurrency_limit=1)}, speed=1, seed=1
        )
        with SimulatorServer(settings, catalog=catalog) as small:
            async with RunningHubClient(small.url, DEMO_KEY) as upstream:
                await upstream.submit(LTX, LTX_PARAMS)
                with pytest.raises(UpstreamError) as caught:
                    await upstream.submit(LTX, LTX_PARAMS)
        assert (caught.value.upstream_code, caught.value.is_capacity) == ("421", True)
        assert caught.value.retryable

    async def test_billing(self, sim: SimulatorServer) -> None:
        async with RunningHubClient(sim.url, POOR_KEY) as upstream:
            with pytest.raises(UpstreamError) as caught:
                await upstream.submit(LTX, LTX_PARAMS)
        assert (caught.value.upstream_code, caught.value.is_billing) == ("416", True)

    async def test_moderation(self, sim: SimulatorServer, client: RunningHubClient) -> None:
        httpx.put(f"{sim.url}/simulator/faults", json={"moderation_rate": 1.0})
        with pytest.raises(UpstreamError) as caught:
            await client.submit(LTX, LTX_PARAMS)
        assert (caught.value.upstream_code, caught.value.is_moderation) == ("1501", True)
        assert not caught.value.retryable

    async def test_not_found(self, client: RunningHubClient) -> None:
        with pytest.raises(UpstreamError) as caught:
            await client.query("1")
        assert (caught.value.kind, caught.value.upstream_code) == ("not_found", "1004")

    async def test_failed_task_is_a_state(
        self, sim: SimulatorServer, client: RunningHubClient
    ) -> None:
        httpx.put(f"{sim.url}/simulator/faults", json={"failed_rate": 1.0})
        accepted = await client.submit(LTX, LTX_PARAMS)
        state = await finish(client, accepted.task_id)
        assert state.status is UpstreamStatus.FAILED
        assert state.error_code == "1015"
        assert state.failed_reason

    async def test_unreachable_is_unavailable_not_uncertain(self) -> None:
        async with RunningHubClient(f"http://127.0.0.1:{free_port()}", DEMO_KEY) as upstream:
            with pytest.raises(UpstreamUnavailable) as caught:
                await upstream.submit(LTX, LTX_PARAMS)
        assert caught.value.retryable


class TestRetries:
    async def test_query_honours_retry_after(
        self, sim: SimulatorServer, client: RunningHubClient, sleeps: Sleeps
    ) -> None:
        accepted = await client.submit(LTX, LTX_PARAMS)
        httpx.put(f"{sim.url}/simulator/faults", json={"retry_after_s": 7})
        script(sim, "429", "query", times=2)
        state = await client.query(accepted.task_id)
        assert state.task_id == accepted.task_id
        assert sleeps.waits == [7.0, 7.0]

    async def test_query_retries_5xx_and_drops_with_backoff(
        self, sim: SimulatorServer, client: RunningHubClient, sleeps: Sleeps
    ) -> None:
        accepted = await client.submit(LTX, LTX_PARAMS)
        script(sim, "5xx", "query")
        script(sim, "drop", "query")
        await client.query(accepted.task_id)
        assert len(sleeps.waits) == 2
        assert all(0 <= wait <= 0.05 for wait in sleeps.waits)

    async def test_query_gives_up_after_its_attempts(
        self, sim: SimulatorServer, client: RunningHubClient, sleeps: Sleeps
    ) -> None:
        script(sim, "5xx", "query", times=4)
        with pytest.raises(UpstreamError) as caught:
            await client.query("1")
        assert caught.value.retryable
        assert len(sleeps.waits) == 3


class TestSubmitIsNeverRetried:
    async def test_dropped_after_acceptance_is_uncertain_and_submitted_once(
        self, sim: SimulatorServer, client: RunningHubClient, sleeps: Sleeps
    ) -> None:
        before, requests_before = submits(sim), submit_requests(sim)
        script(sim, "drop_after", "submit")
        with pytest.raises(SubmitUncertain) as caught:
            await client.submit(LTX, LTX_PARAMS, webhook_url="http://127.0.0.1:9/hook/abc")
        assert submits(sim) == before + 1  # the task exists upstream
        assert submit_requests(sim) == requests_before + 1  # and was sent exactly once
        assert sleeps.waits == []
        assert caught.value.webhook_url == "http://127.0.0.1:9/hook/abc"
        assert caught.value.kind is ErrorKind.UNCERTAIN

    async def test_5xx_is_uncertain_and_not_retried(
        self, sim: SimulatorServer, client: RunningHubClient, sleeps: Sleeps
    ) -> None:
        requests_before = submit_requests(sim)
        script(sim, "5xx", "submit")
        with pytest.raises(SubmitUncertain):
            await client.submit(LTX, LTX_PARAMS)
        assert submit_requests(sim) == requests_before + 1
        assert sleeps.waits == []

    async def test_429_is_a_clean_rejection(
        self, sim: SimulatorServer, client: RunningHubClient
    ) -> None:
        before = submits(sim)
        script(sim, "429", "submit")
        with pytest.raises(RateLimited) as caught:
            await client.submit(LTX, LTX_PARAMS)
        assert caught.value.retry_after == 1.0
        assert submits(sim) == before


class TestStatusNormalisation:
    @pytest.mark.parametrize(
        ("reported", "expected"),
        [
            ("QUEUED", UpstreamStatus.QUEUED),
            ("CREATE", UpstreamStatus.QUEUED),
            ("queued", UpstreamStatus.QUEUED),
            ("RUNNING", UpstreamStatus.RUNNING),
            ("Running", UpstreamStatus.RUNNING),
            ("SUCCESS", UpstreamStatus.SUCCEEDED),
            ("success", UpstreamStatus.SUCCEEDED),
            ("FAILED", UpstreamStatus.FAILED),
            ("CANCEL", UpstreamStatus.CANCELED),
            ("CANCELED", UpstreamStatus.CANCELED),
            ("PAUSED_FOR_REVIEW", UpstreamStatus.RUNNING),
        ],
    )
    async def test_every_status(
        self,
        sim: SimulatorServer,
        client: RunningHubClient,
        reported: str,
        expected: UpstreamStatus,
    ) -> None:
        accepted = await client.submit(LTX, LTX_PARAMS)
        url = f"{sim.url}/simulator/tasks/{accepted.task_id}/status"
        httpx.put(url, json={"status": reported}).raise_for_status()
        state = await client.query(accepted.task_id)
        assert (state.status, state.raw_status) == (expected, reported)


async def test_the_key_is_never_logged(sim: SimulatorServer) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        async with RunningHubClient(sim.url, DEMO_KEY) as upstream:
            accepted = await upstream.submit(LTX, LTX_PARAMS)
            await upstream.query(accepted.task_id)
            script(sim, "drop_after", "submit")
            with pytest.raises(SubmitUncertain):
                await upstream.submit(LTX, LTX_PARAMS)
    assert logs
    assert DEMO_KEY not in repr(logs)
