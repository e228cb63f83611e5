"""The first vertical slice, through the real Chalice routes and SQS handler against moto."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import boto3
import pytest

from tests.conftest import LambdaContext, drain, lambda_sqs_event, queue_url, receive_all
from tests.helpers import X_SECRET, ticket_of, tweet_event, x_body, x_headers


def test_crc_challenge_answers_with_the_hmac_of_the_token(client):
    response = client.http.get("/webhooks/x?crc_token=abc123")
    assert response.status_code == 200
    expected = base64.b64encode(hmac.new(X_SECRET.encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert response.json_body == {"response_token": f"sha256={expected}"}


def test_crc_without_token_is_a_clear_400(client):
    response = client.http.get("/webhooks/x")
    assert response.status_code == 400
    assert "crc_token" in response.json_body["error"]


def test_signed_mention_is_enqueued_then_stored_by_the_queue_handler(client, clock, svc):
    body = x_body(tweet_event("9001", "@ExampleRail my train was cancelled and nobody told us", at=clock.now()))
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": 1}
    queued = receive_all("responder-inbound")
    assert len(queued) == 1
    envelope = json.loads(queued[0]["Body"])  # the normalized mention, parsed once here: no platform payload
    assert envelope.keys() == {"v", "kind", "id", "received_at", "source", "mentions"} and "payload" not in envelope
    assert (envelope["v"], envelope["kind"], envelope["source"]) == (2, "mentions", "x")
    [mention] = envelope["mentions"]
    assert mention["channel"] == "x" and mention["external_id"] == "9001" and mention["author_id"] == "555"
    assert mention["text"] == "@ExampleRail my train was cancelled and nobody told us"

    boto3.client("sqs").change_message_visibility(
        QueueUrl=queue_url("responder-inbound"), ReceiptHandle=queued[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert drain("process_inbound", "responder-inbound") == 1
    item = boto3.client("dynamodb").get_item(TableName="responder-mentions", Key={"pk": {"S": "x#9001"}})["Item"]
    assert json.loads(item["mention"]["S"])["text"].startswith("@ExampleRail my train was cancelled")
    assert item["owner"]["S"] == json.loads(queued[0]["Body"])["id"]  # the envelope that stored it
    ticket = boto3.client("dynamodb").get_item(TableName="responder-tickets", Key={"ticket_id": {"S": ticket_of(
        svc, "x#9001")}})
    assert ticket["Item"]["mention_keys"]["L"] == [{"S": "x#9001"}]


def test_extended_tweet_full_text_is_used(client, clock, svc):
    text = "@ExampleRail " + "the 07:12 from Reading was cancelled again and I have now missed my connection " * 3
    body = x_body(tweet_event("9002", text.strip(), at=clock.now(), extended=True))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    drain("process_inbound", "responder-inbound")
    assert svc.mentions.get("x#9002").mention.text == text.strip()


@pytest.mark.parametrize("headers, status", [
    ({"Content-Type": "application/json"}, 401),  # unsigned
    ({"Content-Type": "application/json", "x-twitter-webhooks-signature": "sha256=Zm9yZ2Vk"}, 401),  # forged
])
def test_unsigned_or_forged_webhooks_are_rejected_and_nothing_is_queued(client, clock, headers, status):
    body = x_body(tweet_event("9003", "@ExampleRail hello", at=clock.now()))
    response = client.http.post("/webhooks/x", body=body, headers=headers)
    assert response.status_code == status
    assert "signature" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


def test_signed_with_another_secret_is_rejected(client, clock):
    body = x_body(tweet_event("9004", "@ExampleRail hello", at=clock.now()))
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body, secret="someone-else"))
    assert response.status_code == 401


@pytest.mark.parametrize("body, status, words", [
    (b"", 400, "empty"),
    (b"{not json", 400, "not valid JSON"),
    (b'{"tweet_create_events": "nope"}', 400, "malformed"),
    (b'{"tweet_create_events": [{"id_str": "1"}]}', 400, "malformed"),
    (b"[" + b"1," * 600_000 + b"1]", 413, "larger than"),
])
def test_bad_bodies_get_a_clear_4xx_and_never_reach_the_queue(client, body, status, words):
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == status
    assert words in response.json_body["error"]
    assert receive_all("responder-inbound") == []


def test_brand_own_tweets_and_other_events_are_accepted_but_not_queued(client, clock):
    own = tweet_event("9005", "Thanks for flagging, we're on it", user_id="1000000001", at=clock.now())
    body = x_body(own)
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).json_body == {"accepted": 0}
    favorite = x_body({"for_user_id": "1000000001", "favorite_events": [{"id": "1"}]})
    assert client.http.post("/webhooks/x", body=favorite, headers=x_headers(favorite)).json_body == {"accepted": 0}
    assert receive_all("responder-inbound") == []


def test_same_mention_by_webhook_twice_and_sqs_redelivery_yields_one_mention_and_one_ticket(client, clock, svc):
    body = x_body(tweet_event("9006", "@ExampleRail where is my refund?", at=clock.now()))
    for _ in range(2):  # X retries the webhook
        assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    messages = receive_all("responder-inbound")
    assert len(messages) == 2
    handler = __import__("app").app.handler_map["process_inbound"]
    # each message delivered twice (SQS at-least-once): four deliveries in all
    handler(lambda_sqs_event(messages + messages, "responder-inbound"), LambdaContext())
    tickets = boto3.client("dynamodb").scan(TableName="responder-tickets")["Items"]
    mentions = boto3.client("dynamodb").scan(TableName="responder-mentions")["Items"]
    assert len(mentions) == 1 and len(tickets) == 1


def test_a_bad_record_does_not_fail_its_neighbours(client, clock, svc):
    good = x_body(tweet_event("9007", "@ExampleRail is the 09:00 running?", at=clock.now()))
    client.http.post("/webhooks/x", body=good, headers=x_headers(good))
    sqs = boto3.client("sqs")
    url = queue_url("responder-inbound")
    sqs.send_message(QueueUrl=url, MessageBody="this is not an envelope")
    messages = receive_all("responder-inbound")
    assert len(messages) == 2
    handler = __import__("app").app.handler_map["process_inbound"]
    with pytest.raises(Exception, match="1 of 2 records failed"):
        handler(lambda_sqs_event(messages, "responder-inbound"), LambdaContext())
    # the good record was processed and deleted; only the bad one is left for retry / the DLQ
    assert ticket_of(svc, "x#9007")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1
    assert int(attrs["ApproximateNumberOfMessages"]) == 0
