"""Export a model spec as JSON Schema (draft 2020-12) plus the UI hints a frontend renders from.

Standard keywords carry what a generic validator can enforce; `x-` keywords carry the rest:
`x-order`, `x-widget`, `x-group`, `x-label` / `x-description` (zh and en), `x-enum-labels`,
`x-step`, `x-media`, `x-accept`, `x-max-size-mb`.
"""

from __future__ import annotations

from typing import Any

from aipaint.catalog.schemas import Group, ModelSpec, ParamSpec, ParamType
from aipaint.catalog.urls import URL_PATTERN
from aipaint.i18n import Text

DRAFT = "https://json-schema.org/draft/2020-12/schema"
GROUP_LABELS = {
    Group.BASIC: Text(zh="基础参数", en="Basic"),
    Group.ADVANCED: Text(zh="高级参数", en="Advanced"),
}


def model_json_schema(spec: ModelSpec) -> dict[str, Any]:
    params = sorted(spec.params, key=lambda p: p.order)
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": spec.title.en,
        "x-title": spec.title.model_dump(),
        "type": "object",
        "properties": {p.name: param_json_schema(p) for p in params},
        "required": [p.name for p in params if p.required],
        # A model whose parameters RunningHub does not publish accepts any object.
        "additionalProperties": not spec.params_published,
        "x-order": [p.name for p in params],
        "x-groups": [
            {"name": group.value, "label": label.model_dump()}
            for group, label in GROUP_LABELS.items()
            if any(p.group is group for p in params)
        ],
    }
    return schema


def param_json_schema(param: ParamSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": param.label.en}
    if param.description is not None:
        schema["description"] = param.description.en
    if param.type.is_list:
        schema["type"] = "array"
        schema["items"] = _scalar_schema(param)
        if param.max_items is not None:
            schema["maxItems"] = param.max_items
        if param.required:
            schema["minItems"] = 1
    else:
        schema.update(_scalar_schema(param))
    if param.default is not None:
        schema["default"] = param.default
    if param.example is not None:
        schema["examples"] = [param.example]
    schema["x-label"] = param.label.model_dump()
    if param.description is not None:
        schema["x-description"] = param.description.model_dump()
    schema["x-order"] = param.order
    schema["x-widget"] = param.widget.value
    schema["x-group"] = param.group.value
    return schema


def _scalar_schema(param: ParamSpec) -> dict[str, Any]:
    kind = param.type
    if kind is ParamType.BOOL:
        return {"type": "boolean"}
    if kind.is_numeric:
        schema: dict[str, Any] = {"type": "integer" if kind is ParamType.INT else "number"}
        if param.min is not None:
            schema["minimum"] = param.min
        if param.max is not None:
            schema["maximum"] = param.max
        if param.step is not None:
            schema["x-step"] = param.step
        return schema
    if kind is ParamType.ENUM:
        choices = param.choices or []
        return {
            "type": "string",
            "enum": [c.value for c in choices],
            "x-enum-labels": {c.value: c.label.model_dump() for c in choices},
        }
    if kind.media is not None:
        schema = {"type": "string", "pattern": URL_PATTERN, "x-media": kind.media}
        if param.accept is not None:
            schema["x-accept"] = param.accept
        if param.max_size_mb is not None:
            schema["x-max-size-mb"] = param.max_size_mb
        return schema
    schema = {"type": "string"}
    if param.required and not param.type.is_list:
        schema["minLength"] = 1
    if param.length_limit is not None:
        schema["maxLength"] = param.length_limit
    return schema
