"""WhatsApp read receipts through the real Chalice routes on moto: a signed WhatsApp webhook makes the ticket, an agent
signed in against the Cognito pool claims and opens it, and the customer's latest message is marked read once,
through the outbox (the local sandbox records it with its kind): never a reply, never on the timeline, never in the
reports' figures, and never a failure of the agent's page."""
from __future__ import annotations

import json

import boto3
import pytest

from tests.conftest import drain, queue_url, run_pipeline
from tests.integration import test_whatsapp_window as window
from tests.integration.test_whatsapp_window import PHONE_NUMBER_ID, WEDNESDAY, sign_in

WA_ID = "447700900456"


@pytest.fixture
def day(clock):
    clock.set(WEDNESDAY)
    return clock


def customer_writes(client, message_id: str, text: str, at) -> None:
    window.customer_writes(client, message_id, text, at, name="Grace Hopper", wa_id=WA_ID)


def queued() -> list[dict]:
    """What waits on the outbox queue, left visible for the outbox handler."""
    sqs = boto3.client("sqs", region_name="eu-west-2")
    url, found = queue_url("responder-outbox"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages"):
        found.extend(batch)
    for message in found:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [json.loads(message["Body"]) for message in found]


def receipts(client) -> list[dict]:
    """What the local sandbox recorded as read receipts (``/local/outbox``)."""
    return [m for m in client.http.get("/local/outbox").json_body["messages"] if m["kind"] == "read"]


def test_opening_a_whatsapp_ticket_marks_the_customers_latest_message_read_once(client, svc, day, clock):
    customer_writes(client, "wamid.READ1", "My season ticket renewal failed twice, card charged?", WEDNESDAY)
    before = client.http.get("/local/outbox").json_body["messages"]
    amira = sign_in(client)

    taken = client.http.post("/agent/next", body="{}", headers=amira)  # claiming opens it
    assert taken.status_code == 200, taken.body
    ticket = taken.json_body["ticket"]
    assert ticket["channel"] == "whatsapp"
    ticket_id = ticket["ticket_id"]
    for _ in range(3):  # opened again, and again: the page polls nothing, but agents reload
        shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira)
        assert shown.status_code == 200, shown.body
    assert [(q["kind"], q["in_reply_to"]) for q in queued()] == [("read", "wamid.READ1")]

    drain("deliver_outbox", "responder-outbox")

    read = receipts(client)
    assert [(r["channel"], r["in_reply_to"], r["recipient"], r["text"]) for r in read] == [
        ("whatsapp", "wamid.READ1", WA_ID, "")]
    assert len(client.http.get("/local/outbox").json_body["messages"]) == len(before) + 1  # nothing else went out
    after = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    kinds = [entry["kind"] for entry in after["timeline"]]
    assert not {"sent", "replied", "reply_failed", "reply_unconfirmed"} & set(kinds), kinds
    assert after["sla"]["first_response_at"] is None  # a receipt is not a response
    assert not [m for m in after["messages"] if m.get("ours")]
    saved = svc.tickets.get(ticket_id)
    assert saved is not None and saved.replies == [] and "read#whatsapp#wamid.READ1" not in saved.sent_keys
    drain("deliver_outbox", "responder-outbox")
    assert len(receipts(client)) == 1  # opening again sent nothing more

    # the customer writes again: the agent's next look marks the new message read
    clock.advance(minutes=5)
    customer_writes(client, "wamid.READ2", "Any news? It is still showing as pending", clock.now())
    assert client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).status_code == 200
    drain("deliver_outbox", "responder-outbox")
    assert sorted(r["in_reply_to"] for r in receipts(client)) == ["wamid.READ1", "wamid.READ2"]


def test_the_reports_count_no_reply_for_a_read_receipt(client, svc, day):
    customer_writes(client, "wamid.REP1", "Where is my refund for the cancelled 07:12?", WEDNESDAY)
    amira, chloe = sign_in(client), sign_in(client, "chloe", "Chloe-local-1")
    ticket_id = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]["ticket_id"]
    figures = client.http.get("/agent/reports?period=day", headers=chloe)
    assert figures.status_code == 200, figures.body

    client.http.get(f"/agent/tickets/{ticket_id}", headers=amira)
    drain("deliver_outbox", "responder-outbox")

    assert len(receipts(client)) == 1
    again = client.http.get("/agent/reports?period=day", headers=chloe)
    assert again.json_body == figures.json_body


