from __future__ import annotations

from aipaint.catalog.estimates import estimate
from aipaint.catalog.schemas import (
    Group,
    ModelSpec,
    ParamSpec,
    ParamType,
    Price,
    PriceKind,
    PriceRule,
    Source,
    Widget,
)
from aipaint.catalog.service import Catalog
from aipaint.i18n import Text


def _spec(price: Price, *params: ParamSpec) -> ModelSpec:
    return ModelSpec(
        id="test/model",
        title=Text(zh="测试", en="Test"),
        category="text-to-video",
        provider="Test",
        output_type="video",
        price=price,
        params=list(params),
        source=Source(registry="test"),
    )


def _int_param(name: str, default: int | None = None) -> ParamSpec:
    return ParamSpec(
        name=name,
        type=ParamType.INT,
        required=False,
        label=Text(zh=name, en=name),
        default=default,
        widget=Widget.NUMBER,
        group=Group.ADVANCED,
        order=0,
    )


PER_SECOND = Price(kind=PriceKind.FIXED, currency="CNY", unit="second", amount=0.03)


class TestFixed:
    def test_per_call_price_is_the_total(self, catalog: Catalog) -> None:
        result = estimate(catalog.get("image-enhance/hypir-balance"), {})
        assert (result.known, result.unit, result.quantity, result.total) == (True, "call", 1, "1")

    def test_per_second_price_times_duration(self) -> None:
        result = estimate(_spec(PER_SECOND, _int_param("duration", 6)), {"duration": 10})
        assert (result.unit_price, result.quantity, result.total) == ("0.03", 10, "0.3")
        assert result.assumed == []

    def test_missing_duration_is_priced_at_the_console_default(self) -> None:
        result = estimate(_spec(PER_SECOND, _int_param("duration", 6)), {})
        assert (result.total, result.assumed) == ("0.18", ["duration"])

    def test_no_quantity_gives_the_unit_price_only(self) -> None:
        result = estimate(_spec(PER_SECOND), {})
        assert result.known is True
        assert (result.unit_price, result.total) == ("0.03", None)
        assert result.note is not None

    def test_per_five_seconds_rounds_up(self) -> None:
        price = Price(kind=PriceKind.FIXED, currency="CNY", unit="5_seconds", amount=0.35)
        result = estimate(_spec(price, _int_param("duration")), {"duration": 7})
        assert (result.quantity, result.total) == (2, "0.7")

    def test_per_thousand_characters(self, catalog: Catalog) -> None:
        spec = catalog.get("rhart-audio/text-to-audio/speech-02-hd")
        result = estimate(spec, {"text": "x" * 2500})
        assert (result.unit, result.quantity, result.total) == ("1000_chars", 2.5, "0.775")


class TestByParams:
    def test_picks_the_rule_of_the_chosen_values(self, catalog: Catalog) -> None:
        spec = catalog.get("alibaba/happyhorse-1.0/image-to-video")
        result = estimate(spec, {"resolution": "1080p", "duration": "8"})
        assert (result.unit_price, result.quantity, result.total) == ("1.6", 8, "12.8")

    def test_starting_prices_say_so(self, catalog: Catalog) -> None:
        spec = catalog.get("pixverse-c1/reference-to-video")
        result = estimate(spec, {"resolution": "720p", "duration": 5})
        assert result.minimum is True
        assert result.total == "6.3"

    def test_a_rule_without_a_value_gives_a_starting_price(self, catalog: Catalog) -> None:
        result = estimate(catalog.get("seedream-v4/text-to-image"), {"maxImages": 3})
        assert (result.known, result.total, result.minimum) == (True, "0.14", True)
        assert result.note is not None

    def test_a_combination_without_a_rule_is_unknown(self) -> None:
        price = Price(
            kind=PriceKind.BY_PARAMS,
            currency="CNY",
            unit="call",
            depends_on=["mode"],
            rules=[PriceRule(when={"mode": "std"}, amount=1.0)],
        )
        result = estimate(_spec(price), {"mode": "pro"})
        assert (result.known, result.total) == (False, None)


def test_unknown_price_is_not_free(catalog: Catalog) -> None:
    result = estimate(catalog.get("rhart-video/ltx-2.3/text-to-video"), {})
    assert result.known is False
    assert result.total is None
    assert result.note is not None
    assert "no price" in result.note.en
