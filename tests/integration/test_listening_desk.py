"""Listened posts on the desk (posts naming the brand that do not tag it), through the real Chalice app on moto: a
version-2 envelope on the inbound queue, the real inbound, outbox and schedule handlers, the agents' JSON API and
the web inbox. Nothing automatic is ever sent to such a post's author (the outbox and the local sandbox are read
after every step); a person replies, links the author to a customer, or dismisses the ticket."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlparse

import boto3
import pytest
import responses

from chalicelib.channels.base import SendError
from chalicelib.channels.x_api import XSender
from chalicelib.domain.listening import FLAG, X_REPLY_RULE, listening_extra
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import OutboundMessage
from tests.conftest import LambdaContext, drain, queue_url, receive_all, run_pipeline, utc
from tests.helpers import queued, ticket_of, tweet_event, x_body, x_headers
from tests.integration.test_web_inbox import Browser
from tools.local_stack import scheduled_event

WEDNESDAY = utc(2026, 11, 25, 10, 0)  # customer service on shift (07:00-20:00 London)
JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": "Bearer local-admin-token", **JSON}
COMPLAINT = "Meridian Rail cancelled my 07:32 again and nobody says why, I want a refund"


def listened(post_id: str, text: str, at: datetime, *, author: str = "901", handle: str = "sam_travels",
             channel: str = "x", source: str = "x-search") -> Mention:
    """A post the listening pollers found: it names the brand, it does not tag it."""
    return Mention(channel=channel, external_id=post_id, conversation_id=post_id, author_id=author, text=text,
                   created_at=at, author_handle=handle, author_name=handle.title(),
                   extra=listening_extra(["Meridian Rail"], source))


def hear(svc, *mentions: Mention) -> None:
    """Put the envelope the pollers send on the inbound queue, then run the real pipeline (process, deliver)."""
    body = queued(*mentions, received_at=svc.now(), source="listening")
    boto3.client("sqs", region_name="eu-west-2").send_message(QueueUrl=queue_url("responder-inbound"),
                                                              MessageBody=json.dumps(body))
    run_pipeline()


def post_tweet(client, tweet_id: str, text: str, at: datetime, user_id: str = "901", **kwargs) -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, user_id=user_id, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()


def outbox(client) -> list[dict]:
    return client.http.get("/local/outbox").json_body["messages"]


def sign_in(client, username: str = "amira", password: str = "Amira-local-1") -> dict:
    response = client.http.post("/agent/sign-in", body=json.dumps({"username": username, "password": password}),
                                headers=JSON)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['token']}", **JSON}


def run_schedule(name: str) -> dict:
    import app as application

    return application.app.handler_map[name](scheduled_event(name), LambdaContext())


# ------------------------------------------------------------------------------------------------ no automatic reply
def test_a_listened_post_out_of_hours_opens_a_flagged_ticket_and_nothing_is_ever_sent(client, svc, clock):
    """Sunday 03:00, every desk closed: an addressed complaint would be acknowledged at once. The listened one is
    triaged (a complaint, on the complaints desk, whose queue hears of it) and gets nothing: not at once, not at
    closing time, not when the SLA watch runs, not by an incident's follow-up."""
    hear(svc, listened("9001", COMPLAINT, clock.now()))
    ticket = svc.tickets.get(ticket_of(svc, "x#9001"))
    assert ticket.flags == [FLAG] and ticket.intent == "complaint" and ticket.desk == "complaints"
    assert not ticket.acked and ticket.first_response_due is None and ticket.sent_keys == []
    assert [json.loads(m["Body"])["ticket_id"] for m in receive_all("responder-desk-complaints")] == [
        ticket.ticket_id]
    assert outbox(client) == [] and svc.sandbox.recent() == []

    clock.advance(hours=30)  # Monday 09:00: open; then past closing, and well past any response target
    clock.set(utc(2026, 11, 30, 20, 5))
    assert run_schedule("closing_time")["acknowledged"] == 0
    assert run_schedule("sla_watch") == {"breached": 0}
    drain("deliver_outbox", "responder-outbox")
    assert outbox(client) == []
    after = svc.tickets.get(ticket.ticket_id)
    assert not after.breached and not after.acked and after.flags == [FLAG]

    # an incident linked to it (as an agent's link would) and updated with follow-ups: none goes to this author
    incident = client.http.post("/admin/incidents", headers=ADMIN, body=json.dumps(
        {"title": "07:32 cancellations", "text": "Trains are cancelled on the line.", "keywords": ["07:32"],
         "desks": ["complaints"]})).json_body
    svc.tickets.update(ticket.ticket_id, lambda t: setattr(t, "incident_id", incident["incident_id"]))
    update = client.http.post(f"/admin/incidents/{incident['incident_id']}", headers=ADMIN, body=json.dumps(
        {"text": "Replacement buses run from 08:00.", "follow_up": True}))
    assert update.status_code == 200, update.body
    assert update.json_body["follow_ups_queued"] == 0
    drain("deliver_outbox", "responder-outbox")
    assert outbox(client) == [] and svc.sandbox.recent() == []


