"""Suggested incidents through the real routes: five mentions naming Reading through the signed X webhook and the
real inbound and outbox handlers (DynamoDB and SQS on moto, agents signed in against the Cognito pool), the
suggestion in the leads' oversight JSON, declared (201, once: 409; leads and comms only: 403) or dismissed, and the
next out-of-hours mention naming the place acknowledged with the incident's explanation."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.run import counting_aws_calls as counting
from chalicelib.usecases.process import process_envelope
from chalicelib.usecases.webhooks import receive_x
from tests.conftest import run_pipeline
from tests.helpers import tweet_event, x_body, x_headers
from tests.integration.test_agent_api import sign_in
from tests.integration.test_aws_calls import _take, lambda_svc  # noqa: F401  # the warm Lambda's services
from tests.integration.test_web_inbox import Browser

#: Sunday 03:00 in London (the clock fixture): every customer-service desk is closed
EXPLANATION = "A signalling fault at Reading is stopping trains. Use Great Western Road buses, tickets accepted."


def post_tweet(client, clock, tweet_id: str, text: str, user_id: str) -> None:
    body = x_body(tweet_event(tweet_id, text, at=clock.now(), user_id=user_id))
    response = client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    assert response.status_code == 200, response.body


def burst(client, clock, place: str = "Reading", first_id: int = 7100, posts: int = 5) -> None:
    """``posts`` mentions naming ``place`` from different people, two minutes apart, each processed."""
    for n in range(posts):
        post_tweet(client, clock, str(first_id + n), f"@MeridianRail stuck at {place}, nothing has moved for ages",
                   str(900 + first_id + n))
        run_pipeline()
        clock.advance(minutes=2)


def suggested(client, headers) -> list[dict]:
    response = client.http.get("/agent/oversight", headers=headers)
    assert response.status_code == 200, response.body
    return response.json_body["suggested_incidents"]


@pytest.fixture
def chloe(client, svc):
    return sign_in(client, "chloe", "Chloe-local-1")


def test_a_burst_is_suggested_declared_once_by_a_lead_and_the_next_acknowledgement_explains(client, svc, clock,
                                                                                                chloe):
    burst(client, clock, posts=4)
    assert suggested(client, chloe) == []  # four posts: no burst
    burst(client, clock, first_id=7200, posts=1)
    [suggestion] = suggested(client, chloe)
    assert (suggestion["place"], suggestion["count"], suggestion["minutes"]) == ("Reading", 5, 8)
    assert suggestion["since_time"] == "03:00"
    assert [p["author"] for p in suggestion["posts"]] == [f"traveller{n}" for n in (8000, 8001, 8002, 8003, 8100)]
    post = suggestion["posts"][0]
    assert post["text"] == "@MeridianRail stuck at Reading, nothing has moved for ages" and post["channel"] == "x"
    assert post["link"] == "https://x.com/i/web/status/7100" and post["ticket_id"]
    assert suggestion["declare"]["title"] == "Disruption at Reading" and suggestion["declare"]["keywords"] == [
        "reading"]
    assert not svc.incidents.all()  # nothing declared, nobody told anything by the suggestion itself
    path = f"/agent/suggested-incidents/{suggestion['suggestion_id']}"

    amira = sign_in(client, "amira", "Amira-local-1")
    refused = client.http.post(f"{path}/declare", headers=amira, body="{}")
    assert refused.status_code == 403 and "leads" in refused.json_body["error"]
    assert client.http.post(f"{path}/declare", headers={"Content-Type": "application/json"},
                            body="{}").status_code == 401
    assert client.http.post("/agent/suggested-incidents/SUG-NOPE/declare", headers=chloe,
                            body="{}").status_code == 404
    bad = client.http.post(f"{path}/declare", headers=chloe, body=json.dumps({"title": "x"}))
    assert bad.status_code == 422 and "title" in bad.json_body["error"]
    assert client.http.post(f"{path}/declare", headers=chloe, body="[1]").status_code == 400

    declared = client.http.post(f"{path}/declare", headers=chloe, body=json.dumps({"text": EXPLANATION}))
    assert declared.status_code == 201, declared.body
    incident = declared.json_body["incident"]
    assert (incident["title"], incident["text"], incident["keywords"], incident["desks"], incident["declared_by"]) \
        == ("Disruption at Reading", EXPLANATION, ["reading"], [], "chloe")
    again = client.http.post(f"{path}/declare", headers=chloe, body="{}")
    assert again.status_code == 409 and incident["incident_id"] in again.json_body["error"]
    assert len(svc.incidents.all()) == 1 and suggested(client, chloe) == []

    # the next mention naming the place, out of hours: its acknowledgement explains before anybody asks
    clock.advance(minutes=1)
    post_tweet(client, clock, "7300", "@MeridianRail is anything running from Reading? the board is blank", "9300")
    run_pipeline()
    [ack] = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["in_reply_to"] == "7300"]
    assert ack["channel"] == "x" and "Disruption at Reading" in ack["text"]
    assert "signalling fault at Reading" in ack["text"] and len(ack["text"]) <= 280


def test_a_lead_dismisses_a_suggestion_and_nobody_is_told(client, svc, clock, chloe):
    burst(client, clock, place="Swindon", first_id=7400)
    [suggestion] = suggested(client, chloe)
    path = f"/agent/suggested-incidents/{suggestion['suggestion_id']}/dismiss"
    priya = sign_in(client, "priya", "Priya-local-1")  # comms may oversee
    dismissed = client.http.post(path, headers=priya, body="")
    assert dismissed.status_code == 200 and dismissed.json_body == {"dismissed": suggestion["suggestion_id"],
                                                                   "place": "Swindon"}
    assert client.http.post(path, headers=chloe, body="").status_code == 409
    assert suggested(client, chloe) == [] and svc.incidents.all() == []
    # the posts go on: the place stays quiet while they do
    clock.advance(minutes=30)
    burst(client, clock, place="Swindon", first_id=7500)
    assert suggested(client, chloe) == []
    clock.advance(hours=2)
    burst(client, clock, place="Swindon", first_id=7600)
    assert [s["place"] for s in suggested(client, chloe)] == ["Swindon"]


def test_what_a_message_naming_a_place_costs_in_aws_calls(lambda_svc, clock):  # noqa: F811
    """A message naming no place costs what it cost before (tests/integration/test_aws_calls has the whole count);
    one naming a place one PutItem (its sighting) and one Query (the place's window) more; the message that makes a
    burst one GetItem (the place's suggestion) and one PutItem (the suggestion) more again."""
    svc = lambda_svc

    def processed(tweet_id: str, text: str) -> Counter:
        body = x_body(tweet_event(tweet_id, text, user_id=str(int(tweet_id) + 1000), at=clock.now()))
        receive_x(svc, body, x_headers(body)["x-twitter-webhooks-signature"])
        [message] = _take("responder-inbound")
        with counting() as calls:
            process_envelope(svc, json.loads(message["Body"]), raw_ref=f"inbound#{message['MessageId']}")
        _take("responder-outbox")
        return calls

    plain = processed("7700", "@MeridianRail my train was cancelled and nobody told us, a disgrace")
    named = processed("7701", "@MeridianRail my train at Oxford was cancelled and nobody told us, a disgrace")
    assert named - plain == Counter({"dynamodb.PutItem": 1, "dynamodb.Query": 1}) and not plain - named
    for n in range(2, 5):
        clock.advance(minutes=1)
        processed(f"770{n}", f"@MeridianRail my train at Oxford was cancelled ({n}), a disgrace")
    clock.advance(minutes=1)
    fifth = processed("7705", "@MeridianRail my train at Oxford was cancelled and nobody told us, a disgrace")
    assert fifth - plain == Counter({"dynamodb.PutItem": 2, "dynamodb.Query": 1, "dynamodb.GetItem": 1})
    assert svc.sightings.suggestion("Oxford") is not None


def test_the_oversight_page_shows_the_suggestion_and_its_forms_declare_and_dismiss(client, svc, clock):
    burst(client, clock, place="Didcot Parkway", first_id=7800)
    burst(client, clock, place="Newbury", first_id=7900)
    lead = Browser(client)
    assert lead.sign_in("chloe", "Chloe-local-1").status_code == 303
    page = lead.get("/inbox/oversight")
    assert page.status_code == 200
    assert "Suggested incidents" in lead.text and "Didcot Parkway: 5 posts in 8 minutes, since" in lead.text
    assert "@MeridianRail stuck at Didcot Parkway, nothing has moved for ages" in lead.text
    assert lead.field("title") == "Disruption at Didcot Parkway" and lead.field("keywords") == "didcot parkway"
    didcot, newbury = (s.suggestion_id for s in sorted(svc.sightings.suggestions(), key=lambda s: s.place))

    forged = lead.post(f"/inbox/suggested-incidents/{didcot}/declare", {"title": "Disruption at Didcot"})
    assert forged.status_code == 403  # no CSRF token: refused, nothing declared
    declared = lead.post(f"/inbox/suggested-incidents/{didcot}/declare", {
        "csrf": lead.csrf(), "title": "Disruption at Didcot Parkway", "text": "Lifts out of order at Didcot Parkway.",
        "url": "", "keywords": "didcot parkway, didcot", "desk_complaints": "1"})
    assert declared.status_code == 303 and "/inbox/oversight" in declared.headers["Location"]
    [incident] = svc.incidents.all()
    assert (incident.keywords, incident.desks, incident.declared_by) == (("didcot parkway", "didcot"),
                                                                         ("complaints",), "chloe")
    assert lead.post(f"/inbox/suggested-incidents/{didcot}/declare",
                     {"csrf": lead.csrf(), "title": "Again"}).status_code == 409
    dismissed = lead.post(f"/inbox/suggested-incidents/{newbury}/dismiss", {"csrf": lead.csrf()})
    assert dismissed.status_code == 303
    lead.get(dismissed.headers["Location"])
    assert "Suggested incident dismissed" in lead.text and "No burst of posts naming one place" in lead.text

    agent = Browser(client)
    agent.sign_in("amira", "Amira-local-1")
    agent.get("/inbox")
    assert agent.post(f"/inbox/suggested-incidents/{newbury}/dismiss", {"csrf": agent.csrf()}).status_code == 403


def test_a_listened_post_counts_as_a_mention_does(client, svc, clock, chloe):
    """A post about the brand that did not tag it (``domain.listening``) is a signal too: four mentions and one
    listened post naming Slough, through the inbound queue's real handler, make the burst."""
    from chalicelib.domain.listening import listening_extra
    from chalicelib.domain.mention import Mention
    from tests.helpers import queued

    burst(client, clock, place="Slough", first_id=8100, posts=4)
    heard = Mention(channel="bluesky", external_id="at://did:plc:kim/app.bsky.feed.post/3slough",
                    conversation_id="at://did:plc:kim/app.bsky.feed.post/3slough", author_id="did:plc:kim",
                    author_handle="kim.bsky.social", text="Meridian Rail trains at Slough going nowhere again",
                    created_at=clock.now(), extra=listening_extra(["Meridian Rail"], "bluesky-search"))
    svc.queues.send_inbound(queued(heard, received_at=clock.now(), source="listening"))
    run_pipeline()
    [suggestion] = suggested(client, chloe)
    assert suggestion["place"] == "Slough" and suggestion["count"] == 5
    assert suggestion["posts"][-1]["channel"] == "bluesky" and suggestion["posts"][-1]["author"] == "kim.bsky.social"
