"""The CLI's `-p key=value` strings made into typed params, by the model's JSON Schema.

The rules, per the param's schema:
- an enum keeps the exact value the schema lists (`duration=5` for ["5", "10"] stays "5"; a
  different case is mapped to the listed spelling);
- integer, number and boolean (true/false, 1/0, yes/no) become JSON numbers and booleans;
- an array takes repeated keys (`-p imageUrls=a -p imageUrls=b`) or a JSON list value;
- a plain string stays verbatim, even when it starts with `[` (prompts often do);
- any other value starting with `[` or `{` is read as JSON.
A value that does not fit its type, and a key the schema does not name, are passed on as given:
the server then answers 422 naming every bad field, in the user's language.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

_INTEGER: Final = re.compile(r"^[+-]?\d+$")
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


class ParamSyntaxError(ValueError):
    """A `-p` or `--file` option the CLI cannot read: a usage error (exit code 2)."""


def split_assignment(text: str, option: str = "-p") -> tuple[str, str]:
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ParamSyntaxError(f"{option} {text!r}: expected key=value")
    return key, value


def build_params(schema: Mapping[str, Any], assignments: Sequence[str]) -> dict[str, Any]:
    """The params object the `-p` options describe, in the order given."""
    params: dict[str, Any] = {}
    for text in assignments:
        key, raw = split_assignment(text)
        prop = property_schema(schema, key)
        put(params, key, coerce(prop, raw, key), prop)
    return params


def file_assignments(texts: Sequence[str]) -> list[tuple[str, Path]]:
    """The `--file key=PATH` options, each file checked to exist before anything is uploaded."""
    found: list[tuple[str, Path]] = []
    for text in texts:
        key, value = split_assignment(text, "--file")
        path = Path(value).expanduser()
        if not path.is_file():
            raise ParamSyntaxError(f"--file {key}={value}: no such file")
        found.append((key, path))
    return found


def property_schema(schema: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None
    prop = properties.get(key)
    return prop if isinstance(prop, Mapping) else None


def put(params: dict[str, Any], key: str, value: Any, prop: Mapping[str, Any] | None) -> None:
    """Set `key`, appending for an array param (and for an unknown key given more than once)."""
    if prop is not None and schema_type(prop) == "array":
        items = params.setdefault(key, [])
        items.extend(value if isinstance(value, list) else [value])
        return
    if key not in params:
        params[key] = value
        return
    if prop is not None:
        raise ParamSyntaxError(f"{key} is given more than once but takes a single value")
    # An unknown key given twice: the user means several values.
    existing = params[key] if isinstance(params[key], list) else [params[key]]
    params[key] = existing + (value if isinstance(value, list) else [value])


def coerce(prop: Mapping[str, Any] | None, raw: str, key: str = "") -> Any:
    """One `-p` value, typed by the param's schema (None: a key the schema does not name)."""
    if prop is None:
        return _json_if_marked(raw, key)
    kind = schema_type(prop)
    if kind == "array":
        if _looks_like_json(raw):
            return _json(raw, key)
        items = prop.get("items")
        return coerce_scalar(items if isinstance(items, Mapping) else {}, raw, key)
    return coerce_scalar(prop, raw, key)


def coerce_scalar(prop: Mapping[str, Any], raw: str, key: str = "") -> Any:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return _enum_member(enum, raw)
    kind = schema_type(prop)
    if kind == "string":
        return raw
    if _looks_like_json(raw):
        return _json(raw, key)
    if kind == "integer":
        return int(raw) if _INTEGER.match(raw.strip()) else raw
    if kind == "number":
        return _number(raw)
    if kind == "boolean":
        return _boolean(raw)
    return raw


def schema_type(prop: Mapping[str, Any]) -> str | None:
    kind = prop.get("type")
    if isinstance(kind, list):  # ["integer", "null"]: the non-null one decides
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _enum_member(enum: list[Any], raw: str) -> Any:
    for member in enum:
        if raw == (member if isinstance(member, str) else json.dumps(member)):
            return member
    folded = [m for m in enum if isinstance(m, str) and m.casefold() == raw.casefold()]
    return folded[0] if len(folded) == 1 else raw


def _number(raw: str) -> Any:
    text = raw.strip()
    if _INTEGER.match(text):
        return int(text)
    if "_" in text:  # float() reads "1_0" as 10; JSON does not
        return raw
    try:
        value = float(text)
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


def _boolean(raw: str) -> Any:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return raw


def _looks_like_json(raw: str) -> bool:
    return raw.lstrip().startswith(("[", "{"))


def _json_if_marked(raw: str, key: str) -> Any:
    return _json(raw, key) if _looks_like_json(raw) else raw


def _json(raw: str, key: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParamSyntaxError(f"-p {key}: the value starts like JSON but is not: {exc}") from None
