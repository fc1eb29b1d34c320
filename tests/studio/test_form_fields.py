"""The form sends what the user sees and set, no more: prompts first and empty with the example
one click away, optional params unset, set ones never folded away; errors as the user types;
the seed's randomize and lock; Ctrl/Cmd+Enter; × N variations priced before they are sent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.studio.conftest import (
    PHONE,
    Stack,
    choose_model,
    finish,
    open_page,
    submit,
    task_card,
    upload_still,
    watch,
)
from tests.studio.test_theme import WORST_CONTRAST
from tests.support import LTX

WAN_I2V = "alibaba/wan-2.7/image-to-video"  # its prompt is optional, and used to be folded away
WAN_T2I = "alibaba/wan-2.5-preview/text-to-image"  # a priced model with a seed, in Advanced
QWEN_T2I = "alibaba/qwen-image-2.0/text-to-image"


def sent_bodies(page: Page) -> list[dict[str, Any]]:
    """The bodies of the task submits the page makes, as they go out."""
    bodies: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/v1/tasks"):
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    return bodies


def test_an_optional_prompt_is_shown_first_empty_and_not_sent(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    bodies = sent_bodies(page)
    choose_model(page, WAN_I2V)
    schema = stack.get(f"/v1/models/{WAN_I2V}")["schema"]
    example = schema["properties"]["prompt"]["default"]

    fields = page.locator(".model-form .field")
    expect(fields.first).to_have_attribute("data-param", "prompt")
    prompt = page.locator('[data-param="prompt"] textarea')
    expect(prompt).to_be_visible()
    expect(prompt).to_have_value("")
    expect(page.locator(".advanced")).not_to_have_attribute("open", "")
    # The registry's example is offered, not filled in.
    shown = example if len(example) <= 80 else f"{example[:80]}…"
    expect(prompt).to_have_attribute("placeholder", f"e.g. {shown}")
    use_example = page.locator('[data-param="prompt"] .use-example')
    expect(use_example).to_be_visible()

    upload_still(page, tmp_path, "firstImageUrl")
    task_id = submit(page)
    (body,) = bodies
    assert set(body["params"]) == {"firstImageUrl", "resolution", "duration"}
    assert body["params"]["resolution"] == schema["properties"]["resolution"]["default"]
    assert stack.get(f"/v1/tasks/{task_id}")["params"] == body["params"]

    # One click puts the example in, and then it is sent.
    use_example.click()
    expect(prompt).to_have_value(example)
    submit(page)
    assert bodies[1]["params"]["prompt"] == example


def test_a_set_advanced_param_keeps_its_section_open(page: Page, stack: Stack) -> None:
    choose_model(page, QWEN_T2I)
    advanced = page.locator(".advanced")
    summary = advanced.locator("summary")
    summary.click()
    expect(advanced).to_have_attribute("open", "")
    field = page.locator('[data-param="imageNum"]')
    field.locator("select").select_option("2")
    expect(summary).to_contain_text("(1 set)")
    summary.click()  # folding it away would hide a value that is sent: it stays open
    expect(advanced).to_have_attribute("open", "")
    expect(field.locator("select")).to_be_visible()

    field.get_by_role("button", name="Use default").click()
    expect(field.locator("select")).to_have_value("")
    summary.click()
    expect(advanced).not_to_have_attribute("open", "")

    # Values set from elsewhere ("run again") open the section that holds them.
    page.locator('[data-param="prompt"] textarea').fill("a red kite")
    summary.click()
    field.locator("select").select_option("3")
    task_id = submit(page)
    assert watch(page, task_id)[-1] == "succeeded"
    page.evaluate("id => { location.hash = '#/m/' + id; }", LTX)
    expect(page.locator(".model-head code")).to_have_text(LTX)
    task_card(page, task_id).get_by_role("button", name="Run again").click()
    expect(page.locator(".model-head code")).to_have_text(QWEN_T2I)
    expect(page.locator(".advanced")).to_have_attribute("open", "")
    expect(page.locator('[data-param="imageNum"] select')).to_have_value("3")
    expect(page.locator('[data-param="prompt"] textarea')).to_have_value("a red kite")


def test_range_and_length_errors_show_while_typing(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    choose_model(page, LTX)
    field = page.locator('[data-param="duration"]')
    number = field.locator('input[type="number"]')
    # Required and without a default: empty, and the slider is not drawn at its maximum.
    expect(number).to_have_value("")
    assert field.locator('input[type="range"]').input_value() == "5"
    number.press_sequentially("99")
    expect(field.locator(".field-error")).to_have_text("Must be between 5 and 15.")
    assert field.locator('input[type="range"]').input_value() == "15"
    number.fill("12")
    expect(field.locator(".field-error")).to_be_hidden()
    assert field.locator('input[type="range"]').input_value() == "12"

    # Optional and unset: the box shows RunningHub's default as its placeholder, the slider
    # draws it dimmed, and nothing is sent.
    choose_model(page, WAN_T2I)
    page.locator(".advanced summary").click()
    count = page.locator('[data-param="n"]')
    expect(count.locator('input[type="number"]')).to_have_value("")
    expect(count.locator('input[type="number"]')).to_have_attribute("placeholder", "1")
    expect(count.locator('input[type="range"]')).to_have_class("unset")
    assert count.locator('input[type="range"]').input_value() == "1"
    expect(count.locator(".hint")).to_contain_text("Left unset, RunningHub uses: 1")
    expect(page.locator('pre[data-snippet="curl"]')).not_to_contain_text('"n"')

    choose_model(page, WAN_I2V)
    negative = page.locator('[data-param="negativePrompt"]')
    negative.locator("textarea").fill("x" * 501)
    expect(negative.locator(".field-error")).to_have_text("At most 500 characters; this has 501.")
    negative.locator("textarea").press("Backspace")
    expect(negative.locator(".field-error")).to_be_hidden()
    assert not any(url.endswith("/v1/tasks") for url in requests)


def test_seed_randomize_and_lock(page: Page, stack: Stack) -> None:
    choose_model(page, WAN_T2I)
    page.locator('[data-param="prompt"] textarea').fill("a paper boat")
    page.locator(".advanced summary").click()
    seed = page.locator('[data-param="seed"]')
    box = seed.locator('input[type="number"]')
    expect(box).to_have_value("")  # unset: RunningHub picks one
    expect(seed.locator('input[type="range"]')).to_have_count(0)
    seed.get_by_role("button", name="Randomize").click()
    first = int(box.input_value())
    assert 0 <= first <= 2147483647

    task_id = submit(page)
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["seed"] == first
    # Unlocked: the next Generate gets a new seed, shown before it is sent.
    expect(box).not_to_have_value(str(first))
    second = int(box.input_value())

    seed.get_by_role("button", name="Lock").click()
    expect(seed.locator(".seed-lock")).to_have_attribute("aria-pressed", "true")
    task_id = submit(page)
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["seed"] == second
    expect(box).to_have_value(str(second))
    task_id = submit(page)
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["seed"] == second


def test_ctrl_enter_submits(page: Page, stack: Stack) -> None:
    choose_model(page, WAN_T2I)
    prompt = page.locator('[data-param="prompt"] textarea')
    prompt.fill("a quiet harbour")
    prompt.focus()
    task_id = submit(page, lambda: page.keyboard.press("Control+Enter"))
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["prompt"] == "a quiet harbour"
    expect(prompt).to_have_value("a quiet harbour")  # no newline typed
    task_id = submit(page, lambda: page.keyboard.press("Meta+Enter"))
    assert stack.get(f"/v1/tasks/{task_id}")["params"]["prompt"] == "a quiet harbour"


def test_three_variations_are_priced_first_then_sent_with_different_seeds(
    page: Page, stack: Stack
) -> None:
    bodies = sent_bodies(page)
    choose_model(page, WAN_T2I)
    schema = stack.get(f"/v1/models/{WAN_T2I}")["schema"]
    page.locator('[data-param="prompt"] textarea').fill("three lanterns")
    params = {"prompt": "three lanterns", "size": schema["properties"]["size"]["default"]}
    priced = stack.post("/v1/estimates", {"model": WAN_T2I, "params": params})
    one = Decimal(priced["total"])
    start = "from " if priced["minimum"] else ""
    estimate = page.locator(".estimate")
    expect(estimate.locator(".estimate-value")).to_have_text(f"{start}¥{one}")

    page.locator("select.variations").select_option("3")
    generate = page.get_by_role("button", name="Generate × 3")
    expect(generate).to_be_visible()
    expect(estimate.locator(".estimate-value")).to_have_text(f"{start}¥{one * 3}")
    expect(estimate.locator(".estimate-detail")).to_contain_text(f"3 × ¥{one}")
    expect(page.locator(".variations-note")).to_contain_text("different random seed")

    cards = page.locator(".tasks-pane .task-card")
    before = cards.count()
    generate.click()
    expect(cards).to_have_count(before + 3)
    assert len(bodies) == 3
    seeds = [body["params"].pop("seed") for body in bodies]
    assert len(set(seeds)) == 3
    assert all(body["params"] == params for body in bodies)
    ids = [cards.nth(i).get_attribute("data-task") for i in range(3)]
    stored = {stack.get(f"/v1/tasks/{task_id}")["params"]["seed"] for task_id in ids}
    assert stored == set(seeds)


def test_variations_of_a_model_without_a_seed_send_the_same_params(
    page: Page, stack: Stack
) -> None:
    bodies = sent_bodies(page)
    choose_model(page, QWEN_T2I)
    assert "seed" not in stack.get(f"/v1/models/{QWEN_T2I}")["schema"]["properties"]
    page.locator('[data-param="prompt"] textarea').fill("two foxes")
    page.locator("select.variations").select_option("2")
    expect(page.locator(".variations-note")).to_contain_text("This model has no seed")
    cards = page.locator(".tasks-pane .task-card")
    before = cards.count()
    page.get_by_role("button", name="Generate × 2").click()
    expect(cards).to_have_count(before + 2)
    first, second = bodies
    assert first == second
    assert first["params"]["prompt"] == "two foxes"


def test_recent_prompts_are_offered_under_the_prompt(page: Page) -> None:
    choose_model(page, WAN_T2I)
    recent = page.locator('[data-param="prompt"] .recent')
    expect(recent).to_be_hidden()
    prompt = page.locator('[data-param="prompt"] textarea')
    for text in ("first idea", "second idea"):
        prompt.fill(text)
        submit(page)
    choose_model(page, QWEN_T2I)
    recent = page.locator('[data-param="prompt"] .recent')
    recent.locator("summary").click()
    options = recent.locator(".recent-prompt")
    expect(options).to_have_text(["second idea", "first idea"])
    options.nth(1).click()
    expect(page.locator('[data-param="prompt"] textarea')).to_have_value("first idea")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_forms_own_controls_stay_readable(
    browser: Browser, stack: Stack, scheme: Literal["light", "dark"]
) -> None:
    page, console = open_page(browser, stack.url, stack.server.token, color_scheme=scheme)
    page.goto(f"/#/m/{WAN_T2I}")
    expect(page.locator(".model-head code")).to_have_text(WAN_T2I)
    page.locator(".advanced summary").click()
    page.locator('[data-param="seed"]').get_by_role("button", name="Randomize").click()
    page.locator('[data-param="seed"]').get_by_role("button", name="Lock").click()
    page.locator("select.variations").select_option("2")
    page.locator(".code-panel summary").click()
    expect(page.locator('pre[data-snippet="curl"]')).to_be_visible()
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst
    # At phone width the seed row, × N and the code panel fit: no sideways scrolling.
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finish(page, console, f"form-controls-{scheme}")
