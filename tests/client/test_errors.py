"""`AipaintAPIError` read from every kind of answer, and how the client's errors print."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aipaint.client import (
    AipaintAPIError,
    AipaintClientError,
    AipaintConnectionError,
    TaskFailed,
    WaitTimeout,
)
from aipaint.client._core import decode, raise_for_status, reaching
from aipaint.client.types import Task

REQUEST = httpx.Request("GET", "http://127.0.0.1:8000/v1/models/x")

PARAMS_ERROR: dict[str, Any] = {
    "error": {
        "code": "invalid_params",
        "message": "2 invalid parameter(s) for model rhart-video/ltx-2.3/text-to-video.",
        "details": [
            {"param": "duration", "code": "out_of_range", "message": "Duration must be 5..15."},
            {"param": "imageUrls", "index": 1, "code": "invalid_url", "message": "Bad URL."},
        ],
    }
}


def answer(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)


def error_of(response: httpx.Response) -> AipaintAPIError:
    with pytest.raises(AipaintAPIError) as caught:
        raise_for_status(response)
    return caught.value


class TestContractShape:
    def test_fields(self) -> None:
        body = {"error": {"code": "model_not_found", "message": "Model 'x' does not exist."}}
        error = error_of(answer(404, json=body))
        assert error.status_code == 404
        assert error.code == "model_not_found"
        assert error.message == "Model 'x' does not exist."
        assert error.details == []
        assert str(error) == "model_not_found: Model 'x' does not exist. (HTTP 404)"

    def test_a_422_prints_each_field(self) -> None:
        error = error_of(answer(422, json=PARAMS_ERROR))
        assert error.details == PARAMS_ERROR["error"]["details"]
        assert str(error).splitlines() == [
            "invalid_params: 2 invalid parameter(s) for model rhart-video/ltx-2.3/text-to-video."
            " (HTTP 422)",
            "  duration: Duration must be 5..15.",
            "  imageUrls[1]: Bad URL.",
        ]

    def test_a_malformed_request_names_its_field(self) -> None:
        body = {
            "error": {
                "code": "invalid_request",
                "message": "The request is malformed.",
                "details": [
                    {"field": "body.model", "code": "missing", "message": "Field required"}
                ],
            }
        }
        assert str(error_of(answer(422, json=body))).splitlines()[1:] == [
            "  body.model: Field required"
        ]

    def test_details_are_listed_only_for_422(self) -> None:
        body = {"error": {"code": "conflict", "message": "no", "details": [{"message": "x"}]}}
        assert str(error_of(answer(409, json=body))) == "conflict: no (HTTP 409)"

    def test_odd_details_are_tolerated(self) -> None:
        body = {"error": {"code": "invalid_params", "message": "m", "details": ["x", {}]}}
        error = error_of(answer(422, json=body))
        assert error.details == [{}]
        assert str(error).splitlines()[1] == "  (params): "


class TestOtherAnswers:
    def test_an_html_page(self) -> None:
        page = "<html>\n<body>\n  <h1>502 Bad Gateway</h1>\n</body></html>"
        error = error_of(answer(502, text=page, headers={"content-type": "text/html"}))
        assert (error.status_code, error.code) == (502, "http_502")
        assert error.message == "Bad Gateway: <html> <body> <h1>502 Bad Gateway</h1> </body></html>"

    def test_a_long_page_is_cut(self) -> None:
        error = error_of(answer(503, text="x" * 5000))
        assert len(error.message) < 300
        assert error.message.endswith("…")

    def test_an_empty_body(self) -> None:
        error = error_of(answer(401))
        assert (error.code, error.message) == ("http_401", "Unauthorized")

    def test_json_in_another_shape(self) -> None:
        error = error_of(answer(404, json={"detail": "Not Found"}))
        assert (error.code, error.message) == ("http_404", "Not Found")
        other = error_of(answer(400, json=[1, 2]))
        assert (other.code, other.message) == ("http_400", "[1, 2]")

    def test_a_body_that_is_not_utf8(self) -> None:
        error = error_of(answer(500, content=b"\xff\xfe\x00"))
        assert error.code == "http_500"


class TestSuccess:
    def test_2xx_passes(self) -> None:
        raise_for_status(answer(202, json={"id": "t"}))
        assert decode(answer(200, json={"a": 1})) == {"a": 1}

    def test_a_2xx_that_is_not_json(self) -> None:
        with pytest.raises(AipaintClientError, match="not JSON"):
            decode(answer(200, text="<html>"))

    def test_304_is_not_a_success(self) -> None:
        assert error_of(answer(304)).status_code == 304


def test_transport_errors_name_the_server() -> None:
    with (
        pytest.raises(AipaintConnectionError, match=r"at http://127\.0\.0\.1:9: refused") as caught,
        reaching("http://127.0.0.1:9"),
    ):
        raise httpx.ConnectError("refused")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_every_error_is_a_client_error() -> None:
    error = AipaintAPIError(400, "bad_request", "no")
    assert isinstance(error, AipaintClientError)
    assert repr(error) == "AipaintAPIError(400, 'bad_request', 'no')"


def test_task_failed() -> None:
    task: Task = {
        "id": "t1",
        "model": "m",
        "params": {},
        "status": "failed",
        "error": {
            "code": "upstream_failed",
            "message": "The model failed.",
            "upstream_code": "805",
        },
    }
    error = TaskFailed(task)
    assert error.task is task
    assert str(error) == "task t1 failed: upstream_failed: The model failed."
    canceled: Task = {"id": "t2", "model": "m", "params": {}, "status": "canceled", "error": None}
    assert str(TaskFailed(canceled)) == "task t2 canceled: no error reported"


def test_wait_timeout_is_a_timeout_error() -> None:
    task: Task = {"id": "t1", "model": "m", "params": {}, "status": "queued"}
    error = WaitTimeout("t1", task)
    assert isinstance(error, TimeoutError)
    assert error.task is task
    assert str(error) == "task t1 has not finished (last status: queued)"
