"""`leadrouter demo` in a real headless browser: a lead sent from the page's form reaches
the team channel, one rep claims it with the card's button, and everyone sees the card
change.

Why a browser: the demo page is a product surface (evaluation, training) whose whole
point is what a person sees and clicks; the page draws Block Kit itself and its buttons
go through signed Slack requests to the real app, so only a browser proves the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from bot.demo.process import CHROMIUM, CHROMIUM_ARGS, DemoProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install '.[test]')"
)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
WAIT_MS = 20_000


@pytest.fixture
def page() -> Iterator[Page]:
    with DemoProcess() as demo, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(demo.url)
            yield page
        finally:
            browser.close()


def test_a_lead_from_the_form_is_claimed_and_everyone_sees_the_owner(page: Page) -> None:
    expect = sync_api.expect
    page.select_option("#viewer", "U0CARA")
    page.locator("#channels li", has_text="healthcare-leads").click()
    page.fill("input[name=industry]", "healthcare")
    page.fill("input[name=company]", "Northwind Health")
    page.click("#send-lead")
    result = page.locator("#result")
    expect(result).to_contain_text("HTTP 201")
    expect(result).to_contain_text("team healthcare, pull")

    card = page.locator("#conversation .message").filter(has_text="Northwind Health")
    claim = card.locator("button[data-action=claim_lead]")
    expect(claim).to_have_count(1)
    claim.click()  # as Cara: a signed block_actions request to /slack/events
    expect(card).to_contain_text("Owner: @Cara Diaz")
    expect(card.locator("button[data-action=claim_lead]")).to_have_count(0)

    page.select_option("#viewer", "U0DAN")
    expect(page.locator("#title")).to_contain_text("seen as Dan Okafor")
    seen_by_dan = page.locator("#conversation .message").filter(has_text="Northwind Health")
    expect(seen_by_dan).to_contain_text("Owner: @Cara Diaz")
    expect(seen_by_dan.locator("button[data-action=claim_lead]")).to_have_count(0)
