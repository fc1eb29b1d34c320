"""Property tests of validation over every shipped model, cross-checked with `jsonschema`.

Valid params are generated from a model's own ParamSpecs; each invalid object is a valid one with
exactly one mutation, which must be reported as exactly one error on the mutated field. The exported
JSON Schema must agree with the validator wherever JSON Schema can say the same thing.
"""

from __future__ import annotations

import base64
import copy
import math
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
from hypothesis import event, given, settings
from hypothesis import strategies as st

from aipaint.catalog.json_schema import model_json_schema
from aipaint.catalog.schemas import ModelSpec, ParamSpec, ParamType
from aipaint.catalog.service import Catalog
from aipaint.catalog.validation import ErrorCode, validate_params

T = ParamType
MIB = 1024 * 1024
EXAMPLES = settings(max_examples=200, deadline=None)

# MIME types of data URIs, grouped by the registry formats (`accept` entries) each one satisfies.
MIME_GROUPS: list[tuple[frozenset[str], list[str]]] = [
    (frozenset({"JPG", "JPEG"}), ["image/jpeg", "image/jpg", "image/JPEG"]),
    (frozenset({"PNG"}), ["image/png"]),
    (frozenset({"WEBP"}), ["image/webp"]),
    (frozenset({"BMP"}), ["image/bmp"]),
    (frozenset({"GIF"}), ["image/gif"]),
    (frozenset({"TIFF"}), ["image/tiff"]),
    (frozenset({"HEIC"}), ["image/heic"]),
    (frozenset({"MP4"}), ["video/mp4"]),
    (frozenset({"MOV"}), ["video/quicktime", "video/mov"]),
    (frozenset({"WEBM"}), ["video/webm"]),
    (frozenset({"AVI"}), ["video/avi"]),
    (frozenset({"X-MATROSKA"}), ["video/x-matroska"]),
    (frozenset({"MP3", "MPEG"}), ["audio/mpeg"]),
    (frozenset({"MP3"}), ["audio/mp3"]),
    (frozenset({"WAV"}), ["audio/wav", "audio/x-wav", "audio/wave"]),
    (frozenset({"M4A"}), ["audio/x-m4a", "audio/m4a"]),
    (frozenset({"OGG"}), ["audio/ogg"]),
]
# Strings that are neither an http(s) URL nor a base64 data URI.
NOT_URLS = [
    "",
    "a.png",
    "/tmp/a.png",
    "example.com/a.png",
    "ftp://example.com/a.png",
    "file:///tmp/a.png",
    "http://",
    "https://",
    "https://example.com/a b.png",
    " https://example.com/a.png",
    "data:image/png,AAAA",
    "data:image/png;base64,AA=A",
    "data:;base64,AAAA",
]
# Not URLs to the validator, but the JSON Schema `pattern` cannot tell (see `Mutation.in_schema`).
NOT_URLS_BEYOND_SCHEMA = [
    # Python's `re.search`, which `jsonschema` uses, lets `$` match before a final newline; an
    # ECMA-262 engine (a browser) does not, and the validator uses fullmatch.
    "https://example.com/a.png\n",
    "https://example.com/a.png?x=1\n",
]


def accepted_mimes(param: ParamSpec) -> list[str]:
    media = f"{param.type.media}/"
    accept = set(param.accept or [])
    mimes = [m for formats, ms in MIME_GROUPS if not accept or formats & accept for m in ms]
    # Prefer the parameter's own kind of media; the formats decide, so others are a fallback.
    return [m for m in mimes if m.lower().startswith(media)] or mimes


def unaccepted_mimes(param: ParamSpec) -> list[str]:
    accept = set(param.accept or [])
    if not accept:
        return []
    return [m for formats, ms in MIME_GROUPS if not formats & accept for m in ms]


def data_uri(mime_type: str, payload: bytes) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(payload).decode()}"


