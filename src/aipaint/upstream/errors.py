"""Typed errors of the RunningHub client and the one table that classifies upstream codes.

`kind` tells a caller what to do: queue and wait (capacity, rate_limited), retry (transient,
unavailable), reconcile before anything else (uncertain), or give up and tell the user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Final

from aipaint.errors import AipaintError
from aipaint.i18n import Text


class ErrorKind(StrEnum):
    CAPACITY = "capacity"
    BILLING = "billing"
    MODERATION = "moderation"
    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    TASK_FAILED = "task_failed"
    IN_PROGRESS = "in_progress"
    UNCERTAIN = "uncertain"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    sign: str
    kind: ErrorKind
    retryable: bool


_K = ErrorKind

# Every code of the official table (facts §4) plus 1520, seen in clients. Not every APIKEY_* code
# is an auth failure: 803/807/808/809 are business errors and 804/805/813 are task states.
# `retryable` means "the same call may succeed if repeated soon"; capacity codes are retryable
# because the right answer to them is to queue locally and try again, never to reject.
CODES: Final[Mapping[str, CodeInfo]] = {
    "301": CodeInfo("PARAMS_INVALID", _K.BAD_REQUEST, False),
    "380": CodeInfo("WORKFLOW_NOT_EXISTS", _K.NOT_FOUND, False),
    # A wrong API path, not a bad key.
    "412": CodeInfo("TOKEN_INVALID", _K.BAD_REQUEST, False),
    "415": CodeInfo("TASK_INSTANCE_MAXED", _K.CAPACITY, True),
    "416": CodeInfo("TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET", _K.BILLING, False),
    "421": CodeInfo("TASK_QUEUE_MAXED", _K.CAPACITY, True),
    "423": CodeInfo("TASK_NOT_FOUNED", _K.NOT_FOUND, False),
    "433": CodeInfo("VALIDATE_PROMPT_FAILED", _K.BAD_REQUEST, False),
    "435": CodeInfo("TASK_USER_EXCLAPI_INSTANCE_NOT_FOUND", _K.BAD_REQUEST, False),
    # Exclusive membership expired: the account, not the request, must change.
    "436": CodeInfo("TASK_USER_EXCLAPI_REQUIRED", _K.AUTH, False),
    "500": CodeInfo("UNKNOWN_ERROR", _K.TRANSIENT, True),
    "801": CodeInfo("APIKEY_UNSUPPORTED_FREE_USER", _K.AUTH, False),
    "802": CodeInfo("APIKEY_UNAUTHORIZED", _K.AUTH, False),
    "803": CodeInfo("APIKEY_INVALID_NODE_INFO", _K.BAD_REQUEST, False),
    # The poller's cadence, not the retry loop's, decides when to ask a running task again.
    "804": CodeInfo("APIKEY_TASK_IS_RUNNING", _K.IN_PROGRESS, False),
    "805": CodeInfo("APIKEY_TASK_STATUS_ERROR", _K.TASK_FAILED, False),
    "806": CodeInfo("APIKEY_USER_NOT_FOUND", _K.AUTH, False),
    "807": CodeInfo("APIKEY_TASK_NOT_FOUND", _K.NOT_FOUND, False),
    # Uploads are content-addressed, so sending the same bytes again is harmless.
    "808": CodeInfo("APIKEY_UPLOAD_FAILED", _K.TRANSIENT, True),
    "809": CodeInfo("APIKEY_FILE_SIZE_EXCEEDED", _K.BAD_REQUEST, False),
    "810": CodeInfo("WORKFLOW_NOT_SAVED_OR_NOT_RUNNING", _K.BAD_REQUEST, False),
    "811": CodeInfo("CORPAPIKEY_INVALID", _K.AUTH, False),
    "812": CodeInfo("CORPAPIKEY_INSUFFICIENT_FUNDS", _K.BILLING, False),
    "813": CodeInfo("APIKEY_TASK_IS_QUEUED", _K.IN_PROGRESS, False),
    # The personal queue holds 1000 tasks: wait for it to drain, as for a rate limit.
    "814": CodeInfo("PERSONAL_QUEUE_COUNT_LIMIT", _K.RATE_LIMITED, True),
    "901": CodeInfo("WEBAPP_NOT_EXISTS", _K.NOT_FOUND, False),
    "1000": CodeInfo("UNKNOWN_ERROR", _K.TRANSIENT, True),
    "1001": CodeInfo("INVALID_URL", _K.BAD_REQUEST, False),
    "1002": CodeInfo("INVALID_API_KEY", _K.AUTH, False),
    # A per-minute request rate, but the cure is the same as for a full queue: wait locally.
    "1003": CodeInfo("RATE_LIMIT_EXCEEDED", _K.CAPACITY, True),
    "1004": CodeInfo("TASK_NOT_FOUND", _K.NOT_FOUND, False),
    "1005": CodeInfo("INTERNAL_SERVER_ERROR", _K.TRANSIENT, True),
    "1006": CodeInfo("TASK_TIMEOUT", _K.TASK_FAILED, False),
    "1007": CodeInfo("INVALID_PARAMETERS", _K.BAD_REQUEST, False),
    "1008": CodeInfo("FILE_SIZE_EXCEEDED", _K.BAD_REQUEST, False),
    "1009": CodeInfo("METHOD_NOT_SUPPORTED", _K.BAD_REQUEST, False),
    "1010": CodeInfo("SERVICE_UNAVAILABLE", _K.TRANSIENT, True),
    "1011": CodeInfo("SYSTEM_BUSY", _K.TRANSIENT, True),
    "1012": CodeInfo("UPSTREAM_SERVICE_EXCEPTION", _K.TRANSIENT, True),
    "1013": CodeInfo("FILE_PROCESSING_FAILED", _K.BAD_REQUEST, False),
    "1014": CodeInfo("STANDARD_MODEL_API_RESTRICTED", _K.AUTH, False),
    "1015": CodeInfo("GENERATION_FAILED", _K.TASK_FAILED, False),
    "1101": CodeInfo("NODE_INFO_ERROR", _K.BAD_REQUEST, False),
    "1501": CodeInfo("CONTENT_VERIFICATION_FAILED", _K.MODERATION, False),
    "1504": CodeInfo("MODEL_TIMEOUT", _K.TASK_FAILED, False),
    "1505": CodeInfo("REAL_PERSON_PROHIBITED", _K.MODERATION, False),
    "1520": CodeInfo("TASK_USER_CONCURRENT_LIMIT", _K.CAPACITY, True),
}

_SUMMARY: Final[Mapping[ErrorKind, Text]] = {
    _K.CAPACITY: Text(zh="RunningHub 当前满载，任务需排队等待", en="RunningHub is at capacity"),
    _K.BILLING: Text(zh="RunningHub 账户余额不足", en="The RunningHub account lacks funds"),
    _K.MODERATION: Text(
        zh="内容未通过 RunningHub 审核", en="RunningHub's content check refused it"
    ),
    _K.BAD_REQUEST: Text(zh="RunningHub 拒绝了该请求", en="RunningHub rejected the request"),
    _K.AUTH: Text(zh="RunningHub 拒绝了 API Key", en="RunningHub refused the API key"),
    _K.NOT_FOUND: Text(zh="RunningHub 找不到该任务或资源", en="RunningHub does not know it"),
    _K.RATE_LIMITED: Text(zh="对 RunningHub 的请求过于频繁", en="Too many requests to RunningHub"),
    _K.TRANSIENT: Text(zh="RunningHub 暂时出错", en="RunningHub had a passing failure"),
    _K.TASK_FAILED: Text(zh="RunningHub 任务失败", en="The RunningHub task failed"),
    _K.IN_PROGRESS: Text(zh="RunningHub 任务仍在进行", en="The RunningHub task is still going"),
    _K.UNCERTAIN: Text(
        zh="无法确认 RunningHub 是否已接受任务", en="Unknown whether RunningHub took the task"
    ),
    _K.UNAVAILABLE: Text(zh="无法连接 RunningHub", en="RunningHub cannot be reached"),
    _K.UNKNOWN: Text(zh="RunningHub 返回了未知错误", en="RunningHub returned an unknown error"),
}


class UpstreamError(AipaintError):
    """RunningHub refused or failed a call. Build one from a code with `from_code`.

    `upstream_code` is RunningHub's code as a string ("421"), or `http_<status>` / a transport
    name when the failure has no business code; `code` is aipaint's own, `upstream_<kind>`, as
    every aipaint error answer carries it. The upstream message and `raw` arrive already redacted:
    the client scrubs its key out of everything before an error is built.
    """

    status_code = 502
    kind: ClassVar[ErrorKind] = ErrorKind.UNKNOWN
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        code: str,
        upstream_message: str = "",
        *,
        sign: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        info = CODES.get(code)
        self.code = f"upstream_{self.kind.value}"
        self.upstream_code = code
        self.sign = sign or (info.sign if info else "")
        self.upstream_message = upstream_message
        if retryable is None:
            retryable = info.retryable if info else self.default_retryable
        self.retryable = retryable
        self.retry_after = retry_after
        self.raw = dict(raw) if raw is not None else None
        super().__init__(self._text())

    def _text(self) -> Text:
        summary = _SUMMARY[self.kind]
        label = f"{self.upstream_code} {self.sign}".strip()
        zh, en = summary.zh, summary.en
        if label:
            zh, en = f"{zh}（{label}）", f"{en} ({label})"
        if self.upstream_message:
            zh, en = f"{zh}：{self.upstream_message}", f"{en}: {self.upstream_message}"
        return Text(zh=zh, en=en)

    def __repr__(self) -> str:
        name = type(self).__name__
        return (
            f"{name}(upstream_code={self.upstream_code!r}, sign={self.sign!r}, kind={self.kind!s})"
        )

    @classmethod
    def from_code(
        cls,
        code: str | int,
        message: str = "",
        *,
        retry_after: float | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> UpstreamError:
        """The typed error of an upstream code; codes outside the table are `unknown`."""
        return from_code(code, message, retry_after=retry_after, raw=raw)

    @property
    def is_capacity(self) -> bool:
        return self.kind is ErrorKind.CAPACITY

    @property
    def is_billing(self) -> bool:
        return self.kind is ErrorKind.BILLING

    @property
    def is_moderation(self) -> bool:
        return self.kind is ErrorKind.MODERATION

    @property
    def is_bad_request(self) -> bool:
        return self.kind is ErrorKind.BAD_REQUEST


# Status codes say who has to act: 503 = wait and retry, 422 = the user's content, 502 = us.
class UpstreamCapacity(UpstreamError):
    """RunningHub's queue or instances are full: queue locally and try later, don't reject."""

    status_code = 503
    kind = ErrorKind.CAPACITY
    default_retryable = True


class UpstreamBilling(UpstreamError):
    """The RunningHub wallet cannot pay for the task."""

    kind = ErrorKind.BILLING


class UpstreamModeration(UpstreamError):
    """RunningHub's content check refused the input or the output."""

    status_code = 422
    kind = ErrorKind.MODERATION


