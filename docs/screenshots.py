"""The README's pictures, taken from `leadrouter demo` in headless Chromium, so they show
what the code draws today: `python docs/screenshots.py [OUT_DIR]` (default docs/img).

Needs the test extra (Playwright for Python) and Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.process import CHROMIUM, CHROMIUM_ARGS, DemoProcess

OUT = Path(__file__).with_name("img")
LEADS = (
    {  # an Acme contact: routed to Acme's account owner, Jane, by DM
        "email": "priya.shah@acme.com",
        "first_name": "Priya",
        "last_name": "Shah",
        "company": "Acme Corp",
        "company_domain": "acme.com",
        "employees": 1200,
        "industry": "manufacturing",
        "country": "US",
        "state": "OH",
        "lead_type": "demo_request",
        "source": "web_form",
        "score": 88,
    },
    {  # a hospital group: posted to #healthcare-leads for the first rep to claim
        "email": "marco.rossi@northwind-health.example",
        "first_name": "Marco",
        "last_name": "Rossi",
        "company": "Northwind Health",
        "employees": 320,
        "industry": "healthcare",
        "country": "US",
        "state": "MN",
        "lead_type": "demo_request",
        "source": "paid_ads",
        "score": 64,
    },
    {  # a referral from a large company: the enterprise team's weighted rotation
        "email": "lena.keller@globex.example",
        "first_name": "Lena",
        "last_name": "Keller",
        "company": "Globex",
        "employees": 2500,
        "industry": "software",
        "country": "US",
        "state": "CA",
        "lead_type": "referral",
        "source": "referral",
        "score": 75,
    },
)


def as_person(page: Page, user: str) -> None:
    page.select_option("#viewer", user)
    expect(page.locator("#viewer")).to_have_value(user)


def card(page: Page, text: str) -> Locator:
    found = page.locator("#conversation .message").filter(has_text=text).last
    expect(found).to_be_visible()
    return found


def shoot(target: Locator, path: Path, attempts: int = 5) -> None:
    """A picture of `target`; the page redraws when the workspace changes (a Home tab
    re-published, a countdown message edited), so a shot cut by a redraw is taken again."""
    for attempt in range(attempts):
        try:
            target.screenshot(path=path)
            return
        except PlaywrightError:
            if attempt == attempts - 1:
                raise


def command(page: Page, text: str) -> None:
    page.fill("#command", text)
    page.press("#command", "Enter")


def take(page: Page, out: Path) -> None:
    for lead in LEADS:
        answer = page.request.post(page.url + "demo/lead", data=lead)
        assert answer.json()["status"] == 201, answer.text()

    as_person(page, "U0JANE")
    page.locator("#dms li", has_text="Jane Park").click()
    shoot(card(page, "Acme Corp"), out / "dm-card.png")

    as_person(page, "U0CARA")
    page.locator("#channels li", has_text="healthcare-leads").click()
    post = card(page, "Northwind Health")
    expect(post.locator("button[data-action=claim_lead]")).to_be_visible()
    shoot(post, out / "channel-claim.png")

    as_person(page, "U0JANE")
    page.locator("#nav-dm").click()
    command(page, "/leads")
    shoot(card(page, "Only visible to you"), out / "leads-command.png")

    page.locator("#nav-home").click()
    home = page.locator("#conversation .home")
    expect(home).to_contain_text("Acme Corp")
    shoot(home, out / "app-home.png")

    as_person(page, "U0MORGAN")
    page.locator("#nav-dm").click()
    command(page, "/leadrouter")
    modal = page.locator("#modal")
    expect(modal).to_contain_text("New team")
    modal.get_by_role("button", name="New team").click()
    expect(modal.locator(".input-block").first).to_be_visible()
    shoot(modal, out / "admin-modal.png")


def take_first_run(page: Page, out: Path) -> None:
    """`leadrouter demo --empty`: the Home tab of a workspace admin before any setup."""
    as_person(page, "U0MORGAN")
    page.locator("#nav-home").click()
    home = page.locator("#conversation .home")
    expect(home).to_contain_text("Set up Leadrouter")
    shoot(home, out / "first-run.png")


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for options, pictures in (((), take), (("--empty",), take_first_run)):
                with DemoProcess(*options) as demo:
                    page = browser.new_page(viewport={"width": 1280, "height": 860})
                    page.set_default_timeout(20_000)
                    page.goto(demo.url)
                    pictures(page, out)
                    page.close()
        finally:
            browser.close()
    for picture in sorted(out.glob("*.png")):
        print(f"{picture} ({picture.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
