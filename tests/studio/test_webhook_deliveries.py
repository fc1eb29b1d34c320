"""A task's webhook deliveries in its card: each with its attempts, and sent again on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.stacks import wait_final
from tests.studio.conftest import Stack, finish, open_page
from tests.support import LTX, LTX_PARAMS
from tests.webhooks.support import Receiver


@pytest.fixture
def receiver(stack: Stack, tmp_path: Path) -> Iterator[Receiver]:
    with stack.server.http() as http:
        secret = http.get("/v1/webhooks/secret").json()["key"]
    started = Receiver(tmp_path, "500", stack.receiver_port).trust(secret).start()
    yield started
    started.kill()


def test_a_tasks_deliveries_and_send_again(
    browser: Browser, stack: Stack, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    with stack.server.http() as http:
        body = {"model": LTX, "params": LTX_PARAMS, "webhook_url": receiver.url}
        task = http.post("/v1/tasks", json=body).json()
        wait_final(http, task["id"])
    receiver.wait(lambda seen: len(seen) >= 1)
    page: Page
    page, console = open_page(browser, stack.url, stack.server.token)
    page.goto("/#/history")
    card = page.locator(f'.task-card[data-task="{task["id"]}"]')
    card.get_by_text("Webhook deliveries").click()
    row = card.locator(".delivery")
    expect(row).to_have_count(1)
    expect(row.locator("code")).to_have_text("task.succeeded")
    expect(row.locator(".attempts li").first).to_contain_text("500")
    row.get_by_role("button", name="Send again").click()
    expect(row.locator(".badge")).to_have_text("delivered", timeout=15000)
    expect(card.locator(".delivery .attempts li").last).to_contain_text("200")
    finish(page, console, request.node.name)