def data_uri_of_size(mime_type: str, size: int) -> str:
    """A data URI decoding to `size` bytes, built from its length alone (no encoding)."""
    groups = -(-size // 3)
    padding = groups * 3 - size
    return f"data:{mime_type};base64," + "A" * (groups * 4 - padding) + "=" * padding


HOSTS = st.builds(
    "{}.{}".format,
    st.sampled_from(["example", "cdn.example", "a", "img-1.rh", "xn--fsq", "192"]),
    st.sampled_from(["com", "cn", "com.cn", "io", "168.0.1"]),
)
PATHS = st.text(string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?#图片猫", max_size=30)
PORTS = st.sampled_from(["", ":80", ":8443"])
URLS = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}/{path}",
    st.sampled_from(["http", "https"]),
    HOSTS,
    PORTS,
    PATHS,
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def broken_data_uri(mime_type: str, payload: bytes, extra: str) -> str:
    """A data URI whose base64 payload is 1 to 3 characters longer than whole groups of 4: made
    of base64 characters, so it fits the JSON Schema pattern, yet it cannot be decoded (the pattern
    does not count characters: a regex that does is slow on large files)."""
    return data_uri(mime_type, payload[: len(payload) // 3 * 3]) + extra


BROKEN_DATA_URIS = st.builds(
    broken_data_uri,
    st.sampled_from(["image/png", "video/mp4", "audio/mpeg"]),
    st.binary(max_size=30),
    st.sampled_from(["A", "AB", "ABC", "/", "A=", "AB="]),
)


def media_value(param: ParamSpec) -> st.SearchStrategy[str]:
    """An https URL or a small data URI of a format the parameter accepts."""
    small = st.builds(data_uri, st.sampled_from(accepted_mimes(param)), st.binary(max_size=48))
    return URLS | small


def string_value(param: ParamSpec) -> st.SearchStrategy[str]:
    # An empty required string counts as missing; list items may be empty.
    low = 1 if param.required and param.type is T.STRING else 0
    if param.max_length is None:
        return st.text(min_size=low, max_size=40)
    limit = param.max_length
    # The limit counts characters: a string of exactly max_length CJK characters fits.
    return st.text(min_size=low, max_size=min(limit, 40)) | st.just("字" * limit)


def memoized(
    make: Callable[[ParamSpec], st.SearchStrategy[Any]],
) -> Callable[[ParamSpec], st.SearchStrategy[Any]]:
    """Build a parameter's strategy once: building one per example dominates the runtime."""
    built: dict[int, tuple[ParamSpec, st.SearchStrategy[Any]]] = {}

    def strategy(param: ParamSpec) -> st.SearchStrategy[Any]:
        # Keyed by identity (a ParamSpec holds lists, so it is unhashable); the catalog's specs
        # live for the session and each entry keeps its own alive.
        if id(param) not in built:
            built[id(param)] = (param, make(param))
        return built[id(param)][1]

    return strategy


@memoized
def item_value(param: ParamSpec) -> st.SearchStrategy[Any]:
    """A valid value of a scalar parameter, or a valid item of a list parameter."""
    kind = param.type
    if kind is T.BOOL:
        return st.booleans()
    if kind is T.ENUM:
        return st.sampled_from([c.value for c in param.choices or []])
    if kind is T.INT:
        low = None if param.min is None else math.ceil(param.min)
        high = None if param.max is None else math.floor(param.max)
        return st.integers(low, high) | huge_integers(low, high)
    if kind is T.FLOAT:
        floats = st.floats(param.min, param.max, allow_nan=False, allow_infinity=False)
        low = None if param.min is None else math.ceil(param.min)
        high = None if param.max is None else math.floor(param.max)
        # JSON has one number type: an integer is a valid float parameter.
        if low is not None and high is not None and low > high:
            return floats
        return floats | st.integers(low, high) | huge_integers(low, high)
    if kind.media is not None:
        return media_value(param)
    return string_value(param)


def huge_integers(low: int | None, high: int | None) -> st.SearchStrategy[int]:
    """Integers beyond any float, within the bounds: Python's JSON parser keeps every digit."""
    huge = [
        n
        for n in (-(10**400), 10**400)
        if (low is None or low <= n) and (high is None or n <= high)
    ]
    return st.sampled_from(huge) if huge else st.nothing()


@memoized
def value_of(param: ParamSpec) -> st.SearchStrategy[Any]:
    if not param.type.is_list:
        return item_value(param)
    return list_of(param, min_size=1 if param.required else 0)


def list_of(param: ParamSpec, min_size: int, max_size: int | None = None) -> st.SearchStrategy[Any]:
    limit = param.max_items if param.max_items is not None else 5
    high = min(limit, 5) if max_size is None else max_size
    lists = st.lists(item_value(param), min_size=min(min_size, high), max_size=high)
    if max_size is None and limit > 5:
        # Sometimes exactly max_items, the bound itself.
        lists |= st.lists(item_value(param), min_size=limit, max_size=limit)
    return lists


@st.composite
def valid_params(draw: st.DrawFn, spec: ModelSpec) -> dict[str, Any]:
    """Every required parameter, some optional ones, each with a valid value, in any key order."""
    chosen = [p for p in spec.params if p.required or draw(st.booleans())]
    order = draw(st.permutations(chosen))
    return {p.name: draw(value_of(p)) for p in order}


@dataclass(frozen=True)
class Mutation:
    """One change that makes valid params invalid, and the single error it must cause."""

    kind: str
    params: dict[str, Any]
    error: tuple[str, ErrorCode, int | None]
    # False when JSON Schema cannot express the rule broken: data-URI format and size
    # (`x-accept`, `x-max-size-mb` are hints only), integral floats for int parameters (JSON
    # Schema's "integer" takes 5.0), NaN and infinities (not JSON at all), NOT_URLS_BEYOND_SCHEMA
    # and BROKEN_DATA_URIS.
    in_schema: bool = True


WRONG_SCALARS: dict[ParamType, list[object]] = {
    T.STRING: [5, -1.5, True, False, None, {}, {"text": "x"}],
    # Numbers and booleans on an enum are `not_in_enum` (see the not_in_enum mutation).
    T.ENUM: [None, {}, {"value": "x"}],
    T.INT: ["5", 5.5, -0.5, True, False, None, {}],
    T.FLOAT: ["0.5", "1", True, False, None, {}],
    T.BOOL: ["true", "false", 1, 0, 1.0, None, {}],
}
WRONG_MEDIA: list[object] = [5, 1.5, True, None, {}, {"url": "https://example.com/a.png"}]
WRONG_LISTS: list[object] = ["a", "https://example.com/a.png", 5, True, None, {}]
# Wrong for the validator, but not for the JSON Schema (see `Mutation.in_schema`).
WRONG_BEYOND_SCHEMA: dict[ParamType, list[object]] = {
    T.INT: [5.0, 0.0, math.nan, math.inf, -math.inf],
    T.FLOAT: [math.nan, math.inf, -math.inf],
}


def wrong_value(draw: st.DrawFn, param: ParamSpec) -> tuple[object, int | None, bool]:
    """(a value of the wrong JSON type for `param`, the list index it is at, in the schema?)."""
    kind = param.type
    if kind.is_list:
        if draw(st.booleans()):
            return draw(st.sampled_from(WRONG_LISTS)), None, True
        items = list(draw(list_of(param, min_size=1)))
        index = draw(st.integers(0, len(items) - 1))
        wrong_items = WRONG_MEDIA if kind.media else WRONG_SCALARS[T.STRING]
        items[index] = draw(st.sampled_from([*wrong_items, [items[index]]]))
        return items, index, True
    valid_scalar = draw(item_value(param))
    # A list holding a valid value is still not a scalar.
    wrong = [*(WRONG_MEDIA if kind.media else WRONG_SCALARS[kind]), [valid_scalar]]
    beyond = WRONG_BEYOND_SCHEMA.get(kind, [])
    value = draw(st.sampled_from(wrong + beyond))
    return value, None, not any(value is b for b in beyond)


def outside_range(draw: st.DrawFn, param: ParamSpec) -> int | float:
    below = param.min is not None and (param.max is None or draw(st.booleans()))
    bound = param.min if below else param.max
    assert bound is not None
    direction = -1 if below else 1
    if param.type is T.INT:
        edge = math.ceil(bound) - 1 if below else math.floor(bound) + 1
        return edge + direction * draw(st.sampled_from([0, 0, 1, 10**6, 10**400]))
    just_outside = math.nextafter(float(bound), direction * math.inf)
    far = [bound + direction * 0.001, bound + direction * 1e9, direction * 10**400]
    return draw(st.sampled_from([just_outside, *far]))


def add_unknown(draw: st.DrawFn, spec: ModelSpec, params: dict[str, Any]) -> Mutation:
    names = {p.name for p in spec.params}
    key = draw(st.text(max_size=20).filter(lambda k: k not in names))
    value = draw(JSON_VALUES)
    return Mutation("unknown", {**params, key: value}, (key, ErrorCode.UNKNOWN_PARAM, None))


def drop_required(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    rest = {k: v for k, v in params.items() if k != param.name}
    return Mutation("drop_required", rest, (param.name, ErrorCode.MISSING_REQUIRED, None))


def wrong_type(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    value, index, in_schema = wrong_value(draw, param)
    error = (param.name, ErrorCode.WRONG_TYPE, index)
    return Mutation("wrong_type", {**params, param.name: value}, error, in_schema)


def not_in_enum(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    values = [c.value for c in param.choices or []]
    near_misses = (
        [f"{v} " for v in values] + [v.upper() for v in values] + [f"0{v}" for v in values]
    )
    # A number that reads like a choice ("5" vs 5) is not the choice either.
    numbers: list[object] = [int(v) for v in values if v.isdigit()]
    candidates = st.sampled_from([*near_misses, *numbers, 5, 0, 1.5, True, False]) | st.text(
        max_size=10
    )
    value = draw(candidates.filter(lambda v: v not in values))
    error = (param.name, ErrorCode.NOT_IN_ENUM, None)
    return Mutation("not_in_enum", {**params, param.name: value}, error)


def out_of_range(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    value = outside_range(draw, param)
    error = (param.name, ErrorCode.OUT_OF_RANGE, None)
    return Mutation("out_of_range", {**params, param.name: value}, error)


def too_long(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    assert param.max_length is not None
    text = draw(st.sampled_from(["x", "字"])) * (param.max_length + draw(st.integers(1, 3)))
    mutated, index = _replace(draw, params, param, text)
    return Mutation("too_long", mutated, (param.name, ErrorCode.TOO_LONG, index))


def too_many_items(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    assert param.max_items is not None
    count = param.max_items + draw(st.integers(1, 2))
    items = draw(list_of(param, min_size=count, max_size=count))
    error = (param.name, ErrorCode.TOO_MANY_ITEMS, None)
    return Mutation("too_many_items", {**params, param.name: items}, error)


def too_few_items(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    error = (param.name, ErrorCode.TOO_FEW_ITEMS, None)
    return Mutation("too_few_items", {**params, param.name: []}, error)


def invalid_url(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    in_schema = draw(st.booleans())
    if in_schema:
        bad = draw(st.sampled_from(NOT_URLS))
    else:
        bad = draw(st.sampled_from(NOT_URLS_BEYOND_SCHEMA) | BROKEN_DATA_URIS)
    mutated, index = _replace(draw, params, param, bad)
    error = (param.name, ErrorCode.INVALID_URL, index)
    return Mutation("invalid_url", mutated, error, in_schema)


def unsupported_format(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    bad = data_uri(draw(st.sampled_from(unaccepted_mimes(param))), draw(st.binary(max_size=48)))
    mutated, index = _replace(draw, params, param, bad)
    error = (param.name, ErrorCode.UNSUPPORTED_FORMAT, index)
    return Mutation("unsupported_format", mutated, error, in_schema=False)


# A file just over the limit is built as a string of that length: cheap, but not for the largest
# limits (up to 500 MB), which test_validation.py covers by construction.
SIZE_LIMIT_TESTED_MB = 16


def file_too_large(draw: st.DrawFn, params: dict[str, Any], param: ParamSpec) -> Mutation:
    assert param.max_size_mb is not None
    size = math.floor(param.max_size_mb * MIB) + draw(st.integers(1, 3))
    bad = data_uri_of_size(draw(st.sampled_from(accepted_mimes(param))), size)
    mutated, index = _replace(draw, params, param, bad)
    error = (param.name, ErrorCode.FILE_TOO_LARGE, index)
    return Mutation("file_too_large", mutated, error, in_schema=False)


def _replace(
    draw: st.DrawFn, params: dict[str, Any], param: ParamSpec, bad: str
) -> tuple[dict[str, Any], int | None]:
    """`params` with `bad` as the value of `param`, or as one item of a valid list for it."""
    if not param.type.is_list:
        return {**params, param.name: bad}, None
    items = list(draw(list_of(param, min_size=1)))
    index = draw(st.integers(0, len(items) - 1))
    items[index] = bad
    return {**params, param.name: items}, index


MutationMaker = Callable[[st.DrawFn, dict[str, Any], ParamSpec], Mutation]
# Each mutation of one parameter, with the parameters it applies to.
MUTATIONS: dict[str, tuple[Callable[[ParamSpec], bool], MutationMaker]] = {
    "drop_required": (lambda p: p.required, drop_required),
    "wrong_type": (lambda p: True, wrong_type),
    "not_in_enum": (lambda p: p.type is T.ENUM, not_in_enum),
    "out_of_range": (lambda p: p.type.is_numeric and (p.min, p.max) != (None, None), out_of_range),
    "too_long": (lambda p: p.max_length is not None, too_long),
    "too_many_items": (lambda p: p.max_items is not None, too_many_items),
    "too_few_items": (lambda p: p.type.is_list and p.required, too_few_items),
    "invalid_url": (lambda p: p.type.media is not None, invalid_url),
    "unsupported_format": (
        lambda p: p.type.media is not None and bool(unaccepted_mimes(p)),
        unsupported_format,
    ),
    "file_too_large": (
        lambda p: (
            p.type.media is not None
            and p.max_size_mb is not None
            and p.max_size_mb <= SIZE_LIMIT_TESTED_MB
        ),
        file_too_large,
    ),
}


# Mutations whose broken rule JSON Schema cannot express at all (see `Mutation.in_schema`).
BEYOND_SCHEMA = {"unsupported_format", "file_too_large"}


def applies(kind: str, spec: ModelSpec) -> bool:
    return kind == "unknown" or any(map(MUTATIONS[kind][0], spec.params))


@st.composite
def mutations(draw: st.DrawFn, spec: ModelSpec, kind: str) -> Mutation:
    """Valid params of `spec` with one mutation of the given kind."""
    params = draw(valid_params(spec))
    if kind == "unknown":
        return add_unknown(draw, spec, params)
    accepts, make = MUTATIONS[kind]
    param = draw(st.sampled_from([p for p in spec.params if accepts(p)]), label="param")
    return make(draw, params, param)


_MODELS: dict[tuple[int, str], st.SearchStrategy[ModelSpec]] = {}


def models(catalog: Catalog, kind: str = "any") -> st.SearchStrategy[ModelSpec]:
    """The shipped models: all (`any`), those whose params are not published (`unpublished`), or
    the published ones a mutation kind applies to."""
    key = (id(catalog), kind)
    if key not in _MODELS:
        specs = catalog.search()
        if kind == "unpublished":
            specs = [s for s in specs if not s.params_published]
        elif kind != "any":
            specs = [s for s in specs if s.params_published and applies(kind, s)]
        assert specs, kind
        _MODELS[key] = st.sampled_from(specs)
    return _MODELS[key]


_VALIDATORS: dict[str, Any] = {}


def schema_validator(spec: ModelSpec) -> Any:
    validator = _VALIDATORS.get(spec.id)
    if validator is None:
        validator = _VALIDATORS[spec.id] = jsonschema.Draft202012Validator(model_json_schema(spec))
    return validator


def errors_of(spec: ModelSpec, params: object) -> list[tuple[str, ErrorCode, int | None]]:
    return [(e.param, e.code, e.index) for e in validate_params(spec, params)]


@EXAMPLES
@given(data=st.data())
def test_valid_params_pass_unchanged(catalog: Catalog, data: st.DataObject) -> None:
    spec = data.draw(models(catalog), label="model")
    params = data.draw(valid_params(spec), label="params")
    sent = copy.deepcopy(params)
    assert errors_of(spec, params) == []
    assert catalog.validate(spec.id, params) is params
    assert params == sent
    assert list(params) == list(sent)


@EXAMPLES
@given(data=st.data())
def test_valid_params_fit_the_json_schema(catalog: Catalog, data: st.DataObject) -> None:
    spec = data.draw(models(catalog), label="model")
    params = data.draw(valid_params(spec), label="params")
    assert schema_validator(spec).is_valid(params)


# The mutation kind is drawn first, then a model it applies to: a kind that fits only a few models
# (a file size limit, an item limit) is tried as often as one that fits every model.
@EXAMPLES
@given(data=st.data())
def test_one_mutation_one_error(catalog: Catalog, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["unknown", *MUTATIONS]), label="kind")
    spec = data.draw(models(catalog, kind), label="model")
    mutation = data.draw(mutations(spec, kind), label="mutation")
    event(kind)
    assert errors_of(spec, mutation.params) == [mutation.error]


@EXAMPLES
@given(data=st.data())
def test_json_schema_rejects_the_mutations(catalog: Catalog, data: st.DataObject) -> None:
    # Mutations JSON Schema cannot express are skipped here (see `Mutation.in_schema`); the
    # validator's side of them is checked by test_one_mutation_one_error.
    kinds = ["unknown", *(kind for kind in MUTATIONS if kind not in BEYOND_SCHEMA)]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    spec = data.draw(models(catalog, kind), label="model")
    mutation = data.draw(mutations(spec, kind).filter(lambda m: m.in_schema), label="mutation")
    event(kind)
    assert not schema_validator(spec).is_valid(mutation.params)


@EXAMPLES
@given(data=st.data())
def test_unpublished_models_take_any_object(catalog: Catalog, data: st.DataObject) -> None:
    spec = data.draw(models(catalog, "unpublished"), label="model")
    params = data.draw(st.dictionaries(st.text(), JSON_VALUES, max_size=5), label="params")
    assert validate_params(spec, params) == []
    assert schema_validator(spec).is_valid(params)


@EXAMPLES
@given(data=st.data())
def test_anything_but_an_object_is_refused(catalog: Catalog, data: st.DataObject) -> None:
    spec = data.draw(models(catalog), label="model")
    value = data.draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)), label="params")
    assert errors_of(spec, value) == [("", ErrorCode.NOT_AN_OBJECT, None)]
    assert not schema_validator(spec).is_valid(value)


def test_generators_know_every_accepted_format(catalog: Catalog) -> None:
    known = set().union(*(formats for formats, _ in MIME_GROUPS))
    used = {f for spec in catalog.search() for p in spec.params for f in p.accept or []}
    assert used <= known
    for spec in catalog.search():
        for p in spec.params:
            if p.type.media is not None:
                assert accepted_mimes(p), (spec.id, p.name)


def test_every_model_takes_params_at_its_bounds(catalog: Catalog) -> None:
    """Deterministic sweep of all 302 models: every parameter at its largest allowed value."""
    assert len(catalog.search()) == 302
    for spec in catalog.search():
        params = {p.name: largest_value(p) for p in spec.params}
        assert errors_of(spec, params) == [], spec.id
        assert schema_validator(spec).is_valid(params), spec.id


def test_every_model_refuses_params_past_its_bounds(catalog: Catalog) -> None:
    """Deterministic sweep: every bounded parameter one step past a bound, all reported at once."""
    for spec in catalog.search():
        params = {p.name: largest_value(p) for p in spec.params}
        expected = []
        for p in spec.params:
            past = past_value(p)
            if past is not None:
                params[p.name], code = past
                expected.append((p.name, code, None))
        assert errors_of(spec, params) == (expected if spec.params_published else []), spec.id
        assert schema_validator(spec).is_valid(params) == (not expected), spec.id


def largest_value(param: ParamSpec) -> Any:
    kind = param.type
    if kind is T.BOOL:
        return True
    if kind is T.ENUM:
        return (param.choices or [])[-1].value
    if kind.is_numeric:
        top = 10**30 if param.max is None else param.max
        return math.floor(top) if kind is T.INT else top
    if kind.media is not None:
        item = data_uri(accepted_mimes(param)[0], b"\x00" * 30)
    else:
        item = "字" * (param.max_length or 100)
    return [item] * (param.max_items or 3) if kind.is_list else item


def past_value(param: ParamSpec) -> tuple[Any, ErrorCode] | None:
    kind = param.type
    if kind.is_numeric and param.max is not None:
        if kind is T.INT:
            return math.floor(param.max) + 1, ErrorCode.OUT_OF_RANGE
        return math.nextafter(float(param.max), math.inf), ErrorCode.OUT_OF_RANGE
    if kind.is_numeric and param.min is not None:
        if kind is T.INT:
            return math.ceil(param.min) - 1, ErrorCode.OUT_OF_RANGE
        return math.nextafter(float(param.min), -math.inf), ErrorCode.OUT_OF_RANGE
    if kind.is_list and param.max_items is not None:
        return [largest_value(param)[0]] * (param.max_items + 1), ErrorCode.TOO_MANY_ITEMS
    if kind is T.STRING and param.max_length is not None:
        return "x" * (param.max_length + 1), ErrorCode.TOO_LONG
    return None
