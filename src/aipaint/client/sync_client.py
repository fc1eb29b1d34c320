"""Client: the aipaint HTTP API from synchronous code, over one pooled httpx.Client."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Generator, Mapping
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import httpx

from aipaint.client import _core as core
from aipaint.client.errors import AipaintClientError, TaskFailed, WaitTimeout
from aipaint.client.sse import SSEDecoder
from aipaint.client.types import (
    Estimate,
    Model,
    ModelSummary,
    Output,
    Task,
    TaskPage,
    Upload,
    is_final,
)


class Client:
    """Typed access to an aipaint server; every method answers the contract's JSON.

    Args:
        base_url: the server, default `AIPAINT_SERVER` or http://127.0.0.1:8000.
        token: the API token, default `AIPAINT_TOKEN`; sent to that server's origin only.
        timeout: of each request (an event stream waits longer between events).
        http: a client to share; when None this client owns one and closes it.
        accept_language: `zh-CN` or `en`, the language of error messages.

    Non-2xx answers raise `AipaintAPIError`; an unreachable server `AipaintConnectionError`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = core.DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
        accept_language: str | None = None,
    ) -> None:
        self._endpoint = core.Endpoint(base_url, token, accept_language)
        self._timeout = core.timeout_of(timeout)
        self._http = http or httpx.Client()
        self._owns_http = http is None
        self._models: dict[str, tuple[str, Model]] = {}

    @property
    def base_url(self) -> str:
        return self._endpoint.base_url

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- catalog -------------------------------------------------------------------------------

    def models(self, category: str | None = None, q: str | None = None) -> list[ModelSummary]:
        body = self._json("GET", "/v1/models", params=core.query(category=category, q=q))
        return cast(list[ModelSummary], body["models"])

    def model(self, model_id: str) -> Model:
        """One model with its params' JSON Schema; revalidated by ETag, so repeats are cheap."""
        cached = self._models.get(model_id)
        headers = {"If-None-Match": cached[0]} if cached else None
        response = self._request("GET", core.model_path(model_id), headers=headers)
        if response.status_code == 304 and cached is not None:
            return copy.deepcopy(cached[1])
        model = cast(Model, core.decode(response))
        etag = response.headers.get("etag")
        if etag:
            self._models[model_id] = (etag, copy.deepcopy(model))
        return model

    def estimate(self, model: str, params: Mapping[str, Any]) -> Estimate:
        body = {"model": model, "params": dict(params)}
        return cast(Estimate, self._json("POST", "/v1/estimates", json=body))

    # -- tasks ---------------------------------------------------------------------------------

    def create_task(
        self,
        model: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
    ) -> Task:
        body: dict[str, Any] = {"model": model, "params": dict(params)}
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return cast(Task, self._json("POST", "/v1/tasks", json=body, headers=headers))

    def get_task(self, task_id: str) -> Task:
        return cast(Task, self._json("GET", core.task_path(task_id)))

    def list_tasks(
        self,
        status: str | None = None,
        model: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TaskPage:
        """One page of tasks, newest first; pass its `next_cursor` to get the next."""
        params = core.query(status=status, model=model, limit=limit, cursor=cursor)
        return cast(TaskPage, self._json("GET", "/v1/tasks", params=params))

    def iter_tasks(
        self,
        status: str | None = None,
        model: str | None = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> Generator[Task, None, None]:
        """Every task, newest first, page after page; at most `limit` of them when given."""
        cursor: str | None = None
        count = 0
        while True:
            page = self.list_tasks(status, model, page_size, cursor)
            for task in page["tasks"]:
                if limit is not None and count >= limit:
                    return
                yield task
                count += 1
            cursor = page.get("next_cursor")
            if not cursor or not page["tasks"]:
                return

    def cancel_task(self, task_id: str) -> Task:
        return cast(Task, self._json("POST", core.task_path(task_id, "/cancel")))

    def events(self, task_id: str) -> Generator[Task, None, None]:
        """The task each time it changes, from its event stream, ending at a final status.

        A stream that drops before the end is followed up once: the task is read again (and
        yielded if it changed) and the stream reopened. Close the generator when leaving it
        early (`contextlib.closing`), so that its connection is released at once.
        """
        return self._follow(task_id, None)

    def wait(
        self,
        task_id: str,
        on_update: Callable[[Task], object] | None = None,
        timeout: float | None = None,
    ) -> Task:
        """The task once final, following its events (or polling, if the stream fails).

        `on_update` is called once per distinct state; `timeout` raises `WaitTimeout` and leaves
        the task running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        watcher = core.Watcher(task_id, on_update)
        try:
            with closing(self._follow(task_id, deadline)) as stream:
                for task in stream:
                    watcher.see(task)
                    if is_final(task):
                        return task
        except WaitTimeout:
            raise
        except (AipaintClientError, httpx.HTTPError):
            pass  # The stream failed for good: polling carries on from here.
        return self._poll(task_id, watcher, deadline)

    def run(
        self,
        model: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
        on_update: Callable[[Task], object] | None = None,
        timeout: float | None = None,
    ) -> Task:
        """Create a task and wait for it; raises `TaskFailed` unless it succeeds."""
        task = self.create_task(
            model, params, idempotency_key=idempotency_key, webhook_url=webhook_url
        )
        final = self.wait(task["id"], on_update=on_update, timeout=timeout)
        if final["status"] != "succeeded":
            raise TaskFailed(final)
        return final

    # -- files ---------------------------------------------------------------------------------

    def upload(
        self,
        file: Path | str | bytes,
        *,
        filename: str | None = None,
        model: str | None = None,
        param: str | None = None,
    ) -> Upload:
        """Upload a file (a path or its bytes); the answer's `url` goes into a media param.

        `model` and `param` let the server check the file against that param's limits.
        """
        name = core.upload_name(file, filename)
        kind = core.content_type_of(name)
        fields = core.upload_fields(model, param)
        if isinstance(file, bytes):
            files = {"file": (name, file, kind)}
            return cast(Upload, self._json("POST", "/v1/uploads", files=files, data=fields))
        with Path(os.fspath(file)).open("rb") as handle:
            # httpx reads the file in chunks while sending: a large video is never all in memory.
            files_ = {"file": (name, handle, kind)}
            return cast(Upload, self._json("POST", "/v1/uploads", files=files_, data=fields))

    def download_outputs(self, task: Task, out_dir: Path | str) -> list[Path]:
        """Save every output of `task` in `out_dir` (text ones as .txt); their paths, in order."""
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        return [self._download(task, output, directory) for output in task.get("outputs", [])]

    def _download(self, task: Task, output: Output, directory: Path) -> Path:
        text = output.get("text")
        if text is not None:
            path = core.output_path(directory, task, output)
            path.write_text(text, encoding="utf-8")
            return path
        url = self._endpoint.resolve(core.output_source(output))
        with (
            core.fetching(url, output),
            self._http.stream(
                "GET",
                url,
                headers=self._endpoint.download_headers(url),
                timeout=self._timeout,
                follow_redirects=True,
            ) as response,
        ):
            if not response.is_success:
                response.read()
                core.raise_for_status(response)
            path = core.output_path(
                directory, task, output, url, response.headers.get("content-type")
            )
            partial = core.partial_path(path)
            integrity = core.Integrity()
            try:
                with partial.open("wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
                        integrity.update(chunk)
                integrity.check(output)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        partial.replace(path)
        return path

    # -- plumbing ------------------------------------------------------------------------------

    def _follow(self, task_id: str, deadline: float | None) -> Generator[Task, None, None]:
        # Without an event loop to cancel a blocked read, the deadline caps each read instead.
        follower = core.EventFollower(task_id)
        while True:
            cause: BaseException | None = None
            decoder = SSEDecoder()
            try:
                with self._http.stream(
                    "GET",
                    self._endpoint.url(core.task_path(task_id, "/events")),
                    headers=self._endpoint.headers(follower.headers()),
                    timeout=core.events_timeout(self._timeout, _left(deadline, follower)),
                ) as response:
                    if not response.is_success:
                        response.read()
                        core.raise_for_status(response)
                    core.check_event_stream(response)
                    for chunk in response.iter_bytes():
                        for event in decoder.feed(chunk):
                            task = core.task_of(event, response.status_code)
                            if task is not None and follower.offer(task, streamed=True):
                                yield task
                                if is_final(task):
                                    return
                        _left(deadline, follower)
            except httpx.TransportError as exc:
                cause = exc
            finally:
                follower.remember(decoder)
            _left(deadline, follower)
            follower.dropped(cause)
            task = self.get_task(task_id)
            if follower.offer(task, streamed=False):
                yield task
            if is_final(task):
                return
            _sleep(core.reconnect_delay(follower.retry_ms), deadline, follower)

    def _poll(self, task_id: str, watcher: core.Watcher, deadline: float | None) -> Task:
        delays = core.poll_delays()
        failures = 0
        while True:
            try:
                task = self.get_task(task_id)
            except AipaintClientError as exc:
                failures += 1
                if not core.retryable(exc) or failures >= core.POLL_MAX_FAILURES:
                    raise
            else:
                failures = 0
                watcher.see(task)
                if is_final(task):
                    return task
            _sleep(next(delays), deadline, watcher)

    def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        with core.reaching(self._endpoint.base_url):
            return self._http.request(
                method,
                self._endpoint.url(path),
                headers=self._endpoint.headers(headers),
                timeout=self._timeout,
                **kwargs,
            )

    def _json(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return core.decode(self._request(method, path, headers=headers, **kwargs))


def _left(deadline: float | None, seen: core.EventFollower | core.Watcher) -> float | None:
    """Seconds left before `deadline`; raises `WaitTimeout` once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise WaitTimeout(seen.task_id, seen.last)
    return left


def _sleep(delay: float, deadline: float | None, seen: core.EventFollower | core.Watcher) -> None:
    left = _left(deadline, seen)
    time.sleep(delay if left is None else min(delay, left))
    _left(deadline, seen)
