"""Wire models of RunningHub's answers and the typed results the client hands back.

RunningHub is loose with types (numbers arrive as strings, nulls as "", one field under several
names), so every model ignores unknown keys and every field coerces what it can: a junk value
becomes None rather than failing a whole answer whose other fields are fine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from aipaint.upstream.status import UpstreamStatus

SUCCESS_CODES = frozenset({"0", "200"})  # 200 seen on real upload answers besides the documented 0


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    number = _decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _float(value: Any) -> float | None:
    number = _decimal(value)
    return float(number) if number is not None else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    return None


def _count(value: Any) -> int:
    return _int(value) or 0


def _int_or_as_is(value: Any) -> Any:
    # For required numbers: convert what can be converted, let pydantic reject the rest.
    number = _int(value)
    return value if number is None else number


WireText = Annotated[str | None, BeforeValidator(_text)]
WireDecimal = Annotated[Decimal | None, BeforeValidator(_decimal)]
WireInt = Annotated[int | None, BeforeValidator(_int)]
WireFloat = Annotated[float | None, BeforeValidator(_float)]
WireBool = Annotated[bool | None, BeforeValidator(_bool)]
WireCount = Annotated[int, BeforeValidator(_count)]


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    """The first value under `keys` that is neither missing, null nor empty."""
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return value
    return None


class UpstreamModel(BaseModel):
    """Base of the upstream models: camelCase aliases on the wire, snake_case names in Python."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class TaskResult(UpstreamModel):
    """One output of a task: a file `url`, or `text` for text outputs (LLM endpoints)."""

    url: WireText = None
    node_id: WireText = Field(default=None, alias="nodeId")
    output_type: WireText = Field(default=None, alias="outputType")
    text: WireText = None

    @model_validator(mode="before")
    @classmethod
    def _coalesce(cls, data: Any) -> Any:
        # Clients report the same output under several names; `fileUrl`/`fileType` are the
        # legacy /outputs (and webhook) spelling.
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        merged["url"] = _first(data, "url", "outputUrl", "fileUrl")
        merged["text"] = _first(data, "text", "content", "output")
        merged["outputType"] = _first(data, "outputType", "output_type", "fileType")
        return merged


class Usage(UpstreamModel):
    """What a task cost; RunningHub sends strings or nulls."""

    money: WireDecimal = Field(default=None, alias="consumeMoney")
    coins: WireDecimal = Field(default=None, alias="consumeCoins")
    cost_time_s: WireFloat = Field(default=None, alias="taskCostTime")
    third_party_money: WireDecimal = Field(default=None, alias="thirdPartyConsumeMoney")


class TaskResponse(UpstreamModel):
    """The body of a v2 submit or query answer (no `code` field; errors in `errorCode`)."""

    task_id: WireText = Field(default=None, validation_alias=AliasChoices("taskId", "task_id"))
    status: WireText = None
    results: list[TaskResult] = Field(default_factory=list)
    usage: Usage | None = None
    failed_reason: dict[str, Any] | None = Field(default=None, alias="failedReason")

    @model_validator(mode="before")
    @classmethod
    def _tolerate(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        results = data.get("results")
        merged["results"] = [r for r in results if isinstance(r, Mapping)] if results else []
        if not isinstance(data.get("usage"), Mapping):
            merged["usage"] = None
        merged["failedReason"] = _failed_reason(_first(data, "failedReason", "failed_reason"))
        return merged


def _failed_reason(value: Any) -> dict[str, Any] | None:
    # An empty object is what a successful task carries: nothing to report.
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {"message": value}
    if isinstance(value, Mapping) and value:
        return dict(value)
    return None


def business_error(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (code, message) of a v2 answer that reports an error, else None.

    v2 answers have no `code`: a non-empty `errorCode` or `errorMessage` is the error, and
    `errorCode` 0 is success (price-preview sends it). An envelope `code` is read as a fallback
    because error answers of some gateways come in the admin shape.
    """
    code = (_text(body.get("errorCode")) or "").strip()
    message = (_text(body.get("errorMessage")) or "").strip()
    if code in SUCCESS_CODES:
        return None
    if not code and not message:
        return envelope_error(body)
    return code, message


def envelope_error(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (code, message) of a `{code, msg|message, data}` answer that failed, else None."""
    code = (_text(body.get("code")) or "").strip()
    if not code or code in SUCCESS_CODES:
        return None
    return code, (_text(_first(body, "message", "msg")) or "").strip()


class UploadedFile(UpstreamModel):
    """An uploaded file: `download_url` goes into v2 params, `file_name` into workflow nodes."""

    download_url: str = Field(validation_alias=AliasChoices("download_url", "downloadUrl", "url"))
    file_name: WireText = Field(default=None, alias="fileName")
    type: WireText = None
    size: WireInt = None


class QueueStatus(UpstreamModel):
    """The key's concurrency: size the local worker pool from `concurrent_limit`."""

    api_key_type: WireText = Field(default=None, alias="apiKeyType")
    concurrent_limit: Annotated[int, BeforeValidator(_int_or_as_is)] = Field(
        alias="concurrentLimit"
    )
    running: WireCount = Field(default=0, alias="runningCount")
    queued: WireCount = Field(default=0, alias="queuedCount")
    total: WireCount = Field(default=0, alias="totalCurrentTasks")


class PricePreview(UpstreamModel):
    """The estimated price of a submit body, before it is sent."""

    estimated_price: WireDecimal = Field(default=None, alias="estimatedPrice")
    currency: WireText = None
    price_text: WireText = Field(default=None, alias="priceText")
    price_text_en: WireText = Field(default=None, alias="priceTextEn")
    free_limit: WireBool = Field(default=None, alias="freeLimit")
    free_limit_count: WireInt = Field(default=None, alias="freeLimitCount")
    remaining_free_limit_count: WireInt = Field(default=None, alias="remainingFreeLimitCount")
    is_free_this_call: WireBool = Field(default=None, alias="isFreeThisCall")


class AccountStatus(UpstreamModel):
    """The account behind the key: balance and running tasks (all strings on the wire)."""

    remain_coins: WireDecimal = Field(default=None, alias="remainCoins")
    remain_money: WireDecimal = Field(default=None, alias="remainMoney")
    currency: WireText = None
    api_type: WireText = Field(default=None, alias="apiType")
    current_task_counts: WireInt = Field(default=None, alias="currentTaskCounts")


class SubmitAccepted(UpstreamModel):
    """RunningHub created the task. `results` is filled when it finished at once (SUCCESS)."""

    task_id: str
    status: UpstreamStatus
    raw_status: str | None = None
    results: list[TaskResult] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict)


class TaskState(UpstreamModel):
    """A task as the query answer reports it; `raw` keeps the whole (redacted) answer."""

    task_id: str
    status: UpstreamStatus
    raw_status: str | None = None
    results: list[TaskResult] = Field(default_factory=list)
    usage: Usage | None = None
    error_code: str | None = None
    error_message: str | None = None
    failed_reason: dict[str, Any] | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
