"""The guards in front of the app: bounded bodies, no NUL in URLs, security headers on every
answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aipaint.app import create_app
from aipaint.guards import MB, BodyLimit
from tests.conftest import make_settings
from tests.support import LTX, LTX_PARAMS

pytestmark = pytest.mark.anyio


def _client(app: ASGIApp, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    )


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length, as a client streaming chunked sends it."""
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["connection"] == "close"
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert error["details"] == []


class TestMiddleware:
    """BodyLimit around a small app that reads the whole body."""

    read: list[int]

    @pytest.fixture
    def limited(self) -> ASGIApp:
        self.read = []

        async def echo(scope: Scope, receive: Receive, send: Send) -> None:
            body = await Request(scope, receive).body()
            self.read.append(len(body))
            await JSONResponse({"bytes": len(body)})(scope, receive, send)

        return BodyLimit(echo, limit=lambda path: 1000 if path == "/small" else 10_000)

    async def test_a_body_within_the_limit_passes(self, limited: ASGIApp) -> None:
        async with _client(limited) as http:
            response = await http.post("/small", content=b"x" * 1000)
        assert response.json() == {"bytes": 1000}

    async def test_a_declared_length_over_the_limit_is_refused_unread(
        self, limited: ASGIApp
    ) -> None:
        async with _client(limited) as http:
            _assert_too_large(await http.post("/small", content=b"x" * 1001))
        assert self.read == []  # the app never saw the request

    async def test_a_chunked_body_is_cut_where_it_passes_the_limit(self, limited: ASGIApp) -> None:
        async with _client(limited) as http:
            _assert_too_large(await http.post("/small", content=_chunks(5000, size=100)))
            ok = await http.post("/large", content=_chunks(5000, size=100))
        assert ok.json() == {"bytes": 5000}

    async def test_the_message_follows_accept_language(self, limited: ASGIApp) -> None:
        async with _client(limited, **{"Accept-Language": "zh-CN"}) as http:
            response = await http.post("/small", content=b"x" * 2000)
        assert "请求体超过上限" in response.json()["error"]["message"]

    async def test_an_app_that_answers_anyway_is_overruled(self) -> None:
        async def careless(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await Request(scope, receive).body()
            except Exception:
                await Response("caught", 400)(scope, receive, send)

        async with _client(BodyLimit(careless, limit=lambda path: 10)) as http:
            _assert_too_large(await http.post("/", content=_chunks(100, size=5)))


class TestApp:
    async def test_a_large_task_body_without_a_token_is_413_not_401(self, app: FastAPI) -> None:
        body = json.dumps({"model": LTX, "params": {**LTX_PARAMS, "prompt": "x" * 2 * MB}})
        async with _client(app, **{"Content-Type": "application/json"}) as http:
            _assert_too_large(await http.post("/v1/tasks", content=body))
            _assert_too_large(await http.post("/v1/tasks", content=_chunks(2 * MB)))
            small = await http.post("/v1/tasks", content=json.dumps({"model": LTX}))
        assert small.status_code == 401

    async def test_uploads_have_their_own_limit(self, app: FastAPI) -> None:
        async with _client(app) as http:
            response = await http.post("/v1/uploads", files={"file": ("a.png", b"x" * 2 * MB)})
        assert response.status_code == 401  # over the JSON limit, within the upload limit

    async def test_the_limit_is_a_setting(self, tmp_path: Path) -> None:
        # A 413 is answered before routing: no lifespan is needed to see it.
        small = create_app(make_settings(tmp_path, max_body_mb=0.25))
        async with _client(small) as http:
            _assert_too_large(await http.post("/v1/estimates", content=b"x" * (MB // 4 + 1)))
            passed = await http.post("/healthz", content=b"x" * (MB // 4))
        assert passed.status_code == 405


class TestNoNulInUrl:
    @pytest.mark.parametrize(
        "path", ["/v1/tasks/%00", "/v1/tasks?model=a%00b", "/files/tsk_%00/0.png", "/v1/models/%00"]
    )
    async def test_a_nul_in_path_or_query_is_400(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("path", "policy"),
        [
            ("/healthz", "default-src 'none'; frame-ancestors 'none'"),
            ("/v1/nothing", "default-src 'none'; frame-ancestors 'none'"),
            ("/openapi.json", "default-src 'none'; frame-ancestors 'none'"),
            ("/studio/js/main.js", "default-src 'self'"),
            ("/studio/studio.css", "default-src 'self'"),
            ("/", "default-src 'self'"),
            ("/docs", "default-src 'self'"),
            ("/docs/assets/swagger-ui-bundle.js", "default-src 'self'"),
            ("/files/tsk_x/0.png", "sandbox"),
        ],
    )
    async def test_every_answer_has_nosniff_and_a_policy(
        self, client: httpx.AsyncClient, path: str, policy: str
    ) -> None:
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        [only] = response.headers.get_list("content-security-policy")
        assert policy in only

    async def test_a_guard_answer_has_them_too(self, app: FastAPI) -> None:
        async with _client(app) as http:
            response = await http.post("/v1/tasks", content=b"x" * 2 * MB)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"]
