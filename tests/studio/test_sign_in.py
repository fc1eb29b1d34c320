"""Sign-in: a clear page when the token is missing or wrong; the token is kept in the browser."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.studio.conftest import Stack, finish, open_page


def test_missing_then_wrong_then_right_token(browser: Browser, stack: Stack) -> None:
    page, console = open_page(browser, stack.url, None)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to aipaint")).to_be_visible()
    expect(page.locator("#nav a")).to_have_count(0)

    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-problem")).to_have_text("Enter a token.")

    page.get_by_label("API token").fill("aip_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-problem")).to_contain_text("not valid or was revoked")
    assert page.evaluate("localStorage.getItem('aipaint.token')") is None

    page.get_by_label("API token").fill(stack.server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".model-card")).to_be_visible()
    page.reload()
    expect(page.locator(".model-card")).to_be_visible()  # kept in the browser

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to aipaint")).to_be_visible()
    assert page.evaluate("localStorage.getItem('aipaint.token')") is None
    finish(page, console, "sign_in")


def test_a_token_refused_later_leads_back_to_sign_in(browser: Browser, stack: Stack) -> None:
    page, console = open_page(browser, stack.url, "aip_revoked-or-mistyped")
    page.goto("/")
    expect(page.locator("#token-problem")).to_contain_text("no longer accepted")
    expect(page.get_by_label("API token")).to_be_visible()
    finish(page, console, "token_refused")
