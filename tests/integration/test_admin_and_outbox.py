"""Oversight endpoints and the outbox's delivery guarantees (real tweepy against intercepted X HTTP)."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import boto3
import pytest
import responses

from tests.conftest import LambdaContext, drain, lambda_sqs_event, queue_url, receive_all, run_pipeline, utc
from tests.helpers import a_ticket, ticket_of, tweet_event, x_body, x_headers

ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}
TWEETS_URL = "https://api.twitter.com/2/tweets"


def post_tweet(client, tweet_id, text, at, **kwargs):
    body = x_body(tweet_event(tweet_id, text, at=at, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


# ------------------------------------------------------------------------------------------------ oversight
def test_admin_endpoints_need_the_admin_token(client):
    assert client.http.get("/admin/rota").status_code == 401
    assert client.http.get("/admin/rota", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_rota_says_who_is_on_now_and_next_with_backlog(client, clock):
    post_tweet(client, "8001", "@ExampleRail my train was cancelled, refund please", clock.now())
    run_pipeline()
    view = client.http.get("/admin/rota", headers=ADMIN).json_body
    complaints = view["desks"]["complaints"]
    assert complaints["open"] is False
    assert complaints["next_opening"] == "2026-11-29T09:00:00Z"
    assert complaints["backlog"] == 1
    assert view["desks"]["oncall"]["open"] is True


def test_backlog_is_urgent_first_then_oldest_first_contact(client, clock, svc):
    clock.set(utc(2026, 11, 24, 10, 0))
    post_tweet(client, "8002", "@ExampleRail when is my refund coming?", clock.now() - timedelta(minutes=30),
               user_id="1")
    post_tweet(client, "8003", "@ExampleRail refund status please", clock.now() - timedelta(minutes=50), user_id="2")
    post_tweet(client, "8004", "@ExampleRail I'm stranded at Didcot, last train cancelled, alone with my kids",
               clock.now() - timedelta(minutes=5), user_id="3")
    run_pipeline()
    desk = svc.tickets.get(ticket_of(svc, "x#8002")).desk
    tickets = client.http.get(f"/admin/backlog/{desk}", headers=ADMIN).json_body["tickets"]
    order = [ticket_of(svc, k) for k in ("x#8004", "x#8003", "x#8002")]
    assert [t["ticket_id"] for t in tickets if t["ticket_id"] in order] == order
    assert client.http.get("/admin/backlog/nope", headers=ADMIN).status_code == 404


def test_incident_validation_and_resolution_with_one_follow_up_per_ticket(client, clock, svc):
    bad = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps({"title": "x"}))
    assert bad.status_code == 422 and "title" in bad.json_body["error"]
    bad_desk = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "Signal failure", "desks": ["nowhere"]}))
    assert bad_desk.status_code == 422
    incident = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "Signal failure at Didcot", "keywords": ["didcot"]})).json_body
    post_tweet(client, "8005", "@ExampleRail trains at Didcot all cancelled? what is happening", clock.now())
    run_pipeline()
    update = client.http.post(f"/admin/incidents/{incident['incident_id']}", headers=ADMIN, body=json.dumps(
        {"text": "Buses replace trains until 10:00", "follow_up": True})).json_body
    assert update["status"] == "active" and update["follow_ups_queued"] == 1
    path = f"/admin/incidents/{incident['incident_id']}/resolve"
    first = client.http.post(path, headers=ADMIN, body=json.dumps({"follow_up": True})).json_body
    again = client.http.post(path, headers=ADMIN, body=json.dumps({"follow_up": True}))
    assert first["status"] == "resolved" and first["follow_ups_queued"] == 1 and again.status_code == 409
    drain("deliver_outbox", "responder-outbox")
    texts = [m["text"] for m in client.http.get("/local/outbox").json_body["messages"]]
    assert len(texts) == 3  # the acknowledgement, one update, one resolution
    assert sum(t.startswith("Update on Signal failure at Didcot: Buses replace trains until 10:00") for t in texts) == 1
    assert sum(t.startswith("Resolved: Signal failure at Didcot. Buses replace trains") for t in texts) == 1
    assert client.http.post("/admin/incidents/INC-NOPE/resolve", headers=ADMIN, body="{}").status_code == 404


def test_follow_ups_on_public_x_carry_no_url_but_keep_the_reference(client, clock, svc):
    incident = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "Flooding at Swindon", "keywords": ["swindon"], "url": "https://status.example-rail.test/flood"}
    )).json_body
    post_tweet(client, "8020", "@ExampleRail flooding at Swindon? no trains at all", clock.now())
    run_pipeline()
    resolved = client.http.post(f"/admin/incidents/{incident['incident_id']}/resolve", headers=ADMIN,
                                body=json.dumps({"text": "Lines reopened", "follow_up": True}))
    assert resolved.status_code == 200 and resolved.json_body["follow_ups_queued"] == 1
    drain("deliver_outbox", "responder-outbox")
    sent = client.http.get("/local/outbox").json_body["messages"]
    [follow_up] = [m for m in sent if m["idempotency_key"].startswith("followup#")]
    assert follow_up["channel"] == "x" and not follow_up["private"]
    assert "http" not in follow_up["text"] and "Lines reopened" in follow_up["text"]
    assert ticket_of(svc, "x#8020") in follow_up["text"]


def test_resolving_a_resolved_incident_answers_409_and_queues_nothing(client, clock, svc):
    incident = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "Power failure at Reading", "keywords": ["reading"]})).json_body
    post_tweet(client, "8010", "@ExampleRail no trains at Reading at all?", clock.now())
    run_pipeline()
    ticket_id = ticket_of(svc, "x#8010")
    assert svc.tickets.get(ticket_id).incident_id == incident["incident_id"]
    path = f"/admin/incidents/{incident['incident_id']}/resolve"
    clock.advance(minutes=30)
    first = client.http.post(path, headers=ADMIN, body=json.dumps(
        {"text": "Power is back and trains are running", "follow_up": True}))
    assert first.status_code == 200 and first.json_body["follow_ups_queued"] == 1
    resolved_at = first.json_body["resolved_at"]
    drain("deliver_outbox", "responder-outbox")
    sent = len(client.http.get("/local/outbox").json_body["messages"])

    clock.advance(minutes=30)
    again = client.http.post(path, headers=ADMIN, body=json.dumps({"text": "All clear", "follow_up": True}))
    assert again.status_code == 409
    assert f"already resolved at {resolved_at}" in again.json_body["error"]
    assert receive_all("responder-outbox") == []
    assert drain("deliver_outbox", "responder-outbox") == 0
    assert len(client.http.get("/local/outbox").json_body["messages"]) == sent
    [stored] = [i for i in client.http.get("/admin/incidents", headers=ADMIN).json_body["incidents"]
                if i["incident_id"] == incident["incident_id"]]
    assert stored["resolved_at"] == resolved_at and stored["text"] == "Power is back and trains are running"


def test_the_status_page_says_an_update_was_sent_not_that_the_problem_was_fixed(client, clock, svc):
    from chalicelib.domain.status_link import make_token

    incident = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "Signal failure at Swindon", "keywords": ["swindon"]})).json_body
    post_tweet(client, "8011", "@ExampleRail stuck outside Swindon, what is going on?", clock.now())
    run_pipeline()
    ticket_id = ticket_of(svc, "x#8011")
    status_path = f"/s/{make_token(svc.secrets.get('STATUS_LINK_KEY'), ticket_id)}"

    def timeline() -> list[str]:
        return [e["text"] for e in client.http.get(status_path + ".json").json_body["timeline"]]

    clock.advance(minutes=10)
    client.http.post(f"/admin/incidents/{incident['incident_id']}", headers=ADMIN, body=json.dumps(
        {"text": "Engineers are on site", "follow_up": True}))
    drain("deliver_outbox", "responder-outbox")
    assert "We sent you an update about a problem affecting your request" in timeline()
    page = client.http.get(status_path, headers={"Accept": "text/html"}).body.decode()
    assert "fixed" not in " ".join(timeline()) and "fixed" not in page
    assert "We sent you an update about a problem affecting your request" in page

    clock.advance(minutes=10)
    client.http.post(f"/admin/incidents/{incident['incident_id']}/resolve", headers=ADMIN,
                     body=json.dumps({"follow_up": True}))
    drain("deliver_outbox", "responder-outbox")
    assert timeline()[-2:] == ["We sent you an update about a problem affecting your request",
                               "We let you know the problem affecting your request was fixed"]


def test_forget_removes_every_trace_of_a_customer(client, clock, svc):
    post_tweet(client, "8006", "@ExampleRail my booking ref ABC123 was cancelled", clock.now(), user_id="900")
    post_tweet(client, "8007", "@ExampleRail thanks for nothing", clock.now(), user_id="901")
    run_pipeline()
    result = client.http.delete("/admin/customers/x%23900", headers=ADMIN).json_body
    # x#900 and its handle x@traveller900; the words of their message: abc123, booking, ref, cancelled
    assert result == {"identities": 2, "tickets": 1, "mentions": 1, "words": 4, "sightings": 0}
    assert svc.words.tickets("abc123", 10).hits == [] and len(svc.words.tickets("nothing", 10).hits) == 1
    assert svc.mentions.get("x#8006") is None and svc.mentions.get("x#8007") is not None
    assert svc.customers.lookup("x@traveller900") is None and svc.customers.lookup("x@traveller901") is not None
    assert len(boto3.client("dynamodb").scan(TableName="responder-tickets")["Items"]) == 1


def test_redrive_moves_dead_letters_back(svc):
    from tools.admin import redrive_queue

    sqs = boto3.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=queue_url("responder-inbound-dlq"), MessageBody=json.dumps({"n": n}))
    assert redrive_queue(sqs, "responder-inbound") == 3
    assert sorted(json.loads(m["Body"])["n"] for m in receive_all("responder-inbound")) == [0, 1, 2]
    assert receive_all("responder-inbound-dlq") == []


# ------------------------------------------------------------------------------------------------ outbox
@pytest.fixture
def real_x(svc):
    """The production X sender (tweepy), its HTTP intercepted."""
    from chalicelib.bootstrap import _real_sender_factory

    svc.sender_factory = _real_sender_factory(svc.settings, svc.secrets, boto3.session.Session())
    svc._senders.clear()
    svc.tickets.add(a_ticket("R00000001", utc(2026, 11, 29, 3)))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def outbox_message(ticket_id="R00000001", **overrides):
    message = {"idempotency_key": f"ack#{ticket_id}", "kind": "ack", "ticket_id": ticket_id, "channel": "x",
               "recipient": "555", "in_reply_to": "123", "private": False, "subject": "", "extra": {},
               "text": f"We're offline, back at 09:00. Ref {ticket_id}", "queued_at": "2026-11-29T03:00:00+00:00",
               "expires_at": "2026-11-29T09:00:00+00:00"}
    message.update(overrides)
    return message


def deliver_once(message, receive_count=1):
    import app as application

    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue_url("responder-outbox"), MessageBody=json.dumps(message))
    [received] = receive_all("responder-outbox")
    received["Attributes"] = {"ApproximateReceiveCount": str(receive_count)}
    return application.app.handler_map["deliver_outbox"](lambda_sqs_event([received], "responder-outbox"),
                                                          LambdaContext())


def test_reply_is_posted_with_tweepy_once_even_if_delivered_twice(svc, real_x):
    real_x.post(TWEETS_URL, json={"data": {"id": "999", "text": "ok"}}, status=201)
    deliver_once(outbox_message())
    deliver_once(outbox_message())
    posts = [c for c in real_x.calls if c.request.url == TWEETS_URL]
    assert len(posts) == 1
    assert json.loads(posts[0].request.body)["reply"] == {"in_reply_to_tweet_id": "123"}
    assert svc.tickets.get("R00000001").sent_keys == ["ack#R00000001"]


def test_503_is_retried_later_with_backoff_not_lost(svc, real_x):
    real_x.post(TWEETS_URL, json={"title": "Service Unavailable"}, status=503)
    with pytest.raises(Exception, match="1 of 1 records failed"):
        deliver_once(outbox_message())
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url("responder-outbox"),
                                                     AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # back after its backoff
    assert svc.tickets.get("R00000001").sent_keys == []


def test_403_duplicate_goes_to_the_dead_letter_queue_once(svc, real_x):
    real_x.post(TWEETS_URL, status=403, json={"detail": "You are not allowed to create a Tweet with duplicate content.",
                                              "title": "Forbidden", "status": 403})
    deliver_once(outbox_message())
    [dead] = receive_all("responder-outbox-dlq")
    assert json.loads(dead["Body"])["idempotency_key"] == "ack#R00000001"
    assert "duplicate" in json.loads(dead["Body"])["error"]


def test_ack_expires_when_the_team_is_back_before_it_could_be_sent(svc, clock, real_x):
    clock.set(utc(2026, 11, 29, 9, 1))
    deliver_once(outbox_message())
    assert [c for c in real_x.calls if c.request.url == TWEETS_URL] == []


def test_outbound_rate_holds_back_a_storm_in_the_waiting_room_never_on_the_dead_letter_queue(svc, real_x):
    import time

    import app as application
    from tools.local_stack import scheduled_event

    limit = svc.rate_per_minute("x")
    taken = [svc.allowance.take("x", svc.now(), limit).wait for _ in range(limit + 3)]
    assert taken[:limit] == [0] * limit and all(wait > 0 for wait in taken[limit:])
    real_x.post(TWEETS_URL, json={"data": {"id": "1", "text": "ok"}}, status=201)
    # the record succeeds (no SQS receive spent on waiting): the message waits in the waiting room
    assert deliver_once(outbox_message("R00000002"))["succeeded"] == 1
    assert [c for c in real_x.calls if c.request.url == TWEETS_URL] == []
    assert receive_all("responder-outbox") == [] and receive_all("responder-outbox-dlq") == []
    assert [w.message["idempotency_key"] for w in svc.waiting.first("x", 10)] == ["ack#R00000002"]
    # the dispatcher (the real schedule's handler) reserves its slot and queues it, delayed until then
    ran = application.app.handler_map["dispatch_outbox"](scheduled_event("dispatch_outbox"), LambdaContext())
    assert ran["x"]["scheduled"] == 1 and svc.waiting.first("x", 10) == []
    time.sleep(math.ceil(60 / limit) + 0.5)
    [queued] = receive_all("responder-outbox")
    slot = datetime.fromisoformat(json.loads(queued["Body"])["slot"])
    assert slot == svc.now() + timedelta(seconds=60 / limit)  # the next token of the bucket
    queued["Attributes"] = {"ApproximateReceiveCount": "1"}
    sent_at_slot = application.app.handler_map["deliver_outbox"]
    svc.clock.set(slot)
    assert sent_at_slot(lambda_sqs_event([queued], "responder-outbox"), LambdaContext())["succeeded"] == 1
    assert len([c for c in real_x.calls if c.request.url == TWEETS_URL]) == 1  # at its slot, no token taken again


def test_a_lease_whose_first_release_is_throttled_is_still_released(svc, clock, monkeypatch):
    from pynamodb.exceptions import DeleteError

    from chalicelib.store.models import StateModel
    from chalicelib.store.ports import ACQUIRED

    assert svc.outbox.acquire_lease("ack#RTHROTTLE1", clock.now(), timedelta(minutes=15)) == ACQUIRED
    real_delete, failures = StateModel.delete, []

    def throttled_once(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise DeleteError("Failed to delete item", cause=Exception("ThrottlingException"))
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(StateModel, "delete", throttled_once)
    svc.outbox.release_lease("ack#RTHROTTLE1")
    assert failures == [1]
    # released: the next attempt takes the lease again instead of finding it held, then lapsed ("outcome unknown")
    assert svc.outbox.acquire_lease("ack#RTHROTTLE1", clock.now(), timedelta(minutes=15)) == ACQUIRED
