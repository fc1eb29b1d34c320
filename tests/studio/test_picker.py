"""The model picker with the whole catalog: chips whose counts follow the other filters, a search
that stays, the keyboard, recent picks and favourites, deprecated models on request, deep links,
and a panel that never overflows sideways at any width, in either language."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.studio.conftest import PHONE, Stack, choose_model, finish, open_page
from tests.support import LTX

WAN = "alibaba/wan-2.7/text-to-image"
# The list's entries: every shown model once in its category group (favourites and recent picks
# are shortcuts above them, to the same models).
LISTED = """() => [...document.querySelectorAll(
    '#model-groups [data-group="category"] li[data-model]')].map((li) => li.dataset.model)"""
ENTRIES = (
    "() => [...document.querySelectorAll('#model-groups li[data-id]')].map((li) => li.dataset.id)"
)
CHIP_COUNTS = """(attr) => Object.fromEntries(
    [...document.querySelectorAll(`.filter-chip[data-${attr}]`)]
    .filter((chip) => !chip.hidden)
    .map((chip) => [chip.dataset[attr], Number(chip.querySelector('.n').textContent)]))"""
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "";
    if (el.closest('.form-pane')) return "form";
    return el.id || el.className || el.tagName;
}"""
# Everything in the picker panel stays inside it: nothing sticks out sideways, and no box that
# clips or scrolls has content wider than itself.
OVERFLOWS = """() => {
    const pane = document.querySelector('.picker-pane');
    const edge = pane.getBoundingClientRect();
    const bad = [];
    for (const el of [pane, ...pane.querySelectorAll('*')]) {
        if (!el.getClientRects().length || el.closest('.visually-hidden')) continue;
        const box = el.getBoundingClientRect();
        const what = `${el.tagName}.${el.className} ${(el.textContent || '').trim().slice(0, 30)}`;
        if (box.left < edge.left - 0.5 || box.right > edge.right + 0.5) {
            bad.push(`${what}: ${box.left}–${box.right} outside ${edge.left}–${edge.right}`);
        }
        const clips = ['hidden', 'auto', 'scroll', 'clip'].includes(getComputedStyle(el).overflowX);
        if (clips && el.scrollWidth > el.clientWidth) {
            bad.push(`${what}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
        }
    }
    return bad;
}"""


def catalog(stack: Stack) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = stack.get("/v1/models")["models"]
    return models


def found(model: dict[str, Any], search: str) -> bool:
    text = f"{model['id']} {model['title']['zh']} {model['title']['en']}".lower()
    return all(word in text for word in search.lower().split())


def expected(
    models: list[dict[str, Any]],
    search: str = "",
    type_: str = "",
    category: str = "",
    deprecated: bool = False,
) -> list[dict[str, Any]]:
    return [
        m
        for m in models
        if found(m, search)
        and (not type_ or m["output_type"] == type_)
        and (not category or m["category"] == category)
        and (deprecated or not m["deprecated"])
    ]


