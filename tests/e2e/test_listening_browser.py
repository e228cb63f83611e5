"""A listened post in the web inbox, in a real headless Chromium driven by Playwright, served by the real local
stack: a post on X that names the brand without tagging it (found by the listening poller's search stand-in)
is listed on its desk as "Not addressed to us"; Amira filters the desk to such posts, opens it, reads where it
was found and what a reply on X would meet, and dismisses it with a reason: the ticket is resolved with nothing
sent, and the timeline says who dismissed it and why. Screenshot: artifacts/inbox-listening.png."""
from __future__ import annotations

import json
import re
import time
from urllib.parse import urlparse

from chalicelib.domain.listening import X_REPLY_RULE
from tests.e2e.conftest import PROJECT, sign_in, watched_page

ARTIFACTS = PROJECT / "artifacts"
POST = "Meridian Rail's 08:12 from Reading cancelled again, third time this week"
JSON = {"Content-Type": "application/json"}


def test_an_agent_filters_to_posts_not_addressed_to_us_and_dismisses_one(wednesday_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)
    injected = stack.post("/local/listening/posts", data=json.dumps(
        {"channel": "x", "text": POST, "handle": "reading_rider", "name": "Robin"}), headers=JSON)
    assert injected.status_code == 202, injected.text
    post_id = str(injected.json()["posts"][0]["id"])
    assert stack.post("/local/schedules/poll_listening").status_code == 200
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = watched_page(browser, problems)
            sign_in(page, stack.base, "amira", "Amira-local-1")

            # the complaints desk, filtered to posts not addressed to us (the pipeline runs in the stack's threads)
            page.goto(stack.base + "/inbox/desks/complaints")
            page.get_by_label("Not addressed to us").select_option("only")
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(r"listening=only"))
            rows = page.locator("table tbody tr")
            deadline = time.monotonic() + 15
            while rows.count() == 0 and time.monotonic() < deadline:
                time.sleep(0.3)
                page.reload()
            expect(rows).to_have_count(1)
            expect(rows.first.locator(".badge-warn")).to_have_text("Not addressed to us")
            rows.first.locator("a.ref").click()
            expect(page).to_have_url(re.compile(r"/inbox/tickets/[0-9A-Z]+$"))
            ticket_id = urlparse(page.url).path.rsplit("/", 1)[1]

            # what it is, where it was found, and what a reply would meet on X
            expect(page.locator("#listening-notice")).to_contain_text(
                "Not addressed to us: found by listening on X for 'Meridian Rail'. Nothing automatic was sent")
            expect(page.locator("#reply-note")).to_have_text(f"They did not tag us. {X_REPLY_RULE}.")
            page.screenshot(path=str(ARTIFACTS / "inbox-listening.png"), full_page=True)

            # dismissed with a reason: resolved, nothing sent, the timeline says who and why
            page.get_by_label("Why nobody answers it (optional)").fill("a timetable moan, nothing to answer")
            page.get_by_role("button", name="Dismiss without a reply").click()
            expect(page.get_by_role("status")).to_have_text(f"Ticket {ticket_id} dismissed: closed with no reply.")
            expect(page.locator("#dismiss-form")).to_have_count(0)
            expect(page.get_by_text("amira: a timetable moan, nothing to answer")).to_be_visible()
            expect(page.get_by_role("button", name="Reopen")).to_be_visible()
        finally:
            browser.close()
    assert problems == []
    signed = stack.post("/agent/sign-in", data=json.dumps({"username": "amira", "password": "Amira-local-1"}),
                        headers=JSON).json()
    view = stack.get(f"/agent/tickets/{ticket_id}", headers={"Authorization": f"Bearer {signed['token']}"}).json()
    assert view["status"] == "resolved" and view["timeline"][-1]["kind"] == "dismissed"
    assert [m for m in stack.get("/local/outbox").json()["messages"] if m.get("in_reply_to") == post_id] == []
