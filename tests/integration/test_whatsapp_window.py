"""WhatsApp's 24-hour customer-service window at the desk, through the real Chalice routes on moto: a signed WhatsApp
webhook makes the ticket, an agent signed in against the Cognito pool answers it; a free-form reply after 24 hours is
refused before queueing with the brand's approved templates, and the template goes out through the outbox carrying
``whatsapp_template``; automatic messages and replies that would reach WhatsApp after the window are not sent."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import boto3
import pytest

from tests.conftest import LambdaContext, drain, lambda_sqs_event, queue_url, receive_all, run_pipeline, utc

WEDNESDAY = utc(2026, 11, 25, 10, 0)  # customer service on shift
JSON = {"Content-Type": "application/json"}
META_SECRET = "local-meta-app-secret"
PHONE_NUMBER_ID = "4000000001"
WA_ID = "447700900123"


@pytest.fixture
def day(clock):
    clock.set(WEDNESDAY)
    return clock


def sign_in(client, username: str = "amira", password: str = "Amira-local-1") -> dict:
    response = client.http.post("/agent/sign-in", body=json.dumps({"username": username, "password": password}),
                                headers=JSON)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['token']}", **JSON}


def whatsapp_body(message_id: str, text: str, at, name: str = "Ada Lovelace", wa_id: str = WA_ID) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": message_id, "timestamp": str(int(at.timestamp())), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()


def customer_writes(client, message_id: str, text: str, at, *, name: str = "Ada Lovelace",
                    wa_id: str = WA_ID) -> None:
    """A signed WhatsApp message through the Meta route, then the inbound pipeline."""
    body = whatsapp_body(message_id, text, at, name, wa_id)
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.http.post("/webhooks/meta", body=body,
                                headers={**JSON, "X-Hub-Signature-256": f"sha256={digest}"})
    assert response.status_code == 200, response.body
    run_pipeline()


RECEIVED: list[dict] = []


def outbox_messages() -> list[dict]:
    """The outbox queue's messages (received, so in flight: ``deliver_received`` hands them to the handler)."""
    RECEIVED[:] = receive_all("responder-outbox")
    return [json.loads(m["Body"]) for m in RECEIVED]


def deliver_received() -> None:
    """The messages ``outbox_messages`` received, to the app's real outbox handler, as the event source would."""
    import app as application

    application.app.handler_map["deliver_outbox"](lambda_sqs_event(RECEIVED, "responder-outbox"), LambdaContext())


def purge_outbox() -> None:
    boto3.client("sqs", region_name="eu-west-2").purge_queue(QueueUrl=queue_url("responder-outbox"))


def take_ticket(client, agent: dict) -> str:
    taken = client.http.post("/agent/next", body="{}", headers=agent)
    assert taken.status_code == 200, taken.body
    ticket = taken.json_body["ticket"]
    assert ticket is not None and ticket["channel"] == "whatsapp", taken.json_body
    return str(ticket["ticket_id"])


def reply(client, agent: dict, ticket_id: str, text: str):
    return client.http.post(f"/agent/tickets/{ticket_id}/reply", body=json.dumps({"text": text}), headers=agent)


def send_template(client, agent: dict, ticket_id: str, body: dict):
    return client.http.post(f"/agent/tickets/{ticket_id}/template", body=json.dumps(body), headers=agent)


