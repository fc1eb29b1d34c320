"""Errors next to their field: the server's own messages, and file checks before any upload."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, Request, expect

from tests.studio.conftest import Stack, choose_model, submit, watch
from tests.support import LTX

DREAMACTOR = "bytedance/dreamactor-v2"  # imageUrl: JPG / JPEG / PNG, at most 5 MB
IMAGE_EDIT = "alibaba/qwen-image-2.0/image-edit"  # imageUrls: a list of at most 3 images


def png(path: Path, color: tuple[int, int, int] = (30, 90, 160)) -> Path:
    Image.new("RGB", (320, 240), color).save(path)
    return path


def test_a_bad_value_shows_the_servers_error_next_to_its_field(page: Page, stack: Stack) -> None:
    choose_model(page, LTX)
    page.locator('[data-param="prompt"] textarea').fill("a bird over a city")
    page.locator('[data-param="resolution"] label', has_text="720p").click()
    page.locator('[data-param="aspectRatio"] label', has_text="16:9").click()
    page.locator('[data-param="duration"] input[type="number"]').fill("99")
    tasks_before = len(stack.get("/v1/tasks", limit=100)["tasks"])

    page.get_by_role("button", name="Generate", exact=True).click()

    params = {"prompt": "a bird over a city", "resolution": "720p", "aspectRatio": "16:9"}
    with stack.server.http() as http:
        refused = http.post("/v1/tasks", json={"model": LTX, "params": {**params, "duration": 99}})
    assert refused.status_code == 422
    (detail,) = refused.json()["error"]["details"]
    field = page.locator('[data-param="duration"]')
    expect(field.locator(".field-error")).to_have_text(detail["message"])
    expect(field).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator(".form-error").first).to_have_text("Fix the marked fields.")
    # The other fields are fine, and no task was created.
    expect(page.locator('[data-param="prompt"] .field-error')).to_be_hidden()
    assert len(stack.get("/v1/tasks", limit=100)["tasks"]) == tasks_before

    # Fixed, the same form goes through and the error goes away.
    page.locator('[data-param="duration"] input[type="number"]').fill("10")
    task_id = submit(page)
    expect(field.locator(".field-error")).to_be_hidden()
    assert watch(page, task_id)[-1] == "succeeded"
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["duration"] == 10


def test_files_are_checked_before_anything_is_sent(page: Page, tmp_path: Path) -> None:
    uploads: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/v1/uploads"):
            uploads.append(request.url)

    page.on("request", record)
    choose_model(page, DREAMACTOR)
    field = page.locator('[data-param="imageUrl"]')
    file_input = field.locator('input[type="file"]')

    gif = tmp_path / "moving.gif"
    Image.new("RGB", (10, 10)).save(gif)
    file_input.set_input_files(gif)
    expect(field.locator(".local-error")).to_have_text(
        "moving.gif is not an accepted format. Use: JPG, JPEG, PNG."
    )
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(6 * 1024 * 1024))
    file_input.set_input_files(big)
    expect(field.locator(".local-error")).to_have_text("huge.png is 6.0 MB, over the 5 MB limit.")
    expect(field.locator(".preview")).to_have_count(0)
    assert uploads == []

    file_input.set_input_files(png(tmp_path / "fine.png"))
    expect(field.locator(".preview.done img")).to_be_visible()
    expect(field.locator(".local-error")).to_be_hidden()
    assert len(uploads) == 1


def test_a_list_param_takes_several_files_up_to_its_limit(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    choose_model(page, IMAGE_EDIT)
    field = page.locator('[data-param="imageUrls"]')
    files = [png(tmp_path / f"{n}.png", (n * 50, 80, 120)) for n in range(4)]
    field.locator('input[type="file"]').set_input_files(files)
    expect(field.locator(".local-error")).to_have_text("At most 3 files.")
    expect(field.locator(".preview")).to_have_count(0)

    field.locator('input[type="file"]').set_input_files(files[:2])
    expect(field.locator(".preview.done")).to_have_count(2)
    page.locator('[data-param="prompt"] textarea').fill("make the sky purple")
    task_id = submit(page)
    assert watch(page, task_id)[-1] == "succeeded"
    sent = stack.get(f"/v1/tasks/{task_id}")["params"]["imageUrls"]
    assert len(sent) == 2
    assert all(url.startswith(stack.sim.url) for url in sent)
