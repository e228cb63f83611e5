"""Suggested incidents on the real local stack (`make run`) at 03:00 on a Sunday, in a real headless Chromium:
five posts naming Reading within ten minutes (three mentions through the signed X webhook, one through the
Bluesky stand-in, one post that does not tag the brand, found by the listening poller's X search stand-in) become
a suggested incident on the leads' oversight page; a lead edits the explanation and clicks Declare; the next
mention naming Reading gets an acknowledgement on X that carries the incident's explanation, cut to fit. The page
with its forms passes axe-core (no serious violation). Screenshot: artifacts/inbox-suggested-incident.png. Then a
lead sees another burst in the terminal inbox and dismisses it there."""
from __future__ import annotations

import re

import pytest

from chalicelib.domain.textlength import x_length
from tests.e2e.conftest import PROJECT, sign_in, started_at, watched_page
from tests.e2e.test_accessibility import check
from tests.e2e.test_local_stack import send_tweet

ARTIFACTS = PROJECT / "artifacts"
EXPLANATION = "A signalling fault at Reading is stopping all trains; rail replacement buses leave from the front."


@pytest.fixture(scope="module")
def stack():
    """The local stack, its clock at Sunday 6 December 2026, 03:00 in London (every desk but on-call closed)."""
    yield from started_at("2026-12-06T03:00:00+00:00")


def acks_for(stack, tweet_id: str) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"]
            if m.get("in_reply_to") == tweet_id and m["idempotency_key"].startswith("ack#")]


def lead_headers(stack) -> dict:
    signed = stack.post("/agent/sign-in", json={"username": "chloe", "password": "Chloe-local-1"})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['token']}"}


def test_a_burst_at_a_station_is_declared_by_a_lead_in_the_browser_and_the_next_ack_explains(stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tools.browser import HEADLESS_FLAGS

    for n in range(3):
        send_tweet(stack, f"61000{n}", f"@MeridianRail stuck at Reading, the board says delayed ({n})",
                   user_id=f"610{n}")
        assert stack.post("/local/clock", json={"minutes": 2}).status_code == 200
    bluesky = stack.post("/local/bluesky/mentions", json={
        "handle": "sam.bsky.social", "text": "@meridianrail.bsky.social nothing leaving Reading for an hour"})
    assert bluesky.status_code == 202, bluesky.text
    assert stack.post("/local/clock", json={"minutes": 2}).status_code == 200
    # a post that names the brand without tagging it, found by the listening poller's search (its X stand-in)
    heard = stack.post("/local/listening/posts", json={
        "channel": "x", "text": "Meridian Rail trains going nowhere at Reading, third cancellation tonight",
        "handle": "kim_waits"})
    assert heard.status_code == 202, heard.text
    polled = stack.post("/local/schedules/poll_listening")
    assert polled.status_code == 200 and polled.json()["result"]["x"]["queued"] == 1, polled.text
    lead = lead_headers(stack)

    def suggested() -> list[dict]:
        return stack.get("/agent/oversight", headers=lead).json()["suggested_incidents"]

    found = stack.wait_for(suggested, timeout=20)
    assert found, stack.output()[-3000:]
    [suggestion] = found
    assert suggestion["place"] == "Reading" and suggestion["count"] == 5 and suggestion["minutes"] == 8
    assert {p["channel"] for p in suggestion["posts"]} == {"x", "bluesky"}
    assert suggestion["posts"][-1]["author"] == "kim_waits"  # the listened post counts as the mentions do
    assert stack.get("/admin/incidents").status_code in (401, 403)  # nothing declared by itself (and admin-only)

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = watched_page(browser, [])
            sign_in(page, stack.base, "chloe", "Chloe-local-1")
            page.goto(stack.base + "/inbox/oversight")
            card = page.locator("article.suggested")
            expect(card.get_by_role("heading")).to_have_text(re.compile(r"^Reading: 5 posts in 8 minutes, since 03:00"))
            expect(card.locator("li")).to_have_count(5)
            expect(card.get_by_label("Title")).to_have_value("Disruption at Reading")
            expect(card.get_by_label(re.compile("^Keywords"))).to_have_value("reading")
            card.get_by_label(re.compile("^Explanation for customers")).fill(EXPLANATION)
            page.screenshot(path=str(ARTIFACTS / "inbox-suggested-incident.png"), full_page=True)
            assert check(page, "oversight with a suggested incident") == []  # axe-core: no serious violation
            card.get_by_role("button", name=re.compile("^Declare")).click()
            expect(page).to_have_url(re.compile(r"/inbox/oversight\?"))
            expect(page.get_by_role("status")).to_contain_text("Suggested incident declared")
            expect(page.get_by_text("No burst of posts naming one place right now.")).to_be_visible()
        finally:
            browser.close()
    assert suggested() == []

    # the next mention naming Reading, still at night: its acknowledgement explains before anyone has to ask
    assert stack.post("/local/clock", json={"minutes": 1}).status_code == 200
    send_tweet(stack, "610100", "@MeridianRail is anything running from Reading at all?", user_id="6200")
    [ack] = stack.wait_for(lambda: acks_for(stack, "610100"), timeout=20) or [None]
    assert ack is not None, stack.output()[-3000:]
    assert ack["channel"] == "x" and "Disruption at Reading" in ack["text"]
    assert "signalling fault at Reading" in ack["text"] and x_length(ack["text"]) <= 280, ack["text"]
    # the burst's own posts were acknowledged before the declaration, without it
    assert all("Disruption at Reading" not in a["text"] for a in acks_for(stack, "610000"))


def test_a_lead_sees_a_suggestion_in_the_terminal_and_dismisses_it(stack, tmp_path):
    from tests.e2e.test_inbox_cli import inbox

    for n in range(5):
        send_tweet(stack, f"62000{n}", f"@MeridianRail Oxford platform 3 flooded, trains skipping it ({n})",
                   user_id=f"620{n}")
        assert stack.post("/local/clock", json={"minutes": 1}).status_code == 200
    tokens = tmp_path / "token"
    lead = lead_headers(stack)
    assert stack.wait_for(lambda: stack.get("/agent/oversight", headers=lead).json()["suggested_incidents"],
                          timeout=20), stack.output()[-3000:]
    signed = inbox(stack, "login", "-u", "chloe", tokens=tokens, RESPONDER_PASSWORD="Chloe-local-1")
    assert signed.returncode == 0, signed.stderr
    seen = inbox(stack, "oversight", tokens=tokens)
    assert seen.returncode == 0, seen.stderr
    found = re.search(r"Suggested incident (SUG-[0-9A-F]{8}): Oxford, 5 posts in 4 minutes", seen.stdout)
    assert found, seen.stdout
    assert "Oxford platform 3 flooded, trains skipping it (0)" in seen.stdout
    assert f"dismiss-suggested {found.group(1)}" in seen.stdout
    done = inbox(stack, "dismiss-suggested", found.group(1), tokens=tokens)
    assert done.returncode == 0 and "Dismissed the suggested incident at Oxford" in done.stdout, done.stderr
    again = inbox(stack, "dismiss-suggested", found.group(1), tokens=tokens)
    assert again.returncode == 1 and "dismissed by chloe" in again.stdout + again.stderr
    assert "no burst of posts naming one place" in inbox(stack, "oversight", tokens=tokens).stdout