def test_a_reply_25_hours_after_the_customer_wrote_is_refused_with_the_templates_and_the_template_goes_out(
        client, svc, day, clock):
    customer_writes(client, "wamid.A1", "My season ticket renewal failed twice, can you help?", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert shown["service_window"]["open"] and shown["service_window"]["summary"] == \
        "WhatsApp window open for 24 h"

    clock.advance(hours=25)
    amira = sign_in(client)  # a new shift's sign-in
    client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    purge_outbox()
    refused = reply(client, amira, ticket_id, "Sorry for the wait - it is fixed now.")
    assert refused.status_code == 409, refused.body
    assert refused.json_body["error"] == ("The customer last wrote on WhatsApp 25 hours ago; WhatsApp only allows an "
                                          "approved template after 24 hours: choose one of the approved templates")
    details = refused.json_body["details"]
    assert details["service_window"]["open"] is False and details["service_window"]["summary"] == \
        "WhatsApp window closed 1 h ago"
    offered = {t["name"]: t for t in details["templates"]}
    assert set(offered) == {"case_update", "case_status_link"}
    case_update = offered["case_update"]
    assert case_update["category"] == "utility" and case_update["parameters"] == ["customer_name", "reference", "agent"]
    assert case_update["values"] == {"1": "Ada Lovelace", "2": ticket_id} and case_update["agent_types"] == ["3"]
    assert outbox_messages() == []  # nothing was queued
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert not any(m.get("ours") for m in shown["messages"])

    sent = send_template(client, amira, ticket_id, {"name": "case_update",
                                                    "values": {"3": "your renewal went through this morning"}})
    assert sent.status_code == 200, sent.body
    assert sent.json_body["queued"] is True and sent.json_body["template"] == "case_update"
    [item] = outbox_messages()
    assert item["kind"] == "reply" and item["channel"] == "whatsapp" and item["recipient"] == WA_ID
    assert item["extra"]["whatsapp_template"] == {
        "name": "case_update", "language": "en", "category": "utility",
        "parameters": ["Ada Lovelace", ticket_id, "your renewal went through this morning"]}
    assert item["text"] == (f"Hello Ada Lovelace, about your case {ticket_id}: your renewal went through this "
                            "morning. Reply to this message to continue the conversation.")
    assert "window_closes_at" not in item  # a template goes whatever the window
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert shown["messages"][-1]["text"] == item["text"]  # the timeline keeps what the customer reads
    deliver_received()  # the outbox hands it to the channel (here, the local sandbox)
    [delivered] = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["kind"] == "reply"]
    assert delivered["whatsapp_template"] == item["extra"]["whatsapp_template"]
    assert delivered["text"] == item["text"]


