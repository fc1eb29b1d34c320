"""RunningHubClient: the one typed async client through which aipaint speaks to RunningHub.

Two rules shape it. A submit is never retried here, because a failure after the request may
have reached RunningHub can leave a created, billed task behind: such failures raise
`SubmitUncertain` for the caller to reconcile. Every other call is idempotent and retries
network errors, 429, 5xx and retryable business codes with capped, jittered backoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, BinaryIO, Final, Protocol, Self, TypeVar

import httpx
import structlog
from pydantic import BaseModel, SecretStr, ValidationError

from aipaint.upstream.errors import (
    ErrorKind,
    RateLimited,
    SubmitUncertain,
    UpstreamAuth,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamTransient,
    UpstreamUnavailable,
    from_code,
    kind_of,
    params_digest,
)
from aipaint.upstream.retry import RetryPolicy, parse_retry_after
from aipaint.upstream.schemas import (
    AccountStatus,
    PricePreview,
    QueueStatus,
    SubmitAccepted,
    TaskResponse,
    TaskState,
    UploadedFile,
    business_error,
    envelope_error,
)
from aipaint.upstream.status import UpstreamStatus, normalize_status

log = structlog.get_logger(__name__)

# Uploads get a long write timeout (30 MB on a slow link); reads wait for RunningHub's answer.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=30.0, write=60.0, pool=5.0)
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0
)
DEFAULT_RETRY: Final = RetryPolicy()

REDACTED: Final = "***"

# Raised before any byte of the request left: RunningHub provably never saw it. Every other
# transport failure may come after the server read the request.
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Error kinds that describe the task itself, so a query answer carrying them is a task state.
_TASK_OUTCOMES: Final = frozenset({ErrorKind.TASK_FAILED, ErrorKind.MODERATION})

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Gate(Protocol):
    def __call__(self, *, urgent: bool = ...) -> Awaitable[None]: ...


class RunningHubClient:
    """Typed async access to RunningHub's OpenAPI v2 with the key kept server-side.

    Args:
        base_url: the site root, `https://www.runninghub.cn` or `https://www.runninghub.ai`
            (keys are site-specific; never fall back from one to the other).
        api_key: the 32-character key; it never appears in logs, errors or `repr`.
        http: a shared client to use; when None the client owns a pooled one and closes it.
        timeout: applied to every request, including on a shared `http`.
        retry: the policy of the idempotent calls.
        gate: awaited before every request, retries included (the deployment's query budget);
            `urgent=False` only for routine polls, which give way to every other call.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        gate: Gate | None = None,
    ) -> None:
        self._gate = gate
        self._base = _site_root(base_url)
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._timeout = timeout
        self._retry = retry
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout, limits=DEFAULT_LIMITS)

    def __repr__(self) -> str:
        return f"RunningHubClient(base_url={self._base!r}, api_key={REDACTED!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled HTTP client if this client created it; a shared one stays open."""
        if self._owns_http:
            await self._http.aclose()

    # -- calls ---------------------------------------------------------------------------

    async def submit(
        self, model_id: str, params: Mapping[str, Any], *, webhook_url: str | None = None
    ) -> SubmitAccepted:
        """Create a task. Attempted exactly once.

        Raises:
            UpstreamError: a clean rejection, typed by its code (RunningHub made no task).
            RateLimited: HTTP 429 (a clean rejection; `retry_after` when the server sent one).
            UpstreamAuth: HTTP 401/403.
            SubmitUncertain: the request may have reached RunningHub (read/write timeout,
                dropped connection, HTTP 5xx, an answer without a task id): reconcile first.
            UpstreamUnavailable: no connection was made; resubmitting is safe.
        """
        path = f"/openapi/v2/{_endpoint(model_id)}"
        body = dict(params)
        if webhook_url:
            body["webhookUrl"] = webhook_url

        def uncertain(cause: BaseException) -> SubmitUncertain:
            error = SubmitUncertain(
                model_id=model_id,
                params_digest=params_digest(params, webhook_url),
                webhook_url=webhook_url,
                cause=cause,
            )
            log.warning(
                "upstream_submit_uncertain",
                model_id=model_id,
                params_digest=error.params_digest,
                cause=cause.upstream_code
                if isinstance(cause, UpstreamError)
                else type(cause).__name__,
            )
            return error

        try:
            response = await self._send("POST", path, json=body)
        except _NEVER_SENT as exc:
            raise UpstreamUnavailable(exc) from exc
        except httpx.HTTPError as exc:
            raise uncertain(exc) from exc
        if response.status_code >= 500:
            cause = self._http_error(response)
            raise uncertain(cause) from cause
        if not response.is_success:
            raise self._http_error(response)
        try:
            data = self._body(response)
            wire = _validate(TaskResponse, data)
        except UpstreamError as exc:
            raise uncertain(exc) from exc

        found = business_error(data)
        # A task id next to 804/813 ("still going") or next to a final status means the task
        # exists: it was accepted, whatever became of it since.
        exists = wire.task_id and (
            (found and kind_of(found[0]) is ErrorKind.IN_PROGRESS)
            or (bool(wire.status) and normalize_status(wire.status).is_terminal)
        )
        if found and not exists:
            raise from_code(found[0], found[1], raw=data)
        if not wire.task_id:
            cause = UpstreamTransient("bad_response", "no taskId in the answer", raw=data)
            raise uncertain(cause) from cause

        status = normalize_status(wire.status)
        log.info("upstream_submitted", model_id=model_id, task_id=wire.task_id, status=status)
        return SubmitAccepted(
            task_id=wire.task_id,
            status=status,
            raw_status=wire.status,
            # Some endpoints finish at once; their results spare the caller a poll.
            results=wire.results if status is UpstreamStatus.SUCCEEDED else [],
            raw=data,
        )

    async def query(self, task_id: str, *, urgent: bool = True) -> TaskState:
        """The task's current state. A failed task is a state, not an exception. A routine poll
        passes `urgent=False`.

        Raises:
            UpstreamError: the query itself failed (unknown task, bad key, …) after retries.
        """
        if not task_id.strip():
            raise ValueError("task_id must not be empty")

        def parse(response: httpx.Response) -> TaskState:
            data = self._body(response)
            wire = _validate(TaskResponse, data)
            code, message = business_error(data) or ("", "")
            reported = normalize_status(wire.status) if wire.status or not code else None
            status = _task_status(code, reported)
            if status is None:
                raise from_code(code, message, raw=data)
            if wire.task_id and wire.task_id != task_id:
                log.warning("upstream_task_id_mismatch", asked=task_id, answered=wire.task_id)
            return TaskState(
                task_id=task_id,
                status=status,
                raw_status=wire.status,
                results=wire.results,
                usage=wire.usage,
                error_code=code or None,
                error_message=message or None,
                failed_reason=wire.failed_reason,
                raw=data,
            )

        return await self._call(
            "query", "POST", "/openapi/v2/query", parse, json={"taskId": task_id}, urgent=urgent
        )

    async def upload(
        self, data: bytes | BinaryIO, filename: str, content_type: str
    ) -> UploadedFile:
        """Upload a file; use `download_url` in v2 params (valid for one day).

        A file object is streamed from where it lies, in chunks, never read into memory whole
        (httpx rewinds it for a retry).
        """

        def parse(response: httpx.Response) -> UploadedFile:
            return _validate(UploadedFile, self._envelope_data(response))

        return await self._call(
            "upload",
            "POST",
            "/openapi/v2/media/upload/binary",
            parse,
            files={"file": (filename, data, content_type)},
        )

    async def queue_status(self) -> QueueStatus:
        """The key's concurrency limit and current load."""

        def parse(response: httpx.Response) -> QueueStatus:
            return _validate(QueueStatus, self._envelope_data(response))

        return await self._call("queue_status", "GET", "/openapi/v2/queue/status", parse)

    async def price_preview(self, model_id: str, params: Mapping[str, Any]) -> PricePreview:
        """The estimated price of a submit with these params (the same body as the submit)."""

        def parse(response: httpx.Response) -> PricePreview:
            data = self._body(response)
            found = business_error(data)
            if found:
                raise from_code(found[0], found[1], raw=data)
            return _validate(PricePreview, data)

        path = f"/openapi/v2/price-preview/{_endpoint(model_id)}"
        return await self._call("price_preview", "POST", path, parse, json=dict(params))

    async def account_status(self) -> AccountStatus:
        """Balance and running tasks of the key's account."""

        def parse(response: httpx.Response) -> AccountStatus:
            return _validate(AccountStatus, self._envelope_data(response))

        # This older endpoint wants the key in the body too, spelt all lower-case.
        body = {"apikey": self._key.get_secret_value()}
        return await self._call(
            "account_status", "POST", "/uc/openapi/accountStatus", parse, json=body
        )

    # -- plumbing ------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        urgent: bool = True,
    ) -> httpx.Response:
        if self._gate is not None:
            await self._gate(urgent=urgent)
        headers = {
            "Authorization": f"Bearer {self._key.get_secret_value()}",
            "Accept": "application/json",
        }
        return await self._http.request(
            method,
            self._base + path,
            json=json,
            files=files,
            headers=headers,
            timeout=self._timeout,
        )

    async def _call(
        self,
        op: str,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], T],
        *,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        urgent: bool = True,
    ) -> T:
        """Send an idempotent request, retrying what the policy allows; parse the answer."""
        policy = self._retry
        attempt = 1
        while True:
            try:
                try:
                    response = await self._send(method, path, json=json, files=files, urgent=urgent)
                except httpx.HTTPError as exc:
                    raise _transport_error(exc) from exc
                if not response.is_success:
                    raise self._http_error(response)
                return parse(response)
            except UpstreamError as error:
                if not error.retryable or attempt >= policy.attempts:
                    raise
                delay = policy.delay(attempt, error.retry_after)
                log.warning(
                    "upstream_retry",
                    op=op,
                    attempt=attempt,
                    code=error.upstream_code,
                    delay_s=delay,
                )
                await policy.sleep(delay)
                attempt += 1

    def _http_error(self, response: httpx.Response) -> UpstreamError:
        """The typed error of a non-2xx answer, using a business code from its body if any."""
        status = response.status_code
        sign = _status_sign(status)
        code = f"http_{status}"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        try:
            data: dict[str, Any] | None = self._body(response)
        except UpstreamError:
            data = None
        found = (business_error(data) if data else None) or ("", "")
        if status == 429:
            return RateLimited(code, found[1], sign=sign, retry_after=retry_after, raw=data)
        if status in (401, 403):
            return UpstreamAuth(code, found[1], sign=sign, raw=data)
        if status >= 500 or status == 408:
            return UpstreamTransient(code, found[1], sign=sign, retry_after=retry_after, raw=data)
        if found[0]:
            return from_code(found[0], found[1], retry_after=retry_after, raw=data)
        return UpstreamBadRequest(code, found[1], sign=sign, raw=data)

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        """The answer as a JSON object, with the key scrubbed out of every string in it."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise UpstreamTransient(
                "bad_response", "the answer is not a JSON object", sign="BAD_RESPONSE"
            )
        scrubbed: dict[str, Any] = self._scrub(data)
        return scrubbed

    def _envelope_data(self, response: httpx.Response) -> dict[str, Any]:
        """`data` of a `{code, msg|message, data}` answer; a non-zero code raises its error."""
        body = self._body(response)
        found = envelope_error(body) or business_error(body)
        if found:
            raise from_code(found[0], found[1], raw=body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise UpstreamTransient(
                "bad_response", "the answer has no data object", sign="BAD_RESPONSE", raw=body
            )
        return data

    def _scrub(self, value: Any) -> Any:
        # An upstream message may echo the key back ("key xxx is invalid"): nothing that
        # came from the wire reaches an error, a log or `raw` without passing here.
        secret = self._key.get_secret_value()
        if not secret:
            return value
        if isinstance(value, str):
            return value.replace(secret, REDACTED)
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(item) for item in value]
        return value


def _task_status(code: str, reported: UpstreamStatus | None) -> UpstreamStatus | None:
    """The state a query answer reports, or None when its error is about the query itself."""
    if not code:
        return reported or UpstreamStatus.RUNNING
    if reported is not None and reported.is_terminal:
        return reported
    kind = kind_of(code)
    if kind in _TASK_OUTCOMES:
        return UpstreamStatus.FAILED
    if kind is ErrorKind.IN_PROGRESS:
        return reported or (UpstreamStatus.QUEUED if code == "813" else UpstreamStatus.RUNNING)
    return None


def _validate(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Field names only: the input values are upstream text and need not travel further.
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise UpstreamTransient(
            "bad_response",
            f"unexpected {model.__name__} answer ({fields})",
            sign="BAD_RESPONSE",
            raw=data,
        ) from None


def _transport_error(exc: httpx.HTTPError) -> UpstreamError:
    if isinstance(exc, _NEVER_SENT):
        return UpstreamUnavailable(exc)
    name = type(exc).__name__
    return UpstreamTransient("transport", sign=name)


def _status_sign(status: int) -> str:
    try:
        return httpx.codes(status).name
    except ValueError:
        return "HTTP_ERROR"


def _site_root(base_url: str) -> str:
    """The site root; a base given with the `/openapi/v2` suffix is accepted as well."""
    root = base_url.strip().rstrip("/")
    suffix = "/openapi/v2"
    if root.endswith(suffix):
        root = root[: -len(suffix)]
    if not root.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    return root


def _endpoint(model_id: str) -> str:
    """The endpoint path of a model id, refusing ids that would leave the model namespace."""
    path = model_id.strip().strip("/")
    segments = path.split("/")
    if not path or any(s in ("", ".", "..") for s in segments) or any(c in path for c in "?#"):
        raise ValueError(f"invalid model id {model_id!r}")
    return path
