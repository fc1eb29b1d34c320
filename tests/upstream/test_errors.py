"""The code table: every code of RunningHub's official table maps to a kind and a retry flag."""

from __future__ import annotations

import pytest

from aipaint.errors import AipaintError
from aipaint.upstream.errors import (
    CODES,
    CodeInfo,
    ErrorKind,
    RateLimited,
    SubmitUncertain,
    UpstreamAuth,
    UpstreamBadRequest,
    UpstreamBilling,
    UpstreamCapacity,
    UpstreamError,
    UpstreamInProgress,
    UpstreamModeration,
    UpstreamNotFound,
    UpstreamTaskFailed,
    UpstreamTransient,
    UpstreamUnavailable,
    from_code,
    kind_of,
    params_digest,
)

# The official table (doc-8287338, copied into the facts §4) plus 1520, seen in clients.
OFFICIAL_CODES = {
    *("301", "380", "412", "415", "416", "421", "423", "433", "435", "436", "500"),
    *(str(code) for code in range(801, 815)),
    "901",
    *(str(code) for code in range(1000, 1016)),
    *("1101", "1501", "1504", "1505", "1520"),
}

CLASSES: dict[ErrorKind, type[UpstreamError]] = {
    ErrorKind.CAPACITY: UpstreamCapacity,
    ErrorKind.BILLING: UpstreamBilling,
    ErrorKind.MODERATION: UpstreamModeration,
    ErrorKind.BAD_REQUEST: UpstreamBadRequest,
    ErrorKind.AUTH: UpstreamAuth,
    ErrorKind.NOT_FOUND: UpstreamNotFound,
    ErrorKind.RATE_LIMITED: RateLimited,
    ErrorKind.TRANSIENT: UpstreamTransient,
    ErrorKind.TASK_FAILED: UpstreamTaskFailed,
    ErrorKind.IN_PROGRESS: UpstreamInProgress,
}


def codes_of(kind: ErrorKind) -> set[str]:
    return {code for code, info in CODES.items() if info.kind is kind}


def test_the_table_covers_exactly_the_official_codes() -> None:
    assert set(CODES) == OFFICIAL_CODES


@pytest.mark.parametrize(("code", "info"), sorted(CODES.items()))
def test_every_code_maps_to_its_kind_and_retry_flag(code: str, info: CodeInfo) -> None:
    error = from_code(code, "upstream says no")
    assert type(error) is CLASSES[info.kind]
    assert error.kind is info.kind
    assert error.retryable is info.retryable
    assert error.upstream_code == code
    assert error.sign == info.sign
    assert error.upstream_message == "upstream says no"
    assert isinstance(error, AipaintError)
    assert f"({code} {info.sign}): upstream says no" in error.message.en
    assert f"（{code} {info.sign}）：upstream says no" in error.message.zh


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        (ErrorKind.CAPACITY, {"415", "421", "1003", "1520"}),
        (ErrorKind.BILLING, {"416", "812"}),
        (ErrorKind.MODERATION, {"1501", "1505"}),
        (ErrorKind.AUTH, {"801", "802", "806", "811", "1002", "1014", "436"}),
        (ErrorKind.TASK_FAILED, {"805", "1006", "1015", "1504"}),
        (ErrorKind.IN_PROGRESS, {"804", "813"}),
    ],
)
def test_kind_sets_are_exact(kind: ErrorKind, codes: set[str]) -> None:
    assert codes_of(kind) == codes


def test_transient_codes_are_retryable() -> None:
    assert {"500", "1000", "1005", "1010", "1011", "1012"} <= codes_of(ErrorKind.TRANSIENT)
    assert all(CODES[code].retryable for code in codes_of(ErrorKind.TRANSIENT))


def test_capacity_means_queue_not_reject() -> None:
    assert all(CODES[code].retryable for code in codes_of(ErrorKind.CAPACITY))


@pytest.mark.parametrize(
    "kind",
    [ErrorKind.BILLING, ErrorKind.MODERATION, ErrorKind.AUTH, ErrorKind.BAD_REQUEST],
)
def test_what_a_retry_cannot_fix_is_not_retryable(kind: ErrorKind) -> None:
    assert not any(CODES[code].retryable for code in codes_of(kind))


