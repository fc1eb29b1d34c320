"""Read the catalog files at start-up, refusing a catalog that fails any check."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from aipaint.catalog.checks import Defect, check_specs
from aipaint.catalog.errors import CatalogInvalid
from aipaint.catalog.paths import model_id_of
from aipaint.catalog.schemas import ModelSpec


def read_specs(models_dir: Path) -> tuple[list[ModelSpec], list[Defect]]:
    """Every spec that parses, and every defect found in the directory."""
    parsed: list[tuple[str, ModelSpec]] = []
    defects: list[Defect] = []
    paths = sorted(models_dir.rglob("*.json")) if models_dir.is_dir() else []
    for path in paths:
        file = path.relative_to(models_dir).as_posix()
        try:
            spec = ModelSpec.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            defects.extend(
                Defect(file, ".".join(str(part) for part in error["loc"]) or "-", error["msg"])
                for error in exc.errors(include_url=False)
            )
            continue
        expected = model_id_of(models_dir, path)
        if spec.id != expected:
            defects.append(Defect(file, "id", f"{spec.id!r} does not match the file path"))
        parsed.append((file, spec))
    if not paths:
        defects.append(Defect(str(models_dir), "-", "holds no catalog files"))
    defects.extend(check_specs(parsed))
    return [spec for _, spec in parsed], defects


def load_specs(models_dir: Path) -> list[ModelSpec]:
    """The specs of a catalog that passes every check; raises `CatalogInvalid` otherwise."""
    specs, defects = read_specs(models_dir)
    if defects:
        raise CatalogInvalid(defects)
    return specs
