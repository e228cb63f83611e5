"""Every other channel through its real route, into the same pipeline (moto; SNS certificate fetch intercepted)."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import receive_all, run_pipeline
from tests.helpers import sns_certificate
from tests.unit.test_email_parse import CERT_URL, confirmation, fixture, ses, sign

META = Path(__file__).resolve().parent.parent / "fixtures" / "meta"
META_SECRET = "local-meta-app-secret"


def meta_headers(body: bytes, secret: str = META_SECRET) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


# ------------------------------------------------------------------------------------------------ Meta
def test_meta_verify_token_handshake(client):
    ok = client.http.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=local-meta-verify-token&hub.challenge=42x")
    assert ok.status_code == 200 and ok.body == b"42x"
    bad = client.http.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42x")
    assert bad.status_code == 403 and "verify_token" in bad.json_body["error"]


@pytest.mark.parametrize("fixture_name", ["feed_comment.json", "messenger_message.json", "instagram_comment.json"])
def test_signed_meta_events_become_tickets(client, svc, fixture_name):
    body = (META / fixture_name).read_bytes()
    response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
    assert response.status_code == 200, response.body
    assert response.json_body["accepted"] >= 1
    run_pipeline()
    tickets = list(svc.tickets.open_tickets())
    assert len(tickets) == response.json_body["accepted"]
    assert {t.channel for t in tickets} <= {"facebook", "messenger", "instagram"}


def test_meta_batch_and_echoes(client, svc):
    batch = (META / "batch.json").read_bytes()
    accepted = client.http.post("/webhooks/meta", body=batch, headers=meta_headers(batch)).json_body["accepted"]
    echo = (META / "echo.json").read_bytes()
    assert client.http.post("/webhooks/meta", body=echo, headers=meta_headers(echo)).json_body == {"accepted": 0}
    run_pipeline()
    assert accepted >= 2
    assert len(list(svc.tickets.open_tickets())) <= accepted  # replies thread into their post's ticket


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},
    {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
])
def test_forged_meta_webhooks_are_rejected(client, headers):
    body = (META / "feed_comment.json").read_bytes()
    response = client.http.post("/webhooks/meta", body=body, headers=headers)
    assert response.status_code == 401
    assert receive_all("responder-inbound") == []


def test_malformed_meta_body_is_400(client):
    body = b'{"object": "page", "entry": "nope"}'
    response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
    assert response.status_code == 400 and "malformed" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


# ------------------------------------------------------------------------------------------------ e-mail
@pytest.fixture
def sns_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def sns_cert(sns_key):
    from chalicelib.channels.sns_http import fetch_certificate

    fetch_certificate.cache_clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CERT_URL, body=sns_certificate(sns_key))
        yield mock
    fetch_certificate.cache_clear()


def test_ses_email_via_signed_sns_becomes_a_ticket(client, svc, sns_key, sns_cert):
    message = sign(ses(fixture("plain.eml")), sns_key)
    body = json.dumps(message).encode()
    response = client.http.post("/webhooks/email", body=body, headers={"Content-Type": "text/plain; charset=UTF-8"})
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": 1}
    run_pipeline()
    [ticket] = list(svc.tickets.open_tickets())
    assert ticket.channel == "email" and ticket.reply_target.private is True


def test_sns_subscription_is_confirmed(client, sns_key, sns_cert):
    message = sign(confirmation(), sns_key)
    sns_cert.get(message["SubscribeURL"], body="<ConfirmSubscriptionResponse/>")
    response = client.http.post("/webhooks/email", body=json.dumps(message).encode(),
                                headers={"Content-Type": "text/plain"})
    assert response.status_code == 200 and response.json_body == {"subscribed": True}
    assert any(call.request.url.startswith(message["SubscribeURL"].split("?")[0]) and "Confirm" in call.request.url
               for call in sns_cert.calls)


def test_auto_reply_is_accepted_but_not_queued(client, sns_key, sns_cert):
    message = sign(ses(fixture("auto_reply.eml")), sns_key)
    response = client.http.post("/webhooks/email", body=json.dumps(message).encode(),
                                headers={"Content-Type": "text/plain"})
    assert response.json_body == {"accepted": 0}
    assert receive_all("responder-inbound") == []


def test_forged_sns_message_is_rejected(client, sns_key, sns_cert):
    message = sign(ses(fixture("plain.eml")), sns_key)
    message["Message"] = message["Message"].replace("Received", "Received ")
    response = client.http.post("/webhooks/email", body=json.dumps(message).encode(),
                                headers={"Content-Type": "text/plain"})
    assert response.status_code == 401
    assert receive_all("responder-inbound") == []


# ------------------------------------------------------------------------------------------------ web form
def form_post(client, payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.http.post("/contact", body=body, headers={"Content-Type": "application/json"})


def test_contact_form_answers_with_reference_and_status_link_then_becomes_that_ticket(client, svc):
    response = form_post(client, {"name": "Ada Rider", "email": "Ada@Example.org",
                                  "message": "I was charged twice for my season ticket."})
    assert response.status_code == 202, response.body
    reference, link = response.json_body["reference"], response.json_body["status_url"]
    assert link.startswith("https://help.example.test/s/" + reference + "-")
    run_pipeline()
    ticket = svc.tickets.get(reference)
    assert ticket is not None and ticket.channel == "form" and ticket.reply_target.recipient == "ada@example.org"


@pytest.mark.parametrize("payload, status, field", [
    (b"", 400, None),
    (b"{oops", 400, None),
    ({"name": "", "email": "not-an-address", "message": "hi"}, 422, "email"),
    ({"name": "A", "email": "a@example.org"}, 422, "message"),
    ({"name": "A", "email": "a@example.org", "message": "x" * 20_000}, 413, None),
])
def test_contact_form_bad_input_gets_a_clear_error_and_nothing_is_queued(client, payload, status, field):
    response = form_post(client, payload)
    assert response.status_code == status
    assert response.json_body["error"]
    if field:
        assert field in json.dumps(response.json_body["details"])
    assert receive_all("responder-inbound") == []


def test_contact_form_abuse_limit(svc, client):
    svc.settings = svc.settings.model_copy(update={"form_per_address_per_hour": 5})  # the deployed default
    payload = {"name": "Bot", "email": "bot@example.org", "message": "Buy cheap tickets"}
    statuses = [form_post(client, payload).status_code for _ in range(7)]
    assert statuses[:5] == [202] * 5 and statuses[5:] == [429, 429]


def test_the_form_limit_is_a_stage_setting_high_on_the_local_stack(svc, client):
    from chalicelib.settings import Settings, SettingsError

    assert Settings.from_env({"STAGE": "prod"}).form_per_address_per_hour == 5
    assert Settings.from_env({"STAGE": "dev", "FORM_PER_ADDRESS_PER_HOUR": "20"}).form_per_address_per_hour == 20
    for bad in ("0", "-1", "many"):
        with pytest.raises(SettingsError, match="form_per_address_per_hour"):
            Settings.from_env({"STAGE": "dev", "FORM_PER_ADDRESS_PER_HOUR": bad})
    assert svc.settings.form_per_address_per_hour >= 1000  # everything local comes from 127.0.0.1
    payload = {"name": "Dev", "email": "dev@example.org", "message": "Testing the form again"}
    assert {form_post(client, payload).status_code for _ in range(8)} == {202}


# ------------------------------------------------------------------------------------------------ parse once
def peek_inbound() -> list[dict]:
    """The inbound queue's message bodies, left there to be processed."""
    import boto3

    from tests.conftest import queue_url

    messages = receive_all("responder-inbound")
    sqs = boto3.client("sqs", region_name="eu-west-2")
    for m in messages:
        sqs.change_message_visibility(QueueUrl=queue_url("responder-inbound"), ReceiptHandle=m["ReceiptHandle"],
                                      VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages]