def test_not_every_apikey_code_is_auth() -> None:
    apikey = {code for code, info in CODES.items() if info.sign.startswith("APIKEY_")}
    assert apikey & codes_of(ErrorKind.AUTH) == {"801", "802", "806"}
    for code in ("803", "804", "805", "807", "808", "809", "813"):
        assert CODES[code].kind is not ErrorKind.AUTH


def test_412_is_a_wrong_path_not_a_bad_key() -> None:
    assert from_code("412").is_bad_request


class TestSpotChecks:
    def test_421_is_capacity_and_retryable(self) -> None:
        error = from_code("421", "queue full")
        assert isinstance(error, UpstreamCapacity)
        assert error.is_capacity
        assert error.retryable
        assert error.sign == "TASK_QUEUE_MAXED"
        assert error.status_code == 503

    def test_416_is_billing(self) -> None:
        error = from_code(416)
        assert error.is_billing
        assert not error.retryable

    def test_1501_is_moderation(self) -> None:
        error = from_code("1501")
        assert error.is_moderation
        assert not error.retryable
        assert error.status_code == 422

    def test_1007_is_bad_request(self) -> None:
        error = from_code("1007")
        assert error.is_bad_request
        assert not error.retryable
        assert [error.is_capacity, error.is_billing, error.is_moderation] == [False] * 3

    def test_804_is_in_progress(self) -> None:
        assert from_code("804").kind is ErrorKind.IN_PROGRESS

    def test_1002_is_auth(self) -> None:
        error = from_code("1002")
        assert isinstance(error, UpstreamAuth)
        assert error.status_code == 502


@pytest.mark.parametrize("code", ["9999", "", "abc", 42])
def test_unknown_codes_are_unknown_and_final(code: str | int) -> None:
    error = from_code(code, "huh")
    assert type(error) is UpstreamError
    assert error.kind is ErrorKind.UNKNOWN
    assert error.retryable is False
    assert kind_of(code) is ErrorKind.UNKNOWN


def test_codes_may_arrive_as_ints_or_padded() -> None:
    assert from_code(421).upstream_code == "421"
    assert from_code(" 421 ").is_capacity
    assert UpstreamError.from_code("1501").is_moderation


def test_a_codeless_message_still_reads_well() -> None:
    error = from_code("", "something broke")
    assert error.message.en == "RunningHub returned an unknown error: something broke"


def test_api_code_names_the_kind() -> None:
    assert from_code("421").code == "upstream_capacity"
    assert from_code("1501").code == "upstream_moderation"
    assert from_code("9999").code == "upstream_unknown"


def test_repr_names_code_and_kind() -> None:
    assert repr(from_code("421")) == (
        "UpstreamCapacity(upstream_code='421', sign='TASK_QUEUE_MAXED', kind=capacity)"
    )


def test_rate_limited_carries_retry_after() -> None:
    error = RateLimited("http_429", sign="TOO_MANY_REQUESTS", retry_after=7.0)
    assert error.retryable
    assert error.retry_after == 7.0
    assert error.kind is ErrorKind.RATE_LIMITED


def test_unavailable_is_retryable() -> None:
    error = UpstreamUnavailable(ConnectionRefusedError("refused"))
    assert error.retryable
    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.sign == "ConnectionRefusedError"


def test_submit_uncertain_is_final_and_keeps_what_reconciliation_needs() -> None:
    cause = TimeoutError("read timed out")
    error = SubmitUncertain(
        model_id="m/x", params_digest="d" * 64, webhook_url="https://h/w", cause=cause
    )
    assert error.kind is ErrorKind.UNCERTAIN
    assert not error.retryable
    assert (error.model_id, error.params_digest, error.webhook_url) == (
        "m/x",
        "d" * 64,
        "https://h/w",
    )
    assert error.cause is cause
    assert "TimeoutError" in error.message.en


class TestParamsDigest:
    def test_key_order_does_not_matter(self) -> None:
        assert params_digest({"a": 1, "b": "猫"}) == params_digest({"b": "猫", "a": 1})

    def test_the_webhook_is_part_of_the_body(self) -> None:
        assert params_digest({"a": 1}) != params_digest({"a": 1}, "https://h/w")

    def test_unserialisable_values_do_not_raise(self) -> None:
        assert len(params_digest({"a": object()})) == 64
