"""What a customer is told, through the real Chalice routes and handlers against moto: a receipt for every e-mail
and form, in hours and out of hours, whatever triage says (public channels keep triage's policy); a returning
customer's form gets the reference of the case it joins; every automatic text says it is automatic, an agent's
reply never; greetings, invitations, the status page and the closing-time message say what is true."""
from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.domain import history as h
from chalicelib.domain.status_link import make_token
from tests.conftest import LambdaContext, run_pipeline, utc
from tests.helpers import ticket_of, tweet_event, x_body, x_headers
from tools.local_stack import scheduled_event

JSON = {"Content-Type": "application/json"}
NOTICE = "(automated reply)"
PURSE = "I left my purse on the 18:22 to Oxford, coach B"
TUESDAY_TEN = utc(2026, 11, 24, 10, 0)  # every desk open


def outbox(client) -> list[dict]:
    response = client.http.get("/local/outbox")
    assert response.status_code == 200
    return response.json_body["messages"]


def email(client, sender: str, text: str, **fields: str) -> str:
    response = client.http.post("/local/email/mentions", headers=JSON,
                                body=json.dumps({"from": sender, "text": text, **fields}))
    assert response.status_code == 202, response.body
    return response.json_body["queued"]


def form(client, **fields: str) -> dict:
    body = {"name": "Ada Rider", "email": "ada@example.org", "topic": "Refund",
            "message": "I was charged twice for my season ticket, please refund one.", **fields}
    response = client.http.post("/contact", headers=JSON, body=json.dumps(body))
    assert response.status_code == 202, response.body
    return response.json_body


def tweet(client, tweet_id: str, text: str, at, **kwargs) -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


# ------------------------------------------------------------------------------------------------ receipts
def test_an_email_in_hours_gets_one_receipt_with_its_reference_and_what_happens_next(client, clock, svc):
    clock.set(TUESDAY_TEN)
    key = email(client, "cara@example.org", "My refund for booking ABC123 never arrived", name="Cara Jones")
    run_pipeline()
    [receipt] = outbox(client)
    ticket = svc.tickets.get(ticket_of(svc, key))
    assert receipt["channel"] == "email" and receipt["recipient"] == "cara@example.org"
    text = receipt["text"]
    assert "we have your message" in text and "on shift" in text and "about an hour" in text  # the 60-minute target
    assert ticket.ticket_id in text and svc.links.url(ticket.ticket_id) in text
    assert text.endswith(NOTICE)
    assert ticket.acked  # the case's one acknowledgement: no busy or closing-time message after it
    run_pipeline()
    assert len(outbox(client)) == 1


def test_spam_by_email_gets_no_receipt(client, clock, svc):
    """A spammer's sender address is often someone else's: a receipt would be backscatter."""
    clock.set(TUESDAY_TEN)
    key = email(client, "deals@example.org", "CHEAP CRYPTO!!! click here to win a free iPhone, limited offer, "
                                             "buy followers now")
    run_pipeline()
    assert svc.tickets.get(ticket_of(svc, key)).intent == "spam"
    assert outbox(client) == []


def test_a_form_in_hours_gets_a_receipt_under_the_reference_the_form_gave(client, clock, svc):
    clock.set(TUESDAY_TEN)
    answer = form(client)
    run_pipeline()
    [receipt] = outbox(client)
    assert receipt["channel"] == "form" and receipt["recipient"] == "ada@example.org"
    assert answer["reference"] in receipt["text"] and answer["status_url"] in receipt["text"]
    assert "we have your message" in receipt["text"] and receipt["text"].endswith(NOTICE)


def test_the_lost_purse_out_of_hours_gets_the_acknowledgement_with_the_time_the_team_is_back(client, clock, svc):
    key = email(client, "dora@example.org", PURSE)  # Sunday 03:00: every desk closed
    run_pipeline()
    [ack] = outbox(client)
    ticket = svc.tickets.get(ticket_of(svc, key))
    assert ack["recipient"] == "dora@example.org" and ticket.ticket_id in ack["text"]
    assert "09:00" in ack["text"] and ack["text"].endswith(NOTICE)


def test_a_public_post_in_hours_still_gets_nothing(client, clock, svc):
    clock.set(TUESDAY_TEN)
    tweet(client, "8101", "@ExampleRail my train was cancelled, I want a refund", clock.now())
    run_pipeline()
    assert outbox(client) == []


# ------------------------------------------------------------------------------------------------ one reference
def test_a_returning_customers_form_gets_the_reference_of_her_open_case(client, clock, svc):
    clock.set(TUESDAY_TEN)
    first = form(client)
    run_pipeline()
    clock.advance(minutes=30)
    second = form(client, message="Any news on the refund? I was charged twice.")
    run_pipeline()
    receipts = outbox(client)
    assert len(receipts) == 2  # one receipt for each message
    case = svc.tickets.get(first["reference"])
    assert case.open and len(case.mention_keys) == 2
    latest = receipts[0]["text"]  # newest first
    assert first["reference"] in latest and second["reference"] not in latest
    assert svc.links.url(case.ticket_id) in latest
    # the reference the form gave at once still leads to the case
    merged = svc.tickets.get(second["reference"])
    assert merged is not None and merged.merged_into == case.ticket_id
    page = client.http.get("/s/" + second["status_url"].rsplit("/s/", 1)[1] + ".json")
    assert page.status_code == 200 and page.json_body["reference"] == case.ticket_id, page.body
    run_pipeline()
    assert len(outbox(client)) == 2  # never twice


