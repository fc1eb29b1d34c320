"""Rich renderables of the task CLI: the live progress line, the history table, one task."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from aipaint.client.errors import AipaintAPIError, detail_target
from aipaint.client.types import Task

_TIME_WIDTH = len("2026-01-01 00:00:00")
STATUS_STYLES = {
    "pending": "yellow",
    "queued": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "canceled": "magenta",
}


class TaskProgress:
    """A spinner line: model, status, time since the wait began, queue position when known.

    Rendered on every refresh, so the elapsed time moves even while no event arrives.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self.started = time.monotonic()
        self._spinner = Spinner("dots")

    def update(self, task: Task) -> None:
        self.task = task

    def line(self) -> Text:
        status = self.task["status"]
        text = Text(f"{self.task['id']} ")
        text.append(status, style=f"bold {STATUS_STYLES.get(status, '')}".strip())
        text.append(f" · {elapsed_text(time.monotonic() - self.started)}")
        position = self.task.get("queue_position")
        if position is not None and status in ("pending", "queued"):
            text.append(f" · queue position {position}")
        return text

    def __rich__(self) -> RenderableType:
        self._spinner.update(text=self.line())
        return self._spinner


def elapsed_text(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def when(value: object) -> str:
    """An ISO timestamp in local time, to the second; anything else as it is."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def seconds_between(start: object, end: object) -> float | None:
    try:
        first = datetime.fromisoformat(str(start))
        last = datetime.fromisoformat(str(end))
        return max(0.0, (last - first).total_seconds())
    except (TypeError, ValueError):  # missing, unparsable, or naive against aware
        return None


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def tasks_table(tasks: Sequence[Task]) -> Table:
    title = f"{len(tasks)} task" if len(tasks) == 1 else f"{len(tasks)} tasks"
    table = Table(title=title)
    # Ids are copied from here into `aipaint tasks show`: never cut; the model folds instead.
    table.add_column("id", no_wrap=True, min_width=max((len(t["id"]) for t in tasks), default=2))
    table.add_column("model", overflow="fold", min_width=16)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("created", no_wrap=True, min_width=_TIME_WIDTH)
    table.add_column("finished", no_wrap=True, min_width=_TIME_WIDTH)
    for task in tasks:
        table.add_row(
            Text(task["id"]),
            Text(task["model"]),
            status_text(task["status"]),
            when(task.get("created_at")),
            when(task.get("finished_at")),
        )
    return table


def task_view(task: Task) -> RenderableType:
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    fields.add_row("task", Text(task["id"]))
    fields.add_row("model", Text(task["model"]))
    fields.add_row("status", status_text(task["status"]))
    for label, key in (("created", "created_at"), ("submitted", "submitted_at")):
        fields.add_row(label, when(task.get(key)))
    fields.add_row("finished", when(task.get("finished_at")))
    if task.get("upstream_task_id"):
        fields.add_row("upstream id", Text(str(task.get("upstream_task_id"))))
    usage = task.get("usage")
    if usage:
        fields.add_row("usage", Text(usage_text(usage)))
    fields.add_row("params", Text(json.dumps(task.get("params", {}), ensure_ascii=False)))
    error = task.get("error")
    if error:
        upstream = error.get("upstream_code")
        suffix = f" (upstream code {upstream})" if upstream else ""
        fields.add_row("error", Text(f"{error['code']}: {error['message']}{suffix}", style="red"))
    parts: list[RenderableType] = [fields]
    outputs = task.get("outputs") or []
    if outputs:
        table = Table("#", "type", title="outputs")
        table.add_column("url / text", overflow="fold")  # a link must stay whole to be used
        table.add_column("bytes", no_wrap=True)
        for output in outputs:
            text = output.get("text")
            shown = text if text is not None else output.get("url") or output.get("source_url")
            table.add_row(
                str(output.get("index", "")),
                Text(str(output.get("type", ""))),
                Text(shown or ""),
                "" if output.get("bytes") is None else str(output.get("bytes")),
            )
        parts.append(table)
    return Group(*parts)


def usage_text(usage: Any) -> str:
    parts = []
    for key, label in (("money", "money"), ("coins", "coins"), ("third_party_money", "3rd party")):
        if usage.get(key) not in (None, ""):
            parts.append(f"{label} {usage[key]}")
    if usage.get("cost_time_s") is not None:
        parts.append(f"{usage['cost_time_s']} s")
    return " · ".join(parts)


def error_details_table(error: AipaintAPIError) -> Table:
    table = Table("param", "code", "message", title="invalid parameters")
    for detail in error.details:
        table.add_row(
            Text(detail_target(detail)),
            Text(str(detail.get("code", ""))),
            Text(str(detail.get("message", ""))),
        )
    return table