def test_a_listened_post_on_a_busy_open_desk_gets_no_busy_acknowledgement(client, svc, clock):
    """Monday 10:30, the complaints queue long and answers counted: an addressed complaint gets the busy
    acknowledgement with the expected wait; a listened one, in the same queue a moment later, gets nothing."""
    from datetime import timedelta

    clock.set(utc(2026, 11, 30, 10, 30))
    for n in range(2):
        post_tweet(client, f"91{n:02d}", "@MeridianRail my train was cancelled, no replacement bus", clock.now(),
                   user_id=f"91{n:02d}")
    for n in range(10):
        svc.answers.record("complaints", clock.now() - timedelta(minutes=5 + 10 * n))
    post_tweet(client, "9190", "@MeridianRail my train was cancelled, no replacement bus, awful", clock.now(),
               user_id="9190")
    [busy] = outbox(client)
    assert busy["in_reply_to"] == "9190" and "we expect to reply in about" in busy["text"]
    hear(svc, listened("9191", COMPLAINT, clock.now(), author="9191", handle="busy_day"))
    ticket = svc.tickets.get(ticket_of(svc, "x#9191"))
    assert ticket.desk == "complaints" and not ticket.acked and ticket.flags == [FLAG]
    assert outbox(client) == [busy]


def test_a_stranded_listened_post_is_urgent_and_goes_where_urgent_work_goes_without_a_reply(client, svc, clock):
    hear(svc, listened("9002", "stranded at Didcot Parkway with my kids, last Meridian Rail train cancelled",
                       clock.now()))
    ticket = svc.tickets.get(ticket_of(svc, "x#9002"))
    addressed = "@MeridianRail stranded at Didcot Parkway with my kids, last train cancelled"
    post_tweet(client, "9003", addressed, clock.now(), user_id="903")
    other = svc.tickets.get(ticket_of(svc, "x#9003"))
    assert ticket.priority == "urgent" and ticket.desk == other.desk == "oncall"  # as the addressed one: on call
    assert ticket.flags == [FLAG] and ticket.first_response_due is None and other.first_response_due is not None
    assert [json.loads(m["Body"])["ticket_id"] for m in receive_all("responder-desk-oncall")] == [
        ticket.ticket_id, other.ticket_id]
    assert all(m["recipient"] != "901" for m in outbox(client))


def test_the_listening_desk_takes_listened_posts_but_not_urgent_ones(client, svc, clock):
    from pathlib import Path

    from chalicelib.configfile import parse_config

    text = Path(svc.settings.config_path).read_text(encoding="utf-8")
    changed = text.replace("\nlistening:\n", "\nlistening:\n  desk: journeys\n", 1)
    assert changed != text
    svc.config = parse_config(changed, source=svc.settings.config_path)
    hear(svc, listened("9004", COMPLAINT, clock.now()),
         listened("9005", "stranded at Reading, Meridian Rail cancelled everything", clock.now(), author="905",
                  handle="kim"))
    calm, urgent = svc.tickets.get(ticket_of(svc, "x#9004")), svc.tickets.get(ticket_of(svc, "x#9005"))
    assert calm.desk == "journeys" and "desk journeys: listening" in calm.reasons
    assert urgent.priority == "urgent" and urgent.desk != "journeys"
    assert outbox(client) == []


