"""WhatsApp's 24-hour customer-service window on the real local stack (`make run`): a customer writes through a signed
``POST /webhooks/meta`` (``object: whatsapp_business_account``), the stack's clock moves 25 hours (``POST
/local/clock``), the agent's free-form reply is refused with the brand's approved templates, and the template goes
out through the outbox (``/local/outbox`` shows it, with the values filled in) — through the JSON API, the terminal
inbox and the web inbox in a real headless Chromium."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime

import pytest

from tests.e2e.conftest import sign_in as sign_in_page
from tests.e2e.conftest import started_at, watched_page

META_SECRET = "local-meta-app-secret"  # the local stage's documented dummy (.chalice/config.json)
WA_ID = "447700900456"


@pytest.fixture(scope="module")
def wednesday_stack():
    """Wednesday 10:00 Europe/London: customer service on shift (and again at 11:00 on Thursday)."""
    yield from started_at("2026-11-25T10:00:00+00:00")


def sign_in(stack, username: str = "amira", password: str = "Amira-local-1") -> dict[str, str]:
    response = stack.post("/agent/sign-in", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def customer_writes(stack, message_id: str, text: str, wa_id: str = WA_ID, name: str = "Grace Hopper") -> None:
    now = stack.post("/local/clock", json={"minutes": 1}).json()["now"]  # the stack's time, a minute on
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "4000000001"},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": message_id, "type": "text", "text": {"body": text},
                          "timestamp": str(int(datetime.fromisoformat(now).timestamp()))}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = stack.post("/webhooks/meta", data=body,
                          headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 200, response.text


def outbox(stack) -> list[dict]:
    """The agents' messages the stack sent on WhatsApp (not the acknowledgements, nor the read receipts)."""
    return [m for m in stack.get("/local/outbox").json()["messages"]
            if m["channel"] == "whatsapp" and m["kind"] == "reply"]


def test_a_reply_25_hours_later_is_refused_with_the_templates_and_the_template_goes_out(wednesday_stack):
    stack = wednesday_stack
    customer_writes(stack, "wamid.E2E1", "My railcard discount was not applied to my booking")
    amira = sign_in(stack)
    taken = stack.wait_for(lambda: (stack.post("/agent/next", json={}, headers=amira).json().get("ticket")),
                           timeout=20)
    assert taken and taken["channel"] == "whatsapp", stack.output()[-3000:]
    ticket_id = taken["ticket_id"]
    assert taken["service_window"]["open"] is True

    moved = stack.post("/local/clock", json={"minutes": 25 * 60})
    assert moved.status_code == 200, moved.text
    amira = sign_in(stack)
    assert stack.post(f"/agent/tickets/{ticket_id}/claim", json={}, headers=amira).status_code == 200
    before = len(outbox(stack))

    refused = stack.post(f"/agent/tickets/{ticket_id}/reply", json={"text": "The discount is applied now."},
                         headers=amira)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"].startswith("The customer last wrote on WhatsApp 25 hours ago; WhatsApp only "
                                              "allows an approved template after 24 hours")
    names = [t["name"] for t in refused.json()["details"]["templates"]]
    assert names == ["case_update", "case_status_link"]

    sent = stack.post(f"/agent/tickets/{ticket_id}/template", headers=amira,
                      json={"name": "case_update", "values": {"3": "the railcard discount is now applied"}})
    assert sent.status_code == 200, sent.text
    delivered = stack.wait_for(lambda: [m for m in outbox(stack) if ticket_id in m["idempotency_key"]], timeout=20)
    assert len(delivered) == 1, stack.output()[-3000:]
    assert delivered[0]["whatsapp_template"] == {
        "name": "case_update", "language": "en", "category": "utility",
        "parameters": ["Grace Hopper", ticket_id, "the railcard discount is now applied"]}
    assert delivered[0]["text"].startswith(f"Hello Grace Hopper, about your case {ticket_id}: the railcard discount")
    time.sleep(1.0)  # the refused reply, had it been queued, would be in the outbox by now
    assert len(outbox(stack)) == before + 1


