"""RunningHubClient against scripted transports: one test per wire behaviour it promises.

The real contract tests (client vs simulator over a socket) live elsewhere; these pin each
outcome with `httpx.MockTransport` so a regression names the exact behaviour it broke.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from aipaint.upstream import (
    DEFAULT_TIMEOUT,
    RateLimited,
    RetryPolicy,
    RunningHubClient,
    SubmitUncertain,
    UpstreamAuth,
    UpstreamBadRequest,
    UpstreamBilling,
    UpstreamCapacity,
    UpstreamError,
    UpstreamModeration,
    UpstreamNotFound,
    UpstreamStatus,
    UpstreamTransient,
    UpstreamUnavailable,
    params_digest,
)
from aipaint.upstream.errors import ErrorKind, UpstreamInProgress

pytestmark = pytest.mark.anyio

KEY = "0123456789abcdef0123456789abcdef"
BASE = "https://rh.test"
MODEL = "rhart-video/ltx-2.3/text-to-video"
PARAMS: dict[str, Any] = {
    "prompt": "第一视角无人机跟拍视角",
    "resolution": "720p",
    "aspectRatio": "16:9",
    "duration": 5,
}

# The seed document's example bodies, verbatim.
SEED_SUBMIT: dict[str, Any] = {
    "taskId": "2013508786110730241",
    "status": "RUNNING",
    "errorCode": "",
    "errorMessage": "",
    "results": None,
    "clientId": "f828b9af25161bc066ef152db7b29ccc",
    "promptTips": (
        '{"result": true, "error": null, "outputs_to_execute": ["4"], "node_errors": {}}'
    ),
}
SEED_QUERY: dict[str, Any] = {
    "taskId": "2013508786110730241",
    "status": "SUCCESS",
    "errorCode": "",
    "errorMessage": "",
    "failedReason": {},
    "usage": {
        "consumeMoney": None,
        "consumeCoins": None,
        "taskCostTime": "0",
        "thirdPartyConsumeMoney": None,
    },
    "results": [
        {
            "url": "https://rh-images-1252422369.cos.ap-beijing.myqcloud.com/b04e28cad0ee39193921a30a2eb4dc00/output/ComfyUI_00001_plhjr_1768892915.png",
            "nodeId": "2",
            "outputType": "png",
            "text": None,
        }
    ],
    "clientId": "",
    "promptTips": "",
}
SEED_UPLOAD: dict[str, Any] = {
    "code": 0,
    "message": "success",
    "data": {
        "type": "image",
        "download_url": "xxxx.png",
        "fileName": "openapi/xxxx.png",
        "size": "3490",
    },
}

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Upstream:
    """A scripted RunningHub: answers each request with the next step and records it."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.steps, f"unexpected extra request {request.method} {request.url}"
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    @property
    def request(self) -> httpx.Request:
        assert len(self.requests) == 1, f"{len(self.requests)} requests were made"
        return self.requests[0]

    def body(self, index: int = 0) -> Any:
        return json.loads(self.requests[index].content)


@asynccontextmanager
async def connect(upstream: Upstream, base_url: str = BASE) -> AsyncIterator[RunningHubClient]:
    policy = RetryPolicy(sleep=upstream.sleep, random=lambda: 0.5)
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as http:
        yield RunningHubClient(base_url, KEY, http=http, retry=policy)


def ok(body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=body, **kwargs)


def rejected(code: str, message: str = "no") -> httpx.Response:
    return ok({"taskId": "", "status": "", "errorCode": code, "errorMessage": message})