def test_a_listened_post_by_a_customer_with_an_open_case_joins_it_in_silence(client, svc, clock):
    post_tweet(client, "9010", "@MeridianRail my refund for the 07:32 never arrived", clock.now(), user_id="910")
    [ack] = outbox(client)
    clock.advance(minutes=5)
    hear(svc, listened("9011", "still no refund from Meridian Rail, shocking", clock.now(), author="910",
                       handle="traveller910"))
    ticket = svc.tickets.get(ticket_of(svc, "x#9010"))
    assert ticket_of(svc, "x#9011") == ticket.ticket_id
    assert ticket.mention_keys == ["x#9010", "x#9011"] and FLAG not in ticket.flags
    assert outbox(client) == [ack]


def test_a_listened_complaint_joining_an_unacknowledged_case_is_not_acknowledged(client, svc, clock):
    """Praise is not acknowledged; the same author's listened complaint joins that case: still nothing (an
    addressed complaint would be acknowledged on joining)."""
    post_tweet(client, "9020", "RT @railfan: lovely new trains @MeridianRail", clock.now(), user_id="920")
    assert outbox(client) == []
    clock.advance(minutes=3)
    hear(svc, listened("9021", COMPLAINT, clock.now(), author="920", handle="traveller920"))
    ticket = svc.tickets.get(ticket_of(svc, "x#9020"))
    assert ticket_of(svc, "x#9021") == ticket.ticket_id and not ticket.acked
    assert outbox(client) == []


def test_when_the_author_then_addresses_the_brand_the_flag_goes_and_they_are_acknowledged_once(client, svc, clock):
    hear(svc, listened("9030", COMPLAINT, clock.now(), author="930", handle="ana_commutes"))
    ticket_id = ticket_of(svc, "x#9030")
    clock.advance(minutes=10)
    post_tweet(client, "9031", "@MeridianRail are you going to answer about my cancelled train?", clock.now(),
               user_id="930")
    ticket = svc.tickets.get(ticket_id)
    assert ticket_of(svc, "x#9031") == ticket_id and ticket.flags == []
    assert ticket.first_response_due is not None and ticket.acked
    [ack] = outbox(client)
    assert ack["recipient"] == "930" and ack["in_reply_to"] == "9031" and ticket_id in ack["text"]
    clock.advance(minutes=10)
    post_tweet(client, "9032", "@MeridianRail hello??", clock.now(), user_id="930")
    assert len(outbox(client)) == 1


def test_a_listened_post_never_reopens_a_resolved_case_it_opens_its_own(client, svc, clock):
    """Wednesday 19:00 an addressed complaint, answered and resolved; at 19:50 its author complains without tagging
    the brand. Reopening the case would make it wait for an answer and send a closing-time message at 20:00 to
    someone who did not write to us: the post opens a flagged case of its own, and nothing is sent."""
    clock.set(utc(2026, 11, 25, 19, 0))
    post_tweet(client, "9090", "@MeridianRail my 18:40 was cancelled", clock.now(), user_id="990")
    resolved = ticket_of(svc, "x#9090")
    svc.tickets.update(resolved, lambda t: t.resolve("amira", clock.now()))
    clock.advance(minutes=50)
    hear(svc, listened("9091", "Meridian Rail still no refund for my 18:40", clock.now(), author="990",
                       handle="traveller990"))
    heard = ticket_of(svc, "x#9091")
    assert heard != resolved and svc.tickets.get(resolved).status == "resolved"
    assert svc.tickets.get(heard).flags == [FLAG]
    clock.set(utc(2026, 11, 25, 20, 5))
    before = len(outbox(client))
    assert run_schedule("closing_time")["acknowledged"] == 0
    drain("deliver_outbox", "responder-outbox")
    assert len(outbox(client)) == before


