"""The RunningHub upstream: the one typed async client, its wire models and its errors."""

from __future__ import annotations

from aipaint.upstream.client import DEFAULT_LIMITS, DEFAULT_TIMEOUT, RunningHubClient
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
    params_digest,
)
from aipaint.upstream.retry import RetryPolicy
from aipaint.upstream.schemas import (
    AccountStatus,
    PricePreview,
    QueueStatus,
    SubmitAccepted,
    TaskResult,
    TaskState,
    UploadedFile,
    Usage,
)
from aipaint.upstream.status import UpstreamStatus, normalize_status

__all__ = [
    "CODES",
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AccountStatus",
    "CodeInfo",
    "ErrorKind",
    "PricePreview",
    "QueueStatus",
    "RateLimited",
    "RetryPolicy",
    "RunningHubClient",
    "SubmitAccepted",
    "SubmitUncertain",
    "TaskResult",
    "TaskState",
    "UploadedFile",
    "UpstreamAuth",
    "UpstreamBadRequest",
    "UpstreamBilling",
    "UpstreamCapacity",
    "UpstreamError",
    "UpstreamInProgress",
    "UpstreamModeration",
    "UpstreamNotFound",
    "UpstreamStatus",
    "UpstreamTaskFailed",
    "UpstreamTransient",
    "UpstreamUnavailable",
    "Usage",
    "from_code",
    "normalize_status",
    "params_digest",
]
