"""The served schema of every model says exactly what RunningHub's registry says.

The reference is `runninghub_models.json`: the registry flattened by an independent converter, so
this test checks our importer and JSON Schema export against a second reading of the same source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

REFERENCE = json.loads((Path(__file__).parent / "data" / "runninghub_models.json").read_text())
MODELS: list[dict[str, Any]] = REFERENCE["models"]

_JSON_TYPES = {
    "string": "string",
    "enum": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "image_url": "string",
    "video_url": "string",
    "audio_url": "string",
}


def _reference_type(param: dict[str, Any]) -> tuple[str, str | None]:
    """(JSON type, item JSON type) the reference implies for a parameter."""
    kind: str = param["type"]
    # The flat format has no list-of-strings type: a string with max_items is one (the registry's
    # STRING with multipleInputs).
    if kind == "string" and "max_items" in param:
        kind = "string_list"
    if kind.endswith("_list"):
        return "array", _JSON_TYPES[
            kind.removesuffix("_list") if kind != "string_list" else "string"
        ]
    return _JSON_TYPES[kind], None


def test_reference_holds_302_models() -> None:
    assert len(MODELS) == 302 == len({m["id"] for m in MODELS})


@pytest.fixture(scope="module")
async def served(app: FastAPI, token: str) -> dict[str, dict[str, Any]]:
    """Every model's schema as served over HTTP, fetched once for the module."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        listed = (await http.get("/v1/models")).json()["models"]
        assert len(listed) == 302
        documents = {}
        for model in MODELS:
            response = await http.get(f"/v1/models/{model['id']}")
            assert response.status_code == 200, model["id"]
            documents[model["id"]] = response.json()["schema"]
    return documents


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS, ids=[m["id"] for m in MODELS])
async def test_served_schema_matches_registry(
    model: dict[str, Any], served: dict[str, Any]
) -> None:
    schema = served[model["id"]]
    params = model["params"]
    assert list(schema["properties"]) == [p["name"] for p in params]
    assert schema["x-order"] == [p["name"] for p in params]
    assert schema["required"] == [p["name"] for p in params if p["required"]]
    for param in params:
        prop = schema["properties"][param["name"]]
        json_type, item_type = _reference_type(param)
        assert prop["type"] == json_type, param["name"]
        scalar = prop["items"] if item_type else prop
        if item_type:
            assert scalar["type"] == item_type
            assert prop.get("maxItems") == param.get("max_items")
        assert scalar.get("enum") == param.get("enum")
        assert scalar.get("minimum") == param.get("min")
        assert scalar.get("maximum") == param.get("max")
        assert scalar.get("x-step") == param.get("step")
        if json_type == "string" and not param["type"].endswith("_url"):
            assert scalar.get("maxLength") == param.get("max_length")
        assert scalar.get("x-max-size-mb") == param.get("max_size_mb")
        assert scalar.get("x-accept") == param.get("accept")
