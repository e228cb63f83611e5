"""Mentions through the whole pipeline: webhook route -> inbound queue -> process handler -> desk queue /
outbox -> deliver handler -> the local sandbox. Real Chalice routes and handlers, real boto3 against moto."""
from __future__ import annotations

import json
import threading

import boto3
import pytest

from chalicelib.domain import history as h
from tests.conftest import LambdaContext, drain, receive_all, run_pipeline, utc
from tests.helpers import ticket_of, tweet_event, x_body, x_headers
from tools.local_stack import scheduled_event

ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}


def post_tweet(client, tweet_id, text, at, **kwargs):
    body = x_body(tweet_event(tweet_id, text, at=at, **kwargs))
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == 200, response.body
    return response


def outbox(client):
    response = client.http.get("/local/outbox")
    assert response.status_code == 200
    return response.json_body["messages"]


def test_sunday_night_complaint_gets_one_ack_with_eta_and_reference(client, clock, svc):
    post_tweet(client, "7001", "@ExampleRail my train was cancelled and there is no replacement bus, awful",
               clock.now())
    run_pipeline()
    sent = outbox(client)
    assert len(sent) == 1
    ack = sent[0]
    assert ack["channel"] == "x" and ack["in_reply_to"] == "7001" and ack["recipient"] == "555"
    ticket_id = ticket_of(svc, "x#7001")
    assert ticket_id in ack["text"]
    # a public X reply carries no URL (links.no_url_in_public); the customer follows the reference at /status
    assert "http" not in ack["text"] and "status page of our website" in ack["text"]
    assert "09:00" in ack["text"]  # Sunday opening, Europe/London (GMT in November)
    ticket = svc.tickets.get(ticket_id)
    assert ticket.acked and [e.kind for e in ticket.timeline][-1] == "acknowledged"


def test_same_mention_delivered_five_times_concurrently_yields_one_ack(client, clock, svc):
    body = x_body(tweet_event("7002", "@ExampleRail still waiting for my delay repay claim, terrible", at=clock.now()))
    for _ in range(5):
        client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    import app as application
    from tests.conftest import lambda_sqs_event

    messages = receive_all("responder-inbound")
    assert len(messages) == 5
    handler = application.app.handler_map["process_inbound"]
    errors = []

    def run(message):
        try:
            handler(lambda_sqs_event([message], "responder-inbound"), LambdaContext())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    drain("deliver_outbox", "responder-outbox")
    assert len(outbox(client)) == 1
    assert len(boto3.client("dynamodb").scan(TableName="responder-tickets")["Items"]) == 1


def test_praise_gets_the_thank_you_abuse_nothing_but_a_flag_for_a_human(client, clock, svc):
    post_tweet(client, "7003", "@ExampleRail thank you so much to the lovely guard on the 18:05, brilliant service!",
               clock.now(), user_id="601")
    post_tweet(client, "7004", "@ExampleRail you useless idiots, f*** you all", clock.now(), user_id="602")
    run_pipeline()
    [thanks] = outbox(client)
    assert thanks["recipient"] == "601" and thanks["text"].startswith("Thank you"), thanks
    assert "sorry" not in thanks["text"].lower() and "back at" not in thanks["text"]
    praise = svc.tickets.get(ticket_of(svc, "x#7003"))
    assert praise.tone == "thanks" and praise.acked
    abuse = svc.tickets.get(ticket_of(svc, "x#7004"))
    assert abuse.intent == "abuse" and "abuse" in abuse.flags


def test_ack_carries_the_matching_incident(client, clock, svc):
    response = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps({
        "title": "No trains between Reading and Oxford", "text": "A signal failure at Didcot.",
        "keywords": ["reading", "oxford", "didcot"], "url": "https://status.example-rail.test/i/42"}))
    assert response.status_code == 201, response.body
    post_tweet(client, "7005", "@ExampleRail no trains from Reading at all?? what is going on", clock.now())
    run_pipeline()
    [ack] = outbox(client)
    assert "No trains between Reading and Oxford" in ack["text"]
    ticket = svc.tickets.get(ticket_of(svc, "x#7005"))
    assert ticket.incident_id == response.json_body["incident_id"]


