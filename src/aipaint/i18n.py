"""The two languages aipaint speaks (Chinese and English) and how a request picks one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "en"


class Text(BaseModel):
    """A text in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def negotiate(accept_language: str | None) -> Lang:
    """The language of an `Accept-Language` header: the best-weighted of zh / en, else English."""
    best: tuple[float, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        lang: Lang | None = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is None:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        # Earlier entries win ties, as browsers list languages in order of preference.
        candidate = (weight - position * 1e-6, lang)
        if weight > 0 and (best is None or candidate[0] > best[0]):
            best = candidate
    return best[1] if best else DEFAULT_LANG
