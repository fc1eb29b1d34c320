"""`-p key=value` coercion against the shipped models' real JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aipaint.catalog.service import Catalog
from aipaint.client.params import (
    ParamSyntaxError,
    build_params,
    coerce,
    file_assignments,
    property_schema,
    put,
    split_assignment,
)
from tests.support import LTX, LTX_PARAMS

WAN = "alibaba/wan-2.5-preview/text-to-video"
QWEN_EDIT = "alibaba/qwen-image-2.0/image-edit"  # imageUrls: an array of image URLs
SOUL = "higgsfield/soul/image-to-image"  # strength: a number


def schema_of(catalog: Catalog, model_id: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(catalog.document(model_id).body)["schema"]
    return schema


@pytest.fixture(scope="module")
def ltx(catalog: Catalog) -> dict[str, Any]:
    return schema_of(catalog, LTX)


@pytest.fixture(scope="module")
def wan(catalog: Catalog) -> dict[str, Any]:
    return schema_of(catalog, WAN)


class TestTypes:
    def test_an_integer_param(self, ltx: dict[str, Any]) -> None:
        assert ltx["properties"]["duration"]["type"] == "integer"
        assert build_params(ltx, ["duration=5"]) == {"duration": 5}
        assert build_params(ltx, ["duration=-3"]) == {"duration": -3}

    def test_an_enum_keeps_the_listed_string(self, wan: dict[str, Any]) -> None:
        assert wan["properties"]["duration"]["enum"] == ["5", "10"]
        assert build_params(wan, ["duration=5"]) == {"duration": "5"}
        assert build_params(wan, ["duration=10"]) == {"duration": "10"}

    def test_an_enum_value_in_another_case_takes_the_listed_spelling(
        self, ltx: dict[str, Any]
    ) -> None:
        assert build_params(ltx, ["resolution=720P"]) == {"resolution": "720p"}

    def test_a_value_outside_the_enum_is_passed_on(self, wan: dict[str, Any]) -> None:
        # The server answers 422 listing the allowed values, in the user's language.
        assert build_params(wan, ["duration=7"]) == {"duration": "7"}

    @pytest.mark.parametrize(
        ("raw", "value"),
        [
            ("true", True),
            ("false", False),
            ("1", True),
            ("0", False),
            ("yes", True),
            ("no", False),
            ("TRUE", True),
            ("No", False),
        ],
    )
    def test_a_boolean_param(self, wan: dict[str, Any], raw: str, value: bool) -> None:
        assert wan["properties"]["promptExtend"]["type"] == "boolean"
        assert build_params(wan, [f"promptExtend={raw}"]) == {"promptExtend": value}

    def test_a_number_param(self, catalog: Catalog) -> None:
        schema = schema_of(catalog, SOUL)
        assert schema["properties"]["strength"]["type"] == "number"
        assert build_params(schema, ["strength=0.35"]) == {"strength": 0.35}
        assert build_params(schema, ["strength=1"]) == {"strength": 1}
        assert build_params(schema, ["strength=1e-1"]) == {"strength": 0.1}

    @pytest.mark.parametrize("raw", ["abc", "5.5", "", "nan", "1_0"])
    def test_a_value_that_does_not_fit_its_type_is_passed_on(
        self, ltx: dict[str, Any], raw: str
    ) -> None:
        assert build_params(ltx, [f"duration={raw}"]) == {"duration": raw}

    def test_a_string_stays_verbatim(self, ltx: dict[str, Any]) -> None:
        prompts = ["[cinematic] a bird", "{x} y", "42", "true", " spaced ", "a=b=c"]
        for prompt in prompts:
            assert build_params(ltx, [f"prompt={prompt}"]) == {"prompt": prompt}

    def test_the_seed_example_fits_the_server(self, catalog: Catalog) -> None:
        params = build_params(
            schema_of(catalog, LTX), [f"{key}={value}" for key, value in LTX_PARAMS.items()]
        )
        assert params == LTX_PARAMS
        assert catalog.validate(LTX, params) == LTX_PARAMS


class TestArrays:
    def test_repeated_keys(self, catalog: Catalog) -> None:
        schema = schema_of(catalog, QWEN_EDIT)
        assert schema["properties"]["imageUrls"]["type"] == "array"
        params = build_params(
            schema, ["imageUrls=https://a.example/1.png", "imageUrls=https://a.example/2.png"]
        )
        assert params == {"imageUrls": ["https://a.example/1.png", "https://a.example/2.png"]}

    def test_one_value_is_a_list_of_one(self, catalog: Catalog) -> None:
        schema = schema_of(catalog, QWEN_EDIT)
        assert build_params(schema, ["imageUrls=https://a.example/1.png"]) == {
            "imageUrls": ["https://a.example/1.png"]
        }

    def test_a_json_list_and_repeated_keys_add_up(self, catalog: Catalog) -> None:
        schema = schema_of(catalog, QWEN_EDIT)
        params = build_params(schema, ['imageUrls=["https://a/1", "https://a/2"]', "imageUrls=x"])
        assert params == {"imageUrls": ["https://a/1", "https://a/2", "x"]}

    def test_a_json_list_that_is_not_json(self, catalog: Catalog) -> None:
        with pytest.raises(ParamSyntaxError, match="imageUrls: the value starts like JSON"):
            build_params(schema_of(catalog, QWEN_EDIT), ["imageUrls=[https://a/1"])

    def test_items_are_typed_by_the_item_schema(self) -> None:
        schema = {"properties": {"seeds": {"type": "array", "items": {"type": "integer"}}}}
        assert build_params(schema, ["seeds=1", "seeds=2"]) == {"seeds": [1, 2]}


class TestUnknownKeys:
    def test_passed_on_as_strings(self, ltx: dict[str, Any]) -> None:
        assert build_params(ltx, ["steps=20"]) == {"steps": "20"}

    def test_json_values_are_parsed(self, ltx: dict[str, Any]) -> None:
        assert build_params(ltx, ['extra={"a": [1, true]}', "more=[1]"]) == {
            "extra": {"a": [1, True]},
            "more": [1],
        }

    def test_repeated_unknown_keys_make_a_list(self, ltx: dict[str, Any]) -> None:
        assert build_params(ltx, ["tag=a", "tag=b", "tag=[1]"]) == {"tag": ["a", "b", 1]}

    def test_a_model_without_published_params(self) -> None:
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        assert build_params(schema, ["a=1", "b=[2]"]) == {"a": "1", "b": [2]}

    def test_a_non_string_param_takes_json(self, ltx: dict[str, Any]) -> None:
        assert build_params(ltx, ["duration=[5]"]) == {"duration": [5]}


class TestSyntax:
    @pytest.mark.parametrize("text", ["duration", "=5", " =5", ""])
    def test_not_key_value(self, ltx: dict[str, Any], text: str) -> None:
        with pytest.raises(ParamSyntaxError, match="expected key=value"):
            build_params(ltx, [text])

    def test_the_first_equals_sign_splits(self) -> None:
        assert split_assignment("prompt=a=b") == ("prompt", "a=b")
        assert split_assignment(" prompt =x") == ("prompt", "x")

    def test_a_single_valued_param_given_twice(self, ltx: dict[str, Any]) -> None:
        with pytest.raises(ParamSyntaxError, match="duration is given more than once"):
            build_params(ltx, ["duration=5", "duration=6"])


class TestFiles:
    def test_existing_files(self, tmp_path: Path) -> None:
        image = tmp_path / "a.png"
        image.write_bytes(b"x")
        assert file_assignments([f"imageUrl={image}"]) == [("imageUrl", image)]

    def test_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ParamSyntaxError, match="no such file"):
            file_assignments([f"imageUrl={tmp_path / 'nope.png'}"])
        with pytest.raises(ParamSyntaxError, match="expected key=value"):
            file_assignments(["imageUrl"])

    def test_an_uploaded_url_is_appended_to_an_array(self, catalog: Catalog) -> None:
        schema = schema_of(catalog, QWEN_EDIT)
        params = build_params(schema, ["imageUrls=https://a/1"])
        put(params, "imageUrls", "https://b/2", property_schema(schema, "imageUrls"))
        assert params == {"imageUrls": ["https://a/1", "https://b/2"]}

    def test_an_uploaded_url_for_a_set_single_param_is_refused(self, wan: dict[str, Any]) -> None:
        params = build_params(wan, ["audioUrl=https://a/1.mp3"])
        with pytest.raises(ParamSyntaxError):
            put(params, "audioUrl", "https://b/2.mp3", property_schema(wan, "audioUrl"))


def test_every_enum_value_of_the_catalog_survives(catalog: Catalog) -> None:
    """Typing an enum value as listed always sends exactly that value."""
    checked = 0
    for spec in catalog.search():
        for name, prop in schema_of(catalog, spec.id)["properties"].items():
            enum = prop.get("enum") or prop.get("items", {}).get("enum")
            for value in enum or []:
                assert coerce(prop, str(value)) in (value, [value]), (spec.id, name, value)
                checked += 1
    assert checked > 1000


def test_every_default_of_the_catalog_survives(catalog: Catalog) -> None:
    """Typing a scalar param's default as text gives back the default itself."""
    checked = 0
    for spec in catalog.search():
        for name, prop in schema_of(catalog, spec.id)["properties"].items():
            default = prop.get("default")
            if default is None or prop.get("type") == "array":
                continue
            raw = json.dumps(default) if isinstance(default, bool) else str(default)
            assert coerce(prop, raw) == default, (spec.id, name, default)
            checked += 1
    assert checked > 300
