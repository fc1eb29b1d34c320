"""History and gallery: filter by model and status, pages, outputs in place, "run again"."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from aipaint.catalog.examples import sample_params
from aipaint.catalog.service import Catalog
from tests.stacks import wait_all_final
from tests.studio.conftest import Stack, finish, open_page
from tests.support import LTX, LTX_PARAMS

TEXT_TO_IMAGE = "alibaba/qwen-image-2.0/text-to-image"


@pytest.fixture
def history(browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A user of its own, with 11 finished LTX tasks, 3 text-to-image ones and 1 canceled."""
    user = stack.server.new_token("history")
    with stack.server.http(user) as http:
        ids = [
            http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()["id"]
            for _ in range(11)
        ]
        ids += [
            http.post(
                "/v1/tasks",
                json={"model": TEXT_TO_IMAGE, "params": {"prompt": f"still life no. {n}"}},
            ).json()["id"]
            for n in range(3)
        ]
        wait_all_final(http, ids)
        stack.faults(stuck_rate=1)
        try:
            stuck = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
            http.post(f"/v1/tasks/{stuck['id']}/cancel").raise_for_status()
        finally:
            stack.faults()
    page, console = open_page(browser, stack.url, user)
    page.goto("/#/history")
    yield page
    finish(page, console, request.node.name)


def test_history_pages_and_filters(history: Page) -> None:
    cards = history.locator(".history-grid .task-card")
    expect(cards).to_have_count(12)  # one page
    history.get_by_role("button", name="Load more").click()
    expect(cards).to_have_count(15)
    expect(history.get_by_role("button", name="Load more")).to_be_hidden()

    history.get_by_label("Model").select_option(TEXT_TO_IMAGE)
    expect(cards).to_have_count(3)
    expect(history.locator(".history-grid .badge")).to_have_text(["succeeded"] * 3)
    expect(history.locator(".history-grid .output img")).to_have_count(3)

    history.get_by_label("Model").select_option("")
    history.get_by_label("Status").select_option("canceled")
    expect(cards).to_have_count(1)
    expect(cards.locator(".badge")).to_have_text("canceled")

    history.get_by_label("Model").select_option(TEXT_TO_IMAGE)
    expect(history.locator(".history-grid")).to_contain_text("No task matches.")


def test_outputs_play_in_place_and_run_again_fills_the_form(history: Page) -> None:
    video = history.locator(".history-grid figure.output-mp4").first
    expect(video.locator("video")).to_be_visible()
    expect(video.locator("a.download")).to_have_attribute(
        "href", video.locator("video").get_attribute("src") or ""
    )
    video.locator("video").scroll_into_view_if_needed()
    history.wait_for_function("v => v.readyState >= 1", arg=video.locator("video").element_handle())
    assert video.locator("video").evaluate("v => v.duration") > 0

    history.get_by_label("Model").select_option(TEXT_TO_IMAGE)
    oldest = history.locator(".history-grid .task-card").last
    expect(oldest).to_contain_text("succeeded")
    oldest.get_by_role("button", name="Run again").click()

    expect(history.locator(".model-head code")).to_have_text(TEXT_TO_IMAGE)
    expect(history.locator('[data-param="prompt"] textarea')).to_have_value("still life no. 0")
    assert history.evaluate("location.hash") == f"#/m/{TEXT_TO_IMAGE}"


def test_every_kind_of_output_is_shown_in_place(
    browser: Browser, stack: Stack, catalog: Catalog, request: pytest.FixtureRequest
) -> None:
    user = stack.server.new_token("outputs")
    kinds = {
        "audio": "minimax/voice-design",
        "text": "kling-lip-sync/tts",
        "3d": "meshy6/text-to-3d",
    }
    with stack.server.http(user) as http:
        ids = {
            kind: http.post(
                "/v1/tasks",
                json={"model": model, "params": sample_params(catalog.get(model))},
            ).json()["id"]
            for kind, model in kinds.items()
        }
        done = wait_all_final(http, list(ids.values()))
    page, console = open_page(browser, stack.url, user)
    page.goto("/#/history")

    audio = page.locator(f'.task-card[data-task="{ids["audio"]}"] audio')
    expect(audio).to_have_count(1)
    page.wait_for_function(
        "a => a.readyState >= 1 || (a.load(), false)", arg=audio.element_handle()
    )
    assert audio.evaluate("a => a.duration") > 0

    (text_output,) = done[ids["text"]]["outputs"]
    shown = page.locator(f'.task-card[data-task="{ids["text"]}"] .output-text')
    expect(shown).to_have_text(text_output["text"])

    (model_file,) = done[ids["3d"]]["outputs"]
    glb = page.locator(f'.task-card[data-task="{ids["3d"]}"] figure.output')
    expect(glb.locator(".file-chip")).to_contain_text(model_file["type"].upper())
    href = glb.get_by_role("link", name="Download").get_attribute("href") or ""
    assert href.split("?")[0] == model_file["url"].split("?")[0]
    fetched = httpx.get(f"{stack.url}{href}")  # the signed link alone, no token: as a browser
    assert hashlib.sha256(fetched.content).hexdigest() == model_file["sha256"]
    finish(page, console, request.node.name)
