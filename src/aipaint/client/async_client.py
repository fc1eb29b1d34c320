"""AsyncClient: the aipaint HTTP API from asyncio (or trio) code."""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import anyio
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


class AsyncClient:
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
        http: httpx.AsyncClient | None = None,
        accept_language: str | None = None,
    ) -> None:
        self._endpoint = core.Endpoint(base_url, token, accept_language)
        self._timeout = core.timeout_of(timeout)
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None
        self._models: dict[str, tuple[str, Model]] = {}

    @property
    def base_url(self) -> str:
        return self._endpoint.base_url

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- catalog -------------------------------------------------------------------------------

    async def models(self, category: str | None = None, q: str | None = None) -> list[ModelSummary]:
        body = await self._json("GET", "/v1/models", params=core.query(category=category, q=q))
        return cast(list[ModelSummary], body["models"])

    async def model(self, model_id: str) -> Model:
        """One model with its params' JSON Schema; revalidated by ETag, so repeats are cheap."""
        cached = self._models.get(model_id)
        headers = {"If-None-Match": cached[0]} if cached else None
        response = await self._request("GET", core.model_path(model_id), headers=headers)
        if response.status_code == 304 and cached is not None:
            return copy.deepcopy(cached[1])
        model = cast(Model, core.decode(response))
        etag = response.headers.get("etag")
        if etag:
            self._models[model_id] = (etag, copy.deepcopy(model))
        return model

    async def estimate(self, model: str, params: Mapping[str, Any]) -> Estimate:
        body = {"model": model, "params": dict(params)}
        return cast(Estimate, await self._json("POST", "/v1/estimates", json=body))

    # -- tasks ---------------------------------------------------------------------------------

    async def create_task(
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
        return cast(Task, await self._json("POST", "/v1/tasks", json=body, headers=headers))

    async def get_task(self, task_id: str) -> Task:
        return cast(Task, await self._json("GET", core.task_path(task_id)))

    async def list_tasks(
        self,
        status: str | None = None,
        model: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TaskPage:
        """One page of tasks, newest first; pass its `next_cursor` to get the next."""
        params = core.query(status=status, model=model, limit=limit, cursor=cursor)
        return cast(TaskPage, await self._json("GET", "/v1/tasks", params=params))

    async def iter_tasks(
        self,
        status: str | None = None,
        model: str | None = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncGenerator[Task, None]:
        """Every task, newest first, page after page; at most `limit` of them when given."""
        cursor: str | None = None
        count = 0
        while True:
            page = await self.list_tasks(status, model, page_size, cursor)
            for task in page["tasks"]:
                if limit is not None and count >= limit:
                    return
                yield task
                count += 1
            cursor = page.get("next_cursor")
            if not cursor or not page["tasks"]:
                return

    async def cancel_task(self, task_id: str) -> Task:
        return cast(Task, await self._json("POST", core.task_path(task_id, "/cancel")))

    async def events(self, task_id: str) -> AsyncGenerator[Task, None]:
        """The task each time it changes, from its event stream, ending at a final status.

        A stream that drops before the end is followed up once: the task is read again (and
        yielded if it changed) and the stream reopened. Close the generator (`aclosing`) when
        leaving it early, so that its connection is released at once.
        """
        follower = core.EventFollower(task_id)
        while True:
            cause: BaseException | None = None
            decoder = SSEDecoder()
            try:
                async with self._http.stream(
                    "GET",
                    self._endpoint.url(core.task_path(task_id, "/events")),
                    headers=self._endpoint.headers(follower.headers()),
                    timeout=core.events_timeout(self._timeout),
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        core.raise_for_status(response)
                    core.check_event_stream(response)
                    async for chunk in response.aiter_bytes():
                        for event in decoder.feed(chunk):
                            task = core.task_of(event, response.status_code)
                            if task is not None and follower.offer(task, streamed=True):
                                yield task
                                if is_final(task):
                                    return
            except httpx.TransportError as exc:
                cause = exc
            finally:
                follower.remember(decoder)
            follower.dropped(cause)
            task = await self.get_task(task_id)
            if follower.offer(task, streamed=False):
                yield task
            if is_final(task):
                return
            await anyio.sleep(core.reconnect_delay(follower.retry_ms))

    async def wait(
        self,
        task_id: str,
        on_update: Callable[[Task], object] | None = None,
        timeout: float | None = None,
    ) -> Task:
        """The task once final, following its events (or polling, if the stream fails).

        `on_update` is called once per distinct state; `timeout` raises `WaitTimeout` and leaves
        the task running.
        """
        watcher = core.Watcher(task_id, on_update)
        try:
            with anyio.fail_after(timeout):
                return await self._wait(task_id, watcher)
        except TimeoutError as exc:
            if isinstance(exc, WaitTimeout):
                raise
            raise WaitTimeout(task_id, watcher.last) from None

    async def run(
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
        task = await self.create_task(
            model, params, idempotency_key=idempotency_key, webhook_url=webhook_url
        )
        final = await self.wait(task["id"], on_update=on_update, timeout=timeout)
        if final["status"] != "succeeded":
            raise TaskFailed(final)
        return final

    # -- files ---------------------------------------------------------------------------------

    async def upload(
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
            return cast(Upload, await self._json("POST", "/v1/uploads", files=files, data=fields))
        with Path(os.fspath(file)).open("rb") as handle:
            # httpx reads the file in chunks while sending: a large video is never all in memory.
            files_ = {"file": (name, handle, kind)}
            return cast(Upload, await self._json("POST", "/v1/uploads", files=files_, data=fields))

    async def download_outputs(self, task: Task, out_dir: Path | str) -> list[Path]:
        """Save every output of `task` in `out_dir` (text ones as .txt); their paths, in order."""
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        return [await self._download(task, output, directory) for output in task.get("outputs", [])]

    async def _download(self, task: Task, output: Output, directory: Path) -> Path:
        text = output.get("text")
        if text is not None:
            path = core.output_path(directory, task, output)
            path.write_text(text, encoding="utf-8")
            return path
        url = self._endpoint.resolve(core.output_source(output))
        with core.fetching(url, output):
            async with self._http.stream(
                "GET",
                url,
                headers=self._endpoint.download_headers(url),
                timeout=self._timeout,
                follow_redirects=True,
            ) as response:
                if not response.is_success:
                    await response.aread()
                    core.raise_for_status(response)
                path = core.output_path(
                    directory, task, output, url, response.headers.get("content-type")
                )
                partial = core.partial_path(path)
                integrity = core.Integrity()
                try:
                    # Plain file writes: a chunk is small, a thread hop per chunk would cost more.
                    with partial.open("wb") as handle:
                        async for chunk in response.aiter_bytes():
                            handle.write(chunk)
                            integrity.update(chunk)
                    integrity.check(output)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
        partial.replace(path)
        return path

    # -- plumbing ------------------------------------------------------------------------------

    async def _wait(self, task_id: str, watcher: core.Watcher) -> Task:
        try:
            async with aclosing(self.events(task_id)) as stream:
                async for task in stream:
                    watcher.see(task)
                    if is_final(task):
                        return task
        except (AipaintClientError, httpx.HTTPError):
            pass  # The stream failed for good: polling carries on from here.
        return await self._poll(task_id, watcher)

    async def _poll(self, task_id: str, watcher: core.Watcher) -> Task:
        delays = core.poll_delays()
        failures = 0
        while True:
            try:
                task = await self.get_task(task_id)
            except AipaintClientError as exc:
                failures += 1
                if not core.retryable(exc) or failures >= core.POLL_MAX_FAILURES:
                    raise
            else:
                failures = 0
                watcher.see(task)
                if is_final(task):
                    return task
            await anyio.sleep(next(delays))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        with core.reaching(self._endpoint.base_url):
            return await self._http.request(
                method,
                self._endpoint.url(path),
                headers=self._endpoint.headers(headers),
                timeout=self._timeout,
                **kwargs,
            )

    async def _json(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return core.decode(await self._request(method, path, headers=headers, **kwargs))
