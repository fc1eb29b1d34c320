"""Errors of the catalog feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aipaint.errors import MAX_DETAILS, AipaintError
from aipaint.i18n import Lang, Text

if TYPE_CHECKING:
    from aipaint.catalog.checks import Defect
    from aipaint.catalog.validation import ParamError


class CatalogInvalid(AipaintError):
    """The catalog files fail their checks; the service refuses to start on them."""

    status_code = 500
    code = "catalog_invalid"

    def __init__(self, defects: Sequence[Defect]) -> None:
        self.defects = list(defects)
        lines = "\n".join(f"  {d}" for d in self.defects)
        super().__init__(
            Text(
                zh=f"模型目录有 {len(self.defects)} 处错误：\n{lines}",
                en=f"the catalog has {len(self.defects)} defect(s):\n{lines}",
            )
        )


class ModelNotFound(AipaintError):
    """No catalog model has this id."""

    status_code = 404
    code = "model_not_found"

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        super().__init__(
            Text(zh=f"模型 {model_id!r} 不存在。", en=f"Model {model_id!r} does not exist.")
        )


class ParamsInvalid(AipaintError):
    """A params object does not fit its model's schema; one detail per bad field."""

    status_code = 422
    code = "invalid_params"

    def __init__(self, model_id: str, errors: Sequence[ParamError]) -> None:
        self.model_id = model_id
        self.errors = list(errors)
        super().__init__(
            Text(
                zh=f"参数有 {len(self.errors)} 处错误（模型 {model_id}）。",
                en=f"{len(self.errors)} invalid parameter(s) for model {model_id}.",
            )
        )

    def details(self, lang: Lang) -> list[dict[str, Any]]:
        return [error.render(lang) for error in self.errors[:MAX_DETAILS]]
