from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from aipaint.db import Base
from aipaint.models.base import UTCDateTime, utc_now


class User(Base):
    """Someone holding an aipaint token; admins see every user's tasks.

    Each token is a user of its own (`aipaint token create` makes both), so a token's id is its
    user's id.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # sha256 of the token: tokens are 256-bit random, so a fast hash is enough to make a leaked
    # table useless, and lookups stay one index probe.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Set once the token is revoked: from the next request on it lets no one in. The row stays,
    # with the tasks that name it.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where this token's tasks that name no webhook_url are notified.
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # The Standard Webhooks signing secret (whsec_…), made on first use; after a rotation the
    # previous one keeps signing too until `webhook_secret_previous_until`.
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(100))
    webhook_secret_previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