def test_the_same_post_heard_first_then_delivered_as_a_mention_is_acknowledged_once(client, svc, clock):
    """The search found the post before the mention route delivered it (a reply under the brand's post, say): one
    message, stored once; its ticket loses the flag and the customer gets the acknowledgement an addressed message
    gets, once."""
    hear(svc, listened("9095", "@MeridianRail " + COMPLAINT, clock.now(), author="995", handle="late_route"))
    ticket_id = ticket_of(svc, "x#9095")
    assert svc.tickets.get(ticket_id).flags == [FLAG] and outbox(client) == []
    post_tweet(client, "9095", "@MeridianRail " + COMPLAINT, clock.now(), user_id="995", handle="late_route")
    ticket = svc.tickets.get(ticket_id)
    assert ticket.flags == [] and ticket.acked and ticket.first_response_due is not None
    [ack] = outbox(client)
    assert ack["in_reply_to"] == "9095" and ticket_id in ack["text"]
    post_tweet(client, "9095", "@MeridianRail " + COMPLAINT, clock.now(), user_id="995", handle="late_route")
    assert len(outbox(client)) == 1


# ------------------------------------------------------------------------------------------------ agents
@pytest.fixture
def day(clock):
    clock.set(WEDNESDAY)
    return clock


def test_the_ticket_says_not_addressed_to_us_where_it_was_found_and_what_a_reply_does(client, svc, day):
    hear(svc, listened("9040", COMPLAINT, day.now()))
    ticket_id = ticket_of(svc, "x#9040")
    amira = sign_in(client)
    view = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert view["listening"] == "Not addressed to us — found by listening on X for 'Meridian Rail'"
    assert view["flags"] == ["listening"] and view["sla"]["first_response_due"] is None
    assert view["reply"]["public"] and view["reply"]["private_possible"]
    assert view["reply"]["note"] == f"They did not tag us. {X_REPLY_RULE}."
    row = client.http.get("/agent/desks/complaints/tickets", headers=amira).json_body["tickets"][0]
    assert row["ticket_id"] == ticket_id and row["listening"].startswith("Not addressed to us")

    hear(svc, listened("at://did:plc:abc/app.bsky.feed.post/3k1", COMPLAINT, day.now(), author="did:plc:abc",
                       handle="abc.bsky.social", channel="bluesky", source="bluesky-search"))
    sky = client.http.get(f"/agent/tickets/{ticket_of(svc, 'bluesky#at://did:plc:abc/app.bsky.feed.post/3k1')}",
                          headers=amira).json_body
    assert sky["listening"] == "Not addressed to us — found by listening on Bluesky for 'Meridian Rail'"
    assert sky["reply"]["note"] == "They did not tag us: your reply will be public on Bluesky, under their post."
    assert outbox(client) == []


def test_an_agent_reply_to_a_listened_post_goes_out_publicly_on_its_platform(client, svc, day):
    hear(svc, listened("9041", COMPLAINT, day.now()))
    ticket_id = ticket_of(svc, "x#9041")
    amira = sign_in(client)
    assert client.http.post(f"/agent/tickets/{ticket_id}/claim", headers=amira, body="{}").status_code == 200
    replied = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira,
                               body=json.dumps({"text": "Sorry about the 07:32: a refund form is on our site."}))
    assert replied.status_code == 200, replied.body
    drain("deliver_outbox", "responder-outbox")
    [sent] = outbox(client)
    assert (sent["channel"], sent["in_reply_to"], sent["private"]) == ("x", "9041", False)
    assert svc.tickets.get(ticket_id).first_response_at == day.now()


