"""Desk queues consumed by whichever team is on shift, on the real local stack (`make run`): a complaint at 03:00
waits in its desk queue, unreceived; at 07:00 the team's Slack stand-in gets the digest and the signed webhook the
ticket, verified; an urgent complaint on shift reaches Slack within seconds; the queue ends empty (ADR 0024)."""
from __future__ import annotations

import time

import boto3
import pytest

from tests.e2e.conftest import sign_in, started_at, watched_page
from tests.e2e.test_local_stack import acks_for, send_tweet

ADMIN = {"Authorization": "Bearer local-admin-token"}


@pytest.fixture(scope="module")
def tuesday_night_stack():
    """The local stack with its clock at Tuesday 03:00 Europe/London: customer service is off until 07:00."""
    yield from started_at("2026-12-08T03:00:00+00:00")


def queue_counts(stack, name: str) -> dict[str, int]:
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint, region_name="eu-west-2", aws_access_key_id="local",
                       aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {"visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}


def notifications(stack, desk: str = "complaints") -> list[dict]:
    return stack.get(f"/local/notifications?desk={desk}").json()["notifications"]


def test_a_night_complaint_waits_unreceived_and_the_morning_team_gets_the_digest_and_the_ticket(tuesday_night_stack):
    stack = tuesday_night_stack
    send_tweet(stack, "300001", "@MeridianRail my train was cancelled and nobody helped, I want a refund",
               user_id="301")
    assert stack.wait_for(lambda: acks_for(stack, "300001"), timeout=10)  # the customer heard from us at once
    assert stack.wait_for(lambda: queue_counts(stack, "responder-desk-complaints")["visible"] == 1, timeout=10)
    time.sleep(3)  # the runner polls every second: a switched-off consumer must not have received it
    assert queue_counts(stack, "responder-desk-complaints") == {"visible": 1, "in_flight": 0}
    assert queue_counts(stack, "responder-desk-complaints-dlq")["visible"] == 0
    assert notifications(stack) == []

    moved = stack.post("/local/clock", json={"minutes": 4 * 60})  # 07:00: customer service comes on shift
    assert moved.status_code == 200, moved.text
    run = stack.post("/local/schedules/follow_rota").json()
    assert "complaints" in run["result"]["on"], run

    def delivered():
        found = notifications(stack)
        kinds = {(n["destination"], n["event"]) for n in found}
        return found if {("care-slack", "desk.digest"), ("helpdesk", "desk.digest"),
                         ("helpdesk", "ticket.created")} <= kinds else None

    found = stack.wait_for(delivered, timeout=20)
    assert found, notifications(stack)
    slack = [n for n in found if n["destination"] == "care-slack"]
    assert [n["event"] for n in slack] == ["desk.digest"]  # the night's ticket is in the digest, not posted again
    digest_text = str(slack[0]["body"])
    assert "1 waited" in digest_text or "1 waiting" in digest_text or "waited" in digest_text
    hooks = [n for n in found if n["destination"] == "helpdesk"]
    assert hooks and all(n["verified"] for n in hooks)  # the receiver's check of the HMAC signature holds
    assert stack.wait_for(lambda: queue_counts(stack, "responder-desk-complaints") == {"visible": 0, "in_flight": 0},
                          timeout=10)
    assert queue_counts(stack, "responder-notify-dlq")["visible"] == 0


def test_an_urgent_complaint_on_shift_reaches_slack_within_seconds(tuesday_night_stack):
    stack = tuesday_night_stack
    stack.post("/local/schedules/follow_rota")  # the shift started in the test above (a module's stack)
    before = {n["id"] for n in notifications(stack)}
    started = time.monotonic()
    send_tweet(stack, "300002", "@MeridianRail stranded at Didcot Parkway with two kids, no trains and no staff, "
                                "please help", user_id="302")

    def urgent_post():
        return [n for n in notifications(stack) if n["id"] not in before and n["destination"] == "care-slack"
                and n["event"] == "ticket.created"]

    posted = stack.wait_for(urgent_post, timeout=15)
    assert posted, notifications(stack)
    assert time.monotonic() - started < 15
    assert "urgent" in str(posted[0]["body"]).lower()
    assert stack.wait_for(lambda: queue_counts(stack, "responder-desk-complaints") == {"visible": 0, "in_flight": 0},
                          timeout=10)


FAKE_NOTIFICATIONS = """
window.__notices = [];
function FakeNotification(title, options) { window.__notices.push({title: title, body: options.body,
                                                                  tag: options.tag}); }
FakeNotification.permission = "default";
FakeNotification.requestPermission = function () {
  FakeNotification.permission = "granted"; return Promise.resolve("granted"); };
window.Notification = FakeNotification;
"""


def test_an_agent_on_shift_sees_an_urgent_ticket_arrive_without_reloading_and_is_notified(tuesday_night_stack,
                                                                                          chromium):
    """Amira (customer service, on shift since 07:00) keeps the inbox open and allows notifications; an urgent
    complaint arrives: her page names it without a reload and the browser notifies her (the page's Notification is
    a recording stand-in: headless Chromium shows none). Screenshot: artifacts/inbox-urgent-notice.png."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_inbox_browser import ARTIFACTS
    from tools.browser import HEADLESS_FLAGS

    stack = tuesday_night_stack
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = watched_page(browser, problems, init_script=FAKE_NOTIFICATIONS)
            sign_in(page, stack.base, "amira", "Amira-local-1")
            page.get_by_role("button", name="Notify me of urgent tickets").click()
            expect(page.get_by_role("button", name="Notify me of urgent tickets")).to_have_count(0)
            page.wait_for_timeout(500)  # the first pulse remembers the urgent tickets already shown
            loaded = page.url
            before = {n["id"] for n in notifications(stack)}
            send_tweet(stack, "300003", "@MeridianRail stranded at Reading with my elderly mother, last train "
                                        "cancelled, no staff, please help", user_id="303")
            # the page asks its pulse at once when it becomes visible, and otherwise every 15 s: nudged before the
            # ticket is stored, it would learn of it only at its next poll, on the edge of the 20 s below; the
            # ticket's post to the team's Slack says it is stored
            stack.wait_for(lambda: [n for n in notifications(stack) if n["id"] not in before
                                    and n["destination"] == "care-slack" and n["event"] == "ticket.created"],
                           timeout=15)
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            news = page.locator("#live-news")
            expect(news).to_contain_text("urgent", timeout=20_000)
            notices = stack.wait_for(lambda: page.evaluate("window.__notices"), timeout=20, interval=0.5)
            assert notices[0]["title"].startswith("Urgent ticket on ") and notices[0]["tag"] in news.inner_text()
            assert page.url == loaded
            page.screenshot(path=str(ARTIFACTS / "inbox-urgent-notice.png"), full_page=True)
        finally:
            browser.close()
    assert not problems, problems
