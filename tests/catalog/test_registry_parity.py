"""The served schema of every model says exactly what RunningHub's registry says.

Two references: `runninghub_models.json`, the registry flattened by an independent converter (a
second reading of the same source, for names, bounds and choices), and the registry files
themselves, whose declared type every served param must have exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aipaint.catalog.paths import DATA_DIR
from aipaint.catalog.schemas import DEFAULT_MAX_LENGTH

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


# RunningHub's registry types, as JSON Schema types. `multipleInputs` makes a list of files;
# a STRING with it is still one string, which is all RunningHub's own validator accepts.
_REGISTRY_TYPES = {
    "STRING": "string",
    "LIST": "string",
    "INT": "integer",
    "FLOAT": "number",
    "BOOLEAN": "boolean",
    "IMAGE": "string",
    "VIDEO": "string",
    "AUDIO": "string",
}
_FILE_TYPES = ("IMAGE", "VIDEO", "AUDIO")


def _registry() -> dict[str, dict[str, dict[str, Any]]]:
    """Model id -> param name -> the registry's own entry, from every registry file."""
    models: dict[str, dict[str, dict[str, Any]]] = {}
    for name in ("model-registry.public.json", "extra-models.json"):
        registry = json.loads((DATA_DIR / "registry" / name).read_text())
        for model in registry["models"]:
            models[model["endpoint"]] = {p["fieldKey"]: p for p in model["params"]}
    return models


REGISTRY = _registry()


def registry_json_type(entry: dict[str, Any]) -> tuple[str, str | None]:
    """(JSON type, item JSON type) of a parameter as RunningHub's registry declares it."""
    scalar = _REGISTRY_TYPES[entry["type"]]
    if entry.get("multipleInputs") and entry["type"] in _FILE_TYPES:
        return "array", scalar
    return scalar, None


def served_json_type(prop: dict[str, Any]) -> tuple[str, str | None]:
    return prop["type"], prop["items"]["type"] if prop["type"] == "array" else None


def _reference_type(param: dict[str, Any]) -> tuple[str, str | None]:
    """(JSON type, item JSON type) the flat reference implies for a parameter."""
    kind: str = param["type"]
    if kind.endswith("_list"):
        return "array", _JSON_TYPES[kind.removesuffix("_list")]
    return _JSON_TYPES[kind], None


def test_reference_holds_302_models() -> None:
    assert len(MODELS) == 302 == len({m["id"] for m in MODELS})
    assert set(REGISTRY) == {m["id"] for m in MODELS}


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
        else:
            assert "maxItems" not in prop
        assert scalar.get("enum") == param.get("enum")
        assert scalar.get("minimum") == param.get("min")
        assert scalar.get("maximum") == param.get("max")
        assert scalar.get("x-step") == param.get("step")
        if param["type"] == "string":
            # Where RunningHub states no limit, the served schema states aipaint's default.
            assert scalar.get("maxLength") == param.get("max_length", DEFAULT_MAX_LENGTH)
        elif json_type == "string":
            assert "maxLength" not in scalar
        assert scalar.get("x-max-size-mb") == param.get("max_size_mb")
        assert scalar.get("x-accept") == param.get("accept")


def test_every_param_has_the_registry_type(served: dict[str, Any]) -> None:
    """302 of 302 models: each served param's type is the one the registry declares."""
    exact = []
    for model_id, params in REGISTRY.items():
        properties = served[model_id]["properties"]
        if set(properties) == set(params) and all(
            served_json_type(properties[name]) == registry_json_type(entry)
            for name, entry in params.items()
        ):
            exact.append(model_id)
    assert len(exact) == len(REGISTRY) == 302, sorted(set(REGISTRY) - set(exact))


def test_a_string_with_multiple_inputs_is_served_as_a_string(served: dict[str, Any]) -> None:
    speech = [m for m in REGISTRY if m.startswith("rhart-audio/text-to-audio/speech-")]
    assert len(speech) == 6
    for model_id in speech:
        entry = REGISTRY[model_id]["pronunciation_dict"]
        assert (entry["type"], entry["multipleInputs"]) == ("STRING", True)
        prop = served[model_id]["properties"]["pronunciation_dict"]
        assert prop["type"] == "string"
        assert prop["default"] == "ASAP/As soon as possible"
