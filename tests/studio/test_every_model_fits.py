"""Every model of the catalog, at 1440, 1024 and 390 px, in zh and en: nothing on the page or in
a panel overflows sideways, and every param a fresh form would send has a visible control."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Browser, expect

from tests.studio.conftest import Stack, finish, open_page
from tests.studio.test_forms import SENT, SHOWN

WIDTHS: dict[str, dict[str, int]] = {
    "1440": {"width": 1440, "height": 900},
    "1024": {"width": 1024, "height": 800},
    "390": {"width": 390, "height": 844},
}
# The page, and every panel and field, no wider than the room it is given: what overflows one.
OVERFLOWING = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) out.push("page");
  const boxes = document.querySelectorAll(
    ".picker-pane, .form-pane, .form-pane > *, .tasks-pane, .model-card, .model-form .field"
  );
  for (const el of boxes) {
    if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.className}${el.dataset.param ? "#" + el.dataset.param : ""}`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_model_fits_the_width_and_shows_what_it_sends(
    browser: Browser, stack: Stack, width: str, lang: Literal["en", "zh"]
) -> None:
    page, console = open_page(browser, stack.url, stack.server.token, WIDTHS[width])
    page.add_init_script(f"localStorage.setItem('aipaint.lang', '{lang}')")
    page.goto("/")
    expect(page.locator(".model-card")).to_be_visible()
    problems: dict[str, object] = {}
    for model in stack.get("/v1/models")["models"]:
        page.evaluate("id => { location.hash = '#/m/' + id; }", model["id"])
        page.wait_for_function(SHOWN, arg=model["id"], polling="raf")
        overflowing = page.evaluate(OVERFLOWING)
        hidden = [name for name, shown in page.evaluate(SENT)["shown"].items() if shown is not True]
        if overflowing or hidden:
            problems[model["id"]] = {"overflowing": overflowing, "hidden": hidden}
    assert problems == {}, problems
    finish(page, console, f"every-model-{width}-{lang}")