class UpstreamBadRequest(UpstreamError):
    """RunningHub refused the params, the path or the method."""

    kind = ErrorKind.BAD_REQUEST


class UpstreamAuth(UpstreamError):
    """RunningHub refused the API key or the account behind it."""

    kind = ErrorKind.AUTH


class UpstreamNotFound(UpstreamError):
    """RunningHub does not know the task, workflow or app."""

    kind = ErrorKind.NOT_FOUND


class RateLimited(UpstreamError):
    """Too many requests; `retry_after` carries the server's hint in seconds when it gave one."""

    status_code = 503
    kind = ErrorKind.RATE_LIMITED
    default_retryable = True


class UpstreamTransient(UpstreamError):
    """A passing failure of RunningHub (5xx, busy, garbled answer); the same call may succeed."""

    kind = ErrorKind.TRANSIENT
    default_retryable = True


class UpstreamTaskFailed(UpstreamError):
    """The task ran and failed (timed out, generation failed)."""

    kind = ErrorKind.TASK_FAILED


class UpstreamInProgress(UpstreamError):
    """The task is still queued or running; ask again at the polling cadence."""

    kind = ErrorKind.IN_PROGRESS


class UpstreamUnavailable(UpstreamError):
    """The request provably never reached RunningHub (no connection); resubmitting is safe."""

    status_code = 503
    kind = ErrorKind.UNAVAILABLE
    default_retryable = True

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__("unavailable", sign=type(cause).__name__)