def test_every_entry_point_queues_its_mentions_parsed_once(client, svc, sns_key, sns_cert):
    """Meta, e-mail and the form each put a version-2 envelope of normalized mentions on the inbound queue (never the
    platform's payload, nor a secret); processing makes the tickets from it."""
    meta = (META / "batch.json").read_bytes()
    accepted = client.http.post("/webhooks/meta", body=meta, headers=meta_headers(meta)).json_body["accepted"]
    mail = json.dumps(sign(ses(fixture("plain.eml")), sns_key)).encode()
    assert client.http.post("/webhooks/email", body=mail, headers={"Content-Type": "text/plain"}).status_code == 200
    reference = form_post(client, {"name": "Ada Rider", "email": "ada@example.org",
                                   "message": "I was charged twice for my season ticket."}).json_body["reference"]
    envelopes = peek_inbound()
    assert sorted(e["source"] for e in envelopes) == ["email", "form", "meta"]
    for envelope in envelopes:
        assert (envelope["v"], envelope["kind"]) == (2, "mentions") and "payload" not in envelope
        assert "Signature" not in json.dumps(envelope) and "local-meta-app-secret" not in json.dumps(envelope)
    by_source = {e["source"]: e["mentions"] for e in envelopes}
    assert len(by_source["meta"]) == accepted
    assert [m["channel"] for m in by_source["email"]] == ["email"]
    assert by_source["form"][0]["extra"]["reserved_reference"] == reference
    run_pipeline()
    assert svc.tickets.get(reference) is not None
    assert {t.channel for t in svc.tickets.open_tickets()} >= {"email", "form"}
    assert receive_all("responder-inbound-dlq") == []


