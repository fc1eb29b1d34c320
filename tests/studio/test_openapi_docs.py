"""`/docs` in the browser: Swagger UI renders the API from the package's own assets, on the
studio's origin, with no request leaving it and nothing the page's policy had to block.

(Named to sort after test_endpoints.py: this package's async tests must run before its browser
tests, whose Playwright loop stays open until the package ends; see conftest.py.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, Request, expect

from tests.studio.conftest import Stack, finish, open_page


def test_swagger_ui_renders_from_this_origin_only(browser: Browser, stack: Stack) -> None:
    page, console = open_page(browser, stack.url, None)
    origins: set[str] = set()

    def record(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https"):
            origins.add(f"{parts.scheme}://{parts.netloc}")

    page.on("request", record)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("aipaint")
    expect(page.locator(".opblock-summary-path", has_text="/v1/tasks").first).to_be_visible()
    assert origins == {stack.url}
    finish(page, console, "api-docs")  # fails on any console error, CSP violations included
