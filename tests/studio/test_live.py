"""Live task cards: progress from past run times, cancel, and an upstream failure explained."""

from __future__ import annotations

from playwright.sync_api import Page, Request, expect

from tests.stacks import wait_final
from tests.studio.conftest import Stack, choose_model, submit, task_card, watch
from tests.support import LTX, LTX_PARAMS

TEXT_TO_IMAGE = "alibaba/qwen-image-2.0/text-to-image"


def test_a_running_task_shows_progress_and_can_be_canceled(page: Page, stack: Stack) -> None:
    with stack.server.http() as http:
        done = http.post("/v1/tasks", json={"model": TEXT_TO_IMAGE, "params": {"prompt": "x"}})
        wait_final(http, done.json()["id"])
    usual = stack.get("/v1/run-times", model=TEXT_TO_IMAGE)
    assert usual["samples"] >= 1

    choose_model(page, TEXT_TO_IMAGE)
    page.locator('[data-param="prompt"] textarea').fill("x")
    stack.faults(stuck_rate=1)
    try:
        task_id = submit(page)
        card = task_card(page, task_id)
        expect(card.locator(".badge")).to_have_text("running")
        expect(card.locator(".clock")).to_contain_text("elapsed")
        expect(card.locator(".clock")).to_contain_text("usually takes")
        progress = card.locator("progress")
        page.wait_for_function("bar => Number(bar.value) > 0", arg=progress.element_handle())
        assert 0 < int(progress.get_attribute("value") or 0) <= 95

        card.get_by_role("button", name="Cancel").click()
        expect(card.locator(".badge")).to_have_text("canceled")
        expect(card.get_by_role("button", name="Cancel")).to_have_count(0)
    finally:
        stack.faults()
    assert stack.get(f"/v1/tasks/{task_id}")["status"] == "canceled"


def test_a_failed_task_shows_its_error_and_upstream_code(page: Page, stack: Stack) -> None:
    choose_model(page, TEXT_TO_IMAGE)
    page.locator('[data-param="prompt"] textarea').fill("x")
    stack.faults(failed_rate=1)
    try:
        task_id = submit(page)
        assert watch(page, task_id)[-1] == "failed"
    finally:
        stack.faults()
    error = stack.get(f"/v1/tasks/{task_id}")["error"]
    box = task_card(page, task_id).locator(".task-error")
    expect(box.locator("strong")).to_have_text(error["code"])
    expect(box.locator(".upstream-code")).to_have_text(f"RunningHub code {error['upstream_code']}")
    expect(box.locator("p")).to_have_text(error["message"])


def test_many_live_tasks_leave_connections_for_the_rest_of_the_page(
    page: Page, stack: Stack
) -> None:
    streams: set[str] = set()
    peak = 0

    def opened(request: Request) -> None:
        nonlocal peak
        if request.url.endswith("/events"):
            streams.add(request.url)
            peak = max(peak, len(streams))

    def closed(request: Request) -> None:
        streams.discard(request.url)

    page.on("request", opened)
    page.on("requestfinished", closed)
    page.on("requestfailed", closed)
    stack.faults(stuck_rate=1)
    try:
        with stack.server.http() as http:
            ids = [
                http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()["id"]
                for _ in range(6)
            ]
        page.reload()
        for task_id in ids:
            expect(task_card(page, task_id).locator(".badge")).to_have_text("running")
        choose_model(page, TEXT_TO_IMAGE)  # the page still gets its answers
        expect(page.locator(".estimate")).to_have_attribute("data-state", "known")
        with stack.server.http() as http:
            for task_id in ids:
                http.post(f"/v1/tasks/{task_id}/cancel").raise_for_status()
        for task_id in ids:  # streamed or read every 2 s, each card sees it
            expect(task_card(page, task_id).locator(".badge")).to_have_text("canceled")
    finally:
        stack.faults()
    assert 1 <= peak <= 3
