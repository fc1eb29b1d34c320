from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aipaint.db import Base
from aipaint.models.base import UTCDateTime


class Output(Base):
    """One result of a task: RunningHub's expiring link and, once archived, our own copy."""

    __tablename__ = "outputs"
    __table_args__ = (UniqueConstraint("task_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    source_url: Mapped[str | None] = mapped_column(String(4000))
    source_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    node_id: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64))
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    archive_attempts: Mapped[int] = mapped_column(Integer, default=0)
    archive_error: Mapped[str | None] = mapped_column(String(500))
