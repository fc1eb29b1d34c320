"""Example params for every catalog model: what a frontend would send, valid or deliberately not.

Benchmarks, tests and the demo use them; each valid example passes validation.
"""

from __future__ import annotations

from typing import Any

from aipaint.catalog.schemas import ModelSpec, ParamSpec, ParamType

PROMPT = "A red fox in a snowy birch forest at dawn, soft light, shallow depth of field"
MEDIA_URLS = {
    "image": "https://cdn.example.com/uploads/2026/05/input-photo.png",
    "video": "https://cdn.example.com/uploads/2026/05/input-clip.mp4",
    "audio": "https://cdn.example.com/uploads/2026/05/input-voice.mp3",
}


def sample_params(spec: ModelSpec) -> dict[str, Any]:
    """Every required param plus every other optional one, each with a valid value."""
    params: dict[str, Any] = {}
    optional = 0
    for param in spec.params:
        if not param.required:
            optional += 1
            if optional % 2 == 0:
                continue
        params[param.name] = sample_value(param)
    return params


def broken_params(spec: ModelSpec) -> dict[str, Any]:
    """`sample_params` with a few errors: a required param left out, a bad value, an unknown one."""
    params = sample_params(spec)
    required = [p for p in spec.params if p.required]
    if required:
        params.pop(required[0].name, None)
    for param in spec.params:
        if param.name in params and param.type in (ParamType.ENUM, ParamType.INT, ParamType.BOOL):
            params[param.name] = "not-a-valid-value" if param.type is ParamType.ENUM else 1.5
            break
    params["negative_prompt_typo"] = "blurry"
    return params


def sample_value(param: ParamSpec) -> Any:
    """The console default when there is one (a list default is never left empty), else a value
    in range: the first choice, the minimum, a prompt, an https URL of the right media."""
    if param.default is not None and not (isinstance(param.default, list) and not param.default):
        return param.default
    item = _scalar(param)
    if param.type.is_list:
        return [item] * min(2, param.max_items or 2)
    return item


def _scalar(param: ParamSpec) -> Any:
    kind = param.type
    if kind is ParamType.ENUM:
        return (param.choices or [])[0].value
    if kind is ParamType.BOOL:
        return False
    if kind.is_numeric:
        value = param.min if param.min is not None else param.max if param.max is not None else 1
        return int(value) if kind is ParamType.INT else float(value)
    if kind.media is not None:
        return MEDIA_URLS[kind.media]
    return PROMPT[: param.max_length]
