"""Price estimates from the catalog's price rules; an unknown price stays unknown, never free."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aipaint.catalog.schemas import Estimate, ModelSpec, PriceKind
from aipaint.i18n import Text

# Which parameter counts the billed units, per price unit; per-call prices bill one unit.
_QUANTITY_PARAMS = {"second": ("duration",), "5_seconds": ("duration",), "1000_chars": ("text",)}
_UNKNOWN = Text(
    zh="RunningHub 未公布此模型的价格。", en="RunningHub publishes no price for this model."
)
_NO_RULE = Text(
    zh="RunningHub 未公布这组参数的价格。", en="RunningHub publishes no price for these parameters."
)
_VAGUE = Text(
    zh="价格还取决于某个参数（如出图数量），RunningHub 未说明其方式；此为起步价。",
    en="The price also depends on a parameter (such as the image count) in a way RunningHub does "
    "not state; this is a starting price.",
)
_NO_QUANTITY = Text(
    zh="无法从参数得出计费数量，仅给出单价。",
    en="The billed quantity cannot be read from the params; only the unit price is given.",
)


def estimate(spec: ModelSpec, params: Mapping[str, Any]) -> Estimate:
    price = spec.price
    if price.kind is PriceKind.UNKNOWN:
        return Estimate(model=spec.id, known=False, note=_UNKNOWN)
    assumed: list[str] = []

    def value(name: str) -> Any:
        if name in params:
            return params[name]
        param = spec.param(name)
        if param is None or param.default is None:
            return None
        assumed.append(name)
        return param.default

    amount = price.amount
    vague = False
    if price.kind is PriceKind.BY_PARAMS:
        chosen = {name: value(name) for name in price.depends_on or []}
        rule = next(
            (
                r
                for r in price.rules or []
                if all(_same(chosen.get(k), v) for k, v in r.when.items())
            ),
            None,
        )
        if rule is None:
            return Estimate(model=spec.id, known=False, assumed=assumed, note=_NO_RULE)
        amount = rule.amount
        # RunningHub's summary sometimes names a parameter without a value ({"n": ""}): the price
        # depends on it in a way it does not state, so the amount is only a starting price.
        vague = any(v == "" for v in rule.when.values())
    assert amount is not None
    unit_price = Decimal(str(amount))
    quantity = _quantity(price.unit or "", value)
    total = None if quantity is None else _fmt(unit_price * Decimal(str(quantity)))
    return Estimate(
        model=spec.id,
        known=True,
        currency=price.currency,
        unit=price.unit,
        unit_label=price.unit_label,
        unit_price=_fmt(unit_price),
        quantity=quantity,
        total=total,
        minimum=price.minimum or vague,
        assumed=sorted(set(assumed)),
        note=_NO_QUANTITY if quantity is None else _VAGUE if vague else None,
    )


def _same(sent: Any, expected: str) -> bool:
    if expected == "":
        return True
    return sent is not None and str(sent).lower() == expected.lower()


def _quantity(unit: str, value: Any) -> float | None:
    names = _QUANTITY_PARAMS.get(unit)
    if names is None:
        return 1.0
    raw = next((v for v in map(value, names) if v is not None), None)
    if unit == "1000_chars":
        return None if not isinstance(raw, str) else len(raw) / 1000
    try:
        seconds = float(str(raw).removesuffix("s"))
    except ValueError:
        return None
    return float(math.ceil(seconds / 5)) if unit == "5_seconds" else seconds


def _fmt(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.0001")).normalize(), "f")