def assert_bearer(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {KEY}"


class TestSubmit:
    async def test_seed_answer_is_accepted(self) -> None:
        upstream = Upstream(ok(SEED_SUBMIT))
        async with connect(upstream) as client:
            accepted = await client.submit(MODEL, PARAMS)
        assert accepted.task_id == "2013508786110730241"
        assert accepted.status is UpstreamStatus.RUNNING
        assert accepted.raw_status == "RUNNING"
        assert accepted.results == []
        assert accepted.raw == SEED_SUBMIT
        request = upstream.request
        assert request.method == "POST"
        assert str(request.url) == f"{BASE}/openapi/v2/{MODEL}"
        assert request.headers["content-type"] == "application/json"
        assert_bearer(request)
        assert upstream.body() == PARAMS  # the v2 body carries no key

    async def test_webhook_url_rides_in_the_body(self) -> None:
        upstream = Upstream(ok(SEED_SUBMIT))
        async with connect(upstream) as client:
            await client.submit(MODEL, PARAMS, webhook_url="https://me.test/hook/s3cr3t")
        assert upstream.body() == {**PARAMS, "webhookUrl": "https://me.test/hook/s3cr3t"}

    async def test_an_instant_success_carries_its_results(self) -> None:
        body = {**SEED_QUERY, "status": "SUCCESS"}
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            accepted = await client.submit(MODEL, PARAMS)
        assert accepted.status is UpstreamStatus.SUCCEEDED
        assert [r.output_type for r in accepted.results] == ["png"]

    async def test_task_id_in_snake_case_is_accepted(self) -> None:
        upstream = Upstream(ok({"task_id": "77", "status": "QUEUED"}))
        async with connect(upstream) as client:
            accepted = await client.submit(MODEL, PARAMS)
        assert (accepted.task_id, accepted.status) == ("77", UpstreamStatus.QUEUED)

    @pytest.mark.parametrize(
        ("code", "error_type"),
        [
            ("421", UpstreamCapacity),
            ("416", UpstreamBilling),
            ("1501", UpstreamModeration),
            ("1007", UpstreamBadRequest),
            ("1002", UpstreamAuth),
            ("1011", UpstreamTransient),
        ],
    )
    async def test_an_error_code_is_a_clean_typed_rejection(
        self, code: str, error_type: type[UpstreamError]
    ) -> None:
        upstream = Upstream(rejected(code, "refused"))
        async with connect(upstream) as client:
            with pytest.raises(error_type) as caught:
                await client.submit(MODEL, PARAMS)
        assert caught.value.upstream_code == code
        assert caught.value.upstream_message == "refused"
        assert len(upstream.requests) == 1
        assert upstream.sleeps == []

    async def test_a_message_without_a_code_is_a_rejection(self) -> None:
        upstream = Upstream(ok({"taskId": "", "errorCode": "", "errorMessage": "bad prompt"}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamError) as caught:
                await client.submit(MODEL, PARAMS)
        assert caught.value.kind is ErrorKind.UNKNOWN
        assert caught.value.upstream_message == "bad prompt"

    async def test_an_envelope_shaped_error_is_read_too(self) -> None:
        upstream = Upstream(ok({"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamAuth):
                await client.submit(MODEL, PARAMS)

    async def test_queued_with_a_task_id_is_accepted(self) -> None:
        body = {"taskId": "9", "status": "", "errorCode": "813", "errorMessage": "queued"}
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            accepted = await client.submit(MODEL, PARAMS)
        assert accepted.task_id == "9"

    async def test_in_progress_without_a_task_id_is_raised(self) -> None:
        upstream = Upstream(rejected("804", "APIKEY_TASK_IS_RUNNING"))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamInProgress):
                await client.submit(MODEL, PARAMS)

    async def test_429_is_rate_limited_with_retry_after(self) -> None:
        upstream = Upstream(httpx.Response(429, headers={"Retry-After": "7"}))
        async with connect(upstream) as client:
            with pytest.raises(RateLimited) as caught:
                await client.submit(MODEL, PARAMS)
        assert caught.value.retry_after == 7.0
        assert caught.value.upstream_code == "http_429"
        assert len(upstream.requests) == 1

    @pytest.mark.parametrize("status", [401, 403])
    async def test_401_and_403_are_auth(self, status: int) -> None:
        upstream = Upstream(httpx.Response(status))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamAuth):
                await client.submit(MODEL, PARAMS)

    async def test_404_is_a_bad_path(self) -> None:
        upstream = Upstream(httpx.Response(404, text="Not Found"))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamBadRequest) as caught:
                await client.submit(MODEL, PARAMS)
        assert (caught.value.upstream_code, caught.value.sign) == ("http_404", "NOT_FOUND")

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.ReadTimeout("read timed out"),
            httpx.WriteTimeout("write timed out"),
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            httpx.ReadError("connection reset"),
            httpx.WriteError("broken pipe"),
        ],
        ids=lambda failure: type(failure).__name__,
    )
    async def test_failures_after_sending_are_uncertain_and_never_retried(
        self, failure: Exception
    ) -> None:
        upstream = Upstream(failure, ok(SEED_SUBMIT))
        hook = "https://me.test/hook"
        async with connect(upstream) as client:
            with pytest.raises(SubmitUncertain) as caught:
                await client.submit(MODEL, PARAMS, webhook_url=hook)
        error = caught.value
        assert len(upstream.requests) == 1
        assert upstream.sleeps == []
        assert error.cause is failure
        assert error.__cause__ is failure
        assert error.model_id == MODEL
        assert error.params_digest == params_digest(PARAMS, hook)
        assert error.webhook_url == hook
        assert not error.retryable

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    async def test_5xx_is_uncertain(self, status: int) -> None:
        upstream = Upstream(httpx.Response(status), ok(SEED_SUBMIT))
        async with connect(upstream) as client:
            with pytest.raises(SubmitUncertain) as caught:
                await client.submit(MODEL, PARAMS)
        assert len(upstream.requests) == 1
        assert isinstance(caught.value.cause, UpstreamTransient)
        assert caught.value.cause.upstream_code == f"http_{status}"

    @pytest.mark.parametrize(
        "response",
        [
            httpx.Response(200, text="<html>gateway</html>"),
            httpx.Response(200, text=""),
            httpx.Response(200, json=["not", "an", "object"]),
            ok({"status": "RUNNING", "errorCode": ""}),
        ],
        ids=["html", "empty", "array", "no-task-id"],
    )
    async def test_an_unreadable_200_is_uncertain(self, response: httpx.Response) -> None:
        upstream = Upstream(response)
        async with connect(upstream) as client:
            with pytest.raises(SubmitUncertain) as caught:
                await client.submit(MODEL, PARAMS)
        cause = caught.value.cause
        assert isinstance(cause, UpstreamTransient)
        assert cause.upstream_code == "bad_response"
        assert len(upstream.requests) == 1

    async def test_junk_around_a_task_id_is_tolerated(self) -> None:
        # A task id is all a submit must learn; fields it cannot read are dropped, not fatal.
        body = {"taskId": "1", "status": "QUEUED", "results": "junk", "usage": 5, "x": [1]}
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            accepted = await client.submit(MODEL, PARAMS)
        assert (accepted.task_id, accepted.status) == ("1", UpstreamStatus.QUEUED)

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.ConnectError("connection refused"),
            httpx.ConnectTimeout("connect timed out"),
            httpx.PoolTimeout("no free connection"),
        ],
        ids=lambda failure: type(failure).__name__,
    )
    async def test_never_sent_is_unavailable_and_safe_to_resubmit(self, failure: Exception) -> None:
        upstream = Upstream(failure, ok(SEED_SUBMIT))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamUnavailable) as caught:
                await client.submit(MODEL, PARAMS)
        assert caught.value.retryable
        assert caught.value.cause is failure
        assert len(upstream.requests) == 1

    @pytest.mark.parametrize("model_id", ["", "/", "a/../query", "a//b", "a?b=1", "a#b"])
    async def test_bad_model_ids_are_refused_before_sending(self, model_id: str) -> None:
        upstream = Upstream()
        async with connect(upstream) as client:
            with pytest.raises(ValueError, match="model id"):
                await client.submit(model_id, PARAMS)
        assert upstream.requests == []


