"""The catalog at run time: every model spec in memory, looked up by id, listed and searched."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from aipaint.catalog.errors import ModelNotFound, ParamsInvalid
from aipaint.catalog.json_schema import model_json_schema
from aipaint.catalog.loader import load_specs
from aipaint.catalog.schemas import ModelSpec
from aipaint.catalog.validation import validate_params


@dataclass(frozen=True)
class ModelDocument:
    """A model's API representation, serialised once: its bytes and their ETag."""

    body: bytes
    etag: str


def summary(spec: ModelSpec) -> dict[str, Any]:
    """The list entry of a model: what a model picker shows."""
    return {
        "id": spec.id,
        "title": spec.title.model_dump(),
        "category": spec.category,
        "provider": spec.provider,
        "output_type": spec.output_type,
        "deprecated": spec.deprecated,
        "params_published": spec.params_published,
        "price": spec.price.model_dump(mode="json", exclude_none=True),
    }


class Catalog:
    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs = {spec.id: spec for spec in sorted(specs, key=lambda s: s.id)}
        self._documents: dict[str, ModelDocument] = {}

    @classmethod
    def load(cls, models_dir: Path) -> Catalog:
        return cls(load_specs(models_dir))

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self._specs[model_id]
        except KeyError:
            raise ModelNotFound(model_id) from None

    @cached_property
    def categories(self) -> list[str]:
        return sorted({spec.category for spec in self._specs.values()})

    def search(self, category: str | None = None, query: str | None = None) -> list[ModelSpec]:
        """Models of a category whose id or title (zh or en) contains every word of `query`."""
        words = (query or "").casefold().split()
        found = []
        for spec in self._specs.values():
            if category and spec.category != category:
                continue
            haystack = f"{spec.id} {spec.title.zh} {spec.title.en}".casefold()
            if all(word in haystack for word in words):
                found.append(spec)
        return found

    def document(self, model_id: str) -> ModelDocument:
        """The model with its JSON Schema, built on first use and then served from memory."""
        document = self._documents.get(model_id)
        if document is None:
            spec = self.get(model_id)
            body = orjson.dumps({**summary(spec), "schema": model_json_schema(spec)})
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            document = self._documents[model_id] = ModelDocument(body, etag)
        return document

    def validate(self, model_id: str, params: object) -> dict[str, Any]:
        """The params, unchanged, when they fit; raises `ParamsInvalid` naming every bad field."""
        spec = self.get(model_id)
        errors = validate_params(spec, params)
        if errors:
            raise ParamsInvalid(model_id, errors)
        assert isinstance(params, dict)
        return params
