"""Rebuild the catalog files from RunningHub's registry format.

The registry (`model-registry.public.json`), its price summary (`pricing.public.json`) and our
`extra-models.json` are upstream-owned: types, bounds and enum values come only from them.
What people refine by hand lives beside them and is applied on every import, so a re-import
never loses it:

- `titles.json`: model id -> zh/en title, as a catalog lists it ("Kling 2.6 Pro · Image to
  Video"); the registry's own names are often just the endpoint path, and are the fallback;
- `categories.json`: model id -> task category (text-to-video, image-to-image, ...);
- `glossary.json`: field key -> zh/en label used wherever the registry gives none;
- `translations.json`: registry Chinese text -> English;
- `overrides/<model id>.json`: per-model category, and per-parameter label, description,
  example, widget, group, order and choice labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aipaint.catalog.paths import DATA_DIR, model_file, read_json, write_json
from aipaint.catalog.schemas import (
    Choice,
    DefaultValue,
    Group,
    ModelSpec,
    ParamSpec,
    ParamType,
    Price,
    PriceKind,
    PriceRule,
    Source,
    Text,
    Widget,
    dump_spec,
)

CJK = re.compile(r"[\u3400-\u9fff]")

_TYPES = {
    "STRING": ParamType.STRING,
    "LIST": ParamType.ENUM,
    "BOOLEAN": ParamType.BOOL,
    "INT": ParamType.INT,
    "FLOAT": ParamType.FLOAT,
    "IMAGE": ParamType.IMAGE_URL,
    "VIDEO": ParamType.VIDEO_URL,
    "AUDIO": ParamType.AUDIO_URL,
}
# `multipleInputs` makes a list of files only. A STRING with it (the MiniMax speech models'
# `pronunciation_dict`) stays one string: RunningHub's registry declares it STRING and its own
# validator refuses anything but a string.
_LIST_TYPES = {
    ParamType.IMAGE_URL: ParamType.IMAGE_URL_LIST,
    ParamType.VIDEO_URL: ParamType.VIDEO_URL_LIST,
    ParamType.AUDIO_URL: ParamType.AUDIO_URL_LIST,
}
# RunningHub's price units, as written in pricing.public.json.
_UNITS: dict[str, tuple[str, Text, bool]] = {
    "/次": ("call", Text(zh="/次", en="per call"), False),
    "/秒": ("second", Text(zh="/秒", en="per second"), False),
    "/second": ("second", Text(zh="/秒", en="per second"), False),
    "/秒起": ("second", Text(zh="/秒起", en="per second, from"), True),
    "/5秒": ("5_seconds", Text(zh="/5秒", en="per 5 seconds"), False),
    "/张": ("image", Text(zh="/张", en="per image"), False),
    "/1000字符": ("1000_chars", Text(zh="/1000字符", en="per 1,000 characters"), False),
}
_PROMPT_KEYS = re.compile(r"prompt|text|lyrics|description", re.IGNORECASE)
_SEGMENTED_MAX_CHOICES = 4
_SEGMENTED_MAX_LABEL = 8
_TEXTAREA_MIN_LENGTH = 200
_OVERRIDABLE_MODEL = {"category", "params"}
_OVERRIDABLE_PARAM = {
    "label",
    "description",
    "example",
    "widget",
    "group",
    "order",
    "choice_labels",
}


class CatalogImportError(Exception):
    """The registry files or the hand-made refinements cannot be combined into a catalog."""


@dataclass(frozen=True)
class Sources:
    """Where an import reads from; defaults are the files shipped in the package."""

    registries: tuple[Path, ...] = (
        DATA_DIR / "registry" / "model-registry.public.json",
        DATA_DIR / "registry" / "extra-models.json",
    )
    pricing: Path = DATA_DIR / "registry" / "pricing.public.json"
    refinements: Path = DATA_DIR


@dataclass
class Refinements:
    titles: dict[str, dict[str, str]]
    categories: dict[str, str]
    glossary: dict[str, dict[str, str]]
    translations: dict[str, str]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> Refinements:
        overrides_dir = root / "overrides"
        overrides = {
            path.relative_to(overrides_dir).with_suffix("").as_posix(): read_json(path)
            for path in sorted(overrides_dir.rglob("*.json"))
        }
        return cls(
            titles=read_json(root / "titles.json"),
            categories=read_json(root / "categories.json"),
            glossary=read_json(root / "glossary.json"),
            translations=read_json(root / "translations.json"),
            overrides=overrides,
        )

    def english(self, text: str) -> str:
        """English for a registry text: its translation, or itself when it has no Chinese."""
        if not CJK.search(text):
            return text
        return self.translations.get(text, text)


def humanize(key: str) -> str:
    """`firstImageUrl` -> `First image url`, `cfg_scale` -> `Cfg scale`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").split()
    return " ".join(words).capitalize()