class TestQuery:
    async def test_seed_answer(self) -> None:
        upstream = Upstream(ok(SEED_QUERY))
        async with connect(upstream) as client:
            state = await client.query("2013508786110730241")
        request = upstream.request
        assert str(request.url) == f"{BASE}/openapi/v2/query"
        assert request.method == "POST"
        assert_bearer(request)
        assert upstream.body() == {"taskId": "2013508786110730241"}

        assert state.task_id == "2013508786110730241"
        assert state.status is UpstreamStatus.SUCCEEDED
        assert state.raw_status == "SUCCESS"
        assert state.error_code is None
        assert state.error_message is None
        assert state.failed_reason is None
        assert state.usage is not None
        assert state.usage.money is None
        assert state.usage.coins is None
        assert state.usage.third_party_money is None
        assert state.usage.cost_time_s == 0.0
        [result] = state.results
        assert result.url == SEED_QUERY["results"][0]["url"]
        assert (result.node_id, result.output_type, result.text) == ("2", "png", None)
        assert state.raw == SEED_QUERY

    async def test_usage_strings_become_numbers(self) -> None:
        usage = {
            "consumeMoney": "0.35",
            "consumeCoins": "12",
            "taskCostTime": "41.5",
            "thirdPartyConsumeMoney": "",
        }
        upstream = Upstream(ok({**SEED_QUERY, "usage": usage}))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.usage is not None
        assert state.usage.money == Decimal("0.35")
        assert state.usage.coins == Decimal("12")
        assert state.usage.cost_time_s == 41.5
        assert state.usage.third_party_money is None

    async def test_alternative_result_fields(self) -> None:
        results = [
            {"outputUrl": "https://cdn.test/a.mp4", "nodeId": 9, "outputType": "mp4"},
            {"url": None, "outputUrl": "https://cdn.test/b.png"},
            {"content": "a poem"},
            {"output": "another poem", "outputType": "txt"},
            {"text": "third", "content": "ignored"},
        ]
        upstream = Upstream(ok({"taskId": "1", "status": "SUCCESS", "results": results}))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert [(r.url, r.text) for r in state.results] == [
            ("https://cdn.test/a.mp4", None),
            ("https://cdn.test/b.png", None),
            (None, "a poem"),
            (None, "another poem"),
            (None, "third"),
        ]
        assert state.results[0].node_id == "9"

    async def test_429_is_retried_then_succeeds(self) -> None:
        upstream = Upstream(httpx.Response(429, headers={"Retry-After": "2"}), ok(SEED_QUERY))
        async with connect(upstream) as client:
            state = await client.query("2013508786110730241")
        assert state.status is UpstreamStatus.SUCCEEDED
        assert len(upstream.requests) == 2
        assert upstream.sleeps == [2.0]

    async def test_retryable_business_code_is_retried(self) -> None:
        upstream = Upstream(rejected("1011", "system busy"), ok(SEED_QUERY))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is UpstreamStatus.SUCCEEDED
        assert upstream.sleeps == [0.25]

    async def test_network_errors_are_retried(self) -> None:
        upstream = Upstream(httpx.ReadTimeout("slow"), httpx.ConnectError("down"), ok(SEED_QUERY))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is UpstreamStatus.SUCCEEDED
        assert len(upstream.requests) == 3

    async def test_unreachable_after_every_attempt(self) -> None:
        upstream = Upstream(*(httpx.ConnectError("down") for _ in range(4)))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamUnavailable):
                await client.query("1")
        assert len(upstream.requests) == 4
        assert upstream.sleeps == [0.25, 0.5, 1.0]

    async def test_unknown_task_is_not_retried(self) -> None:
        upstream = Upstream(rejected("1004", "Task not found"))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamNotFound):
                await client.query("1")
        assert upstream.sleeps == []

    async def test_a_failed_task_is_a_state(self) -> None:
        reason = {"node_id": "4", "exception_message": "CUDA out of memory"}
        body = {
            "taskId": "1",
            "status": "FAILED",
            "errorCode": "805",
            "errorMessage": "APIKEY_TASK_STATUS_ERROR",
            "failedReason": reason,
            "results": None,
        }
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is UpstreamStatus.FAILED
        assert (state.error_code, state.error_message) == ("805", "APIKEY_TASK_STATUS_ERROR")
        assert state.failed_reason == reason
        assert state.results == []

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("1015", UpstreamStatus.FAILED),
            ("1504", UpstreamStatus.FAILED),
            ("1501", UpstreamStatus.FAILED),
            ("804", UpstreamStatus.RUNNING),
            ("813", UpstreamStatus.QUEUED),
        ],
    )
    async def test_task_level_codes_without_status_are_states(
        self, code: str, expected: UpstreamStatus
    ) -> None:
        upstream = Upstream(rejected(code))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is expected
        assert state.error_code == code

    async def test_a_terminal_status_wins_over_its_error_code(self) -> None:
        upstream = Upstream(ok({"taskId": "1", "status": "FAILED", "errorCode": "1000"}))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is UpstreamStatus.FAILED
        assert upstream.sleeps == []

    async def test_failed_reason_as_a_json_string(self) -> None:
        body = {"taskId": "1", "status": "FAILED", "failedReason": '{"node_id": "3"}'}
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.failed_reason == {"node_id": "3"}

    async def test_unknown_status_reads_as_running(self) -> None:
        upstream = Upstream(ok({"taskId": "1", "status": "HATCHING_UNIT_TEST"}))
        with capture_logs() as logs:
            async with connect(upstream) as client:
                state = await client.query("1")
        assert state.status is UpstreamStatus.RUNNING
        assert state.raw_status == "HATCHING_UNIT_TEST"
        assert {"event": "unknown_upstream_status", "raw_status": "HATCHING_UNIT_TEST"}.items() <= (
            logs[0].items()
        )

    async def test_a_garbled_answer_is_retried(self) -> None:
        upstream = Upstream(httpx.Response(200, text="oops"), ok(SEED_QUERY))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert state.status is UpstreamStatus.SUCCEEDED

    async def test_an_empty_task_id_is_refused(self) -> None:
        async with connect(Upstream()) as client:
            with pytest.raises(ValueError, match="task_id"):
                await client.query(" ")


