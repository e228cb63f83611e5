"""An event the store cannot hold — an id longer than DynamoDB lets a key be (2,048 bytes for a partition key) — is
refused where it arrives, with a message a person understands, and never accepted and then retried onto a
dead-letter queue; a batch keeps its valid events. Through the real routes, SQS handlers and pollers on moto (issue
23, item 5)."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import drain, receive_all, run_pipeline
from tests.helpers import BRAND_X_ID, sns_certificate, ticket_of, tweet_event, x_body, x_headers
from tests.unit.test_email_parse import CERT_URL, fixture, ses, sign

LONG_ID = "9" * 5000
COMPLAINT = "@ExampleRail my train was cancelled and there is no replacement bus, awful"


def meta_headers(body: bytes) -> dict:
    digest = hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def long_id_tweet(at, *, user_id: str = "811") -> dict:
    """A signed-looking X event whose ``id_str`` is 5,000 characters (its numeric ``id`` left short)."""
    event = tweet_event("8100", COMPLAINT, at=at, user_id=user_id)
    event["tweet_create_events"][0]["id_str"] = LONG_ID
    return event


def post_x(client, payload: dict):
    body = x_body(payload)
    return client.http.post("/webhooks/x", body=body, headers=x_headers(body))


def nothing_parked() -> bool:
    return receive_all("responder-inbound") == [] and receive_all("responder-inbound-dlq") == []


def test_a_signed_x_event_with_a_5000_character_id_is_refused_with_a_clear_4xx(client, clock, svc):
    """Issue reproducer: accepted with 200, then every PutItem failed (the key exceeds DynamoDB's 2,048 bytes) and
    the message ended on the inbound dead-letter queue."""
    response = post_x(client, long_id_tweet(clock.now()))
    assert response.status_code == 422, response.body
    error = response.json_body["error"]
    assert "message's id" in error and "5000 bytes" in error and "1024" in error
    assert receive_all("responder-inbound") == []


@pytest.mark.parametrize("field", ["user", "reply"])
def test_an_x_event_whose_author_id_or_reply_id_is_too_long_is_refused(client, clock, svc, field):
    event = tweet_event("8101", COMPLAINT, at=clock.now())
    tweet = event["tweet_create_events"][0]
    if field == "user":
        tweet["user"]["id_str"] = "7" * 3000
    else:
        tweet["in_reply_to_status_id_str"] = "é" * 1500  # 3,000 bytes of UTF-8: bytes count, not characters
    assert post_x(client, event).status_code == 422
    assert receive_all("responder-inbound") == []


def test_one_unstorable_tweet_in_a_delivery_does_not_lose_its_neighbours(client, clock, svc):
    good = tweet_event("8102", COMPLAINT, at=clock.now(), user_id="810")
    bad = long_id_tweet(clock.now(), user_id="811")
    payload = {**good, "tweet_create_events": bad["tweet_create_events"] + good["tweet_create_events"]}
    response = post_x(client, payload)
    assert response.status_code == 200, response.body
    assert response.json_body["accepted"] == 1
    [refused] = response.json_body["refused"]
    assert "tweet_create_events[0]" in refused and "message's id" in refused
    run_pipeline()  # the processor reads the same delivery the same way: the good tweet, and nothing parked
    assert ticket_of(svc, "x#8102") is not None
    assert nothing_parked()


def test_one_unstorable_meta_change_does_not_lose_its_neighbours(client, clock, svc):
    def comment(comment_id: str, author: str) -> dict:
        return {"field": "feed", "value": {"from": {"id": author, "name": "Ann"}, "post_id": "2000000001_9",
                                           "comment_id": comment_id, "created_time": int(clock.now().timestamp()),
                                           "item": "comment", "verb": "add", "message": "my train was cancelled"}}

    payload = {"object": "page", "entry": [{"id": "2000000001", "time": int(clock.now().timestamp()), "changes": [
        comment("9_1", "81"), comment("9_2", "8" * 2100), comment("9_3", "82")]}]}
    body = json.dumps(payload).encode()
    response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
    assert response.status_code == 200, response.body
    assert response.json_body["accepted"] == 2
    [refused] = response.json_body["refused"]
    assert "entry[0].changes[1]" in refused and "author's id" in refused
    run_pipeline()
    assert ticket_of(svc, "facebook#9_1") and ticket_of(svc, "facebook#9_3")
    assert nothing_parked()
    only_bad = {**payload, "entry": [{**payload["entry"][0], "changes": [comment("9_4", "8" * 2100)]}]}
    body = json.dumps(only_bad).encode()
    assert client.http.post("/webhooks/meta", body=body, headers=meta_headers(body)).status_code == 422


def test_an_unstorable_event_already_queued_is_processed_without_it_and_never_parked(client, clock, svc):
    """A delivery accepted before this check (or redriven from the dead-letter queue afterwards) ends cleanly: the
    processor skips what it cannot store."""
    from tests.conftest import queue_url

    good = tweet_event("8103", COMPLAINT, at=clock.now(), user_id="812")
    bad = long_id_tweet(clock.now(), user_id="813")
    payload = {**good, "tweet_create_events": bad["tweet_create_events"] + good["tweet_create_events"]}
    envelope = {"v": 1, "kind": "x", "id": "old-delivery", "received_at": clock.now().isoformat(),
                "payload": payload}
    import boto3

    boto3.client("sqs").send_message(QueueUrl=queue_url("responder-inbound"), MessageBody=json.dumps(envelope))
    assert drain("process_inbound", "responder-inbound") == 1
    assert ticket_of(svc, "x#8103") is not None and nothing_parked()


@pytest.fixture
def sns_key():
    from chalicelib.channels.sns_http import fetch_certificate

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fetch_certificate.cache_clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CERT_URL, body=sns_certificate(key))
        yield key
    fetch_certificate.cache_clear()


def test_an_e_mail_whose_message_id_is_too_long_is_refused_with_a_clear_4xx(client, svc, sns_key):
    raw = fixture("plain.eml").replace(b"<CAF=k2Yx0q8d+V1m@mail.example.org>",
                                       b"<" + b"a" * 3000 + b"@mail.example.org>")
    message = sign(ses(raw), sns_key)
    response = client.http.post("/webhooks/email", body=json.dumps(message).encode(),
                                headers={"Content-Type": "text/plain"})
    assert response.status_code == 422, response.body
    assert "message's id" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


@pytest.fixture
def x_http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


X_MENTIONS_URL = f"https://api.twitter.com/2/users/{BRAND_X_ID}/mentions"


def test_the_x_poller_skips_an_unstorable_mention_and_queues_the_rest(svc, x_http):
    """Counted and named in the log; the page's other mentions are queued and the cursor moves on (never a crash
    of the run, which would poll the same page again every two minutes)."""
    from chalicelib.usecases.poll_x import poll_mentions

    x_http.get(X_MENTIONS_URL, json={
        "data": [{"id": "8201", "text": "@ExampleRail refund please", "author_id": "820",
                  "created_at": "2026-11-29T02:50:00.000Z", "conversation_id": "8201",
                  "edit_history_tweet_ids": ["8201"]},
                 {"id": "9" * 2000, "text": "@ExampleRail hello", "author_id": "821",
                  "created_at": "2026-11-29T02:51:00.000Z", "conversation_id": "8201",
                  "edit_history_tweet_ids": ["9" * 2000]}],
        "includes": {"users": [{"id": "820", "username": "ann", "name": "Ann"},
                               {"id": "821", "username": "bob", "name": "Bob"}]},
        "meta": {"result_count": 2, "newest_id": "8201"}})
    result = poll_mentions(svc)
    assert result["skipped"] == 1 and result["since_id"] == "8201"
    run_pipeline()
    assert ticket_of(svc, "x#8201") is not None and nothing_parked()


def test_a_signed_x_event_larger_than_the_inbound_queue_holds_is_413_not_500(client, clock):
    response = post_x(client, tweet_event("8104", "@ExampleRail " + "a" * 300_000, at=clock.now()))
    assert response.status_code == 413, response.body
    assert "inbound queue holds" in response.json_body["error"]
    assert receive_all("responder-inbound") == []
