"""`/docs`: Swagger UI from the package's own assets, under a policy that allows only 'self'."""

from __future__ import annotations

import re

import httpx
import pytest

from aipaint.apidocs.endpoints import ASSETS_DIR

pytestmark = pytest.mark.anyio


async def test_the_page_loads_only_same_origin_files(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert len(sources) == 4
    assert all(source.startswith("/docs/") for source in sources), sources
    assert "<script>" not in response.text  # no inline code: the policy would refuse it
    for source in sources:
        assert (await client.get(source)).status_code == 200, source


async def test_the_policy_allows_only_self(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/docs")).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert "script-src" not in directives
    assert "style-src" not in directives
    assert directives["img-src"] == "'self' data:"  # the stylesheet's icons, images only


async def test_the_assets_are_swagger_uis_own_distribution(client: httpx.AsyncClient) -> None:
    assert ASSETS_DIR.name.startswith("swagger-ui-5.")  # OpenAPI 3.1 needs Swagger UI 5
    served = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert served.content == (ASSETS_DIR / "swagger-ui-bundle.js").read_bytes()
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_no_cdn_page_is_left(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/openapi.json")).status_code == 200
