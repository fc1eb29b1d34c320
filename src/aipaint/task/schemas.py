"""Request and answer shapes of the tasks API (the contract's Task JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from aipaint.task.state import TaskStatus

WebhookEvent = Literal["task.running", "task.succeeded", "task.failed", "task.canceled"]


class TaskCreate(BaseModel):
    model: str = Field(
        min_length=1,
        max_length=200,
        description="Catalog model id, e.g. rhart-video/ltx-2.3/text-to-video",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Told when the task ends (Standard Webhooks); default: the token's default URL",
    )
    webhook_events: list[WebhookEvent] = Field(
        default_factory=list,
        max_length=4,
        description="Events beyond the final ones, which are always sent: task.running",
    )


class TaskError(BaseModel):
    code: str
    message: str
    upstream_code: str | None = None
    details: dict[str, Any] | None = None


class OutputRead(BaseModel):
    index: int
    type: str
    url: str | None = Field(description="Our archived copy (signed link); null until archived")
    source_url: str | None = Field(description="RunningHub's link; expires 24 h after the task")
    archived: bool
    sha256: str | None
    bytes: int | None
    node_id: str | None
    text: str | None


class TaskRead(BaseModel):
    id: str
    model: str
    params: dict[str, Any]
    status: TaskStatus
    upstream_task_id: str | None
    error: TaskError | None
    outputs: list[OutputRead]
    usage: dict[str, Any] | None
    webhook_url: str | None
    webhook_events: list[str]
    created_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None


class TaskList(BaseModel):
    tasks: list[TaskRead]
    next_cursor: str | None


class RunTimes(BaseModel):
    """How long a model's recent tasks took, submit to finish: what progress bars estimate from."""

    model: str
    samples: int = Field(description="Successful tasks measured (the latest, at most 50)")
    median_s: float | None = Field(description="Null until a task of the model has succeeded")
    p90_s: float | None