def test_the_terminal_inbox_shows_the_refusal_with_the_templates_and_sends_one(wednesday_stack, tmp_path):
    from tests.e2e.test_inbox_cli import inbox

    stack = wednesday_stack
    customer_writes(stack, "wamid.E2E2", "The lift at platform 4 has been broken for a week", wa_id="447700900789",
                    name="Alan Turing")
    tokens = tmp_path / "responder" / "token"
    login = inbox(stack, "login", "--username", "amira", "--password-stdin", tokens=tokens, stdin="Amira-local-1\n")
    assert login.returncode == 0, login.stderr
    amira = sign_in(stack)
    taken = stack.wait_for(lambda: stack.post("/agent/next", json={}, headers=amira).json().get("ticket"), timeout=20)
    assert taken and taken["channel"] == "whatsapp", stack.output()[-3000:]
    ticket_id = taken["ticket_id"]
    shown = inbox(stack, "show", ticket_id, tokens=tokens)
    assert re.search(r"WhatsApp window open for (24 h|23 h 59 min)", shown.stdout), shown.stdout

    assert stack.post("/local/clock", json={"minutes": 26 * 60}).status_code == 200
    login = inbox(stack, "login", "--username", "amira", "--password-stdin", tokens=tokens, stdin="Amira-local-1\n")
    assert login.returncode == 0, login.stderr
    assert inbox(stack, "claim", ticket_id, tokens=tokens).returncode == 0
    refused = inbox(stack, "reply", ticket_id, "It is fixed now", tokens=tokens)
    assert refused.returncode != 0
    said = " ".join(refused.stderr.split())
    assert "The customer last wrote on WhatsApp 26 hours ago" in said, refused.stderr
    assert "case_update (utility, en): Hello {{1}}, about your case {{2}}: {{3}}." in said
    assert "[you type: {{3}}]" in said and "WhatsApp window closed 2 h ago" in said

    listed = inbox(stack, "template", ticket_id, tokens=tokens)
    assert listed.returncode == 0 and "case_status_link" in " ".join(listed.stderr.split())
    sent = inbox(stack, "template", ticket_id, "case_status_link", tokens=tokens)
    assert sent.returncode == 0, sent.stderr
    assert "Template case_status_link queued for the customer on WhatsApp." in sent.stdout
    delivered = stack.wait_for(lambda: [m for m in outbox(stack) if ticket_id in m["idempotency_key"]], timeout=20)
    assert len(delivered) == 1 and delivered[0]["whatsapp_template"]["name"] == "case_status_link", \
        stack.output()[-3000:]
    name, reference, link = delivered[0]["whatsapp_template"]["parameters"]
    assert (name, reference) == ("Alan Turing", ticket_id) and link.startswith(f"{stack.base}/s/")


def test_the_web_inbox_shows_the_closed_window_and_sends_a_template_in_a_browser(wednesday_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    customer_writes(stack, "wamid.E2E3", "I was charged twice for my parking", wa_id="447700900321",
                    name="Mary Somerville")
    amira = sign_in(stack)
    taken = stack.wait_for(lambda: stack.post("/agent/next", json={}, headers=amira).json().get("ticket"), timeout=20)
    assert taken and taken["channel"] == "whatsapp", stack.output()[-3000:]
    ticket_id = taken["ticket_id"]
    assert stack.post("/local/clock", json={"minutes": 25 * 60}).status_code == 200
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = watched_page(browser, problems)
            sign_in_page(page, stack.base, "amira", "Amira-local-1")
            page.goto(f"{stack.base}/inbox/tickets/{ticket_id}")
            page.get_by_role("button", name="Take this ticket").click()
            expect(page.locator("#service-window")).to_contain_text("WhatsApp window closed 1 h ago")
            form = page.locator("form.template-form", has=page.get_by_role("button", name="Send template case_update"))
            expect(form).to_contain_text("{{1}}: Mary Somerville")
            form.get_by_label("{{3}}: your words").fill("we have refunded the second charge")
            form.get_by_role("button", name="Send template case_update").click()
            expect(page.get_by_role("status")).to_have_text(
                "Template case_update queued: it goes to the customer on WhatsApp.")
        finally:
            browser.close()
    delivered = stack.wait_for(lambda: [m for m in outbox(stack) if ticket_id in m["idempotency_key"]], timeout=20)
    assert len(delivered) == 1, stack.output()[-3000:]
    assert delivered[0]["whatsapp_template"]["parameters"] == ["Mary Somerville", ticket_id,
                                                               "we have refunded the second charge"]
    assert problems == []
