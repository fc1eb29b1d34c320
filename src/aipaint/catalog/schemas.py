"""The catalog's data model: one `ModelSpec` per RunningHub endpoint, as in the data files."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from aipaint.i18n import Text

# The longest string a string param takes when RunningHub states no limit: 10,000 characters is
# well above any real prompt, and keeps a megabyte of text from travelling on to RunningHub.
DEFAULT_MAX_LENGTH = 10_000

# A scalar console default, or a list of them for list parameters.
Scalar = str | int | float | bool
DefaultValue = Scalar | list[Scalar]


class CatalogSchema(BaseModel):
    """Base of every catalog file model: unknown keys are typos, so they are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamType(StrEnum):
    STRING = "string"
    STRING_LIST = "string_list"
    ENUM = "enum"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    IMAGE_URL = "image_url"
    VIDEO_URL = "video_url"
    AUDIO_URL = "audio_url"
    IMAGE_URL_LIST = "image_url_list"
    VIDEO_URL_LIST = "video_url_list"
    AUDIO_URL_LIST = "audio_url_list"

    @property
    def is_list(self) -> bool:
        return self.value.endswith("_list")

    @property
    def is_numeric(self) -> bool:
        return self in (ParamType.INT, ParamType.FLOAT)

    @property
    def media(self) -> str | None:
        """`image`, `video` or `audio` for file parameters, else None."""
        head = self.value.split("_", 1)[0]
        return head if head in ("image", "video", "audio") else None


class Widget(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    TAGS = "tags"
    SELECT = "select"
    SEGMENTED = "segmented"
    SLIDER = "slider"
    NUMBER = "number"
    SWITCH = "switch"
    UPLOAD = "upload"


class Group(StrEnum):
    BASIC = "basic"
    ADVANCED = "advanced"


class Choice(CatalogSchema):
    """One allowed value of an enum parameter; the value is the exact string RunningHub expects."""

    value: str
    label: Text


class ParamSpec(CatalogSchema):
    name: str = Field(min_length=1)
    type: ParamType
    required: bool
    label: Text
    description: Text | None = None
    choices: list[Choice] | None = None
    default: DefaultValue | None = None
    example: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None
    max_length: Annotated[int, Field(gt=0)] | None = None
    max_items: Annotated[int, Field(gt=0)] | None = None
    max_size_mb: Annotated[float, Field(gt=0)] | None = None
    accept: list[str] | None = None
    widget: Widget
    group: Group
    order: int

    @property
    def length_limit(self) -> int | None:
        """The longest text a string param takes: its own max_length, else the stated default."""
        if self.type not in (ParamType.STRING, ParamType.STRING_LIST):
            return None
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH


class PriceKind(StrEnum):
    FIXED = "fixed"
    BY_PARAMS = "by_params"
    UNKNOWN = "unknown"


class PriceRule(CatalogSchema):
    when: dict[str, str]
    amount: float


class Price(CatalogSchema):
    """RunningHub's public price summary for a model; `unknown` is never shown as free."""

    kind: PriceKind
    currency: str | None = None
    unit: str | None = None
    unit_label: Text | None = None
    minimum: bool = False
    amount: float | None = None
    depends_on: list[str] | None = None
    rules: list[PriceRule] | None = None
    note: str | None = None


class Source(CatalogSchema):
    registry: str
    class_name: str | None = None
    provider_category: str | None = None


class ModelSpec(CatalogSchema):
    id: str = Field(min_length=1)
    title: Text
    category: str
    provider: str
    output_type: str
    deprecated: bool = False
    # False for the few endpoints whose parameters RunningHub does not publish: such a model accepts
    # any params object and leaves validation to RunningHub.
    params_published: bool = True
    price: Price
    params: list[ParamSpec]
    source: Source

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


class EstimateRequest(BaseModel):
    model: str = Field(min_length=1, description="Catalog model id")
    params: dict[str, Any] = Field(default_factory=dict, description="The params to submit")


class Estimate(BaseModel):
    """What a request will cost, from RunningHub's public price summary."""

    model: str
    known: bool = Field(description="False when no price is published for this model or choice")
    currency: str | None = None
    unit: str | None = None
    unit_label: Text | None = None
    unit_price: str | None = None
    quantity: float | None = Field(default=None, description="Units billed, e.g. seconds")
    total: str | None = None
    minimum: bool = Field(default=False, description="The price is a starting price")
    assumed: list[str] = Field(
        default_factory=list, description="Params not sent, priced at their console default"
    )
    note: Text | None = None


__all__ = ["Text"]  # re-exported: catalog files are made of Texts


def dump_spec(spec: ModelSpec) -> dict[str, Any]:
    """The data-file form of a spec: empty and default fields left out so that files stay short."""
    return spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
