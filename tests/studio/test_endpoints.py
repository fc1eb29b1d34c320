"""The studio's files as served: the page, its headers, and every module it imports."""

from __future__ import annotations

import re

import httpx
import pytest

from aipaint.studio.endpoints import STATIC_DIR

pytestmark = pytest.mark.anyio

IMPORT = re.compile(r"""^import .* from "\./([\w-]+\.js)";$""", re.MULTILINE)


async def test_the_page_is_served_at_the_root_with_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/studio/js/main.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src" not in policy  # scripts fall back to 'self': no inline code runs
    assert (await client.head("/")).status_code == 200


async def test_every_module_the_page_imports_is_served(client: httpx.AsyncClient) -> None:
    modules = sorted(path.name for path in (STATIC_DIR / "js").glob("*.js"))
    imported = {"main.js"}
    for name in modules:
        imported |= set(IMPORT.findall((STATIC_DIR / "js" / name).read_text()))
    assert imported == set(modules)  # no module missing, none left unused
    for name in [*modules, "../studio.css"]:
        response = await client.get(f"/studio/js/{name}")
        assert response.status_code == 200, name
    assert (
        (await client.get("/studio/js/main.js"))
        .headers["content-type"]
        .startswith("text/javascript")
    )


async def test_the_studio_does_not_shadow_the_api(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/studio/../pyproject.toml")).status_code == 404
