"""The words customers wrote, searched against the real local stack: a tweet of the twcs sample is sent to the
stack's webhook and processed by its inbound worker; in a real headless Chromium (Playwright) a lead presses "/"
(the search shortcut), types two of its words and opens the ticket from the results (screenshot:
artifacts/inbox-word-search.png); in the terminal inbox (a subprocess, as an agent runs it) an agent finds it too."""
from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import PROJECT
from tests.e2e.test_inbox_browser import signed_in_pages
from tests.e2e.test_inbox_cli import inbox
from tests.e2e.test_local_stack import ADMIN, send_tweet
from tools.replay import DEFAULT_CSV, read_rows

ARTIFACTS = PROJECT / "artifacts"
SAMPLE_TWEET = "664"  # "… where is it??I’m unhappy.refund the delivery charge"
pytestmark = pytest.mark.skipif(not DEFAULT_CSV.exists(),
                                reason="../shared/data/twcs_sample.csv is not beside the project")


@pytest.fixture(scope="module")
def sample_ticket(wednesday_stack) -> str:
    """The sample's tweet sent to the stack and processed: its ticket's id."""
    stack = wednesday_stack
    row = next(r for r in read_rows() if r.tweet_id == SAMPLE_TWEET)

    def waiting() -> set[str]:
        return {t["ticket_id"] for t in stack.get("/admin/backlog/complaints?limit=100", headers=ADMIN).json()[
            "tickets"]}

    before = waiting()
    send_tweet(stack, "664000", row.text, user_id="664", handle="unhappy_e2e")
    return stack.wait_for(lambda: waiting() - before, timeout=15).pop()


def test_an_agent_finds_it_in_the_terminal_inbox(wednesday_stack, sample_ticket, tmp_path):
    tokens = tmp_path / "token"
    signed = inbox(wednesday_stack, "login", "-u", "amira", tokens=tokens, RESPONDER_PASSWORD="Amira-local-1")
    assert signed.returncode == 0, signed.stderr
    found = inbox(wednesday_stack, "search", "refund the Delivery charge", tokens=tokens)
    assert found.returncode == 0, found.stderr
    assert "Tickets whose customers wrote delivery, refund, charge" in found.stdout
    assert re.search(rf"{sample_ticket}\W+3 of 3\W+waiting", found.stdout), found.stdout
    as_json = inbox(wednesday_stack, "search", "unhappy", "--json", tokens=tokens)
    assert sample_ticket in {m["ticket_id"] for m in json.loads(as_json.stdout)["matches"]}


def test_a_lead_finds_a_customers_ticket_by_the_words_they_wrote(wednesday_stack, sample_ticket, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tools.browser import HEADLESS_FLAGS

    stack, ticket_id = wednesday_stack, sample_ticket
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = signed_in_pages(browser, stack, problems, ("chloe", "Chloe-local-1"))["chloe"]
            page.keyboard.press("/")
            expect(page.locator("#search-q")).to_be_focused()
            page.keyboard.type("Unhappy DELIVERY")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/inbox/search\?q=Unhappy\+DELIVERY$"))
            results = page.get_by_role("table", name="Tickets whose customers wrote delivery, unhappy")
            expect(results.get_by_role("link", name=ticket_id)).to_be_visible()
            expect(results.get_by_role("row").filter(has_text=ticket_id)).to_contain_text("2 of 2")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "inbox-word-search.png"), full_page=True)
            results.get_by_role("link", name=ticket_id).click()
            expect(page).to_have_url(stack.base + f"/inbox/tickets/{ticket_id}")
            expect(page.get_by_text("refund the delivery charge")).to_be_visible()
        finally:
            browser.close()
    assert problems == []
