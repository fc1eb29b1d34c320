"""validate_params: every bad field of a params object, one error each, in both languages."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import pytest

from aipaint.catalog.errors import ParamsInvalid
from aipaint.catalog.json_schema import model_json_schema
from aipaint.catalog.schemas import DEFAULT_MAX_LENGTH, ModelSpec, ParamSpec, ParamType
from aipaint.catalog.service import Catalog
from aipaint.catalog.urls import parse_data_uri
from aipaint.catalog.validation import ErrorCode, ParamError, validate_params
from aipaint.errors import MAX_DETAILS
from aipaint.i18n import Lang

T = ParamType
MIB = 1024 * 1024
URL = "https://example.com/a.png"
PNG = "data:image/png;base64,iVBORw0KGgo="
SCALAR_MEDIA = [T.IMAGE_URL, T.VIDEO_URL, T.AUDIO_URL]
LIST_MEDIA = [T.IMAGE_URL_LIST, T.VIDEO_URL_LIST, T.AUDIO_URL_LIST]
MEDIA = SCALAR_MEDIA + LIST_MEDIA
LISTS = [T.STRING_LIST, *LIST_MEDIA]
# A valid value of each type for the specs `param` builds (enum choices "a" and "b").
VALID: dict[ParamType, object] = {
    T.STRING: "a cat",
    T.STRING_LIST: ["a", "b"],
    T.ENUM: "a",
    T.INT: 3,
    T.FLOAT: 0.5,
    T.BOOL: False,
    T.IMAGE_URL: URL,
    T.VIDEO_URL: "https://example.com/a.mp4",
    T.AUDIO_URL: "https://example.com/a.mp3",
    T.IMAGE_URL_LIST: [URL, PNG],
    T.VIDEO_URL_LIST: ["https://example.com/a.mp4"],
    T.AUDIO_URL_LIST: ["https://example.com/a.mp3"],
}

LTX = (
    "rhart-video/ltx-2.3/text-to-video"  # prompt, resolution, aspectRatio enums, duration int 5..15
)
WAN = "alibaba/wan-2.5-preview/text-to-video"  # duration enum "5" / "10"
QWEN_EDIT = "alibaba/qwen-image-2.0/image-edit"  # imageUrls required, 1..3 items
WAN_REF = "alibaba/wan-2.6/reference-to-video"  # optional imageUrls (JPG, PNG) and videoUrls lists
DREAMACTOR = "bytedance/dreamactor-v2"  # imageUrl (5 MB; JPG JPEG PNG), videoUrl (MP4 MOV WEBM)
LIP_SYNC = "kling-lip-sync/lip-sync-video"  # audioUrl (MP3 WAV M4A), soundStartTime int >= 0
MARBLE = "marble-1.0/text-to-world"  # all optional; displayName max 64 chars; seed int unbounded
SPEECH = "rhart-audio/text-to-audio/speech-02-hd"  # pronunciation_dict string, floats, bools
SKYREELS = "skyreels-v4/image-to-video"  # firstFrameImageUrl with no accept list
UNPUBLISHED = "rhart-image/f-dev"

LTX_VALID: dict[str, Any] = {
    "prompt": "a cat on a skateboard",
    "resolution": "720p",
    "aspectRatio": "16:9",
    "duration": 10,
}


def param(name: str, kind: ParamType, *, required: bool = False, **fields: Any) -> ParamSpec:
    """A parameter labelled "参数<name>" / "Param <name>"; enums choose between "a" and "b"."""
    data: dict[str, Any] = {
        "name": name,
        "type": kind,
        "required": required,
        "label": {"zh": f"参数{name}", "en": f"Param {name}"},
        "widget": "text",
        "group": "basic",
        "order": 0,
    }
    if kind is T.ENUM:
        data["choices"] = [
            {"value": v, "label": {"zh": v, "en": v}} for v in fields.pop("values", ["a", "b"])
        ]
    return ParamSpec.model_validate(data | fields)


def model(*params: ParamSpec, published: bool = True) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "id": "test/model",
            "title": {"zh": "测试模型", "en": "Test model"},
            "category": "text-to-image",
            "provider": "Test",
            "output_type": "image",
            "params_published": published,
            "price": {"kind": "unknown"},
            "params": [p.model_copy(update={"order": i}) for i, p in enumerate(params)],
            "source": {"registry": "test"},
        }
    )


def one(kind: ParamType, value: object, **fields: Any) -> list[tuple[str, str, int | None]]:
    """The errors of {"p": value} against a model with the single parameter p."""
    return codes(validate_params(model(param("p", kind, **fields)), {"p": value}))


def codes(errors: list[ParamError]) -> list[tuple[str, str, int | None]]:
    return [(e.param, e.code.value, e.index) for e in errors]


def check(catalog: Catalog, model_id: str, params: object) -> list[tuple[str, str, int | None]]:
    return codes(validate_params(catalog.get(model_id), params))


def data_uri(mime_type: str, size: int) -> str:
    """A base64 data URI whose payload decodes to exactly `size` bytes, built without encoding."""
    groups = -(-size // 3)
    padding = groups * 3 - size
    return f"data:{mime_type};base64," + "A" * (groups * 4 - padding) + "=" * padding


def test_data_uri_helper_is_exact() -> None:
    for size in range(10):
        data = parse_data_uri(data_uri("image/png", size))
        assert data is not None
        assert data.size_bytes == size


class TestNotAnObject:
    @pytest.mark.parametrize("params", [[], [["prompt", "x"]], "prompt", "", None, 5, 1.5, True])
    def test_rejected(self, catalog: Catalog, params: object) -> None:
        assert check(catalog, LTX, params) == [("", "not_an_object", None)]

    def test_rejected_even_when_params_are_unpublished(self, catalog: Catalog) -> None:
        assert check(catalog, UNPUBLISHED, ["anything"]) == [("", "not_an_object", None)]

    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_message(self, lang: Lang) -> None:
        [error] = validate_params(model(), None)
        detail = error.render(lang)
        assert detail["param"] == ""
        assert detail["code"] == "not_an_object"
        assert "params" in detail["message"]
        assert ("JSON 对象" if lang == "zh" else "JSON object") in detail["message"]


class TestValidPassThrough:
    def test_valid_params_have_no_errors(self, catalog: Catalog) -> None:
        assert validate_params(catalog.get(LTX), LTX_VALID) == []

    def test_returned_unchanged(self, catalog: Catalog) -> None:
        params = copy.deepcopy(LTX_VALID)
        assert catalog.validate(LTX, params) is params
        assert params == LTX_VALID
        assert [type(v) for v in params.values()] == [str, str, str, int]

    def test_no_defaults_injected(self, catalog: Catalog) -> None:
        spec = catalog.get(QWEN_EDIT)
        assert any(p.default is not None and not p.required for p in spec.params)
        params: dict[str, Any] = {"imageUrls": [URL], "prompt": "make it snow"}
        sent = copy.deepcopy(params)
        assert catalog.validate(QWEN_EDIT, params) == sent
        assert list(params) == ["imageUrls", "prompt"]

    def test_nothing_is_coerced(self, catalog: Catalog) -> None:
        # 0.75 stays a float, a huge seed stays an int, a data URI stays as sent.
        params: dict[str, Any] = {"seed": 10**30, "prompt": "中文 提示词", "disableRecaption": True}
        assert catalog.validate(MARBLE, params) == {
            "seed": 10**30,
            "prompt": "中文 提示词",
            "disableRecaption": True,
        }

    def test_every_type_accepts_its_valid_value(self) -> None:
        spec = model(*(param(kind.value, kind, required=True) for kind in T))
        assert validate_params(spec, {kind.value: value for kind, value in VALID.items()}) == []

    def test_empty_object_fits_a_model_without_required_params(self, catalog: Catalog) -> None:
        assert check(catalog, MARBLE, {}) == []

    def test_a_failed_validation_raises_with_every_error(self, catalog: Catalog) -> None:
        with pytest.raises(ParamsInvalid) as raised:
            catalog.validate(LTX, {**LTX_VALID, "duration": 99, "extra": 1})
        assert codes(raised.value.errors) == [
            ("duration", "out_of_range", None),
            ("extra", "unknown_param", None),
        ]
        assert [d["code"] for d in raised.value.details("zh")] == ["out_of_range", "unknown_param"]


class TestMissingRequired:
    def test_one_missing(self, catalog: Catalog) -> None:
        params = {k: v for k, v in LTX_VALID.items() if k != "resolution"}
        assert check(catalog, LTX, params) == [("resolution", "missing_required", None)]

    def test_all_missing_in_model_order(self, catalog: Catalog) -> None:
        assert check(catalog, LTX, {}) == [
            ("prompt", "missing_required", None),
            ("resolution", "missing_required", None),
            ("aspectRatio", "missing_required", None),
            ("duration", "missing_required", None),
        ]

    @pytest.mark.parametrize("kind", list(T))
    def test_every_type(self, kind: ParamType) -> None:
        spec = model(param("p", kind, required=True), param("q", kind))
        assert codes(validate_params(spec, {})) == [("p", "missing_required", None)]

    def test_optional_may_be_left_out(self, catalog: Catalog) -> None:
        assert check(catalog, WAN, {"prompt": "x", "duration": "5", "size": "832*480"}) == []

    def test_empty_required_string_counts_as_missing(self, catalog: Catalog) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "prompt": ""}) == [
            ("prompt", "missing_required", None)
        ]
        optional = model(param("p", T.STRING))
        assert codes(validate_params(optional, {"p": ""})) == []

    def test_null_is_a_wrong_value_not_a_missing_one(self, catalog: Catalog) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "prompt": None}) == [
            ("prompt", "wrong_type", None)
        ]

    def test_name_is_case_sensitive(self, catalog: Catalog) -> None:
        params = {**{k: v for k, v in LTX_VALID.items() if k != "aspectRatio"}, "aspectratio": "1"}
        assert check(catalog, LTX, params) == [
            ("aspectRatio", "missing_required", None),
            ("aspectratio", "unknown_param", None),
        ]


class TestUnknownParam:
    def test_one_unknown(self, catalog: Catalog) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "seed": 1}) == [("seed", "unknown_param", None)]

    def test_several_in_the_order_sent(self, catalog: Catalog) -> None:
        params = {"zeta": 1, **LTX_VALID, "alpha": None, "": "empty name"}
        assert check(catalog, LTX, params) == [
            ("zeta", "unknown_param", None),
            ("alpha", "unknown_param", None),
            ("", "unknown_param", None),
        ]

    def test_unknown_whatever_its_value(self) -> None:
        spec = model(param("p", T.STRING))
        for value in ["x", 1, None, [], {}]:
            assert codes(validate_params(spec, {"q": value})) == [("q", "unknown_param", None)]


# (type, a value of the wrong JSON type for it): bool is not a number, 5.0 is not an int, "true" is
# not a bool, NaN and infinities are no numbers, a list is no scalar, a scalar is no list.
WRONG_TYPES: list[tuple[ParamType, object]] = [
    *((T.STRING, v) for v in [5, 2.5, True, None, ["a cat"], {"text": "a cat"}]),
    # Numbers and booleans on an enum are `not_in_enum`: see TestNotInEnum.
    *((T.ENUM, v) for v in [None, ["a"], {"a": "a"}]),
    *((T.INT, v) for v in [True, False, 5.0, 5.5, "5", None, [5], {"v": 5}]),
    *((T.INT, v) for v in [math.nan, math.inf, -math.inf]),
    *((T.FLOAT, v) for v in [True, False, "0.5", None, [0.5], {"v": 0.5}]),
    *((T.FLOAT, v) for v in [math.nan, math.inf, -math.inf]),
    *((T.BOOL, v) for v in ["true", "false", 1, 0, 1.0, None, [True], {"v": True}]),
    *((kind, v) for kind in SCALAR_MEDIA for v in [5, True, None, [URL], {"url": URL}]),
    *((kind, v) for kind in LISTS for v in ["a", URL, 5, True, None, {"0": URL}]),
]


class TestWrongType:
    @pytest.mark.parametrize(("kind", "value"), WRONG_TYPES)
    def test_rejected(self, kind: ParamType, value: object) -> None:
        assert one(kind, value) == [("p", "wrong_type", None)]

    @pytest.mark.parametrize("kind", LISTS)
    @pytest.mark.parametrize("item", [5, 1.5, True, None, ["a"], {"a": "b"}])
    def test_list_item_carries_its_index(self, kind: ParamType, item: object) -> None:
        items = VALID[kind]
        assert isinstance(items, list)
        assert one(kind, [*items, item]) == [("p", "wrong_type", len(items))]

    def test_every_bad_item_is_reported(self) -> None:
        assert one(T.STRING_LIST, [1, "a", None]) == [
            ("p", "wrong_type", 0),
            ("p", "wrong_type", 2),
        ]

    def test_float_takes_an_integer(self) -> None:
        assert one(T.FLOAT, 1, min=0, max=1) == []

    def test_int_takes_a_huge_integer(self) -> None:
        # Python's JSON parser keeps every digit of an integer; it must not overflow a check.
        assert one(T.INT, 10**400) == []
        assert one(T.INT, -(10**400)) == []

    def test_real_int_rejects_a_string(self, catalog: Catalog) -> None:
        # ltx-2.3's duration is an integer: the string "5" is the wrong type, 5 is fine.
        assert check(catalog, LTX, {**LTX_VALID, "duration": "5"}) == [
            ("duration", "wrong_type", None)
        ]
        assert check(catalog, LTX, {**LTX_VALID, "duration": 5}) == []

    def test_real_int_rejects_an_integral_float(self, catalog: Catalog) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "duration": 5.0}) == [
            ("duration", "wrong_type", None)
        ]

    def test_real_bool_rejects_a_string(self, catalog: Catalog) -> None:
        params = {"text": "hi", "voice_id": "Wise_Woman", "english_normalization": False}
        assert check(catalog, SPEECH, {**params, "enable_base64_output": "true"}) == [
            ("enable_base64_output", "wrong_type", None)
        ]
        assert check(catalog, SPEECH, {**params, "enable_base64_output": True}) == []

    @pytest.mark.parametrize(
        ("kind", "value", "zh", "en"),
        [
            (T.STRING, 1, "字符串", "a string"),
            (T.ENUM, None, "字符串", "a string"),
            (T.STRING_LIST, [1], "字符串", "a string"),
            (T.INT, 1.5, "整数", "an integer"),
            (T.FLOAT, "1", "数字", "a number"),
            (T.BOOL, 1, "布尔值", "a boolean"),
            (T.IMAGE_URL, 1, "链接", "a URL string"),
            (T.VIDEO_URL, 1, "链接", "a URL string"),
            (T.AUDIO_URL, 1, "链接", "a URL string"),
            (T.AUDIO_URL_LIST, [1], "链接", "a URL string"),
            (T.IMAGE_URL_LIST, URL, "数组", "an array"),
            (T.STRING_LIST, "a", "数组", "an array"),
        ],
    )
    def test_message_names_the_expected_type(
        self, kind: ParamType, value: object, zh: str, en: str
    ) -> None:
        [error] = validate_params(model(param("p", kind)), {"p": value})
        assert zh in error.message("zh")
        assert en in error.message("en")


class TestNotInEnum:
    @pytest.mark.parametrize("value", ["A", " a", "a ", "", "c", "ab", "a\n"])
    def test_exact_string_match(self, value: str) -> None:
        assert one(T.ENUM, value) == [("p", "not_in_enum", None)]

    @pytest.mark.parametrize("value", ["1080P", "1080", "720p ", "4k", "1080p,720p"])
    def test_real_model(self, catalog: Catalog, value: str) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "resolution": value}) == [
            ("resolution", "not_in_enum", None)
        ]

    def test_every_choice_passes(self, catalog: Catalog) -> None:
        for value in ["1080p", "720p", "480p"]:
            assert check(catalog, LTX, {**LTX_VALID, "resolution": value}) == []

    def test_duration_like_enum_takes_strings_only(self, catalog: Catalog) -> None:
        spec = catalog.get(WAN)
        duration = spec.param("duration")
        assert duration is not None
        assert [c.value for c in duration.choices or []] == ["5", "10"]
        base = {"prompt": "x", "size": "832*480"}
        assert check(catalog, WAN, {**base, "duration": "5"}) == []
        assert check(catalog, WAN, {**base, "duration": "10"}) == []
        # The number 5 is not the choice "5": rejected, with a message quoting the choices.
        for value in [5, 5.0, True, "5.0", "05", " 5", "15"]:
            assert check(catalog, WAN, {**base, "duration": value}) == [
                ("duration", "not_in_enum", None)
            ]

    def test_message_lists_the_choices(self, catalog: Catalog) -> None:
        [error] = validate_params(
            catalog.get(WAN), {"prompt": "x", "size": "832*480", "duration": "7"}
        )
        assert '"5", "10"' in error.message("en")
        assert '"5", "10"' in error.message("zh")


class TestOutOfRange:
    @pytest.mark.parametrize(("value", "ok"), [(4, False), (5, True), (15, True), (16, False)])
    def test_int_bounds_are_inclusive(self, catalog: Catalog, value: int, ok: bool) -> None:
        expected = [] if ok else [("duration", "out_of_range", None)]
        assert check(catalog, LTX, {**LTX_VALID, "duration": value}) == expected

    @pytest.mark.parametrize("value", [-(10**400), -1, 10**400], ids=["-1e400", "-1", "1e400"])
    def test_int_far_out(self, catalog: Catalog, value: int) -> None:
        assert check(catalog, LTX, {**LTX_VALID, "duration": value}) == [
            ("duration", "out_of_range", None)
        ]

    @pytest.mark.parametrize(
        ("value", "ok"),
        [
            (math.nextafter(0.0, -1.0), False),
            (-0.0, True),
            (0, True),
            (0.0, True),
            (1, True),
            (1.0, True),
            (math.nextafter(1.0, 2.0), False),
            pytest.param(10**400, False, id="1e400-False"),
        ],
    )
    def test_float_bounds_are_inclusive(self, value: float, ok: bool) -> None:
        assert one(T.FLOAT, value, min=0, max=1) == ([] if ok else [("p", "out_of_range", None)])

    def test_real_float(self, catalog: Catalog) -> None:
        base = {"text": "hi", "voice_id": "v", "enable_base64_output": False}
        base |= {"english_normalization": False}
        assert check(catalog, SPEECH, {**base, "speed": 0.5}) == []
        assert check(catalog, SPEECH, {**base, "speed": 2}) == []
        assert check(catalog, SPEECH, {**base, "speed": 0.49}) == [("speed", "out_of_range", None)]
        assert check(catalog, SPEECH, {**base, "speed": 2.01}) == [("speed", "out_of_range", None)]

    def test_only_a_minimum(self, catalog: Catalog) -> None:
        base = {"sessionId": "s", "faceId": "0", "soundEndTime": 1, "soundInsertTime": 0}
        assert check(catalog, LIP_SYNC, {**base, "soundStartTime": 10**400}) == []
        errors = validate_params(catalog.get(LIP_SYNC), {**base, "soundStartTime": -1})
        assert codes(errors) == [("soundStartTime", "out_of_range", None)]
        assert "[0, ∞]" in errors[0].message("en")

    def test_only_a_maximum(self) -> None:
        assert one(T.INT, -(10**400), max=3) == []
        [error] = validate_params(model(param("p", T.INT, max=3)), {"p": 4})
        assert error.code is ErrorCode.OUT_OF_RANGE
        assert "[-∞, 3]" in error.message("zh")

    def test_no_bounds(self, catalog: Catalog) -> None:
        for seed in [-(10**400), -1, 0, 2**63, 10**400]:
            assert check(catalog, MARBLE, {"seed": seed}) == []


class TestTooLong:
    @pytest.mark.parametrize(("text", "ok"), [("x" * 64, True), ("x" * 65, False)])
    def test_bound_is_inclusive(self, catalog: Catalog, text: str, ok: bool) -> None:
        expected = [] if ok else [("displayName", "too_long", None)]
        assert check(catalog, MARBLE, {"displayName": text}) == expected

    def test_counts_characters_not_bytes(self, catalog: Catalog) -> None:
        assert check(catalog, MARBLE, {"displayName": "猫" * 64}) == []
        assert check(catalog, MARBLE, {"displayName": "猫" * 65}) == [
            ("displayName", "too_long", None)
        ]

    def test_string_list_items(self) -> None:
        assert one(T.STRING_LIST, ["abc", "abcd", "", "abcde"], max_length=3) == [
            ("p", "too_long", 1),
            ("p", "too_long", 3),
        ]

    def test_message_has_limit_and_length(self, catalog: Catalog) -> None:
        [error] = validate_params(catalog.get(MARBLE), {"displayName": "x" * 70})
        for lang in ("zh", "en"):
            message = error.message(lang)
            assert "64" in message
            assert "70" in message

    def test_a_string_without_a_limit_gets_the_default_one(self) -> None:
        assert one(T.STRING, "x" * DEFAULT_MAX_LENGTH) == []
        assert one(T.STRING, "x" * (DEFAULT_MAX_LENGTH + 1)) == [("p", "too_long", None)]
        assert one(T.STRING_LIST, ["x" * (DEFAULT_MAX_LENGTH + 1)]) == [("p", "too_long", 0)]
        assert one(T.STRING, "x" * 20_000, max_length=20_000) == []

    def test_the_default_limit_is_in_the_served_schema(self, catalog: Catalog) -> None:
        prompt = model_json_schema(catalog.get(LTX))["properties"]["prompt"]
        assert catalog.get(LTX).param("prompt").max_length is None  # type: ignore[union-attr]
        assert prompt["maxLength"] == DEFAULT_MAX_LENGTH == 10_000


class TestUnboundedInput:
    def test_details_are_capped_and_the_message_counts_them_all(self, catalog: Catalog) -> None:
        params = {**LTX_VALID, **{f"x{i}": 1 for i in range(100_000)}}
        with pytest.raises(ParamsInvalid) as raised:
            catalog.validate(LTX, params)
        assert len(raised.value.details("en")) == MAX_DETAILS == 50
        assert "100000 invalid parameter(s)" in raised.value.message.en

    def test_a_long_unknown_name_is_cut_in_its_message(self, catalog: Catalog) -> None:
        [error] = validate_params(catalog.get(LTX), {**LTX_VALID, "n" * 5000: 1})
        assert error.param == "n" * 5000
        assert len(error.message("en")) < 200


class TestTooManyItems:
    @pytest.mark.parametrize(("count", "ok"), [(1, True), (3, True), (4, False), (10, False)])
    def test_bound_is_inclusive(self, catalog: Catalog, count: int, ok: bool) -> None:
        expected = [] if ok else [("imageUrls", "too_many_items", None)]
        assert check(catalog, QWEN_EDIT, {"imageUrls": [URL] * count, "prompt": "x"}) == expected

    @pytest.mark.parametrize("kind", LISTS)
    def test_every_list_type(self, kind: ParamType) -> None:
        items = VALID[kind]
        assert isinstance(items, list)
        assert one(kind, items * 3, max_items=len(items) * 3) == []
        assert one(kind, items * 3, max_items=len(items) * 3 - 1) == [("p", "too_many_items", None)]

    def test_a_string_with_multiple_inputs_is_one_string(self, catalog: Catalog) -> None:
        # RunningHub's registry declares pronunciation_dict STRING (with multipleInputs), and its
        # validator refuses anything but a string.
        base = {"text": "hi", "voice_id": "v", "enable_base64_output": False}
        base |= {"english_normalization": False}
        assert (
            check(catalog, SPEECH, {**base, "pronunciation_dict": "ASAP/As soon as possible"}) == []
        )
        assert check(catalog, SPEECH, {**base, "pronunciation_dict": ["ASAP/As soon"]}) == [
            ("pronunciation_dict", "wrong_type", None)
        ]

    def test_items_are_still_checked(self) -> None:
        assert one(T.IMAGE_URL_LIST, [URL, "nope", URL], max_items=2) == [
            ("p", "too_many_items", None),
            ("p", "invalid_url", 1),
        ]

    def test_message_has_limit_and_count(self, catalog: Catalog) -> None:
        [error] = validate_params(catalog.get(QWEN_EDIT), {"imageUrls": [URL] * 5, "prompt": "x"})
        for lang in ("zh", "en"):
            assert "3" in error.message(lang)
            assert "5" in error.message(lang)


class TestTooFewItems:
    def test_required_empty_list(self, catalog: Catalog) -> None:
        assert check(catalog, QWEN_EDIT, {"imageUrls": [], "prompt": "x"}) == [
            ("imageUrls", "too_few_items", None)
        ]

    @pytest.mark.parametrize("kind", LISTS)
    def test_every_list_type(self, kind: ParamType) -> None:
        assert one(kind, [], required=True) == [("p", "too_few_items", None)]

    @pytest.mark.parametrize("kind", LISTS)
    def test_optional_empty_list_is_fine(self, kind: ParamType) -> None:
        assert one(kind, []) == []

    def test_real_optional_list(self, catalog: Catalog) -> None:
        params = {"prompt": "x", "size": "1280*720", "duration": "5", "imageUrls": []}
        assert check(catalog, WAN_REF, params) == []


BAD_URLS = [
    "",
    "ftp://example.com/a.png",
    "/images/a.png",
    "a.png",
    "example.com/a.png",
    "http://",
    "https://",
    "https://example.com/a b.png",
    "https://example.com/a.png\n",
    " https://example.com/a.png",
    "data:image/png,iVBORw0KGgo=",
    "data:image/png;base64,iVBORw0KGgo",
    "data:image/png;base64,####",
]


class TestInvalidUrl:
    @pytest.mark.parametrize("kind", SCALAR_MEDIA)
    @pytest.mark.parametrize("value", BAD_URLS)
    def test_scalar(self, kind: ParamType, value: str) -> None:
        assert one(kind, value) == [("p", "invalid_url", None)]

    @pytest.mark.parametrize("kind", LIST_MEDIA)
    @pytest.mark.parametrize("value", BAD_URLS)
    def test_list_item(self, kind: ParamType, value: str) -> None:
        assert one(kind, [URL, PNG, value]) == [("p", "invalid_url", 2)]

    def test_real_model(self, catalog: Catalog) -> None:
        params = {"imageUrl": "ftp://example.com/a.png", "videoUrl": "https://example.com/a.mp4"}
        assert check(catalog, DREAMACTOR, params) == [("imageUrl", "invalid_url", None)]

    def test_broken_data_uri_cannot_dodge_the_size_check(self, catalog: Catalog) -> None:
        # One base64 character too many: undecodable, and not to be taken for a (huge) URL.
        assert (5 * MIB + 1) % 3 == 0  # no padding, so the extra character is well-formed
        too_big = data_uri("image/png", 5 * MIB + 1) + "A"
        params = {"imageUrl": too_big, "videoUrl": "https://example.com/a.mp4"}
        assert check(catalog, DREAMACTOR, params) == [("imageUrl", "invalid_url", None)]

    @pytest.mark.parametrize(
        "value",
        [
            "https://example.com/a.png",
            "http://example.com/a.png?x=1#y",
            "https://cdn.example.com:8443/图片/猫.png",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:image/png;name=cat.png;base64,AAAA",
        ],
    )
    def test_accepted(self, value: str) -> None:
        assert one(T.IMAGE_URL, value) == []


class TestUnsupportedFormat:
    @pytest.mark.parametrize("mime_type", ["image/jpeg", "image/jpg", "image/JPEG", "image/png"])
    def test_jpeg_is_jpg(self, catalog: Catalog, mime_type: str) -> None:
        image = catalog.get(WAN_REF).param("imageUrls")
        assert image is not None
        assert image.accept == ["JPG", "PNG"]
        params = {"prompt": "x", "size": "1280*720", "duration": "5"}
        assert check(catalog, WAN_REF, {**params, "imageUrls": [data_uri(mime_type, 9)]}) == []

    @pytest.mark.parametrize("mime_type", ["image/webp", "image/gif", "video/mp4", "text/plain"])
    def test_other_image_formats(self, catalog: Catalog, mime_type: str) -> None:
        params = {"prompt": "x", "size": "1280*720", "duration": "5"}
        assert check(catalog, WAN_REF, {**params, "imageUrls": [URL, data_uri(mime_type, 9)]}) == [
            ("imageUrls", "unsupported_format", 1)
        ]

    @pytest.mark.parametrize(
        ("mime_type", "ok"),
        [
            ("video/mp4", True),
            ("video/quicktime", True),
            ("video/webm", True),
            ("video/x-msvideo", False),
            ("video/x-matroska", False),
            ("image/png", False),
        ],
    )
    def test_video(self, catalog: Catalog, mime_type: str, ok: bool) -> None:
        params = {"imageUrl": URL, "videoUrl": data_uri(mime_type, 30)}
        expected = [] if ok else [("videoUrl", "unsupported_format", None)]
        assert check(catalog, DREAMACTOR, params) == expected

    @pytest.mark.parametrize(
        ("mime_type", "ok"),
        [
            ("audio/mpeg", True),
            ("audio/mp3", True),
            ("audio/wav", True),
            ("audio/x-wav", True),
            ("audio/wave", True),
            ("audio/x-m4a", True),
            ("audio/m4a", True),
            ("audio/ogg", False),
            ("audio/flac", False),
        ],
    )
    def test_audio(self, catalog: Catalog, mime_type: str, ok: bool) -> None:
        params: dict[str, Any] = {"sessionId": "s", "faceId": "0", "soundStartTime": 0}
        params |= {"soundEndTime": 1, "soundInsertTime": 0, "audioUrl": data_uri(mime_type, 30)}
        expected = [] if ok else [("audioUrl", "unsupported_format", None)]
        assert check(catalog, LIP_SYNC, params) == expected

    @pytest.mark.parametrize("kind", MEDIA)
    def test_every_media_type(self, kind: ParamType) -> None:
        gif = data_uri("image/gif", 3)
        value: object = [gif] if kind.is_list else gif
        index = 0 if kind.is_list else None
        assert one(kind, value, accept=["PNG"]) == [("p", "unsupported_format", index)]
        assert one(kind, value, accept=["PNG", "GIF"]) == []

    def test_urls_are_not_judged_by_their_extension(self) -> None:
        assert one(T.IMAGE_URL, "https://example.com/a.gif", accept=["PNG"]) == []

    def test_no_accept_list_takes_any_format(self, catalog: Catalog) -> None:
        spec = catalog.get(SKYREELS)
        frame = spec.param("firstFrameImageUrl")
        assert frame is not None
        assert not frame.accept
        params = {"prompt": "x", "sound": True, "firstFrameImageUrl": data_uri("image/heic", 30)}
        assert check(catalog, SKYREELS, params) == []

    def test_message_names_format_and_accepted(self) -> None:
        [error] = validate_params(
            model(param("p", T.IMAGE_URL, accept=["JPG", "PNG"])), {"p": data_uri("image/gif", 3)}
        )
        for lang in ("zh", "en"):
            assert "image/gif" in error.message(lang)
            assert "JPG, PNG" in error.message(lang)


class TestFileTooLarge:
    @pytest.mark.parametrize("size", [0, 5 * MIB - 1, 5 * MIB])
    def test_at_the_limit(self, catalog: Catalog, size: int) -> None:
        params = {"imageUrl": data_uri("image/png", size), "videoUrl": URL}
        assert check(catalog, DREAMACTOR, params) == []

    def test_one_byte_over(self, catalog: Catalog) -> None:
        params = {"imageUrl": data_uri("image/png", 5 * MIB + 1), "videoUrl": URL}
        assert check(catalog, DREAMACTOR, params) == [("imageUrl", "file_too_large", None)]

    @pytest.mark.parametrize("kind", MEDIA)
    def test_every_media_type(self, kind: ParamType) -> None:
        limit = 1000  # bytes: max_size_mb may be any positive number
        ok, big = data_uri("image/png", limit), data_uri("image/png", limit + 1)
        index = 1 if kind.is_list else None
        fields: dict[str, Any] = {"max_size_mb": limit / MIB}
        assert one(kind, [ok, ok] if kind.is_list else ok, **fields) == []
        assert one(kind, [ok, big] if kind.is_list else big, **fields) == [
            ("p", "file_too_large", index)
        ]

    def test_urls_have_no_size(self) -> None:
        assert one(T.VIDEO_URL, "https://example.com/" + "a" * 10_000, max_size_mb=0.001) == []

    def test_both_format_and_size(self) -> None:
        big_gif = data_uri("image/gif", 2000)
        assert one(T.IMAGE_URL, big_gif, accept=["PNG"], max_size_mb=0.001) == [
            ("p", "unsupported_format", None),
            ("p", "file_too_large", None),
        ]

    def test_message_has_limit(self, catalog: Catalog) -> None:
        params = {"imageUrl": data_uri("image/png", 6 * MIB), "videoUrl": URL}
        [error] = validate_params(catalog.get(DREAMACTOR), params)
        for lang in ("zh", "en"):
            assert "6.0" in error.message(lang)
            assert "5.0" in error.message(lang)


class TestAllErrorsAtOnce:
    def test_model_order_then_unknown(self, catalog: Catalog) -> None:
        params = {"zeta": 1, "duration": 16, "prompt": 5, "alpha": 2, "resolution": "8k"}
        assert check(catalog, LTX, params) == [
            ("prompt", "wrong_type", None),
            ("resolution", "not_in_enum", None),
            ("aspectRatio", "missing_required", None),
            ("duration", "out_of_range", None),
            ("zeta", "unknown_param", None),
            ("alpha", "unknown_param", None),
        ]

    def test_one_error_per_bad_field(self) -> None:
        spec = model(*(param(kind.value, kind, required=True) for kind in T))
        bad: dict[str, object] = {kind.value: None for kind in T}
        assert codes(validate_params(spec, bad)) == [(k.value, "wrong_type", None) for k in T]

    def test_list_errors_in_item_order(self) -> None:
        big = data_uri("image/png", 2000)
        value = [5, "nope", data_uri("image/gif", 1), big, URL]
        assert one(T.IMAGE_URL_LIST, value, accept=["PNG"], max_items=4, max_size_mb=0.001) == [
            ("p", "too_many_items", None),
            ("p", "wrong_type", 0),
            ("p", "invalid_url", 1),
            ("p", "unsupported_format", 2),
            ("p", "file_too_large", 3),
        ]


class TestUnpublishedParams:
    @pytest.mark.parametrize(
        "params", [{}, {"prompt": "x"}, {"prompt": 5, "anything": [None, {"deep": True}]}]
    )
    def test_any_object_passes(self, catalog: Catalog, params: dict[str, Any]) -> None:
        spec = catalog.get(UNPUBLISHED)
        assert not spec.params_published
        assert validate_params(spec, params) == []
        assert catalog.validate(UNPUBLISHED, params) is params

    def test_declared_params_are_not_enforced(self) -> None:
        spec = model(param("p", T.INT, required=True, max=1), published=False)
        assert validate_params(spec, {}) == []
        assert validate_params(spec, {"p": "x", "q": 1}) == []


# For each code: a model and params that produce exactly that one error on parameter "p".
ONE_ERROR_OF_EACH_CODE: list[tuple[ErrorCode, ParamSpec, dict[str, object], int | None]] = [
    (ErrorCode.MISSING_REQUIRED, param("p", T.STRING, required=True), {}, None),
    (ErrorCode.WRONG_TYPE, param("p", T.INT), {"p": "5"}, None),
    (ErrorCode.WRONG_TYPE, param("p", T.STRING_LIST), {"p": ["a", 5]}, 1),
    (ErrorCode.NOT_IN_ENUM, param("p", T.ENUM), {"p": "c"}, None),
    (ErrorCode.OUT_OF_RANGE, param("p", T.FLOAT, min=0, max=1), {"p": 2}, None),
    (ErrorCode.TOO_LONG, param("p", T.STRING, max_length=2), {"p": "abc"}, None),
    (ErrorCode.TOO_LONG, param("p", T.STRING_LIST, max_length=2), {"p": ["abc"]}, 0),
    (ErrorCode.TOO_MANY_ITEMS, param("p", T.STRING_LIST, max_items=1), {"p": ["a", "b"]}, None),
    (ErrorCode.TOO_FEW_ITEMS, param("p", T.VIDEO_URL_LIST, required=True), {"p": []}, None),
    (ErrorCode.INVALID_URL, param("p", T.AUDIO_URL), {"p": "ftp://x"}, None),
    (ErrorCode.INVALID_URL, param("p", T.IMAGE_URL_LIST), {"p": [URL, "x"]}, 1),
    (
        ErrorCode.FILE_TOO_LARGE,
        param("p", T.VIDEO_URL, max_size_mb=0.001),
        {"p": data_uri("video/mp4", 2000)},
        None,
    ),
    (
        ErrorCode.UNSUPPORTED_FORMAT,
        param("p", T.IMAGE_URL, accept=["PNG"]),
        {"p": data_uri("image/gif", 3)},
        None,
    ),
]


class TestMessages:
    def test_every_code_is_covered(self) -> None:
        covered = {code for code, *_ in ONE_ERROR_OF_EACH_CODE}
        rest = {ErrorCode.NOT_AN_OBJECT, ErrorCode.UNKNOWN_PARAM}  # no label: tested below
        # Raised when a task's inputs are checked (addresses, data URIs), not by validation.
        inputs = {ErrorCode.UNSAFE_URL, ErrorCode.INVALID_FILE}
        assert covered | rest | inputs == set(ErrorCode)

    @pytest.mark.parametrize("code", [ErrorCode.UNSAFE_URL, ErrorCode.INVALID_FILE])
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_input_codes_render_their_reason(self, code: ErrorCode, lang: Lang) -> None:
        spec = param("p", T.IMAGE_URL)
        error = ParamError("p", code, spec.label, None, {"reason": "private_address"})
        message = error.render(lang)["message"]
        assert "private_address" in message
        assert ("参数p" if lang == "zh" else "Param p") in message

    @pytest.mark.parametrize(("code", "spec", "params", "index"), ONE_ERROR_OF_EACH_CODE)
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_renders_with_the_label(
        self,
        code: ErrorCode,
        spec: ParamSpec,
        params: dict[str, object],
        index: int | None,
        lang: Lang,
    ) -> None:
        [error] = validate_params(model(spec), params)
        assert (error.param, error.code, error.index) == ("p", code, index)
        detail = error.render(lang)
        message = detail["message"]
        assert detail["param"] == "p"
        assert detail["code"] == code.value
        assert detail.get("index") == index
        assert ("index" in detail) == (index is not None)
        label = "参数p" if lang == "zh" else "Param p"
        assert label + ("" if index is None else f"[{index}]") in message
        assert ("Param p" if lang == "zh" else "参数p") not in message
        # Chinese words besides the label in zh, none at all in en.
        assert (re.search(r"[\u4e00-\u9fff]", message.replace(label, "")) is not None) == (
            lang == "zh"
        )
        assert "{" not in message
        assert "}" not in message
        assert error.render("zh")["message"] != error.render("en")["message"]

    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_unknown_param_names_it(self, lang: Lang) -> None:
        [error] = validate_params(model(), {"weird_name": 1})
        detail = error.render(lang)
        assert set(detail) == {"param", "code", "message"}
        assert (detail["param"], detail["code"]) == ("weird_name", "unknown_param")
        assert "weird_name" in detail["message"]
        assert ("模型" if lang == "zh" else "The model") in detail["message"]

    def test_real_model_labels(self, catalog: Catalog) -> None:
        [error] = validate_params(catalog.get(LTX), {**LTX_VALID, "duration": 20})
        assert error.render("zh")["message"] == "时长必须在 [5, 15] 之间。"
        assert error.render("en")["message"] == "Duration must be within [5, 15]."