class TestUpload:
    async def test_seed_answer_and_multipart_field(self) -> None:
        upstream = Upstream(ok(SEED_UPLOAD))
        async with connect(upstream) as client:
            uploaded = await client.upload(b"\x89PNG-bytes", "cat.png", "image/png")
        assert uploaded.download_url == "xxxx.png"
        assert uploaded.file_name == "openapi/xxxx.png"
        assert uploaded.type == "image"
        assert uploaded.size == 3490
        request = upstream.request
        assert str(request.url) == f"{BASE}/openapi/v2/media/upload/binary"
        assert_bearer(request)
        assert request.headers["content-type"].startswith("multipart/form-data")
        content = request.content
        assert b'name="file"; filename="cat.png"' in content
        assert b"Content-Type: image/png" in content
        assert b"\x89PNG-bytes" in content

    async def test_code_200_is_success_too(self) -> None:
        upstream = Upstream(ok({**SEED_UPLOAD, "code": 200}))
        async with connect(upstream) as client:
            uploaded = await client.upload(b"x", "a.png", "image/png")
        assert uploaded.download_url == "xxxx.png"

    @pytest.mark.parametrize("field", ["message", "msg"])
    async def test_an_error_code_raises_its_type(self, field: str) -> None:
        upstream = Upstream(ok({"code": 809, field: "file too large", "data": None}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamBadRequest) as caught:
                await client.upload(b"x", "a.png", "image/png")
        assert caught.value.upstream_code == "809"
        assert caught.value.upstream_message == "file too large"
        assert upstream.sleeps == []

    async def test_a_failed_upload_is_sent_again(self) -> None:
        upstream = Upstream(ok({"code": 808, "message": "upload failed"}), ok(SEED_UPLOAD))
        async with connect(upstream) as client:
            await client.upload(b"same-bytes", "a.png", "image/png")
        assert len(upstream.requests) == 2
        assert all(b"same-bytes" in request.content for request in upstream.requests)


class TestQueueStatus:
    async def test_counts_arrive_as_strings(self) -> None:
        data = {
            "apiKeyType": "SHARED",
            "concurrentLimit": 3,
            "runningCount": "2",
            "queuedCount": "1",
            "totalCurrentTasks": "3",
        }
        upstream = Upstream(ok({"code": 0, "msg": "success", "data": data}))
        async with connect(upstream) as client:
            status = await client.queue_status()
        assert (status.api_key_type, status.concurrent_limit) == ("SHARED", 3)
        assert (status.running, status.queued, status.total) == (2, 1, 3)
        request = upstream.request
        assert (request.method, request.url.path) == ("GET", "/openapi/v2/queue/status")
        assert_bearer(request)

    async def test_a_missing_limit_is_a_bad_answer(self) -> None:
        steps = [ok({"code": 0, "msg": "success", "data": {}}) for _ in range(4)]
        upstream = Upstream(*steps)
        async with connect(upstream) as client:
            with pytest.raises(UpstreamTransient) as caught:
                await client.queue_status()
        assert caught.value.upstream_code == "bad_response"
        assert "concurrentLimit" in caught.value.upstream_message


class TestPricePreview:
    async def test_same_body_as_submit_and_error_code_zero_is_success(self) -> None:
        body = {
            "errorCode": 0,
            "errorMessage": "",
            "estimatedPrice": 0.35,
            "currency": "CNY",
            "priceText": "0.35 元",
            "priceTextEn": "0.35 CNY",
            "freeLimit": True,
            "freeLimitCount": "100",
            "remainingFreeLimitCount": 97,
            "isFreeThisCall": False,
        }
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            price = await client.price_preview(MODEL, PARAMS)
        assert price.estimated_price == Decimal("0.35")
        assert (price.currency, price.price_text, price.price_text_en) == (
            "CNY",
            "0.35 元",
            "0.35 CNY",
        )
        assert (price.free_limit, price.free_limit_count) == (True, 100)
        assert (price.remaining_free_limit_count, price.is_free_this_call) == (97, False)
        request = upstream.request
        assert str(request.url) == f"{BASE}/openapi/v2/price-preview/{MODEL}"
        assert upstream.body() == PARAMS

    async def test_an_error_code_raises(self) -> None:
        upstream = Upstream(ok({"errorCode": "1007", "errorMessage": "Invalid parameters"}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamBadRequest):
                await client.price_preview(MODEL, PARAMS)


class TestAccountStatus:
    async def test_key_in_header_and_lower_case_body(self) -> None:
        data = {
            "remainCoins": "1024",
            "currentTaskCounts": "2",
            "remainMoney": "98.50",
            "currency": "CNY",
            "apiType": "NORMAL",
        }
        upstream = Upstream(ok({"code": 0, "msg": "success", "data": data}))
        async with connect(upstream) as client:
            account = await client.account_status()
        assert account.remain_coins == Decimal("1024")
        assert account.remain_money == Decimal("98.50")
        assert (account.currency, account.api_type, account.current_task_counts) == (
            "CNY",
            "NORMAL",
            2,
        )
        request = upstream.request
        assert (request.method, str(request.url)) == ("POST", f"{BASE}/uc/openapi/accountStatus")
        assert_bearer(request)
        assert upstream.body() == {"apikey": KEY}

    async def test_an_envelope_error_raises(self) -> None:
        upstream = Upstream(ok({"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamAuth):
                await client.account_status()


class TestKeyRedaction:
    async def test_repr_hides_the_key(self) -> None:
        async with RunningHubClient(BASE, KEY) as client:
            assert repr(client) == f"RunningHubClient(base_url={BASE!r}, api_key='***')"
            assert KEY not in str(vars(client))

    async def test_an_echoed_key_is_scrubbed_from_a_rejection(self) -> None:
        upstream = Upstream(rejected("802", f"api key {KEY} is unauthorized"))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamAuth) as caught:
                await client.submit(MODEL, PARAMS)
        error = caught.value
        for text in (str(error), repr(error), error.message.zh, error.message.en, str(error.raw)):
            assert KEY not in text
        assert error.upstream_message == "api key *** is unauthorized"

    async def test_an_echoed_key_is_scrubbed_from_an_uncertain_submit(self) -> None:
        upstream = Upstream(httpx.Response(502, json={"errorMessage": f"bad gateway for {KEY}"}))
        with capture_logs() as logs:
            async with connect(upstream) as client:
                with pytest.raises(SubmitUncertain) as caught:
                    await client.submit(MODEL, PARAMS)
        assert [entry["event"] for entry in logs] == ["upstream_submit_uncertain"]
        error = caught.value
        assert isinstance(error.cause, UpstreamError)
        for text in (str(error), str(error.cause), str(error.cause.raw), str(logs)):
            assert KEY not in text

    async def test_the_raw_state_is_scrubbed(self) -> None:
        body = {**SEED_QUERY, "clientId": KEY, "results": [{"text": f"key={KEY}"}]}
        upstream = Upstream(ok(body))
        async with connect(upstream) as client:
            state = await client.query("1")
        assert KEY not in state.model_dump_json()
        assert state.raw["clientId"] == "***"
        assert state.results[0].text == "key=***"

    async def test_account_errors_echoing_the_body_are_scrubbed(self) -> None:
        upstream = Upstream(ok({"code": 806, "msg": f"no user for apikey {KEY}"}))
        async with connect(upstream) as client:
            with pytest.raises(UpstreamAuth) as caught:
                await client.account_status()
        assert KEY not in str(caught.value)

    async def test_retry_logs_never_carry_the_key(self) -> None:
        upstream = Upstream(
            httpx.Response(503, json={"errorMessage": KEY}),
            rejected("1011", KEY),
            ok(SEED_QUERY),
        )
        with capture_logs() as logs:
            async with connect(upstream) as client:
                await client.query(SEED_QUERY["taskId"])
        assert [entry["event"] for entry in logs] == ["upstream_retry", "upstream_retry"]
        assert KEY not in str(logs)


class TestLifecycle:
    async def test_an_owned_client_is_closed(self) -> None:
        async with RunningHubClient(BASE, SecretStr(KEY)) as client:
            pass
        assert client._http.is_closed

    async def test_a_shared_client_stays_open(self) -> None:
        async with httpx.AsyncClient() as http:
            async with RunningHubClient(BASE, KEY, http=http):
                pass
            assert not http.is_closed

    async def test_explicit_timeouts_apply_to_every_request(self) -> None:
        upstream = Upstream(ok(SEED_QUERY))
        async with connect(upstream) as client:
            await client.query("1")
        assert upstream.request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
        assert DEFAULT_TIMEOUT.as_dict() == {
            "connect": 5.0,
            "read": 30.0,
            "write": 60.0,
            "pool": 5.0,
        }

    @pytest.mark.parametrize(
        "base_url", [BASE, f"{BASE}/", f"{BASE}/openapi/v2", f"{BASE}/openapi/v2/"]
    )
    async def test_the_base_url_may_carry_the_api_prefix(self, base_url: str) -> None:
        upstream = Upstream(ok(SEED_QUERY))
        async with connect(upstream, base_url) as client:
            await client.query("1")
        assert str(upstream.request.url) == f"{BASE}/openapi/v2/query"

    def test_a_base_url_must_be_http(self) -> None:
        with pytest.raises(ValueError, match="base_url"):
            RunningHubClient("www.runninghub.cn", KEY)
