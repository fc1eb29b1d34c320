"""The main path: pick a model, fill its form, see the price, submit, watch the task live."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.studio.conftest import Stack, choose_model, submit, task_card, upload_still, watch

TEXT_TO_IMAGE = "alibaba/qwen-image-2.0/text-to-image"
IMAGE_TO_VIDEO = "alibaba/wan-2.6/image-to-video"


def test_text_to_image_goes_live_to_succeeded(page: Page, stack: Stack) -> None:
    choose_model(page, TEXT_TO_IMAGE)
    page.locator('[data-param="prompt"] textarea').fill("a lighthouse at dawn, watercolor")
    page.locator(".advanced summary").click()
    page.locator('[data-param="imageNum"] select').select_option("2")

    params = {"prompt": "a lighthouse at dawn, watercolor", "imageNum": "2", "size": "1024*1024"}
    expected = stack.post("/v1/estimates", {"model": TEXT_TO_IMAGE, "params": params})
    estimate = page.locator(".estimate")
    expect(estimate).to_have_attribute("data-state", "known")
    expect(estimate.locator(".estimate-value")).to_have_text(f"¥{expected['total']}")

    task_id = submit(page)
    card = task_card(page, task_id)
    seen = watch(page, task_id)
    assert seen[-1] == "succeeded", seen
    assert len(seen) > 1, f"the card never showed the task before it was done: {seen}"

    stored = stack.get(f"/v1/tasks/{task_id}")
    assert stored["params"]["prompt"] == "a lighthouse at dawn, watercolor"
    assert stored["params"]["imageNum"] == "2"
    images = card.locator(".output img")
    expect(card.locator('.output img[src^="/files/"]')).to_have_count(len(stored["outputs"]))
    images.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=images.first.element_handle()
    )
    assert images.first.evaluate("img => img.naturalWidth") == 1024
    expect(card.locator(".clock")).to_contain_text("took")

    images.first.click()  # full size, with a download link
    viewer = page.locator("#viewer")
    expect(viewer.locator("img")).to_be_visible()
    expect(viewer.get_by_role("link", name="Download")).to_have_attribute(
        "href", images.first.get_attribute("src") or ""
    )


def test_image_to_video_with_an_upload_plays(page: Page, stack: Stack, tmp_path: Path) -> None:
    choose_model(page, IMAGE_TO_VIDEO)
    upload_still(page, tmp_path, "imageUrl")

    task_id = submit(page)
    assert watch(page, task_id)[-1] == "succeeded"
    card = task_card(page, task_id)
    task = stack.get(f"/v1/tasks/{task_id}")
    assert task["params"]["imageUrl"].startswith(stack.sim.url)  # sent as RunningHub's upload

    video = card.locator('.output video[src^="/files/"]')
    expect(video).to_have_count(1)
    played = video.evaluate(
        """async (v) => {
            v.muted = true;
            await v.play();
            await new Promise((resolve) => setTimeout(resolve, 400));
            return { time: v.currentTime, width: v.videoWidth, error: v.error && v.error.code };
        }"""
    )
    assert played["error"] is None
    assert played["time"] > 0
    assert played["width"] > 0