def test_a_reply_at_23_hours_is_accepted_and_carries_when_the_window_closes(client, svc, day, clock):
    customer_writes(client, "wamid.B1", "Is the 08:10 from Leeds running tomorrow?", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    clock.advance(hours=23)
    amira = sign_in(client)
    client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    purge_outbox()
    accepted = reply(client, amira, ticket_id, "Yes, it runs as planned.")
    assert accepted.status_code == 200, accepted.body
    assert accepted.json_body["ticket"]["service_window"]["summary"] == "WhatsApp window open for 1 h"
    [item] = outbox_messages()
    assert item["text"] == "Yes, it runs as planned." and "whatsapp_template" not in item["extra"]
    assert item["window_closes_at"] == (WEDNESDAY + timedelta(hours=24)).isoformat()


def test_a_template_with_an_empty_or_missing_value_is_refused_before_queueing(client, svc, day, clock):
    customer_writes(client, "wamid.C1", "Where is my refund?", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    clock.advance(hours=30)
    amira = sign_in(client)
    client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    purge_outbox()
    missing = send_template(client, amira, ticket_id, {"name": "case_update"})
    assert missing.status_code == 422 and missing.json_body["details"] == {
        "values": {"3": "required: WhatsApp refuses an empty value"}}
    assert "{{3}} (agent): required" in missing.json_body["error"]
    blank = send_template(client, amira, ticket_id, {"name": "case_update", "values": {"3": "   "}})
    assert blank.status_code == 422
    newline = send_template(client, amira, ticket_id, {"name": "case_update", "values": {"3": "paid\nyesterday"}})
    assert newline.status_code == 422 and "new line" in newline.json_body["details"]["values"]["3"]
    emptied = send_template(client, amira, ticket_id, {"name": "case_update", "values": {"1": "", "3": "paid"}})
    assert emptied.status_code == 422 and emptied.json_body["details"] == {"values": {
        "1": "required: WhatsApp refuses an empty value"}}
    unknown = send_template(client, amira, ticket_id, {"name": "hello_world", "values": {}})
    assert unknown.status_code == 422 and "case_status_link, case_update" in unknown.json_body["error"]
    extra = send_template(client, amira, ticket_id, {"name": "case_update", "values": {"3": "paid", "4": "x"}})
    assert extra.status_code == 422 and extra.json_body["details"] == {"values": {"4": "unknown"}}
    not_text = send_template(client, amira, ticket_id, {"name": "case_update", "values": {"3": 5}})
    assert not_text.status_code == 422
    assert outbox_messages() == []


def test_a_template_on_a_channel_without_a_window_is_a_conflict(client, svc, day):
    from tests.helpers import tweet_event, x_body, x_headers

    body = x_body(tweet_event("8801", "@MeridianRail my train was cancelled and nobody told us", at=WEDNESDAY))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()
    amira = sign_in(client)
    ticket = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    assert ticket["service_window"] is None
    refused = send_template(client, amira, ticket["ticket_id"], {"name": "case_update", "values": {"3": "ok"}})
    assert refused.status_code == 409 and "approved templates are for WhatsApp" in refused.json_body["error"]


def test_a_reply_that_would_reach_whatsapp_after_the_window_is_parked_with_the_reason_never_sent(
        client, svc, day, clock):
    customer_writes(client, "wamid.D1", "My bike reservation vanished", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    clock.advance(hours=23, minutes=59)
    amira = sign_in(client)
    client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    purge_outbox()
    assert reply(client, amira, ticket_id, "Found it: it is back on your booking.").status_code == 200
    clock.advance(minutes=2)  # it waited for the channel's rate past the 24th hour
    drain("deliver_outbox", "responder-outbox")
    assert client.http.get("/local/outbox").json_body["messages"] == []
    parked = [json.loads(m["Body"]) for m in receive_all("responder-outbox-dlq")]
    assert len(parked) == 1 and parked[0]["error"].startswith("not sent: The customer last wrote on WhatsApp 24 hours")
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    failed = [e for e in shown["timeline"] if e["kind"] == "reply_failed"]
    assert failed and "WhatsApp only allows an approved template" in failed[-1]["detail"]


def test_an_incident_follow_up_after_the_window_is_not_sent_and_the_timeline_says_why(client, svc, day, clock):
    from chalicelib.usecases import incidents

    customer_writes(client, "wamid.E1", "Are trains from York cancelled?", WEDNESDAY)
    ticket_id = svc.tickets.for_customer(svc.tickets.get(take_ticket(client, sign_in(client))).customer_id)[0] \
        .ticket_id
    incident = incidents.declare(svc, {"title": "No trains from York", "text": "Buses replace trains.",
                                       "keywords": ["york"]})
    clock.advance(hours=26)
    purge_outbox()
    ticket = svc.tickets.get(ticket_id)
    assert incidents.queue_follow_up(svc, ticket, incident, "resolved") is False
    assert outbox_messages() == []
    entry = svc.tickets.get(ticket_id).timeline[-1]
    assert entry.kind == "reply_failed" and entry.message == "incident_resolved"
    assert entry.error.startswith("not sent: The customer last wrote on WhatsApp 26 hours ago")


def test_the_web_inbox_shows_the_window_and_sends_a_template_from_its_form(client, svc, day, clock):
    import html

    from tests.integration.test_web_inbox import Browser

    customer_writes(client, "wamid.F1", "My e-ticket will not load at the gate", WEDNESDAY)
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    browser.get("/inbox")
    taken = browser.post("/inbox/next", {"csrf": browser.csrf()})
    page_path = taken.headers["Location"].split("?")[0].removeprefix("https://help.example.test")
    page_path = "/inbox" + page_path.split("/inbox", 1)[1]
    ticket_id = page_path.rsplit("/", 1)[1]
    page = browser.get(page_path)
    assert page.status_code == 200 and "WhatsApp window open for 24 h" in browser.text
    assert "/template" not in browser.text  # no template form while the window is open

    clock.advance(hours=25, minutes=12)
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    browser.get(page_path)
    browser.post(f"{page_path}/claim", {"csrf": browser.csrf()})
    browser.get(page_path)
    text = html.unescape(browser.text)
    assert "WhatsApp window closed 1 h 12 min ago: WhatsApp only allows an approved template now" in text
    assert "Send template case_update" in text and "{{1}}: Ada Lovelace" in text
    purge_outbox()
    refused = browser.post(f"{page_path}/reply", {"csrf": browser.csrf(), "text": "Try again now please"})
    assert refused.status_code == 409
    assert "The customer last wrote on WhatsApp 25 hours ago" in html.unescape(browser.text)
    sent = browser.post(f"{page_path}/template", {"csrf": browser.csrf(), "name": "case_update",
                                                  "request_id": "web-template-1",
                                                  "value_3": "your e-ticket has been sent again"})
    assert sent.status_code == 303, browser.text
    [item] = outbox_messages()
    assert item["extra"]["whatsapp_template"]["parameters"] == ["Ada Lovelace", ticket_id,
                                                                "your e-ticket has been sent again"]
    after = sent.headers["Location"]
    browser.get("/inbox" + after.split("/inbox", 1)[1])
    assert "Template case_update queued: it goes to the customer on WhatsApp." in html.unescape(browser.text)


def test_a_closing_time_message_to_whatsapp_after_the_window_is_not_sent_and_the_acknowledgement_is_parked(
        svc, day, clock):
    """A customer who wrote on WhatsApp 30 hours ago and chased on X an hour ago (their tickets merged): the ticket's
    closing-time acknowledgement would go to WhatsApp, where the window is closed."""
    from chalicelib.domain.history import Received
    from chalicelib.domain.outbound import ReplyTarget
    from chalicelib.usecases.acknowledge import acknowledge
    from tests.helpers import a_ticket

    now = clock.now()
    ticket = a_ticket("RWAMERGE1", now - timedelta(hours=30), channel="whatsapp", mention_keys=[
        "whatsapp#wamid.M1", "x#77001"], last_customer_at=now - timedelta(hours=1),
        reply_target=ReplyTarget(channel="whatsapp", recipient=WA_ID, in_reply_to="wamid.M1", private=True,
                                 name="Ada"))
    ticket.record(Received(now - timedelta(hours=30), "whatsapp"))
    ticket.record(Received(now - timedelta(hours=1), "x", follow_up=True))
    svc.tickets.add(ticket)
    purge_outbox()
    assert acknowledge(svc, ticket, back_at=now + timedelta(hours=9), kind="closing") is False
    assert outbox_messages() == []
    saved = svc.tickets.get("RWAMERGE1")
    reason = ("not sent: The customer last wrote on WhatsApp 30 hours ago; WhatsApp only allows an approved "
              "template after 24 hours")
    assert saved.ack_state() == ("parked", f"closing: {reason}")  # parked for a person, with why
    assert saved.timeline[-1].kind == "reply_failed" and saved.timeline[-1].error == reason
    assert saved.acked  # decided: the next closing-time run neither tries nor notes it again
    assert acknowledge(svc, saved, back_at=now + timedelta(hours=9), kind="closing") is False
    assert len([e for e in svc.tickets.get("RWAMERGE1").timeline if e.kind == "reply_failed"]) == 1


def test_a_late_reply_still_goes_when_the_customer_wrote_again_while_it_waited(client, svc, day, clock):
    customer_writes(client, "wamid.G1", "Can I take my bike on the 18:05?", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    clock.advance(hours=23, minutes=59)
    amira = sign_in(client)
    client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    purge_outbox()
    assert reply(client, amira, ticket_id, "Yes, bikes go free on that service.").status_code == 200
    outbox_messages()  # the reply, held back (as if waiting for the rate) while the customer writes again
    clock.advance(minutes=2)
    body = whatsapp_body("wamid.G2", "Thanks, and the 18:35?", clock.now())
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert client.http.post("/webhooks/meta", body=body,
                            headers={**JSON, "X-Hub-Signature-256": f"sha256={digest}"}).status_code == 200
    drain("process_inbound", "responder-inbound")
    deliver_received()
    sent = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["kind"] == "reply"]
    assert [m["text"] for m in sent] == ["Yes, bikes go free on that service."]
    assert receive_all("responder-outbox-dlq") == []


def test_the_agent_sees_what_became_of_the_brand_s_whatsapp_messages(client, svc, day, clock):
    from tests.integration.test_web_inbox import Browser

    customer_writes(client, "wamid.D1", "Is my refund on its way?", WEDNESDAY)
    amira = sign_in(client)
    ticket_id = take_ticket(client, amira)
    assert client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body["delivery"] is None  # none yet
    assert reply(client, amira, ticket_id, "It is: you should have it by Friday.").status_code == 200
    drain("deliver_outbox", "responder-outbox")
    sent = [m["external_id"] for m in svc.sandbox.recent() if m["kind"] == "reply"]
    at = str(int(clock.now().timestamp()))
    statuses = [{"id": sent[0], "status": "read", "timestamp": at, "recipient_id": WA_ID},
                {"id": "wamid.OLD", "status": "failed", "timestamp": at, "recipient_id": WA_ID,
                 "errors": [{"code": 131026, "title": "Message undeliverable"}]}]
    svc.threads.remember_sent_message("whatsapp", "wamid.OLD", ticket_id)  # an earlier message of the ticket
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": statuses,
                                       "metadata": {"display_phone_number": "15550000000",
                                                    "phone_number_id": PHONE_NUMBER_ID}}}]}]}).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert client.http.post("/webhooks/meta", body=body,
                            headers={**JSON, "X-Hub-Signature-256": signature}).status_code == 200

    delivery = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body["delivery"]
    assert delivery["summary"] == "Our WhatsApp messages: 1 read, 1 failed"
    assert delivery["failed"] == ["failed: 131026 Message undeliverable"]
    browser = Browser(client)
    browser.sign_in("amira", "Amira-local-1")
    page = browser.get(f"/inbox/tickets/{ticket_id}").body.decode()
    assert "Our WhatsApp messages: 1 read, 1 failed; failed: 131026 Message undeliverable" in page