def tally(models: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in models:
        counts[model[key]] = counts.get(model[key], 0) + 1
    return counts


def check_counts(
    page: Page, models: list[dict[str, Any]], search: str, type_: str, category: str
) -> None:
    """Every chip's count is what the other filters and the search leave of it, and the pressed
    chips' counts are the number of models listed."""
    by_type = tally(expected(models, search, "", category), "output_type")
    by_category = tally(expected(models, search, type_, ""), "category")
    types = page.evaluate(CHIP_COUNTS, "type")
    categories = page.evaluate(CHIP_COUNTS, "category")
    assert types.pop("") == sum(by_type.values())
    assert types == {t: by_type.get(t, 0) for t in types}
    assert set(by_type) <= set(types)
    assert categories.pop("") == sum(by_category.values())
    assert categories == dict(by_category) | (
        {category: by_category.get(category, 0)} if category else {}
    )
    listed = page.evaluate(LISTED)
    assert sorted(listed) == sorted(m["id"] for m in expected(models, search, type_, category))
    assert len(listed) == (types[type_] if type_ else sum(by_type.values()))
    assert len(listed) == (categories[category] if category else sum(by_category.values()))
    shown = len(listed)
    expect(page.locator("#model-count")).to_have_text(
        f"{shown} model" + ("" if shown == 1 else "s")
    )


def test_chips_filter_the_list_and_their_counts_follow_the_other_filters(
    page: Page, stack: Stack
) -> None:
    models = catalog(stack)
    assert {m["output_type"] for m in models} >= {"image", "video", "audio", "3d", "text"}
    page.locator(".picker-categories summary").click()
    check_counts(page, models, "", "", "")

    page.locator('.filter-chip[data-type="video"]').click()
    expect(page.locator('.filter-chip[data-type="video"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    check_counts(page, models, "", "video", "")
    # Only the categories with video models are left to choose from.
    assert "text-to-image" not in page.evaluate(CHIP_COUNTS, "category")

    page.locator('.filter-chip[data-category="image-to-video"]').click()
    check_counts(page, models, "", "video", "image-to-video")

    page.fill("#model-search", "kling")
    check_counts(page, models, "kling", "video", "image-to-video")

    page.locator('.filter-chip[data-type=""]').click()
    check_counts(page, models, "kling", "", "image-to-video")

    page.locator('.filter-chip[data-category=""]').click()
    page.fill("#model-search", "wan 2.7")
    check_counts(page, models, "wan 2.7", "", "")
    # The group headings count what they show.
    for group in page.locator('#model-groups [data-group="category"]').all():
        assert group.locator("h3 .n").inner_text() == str(group.locator("li").count())

    page.fill("#model-search", "no such model anywhere")
    check_counts(page, models, "no such model anywhere", "", "")
    expect(page.get_by_text("No model matches.")).to_be_visible()


def test_the_search_and_filters_stay_after_a_pick_and_across_routes(page: Page) -> None:
    page.fill("#model-search", "wan")
    page.locator('.filter-chip[data-type="image"]').click()
    listed = page.evaluate(LISTED)
    assert WAN in listed
    page.locator(f'li[data-model="{WAN}"] .model-option').click()
    expect(page.locator(".model-head code")).to_have_text(WAN)
    expect(page.locator("#model-search")).to_have_value("wan")
    expect(page.locator('.filter-chip[data-type="image"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate(LISTED) == listed
    expect(page.locator(f'li[data-model="{WAN}"] .model-option')).to_have_attribute(
        "aria-current", "true"
    )

    page.locator("#nav a", has_text="History").click()
    expect(page.locator(".history")).to_be_visible()
    page.locator("#nav a", has_text="Studio").click()
    expect(page.locator(".model-card")).to_be_visible()
    expect(page.locator("#model-search")).to_have_value("wan")
    assert page.evaluate(LISTED) == listed

    page.select_option("#lang", "zh")
    expect(page.locator(".model-card")).to_be_visible()
    expect(page.locator("#model-search")).to_have_value("wan")
    assert page.evaluate(LISTED) == listed
    page.select_option("#lang", "en")

    page.reload()  # the same tab's session
    expect(page.locator(".model-card")).to_be_visible()
    expect(page.locator("#model-search")).to_have_value("wan")
    assert page.evaluate(LISTED) == listed


def last(entries: list[str], model_id: str) -> int:
    """Where a model is in its category: its last entry, after any shortcut to it."""
    return len(entries) - 1 - entries[::-1].index(model_id)


def test_arrow_keys_move_through_the_list_from_the_search_and_enter_opens(page: Page) -> None:
    search = page.locator("#model-search")
    search.focus()
    page.keyboard.type("text-to-video")
    entries = page.evaluate(ENTRIES)
    assert len(entries) > 5
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    active = page.locator("#model-groups .model-option.active")
    expect(active).to_have_count(1)
    assert search.get_attribute("aria-activedescendant") == active.get_attribute("id")
    assert (
        page.evaluate("document.querySelector('.model-option.active').closest('li').dataset.id")
        == entries[2]
    )
    page.keyboard.press("Enter")
    expect(page.locator(".model-head code")).to_have_text(entries[2])
    # The focus stays in the search box, with its words, for the next one.
    assert page.evaluate(FOCUSED) == "model-search"
    expect(search).to_have_value("text-to-video")
    # The model opened is now a recent pick too; the keyboard stays on its place in its category.
    after = page.evaluate(ENTRIES)
    assert after[0] == entries[2]
    following = after[last(after, entries[2]) + 1]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".model-head code")).to_have_text(following)

    # In the list itself the arrows move the focus; Enter opens too.
    page.keyboard.press("Tab")  # output types
    page.keyboard.press("Tab")  # categories
    page.keyboard.press("Tab")  # the list: one stop, on the current model
    focused_id = page.evaluate("document.activeElement.closest('li')?.dataset.id")
    assert focused_id == following
    page.keyboard.press("ArrowDown")
    below = page.evaluate("document.activeElement.closest('li')?.dataset.id")
    entries = page.evaluate(ENTRIES)
    assert last(entries, below) == last(entries, following) + 1
    page.keyboard.press("Enter")
    expect(page.locator(".model-head code")).to_have_text(below)

    # Right arrow reaches the row's star, which Enter toggles; Up from the top goes back up.
    assert page.evaluate("document.activeElement.closest('li')?.dataset.id") == below
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator('#model-groups [data-group="favourites"] li')).to_have_count(1)
    assert page.evaluate("document.activeElement.className") == "star"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowUp")
    assert page.evaluate(FOCUSED) == "model-search"
    page.keyboard.press("Escape")
    expect(search).to_have_value("")

    # Enter that commits Chinese input (pinyin to characters) picks nothing.
    hash_before = page.evaluate("location.hash")
    page.keyboard.type("wan")
    search.dispatch_event("keydown", {"key": "Enter", "isComposing": True, "bubbles": True})
    page.wait_for_timeout(300)
    assert page.evaluate("location.hash") == hash_before
    expect(page.locator("#model-count")).to_have_text(f"{len(page.evaluate(LISTED))} models")


def test_the_list_is_one_tab_stop_between_the_search_and_the_form(page: Page) -> None:
    page.locator("#model-search").focus()
    stops = []
    for _ in range(10):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1] == "form":
            break
    assert stops[-1] == "form", stops
    assert len(stops) <= 5, stops
    # Shift+Tab comes back the same way.
    for _ in range(len(stops)):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED) == "model-search"


