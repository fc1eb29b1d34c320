"""The contract's JSON documents as TypedDicts: plain dicts at run time, checked types for mypy.

The server may add fields; these name the ones the contract fixes (plus `queue_position`, which a
task may carry while queued).
"""

from __future__ import annotations

from typing import Any, Final, Literal, NotRequired, TypedDict

TaskStatus = Literal["pending", "queued", "running", "succeeded", "failed", "canceled"]
FINAL_STATUSES: Final = frozenset({"succeeded", "failed", "canceled"})


class LocalText(TypedDict):
    zh: str
    en: str


class TaskError(TypedDict):
    code: str
    message: str
    upstream_code: NotRequired[str | None]
    details: NotRequired[dict[str, Any] | None]


class Output(TypedDict):
    index: int
    type: str
    url: str | None
    source_url: NotRequired[str | None]
    archived: NotRequired[bool]
    sha256: NotRequired[str | None]
    bytes: NotRequired[int | None]
    node_id: NotRequired[str | None]
    text: NotRequired[str | None]


class Usage(TypedDict, total=False):
    money: str | None
    coins: str | None
    cost_time_s: float | None
    third_party_money: str | None


class Task(TypedDict):
    id: str
    model: str
    params: dict[str, Any]
    status: TaskStatus
    upstream_task_id: NotRequired[str | None]
    error: NotRequired[TaskError | None]
    outputs: NotRequired[list[Output]]
    usage: NotRequired[Usage | None]
    created_at: NotRequired[str | None]
    submitted_at: NotRequired[str | None]
    finished_at: NotRequired[str | None]
    webhook_url: NotRequired[str | None]
    # Not named by the contract: shown by the CLI when the server reports it.
    queue_position: NotRequired[int | None]


class TaskPage(TypedDict):
    tasks: list[Task]
    next_cursor: str | None


class ModelSummary(TypedDict):
    id: str
    title: LocalText
    category: str
    output_type: str
    provider: NotRequired[str]
    deprecated: NotRequired[bool]
    params_published: NotRequired[bool]
    price: NotRequired[dict[str, Any]]


class Model(ModelSummary):
    schema: dict[str, Any]


class Estimate(TypedDict):
    model: str
    known: bool
    currency: NotRequired[str | None]
    unit: NotRequired[str | None]
    unit_label: NotRequired[LocalText | None]
    unit_price: NotRequired[str | None]
    quantity: NotRequired[float | None]
    total: NotRequired[str | None]
    minimum: NotRequired[bool]
    assumed: NotRequired[list[str]]
    note: NotRequired[LocalText | None]


class Upload(TypedDict):
    url: str
    expires_at: str | None
    sha256: str
    size: int
    content_type: str


def is_final(task: Task) -> bool:
    return task["status"] in FINAL_STATUSES
