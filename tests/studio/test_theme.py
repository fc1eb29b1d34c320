"""Dark mode follows the system, and text stays readable in both schemes."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Browser, expect

from tests.studio.conftest import PHONE, Stack, choose_model, finish, open_page

# Every visible text's colour against the background it is drawn on (the first opaque one
# up its ancestors): the worst WCAG contrast ratio on the page, and where it is.
WORST_CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backdrop = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  let worst = { ratio: 99, where: "" };
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || !box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    if (el.closest("button:disabled, [aria-disabled=true], .visually-hidden")) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(backdrop(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const where = `${el.tagName}.${el.className}: ${el.textContent.trim().slice(0, 40)}`;
    if (ratio < worst.ratio) worst = { ratio, where };
  }
  return worst;
}"""
BACKGROUND = "getComputedStyle(document.documentElement).backgroundColor"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_studio_follows_the_systems_scheme_and_keeps_text_readable(
    browser: Browser, stack: Stack, scheme: Literal["light", "dark"]
) -> None:
    page, console = open_page(browser, stack.url, stack.server.token, color_scheme=scheme)
    page.goto("/")
    expect(page.locator(".model-card")).to_be_visible()
    choose_model(page, "alibaba/wan-2.7/text-to-image")
    channels = [int(v) for v in page.evaluate(BACKGROUND).strip("rgba()").split(",")[:3]]
    assert (sum(channels) / 3 < 60) if scheme == "dark" else (sum(channels) / 3 > 200), channels
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    page.goto("/#/history")
    expect(page.locator(".history")).to_be_visible()
    worst = page.evaluate(WORST_CONTRAST)
    assert worst["ratio"] >= 4.5, worst
    finish(page, console, f"theme-{scheme}")
