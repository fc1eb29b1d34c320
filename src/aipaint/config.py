"""The one settings object: every knob comes from `AIPAINT_*` environment variables or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aipaint.catalog.paths import MODELS_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AIPAINT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # The upstream key stays server-side: a SecretStr never prints its value.
    runninghub_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AIPAINT_RUNNINGHUB_API_KEY", "RUNNINGHUB_API_KEY"),
    )
    runninghub_base_url: str = "https://www.runninghub.cn"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    storage_url: str | None = None
    public_url: str | None = None
    upstream_concurrency: int | None = Field(default=None, ge=1)
    catalog_dir: Path = MODELS_DIR
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def demo(self) -> bool:
        """Without a RunningHub key the service runs against the built-in simulator."""
        return self.runninghub_api_key is None or not self.runninghub_api_key.get_secret_value()


@lru_cache
def get_settings() -> Settings:
    return Settings()
