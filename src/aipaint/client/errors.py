"""The exceptions of the aipaint client: one base, and one type per way a call can go wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import httpx

if TYPE_CHECKING:
    from aipaint.client.types import Task

# A non-JSON error page (a proxy's HTML 502, say) is cut to this many characters in the message.
_SNIPPET: Final = 200
_SPACES: Final = re.compile(r"\s+")


class AipaintClientError(Exception):
    """Base of every error the client raises on purpose."""


class AipaintAPIError(AipaintClientError):
    """The server answered with a non-2xx status.

    `code`, `message` and `details` come from the contract's `{"error": {...}}` body; an answer in
    another shape (a proxy's HTML page, say) gets the code `http_<status>` and a snippet of it.
    """

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details: list[dict[str, Any]] = [dict(d) for d in details]
        super().__init__(status_code, code, message, self.details)

    def __str__(self) -> str:
        head = f"{self.code}: {self.message} (HTTP {self.status_code})"
        if self.status_code != 422 or not self.details:
            return head
        lines = [f"  {detail_target(d)}: {d.get('message', '')}" for d in self.details]
        return "\n".join([head, *lines])

    def __repr__(self) -> str:
        return f"AipaintAPIError({self.status_code}, {self.code!r}, {self.message!r})"

    @classmethod
    def from_response(cls, response: httpx.Response) -> AipaintAPIError:
        """The error an answer carries; the body must have been read already."""
        status = response.status_code
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return cls(status, f"http_{status}", _text_message(response))
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            details = error.get("details")
            return cls(
                status,
                error["code"],
                str(error.get("message") or ""),
                [d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
            )
        # JSON, but not our error shape: a framework default ({"detail": ...}) or a proxy's.
        detail = body.get("detail") if isinstance(body, dict) else None
        message = detail if isinstance(detail, str) else _snippet(json.dumps(body))
        return cls(status, f"http_{status}", message or response.reason_phrase)


def detail_target(detail: Mapping[str, Any]) -> str:
    """The field a 422 detail is about: `duration`, `imageUrls[1]`, or `(params)`."""
    # Params errors name a `param`; malformed-request errors name a dotted `field`.
    name = detail.get("param") or detail.get("field") or "(params)"
    index = detail.get("index")
    return f"{name}[{index}]" if isinstance(index, int) else str(name)


class AipaintConnectionError(AipaintClientError):
    """The server could not be reached, or the connection broke before an answer came."""


class EventStreamError(AipaintClientError):
    """A task's event stream failed and its one reconnection did not help."""


class DownloadError(AipaintClientError):
    """An output could not be downloaded intact."""


class TaskFailed(AipaintClientError):
    """`run` saw its task end `failed` or `canceled`; the final task is in `task`."""

    def __init__(self, task: Task) -> None:
        self.task = task
        error = task.get("error")
        reason = f"{error['code']}: {error['message']}" if error else "no error reported"
        super().__init__(f"task {task['id']} {task['status']}: {reason}")


class WaitTimeout(AipaintClientError, TimeoutError):
    """`wait` gave up before the task finished; the task goes on, `task` is its last known state."""

    def __init__(self, task_id: str, task: Task | None) -> None:
        self.task_id = task_id
        self.task = task
        status = task["status"] if task is not None else "unknown"
        super().__init__(f"task {task_id} has not finished (last status: {status})")


def _text_message(response: httpx.Response) -> str:
    text = _snippet(response.text)
    return f"{response.reason_phrase}: {text}" if text else response.reason_phrase


def _snippet(text: str) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"
