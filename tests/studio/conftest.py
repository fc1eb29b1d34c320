"""Browser tests of the web studio: Debian's Chromium driven by Playwright, against a real
`aipaint serve` and `aipaint simulator`, each its own process on loopback.

Every test saves a screenshot of where it ended under `test-artifacts/studio/` (CI keeps the
folder as an artifact), and fails if the page logged an error.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect, sync_playwright

from aipaint.kit.background_server import free_port
from tests.stacks import Server, Simulator, server, simulator

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("AIPAINT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("AIPAINT_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "studio"
# As root, and on a machine whose network stops at loopback: no sandbox, no background calls home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FINAL = ("succeeded", "failed", "canceled")
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# The browser logs every 4xx answer as a console error; the studio asks for some on purpose
# (price estimates of an unfinished form, a wrong token), so those are not page errors.
EXPECTED_HTTP_ERROR = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d"
)
# Simulated minutes last a fifth of a second: a task is seen live, then done, within a test.
SIMULATOR_SPEED = "300"
# The studio starts in English unless a test switches it; it keeps the token it is given.
INIT_SCRIPT = """
if (!localStorage.getItem("aipaint.lang")) localStorage.setItem("aipaint.lang", "en");
if (%(token)s && !sessionStorage.getItem("signed-in")) {
  localStorage.setItem("aipaint.token", %(token)s);
  sessionStorage.setItem("signed-in", "1");
}
"""


@dataclass
class Stack:
    server: Server
    sim: Simulator
    # A port the server trusts as a webhook target: a test's receiver listens on it.
    receiver_port: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, **query: Any) -> Any:
        with self.server.http() as http:
            return http.get(path, params=query).raise_for_status().json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        with self.server.http() as http:
            return http.post(path, json=body).raise_for_status().json()

    def faults(self, **rates: float) -> None:
        self.sim.faults(**rates)


@dataclass
class Console:
    """What the page logged as an error, minus the HTTP answers it asked for on purpose."""

    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not EXPECTED_HTTP_ERROR.search(message.text):
            self.errors.append(message.text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("studio")
    port = free_port()
    trusted = f'["127.0.0.1:{port}"]'
    with (
        simulator(tmp, "--speed", SIMULATOR_SPEED) as sim,
        server(tmp, sim, AIPAINT_TRUSTED_HOSTS=trusted) as srv,
    ):
        yield Stack(srv, sim, port)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package scope: Playwright's sync API keeps an event loop of its own, closed before the
    # rest of the suite (whose async tests start theirs) runs.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def open_page(
    browser: Browser,
    url: str,
    token: str | None,
    viewport: dict[str, int] = DESKTOP,
    color_scheme: Literal["light", "dark"] = "light",
) -> tuple[Page, Console]:
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        base_url=url,
        color_scheme=color_scheme,
    )
    context.set_default_timeout(15_000)
    context.add_init_script(INIT_SCRIPT % {"token": json.dumps(token)})
    page = context.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_page_error)
    return page, console


def finish(page: Page, console: Console, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    page.context.close()
    assert console.errors == [], console.errors


@pytest.fixture
def page(browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A signed-in studio page, in English, at desktop width."""
    opened, console = open_page(browser, stack.url, stack.server.token)
    opened.goto("/")
    expect(opened.locator(".model-card")).to_be_visible()
    yield opened
    finish(opened, console, request.node.name)


def choose_model(page: Page, model_id: str) -> None:
    """Find a model with the picker's search and open it."""
    toggle = page.locator(".picker-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()  # at phone width the picker folds away
    page.fill("#model-search", model_id)
    page.locator(f'li[data-model="{model_id}"] .model-option').click()
    expect(page.locator(".model-head code")).to_have_text(model_id)


def task_card(page: Page, task_id: str) -> Locator:
    return page.locator(f'.tasks-pane .task-card[data-task="{task_id}"]')


def submit(page: Page, press: Callable[[], None] | None = None) -> str:
    """Press Generate (or do `press`); the id of the task card that appears for it."""
    cards = page.locator(".tasks-pane .task-card")
    before = {cards.nth(i).get_attribute("data-task") for i in range(cards.count())}
    if press is None:
        page.get_by_role("button", name="Generate", exact=True).click()
    else:
        press()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        newest = cards.first.get_attribute("data-task") if cards.count() else None
        if newest and newest not in before:
            return newest
        time.sleep(0.02)
    raise AssertionError("no task card appeared after Generate")


def watch(page: Page, task_id: str, timeout: float = 60) -> list[str]:
    """The statuses a task's card shows, in order, until it is final."""
    badge = task_card(page, task_id).locator(".badge")
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = badge.get_attribute("data-status")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        if status in FINAL:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"task not final after {timeout} s; seen {seen}")


def upload_still(page: Page, directory: Path, param: str) -> None:
    """Put a small PNG into the upload field of `param` and wait until it is uploaded."""
    still = directory / "still.png"
    Image.new("RGB", (640, 360), (200, 120, 40)).save(still)
    field = page.locator(f'[data-param="{param}"]')
    field.locator('input[type="file"]').set_input_files(still)
    expect(field.locator(".preview.done img")).to_be_visible()
