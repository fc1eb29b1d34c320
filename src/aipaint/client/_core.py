"""What the sync and the async client share, free of I/O: addresses, headers, answers, naming.

Both clients build every request and read every answer through these functions, so the two
differ only in how they wait for the network.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import quote

import httpx

from aipaint.client.errors import (
    AipaintAPIError,
    AipaintClientError,
    AipaintConnectionError,
    DownloadError,
    EventStreamError,
)
from aipaint.client.sse import ServerSentEvent, SSEDecoder
from aipaint.client.types import Output, Task
from aipaint.kit.sniff import HEAD_BYTES, sniff

DEFAULT_SERVER: Final = "http://127.0.0.1:8000"
# Uploads of large videos need a long write; reads wait for the server's answer.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=60.0, write=120.0, pool=10.0)
# An event stream is silent while a task waits; a longer silence is treated as a dropped stream.
EVENTS_READ_TIMEOUT: Final = 60.0
# Polling, when the event stream fails: first delay, growth, cap (seconds).
POLL_FIRST: Final = 0.5
POLL_FACTOR: Final = 1.5
POLL_MAX: Final = 5.0
# Polling gives up after this many failed reads in a row (about a minute of outage).
POLL_MAX_FAILURES: Final = 12
# The pause before reconnecting a dropped stream, unless the server's `retry:` asks otherwise.
RECONNECT_DELAY: Final = 0.25
RECONNECT_MAX_DELAY: Final = 5.0

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION: Final = re.compile(r"^[A-Za-z0-9]{1,8}$")


def _user_agent() -> str:
    try:
        return f"aipaint-client/{version('aipaint')}"
    except PackageNotFoundError:
        return "aipaint-client"


USER_AGENT: Final = _user_agent()


class Endpoint:
    """The aipaint server one client talks to, and the credentials that go to it and only it."""

    def __init__(
        self, base_url: str | None, token: str | None, accept_language: str | None = None
    ) -> None:
        base = (base_url or os.environ.get("AIPAINT_SERVER") or DEFAULT_SERVER).strip()
        try:
            url = httpx.URL(base)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            raise ValueError(f"the aipaint server must be an http(s) URL, not {base!r}")
        self.base_url = base.rstrip("/")
        self.token = token if token is not None else os.environ.get("AIPAINT_TOKEN") or None
        self.accept_language = accept_language
        self._origin = origin(url)

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.accept_language:
            headers["Accept-Language"] = self.accept_language
        headers.update(extra or {})
        return headers

    def resolve(self, url: str) -> str:
        """An output's `url` made absolute: relative ones are relative to the server."""
        try:
            return str(httpx.URL(self.base_url + "/").join(url))
        except httpx.InvalidURL:
            raise DownloadError(f"an output url is not a URL: {url!r}") from None

    def download_headers(self, url: str) -> dict[str, str]:
        """Headers to fetch `url`: the bearer token goes to the server's own origin only.

        (httpx also drops it on a redirect to another origin, e.g. to signed storage links.)
        """
        headers = {"User-Agent": USER_AGENT}
        try:
            ours = origin(httpx.URL(url)) == self._origin
        except httpx.InvalidURL:
            ours = False
        if self.token and ours:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def origin(url: httpx.URL) -> tuple[str, str, int]:
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme, 0)


def task_path(task_id: str, suffix: str = "") -> str:
    # A task id is one path segment: a slash or `?` in it must not reach another route.
    return f"/v1/tasks/{quote(task_id, safe='')}{suffix}"


def model_path(model_id: str) -> str:
    # Model ids are upstream endpoint paths: their slashes are part of the route.
    return f"/v1/models/{quote(model_id, safe='/')}"


def query(**values: str | int | None) -> dict[str, str | int]:
    return {key: value for key, value in values.items() if value is not None}


def timeout_of(value: float | httpx.Timeout | None) -> httpx.Timeout:
    return httpx.Timeout(value)


def events_timeout(timeout: httpx.Timeout, read_cap: float | None = None) -> httpx.Timeout:
    read = (
        EVENTS_READ_TIMEOUT if read_cap is None else max(0.01, min(EVENTS_READ_TIMEOUT, read_cap))
    )
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)


def raise_for_status(response: httpx.Response) -> None:
    """Raise the answer's `AipaintAPIError` unless it is a 2xx; the body must have been read."""
    if not response.is_success:
        raise AipaintAPIError.from_response(response)


def decode(response: httpx.Response) -> Any:
    """The JSON body of a successful answer."""
    raise_for_status(response)
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AipaintClientError(
            f"{response.request.method} {response.request.url.path} answered"
            f" {response.status_code} with a body that is not JSON"
        ) from None