def test_version_1_envelopes_left_on_the_queue_are_still_processed(svc, clock, sns_key):
    """Raw platform payloads an older version queued (or the dead-letter queue redrives) are read by the legacy
    adapter: nothing valid is lost when version 2 deploys."""
    import boto3

    from chalicelib.usecases.legacy_envelope import legacy_envelope
    from tests.conftest import queue_url
    from tests.helpers import ticket_of, tweet_event

    sqs = boto3.client("sqs", region_name="eu-west-2")
    url = queue_url("responder-inbound")
    tweet = tweet_event("9301", "@ExampleRail my train was cancelled, refund?", user_id="931", at=clock.now())
    for kind, payload in (("x", tweet), ("meta", json.loads((META / "feed_comment.json").read_bytes())),
                          ("email", sign(ses(fixture("plain.eml")), sns_key))):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(legacy_envelope(kind, payload,
                                                                              received_at=clock.now())))
    run_pipeline()
    assert ticket_of(svc, "x#9301") is not None
    assert {t.channel for t in svc.tickets.open_tickets()} == {"x", "facebook", "email"}
    assert receive_all("responder-inbound") == [] and receive_all("responder-inbound-dlq") == []


def test_the_dead_letter_listing_names_an_envelope_of_either_version_by_where_it_came_from(svc, clock):
    import boto3

    from chalicelib.usecases.legacy_envelope import legacy_envelope, legacy_mentions
    from tests.conftest import queue_url
    from tests.helpers import queued, tweet_event
    from tools.admin import describe_dead_letters

    sqs = boto3.client("sqs", region_name="eu-west-2")
    tweet = tweet_event("9401", "@ExampleRail my refund never came", user_id="941", at=clock.now())
    old = legacy_envelope("x", tweet, received_at=clock.now())
    new = queued(*legacy_mentions(svc, old, refused=[]), received_at=clock.now())
    for envelope in (old, new):
        sqs.send_message(QueueUrl=queue_url("responder-inbound-dlq"), MessageBody=json.dumps(envelope))
    listed = describe_dead_letters(sqs, "responder-inbound")["messages"]
    assert sorted((m["kind"], m["key"]) for m in listed) == sorted([("x", old["id"]), ("x", new["id"])])
    assert "refund" not in json.dumps(listed)


@pytest.mark.parametrize("name", [{"first": "Jane"}, ["Jane"], 42, None])
def test_a_signed_meta_comment_whose_author_name_is_not_text_is_stored_without_it(client, svc, name):
    """The author's name is kept only when it is text: the comment becomes a ticket (greeted without a name), and
    processing it fails for nothing (nothing retried onto the inbound dead-letter queue)."""
    payload = json.loads((META / "feed_comment.json").read_bytes())
    payload["entry"][0]["changes"][0]["value"]["from"]["name"] = name
    body = json.dumps(payload).encode()
    response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
    assert response.status_code == 200 and response.json_body == {"accepted": 1}, response.body
    assert _processing_failures() == []
    [ticket] = list(svc.tickets.open_tickets())
    assert ticket.channel == "facebook" and ticket.reply_target.name == ""


def _string_paths(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _string_paths(item, (*path, n))
    elif isinstance(value, str) and path[-1] not in ("object", "field", "item", "verb"):
        yield path


def _replaced(payload, path, new):
    copy = json.loads(json.dumps(payload))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


@pytest.mark.parametrize("fixture", ["feed_comment.json", "instagram_comment.json", "messenger_message.json"])
def test_any_text_field_of_a_signed_meta_payload_given_as_an_object_is_refused_or_stored_never_retried(
        client, svc, fixture):
    """Each text field a Meta payload carries, replaced by an object: the webhook refuses the payload (400) or
    accepts it and it is stored; nothing accepted ever fails processing onto the inbound dead-letter queue."""
    payload = json.loads((META / fixture).read_bytes())
    for path in _string_paths(payload):
        body = json.dumps(_replaced(payload, path, {"unexpected": ["object"]})).encode()
        response = client.http.post("/webhooks/meta", body=body, headers=meta_headers(body))
        assert response.status_code in (200, 400), (path, response.status_code, response.body)
        assert _processing_failures() == [], path


def _processing_failures() -> list:
    """Whatever is on the inbound queue, through the real SQS handler: the records it reports as failed."""
    import boto3

    import app as application
    from tests.conftest import LambdaContext, lambda_sqs_event, queue_url

    sqs, failed = boto3.client("sqs", region_name="eu-west-2"), []
    url = queue_url("responder-inbound")
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        answer = application.app.handler_map["process_inbound"](lambda_sqs_event(batch, "responder-inbound"),
                                                               LambdaContext())
        failed += answer.get("batchItemFailures", [])
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return failed
