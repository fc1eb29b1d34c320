"""JSON bodies are parsed strictly: what the rest of the system cannot carry is a 422, not a 500."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from aipaint.requests import StrictJSONRoute
from tests.support import LTX

pytestmark = pytest.mark.anyio

PARAMS = b'"resolution": "720p", "aspectRatio": "16:9", "duration": 5'


@pytest.mark.parametrize("path", ["/v1/tasks", "/v1/estimates"])
@pytest.mark.parametrize(
    "body",
    [
        # A lone surrogate: no character, so it cannot be encoded, stored or sent on.
        b'{"model": "%s", "params": {"prompt": "\\ud800", %s}}' % (LTX.encode(), PARAMS),
        b'{"model": "%s", "params": {"\\udc00": 1}}' % LTX.encode(),
        b'{"model": "\\ud800"}',
        b'{"model": "%s", "params": {"prompt": NaN}}' % LTX.encode(),
        b'{"model": "%s", "params": ' % LTX.encode() + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
async def test_unrepresentable_json_is_422(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["code"] == "json_invalid"


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            yield from _api_routes(included.routes)


async def test_every_route_with_a_json_body_parses_it_strictly(app: FastAPI) -> None:
    with_body = [
        route
        for route in _api_routes(app.routes)
        if route.body_field is not None and route.path != "/v1/uploads"  # a streamed form
    ]
    assert {route.path for route in with_body} >= {"/v1/tasks", "/v1/estimates"}
    assert all(isinstance(route, StrictJSONRoute) for route in with_body), with_body
