"""Server-side validation of a params object against its model: every bad field at once.

Valid params pass through unchanged: nothing is coerced, and no console default is injected, so
what RunningHub receives is exactly what the caller sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aipaint.catalog.schemas import ModelSpec, ParamSpec, ParamType
from aipaint.catalog.urls import is_media_reference, parse_data_uri
from aipaint.i18n import Lang, Text


class ErrorCode(StrEnum):
    NOT_AN_OBJECT = "not_an_object"
    MISSING_REQUIRED = "missing_required"
    UNKNOWN_PARAM = "unknown_param"
    WRONG_TYPE = "wrong_type"
    NOT_IN_ENUM = "not_in_enum"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    TOO_MANY_ITEMS = "too_many_items"
    TOO_FEW_ITEMS = "too_few_items"
    INVALID_URL = "invalid_url"
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNSAFE_URL = "unsafe_url"
    INVALID_FILE = "invalid_file"


_MESSAGES: dict[ErrorCode, Text] = {
    ErrorCode.NOT_AN_OBJECT: Text(
        zh="params 必须是一个 JSON 对象。", en="params must be a JSON object."
    ),
    ErrorCode.MISSING_REQUIRED: Text(zh="{label}为必填项。", en="{label} is required."),
    ErrorCode.UNKNOWN_PARAM: Text(
        zh="模型没有参数 {name}。", en="The model has no parameter named {name}."
    ),
    ErrorCode.WRONG_TYPE: Text(
        zh="{label}必须是{expected_zh}。", en="{label} must be {expected_en}."
    ),
    ErrorCode.NOT_IN_ENUM: Text(
        zh="{label}的取值必须是以下之一：{allowed}。", en="{label} must be one of: {allowed}."
    ),
    ErrorCode.OUT_OF_RANGE: Text(
        zh="{label}必须在 {range} 之间。", en="{label} must be within {range}."
    ),
    ErrorCode.TOO_LONG: Text(
        zh="{label}最多 {limit} 个字符，当前 {actual} 个。",
        en="{label} must be at most {limit} characters long; it has {actual}.",
    ),
    ErrorCode.TOO_MANY_ITEMS: Text(
        zh="{label}最多 {limit} 项，当前 {actual} 项。",
        en="{label} takes at most {limit} items; it has {actual}.",
    ),
    ErrorCode.TOO_FEW_ITEMS: Text(
        zh="{label}至少需要 1 项。", en="{label} needs at least one item."
    ),
    ErrorCode.INVALID_URL: Text(
        zh="{label}必须是 http(s) 链接或 base64 data URI。",
        en="{label} must be an http(s) URL or a base64 data URI.",
    ),
    ErrorCode.FILE_TOO_LARGE: Text(
        zh="{label}的文件为 {actual} MB，超过上限 {limit} MB。",
        en="{label} is a {actual} MB file, above the {limit} MB limit.",
    ),
    ErrorCode.UNSUPPORTED_FORMAT: Text(
        zh="{label}的格式 {actual} 不受支持，可用格式：{allowed}。",
        en="{label} has format {actual}, which is not accepted; accepted: {allowed}.",
    ),
    ErrorCode.UNSAFE_URL: Text(
        zh="{label}的链接指向非公网地址，已拒绝（{reason}）。",
        en="{label} points at an address that is not public and was refused ({reason}).",
    ),
    ErrorCode.INVALID_FILE: Text(
        zh="{label}的文件无法使用：{reason}。", en="{label} cannot be used: {reason}."
    ),
}
_EXPECTED: dict[ParamType, Text] = {
    ParamType.STRING: Text(zh="字符串", en="a string"),
    ParamType.STRING_LIST: Text(zh="字符串", en="a string"),
    ParamType.ENUM: Text(zh="字符串", en="a string"),
    ParamType.INT: Text(zh="整数", en="an integer"),
    ParamType.FLOAT: Text(zh="数字", en="a number"),
    ParamType.BOOL: Text(zh="布尔值（true 或 false）", en="a boolean (true or false)"),
    ParamType.IMAGE_URL: Text(zh="链接字符串", en="a URL string"),
}
_LIST_EXPECTED = Text(zh="数组", en="an array")
# An unknown param's name is echoed in its message up to this length.
_NAME_SHOWN = 100


@dataclass(frozen=True)
class ParamError:
    """One bad field: which parameter (and list item), what is wrong, the facts for the message."""

    param: str
    code: ErrorCode
    label: Text | None = None
    index: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: Lang) -> str:
        label = self.label.get(lang) if self.label else self.param
        if self.index is not None:
            label = f"{label}[{self.index}]"
        name = self.param if len(self.param) <= _NAME_SHOWN else self.param[:_NAME_SHOWN] + "…"
        return _MESSAGES[self.code].get(lang).format(label=label, name=name, **self.facts)

    def render(self, lang: Lang) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "param": self.param,
            "code": self.code.value,
            "message": self.message(lang),
        }
        if self.index is not None:
            detail["index"] = self.index
        return detail


def validate_params(spec: ModelSpec, params: object) -> list[ParamError]:
    """Every problem of `params` against `spec`, in the model's parameter order; [] when valid."""
    if not isinstance(params, dict):
        return [ParamError("", ErrorCode.NOT_AN_OBJECT)]
    if not spec.params_published:
        return []
    errors: list[ParamError] = []
    for param in spec.params:
        if param.name not in params:
            if param.required:
                errors.append(ParamError(param.name, ErrorCode.MISSING_REQUIRED, param.label))
            continue
        errors.extend(_check_value(param, params[param.name]))
    known = {p.name for p in spec.params}
    errors.extend(
        ParamError(str(name), ErrorCode.UNKNOWN_PARAM) for name in params if name not in known
    )
    return errors