def y_of(page: Page, model_id: str) -> float:
    box = page.locator(f'li[data-model="{model_id}"]').bounding_box()
    assert box is not None
    return float(box["y"])


def test_recent_picks_and_favourites_come_first_and_persist(page: Page) -> None:
    choose_model(page, WAN)
    choose_model(page, LTX)
    page.fill("#model-search", "")
    recent = page.locator('#model-groups [data-group="recent"] li')
    expect(recent).to_have_count(2)
    assert [li.get_attribute("data-id") for li in recent.all()] == [LTX, WAN]

    favourite = "alibaba/qwen-image-2.0/text-to-image"
    star = page.locator(f'li[data-model="{favourite}"] .star')
    expect(star).to_have_attribute("aria-pressed", "false")
    top = y_of(page, favourite)
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    # The new group above does not move the list under the pointer.
    assert abs(y_of(page, favourite) - top) < 1
    favourites = page.locator('#model-groups [data-group="favourites"] li')
    expect(favourites).to_have_count(1)
    assert favourites.first.get_attribute("data-id") == favourite
    groups = page.locator("#model-groups > section")
    assert [g.get_attribute("data-group") for g in groups.all()[:3]] == [
        "favourites",
        "recent",
        "category",
    ]

    # Nor does a pick, which adds to the recent picks above.
    third = next(m for m in page.evaluate(LISTED)[2:] if m not in {LTX, WAN, favourite})
    top = y_of(page, third)
    page.locator(f'li[data-model="{third}"] .model-option').click()
    expect(page.locator(".model-head code")).to_have_text(third)
    assert abs(y_of(page, third) - top) < 1
    expect(recent).to_have_count(3)

    page.reload()
    expect(page.locator(".model-card")).to_be_visible()
    expect(favourites).to_have_count(1)
    assert [li.get_attribute("data-id") for li in recent.all()] == [third, LTX, WAN]
    expect(page.locator(f'li[data-model="{favourite}"] .star')).to_have_attribute(
        "aria-pressed", "true"
    )
    # A shortcut opens its model; unstarring in the favourites group takes the model out of it.
    favourites.first.locator(".model-option").click()
    expect(page.locator(".model-head code")).to_have_text(favourite)
    favourites.first.locator(".star").click()
    expect(favourites).to_have_count(0)
    assert page.evaluate("localStorage.getItem('aipaint.picker.favourites')") == "[]"

    # Picking the model already open loads nothing and keeps the form, but counts as a pick.
    page.goto(f"/#/m/{LTX}")
    expect(page.locator(".model-head code")).to_have_text(LTX)
    page.locator('[data-param="prompt"] textarea').fill("kept")
    page.locator(f'li[data-model="{LTX}"] .model-option').click()
    expect(recent.first).to_have_attribute("data-id", LTX)
    expect(page.locator('[data-param="prompt"] textarea')).to_have_value("kept")


