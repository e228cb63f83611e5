"""Hostile and malformed input through the real routes: a clear 4xx, never a 500, and nothing reaches the queue.
The reproducers found by fuzzing the product from outside."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import receive_all, run_pipeline
from tests.helpers import sns_certificate, x_headers
from tests.unit.test_email_parse import CERT_URL, confirmation, sign

NESTED = b"[" * 1000 + b"]" * 1000
ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}


def meta_headers(body: bytes) -> dict:
    digest = hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def test_deeply_nested_json_is_refused_everywhere_with_400(client):
    assert client.http.post("/webhooks/email", body=NESTED, headers={"Content-Type": "text/plain"}).status_code == 400
    x = client.http.post("/webhooks/x", body=NESTED, headers=x_headers(NESTED))
    assert x.status_code == 400 and "nested" in x.json_body["error"]
    assert client.http.post("/webhooks/meta", body=NESTED, headers=meta_headers(NESTED)).status_code == 400
    admin = client.http.post("/admin/incidents", body=NESTED, headers=ADMIN)
    assert admin.status_code == 400 and "nested" in admin.json_body["error"]
    assert client.http.post("/admin/customer-links", body=NESTED, headers=ADMIN).status_code == 400
    assert receive_all("responder-inbound") == []


@pytest.mark.parametrize("event", [
    {"tweet_create_events": [{"id_str": "1", "created_at": "Sun Nov 29 02:55:00 +0000 2026", "user": "bob",
                              "text": "hi"}]},
    {"tweet_create_events": [{"id_str": "1", "created_at": "Sun Nov 29 02:55:00 +0000 2026",
                              "user": {"id_str": "5"}, "text": 5}]},
    {"tweet_create_events": [{"id_str": "1", "created_at": "Sun Nov 29 02:55:00 +0000 2026",
                              "user": {"id_str": "5", "screen_name": ["a", "list"]}, "text": "hi"}]},
    {"tweet_create_events": [{"id_str": "1", "created_at": "Sun Nov 29 02:55:00 +0000 2026",
                              "user": {"id_str": "5", "followers_count": 1e400}, "text": "hi"}]},
    {"tweet_create_events": [{"id_str": "1", "created_at": "Sun Nov 29 02:55:00 +0000 2026",
                              "user": {"id_str": "5"}, "text": "lone \\ud800 surrogate"}]},
    {"direct_message_events": [{"type": "message_create", "id": "9", "created_timestamp": "99999999999999999999",
                                "message_create": {"sender_id": "5", "message_data": {"text": "hi"}}}]},
], ids=["user-is-a-string", "text-is-a-number", "handle-is-a-list", "followers-overflow", "lone-surrogate",
        "dm-timestamp-overflow"])
def test_signed_x_events_of_the_wrong_shape_are_400_and_never_queued(client, event):
    body = json.dumps(event).replace("\\\\ud800", "\\ud800").encode()
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == 400, response.body
    assert "malformed" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


def test_a_meta_sender_name_that_is_not_text_is_read_as_no_name_and_processed(client, svc):
    body = json.dumps({"object": "page", "entry": [{"id": "2000000001", "time": 1795748400, "changes": [{
        "field": "feed", "value": {"from": {"id": "81", "name": {"not": "text"}}, "post_id": "1_2",
                                   "comment_id": "2_3", "created_time": 1795748400, "item": "comment",
                                   "verb": "add", "message": "hello"}}]}]}).encode()
    response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
    assert response.status_code == 200 and response.json_body == {"accepted": 1}, response.body
    run_pipeline()  # accepted means processable: it becomes a ticket, nothing lands in the dead-letter queue
    assert [t.reply_target.name for t in svc.tickets.open_tickets()] == [""]
    assert receive_all("responder-inbound-dlq") == []


def test_a_signed_subscription_confirmation_pointing_outside_sns_is_400(client):
    from chalicelib.channels.sns_http import fetch_certificate

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = confirmation()
    message["SubscribeURL"] = "https://attacker.example/confirm"
    body = json.dumps(sign(message, key)).encode()
    fetch_certificate.cache_clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CERT_URL, body=sns_certificate(key))
        response = client.http.post("/webhooks/email", body=body, headers={"Content-Type": "text/plain"})
    fetch_certificate.cache_clear()
    assert response.status_code == 400 and "SubscribeURL" in response.json_body["error"], response.body


def test_a_bearer_token_that_is_not_text_is_401(client):
    response = client.http.get("/admin/rota", headers={"Authorization": "Bearer \udcff"})
    assert response.status_code == 401


def test_the_sandbox_is_refused_outside_stage_local():
    from chalicelib.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="SANDBOX_OUTBOUND is only for stage local"):
        Settings.from_env({"STAGE": "prod", "SANDBOX_OUTBOUND": "true"})
    assert Settings.from_env({"STAGE": "local", "SANDBOX_OUTBOUND": "true"}).sandbox_outbound
