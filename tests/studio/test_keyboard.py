"""The studio without a mouse: pick a model, fill its form and submit with the keyboard alone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.studio.conftest import Stack, submit, task_card
from tests.support import LTX


def focused(page: Page) -> str:
    """What has the focus: its data-control, id, or text."""
    return str(
        page.evaluate(
            """() => {
                const el = document.activeElement;
                return el.dataset.control || el.id || el.textContent.trim();
            }"""
        )
    )


def test_keyboard_alone_reaches_every_control_and_submits(page: Page, stack: Stack) -> None:
    page.locator("#model-search").focus()
    page.keyboard.type("ltx-2.3/text-to-video")
    page.keyboard.press("Enter")  # opens the first model found
    expect(page.locator(".model-head code")).to_have_text(LTX)

    page.locator('[data-param="prompt"] textarea').focus()
    page.keyboard.type("a bird over a city")
    page.keyboard.press("Tab")  # the first choice of resolution
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the first choice of aspect ratio
    page.keyboard.press("ArrowRight")  # moves along the radio group, choosing as it goes
    page.keyboard.press("Tab")
    assert focused(page) == "duration"
    outline = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none"  # the focus is visible
    page.keyboard.type("6")
    task_id = submit(page, lambda: page.keyboard.press("Enter"))  # Enter submits the form

    expect(task_card(page, task_id).locator(".task-title")).to_have_text("LTX 2.3 · Text to Video")
    task = stack.get(f"/v1/tasks/{task_id}")
    schema = stack.get(f"/v1/models/{LTX}")["schema"]["properties"]
    assert task["params"] == {
        "prompt": "a bird over a city",
        "resolution": schema["resolution"]["enum"][0],
        "aspectRatio": schema["aspectRatio"]["enum"][1],
        "duration": 6,
    }
