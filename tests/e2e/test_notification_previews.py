"""What the team tools are sent, as a person sees it: the real local stack (`make run`) records every Slack, Teams
and signed-webhook post, and `GET /local/notifications/view` shows each roughly as its platform would, in a real
headless Chromium driven by Playwright.

A Tuesday night: at 03:00 a complaint waits for customer service, and an urgent one goes to the on-call desk, whose
team's Teams channel hears of it at once; at 07:00 the morning team's Slack channel gets the digest of what waited;
on shift, an urgent complaint reaches Slack (its chase threaded under it) and the helpdesk's signed webhook.
Screenshots, each cropped to its notification: artifacts/notify-slack-digest.png, artifacts/notify-slack-ticket.png,
artifacts/notify-teams.png and artifacts/notify-webhook.png (the README shows copies from docs/img/).
"""
from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import started_at
from tests.e2e.test_local_stack import acks_for, send_tweet

NIGHT_COMPLAINT = "@MeridianRail my train was cancelled and nobody helped, I want a refund"
NIGHT_URGENT = "@MeridianRail stranded at Didcot Parkway with two kids, no trains and no staff, please help"
DAY_URGENT = "@MeridianRail stranded at Reading with my elderly mother, last train cancelled, no staff, please help"
DAY_CHASE = "@MeridianRail still stuck at Reading an hour later, nobody has come, my mother is exhausted"
#: the customers' handles (their display names are the same, title-cased) and words no destination includes
CUSTOMER_WORDS = ("rosalind_p", "hartley_b", "quentin_d", "nobody helped", "Didcot", "two kids", "Reading",
                  "elderly mother", "exhausted")
DANGER_RED = "rgb(195, 29, 79)"  # --slack-red in chalicelib/web/notifications.css
ALERT_RED = "rgb(164, 22, 26)"  # --alert


@pytest.fixture(scope="module")
def tuesday_night_stack():
    """The local stack with its clock at Tuesday 03:00 Europe/London: customer service is off until 07:00,
    on-call is on shift."""
    yield from started_at("2026-12-08T03:00:00+00:00")


def notifications(stack, desk: str | None = None) -> list[dict]:
    query = f"?desk={desk}" if desk else ""
    return stack.get(f"/local/notifications{query}").json()["notifications"]


def posted(stack, destination: str, event: str, *, reference: str | None = None, thread: bool = False) -> list[dict]:
    return [n for n in notifications(stack) if n["destination"] == destination and n["event"] == event
            and (reference is None or n["reference"] == reference) and bool(n["thread"]) == thread]


@pytest.fixture(scope="module")
def night_and_morning(tuesday_night_stack):
    """The night's two complaints and the morning's urgent one with its chase, each post waited for; the
    references of the urgent night ticket (on-call) and the urgent day ticket (complaints)."""
    stack = tuesday_night_stack
    # the stack's first follow_rota puts on-call on shift (its digest marks what it covered): tweet after it
    assert stack.wait_for(lambda: "[schedule] follow_rota" in stack.output(), timeout=30), stack.output()
    time.sleep(1)
    send_tweet(stack, "500001", NIGHT_COMPLAINT, user_id="501", handle="rosalind_p")
    send_tweet(stack, "500002", NIGHT_URGENT, user_id="502", handle="hartley_b")
    assert stack.wait_for(lambda: acks_for(stack, "500001"), timeout=15)  # told we're back at 07:00
    teams = stack.wait_for(lambda: [n for n in notifications(stack, "oncall") if n["destination"] == "oncall-teams"],
                           timeout=20)
    assert teams, notifications(stack)  # on-call is on shift at night: its Teams channel hears at once
    assert notifications(stack, "complaints") == []  # customer service is off: the complaint waits

    moved = stack.post("/local/clock", json={"minutes": 4 * 60})  # 07:00: customer service comes on shift
    assert moved.status_code == 200, moved.text
    run = stack.post("/local/schedules/follow_rota").json()
    assert "complaints" in run["result"]["on"], run
    assert stack.wait_for(lambda: posted(stack, "care-slack", "desk.digest"), timeout=20), notifications(stack)

    send_tweet(stack, "500003", DAY_URGENT, user_id="503", handle="quentin_d")
    ticket = stack.wait_for(lambda: posted(stack, "care-slack", "ticket.created"), timeout=20)
    assert ticket, notifications(stack)
    reference = ticket[0]["reference"]
    assert stack.wait_for(lambda: posted(stack, "helpdesk", "ticket.created", reference=reference), timeout=20)
    send_tweet(stack, "500004", DAY_CHASE, user_id="503", handle="quentin_d")
    chase = stack.wait_for(lambda: posted(stack, "care-slack", "ticket.updated", reference=reference, thread=True),
                           timeout=20)
    assert chase, notifications(stack)
    assert chase[0]["thread"] == ticket[0]["ts"]
    return {"night": teams[0]["reference"], "day": reference}


