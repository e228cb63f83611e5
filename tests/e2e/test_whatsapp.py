"""WhatsApp on the real local stack (`make run`), at 03:00 on a Sunday: a signed Cloud API delivery to
``POST /webhooks/meta`` gets exactly one acknowledgement on WhatsApp (the sandbox records it), its status page never
shows the phone number, and the local stand-in ``POST /local/whatsapp/messages`` takes the same way in."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime

import pytest

from tests.e2e.conftest import started_at
from tests.e2e.test_local_stack import ADMIN, acks_for, send_tweet

JSON = {"Content-Type": "application/json"}
WA_ID = "447700900123"


@pytest.fixture(scope="module")
def sunday_3am_stack():
    """The local stack with its clock started at Sunday 6 December 2026, 03:00 London."""
    yield from started_at("2026-12-06T03:00:00+00:00")


def whatsapp_acks(stack) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"]
            if m["channel"] == "whatsapp" and m["idempotency_key"].startswith("ack#")]


def signed_delivery(stack, wamid: str, text: str, *, wa_id: str = WA_ID) -> tuple[bytes, dict]:
    """The body Meta posts for one text message to the stack's number, signed with the local app secret."""
    now = int(datetime.fromisoformat(stack.get("/health").json()["time"]).timestamp())
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "5000000001", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "4000000001"},
            "contacts": [{"profile": {"name": "Pat Rider"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(now), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()
    return body, {**JSON, "X-Hub-Signature-256": signature}


def test_a_signed_whatsapp_message_at_3am_sunday_gets_exactly_one_ack_and_a_status_page_without_the_number(
        sunday_3am_stack):
    stack = sunday_3am_stack
    assert datetime.fromisoformat(stack.get("/health").json()["time"]).strftime("%a %H") == "Sun 03"
    body, headers = signed_delivery(stack, "wamid.E2E1", "My train was cancelled and nobody told us. Refund?")
    started = time.monotonic()
    response = stack.post("/webhooks/meta", data=body, headers=headers)
    assert response.status_code == 200 and response.json() == {"accepted": 1}, response.text
    assert stack.post("/webhooks/meta", data=body, headers=headers).status_code == 200  # Meta's retry
    forged = stack.post("/webhooks/meta", data=body, headers={**JSON, "X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert forged.status_code == 401

    acks = stack.wait_for(lambda: whatsapp_acks(stack), timeout=20)
    assert len(acks) == 1, stack.output()[-3000:]
    seconds = time.monotonic() - started
    time.sleep(1.5)  # a second acknowledgement, if there were one, would be in the outbox by now
    [ack] = whatsapp_acks(stack)
    assert (ack["recipient"], ack["private"], ack["in_reply_to"]) == (WA_ID, True, "wamid.E2E1")
    assert "back at" in ack["text"] and "(automated reply)" in ack["text"]
    assert seconds < 20

    link = ack["text"].split(stack.base)[1].split()[0].rstrip(".,")
    for accept in ("text/html", "application/json"):
        page = stack.get(link, headers={"Accept": accept})
        assert page.status_code == 200, page.text
        assert WA_ID not in page.text and "900123" not in page.text and "0123" not in page.text
    assert "We received your message on WhatsApp" in stack.get(link, headers={"Accept": "text/html"}).text

    output = stack.output()
    assert WA_ID not in output and "[outbox] whatsapp -> +44 ••• ••• 0123" in output

    # what became of the acknowledgement, as Meta reports it: recorded on its ticket, never a ticket itself
    status = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "5000000001", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "4000000001"},
            "statuses": [{"id": ack["external_id"], "status": "read", "timestamp": "1796526100",
                          "recipient_id": WA_ID}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(b"local-meta-app-secret", status, hashlib.sha256).hexdigest()
    answer = stack.post("/webhooks/meta", data=status, headers={**JSON, "X-Hub-Signature-256": signature})
    assert answer.status_code == 200 and answer.json() == {"accepted": 0, "statuses": 1}, answer.text
    ticket = stack.get(f"/admin/tickets/{ack['idempotency_key'].split('#')[1]}", headers=ADMIN).json()
    assert ticket["whatsapp_statuses"] == {ack["external_id"]: "read"}
    assert len(whatsapp_acks(stack)) == 1


def test_the_local_stand_in_builds_the_webhook_and_queues_it_the_same_way(sunday_3am_stack):
    stack = sunday_3am_stack
    response = stack.post("/local/whatsapp/messages", headers=JSON,
                          json={"wa_id": "+447700900777", "name": "Sam", "text": "Is the 07:12 running today?"})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["queued"].startswith("whatsapp#wamid.local-")
    assert queued["webhook"]["object"] == "whatsapp_business_account"
    ack = stack.wait_for(lambda: [a for a in whatsapp_acks(stack) if a["recipient"] == "447700900777"], timeout=20)
    assert len(ack) == 1 and ack[0]["in_reply_to"] == queued["external_id"], stack.output()[-3000:]

    bad = stack.post("/local/whatsapp/messages", headers=JSON, json={"wa_id": "pat", "text": "hi"})
    assert bad.status_code == 422 and "wa_id" in bad.json()["error"]


def test_a_whatsapp_customer_who_names_their_x_handle_keeps_their_one_ticket(sunday_3am_stack):
    stack = sunday_3am_stack
    send_tweet(stack, "7700001", "@MeridianRail the 23:10 from Leeds was cancelled, nobody told us", user_id="4401",
               handle="pat_on_x")
    [x_ack] = stack.wait_for(lambda: acks_for(stack, "7700001"), timeout=20) or [None]
    assert x_ack is not None, stack.output()[-3000:]
    reference = x_ack["idempotency_key"].split("#")[1]

    body, headers = signed_delivery(stack, "wamid.E2E-LINK", "Hi, I'm @pat_on_x on X. Still stuck at Leeds, any news?",
                                    wa_id="447700900888")
    assert stack.post("/webhooks/meta", data=body, headers=headers).json() == {"accepted": 1}
    joined = stack.wait_for(lambda: "whatsapp#wamid.E2E-LINK" in [
        m["key"] for m in stack.get(f"/admin/tickets/{reference}", headers=ADMIN).json()["messages"]], timeout=20)
    assert joined, stack.output()[-3000:]
    ticket = stack.get(f"/admin/tickets/{reference}", headers=ADMIN).json()
    assert {"x@pat_on_x", "whatsapp#447700900888"} <= set(ticket["identities"])
    time.sleep(1.5)
    assert [a for a in whatsapp_acks(stack) if a["recipient"] == "447700900888"] == []  # one case, acknowledged once
