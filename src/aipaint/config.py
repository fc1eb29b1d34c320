"""The one settings object: every knob comes from `AIPAINT_*` environment variables or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    # With AIPAINT_STORAGE_URL=s3://bucket/prefix: the S3-compatible service (unset: AWS), its
    # region, and how the bucket is addressed (`path` for MinIO and most self-hosted services,
    # `virtual` for COS and OSS; `auto` lets botocore choose). Credentials: the standard AWS
    # variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE…) or the instance role.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # `/files` answers with a redirect to a presigned URL valid this long, instead of streaming
    # the object itself (the signed-link or token check still comes first).
    s3_presign: bool = False
    s3_presign_ttl_s: int = Field(default=300, ge=1, le=7 * 86400)
    public_url: str | None = None
    upstream_concurrency: int | None = Field(default=None, ge=1)
    catalog_dir: Path = MODELS_DIR
    log_level: str = "INFO"
    log_json: bool = False

    # Signs webhook URLs and file links; generated into the data dir when not given.
    secret_key: SecretStr | None = None
    # The worker (submission, tracking, archival) runs inside `aipaint serve` unless turned off;
    # then `aipaint worker` processes run it, sharing the job queue through Redis.
    worker: bool = True
    redis_url: str | None = None
    # Connections a process opens to Redis at most; past them, a call waits for a free one
    # (up to the timeout) instead of failing, so a burst of jobs cannot exhaust the pool.
    redis_max_connections: int = Field(default=64, ge=8)
    redis_pool_timeout_s: float = Field(default=20.0, gt=0)
    worker_concurrency: int = Field(default=8, ge=1)
    sweep_interval_s: float = Field(default=5.0, gt=0)
    # A stopping process lets its running jobs finish for this long (SIGTERM drains).
    drain_timeout_s: float = Field(default=30.0, ge=0)
    # A submit in flight is owned: its owner renews this lease; others wait until it lapses.
    submit_lease_s: float = Field(default=30.0, gt=0)
    # While submits of unknown outcome wait, RunningHub's own count is re-read this often.
    queue_status_refresh_s: float = Field(default=5.0, gt=0)
    # Tracking: each task polled as often as its share of the query budget allows, within these
    # bounds (the upper one also caps the backoff of failing queries).
    poll_min_s: float = Field(default=0.5, gt=0)
    poll_max_s: float = Field(default=30.0, gt=0)
    upstream_qps: float = Field(default=5.0, gt=0)
    not_found_limit: int = Field(default=3, ge=1)
    # Submission: capacity answers back off between these bounds; an uncertain submit waits
    # this long for its webhook before it fails as submit_uncertain.
    submit_backoff_s: float = Field(default=5.0, gt=0)
    submit_backoff_max_s: float = Field(default=120.0, gt=0)
    uncertain_timeout_s: float = Field(default=3600.0, gt=0)
    # ...or less: once this long has passed since the submit, and RunningHub's own count shows
    # nothing in flight beyond the tasks we track, the task would have sent its webhook.
    uncertain_grace_s: float = Field(default=120.0, gt=0)
    # Archival: RunningHub's result links live 24 h; retries back off up to the cap.
    link_ttl_s: float = Field(default=86400.0, gt=0)
    archive_backoff_s: float = Field(default=2.0, gt=0)
    archive_backoff_max_s: float = Field(default=300.0, gt=0)
    file_link_ttl_s: float = Field(default=3600.0, gt=0)
    # Inputs: data URIs are uploaded upstream, up to this size; these hosts skip the address
    # check of input URLs (e.g. an intranet CDN RunningHub can reach).
    max_data_uri_mb: float = Field(default=10.0, gt=0)
    upload_max_mb: float = Field(default=30.0, gt=0)
    # Request bodies: JSON ones up to this size (uploads have their own limit, above), refused
    # with 413 as they stream in, before parsing and before the token is checked.
    max_body_mb: float = Field(default=1.0, gt=0)
    # `aipaint serve`'s connections (see serving.py): request headers must arrive within this
    # long, an idle keep-alive connection is closed after this long, and beyond this many open
    # connections or running requests a request is answered 503.
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    http_keep_alive_s: float = Field(default=5.0, gt=0)
    http_max_connections: int = Field(default=1000, ge=1)
    # Failed authentication, per client address and process: this many invalid tokens at once,
    # then one more every `auth_failure_refill_s` seconds; past that, 429 with Retry-After.
    auth_failure_burst: int = Field(default=20, ge=1)
    auth_failure_refill_s: float = Field(default=3.0, gt=0)
    trusted_hosts: list[str] = Field(default_factory=list)
    # Outbound webhooks (Standard Webhooks): a 2xx within the timeout is a success; a failed
    # attempt is retried after the next delay of the schedule (seconds, with ±10% jitter; a
    # longer Retry-After wins); once it runs out the delivery has failed. After a rotation the
    # previous secret keeps signing for the grace period.
    webhook_timeout_s: float = Field(default=15.0, gt=0)
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        min_length=1,
    )
    webhook_secret_grace_s: float = Field(default=86400.0, ge=0)
    # Demo mode: how much faster than RunningHub the built-in simulator runs.
    demo_speed: float = Field(default=20.0, gt=0)

    @property
    def demo(self) -> bool:
        """Without a RunningHub key the service runs against the built-in simulator."""
        return self.runninghub_api_key is None or not self.runninghub_api_key.get_secret_value()


@lru_cache
def get_settings() -> Settings:
    return Settings()
