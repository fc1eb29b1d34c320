from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aipaint.db import Base
from aipaint.models.base import UTCDateTime, utc_now


class WebhookAttempt(Base):
    """One request of a delivery (or one that was refused before it was sent)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))


class WebhookDelivery(Base):
    """One event of a task for the app: written in the transaction of the change that caused
    it, sent by the worker until the app answers 2xx or the retry schedule runs out. Its id is
    the `webhook-id` of every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("task_id", "event"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_user_id_url_status", "user_id", "url", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(2000))
    # pending (to send), succeeded, failed (schedule ran out), disabled (the URL answered 410)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed by a sender until then: no other process sends this attempt meanwhile.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by=WebhookAttempt.number, lazy="selectin", cascade="all, delete-orphan"
    )


class WebhookGone(Base):
    """A URL that answered 410 Gone to one of the user's deliveries: nothing more is sent to it
    until the user retries a delivery to it (or names it as the default again)."""

    __tablename__ = "webhook_gone"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
