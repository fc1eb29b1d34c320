"""Consistency checks of catalog specs, shared by `aipaint catalog check` and the start-up loader.

Pydantic already guarantees each file's shape; these checks catch what a schema cannot: a default
outside its own range, bounds on a type that has none, a missing translation, a duplicate id, a
title that is only the model's endpoint path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aipaint.catalog.schemas import ModelSpec, ParamSpec, ParamType, PriceKind, Text

_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Defect:
    """One problem in one catalog file, named precisely enough to fix it."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def check_specs(specs: Iterable[tuple[str, ModelSpec]]) -> list[Defect]:
    """Check every (file name, spec) pair, and that ids are unique across files."""
    defects: list[Defect] = []
    seen: dict[str, str] = {}
    for file, spec in specs:
        if spec.id in seen:
            defects.append(Defect(file, "id", f"duplicate id {spec.id!r}, also in {seen[spec.id]}"))
        seen.setdefault(spec.id, file)
        defects.extend(Defect(file, where, message) for where, message in _check_model(spec))
    return defects


def _check_model(spec: ModelSpec) -> Iterator[tuple[str, str]]:
    yield from _check_text("title", spec.title)
    yield from _check_title(spec)
    if not spec.category.strip():
        yield "category", "is empty"
    names = [p.name for p in spec.params]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield f"params.{name}", "parameter name is used more than once"
    orders = [p.order for p in spec.params]
    if len(set(orders)) != len(orders):
        yield "params", "two parameters share one order"
    if not spec.params_published and spec.params:
        yield "params_published", "is false but the model lists parameters"
    for param in spec.params:
        yield from ((f"params.{param.name}.{w}", m) for w, m in _check_param(param))
    yield from _check_price(spec, set(names))


def _check_text(where: str, text: Text) -> Iterator[tuple[str, str]]:
    if not text.zh.strip():
        yield f"{where}.zh", "is empty"
    if not text.en.strip():
        yield f"{where}.en", "is empty"
    elif _CJK.search(text.en):
        yield f"{where}.en", f"is not English: {text.en!r} (add it to translations.json)"


def _endpoint_slugs(model_id: str) -> set[str]:
    """What a title must not be: the id, or any trailing part of its path, joined by `/` or `-`.

    `kling-v2.6-pro/image-to-video` gives `kling-v2.6-pro/image-to-video`,
    `kling-v2.6-pro-image-to-video` and `image-to-video`; all casefolded.
    """
    segments = model_id.casefold().split("/")
    tails = [segments[start:] for start in range(len(segments))]
    return {"/".join(tail) for tail in tails} | {"-".join(tail) for tail in tails}


def _check_title(spec: ModelSpec) -> Iterator[tuple[str, str]]:
    slugs = _endpoint_slugs(spec.id)
    for lang, title in (("zh", spec.title.zh), ("en", spec.title.en)):
        if title.strip().casefold() in slugs:
            yield (
                f"title.{lang}",
                f"is the model's endpoint path {title!r}, not a readable title"
                " (add one to titles.json)",
            )


def _check_param(param: ParamSpec) -> Iterator[tuple[str, str]]:
    kind = param.type
    yield from _check_text("label", param.label)
    if param.description is not None:
        yield from _check_text("description", param.description)
    if kind is ParamType.ENUM:
        if not param.choices:
            yield "choices", "an enum needs at least one choice"
        values = [c.value for c in param.choices or []]
        for value in sorted({v for v in values if values.count(v) > 1}):
            yield "choices", f"value {value!r} is listed twice"
        for choice in param.choices or []:
            yield from _check_text(f"choices.{choice.value}.label", choice.label)
    elif param.choices is not None:
        yield "choices", f"only enum parameters have choices, not {kind.value}"
    if not kind.is_numeric:
        for bound in ("min", "max", "step"):
            if getattr(param, bound) is not None:
                yield bound, f"a {kind.value} parameter has no {bound}"
    yield from _check_bounds(param)
    if param.max_length is not None and kind not in (ParamType.STRING, ParamType.STRING_LIST):
        yield "max_length", f"a {kind.value} parameter has no max_length"
    if param.max_items is not None and not kind.is_list:
        yield "max_items", f"a {kind.value} parameter is not a list"
    if kind.media is None:
        if param.max_size_mb is not None:
            yield "max_size_mb", f"a {kind.value} parameter is not a file"
        if param.accept is not None:
            yield "accept", f"a {kind.value} parameter is not a file"
    if param.default is not None:
        problem = default_problem(param)
        if problem:
            yield "default", problem


def _check_bounds(param: ParamSpec) -> Iterator[tuple[str, str]]:
    if param.type is ParamType.INT:
        for bound in ("min", "max", "step"):
            value = getattr(param, bound)
            if value is not None and not float(value).is_integer():
                yield bound, f"{value} is not an integer but the parameter is"
    if param.min is not None and param.max is not None and param.min > param.max:
        yield "min", f"min {param.min} is above max {param.max}"
    if param.step is not None and param.step <= 0:
        yield "step", f"step {param.step} must be positive"


def default_problem(param: ParamSpec) -> str | None:
    """Why the console default does not fit its own parameter, or None when it does."""
    value = param.default
    kind = param.type
    if kind.is_list:
        if not isinstance(value, list):
            return f"{value!r} is not a list"
        if param.max_items is not None and len(value) > param.max_items:
            return f"has {len(value)} items, more than max_items {param.max_items}"
        return next(filter(None, (_scalar_problem(param, item) for item in value)), None)
    return _scalar_problem(param, value)


def _scalar_problem(param: ParamSpec, value: object) -> str | None:
    kind = param.type
    if kind is ParamType.BOOL:
        return None if isinstance(value, bool) else f"{value!r} is not a boolean"
    if kind is ParamType.INT and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{value!r} is not an integer"
    if kind is ParamType.FLOAT and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"{value!r} is not a number"
    if kind.is_numeric:
        assert isinstance(value, int | float)
        if param.min is not None and value < param.min:
            return f"{value} is below min {param.min}"
        if param.max is not None and value > param.max:
            return f"{value} is above max {param.max}"
        return None
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if kind is ParamType.ENUM and value not in {c.value for c in param.choices or []}:
        return f"{value!r} is not one of the choices"
    if param.length_limit is not None and len(value) > param.length_limit:
        return f"is {len(value)} characters, more than max_length {param.length_limit}"
    return None


def _check_price(spec: ModelSpec, names: set[str]) -> Iterator[tuple[str, str]]:
    price = spec.price
    if price.kind is PriceKind.UNKNOWN:
        if price.amount is not None or price.rules:
            yield "price", "an unknown price has no amount or rules"
        return
    if not price.currency or not price.unit:
        yield "price", "a known price needs a currency and a unit"
    if price.kind is PriceKind.FIXED and price.amount is None:
        yield "price.amount", "a fixed price needs an amount"
    if price.kind is PriceKind.BY_PARAMS:
        if not price.rules:
            yield "price.rules", "a price by params needs rules"
        for name in price.depends_on or []:
            if name not in names:
                yield "price.depends_on", f"{name!r} is not a parameter of this model"
        for index, rule in enumerate(price.rules or []):
            if not set(rule.when) <= set(price.depends_on or []):
                yield f"price.rules[{index}]", "names a parameter outside depends_on"
    amounts = [price.amount] + [r.amount for r in price.rules or []]
    if any(a is not None and a < 0 for a in amounts):
        yield "price", "a price is negative"
