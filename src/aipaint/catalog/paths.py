"""Where the catalog's data lives and how its files are read and written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
MODELS_DIR = DATA_DIR / "models"


def model_file(models_dir: Path, model_id: str) -> Path:
    """A model's file mirrors its id: `kling-v2.6-pro/text-to-video` -> `…/text-to-video.json`."""
    return models_dir / f"{model_id}.json"


def model_id_of(models_dir: Path, path: Path) -> str:
    return path.relative_to(models_dir).with_suffix("").as_posix()


def read_json(path: Path) -> Any:
    with path.open("rb") as handle:
        return json.load(handle)


def dumps(data: Any) -> str:
    """The one text form of every catalog file: indented, UTF-8 as is, so diffs read well."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_json(path: Path, data: Any) -> bool:
    """Write `data` unless the file already holds exactly it; returns whether the file changed."""
    text = dumps(data)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
