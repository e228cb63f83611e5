"""A customer's first acknowledgeable message out of hours is acknowledged even when it joins an open case (issue
23, item 5): through the X webhook route, the real inbound and outbox SQS handlers and DynamoDB on moto."""
from __future__ import annotations

import boto3
import pytest

from tests.conftest import LambdaContext, drain, lambda_sqs_event, receive_all, run_pipeline
from tests.helpers import ticket_of, tweet_event, x_body, x_headers

COMPLAINT = "@ExampleRail my train was cancelled and there is no replacement bus, awful"


def post_tweet(client, tweet_id: str, text: str, at, **kwargs) -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, **kwargs))
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == 200, response.body


def sent(client) -> list[dict]:
    response = client.http.get("/local/outbox")
    assert response.status_code == 200
    return response.json_body["messages"]


def test_a_retweet_then_a_complaint_before_the_team_is_back_is_acknowledged_once(client, clock, svc):
    """Issue reproducer: a retweet at 03:00 (triage: other, passed on, no acknowledgement), then the real complaint
    as a new tweet:
    it joins the open case, and the customer hears from us once; a chase afterwards changes nothing."""
    post_tweet(client, "8001", "RT @railfan: the new trains at Leeds @ExampleRail", clock.now(), user_id="801")
    run_pipeline()
    assert sent(client) == []
    clock.advance(minutes=3)
    post_tweet(client, "8002", COMPLAINT, clock.now(), user_id="801")
    run_pipeline()
    ticket_id = ticket_of(svc, "x#8001")
    assert ticket_of(svc, "x#8002") == ticket_id
    [ack] = sent(client)
    assert ack["recipient"] == "801" and ticket_id in ack["text"] and "09:00" in ack["text"]
    ticket = svc.tickets.get(ticket_id)
    assert ticket.acked and ticket.sent_keys == [f"ack#{ticket_id}"]
    clock.advance(minutes=10)
    post_tweet(client, "8003", "@ExampleRail hello?? anyone there", clock.now(), user_id="801")
    run_pipeline()
    assert len(sent(client)) == 1 and svc.tickets.get(ticket_id).mention_keys == ["x#8001", "x#8002", "x#8003"]


def test_a_redelivery_of_the_joining_complaint_sends_the_acknowledgement_its_failed_attempt_owed(
        client, clock, svc, monkeypatch):
    """The attempt that joined the complaint failed at the ack ledger's write; SQS delivers the message again
    (receive count 2), and once more after it finished: one acknowledgement."""
    import app as application

    post_tweet(client, "8011", "RT @railfan: lovely staff at Leeds @ExampleRail", clock.now(), user_id="811")
    run_pipeline()
    start, failures = svc.acks.start, []

    def failing_once(ack_ref: str, kind: str) -> bool:
        if not failures:
            failures.append(ack_ref)
            raise ConnectionError("PutItem: connection reset")
        return start(ack_ref, kind)

    monkeypatch.setattr(svc.acks, "start", failing_once)
    post_tweet(client, "8012", COMPLAINT, clock.now(), user_id="811")
    [message] = receive_all("responder-inbound")
    handler = application.app.handler_map["process_inbound"]
    for receive_count in (1, 2, 3):
        message["Attributes"] = {"ApproximateReceiveCount": str(receive_count)}
        if receive_count == 1:
            with pytest.raises(Exception, match="1 of 1 records failed"):
                handler(lambda_sqs_event([message], "responder-inbound"), LambdaContext())
            assert receive_all("responder-outbox") == []
        else:
            handler(lambda_sqs_event([message], "responder-inbound"), LambdaContext())
    drain("deliver_outbox", "responder-outbox")
    ticket_id = ticket_of(svc, "x#8011")
    assert failures == [ticket_id] and ticket_of(svc, "x#8012") == ticket_id
    assert [m["idempotency_key"] for m in sent(client)] == [f"ack#{ticket_id}"]
    assert len(boto3.client("dynamodb").scan(TableName="responder-tickets")["Items"]) == 1