def build_catalog(sources: Sources = Sources()) -> list[ModelSpec]:
    """Combine registry, prices and refinements into one spec per model, sorted by id."""
    refinements = Refinements.read(sources.refinements)
    pricing_doc = read_json(sources.pricing)
    prices = {entry["endpoint"]: entry for entry in pricing_doc["pricing"]}
    specs: dict[str, ModelSpec] = {}
    for registry_path in sources.registries:
        registry = read_json(registry_path)
        for raw in registry["models"]:
            spec = _model(raw, registry["version"], prices.get(raw["endpoint"]), refinements)
            if spec.id in specs:
                raise CatalogImportError(
                    f"{registry_path.name}: endpoint {spec.id!r} appears twice"
                )
            specs[spec.id] = spec
    unknown = sorted(set(refinements.overrides) - set(specs))
    if unknown:
        raise CatalogImportError(f"overrides name models the registry does not have: {unknown}")
    unknown = sorted(set(refinements.titles) - set(specs))
    if unknown:
        raise CatalogImportError(f"titles.json names models the registry does not have: {unknown}")
    return [specs[key] for key in sorted(specs)]


def write_catalog(specs: Iterable[ModelSpec], models_dir: Path) -> list[Path]:
    """Write one file per model and remove files of models that are gone; returns changed files."""
    models_dir.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    wanted: set[Path] = set()
    for spec in specs:
        path = model_file(models_dir, spec.id)
        wanted.add(path)
        if write_json(path, dump_spec(spec)):
            changed.append(path)
    for stale in models_dir.rglob("*.json"):
        if stale not in wanted:
            stale.unlink()
            changed.append(stale)
    for directory in sorted(models_dir.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return changed


def _model(
    raw: Mapping[str, Any],
    version: str,
    price: Mapping[str, Any] | None,
    refinements: Refinements,
) -> ModelSpec:
    model_id: str = raw["endpoint"]
    override = refinements.overrides.get(model_id, {})
    if "title" in override:
        raise CatalogImportError(f"overrides/{model_id}.json: a title belongs in titles.json")
    _refuse_unknown_keys(model_id, override, _OVERRIDABLE_MODEL)
    title = refinements.titles.get(model_id) or {
        "zh": (price or {}).get("name_cn") or raw["name_cn"],
        "en": refinements.english((price or {}).get("name_en") or raw["name_en"]),
    }
    params = [
        _param(model_id, index, item, refinements) for index, item in enumerate(raw["params"])
    ]
    params = _apply_param_overrides(model_id, params, override.get("params", {}))
    try:
        return ModelSpec(
            id=model_id,
            title=Text.model_validate(title),
            category=override.get("category", refinements.categories.get(model_id, "other")),
            provider=raw["category"].removeprefix("RunningHub/"),
            output_type="text" if raw["output_type"] == "string" else raw["output_type"],
            deprecated="[Deprecated]" in model_id,
            params_published=bool(raw["params"]),
            price=_price(price),
            params=params,
            source=Source(
                registry=version,
                class_name=raw.get("class_name") or None,
                provider_category=raw["category"],
            ),
        )
    except ValidationError as exc:
        raise CatalogImportError(f"{model_id}: {exc}") from exc


def _param(model_id: str, index: int, raw: Mapping[str, Any], ref: Refinements) -> ParamSpec:
    key: str = raw["fieldKey"]
    try:
        kind = _TYPES[raw["type"]]
    except KeyError:
        raise CatalogImportError(
            f"{model_id}.{key}: unknown registry type {raw['type']!r}"
        ) from None
    if raw.get("multipleInputs") and kind in _LIST_TYPES:
        kind = _LIST_TYPES[kind]
    choices = [_choice(option, ref) for option in raw.get("options") or []] or None
    if kind is ParamType.ENUM and choices is None:
        raise CatalogImportError(f"{model_id}.{key}: LIST parameter without options")
    numeric = kind.is_numeric
    return ParamSpec(
        name=key,
        type=kind,
        required=bool(raw.get("required")),
        label=_label(key, raw.get("label"), ref),
        description=_description(key, raw.get("description"), ref),
        choices=choices,
        default=_default(kind, raw.get("defaultValue")),
        min=raw.get("min") if numeric else None,
        max=raw.get("max") if numeric else None,
        step=raw.get("step") if numeric else None,
        max_length=raw.get("maxLength") if kind is ParamType.STRING else None,
        max_items=raw.get("maxInputNum") if kind.is_list else None,
        max_size_mb=raw.get("maxSize") if kind.media else None,
        accept=[fmt.upper() for fmt in json.loads(raw["accept"])] if raw.get("accept") else None,
        widget=_widget(kind, key, choices, raw.get("maxLength"), raw),
        group=Group.BASIC if raw.get("required") else Group.ADVANCED,
        order=index,
    )


def _label(key: str, registry_label: str | None, ref: Refinements) -> Text:
    # The registry's own label, when it is a real Chinese label, is what RunningHub's console shows.
    if registry_label and registry_label != key and CJK.search(registry_label):
        return Text(zh=registry_label, en=ref.english(registry_label))
    entry = ref.glossary.get(key)
    if entry:
        return Text(zh=entry["zh"], en=entry["en"])
    return Text(zh=humanize(key), en=humanize(key))


def _description(key: str, text: str | None, ref: Refinements) -> Text | None:
    if not text or text == key:
        return None
    return Text(zh=text, en=ref.english(text))


def _choice(option: Mapping[str, Any], ref: Refinements) -> Choice:
    value = str(option["value"])
    zh = option.get("description") or value
    en = option.get("descriptionEn") or ref.english(zh)
    return Choice(value=value, label=Text(zh=zh, en=en))


def _default(kind: ParamType, value: Any) -> DefaultValue | None:
    if value is None or value == "":
        return None
    if kind.media:
        # Registry defaults for files are signed sample URLs that expire: useless as initial values.
        return None
    if kind is ParamType.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind.is_list and not isinstance(value, list):
        return [value]
    if kind is ParamType.ENUM:
        return str(value)
    return value  # type: ignore[no-any-return]


def _widget(
    kind: ParamType,
    key: str,
    choices: list[Choice] | None,
    max_length: int | None,
    raw: Mapping[str, Any],
) -> Widget:
    if kind.media:
        return Widget.UPLOAD
    if kind is ParamType.BOOL:
        return Widget.SWITCH
    if kind is ParamType.STRING_LIST:
        return Widget.TAGS
    if kind.is_numeric:
        bounded = raw.get("min") is not None and raw.get("max") is not None
        return Widget.SLIDER if bounded else Widget.NUMBER
    if choices is not None:
        short = all(len(c.label.en) <= _SEGMENTED_MAX_LABEL for c in choices)
        few = len(choices) <= _SEGMENTED_MAX_CHOICES
        return Widget.SEGMENTED if short and few else Widget.SELECT
    long_text = max_length is not None and max_length >= _TEXTAREA_MIN_LENGTH
    return Widget.TEXTAREA if long_text or _PROMPT_KEYS.search(key) else Widget.TEXT


def _price(entry: Mapping[str, Any] | None) -> Price:
    if entry is None:
        return Price(kind=PriceKind.UNKNOWN, note="RunningHub publishes no price for this model.")
    unit = _UNITS.get(entry["unit"])
    if unit is None or entry["pricing_type"] == "unparsed":
        return Price(
            kind=PriceKind.UNKNOWN,
            currency=entry["currency"],
            unit_label=Text(zh=entry["unit"], en=entry["unit"]),
            note=entry.get("note") or f"Unrecognised price unit {entry['unit']!r}.",
        )
    name, label, minimum = unit
    common: dict[str, Any] = {
        "currency": entry["currency"],
        "unit": name,
        "unit_label": label,
        "minimum": minimum,
    }
    if entry["pricing_type"] == "fixed":
        return Price(kind=PriceKind.FIXED, amount=entry["price"], **common)
    rules = [
        PriceRule(when={k: str(v) for k, v in rule["when"].items()}, amount=rule["price"])
        for rule in entry["rules"]
    ]
    return Price(kind=PriceKind.BY_PARAMS, depends_on=entry["depends_on"], rules=rules, **common)


def _apply_param_overrides(
    model_id: str, params: list[ParamSpec], overrides: Mapping[str, Mapping[str, Any]]
) -> list[ParamSpec]:
    by_name = {p.name: p for p in params}
    unknown = sorted(set(overrides) - set(by_name))
    if unknown:
        raise CatalogImportError(f"overrides/{model_id}.json: unknown params {unknown}")
    for name, changes in overrides.items():
        _refuse_unknown_keys(f"{model_id}.{name}", changes, _OVERRIDABLE_PARAM)
        update = {k: v for k, v in changes.items() if k != "choice_labels"}
        labels = changes.get("choice_labels", {})
        spec = by_name[name]
        if labels:
            known = {c.value for c in spec.choices or []}
            if not set(labels) <= known:
                raise CatalogImportError(f"{model_id}.{name}: choice_labels for unknown values")
        try:
            if labels:
                update["choices"] = [
                    Choice(value=c.value, label=Text.model_validate(labels.get(c.value, c.label)))
                    for c in spec.choices or []
                ]
            by_name[name] = ParamSpec.model_validate({**spec.model_dump(), **update})
        except ValidationError as exc:
            raise CatalogImportError(f"overrides/{model_id}.json: {name}: {exc}") from exc
    return sorted(by_name.values(), key=lambda p: p.order)


def _refuse_unknown_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise CatalogImportError(f"overrides for {where}: keys {extra} cannot be overridden")
