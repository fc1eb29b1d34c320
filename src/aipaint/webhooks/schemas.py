"""Request and answer shapes of the webhook routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WebhookSecret(BaseModel):
    key: str = Field(description="The Standard Webhooks signing secret, whsec_…")


class DefaultWebhook(BaseModel):
    url: str | None = Field(
        default=None,
        max_length=2000,
        description="Where tasks of this token that name no webhook_url are notified; null: none",
    )


class AttemptRead(BaseModel):
    number: int
    at: datetime
    status_code: int | None = Field(description="The app's answer; null when none came")
    duration_ms: int
    error: str | None


class DeliveryRead(BaseModel):
    id: str = Field(description="The webhook-id header of every attempt")
    task_id: str
    event: str
    url: str
    status: str = Field(description="pending, succeeded, failed (retries ran out) or disabled")
    attempts: list[AttemptRead]
    next_attempt_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    deliveries: list[DeliveryRead]