def test_take_next_serves_addressed_tickets_before_listened_ones_unless_asked(client, svc, day):
    hear(svc, listened("9050", COMPLAINT, day.now()))  # the oldest
    day.advance(minutes=5)
    post_tweet(client, "9051", "@MeridianRail my train was cancelled, I want a refund", day.now(), user_id="951")
    heard, addressed = ticket_of(svc, "x#9050"), ticket_of(svc, "x#9051")
    amira, ben = sign_in(client), sign_in(client, "ben", "Ben-local-1")
    listened_first = client.http.post("/agent/next", headers=ben, body=json.dumps({"listening": True})).json_body
    assert listened_first["ticket"]["ticket_id"] == heard
    client.http.post(f"/agent/tickets/{heard}/release", headers=ben, body="{}")
    assert client.http.post("/agent/next", headers=amira, body="{}").json_body["ticket"]["ticket_id"] == addressed
    assert client.http.post("/agent/next", headers=amira, body="{}").json_body["ticket"]["ticket_id"] == heard
    bad = client.http.post("/agent/next", headers=amira, body=json.dumps({"listening": "yes"}))
    assert bad.status_code == 422 and "listening must be true or false" in bad.json_body["error"]


def test_the_inbox_offers_to_take_the_next_post_not_addressed_to_us(client, svc, day):
    post_tweet(client, "9055", "@MeridianRail my train was cancelled, I want a refund", day.now(), user_id="955")
    day.advance(minutes=5)
    hear(svc, listened("9056", COMPLAINT, day.now()))  # newer than the addressed one
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    home = browser.get("/inbox")
    assert 'id="next-listening"' in browser.text and home.status_code == 200
    taken = browser.post("/inbox/next", {"csrf": browser.csrf(), "listening": "1"})
    assert taken.status_code == 303
    assert urlparse(taken.headers["Location"]).path == f"/inbox/tickets/{ticket_of(svc, 'x#9056')}"
    browser.get("/inbox")
    plain = browser.post("/inbox/next", {"csrf": browser.csrf()})
    assert urlparse(plain.headers["Location"]).path == f"/inbox/tickets/{ticket_of(svc, 'x#9055')}"


def test_desk_lists_filter_listened_tickets_in_or_out(client, svc, day):
    hear(svc, listened("9060", COMPLAINT, day.now()))
    post_tweet(client, "9061", "@MeridianRail my train was cancelled, I want a refund", day.now(), user_id="961")
    heard, addressed = ticket_of(svc, "x#9060"), ticket_of(svc, "x#9061")
    amira = sign_in(client)

    def listed(query: str) -> list[str]:
        response = client.http.get(f"/agent/desks/complaints/tickets{query}", headers=amira)
        assert response.status_code == 200, response.body
        return [t["ticket_id"] for t in response.json_body["tickets"]]

    assert set(listed("")) == {heard, addressed}
    assert listed("?listening=only") == [heard] and listed("?flag=listening") == [heard]
    assert listed("?listening=exclude") == [addressed]
    bad = client.http.get("/agent/desks/complaints/tickets?listening=maybe", headers=amira)
    assert bad.status_code == 422 and "listening must be one of only, exclude" in bad.json_body["error"]
    saved = client.http.post("/agent/views", headers=amira, body=json.dumps(
        {"name": "addressed only", "desk": "complaints", "listening": "exclude"}))
    assert saved.status_code == 200, saved.body
    assert saved.json_body["filters"] == {"listening": "exclude"}