def test_a_queue_that_refuses_the_receipt_never_fails_the_agents_page(client, svc, day, monkeypatch):
    customer_writes(client, "wamid.FAIL1", "The app logs me out every time I open my tickets", WEDNESDAY)
    amira = sign_in(client)
    real_send = svc.queues.send_outbox

    def refusing(message, delay=0):
        if message.get("kind") == "read":
            raise ConnectionError("SQS is unreachable")
        return real_send(message, delay=delay)

    monkeypatch.setattr(svc.queues, "send_outbox", refusing)
    taken = client.http.post("/agent/next", body="{}", headers=amira)
    assert taken.status_code == 200, taken.body
    ticket_id = taken.json_body["ticket"]["ticket_id"]
    assert client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).status_code == 200
    assert queued() == []

    monkeypatch.setattr(svc.queues, "send_outbox", real_send)  # the queue is back: the next look queues it
    assert client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).status_code == 200
    drain("deliver_outbox", "responder-outbox")
    assert [r["in_reply_to"] for r in receipts(client)] == ["wamid.FAIL1"]


def test_a_ticket_from_another_channel_sends_no_receipt(client, svc, day):
    from tests.helpers import tweet_event, x_body, x_headers

    body = x_body(tweet_event("9101", "@MeridianRail my train was cancelled again", at=WEDNESDAY))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()
    amira = sign_in(client)
    ticket_id = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]["ticket_id"]

    assert client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).status_code == 200

    assert queued() == []


def test_the_outbox_sends_a_receipt_with_the_real_sender_and_retries_only_what_is_worth_it(svc, day, monkeypatch):
    """The outbox handler on moto with the real WhatsApp sender (HTTP intercepted): a rate limit is retried, the
    receipt then goes once; a refusal for good is dropped, never parked on the dead-letter queue nor retried."""
    import contextlib

    import responses

    from chalicelib.channels.whatsapp_api import WhatsAppSender
    from chalicelib.domain.outbound import READ_RECEIPT, OutboxItem, ReplyTarget
    from chalicelib.sqs_batch import BatchPartiallyFailed
    from tests.conftest import receive_all

    token = "EAAG-real-sender-token"
    url = f"https://graph.facebook.com/v21.0/{PHONE_NUMBER_ID}/messages"
    monkeypatch.setattr(svc, "sender", lambda channel: WhatsAppSender(token))
    delays: list[int] = []
    real_delay = svc.queues.delay_redelivery

    def delay(queue: str, handle: str, seconds: int) -> None:
        delays.append(seconds)
        real_delay(queue, handle, 0)  # visible again at once: the test plays the wait

    monkeypatch.setattr(svc.queues, "delay_redelivery", delay)

    def queue_receipt(wamid: str) -> None:
        item = OutboxItem(idempotency_key=f"read#whatsapp#{wamid}", kind=READ_RECEIPT, ticket_id="T-READ",
                          target=ReplyTarget(channel="whatsapp", recipient=WA_ID, in_reply_to=wamid, private=True,
                                             extra={"phone_number_id": PHONE_NUMBER_ID}),
                          text="", queued_at=WEDNESDAY)
        svc.queues.send_outbox(item.to_dict())

    with responses.RequestsMock() as rsps:
        rsps.post(url, status=400, json={"error": {"code": 131056, "message": "Pair rate limit hit"}})
        rsps.post(url, json={"success": True})
        queue_receipt("wamid.RATE1")
        with contextlib.suppress(BatchPartiallyFailed):
            drain("deliver_outbox", "responder-outbox")
        assert delays == [6]  # the pair rate: one message every 6 seconds
        drain("deliver_outbox", "responder-outbox")
        assert [json.loads(call.request.body) for call in rsps.calls] == [
            {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.RATE1"}] * 2
        assert all(call.request.headers["Authorization"] == f"Bearer {token}" for call in rsps.calls)

    with responses.RequestsMock() as rsps:
        rsps.post(url, status=400, json={"error": {"code": 131026, "message": "Message undeliverable"}})
        queue_receipt("wamid.GONE1")
        drain("deliver_outbox", "responder-outbox")
        assert len(rsps.calls) == 1
    assert receive_all("responder-outbox-dlq") == [] and queued() == []
