from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aipaint.db import Base
from aipaint.models.base import UTCDateTime


class UpstreamAccount(Base):
    """One RunningHub key, known by a fingerprint (never the key itself).

    Its row is what every process locks to claim the key's upstream slots, so that tasks running
    or being submitted never exceed its limit, however many processes submit. It also keeps
    RunningHub's own count of the key's tasks in flight (`queue/status`), which decides how many
    slots tasks with an unknown submit outcome may hold.
    """

    __tablename__ = "upstream_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    concurrent_limit: Mapped[int | None] = mapped_column(Integer)
    running: Mapped[int | None] = mapped_column(Integer)
    queued: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while RunningHub's count shows nothing in flight beyond the tasks we track: a submit of
    # unknown outcome that did land would show in it (or, finished, would have sent its webhook).
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
