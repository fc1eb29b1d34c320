"""Results first: cards that tell tasks apart (prompt, model, when, how long, cost, settings), a
task's detail view, tasks compared side by side, share links and downloads named after the task.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.studio.conftest import ARTIFACTS, Stack, finish, open_page
from tests.studio.test_theme import WORST_CONTRAST
from tests.support import LTX, LTX_PARAMS
from tests.webhooks.support import Receiver

TEXT_TO_IMAGE = "alibaba/qwen-image-2.0/text-to-image"
TWO_IMAGES = "alibaba/wan-2.5-preview/text-to-image"
WIDTHS = {"desktop": 1440, "laptop": 1024, "phone": 390}


@dataclass
class Results:
    token: str
    kite: dict[str, Any]  # LTX, a two-line prompt, a webhook
    bird: dict[str, Any]  # LTX, the standard params
    still: dict[str, Any]  # text to image, two images
    failed: dict[str, Any]  # text to image, failed upstream
    canceled: dict[str, Any]  # text to image, canceled while running: no charge recorded


def archived(http: httpx.Client, task_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = http.get(f"/v1/tasks/{task_id}").json()
        done = task["status"] in ("succeeded", "failed", "canceled")
        if done and all(output["archived"] for output in task["outputs"]):
            return task
        assert time.monotonic() < deadline, f"task {task_id} not archived: {task}"
        time.sleep(0.05)


def running(http: httpx.Client, task_id: str, timeout: float = 30) -> None:
    """Wait until the task is on RunningHub (it has an upstream id)."""
    deadline = time.monotonic() + timeout
    while not http.get(f"/v1/tasks/{task_id}").json()["upstream_task_id"]:
        assert time.monotonic() < deadline, f"task {task_id} never reached RunningHub"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def results(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Results:
    user = stack.server.new_token("results")
    with stack.server.http(user) as http:
        secret = http.get("/v1/webhooks/secret").json()["key"]
        receiver = Receiver(tmp_path_factory.mktemp("hooks"), "200", stack.receiver_port)
        receiver.trust(secret).start()
        try:
            kite_params = {**LTX_PARAMS, "prompt": "a red kite at dusk\nsecond line, not shown"}
            body = {"model": LTX, "params": kite_params, "webhook_url": receiver.url}
            kite = http.post("/v1/tasks", json=body).json()["id"]
            bird = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()["id"]
            params = {"prompt": "a still life", "size": "1104*1472", "n": 2}
            still = http.post("/v1/tasks", json={"model": TWO_IMAGES, "params": params})
            done = [archived(http, task_id) for task_id in (kite, bird, still.json()["id"])]
            stack.faults(failed_rate=1)
            try:
                failed = http.post(
                    "/v1/tasks", json={"model": TEXT_TO_IMAGE, "params": {"prompt": "a storm"}}
                )
                failed_task = archived(http, failed.json()["id"])
            finally:
                stack.faults()
            stack.faults(stuck_rate=1)
            try:
                stuck = http.post(
                    "/v1/tasks", json={"model": TEXT_TO_IMAGE, "params": {"prompt": "a calm"}}
                ).json()
                running(http, stuck["id"])
                http.post(f"/v1/tasks/{stuck['id']}/cancel").raise_for_status()
                canceled = archived(http, stuck["id"])
            finally:
                stack.faults()
            receiver.wait(lambda seen: len(seen) >= 1)
        finally:
            receiver.kill()
    return Results(user, done[0], done[1], done[2], failed_task, canceled)


@pytest.fixture
def history(
    browser: Browser, stack: Stack, results: Results, request: pytest.FixtureRequest
) -> Iterator[Page]:
    page, console = open_page(browser, stack.url, results.token)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    page.goto("/#/history")
    expect(page.locator(".history-grid .task-card")).to_have_count(5)
    yield page
    finish(page, console, request.node.name)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def card(page: Page, task: dict[str, Any]) -> Any:
    return page.locator(f'.history-grid .task-card[data-task="{task["id"]}"]')


def title(stack: Stack, model: str, lang: str = "en") -> str:
    (found,) = [m for m in stack.get("/v1/models")["models"] if m["id"] == model]
    return str(found["title"][lang])


def test_a_card_tells_its_task_apart(history: Page, stack: Stack, results: Results) -> None:
    kite = card(history, results.kite)
    expect(kite.locator(".task-title")).to_have_text(title(stack, LTX))
    expect(kite.locator(".task-prompt")).to_have_text("a red kite at dusk")
    when = kite.locator("time.task-when")
    expect(when).to_have_attribute("datetime", results.kite["created_at"])
    expect(when).to_have_text(re.compile(r"ago|now"))
    assert re.search(r"\d{1,2}:\d{2}:\d{2}", when.get_attribute("title") or "")
    expect(kite.locator(".clock")).to_contain_text("took")
    money = results.kite["usage"]["money"]
    assert money
    cost = kite.locator(".task-cost")
    expect(cost).to_have_attribute("data-source", "recorded")
    expect(cost).to_have_text(f"¥{money}")
    expect(kite.locator(".task-settings li")).to_have_text(["720p", "16:9", "5s"])
    expect(kite.locator("video")).to_have_attribute("preload", "metadata")

    still = card(history, results.still)
    expect(still.locator(".task-title")).to_have_text(title(stack, TWO_IMAGES))
    expect(still.locator(".task-settings li")).to_have_text(["1104*1472", "×2"])
    expect(still.locator(".output img")).to_have_count(2)

    # No charge recorded: the estimate stands in, marked as one.
    storm = card(history, results.failed)
    expect(storm.locator(".task-error")).to_be_visible()
    calm = card(history, results.canceled)
    assert not (results.canceled["usage"] or {}).get("money")
    estimate = stack.post("/v1/estimates", {"model": TEXT_TO_IMAGE, "params": {"prompt": "x"}})
    cost = calm.locator(".task-cost")
    expect(cost).to_have_attribute("data-source", "estimate")
    expect(cost).to_have_text(f"est. ¥{estimate['total']}")

    history.select_option("#lang", "zh")
    expect(kite.locator(".task-title")).to_have_text(title(stack, LTX, "zh"))
    expect(when).to_have_text(re.compile(r"前|现在"))
    assert "年" in (when.get_attribute("title") or "")
    expect(kite.locator(".clock")).to_contain_text("用时")
    expect(calm.locator(".task-cost")).to_have_text(f"预估 ¥{estimate['total']}")


def test_a_task_refused_before_reaching_runninghub_says_it_was_not_charged(
    page: Page, stack: Stack
) -> None:
    stack.faults(moderation_rate=1)  # RunningHub refuses the submit: no task is created
    try:
        task = stack.post("/v1/tasks", {"model": TEXT_TO_IMAGE, "params": {"prompt": "a gale"}})
        with stack.server.http() as http:
            refused = archived(http, task["id"])
    finally:
        stack.faults()
    assert refused["status"] == "failed", refused
    assert refused["upstream_task_id"] is None, refused
    page.goto(f"/#/task/{refused['id']}")
    cost = page.locator(f'.task-detail[data-task="{refused["id"]}"] .task-cost')
    expect(cost).to_have_attribute("data-source", "none")
    expect(cost).to_have_text("Not charged")


def test_the_detail_view_has_every_param_output_and_delivery(
    history: Page, results: Results
) -> None:
    card(history, results.kite).get_by_role("link", name="Details").click()
    assert history.evaluate("location.hash") == f"#/task/{results.kite['id']}"
    detail = history.locator(f'.task-detail[data-task="{results.kite["id"]}"]')
    expect(detail.locator(".detail-head .badge")).to_have_attribute("data-status", "succeeded")
    rows = detail.locator(".params-table tr")
    expect(rows).to_have_count(len(results.kite["params"]))
    for key, value in results.kite["params"].items():
        expect(detail.locator(f'.params-table tr[data-param="{key}"] td')).to_have_text(str(value))
    expect(detail.locator(".detail-outputs figure.output")).to_have_count(
        len(results.kite["outputs"])
    )
    expect(detail.locator(".detail-outputs a.download")).to_have_count(len(results.kite["outputs"]))
    delivery = detail.locator(".delivery")
    expect(delivery).to_have_count(1)
    expect(delivery.locator("code")).to_have_text("task.succeeded")
    expect(delivery.locator(".badge")).to_have_text("delivered")

    history.goto(f"/#/task/{results.still['id']}")
    detail = history.locator(f'.task-detail[data-task="{results.still["id"]}"]')
    expect(detail.locator(".detail-outputs .output img")).to_have_count(2)
    expect(detail.locator(".params-table tr")).to_have_count(3)
    expect(detail).to_contain_text("This task has no webhook.")

    history.goto(f"/#/task/{results.failed['id']}")
    detail = history.locator(f'.task-detail[data-task="{results.failed["id"]}"]')
    expect(detail.locator(".detail-head .badge")).to_have_attribute("data-status", "failed")
    expect(detail.locator(".task-error")).to_contain_text(results.failed["error"]["code"])


def test_compare_two_tasks_marks_the_params_that_differ(history: Page, results: Results) -> None:
    compare = history.get_by_role("button", name="Compare")
    expect(compare).to_be_hidden()
    card(history, results.kite).locator(".task-select").check()
    expect(compare).to_be_disabled()
    card(history, results.bird).locator(".task-select").check()
    expect(history.locator(".compare-count")).to_have_text("2 selected")
    compare.click()

    table = history.locator(".compare-table")
    expect(table.locator("thead th[data-task]")).to_have_count(2)
    for task in (results.kite, results.bird):
        expect(table.locator(f'thead th[data-task="{task["id"]}"]')).to_be_visible()
    expect(table.locator(".compare-outputs video")).to_have_count(2)
    prompt = table.locator('tr[data-param="prompt"]')
    expect(prompt).to_have_attribute("data-differs", "true")
    expect(prompt).to_have_class(re.compile(r"\bdiffers\b"))
    expect(prompt.locator("td")).to_have_text(
        [results.kite["params"]["prompt"], results.bird["params"]["prompt"]]
    )
    expect(table.locator('tr[data-param="resolution"]')).to_have_attribute("data-differs", "false")
    expect(table.locator("tr.differs")).to_have_count(1)


def test_copy_share_link_gives_the_signed_file(
    history: Page, stack: Stack, results: Results
) -> None:
    (output,) = results.kite["outputs"]
    kite = card(history, results.kite)
    kite.get_by_role("button", name="Copy share link").click()
    expect(kite.locator(".share")).to_have_text("Link copied")
    copied = history.evaluate("navigator.clipboard.readText()")
    # The link the API gave with the page's answer (a signature is renewed as time goes by).
    shown = kite.locator("a.download").get_attribute("href") or ""
    assert shown.split("?")[0] == output["url"].split("?")[0]
    assert copied == f"{stack.url}{shown}"
    assert "sig=" in copied
    assert "expires=" in copied
    fetched = httpx.get(copied)  # the link alone, no token
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == output["sha256"]


def test_downloads_are_named_after_model_and_task(
    history: Page, results: Results, tmp_path: Path
) -> None:
    task = results.still
    name = f"alibaba-wan-2.5-preview-text-to-image_{task['id']}"
    with history.expect_download() as info:
        card(history, task).locator("a.download").first.click()
    download = info.value
    assert download.suggested_filename == f"{name}_0.png"
    download.save_as(tmp_path / download.suggested_filename)
    saved = (tmp_path / download.suggested_filename).read_bytes()
    assert hashlib.sha256(saved).hexdigest() == task["outputs"][0]["sha256"]

    history.goto(f"/#/task/{task['id']}")
    links = history.locator(f'.task-detail[data-task="{task["id"]}"] .detail-outputs a.download')
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("download", f"{name}_0.png")
    expect(links.nth(1)).to_have_attribute("download", f"{name}_1.png")
    with history.expect_download() as info:
        links.nth(1).click()
    assert info.value.suggested_filename == f"{name}_1.png"

    video = f"rhart-video-ltx-2.3-text-to-video_{results.kite['id']}_0.mp4"
    history.goto(f"/#/task/{results.kite['id']}")
    detail = history.locator(f'.task-detail[data-task="{results.kite["id"]}"]')
    expect(detail.locator(".detail-outputs a.download")).to_have_attribute("download", video)


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_results_pages_fit_the_width(
    browser: Browser,
    stack: Stack,
    results: Results,
    size: str,
    lang: str,
    request: pytest.FixtureRequest,
) -> None:
    viewport = {"width": WIDTHS[size], "height": 900}
    page, console = open_page(browser, stack.url, results.token, viewport)
    page.add_init_script(f"localStorage.setItem('aipaint.lang', '{lang}')")
    fits = "document.documentElement.scrollWidth <= window.innerWidth"

    page.goto("/#/history")
    expect(page.locator(".history-grid .task-card")).to_have_count(5)
    expect(page.locator(".history-grid .task-cost:visible")).to_have_count(5)
    page.locator(".task-select").first.check()
    page.locator(".task-select").nth(1).check()
    assert page.evaluate(fits)
    shot(page, f"results-history-{size}-{lang}")

    page.goto(f"/#/task/{results.kite['id']}")
    expect(page.locator(".task-detail .delivery")).to_have_count(1)
    assert page.evaluate(fits)
    shot(page, f"results-task-{size}-{lang}")

    ids = ",".join(task["id"] for task in (results.kite, results.still, results.failed))
    page.goto(f"/#/compare/{ids}")
    expect(page.locator(".compare-table thead th[data-task]")).to_have_count(3)
    assert page.evaluate(fits)
    finish(page, console, f"results-compare-{size}-{lang}")


def test_the_detail_view_follows_a_running_task(
    browser: Browser, stack: Stack, request: pytest.FixtureRequest
) -> None:
    user = stack.server.new_token("running")
    page, console = open_page(browser, stack.url, user)
    stack.faults(stuck_rate=1)
    try:
        with stack.server.http(user) as http:
            task = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
            page.goto(f"/#/task/{task['id']}")
            detail = page.locator(f'.task-detail[data-task="{task["id"]}"]')
            expect(detail.locator(".detail-head .badge")).to_have_attribute(
                "data-status", "running"
            )
            expect(detail.locator(".clock")).to_contain_text("elapsed")
            http.post(f"/v1/tasks/{task['id']}/cancel").raise_for_status()
    finally:
        stack.faults()
    expect(detail.locator(".detail-head .badge")).to_have_attribute("data-status", "canceled")
    expect(detail.locator(".clock")).to_contain_text("took")
    finish(page, console, request.node.name)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_results_pages_stay_readable_in_both_schemes(
    browser: Browser,
    stack: Stack,
    results: Results,
    scheme: Literal["light", "dark"],
    request: pytest.FixtureRequest,
) -> None:
    page, console = open_page(browser, stack.url, results.token, color_scheme=scheme)
    page.goto("/#/history")
    expect(page.locator(".history-grid .task-cost:visible")).to_have_count(5)
    page.locator(".task-select").first.check()
    page.locator(".task-select").nth(1).check()
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst

    page.goto(f"/#/task/{results.kite['id']}")
    expect(page.locator(".task-detail .delivery")).to_have_count(1)
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst

    page.goto(f"/#/compare/{results.kite['id']},{results.still['id']}")
    expect(page.locator(".compare-table tr.differs").first).to_be_visible()
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst
    finish(page, console, f"results-{scheme}")