def check_event_stream(response: httpx.Response) -> None:
    """Refuse a 2xx answer that is not an event stream (a proxy's page, say)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "text/event-stream":
        raise EventStreamError(f"the events route answered {kind or 'no content type'}")


def task_of(event: ServerSentEvent, status_code: int = 200) -> Task | None:
    """The task an event carries; None for events that carry none (pings, unknown kinds).

    An event whose data is the contract's error body raises it: the server ended the stream on
    an error it could only report in-band.
    """
    try:
        data: Any = json.loads(event.data)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and "status" not in data:
        details = error.get("details")
        raise AipaintAPIError(
            status_code,
            str(error.get("code") or "stream_error"),
            str(error.get("message") or ""),
            [d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        )
    if isinstance(data.get("id"), str) and isinstance(data.get("status"), str):
        return cast(Task, data)
    return None


def reconnect_delay(retry_ms: int | None) -> float:
    if retry_ms is None:
        return RECONNECT_DELAY
    return min(retry_ms / 1000, RECONNECT_MAX_DELAY)


def poll_delays() -> Iterator[float]:
    delay = POLL_FIRST
    while True:
        yield delay
        delay = min(delay * POLL_FACTOR, POLL_MAX)


def retryable(exc: Exception) -> bool:
    """A failed read worth repeating while polling: the server is restarting or busy."""
    if isinstance(exc, AipaintAPIError):
        return exc.status_code >= 500 or exc.status_code in (408, 429)
    return isinstance(exc, AipaintConnectionError)


class EventFollower:
    """The bookkeeping of `events`: which tasks are news, and when a dropped stream is fatal.

    One reconnection is allowed per drop; the allowance comes back only when a stream delivers a
    change, so a server that accepts and drops at once cannot make the client loop forever.
    """

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.last: Task | None = None
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._reconnects_left = 1

    def offer(self, task: Task, *, streamed: bool) -> bool:
        """True when `task` differs from the one yielded last and must be yielded."""
        if task == self.last:
            return False
        self.last = task
        if streamed:
            self._reconnects_left = 1
        return True

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id:
            # Lets a server that numbers its events resume where the dropped stream stopped.
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def remember(self, decoder: SSEDecoder) -> None:
        """Keep the stream's last event id and retry delay for the next connection."""
        self.last_event_id = decoder.last_event_id or self.last_event_id
        if decoder.retry is not None:
            self.retry_ms = decoder.retry

    def dropped(self, cause: BaseException | None) -> None:
        """Account for a stream that ended before a final status; raise when none is left."""
        if isinstance(cause, httpx.ReadTimeout):
            # A quiet stream, not a broken one: the re-read that follows proves the server alive.
            return
        if self._reconnects_left <= 0:
            reason = f": {cause}" if cause is not None else " before the task finished"
            raise EventStreamError(
                f"the event stream of task {self.task_id} dropped{reason}"
            ) from cause
        self._reconnects_left -= 1


class Watcher:
    """Calls `on_update` once per distinct task state, whether it came streamed or polled."""

    def __init__(self, task_id: str, on_update: Callable[[Task], object] | None) -> None:
        self.task_id = task_id
        self.on_update = on_update
        self.last: Task | None = None

    def see(self, task: Task) -> None:
        if task == self.last:
            return
        self.last = task
        if self.on_update is not None:
            self.on_update(task)


def upload_name(file: bytes | str | os.PathLike[str], filename: str | None) -> str:
    if filename:
        return filename
    if not isinstance(file, bytes):
        return Path(file).name
    kind = sniff(file[:HEAD_BYTES])
    return f"upload.{kind.extension}" if kind else "upload.bin"


def content_type_of(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def upload_fields(model: str | None, param: str | None) -> dict[str, str]:
    return {key: value for key, value in (("model", model), ("param", param)) if value}


def output_source(output: Output) -> str:
    """Where an output's bytes are: our archived `url`, else RunningHub's own link."""
    url = output.get("url") or output.get("source_url")
    if not url:
        raise DownloadError(f"output {output.get('index')} has no url")
    return url


def output_path(
    out_dir: Path, task: Task, output: Output, url: str = "", content_type: str | None = None
) -> Path:
    """`<task id>_<index>.<ext>`: stable, so downloading a task twice rewrites the same files."""
    stem = f"{_UNSAFE_NAME.sub('_', task['id'])}_{output.get('index', 0)}"
    if output.get("text") is not None:
        return out_dir / f"{stem}.txt"
    return out_dir / f"{stem}.{_extension(output, url, content_type)}"


def _extension(output: Output, url: str, content_type: str | None) -> str:
    kind = str(output.get("type") or "").lower()
    if _EXTENSION.match(kind) and kind not in ("image", "video", "audio", "text", "file"):
        return kind
    suffix = Path(httpx.URL(url).path).suffix.lstrip(".").lower() if url else ""
    if _EXTENSION.match(suffix):
        return suffix
    guessed = mimetypes.guess_extension((content_type or "").split(";")[0].strip())
    return guessed.lstrip(".") if guessed else "bin"


class Integrity:
    """The SHA-256 and size of a download, checked against what the task says of its output."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        self.size += len(chunk)

    def check(self, output: Output) -> None:
        # Only an archived output's hash and size describe the bytes behind its `url`.
        if not output.get("archived"):
            return
        expected_size = output.get("bytes")
        if isinstance(expected_size, int) and expected_size != self.size:
            raise DownloadError(
                f"output {output['index']}: got {self.size} bytes, expected {expected_size}"
            )
        expected_sha = output.get("sha256")
        if isinstance(expected_sha, str) and expected_sha.lower() != self._sha.hexdigest():
            raise DownloadError(f"output {output['index']}: SHA-256 does not match")


def partial_path(path: Path) -> Path:
    # Written beside the target, renamed when complete: a cut download never looks finished.
    return path.with_name(path.name + ".part")


@contextmanager
def reaching(server: str) -> Iterator[None]:
    """Turn httpx's transport errors into `AipaintConnectionError` naming the server."""
    try:
        yield
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        raise AipaintConnectionError(
            f"cannot reach the aipaint server at {server}: {reason}"
        ) from exc


@contextmanager
def fetching(url: str, output: Output) -> Iterator[None]:
    """Turn a transport error while downloading an output into a `DownloadError`."""
    try:
        yield
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        raise DownloadError(f"output {output.get('index')} from {url}: {reason}") from exc