def test_weekday_ten_am_no_ack_and_ticket_waits_in_its_desk_queue(client, clock, svc):
    clock.set(utc(2026, 11, 24, 10, 0))  # Tuesday 10:00 London
    post_tweet(client, "7006", "@ExampleRail my train was cancelled, I want a refund", clock.now())
    run_pipeline()
    assert outbox(client) == []
    ticket = svc.tickets.get(ticket_of(svc, "x#7006"))
    queued = [json.loads(m["Body"]) for m in receive_all(svc.config.queue_name(ticket.desk))]
    assert [m["ticket_id"] for m in queued] == [ticket.ticket_id]
    assert queued[0]["schema"] == "responder.desk-message/2" and queued[0]["desk_open"] is True


def test_a_chase_threads_into_the_first_ticket_and_gets_no_second_ack(client, clock, svc):
    post_tweet(client, "7007", "@ExampleRail my season ticket refund never arrived", clock.now(), user_id="700")
    run_pipeline()
    clock.advance(minutes=20)
    post_tweet(client, "7008", "@ExampleRail hello?? anyone there", clock.now(), user_id="700", reply_to="7007")
    run_pipeline()
    first, chase = ticket_of(svc, "x#7007"), ticket_of(svc, "x#7008")
    assert first == chase
    ticket = svc.tickets.get(first)
    assert ticket.mention_keys == ["x#7007", "x#7008"]
    assert ticket.first_contact_at == utc(2026, 11, 29, 3, 0)
    assert len(outbox(client)) == 1


def test_closing_time_acks_whoever_still_waits_once(client, clock, svc):
    import app as application

    clock.set(utc(2026, 11, 24, 19, 59))  # Tuesday 19:59 London: desk open, no ack
    post_tweet(client, "7009", "@ExampleRail my 19:40 was cancelled, how do I get home?", clock.now())
    run_pipeline()
    assert outbox(client) == []
    clock.set(utc(2026, 11, 24, 20, 5))
    first = application.app.handler_map["closing_time"](scheduled_event("closing_time"), LambdaContext())
    second = application.app.handler_map["closing_time"](scheduled_event("closing_time"), LambdaContext())
    assert first["acknowledged"] == 1 and second["acknowledged"] == 0
    drain("deliver_outbox", "responder-outbox")
    [ack] = outbox(client)
    assert "07:00" in ack["text"]  # back Wednesday 07:00


def test_sla_breach_is_marked_and_escalated_at_the_right_instant(client, clock, svc):
    import app as application

    clock.set(utc(2026, 11, 24, 10, 0))
    post_tweet(client, "7010", "@ExampleRail my train was cancelled, I want a refund", clock.now())
    run_pipeline()
    ticket = svc.tickets.get(ticket_of(svc, "x#7010"))
    due = ticket.first_response_due
    assert due is not None and due > clock.now()
    watch = application.app.handler_map["sla_watch"]
    clock.set(due)
    assert watch(scheduled_event("sla_watch"), LambdaContext())["breached"] == 0
    clock.advance(minutes=1)
    assert watch(scheduled_event("sla_watch"), LambdaContext())["breached"] == 1
    assert watch(scheduled_event("sla_watch"), LambdaContext())["breached"] == 0
    escalations = [json.loads(m["Body"]) for m in receive_all("responder-desk-escalations")]
    assert [(m["event"], m["ticket_id"]) for m in escalations] == [("ticket.sla_breached", ticket.ticket_id)]
    assert svc.tickets.get(ticket.ticket_id).breached


def test_local_outbox_lists_what_would_have_been_sent(client, clock, svc):
    assert svc.sandbox.recent() == []
    assert client.http.get("/local/outbox").json_body == {"messages": []}


def test_ticket_update_reapplies_a_change_after_losing_a_race(client, clock, svc):
    from chalicelib.store.repositories import ConcurrentUpdate

    post_tweet(client, "7011", "@ExampleRail my refund never came", clock.now())
    run_pipeline()
    ticket_id = ticket_of(svc, "x#7011")
    stale = svc.tickets.get(ticket_id)
    svc.tickets.update(ticket_id, lambda t: t.record(h.Claimed(clock.now(), "ana")))  # somebody else saves first
    calls = []
    updated = svc.tickets.update(
        ticket_id, lambda t: calls.append(t.version) or t.record(h.Noted(clock.now(), "ana", "")), current=stale)
    assert len(calls) == 2 and calls[1] == calls[0] + 1  # the stale copy lost; the change ran again on a fresh one
    assert [e.kind for e in svc.tickets.get(ticket_id).timeline][-2:] == ["claimed", "note"] and updated is not None
    assert svc.tickets.update("R00000000", lambda t: None) is None
    with pytest.raises(ConcurrentUpdate):
        svc.tickets.update(ticket_id, lambda t: svc.tickets.update(ticket_id, lambda u: None), attempts=2)