# ------------------------------------------------------------------------------------------------ automatic
def test_an_agents_reply_never_says_it_is_automatic(client, clock, svc):
    from chalicelib.usecases.replies import queue_reply

    key = email(client, "erin@example.org", "My refund never arrived")
    run_pipeline()
    [ack] = outbox(client)
    assert ack["text"].endswith(NOTICE)
    ticket = svc.tickets.get(ticket_of(svc, key))
    queue_reply(svc, ticket, kind="reply", key=f"reply#{ticket.ticket_id}#1", text="Refunded today - sorry!")
    run_pipeline()
    assert outbox(client)[0]["text"] == "Refunded today - sorry!"  # newest first


def test_the_closing_time_message_of_an_answered_ticket_is_worded_for_it(client, clock, svc):
    import app as application

    clock.set(utc(2026, 11, 24, 19, 30))  # Tuesday, the desks close at 20:00
    tweet(client, "8201", "@ExampleRail my train was cancelled, I want a refund", clock.now(), user_id="820")
    run_pipeline()
    ticket_id = ticket_of(svc, "x#8201")
    def answer(t) -> None:  # as the agents' desk does: claimed, answered, released to wait for the customer
        t.claim("ana", clock.now() + timedelta(minutes=30), clock.now())
        t.replied("ana", clock.now(), text="Which train?")
        t.release(clock.now())

    svc.tickets.update(ticket_id, answer)
    assert svc.tickets.get(ticket_id).status == "replied"
    clock.advance(minutes=5)
    tweet(client, "8202", "@ExampleRail the 19:02 from Reading", clock.now(), user_id="820", reply_to="8201")
    run_pipeline()
    clock.set(utc(2026, 11, 24, 20, 1))
    application.app.handler_map["closing_time"](scheduled_event("closing_time"), LambdaContext())
    run_pipeline()
    [closing] = [m for m in outbox(client) if m["in_reply_to"] in ("8201", "8202")]
    assert "latest message" in closing["text"] and "still in the queue" not in closing["text"]
    assert closing["text"].endswith(NOTICE) and len(closing["text"]) <= 280


# ------------------------------------------------------------------------------------------------ greetings
def test_a_mastodon_customer_without_a_display_name_is_greeted_by_the_handles_local_part(client, clock, svc):
    response = client.http.post("/local/mastodon/mentions", headers=JSON, body=json.dumps(
        {"acct": "pat@fedi.example", "text": "@meridianrail my train was cancelled, is there a replacement bus?"}))
    assert response.status_code == 202, response.body
    run_pipeline()
    [ack] = outbox(client)
    assert ack["text"].startswith("Hi pat, ") and "fedi.example" not in ack["text"], ack["text"]
    assert ack["text"].rstrip().endswith(NOTICE)


def test_a_bluesky_ack_gives_no_unprompted_warning_about_public_posts(client, clock, svc):
    response = client.http.post("/local/bluesky/mentions", headers=JSON, body=json.dumps(
        {"handle": "sam.bsky.social", "text": "@meridianrail.bsky.social my train was cancelled, awful service"}))
    assert response.status_code == 202, response.body
    run_pipeline()
    [ack] = outbox(client)
    assert "out of public posts" not in ack["text"] and ack["text"].endswith(NOTICE)


# ------------------------------------------------------------------------------------------------ status page
def test_the_status_page_of_an_x_ticket_says_the_acknowledgement_carried_the_reference_not_a_link(client, clock, svc):
    tweet(client, "8401", "@ExampleRail my train was cancelled and there is no replacement bus, awful", clock.now())
    run_pipeline()
    ticket = svc.tickets.get(ticket_of(svc, "x#8401"))
    assert any(isinstance(e, h.Sent) and e.message == "ack" for e in ticket.timeline)
    token = make_token(svc.secrets.get("STATUS_LINK_KEY"), ticket.ticket_id)
    page = client.http.get(f"/s/{token}.json")
    assert page.status_code == 200, page.body
    said = json.dumps(page.json_body)
    assert "with this link" not in said and "acknowledgement with your reference" in said


def test_the_status_page_of_an_email_ticket_still_says_the_link_came_with_it(client, clock, svc):
    key = email(client, "fay@example.org", "My refund never arrived")
    run_pipeline()
    ticket = svc.tickets.get(ticket_of(svc, key))
    token = make_token(svc.secrets.get("STATUS_LINK_KEY"), ticket.ticket_id)
    page = client.http.get(f"/s/{token}.json")
    assert "We sent you an acknowledgement with this link" in json.dumps(page.json_body)