def test_deprecated_models_are_hidden_until_asked_for(page: Page, stack: Stack) -> None:
    models = catalog(stack)
    deprecated = [m["id"] for m in models if m["deprecated"]]
    assert deprecated
    toggle = page.locator(".deprecated-toggle")
    expect(toggle).to_have_text(f"Show deprecated ({len(deprecated)})")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert not set(deprecated) & set(page.evaluate(ENTRIES))
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    for model_id in deprecated:
        expect(page.locator(f'li[data-model="{model_id}"] .chip.deprecated')).to_have_text(
            "Deprecated"
        )
    # Last in their groups.
    for model_id in deprecated:
        group = page.locator(f'li[data-model="{model_id}"]').locator("xpath=..")
        ids = [li.get_attribute("data-model") for li in group.locator("li").all()]
        by_id = {m["id"]: m for m in models}
        states = [by_id[i]["deprecated"] for i in ids]
        assert states == sorted(states)
    toggle.click()
    assert not set(deprecated) & set(page.evaluate(ENTRIES))


def test_a_deep_link_opens_its_model_and_shows_it_in_the_list(page: Page, stack: Stack) -> None:
    models = catalog(stack)
    far = [m for m in models if not m["deprecated"]][-1]["id"]  # near the end of a long list
    page.goto(f"/#/m/{far}")
    expect(page.locator(".model-head code")).to_have_text(far)
    option = page.locator(f'li[data-model="{far}"] .model-option')
    expect(option).to_have_attribute("aria-current", "true")
    expect(option).to_be_in_viewport()
    inside = page.evaluate(
        """(id) => {
            const box = document.querySelector('#model-groups').getBoundingClientRect();
            const at = document.querySelector(`li[data-model="${id}"]`).getBoundingClientRect();
            return at.top >= box.top && at.bottom <= box.bottom;
        }""",
        far,
    )
    assert inside

    # A link to a model the filters hide clears just what hides it.
    page.fill("#model-search", "ltx")
    page.locator('.filter-chip[data-type="video"]').click()
    page.goto(f"/#/m/{WAN}")
    expect(page.locator(".model-head code")).to_have_text(WAN)
    expect(page.locator("#model-search")).to_have_value("")
    expect(page.locator('.filter-chip[data-type=""]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'li[data-model="{WAN}"] .model-option')).to_have_attribute(
        "aria-current", "true"
    )

    deprecated = next(m["id"] for m in models if m["deprecated"])
    page.goto(f"/#/m/{deprecated}")
    expect(page.locator(".model-head code")).to_have_text(deprecated)
    expect(page.locator(".deprecated-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'li[data-model="{deprecated}"] .model-option')).to_be_in_viewport()


def test_on_a_phone_the_picker_folds_away_once_a_model_is_picked(
    browser: Browser, stack: Stack
) -> None:
    page, console = open_page(browser, stack.url, stack.server.token, PHONE)
    page.goto("/")
    expect(page.locator(".model-card")).to_be_visible()
    toggle = page.locator(".picker-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#model-search")).to_be_hidden()
    toggle.click()
    expect(page.locator("#model-search")).to_be_focused()
    page.keyboard.type("ltx-2.3/text-to-video")
    page.keyboard.press("Enter")
    expect(page.locator(".model-head code")).to_have_text(LTX)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text("LTX 2.3 · Text to Video")
    expect(toggle).to_be_focused()
    toggle.click()
    expect(page.locator("#model-search")).to_have_value("ltx-2.3/text-to-video")
    finish(page, console, "picker-phone-fold")


def fits(page: Page, state: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), state
    assert page.evaluate(OVERFLOWS) == [], state


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_the_picker_fits_its_panel_at_every_width(
    browser: Browser, stack: Stack, width: int, lang: str
) -> None:
    page, console = open_page(
        browser, stack.url, stack.server.token, {"width": width, "height": 900}
    )
    page.add_init_script(f"localStorage.setItem('aipaint.lang', '{lang}')")
    longest = max(catalog(stack), key=lambda m: len(m["title"][lang]))["id"]
    page.goto(f"/#/m/{longest}")
    expect(page.locator(".model-card")).to_be_visible()
    toggle = page.locator(".picker-toggle")
    if width < 720:
        fits(page, "folded")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    else:
        expect(toggle).to_be_hidden()
    fits(page, "open")

    page.locator(".picker-categories summary").click()
    page.locator(".deprecated-toggle").click()
    page.locator(f'li[data-model="{longest}"] .star').click()
    fits(page, "every category chip, deprecated models, a favourite")

    page.locator('.filter-chip[data-type="video"]').click()
    page.locator('.filter-chip[data-category="start-end-to-video"]').click()
    page.fill("#model-search", "video")
    expect(page.locator('.filter-chip[data-category="start-end-to-video"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    fits(page, "filtered")
    # The list scrolls inside its panel; the page does not grow with it.
    height = page.evaluate("document.querySelector('#model-groups').clientHeight")
    assert height <= 900
    finish(page, console, f"picker-{width}-{lang}")
