"""The main screens in demo mode, at desktop and phone width, in zh and en, light and dark: each
checked, and each saved as a picture. `scripts/screenshots` writes them into docs/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.stacks import Server, demo_server, wait_all_final
from tests.studio.conftest import ARTIFACTS, DESKTOP, PHONE, finish, open_page
from tests.support import LTX, LTX_PARAMS

TEXT_TO_IMAGE = "alibaba/qwen-image-2.0/text-to-image"
SCREENS = Path(os.environ.get("AIPAINT_SCREENSHOTS", ARTIFACTS / "screens"))
BANNER = {"en": "Demo mode", "zh": "演示模式"}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo-mode server with a few finished tasks to show."""
    with demo_server(tmp_path_factory.mktemp("screens"), AIPAINT_DEMO_SPEED="200") as server:
        with server.http() as http:
            requests = [
                (TEXT_TO_IMAGE, {"prompt": "a lighthouse at dawn, watercolor"}),
                (LTX, LTX_PARAMS),
                (TEXT_TO_IMAGE, {"prompt": "a fox in the snow", "size": "1024*1536"}),
            ]
            ids = [
                http.post("/v1/tasks", json={"model": m, "params": p}).json()["id"]
                for m, p in requests
            ]
            wait_all_final(http, ids)
        yield server


def fits(page: Page) -> None:
    """Nothing is wider than the window: no sideways scrolling at phone width."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function(
        """() => [...document.images].every((img) => img.complete)
            && [...document.querySelectorAll("video")].every((video) => video.readyState >= 2)"""
    )
    page.screenshot(path=SCREENS / f"{name}.png")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_main_screens(
    browser: Browser, demo: Server, lang: str, size: str, scheme: Literal["light", "dark"]
) -> None:
    page, console = open_page(browser, demo.url, demo.token, SIZES[size], color_scheme=scheme)
    page.add_init_script(f"localStorage.setItem('aipaint.lang', '{lang}')")
    # The light pictures keep their plain names: the README and the docs show them.
    suffix = f"{size}-{lang}" + ("-dark" if scheme == "dark" else "")

    page.goto(f"/#/m/{TEXT_TO_IMAGE}")
    expect(page.locator("#banner")).to_contain_text(BANNER[lang])
    expect(page.locator(".estimate")).to_have_attribute("data-state", "known")
    expect(page.locator(".tasks-pane .badge[data-status='succeeded']")).to_have_count(3)
    expect(page.locator(".tasks-pane .output img")).to_have_count(2)
    fits(page)
    shoot(page, f"studio-{suffix}")

    page.goto("/#/history")
    expect(page.locator(".history-grid .task-card")).to_have_count(3)
    expect(page.locator(".history-grid .output video")).to_have_count(1)
    fits(page)
    shoot(page, f"history-{suffix}")

    page.evaluate("localStorage.removeItem('aipaint.token')")
    page.goto("/")
    expect(page.locator("#token")).to_be_visible()
    fits(page)
    shoot(page, f"sign-in-{suffix}")
    finish(page, console, f"screens-{suffix}")
