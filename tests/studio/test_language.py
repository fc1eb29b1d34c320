"""zh-CN / en: the studio's own strings, the catalog's labels and the server's messages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.studio.conftest import Stack, choose_model
from tests.support import LTX


def test_switching_language_relabels_everything_and_keeps_the_form(
    page: Page, stack: Stack
) -> None:
    choose_model(page, LTX)
    schema = stack.get(f"/v1/models/{LTX}")["schema"]
    page.locator('[data-param="prompt"] textarea').fill("一只鸟飞过城市")

    page.get_by_label("Language").select_option("zh")
    expect(page.locator("#nav a").first).to_have_text("创作")
    expect(page.get_by_role("button", name="生成", exact=True)).to_be_visible()
    expect(page.locator(".model-head h1")).to_have_text(schema["x-title"]["zh"])
    for name, prop in schema["properties"].items():
        label = page.locator(f'[data-param="{name}"] .field-label')
        expect(label).to_contain_text(prop["x-label"]["zh"])
    enum_labels = schema["properties"]["resolution"]["x-enum-labels"]
    segment = page.locator('[data-param="resolution"] .segment label').first
    expect(segment).to_have_text(enum_labels[schema["properties"]["resolution"]["enum"][0]]["zh"])
    expect(page.locator('[data-param="prompt"] textarea')).to_have_value("一只鸟飞过城市")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"

    # The server answers in the page's language: a missing number, named in Chinese.
    page.get_by_role("button", name="生成", exact=True).click()
    props = schema["properties"]
    chosen = {name: props[name]["enum"][0] for name in ("resolution", "aspectRatio")}
    with stack.server.http() as http:
        refused = http.post(
            "/v1/tasks",
            json={"model": LTX, "params": {"prompt": "一只鸟飞过城市", **chosen}},
            headers={"Accept-Language": "zh-CN"},
        )
    messages = {d["param"]: d["message"] for d in refused.json()["error"]["details"]}
    error = page.locator('[data-param="duration"] .field-error')
    expect(error).to_have_text(messages["duration"])

    page.reload()  # the choice is kept
    expect(page.locator("#nav a").first).to_have_text("创作")
    page.get_by_label("Language").select_option("en")
    expect(page.locator("#nav a").first).to_have_text("Studio")
    expect(page.locator(".model-head h1")).to_have_text(schema["x-title"]["en"])
