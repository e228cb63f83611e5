"""A stranded customer's resolved ticket reopened after the complaints desk closed reaches the on-call team: through
the X webhook route, the real inbound and outbox SQS handlers, the agents' JSON API (Cognito on moto) and the status
page, DynamoDB and SQS on moto."""
from __future__ import annotations

import json

import jsonschema

from tests.conftest import PROJECT, receive_all, run_pipeline, utc
from tests.helpers import tweet_event, x_body, x_headers

JSON = {"Content-Type": "application/json"}
MONDAY_10 = utc(2026, 11, 30, 10, 0)  # complaints open
MONDAY_2030 = utc(2026, 11, 30, 20, 30)  # complaints closed, the on-call team on shift


def sign_in(client, username: str, password: str) -> dict:
    response = client.http.post("/agent/sign-in", body=json.dumps({"username": username, "password": password}),
                                headers=JSON)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['token']}", **JSON}


def post_tweet(client, tweet_id: str, text: str, at) -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, user_id="6060"))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def outbox(client) -> list[dict]:
    return client.http.get("/local/outbox").json_body["messages"]


def test_a_reopen_after_closing_goes_to_the_on_call_desk_and_the_on_call_agent_answers_it(client, svc, clock):
    clock.set(MONDAY_10)
    post_tweet(client, "9601", "@MeridianRail stranded at Didcot Parkway with two kids, last train cancelled, "
                               "what do we do", clock.now())
    run_pipeline()
    amira = sign_in(client, "amira", "Amira-local-1")
    taken = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    ticket_id = taken["ticket_id"]
    assert taken["desk"] == "complaints"
    assert client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira,
                            body=json.dumps({"text": "A taxi is on its way to you."})).status_code == 200
    assert client.http.post(f"/agent/tickets/{ticket_id}/resolve", body="{}", headers=amira).status_code == 200
    run_pipeline()
    before = len(outbox(client))

    clock.set(MONDAY_2030)
    post_tweet(client, "9602", "@MeridianRail stranded again at Didcot Parkway, last train cancelled, help",
               clock.now())
    run_pipeline()
    ticket = svc.tickets.get(ticket_id)
    assert ticket.desk == "oncall" and ticket.status == "waiting" and ticket.reopened == 1
    [announced] = [json.loads(m["Body"]) for m in receive_all("responder-desk-oncall")]
    assert (announced["ticket_id"], announced["change"], announced["from_desk"], announced["escalated"]) == (
        ticket_id, "reopened", "complaints", True)
    jsonschema.validate(announced, json.loads((PROJECT / "docs" / "desk-message.schema.json").read_text()))
    [ack] = [m for m in outbox(client) if m["kind"] == "ack"]  # the desk was open in the morning: none then
    assert ack["idempotency_key"] == f"ack#{ticket_id}#r1" and len(outbox(client)) == before + 1
    assert "on-call team" in ack["text"] and "07:00" not in ack["text"]

    status = client.http.get("/s/" + svc.links.url(ticket_id).rsplit("/", 1)[1],
                             headers={"Accept": "application/json"}).json_body
    assert status["desk_open"] is True and status["opens_at"] is None
    assert "Marked urgent and passed to our on-call team" in [e["text"] for e in status["timeline"]]

    omar = sign_in(client, "omar", "Omar-local-1")
    mine = client.http.post("/agent/next", body="{}", headers=omar).json_body["ticket"]
    assert mine["ticket_id"] == ticket_id and mine["claimed_by"] == "omar"
    replied = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=omar,
                               body=json.dumps({"text": "Control room here: a taxi to Oxford is booked for you."}))
    assert replied.status_code == 200, replied.body
    resolved = client.http.post(f"/agent/tickets/{ticket_id}/resolve", body="{}", headers=omar)
    assert resolved.status_code == 200 and resolved.json_body["ticket"]["status"] == "resolved"
