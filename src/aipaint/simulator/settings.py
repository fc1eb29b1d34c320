"""Knobs of one simulator instance: accounts, timing, limits and the faults it injects."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aipaint.catalog.paths import MODELS_DIR

# The key demo mode and the tests use: 32 characters, like every RunningHub key.
DEMO_KEY = "aipaint-simulator-demo-key-00001"
Rate = float


class KeyType(StrEnum):
    """RunningHub's API key types; only enterprise-shared keys may call the standard-model API."""

    SHARED = "SHARED"
    EXCLUSIVE = "EXCLUSIVE"
    NORMAL = "NORMAL"


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: KeyType = KeyType.SHARED
    balance: Decimal = Field(default=Decimal("1000000"), description="Wallet, CNY")
    coins: int = 0
    concurrency_limit: int | None = Field(
        default=None, ge=1, description="Tasks in flight at once; default: the instance's limit"
    )


class Faults(BaseModel):
    """Per-instance fault injection; every rate is a probability per request (or per task)."""

    model_config = ConfigDict(extra="forbid")

    http_5xx_rate: Rate = Field(default=0, ge=0, le=1, description="Answer HTTP 500/502/503")
    http_429_rate: Rate = Field(default=0, ge=0, le=1, description="Answer HTTP 429")
    retry_after_s: float = Field(default=1, ge=0, description="Retry-After of injected 429s")
    latency_ms: float = Field(default=0, ge=0, description="Extra latency, uniform in [0, this]")
    drop_rate: Rate = Field(
        default=0, ge=0, le=1, description="Close the connection before handling the request"
    )
    drop_after_rate: Rate = Field(
        default=0,
        ge=0,
        le=1,
        description="Handle the request (a submit creates its task), then drop the answer",
    )
    failed_rate: Rate = Field(default=0, ge=0, le=1, description="Tasks that end FAILED")
    moderation_rate: Rate = Field(
        default=0, ge=0, le=1, description="Submits refused by moderation (1501)"
    )
    stuck_rate: Rate = Field(default=0, ge=0, le=1, description="Tasks that never finish")
    instant_rate: Rate = Field(
        default=0, ge=0, le=1, description="Submits answered SUCCESS with results at once"
    )
    webhook_drop_rate: Rate = Field(default=0, ge=0, le=1, description="Webhooks never sent")
    webhook_duplicate_rate: Rate = Field(default=0, ge=0, le=1, description="Webhooks sent twice")
    webhook_delay_s: float = Field(
        default=0, ge=0, description="Webhooks sent late: extra delay, uniform in [0, this]"
    )


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIPAINT_SIMULATOR_", extra="ignore")

    accounts: dict[str, Account] = Field(
        default_factory=lambda: {DEMO_KEY: Account()},
        description="API key -> account (type, wallet, concurrency)",
    )
    concurrency_limit: int = Field(default=50, ge=1, description="Default tasks in flight per key")
    speed: float = Field(
        default=1.0, gt=0, description="Time factor: 1000 runs a 60 s task in 60 ms"
    )
    result_ttl_s: float = Field(default=86400, gt=0, description="Result link lifetime")
    upload_ttl_s: float = Field(default=86400, gt=0, description="Uploaded file link lifetime")
    upload_max_mb: float = Field(default=30, gt=0, description="Upload size limit")
    output_pad_mb: float = Field(default=0, ge=0, description="Pad every output file to this size")
    public_url: str | None = Field(
        default=None, description="Base URL of result links (default: the request's own)"
    )
    seed: int | None = Field(default=None, description="Random seed, for reproducible faults")
    webhook_attempts: int = Field(default=4, ge=1, description="Deliveries tried per webhook")
    webhook_timeout_s: float = Field(default=5, gt=0, description="Receiver timeout")
    webhook_backoff_s: float = Field(
        default=2, ge=0, description="First retry delay, doubled each retry (scaled by speed)"
    )
    webhook_format: str = Field(
        default="outputs",
        pattern="^(outputs|query)$",
        description="eventData shape: the documented /outputs shape, or the v2 query shape",
    )
    catalog_dir: Path = MODELS_DIR
    faults: Faults = Field(default_factory=Faults)