class SubmitUncertain(UpstreamError):
    """A submit failed after it may have reached RunningHub: the task may exist and be billed.

    Never resubmit blindly; reconcile first (query by task id if one turns up, or the call
    record page). `params_digest` identifies the params without keeping them.
    """

    kind = ErrorKind.UNCERTAIN

    def __init__(
        self,
        *,
        model_id: str,
        params_digest: str,
        webhook_url: str | None,
        cause: BaseException,
    ) -> None:
        self.model_id = model_id
        self.params_digest = params_digest
        self.webhook_url = webhook_url
        self.cause = cause
        # The message names the cause only by type or code: its text may hold an upstream body.
        reason = cause.upstream_code if isinstance(cause, UpstreamError) else type(cause).__name__
        super().__init__(
            "submit_uncertain", f"model {model_id}, cause {reason}", sign="SUBMIT_UNCERTAIN"
        )


_CLASSES: Final[Mapping[ErrorKind, type[UpstreamError]]] = {
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


def kind_of(code: str | int) -> ErrorKind:
    info = CODES.get(str(code).strip())
    return info.kind if info else ErrorKind.UNKNOWN


def from_code(
    code: str | int,
    message: str = "",
    *,
    retry_after: float | None = None,
    raw: Mapping[str, Any] | None = None,
) -> UpstreamError:
    """The typed error of an upstream code; codes outside the table are `unknown`."""
    key = str(code).strip()
    cls = _CLASSES.get(kind_of(key), UpstreamError)
    return cls(key, message, retry_after=retry_after, raw=raw)


def params_digest(params: Mapping[str, Any], webhook_url: str | None = None) -> str:
    """A stable sha256 of a submit body, to match an uncertain submit with what RunningHub has."""
    body = {**params, "webhookUrl": webhook_url} if webhook_url else dict(params)
    # `default=str` because this runs on the error path, where a second exception would hide
    # the first.
    canonical = json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