def _check_value(param: ParamSpec, value: object) -> Iterator[ParamError]:
    if not param.type.is_list:
        yield from _check_scalar(param, value, None)
        return
    if not isinstance(value, list):
        yield _wrong_type(param, None, _LIST_EXPECTED)
        return
    if param.required and not value:
        yield ParamError(param.name, ErrorCode.TOO_FEW_ITEMS, param.label)
    if param.max_items is not None and len(value) > param.max_items:
        facts: dict[str, object] = {"limit": param.max_items, "actual": len(value)}
        yield ParamError(param.name, ErrorCode.TOO_MANY_ITEMS, param.label, facts=facts)
    for index, item in enumerate(value):
        yield from _check_scalar(param, item, index)


def _check_scalar(param: ParamSpec, value: object, index: int | None) -> Iterator[ParamError]:
    kind = param.type
    if kind is ParamType.BOOL:
        if not isinstance(value, bool):
            yield _wrong_type(param, index)
        return
    if kind.is_numeric:
        yield from _check_number(param, value, index)
        return
    if kind is ParamType.ENUM and isinstance(value, str | int | float):
        # Enum values are exact strings: the number 5 is not the choice "5", and the message that
        # lists the quoted choices says so better than "must be a string".
        allowed = [c.value for c in param.choices or []]
        if value not in allowed:
            facts: dict[str, object] = {"allowed": ", ".join(f'"{v}"' for v in allowed)}
            yield ParamError(param.name, ErrorCode.NOT_IN_ENUM, param.label, index, facts)
        return
    if not isinstance(value, str):
        yield _wrong_type(param, index)
        return
    if kind.media is not None:
        yield from _check_media(param, value, index)
    elif value == "" and param.required and index is None:
        # An empty required string is as good as missing; RunningHub rejects both.
        yield ParamError(param.name, ErrorCode.MISSING_REQUIRED, param.label)
    elif param.length_limit is not None and len(value) > param.length_limit:
        facts = {"limit": param.length_limit, "actual": len(value)}
        yield ParamError(param.name, ErrorCode.TOO_LONG, param.label, index, facts)


def _check_number(param: ParamSpec, value: object, index: int | None) -> Iterator[ParamError]:
    # JSON has one number type, but RunningHub does not: 5.0 is not an INT, and true is no number.
    # Only floats can be NaN or infinite (math.isfinite overflows on a huge int, such as 10**400).
    if isinstance(value, bool) or not isinstance(value, int | float):
        yield _wrong_type(param, index)
        return
    if isinstance(value, float) and not math.isfinite(value):
        yield _wrong_type(param, index)
        return
    if param.type is ParamType.INT and not isinstance(value, int):
        yield _wrong_type(param, index)
        return
    too_low = param.min is not None and value < param.min
    too_high = param.max is not None and value > param.max
    if too_low or too_high:
        low = "-∞" if param.min is None else param.min
        high = "∞" if param.max is None else param.max
        facts: dict[str, object] = {"range": f"[{low}, {high}]"}
        yield ParamError(param.name, ErrorCode.OUT_OF_RANGE, param.label, index, facts)


def _check_media(param: ParamSpec, value: str, index: int | None) -> Iterator[ParamError]:
    if not is_media_reference(value):
        yield ParamError(param.name, ErrorCode.INVALID_URL, param.label, index)
        return
    data = parse_data_uri(value)
    if data is None:
        return
    if param.accept and not data.formats() & set(param.accept):
        facts: dict[str, object] = {"actual": data.mime_type, "allowed": ", ".join(param.accept)}
        yield ParamError(param.name, ErrorCode.UNSUPPORTED_FORMAT, param.label, index, facts)
    if param.max_size_mb is not None and data.size_mb > param.max_size_mb:
        facts = {"actual": f"{data.size_mb:.2f}", "limit": param.max_size_mb}
        yield ParamError(param.name, ErrorCode.FILE_TOO_LARGE, param.label, index, facts)


def _wrong_type(param: ParamSpec, index: int | None, expected: Text | None = None) -> ParamError:
    if expected is None:
        expected = _EXPECTED.get(param.type, _EXPECTED[ParamType.IMAGE_URL])
    facts: dict[str, object] = {"expected_zh": expected.zh, "expected_en": expected.en}
    return ParamError(param.name, ErrorCode.WRONG_TYPE, param.label, index, facts)