def test_each_platform_previewed_as_a_person_would_check_it(tuesday_night_stack, night_and_morning, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_accessibility import check
    from tests.e2e.test_inbox_browser import ARTIFACTS
    from tools.browser import HEADLESS_FLAGS

    stack, day = tuesday_night_stack, night_and_morning["day"]
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1000}, device_scale_factor=1)
            page.set_default_timeout(10_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            response = page.goto(stack.base + "/local/notifications/view")
            assert response is not None and response.status == 200
            assert "default-src 'none'" in response.headers["content-security-policy"]
            expect(page.get_by_role("heading", level=1)).to_have_text("Notification previews")
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.get_by_role("main").count() == 1

            # the digest: its headline names the desk and how many waited
            digest = page.locator('article[data-destination="care-slack"][data-event="desk.digest"]')
            expect(digest).to_have_count(1)
            expect(digest.get_by_role("heading", level=2)).to_have_text("Shift-start digest for complaints")
            expect(digest).to_contain_text("customer_service on shift: complaints")
            headline = digest.locator(".slack-section .mrkdwn").first.inner_text()
            assert headline == "complaints: 1 waiting, 0 urgent, oldest since 03:00", headline  # the night's one
            digest.screenshot(path=str(ARTIFACTS / "notify-slack-digest.png"))

            # the urgent ticket stands out: an urgent heading, the red mark and button; its chase in its thread
            ticket = page.locator('article[data-destination="care-slack"][data-event="ticket.created"]')
            expect(ticket).to_have_count(1)
            expect(ticket).to_have_class(re.compile(r"\burgent\b"))
            expect(ticket.get_by_role("heading", level=2)).to_have_text(f"Urgent new ticket {day}")
            assert ticket.get_by_role("heading", level=2).evaluate("h => getComputedStyle(h).color") == ALERT_RED
            expect(ticket.get_by_role("img", name="rotating light").first).to_be_visible()
            button = ticket.get_by_role("link", name="Open in the inbox").first
            assert button.evaluate("b => getComputedStyle(b).backgroundColor") == DANGER_RED
            assert f"/inbox/tickets/{day}" in (button.get_attribute("href") or "")
            expect(ticket.locator(".thread-count")).to_have_text("1 reply in the thread")
            reply = ticket.locator("article")
            expect(reply.get_by_role("heading", level=3)).to_have_text(f"Urgent ticket update {day}")
            expect(reply).to_contain_text("Customer wrote again")
            ticket.screenshot(path=str(ARTIFACTS / "notify-slack-ticket.png"))

            # Teams: the on-call team's card of the night's urgent ticket, with its facts and button
            teams = page.locator('article[data-destination="oncall-teams"]').first
            expect(teams.locator(".tb").first).to_have_text(re.compile(r"^URGENT · .+ on oncall$"))
            assert teams.locator(".tb").first.evaluate("t => getComputedStyle(t).color") == "rgb(179, 38, 47)"
            expect(teams.locator(".factset")).to_contain_text("Priority")
            expect(teams.get_by_role("link", name="Open in the inbox")).to_be_visible()
            teams.screenshot(path=str(ARTIFACTS / "notify-teams.png"))

            # the signed webhook: the request as sent, its signature verified by the receiver's check
            hook = page.locator(f'article[data-destination="helpdesk"][data-event="ticket.created"]'
                                f':has(h2:text-is("Urgent new ticket {day}"))')
            expect(hook).to_have_count(1)
            expect(hook.locator(".badge")).to_have_text("signature verified")
            expect(hook.locator(".request-line")).to_contain_text("POST https://helpdesk.example-rail.test/hooks/")
            expect(hook.locator(".headers")).to_contain_text("X-Responder-Signature")
            expect(hook.locator("pre")).to_contain_text(f'"reference": "{day}"')
            hook.screenshot(path=str(ARTIFACTS / "notify-webhook.png"))

            # no raw markup shown, no customer's name or words anywhere (no destination includes them)
            text = page.locator("body").inner_text()
            assert not re.search(r"<[a-z/!]|\*\*|:rotating_light:|:red_circle:|&lt;|&amp;", text), text
            shown = text.lower()
            assert not [w for w in CUSTOMER_WORDS if w.lower() in shown]
            headings = page.get_by_role("heading", level=2).all_inner_texts()
            assert len(headings) == page.locator("main > article").count() >= 5
            assert all(url.startswith(stack.base) for url in requested), requested  # nothing fetched elsewhere
            blocking = check(page, "notification previews")  # axe-core: no serious or critical violation
            assert not blocking, "\n".join(blocking)
        finally:
            browser.close()
    assert not problems, problems
    for name in ("slack-digest", "slack-ticket", "teams", "webhook"):
        assert (ARTIFACTS / f"notify-{name}.png").stat().st_size > 5_000