def test_dismiss_closes_a_listened_ticket_with_no_reply_and_refuses_an_addressed_one(client, svc, day):
    hear(svc, listened("9070", "Meridian Rail is the name of my cat's favourite toy train", day.now()))
    post_tweet(client, "9071", "@MeridianRail my train was cancelled, I want a refund", day.now(), user_id="971")
    heard, addressed = ticket_of(svc, "x#9070"), ticket_of(svc, "x#9071")
    amira = sign_in(client)

    refused = client.http.post(f"/agent/tickets/{addressed}/dismiss", headers=amira, body="{}")
    assert refused.status_code == 409
    assert refused.json_body["error"] == (f"ticket {addressed} was addressed to us, so it cannot be dismissed: "
                                            "resolve it instead")
    bad = client.http.post(f"/agent/tickets/{heard}/dismiss", headers=amira, body=json.dumps({"reason": 7}))
    assert bad.status_code == 422 and bad.json_body["error"] == "reason must be text"
    too_long = client.http.post(f"/agent/tickets/{heard}/dismiss", headers=amira,
                                body=json.dumps({"reason": "x" * 501}))
    assert too_long.status_code == 422

    done = client.http.post(f"/agent/tickets/{heard}/dismiss", headers=amira,
                            body=json.dumps({"reason": "about a toy, not about us"}))
    assert done.status_code == 200, done.body
    view = done.json_body["ticket"]
    assert view["status"] == "resolved" and view["sla"]["first_response_at"] is None
    assert view["timeline"][-1] == {"at": day.now().isoformat(), "kind": "dismissed",
                                    "detail": "amira: about a toy, not about us"}
    again = client.http.post(f"/agent/tickets/{heard}/dismiss", headers=amira, body="{}")
    assert again.status_code == 409 and "only an open ticket can be dismissed" in again.json_body["error"]
    ticket = svc.tickets.get(heard)
    assert ticket.first_response_at is None and ticket.resolved_at == day.now()
    drain("deliver_outbox", "responder-outbox")
    assert outbox(client) == []
    assert client.http.get(f"/agent/tickets/{addressed}", headers=amira).json_body["status"] == "waiting"
    # the leads' reports: the addressed ticket in the response times, the dismissed post in the listening table
    # (a dismissal is no first response); both in the desk's volume, one resolved
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    report = client.http.get("/agent/reports?from=2026-11-25&to=2026-11-25&by=day", headers=chloe).json_body
    tables = {t["name"]: t["rows"] for t in report["tables"]}
    assert sum(r["tickets"] for r in tables["response"]) == 1 and sum(r["answered"] for r in tables["response"]) == 0
    assert [(r["found"], r["answered"], r["dismissed"]) for r in tables["listening"]] == [(1, 0, 1)]
    assert sum(r["created"] for r in tables["volume"]) == 2 and sum(r["resolved"] for r in tables["volume"]) == 1


def test_the_author_of_a_listened_post_links_to_a_known_customer(client, svc, day):
    post_tweet(client, "9080", "@MeridianRail my refund never came", day.now(), user_id="980", handle="pat_rides")
    known = ticket_of(svc, "x#9080")
    hear(svc, listened("9081", "Meridian Rail still owes me a refund", day.now(), author="981",
                       handle="pat_other_account"))
    heard = ticket_of(svc, "x#9081")
    assert heard != known

    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    page = browser.get(f"/inbox/tickets/{heard}")
    assert page.status_code == 200
    assert "Not addressed to us" in browser.text and "found by listening on X for &#39;Meridian Rail&#39;" in \
        browser.text
    assert 'action="/inbox/tickets/' + heard + '/link"' in browser.text and 'value="x#981"' in browser.text
    assert 'id="dismiss-form"' in browser.text and X_REPLY_RULE.replace("'", "&#39;") in browser.text

    amira = sign_in(client)
    linked = client.http.post("/agent/customer-links", headers=amira,
                              body=json.dumps({"identity": "x#981", "with": "x#980"}))
    assert linked.status_code == 200, linked.body
    assert linked.json_body["changed"] and {"x#980", "x#981"} <= set(linked.json_body["identities"])
    kept = svc.tickets.get(linked.json_body["ticket_id"])
    assert {kept.ticket_id, kept.merged_into} & {known, heard} and FLAG not in kept.flags  # one addressed us
    assert kept.first_response_due is not None and set(kept.mention_keys) == {"x#9080", "x#9081"}
    drain("deliver_outbox", "responder-outbox")
    assert outbox(client) == []  # in hours: nothing automatic to either of them
    assert kept.reply_target.in_reply_to == "9080"  # answered where they addressed us


