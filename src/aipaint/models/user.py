from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from aipaint.db import Base
from aipaint.models.base import UTCDateTime, utc_now


class User(Base):
    """Someone holding an aipaint token; admins see every user's tasks."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # sha256 of the token: tokens are 256-bit random, so a fast hash is enough to make a leaked
    # table useless, and lookups stay one index probe.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
