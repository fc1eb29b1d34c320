from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aipaint.db import Base
from aipaint.models.base import UTCDateTime, utc_now
from aipaint.models.output import Output

# The final statuses (`task.state.TaskStatus` names them all); here so the row can tell.
FINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


class Task(Base):
    """One request to run a model: what was asked, where it is upstream, what came out."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_tasks_user_id_id", "user_id", "id"),
        Index("ix_tasks_status_next_check_at", "status", "next_check_at"),
        Index("ix_tasks_upstream_account_status", "upstream_account", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # Events asked for beyond the final ones (which are always sent): ["task.running"] or null.
    webhook_events: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    upstream_task_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # An upstream id a webhook named for a task whose submit was uncertain; adopted once a
    # query confirms it.
    upstream_hint: Mapped[str | None] = mapped_column(String(100))
    upstream_status: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # Submission bookkeeping. `submit_started_at` is written and committed *before* the submit
    # call: a task found with it set and no upstream id may exist upstream, so it is never
    # submitted again blindly.
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    submit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who is submitting, and until when its lease runs: the owner renews it while its call is
    # in flight, and only once it has lapsed (the owner died) may another process take the
    # submit for one a crash interrupted.
    submit_owner: Mapped[str | None] = mapped_column(String(64))
    submit_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The RunningHub key (its fingerprint) whose slots the task counts against.
    upstream_account: Mapped[str | None] = mapped_column(String(32))
    uncertain_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker should look at this task next (submit, poll or archive, by status).
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    query_failures: Mapped[int] = mapped_column(Integer, default=0)
    not_found_count: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every change: SSE streams and outbound notifications compare it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    upstream_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    outputs: Mapped[list[Output]] = relationship(
        order_by=Output.index, lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def is_final(self) -> bool:
        """Succeeded, failed or canceled: the task never changes again."""
        return self.status in FINAL_STATUSES