def test_an_agent_answers_an_addressed_case_where_they_addressed_us_not_under_a_later_listened_post(client, svc, day):
    post_tweet(client, "9085", "@MeridianRail my refund never came", day.now(), user_id="985")
    day.advance(minutes=5)
    hear(svc, listened("9086", "Meridian Rail still owes me a refund", day.now(), author="985", handle="pat985"))
    ticket_id = ticket_of(svc, "x#9085")
    assert ticket_of(svc, "x#9086") == ticket_id
    amira = sign_in(client)
    assert client.http.post(f"/agent/tickets/{ticket_id}/claim", headers=amira, body="{}").status_code == 200
    replied = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira,
                               body=json.dumps({"text": "Sorry Pat: your refund is on its way."}))
    assert replied.status_code == 200, replied.body
    drain("deliver_outbox", "responder-outbox")
    [sent] = [m for m in outbox(client) if m.get("kind") == "reply"]
    assert sent["in_reply_to"] == "9085"  # X would refuse a reply under 9086, which does not mention the brand


# ------------------------------------------------------------------------------------------------ X's reply rule
def test_x_refusing_a_reply_to_a_post_that_did_not_mention_us_is_final_and_says_why():
    sender = XSender(consumer_key="ck", consumer_secret="cs", access_token="at", access_token_secret="ats")
    with responses.RequestsMock() as mock:
        mock.post("https://api.twitter.com/2/tweets", status=403, json={
            "detail": "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                      "engaged by the author of the post you are replying to.",
            "type": "about:blank", "title": "Forbidden", "status": 403})
        with pytest.raises(SendError) as info:
            sender.send(OutboundMessage(channel="x", recipient="901", text="Sorry about that.", in_reply_to="9001"))
    assert info.value.retryable is False
    assert str(info.value).startswith(X_REPLY_RULE)


# ------------------------------------------------------------------------------------------------ leads' reports
def test_leads_see_listened_posts_in_a_table_of_their_own_and_out_of_the_response_times(client, svc, day):
    """Wednesday 10:00: an addressed complaint and three listened posts, one answered after 30 minutes, one dismissed,
    one left open. The response table counts the customer who wrote to us only; the listening table counts what was
    found and what became of it."""
    post_tweet(client, "9200", "@MeridianRail my train was cancelled, I want a refund", day.now(), user_id="1200")
    for n in (1, 2, 3):
        hear(svc, listened(f"920{n}", f"Meridian Rail cancelled my train again ({n})", day.now(), author=f"120{n}",
                           handle=f"rider120{n}"))
    amira = sign_in(client)
    answered, dismissed = ticket_of(svc, "x#9201"), ticket_of(svc, "x#9202")
    day.advance(minutes=30)
    assert client.http.post(f"/agent/tickets/{answered}/claim", headers=amira, body="{}").status_code == 200
    assert client.http.post(f"/agent/tickets/{answered}/reply", headers=amira,
                            body=json.dumps({"text": "Sorry: the 07:32 was cancelled by a fault."})).status_code == 200
    assert client.http.post(f"/agent/tickets/{dismissed}/dismiss", headers=amira,
                            body=json.dumps({"reason": "a joke"})).status_code == 200
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    got = client.http.get("/agent/reports?from=2026-11-25&to=2026-11-25&by=day", headers=chloe)
    assert got.status_code == 200, got.body
    tables = {t["name"]: t for t in got.json_body["tables"]}
    assert sum(r["tickets"] for r in tables["response"]["rows"]) == 1  # the customer who wrote to us
    assert tables["listening"]["rows"] == [{"period": "2026-11-25", "channel": "x", "found": 3, "answered": 1,
                                            "answered_median": 30.0, "dismissed": 1, "open": 1}]
    csv = client.http.get("/agent/reports.csv?table=listening&from=2026-11-25&to=2026-11-25", headers=chloe)
    assert csv.status_code == 200 and csv.body.decode().splitlines()[1] == "2026-11-25,x,3,1,30,1,1"
