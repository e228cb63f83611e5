"""The agents' JSON API through the real Chalice routes: sign-in against the Cognito user pool on moto (the local
agents of tools.local_agents), real ID tokens verified against the pool's JWKS, DynamoDB and SQS on moto."""
from __future__ import annotations

import base64
import json
import time

import pytest

from tests.conftest import drain, receive_all, run_pipeline, utc
from tests.helpers import tweet_event, x_body, x_headers

WEDNESDAY = utc(2026, 11, 25, 10, 0)
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def day(clock):
    clock.set(WEDNESDAY)
    return clock


def sign_in(client, username: str, password: str) -> dict:
    response = client.http.post("/agent/sign-in", body=json.dumps({"username": username, "password": password}),
                                headers=JSON)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['token']}", **JSON}


def post_tweet(client, tweet_id: str, text: str, at, user_id: str = "555") -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, user_id=user_id))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def test_an_agent_takes_the_next_ticket_replies_on_x_and_resolves(client, svc, day, clock):
    post_tweet(client, "8001", "@MeridianRail my train was cancelled, no replacement bus, awful", WEDNESDAY)
    run_pipeline()
    amira = sign_in(client, "amira", "Amira-local-1")
    me = client.http.get("/agent/me", headers=amira).json_body
    assert me["agent"]["teams"] == ["customer_service"] and me["agent"]["on_shift"] == ["customer_service"]
    assert {d["desk"]: d["depth"] for d in me["desks"]}["complaints"] == 1

    taken = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    assert taken["claimed_by"] == "amira" and taken["messages"][0]["text"].startswith("@MeridianRail my train")
    assert taken["reply"] == {"channel": "x", "public": True, "private_possible": True, "limit": 280,
                              "to": "traveller555", "counting": "X counts links as 23 characters and emoji as 2"}
    ticket_id = taken["ticket_id"]
    replied = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira,
                               body=json.dumps({"text": "So sorry - which service were you on?"}))
    assert replied.status_code == 200, replied.body
    drain("deliver_outbox", "responder-outbox")
    sent = client.http.get("/local/outbox").json_body["messages"][0]
    assert (sent["channel"], sent["in_reply_to"]) == ("x", "8001")
    assert sent["text"] == "So sorry - which service were you on?"

    # the customer's answer threads back into the same ticket
    clock.advance(minutes=4)
    body = x_body(tweet_event("8002", "@MeridianRail the 10:02 to York", at=clock.now(), reply_to=sent["external_id"]))
    client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    run_pipeline()
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert [m["text"] for m in shown["messages"]][-1] == "@MeridianRail the 10:02 to York"
    assert shown["held_by_you"]

    resolved = client.http.post(f"/agent/tickets/{ticket_id}/resolve", body="{}", headers=amira)
    assert resolved.json_body["ticket"]["status"] == "resolved"
    status = client.http.get("/s/" + shown["status_url"].rsplit("/", 1)[1], headers={"Accept": "application/json"})
    texts = [e["text"] for e in status.json_body["timeline"]]
    assert "Picked up by an agent" in texts and "We replied to you" in texts and "Marked as resolved" in texts
    assert "amira" not in json.dumps(status.json_body)  # no agent name on the customer's page

    again = client.http.post(f"/agent/tickets/{ticket_id}/reply", body=json.dumps({"text": "and..."}), headers=amira)
    assert again.status_code == 409 and f"reopen {ticket_id}" in again.json_body["error"]


def test_forged_expired_and_missing_tokens_are_401(client, svc, day):
    amira = sign_in(client, "amira", "Amira-local-1")
    token = amira["Authorization"].split()[1]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["customer_service", "leads"]  # promoting oneself breaks the signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    for value in (f"Bearer {header}.{forged}.{signature}", "Bearer nonsense", "", "Basic abc"):
        response = client.http.get("/agent/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert "sign in" in response.json_body["error"]
    assert client.http.post("/agent/sign-in", body=json.dumps({"username": "amira", "password": "guess"}),
                            headers=JSON).status_code == 401
    svc.agents._wall_clock = lambda: time.time() + 2 * 3600  # two hours later: the ID token has expired
    assert client.http.get("/agent/me", headers=amira).status_code == 401


def test_refusals_say_why(client, svc, clock):
    clock.set(utc(2026, 11, 29, 3, 0))  # Sunday night
    amira = sign_in(client, "amira", "Amira-local-1")
    off = client.http.post("/agent/next", body="{}", headers=amira)
    assert off.status_code == 403 and "customer_service is off shift" in off.json_body["error"]
    clock.set(WEDNESDAY)
    post_tweet(client, "8101", "@MeridianRail refund for my cancelled train please", WEDNESDAY, user_id="601")
    run_pipeline()
    ticket_id = client.http.post("/agent/next", body=json.dumps({"desk": "complaints"}), headers=amira) \
        .json_body["ticket"]["ticket_id"]
    ben = sign_in(client, "ben", "Ben-local-1")
    held = client.http.post(f"/agent/tickets/{ticket_id}/reply", body=json.dumps({"text": "hi"}), headers=ben)
    assert held.status_code == 403 and "held by amira" in held.json_body["error"]
    press = client.http.post("/agent/next", body=json.dumps({"desk": "press"}), headers=ben)
    assert press.status_code == 403 and "covered by comms" in press.json_body["error"]
    long = client.http.post(f"/agent/tickets/{ticket_id}/reply", body=json.dumps({"text": "a" * 281}),
                            headers=amira)
    assert long.status_code == 422 and "allows 280" in long.json_body["error"]
    assert receive_all("responder-outbox") == []  # nothing queued by the refused reply
    assert client.http.post(f"/agent/tickets/{ticket_id}/dance", body="{}", headers=amira).status_code == 404
    assert client.http.post(f"/agent/tickets/{ticket_id}/reply", body="[1]", headers=amira).status_code == 400
    omar = sign_in(client, "omar", "Omar-local-1")
    assert client.http.get("/agent/oversight", headers=omar).status_code == 403
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    view = client.http.get("/agent/oversight", headers=chloe).json_body
    assert {d["desk"]: d["claimed"] for d in view["desks"]}["complaints"] == 1


def test_transfer_and_release_tell_the_desk_queues(client, svc, day):
    post_tweet(client, "8201", "@MeridianRail my train was cancelled, awful", WEDNESDAY, user_id="701")
    run_pipeline()
    receive_all("responder-desk-complaints")
    amira = sign_in(client, "amira", "Amira-local-1")
    ticket_id = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]["ticket_id"]
    moved = client.http.post(f"/agent/tickets/{ticket_id}/transfer", body=json.dumps({"desk": "journeys"}),
                             headers=amira)
    assert moved.status_code == 200 and moved.json_body["ticket"]["desk"] == "journeys"
    message = json.loads(receive_all("responder-desk-journeys")[-1]["Body"])
    assert (message["event"], message["change"], message["from_desk"]) == ("ticket.updated", "transferred",
                                                                           "complaints")


def test_agents_label_tickets_and_a_lead_exports_them_for_the_triage_report(client, svc, day, tmp_path):
    post_tweet(client, "8101", "@MeridianRail luv the new quiet coach, fabulous!", WEDNESDAY, user_id="601")
    post_tweet(client, "8102", "@MeridianRail is the 18:04 running tonight?", WEDNESDAY, user_id="602")
    run_pipeline()
    amira = sign_in(client, "amira", "Amira-local-1")
    tickets = {t.reply_target.handle: t.ticket_id for t in svc.tickets.open_tickets()}
    praise, question = tickets["traveller601"], tickets["traveller602"]

    bad = client.http.post(f"/agent/tickets/{praise}/label", body=json.dumps({"intent": "rant"}), headers=amira)
    assert bad.status_code == 422 and "intent must be one of" in bad.json_body["error"]
    done = client.http.post(f"/agent/tickets/{praise}/label", body=json.dumps({"intent": "praise"}), headers=amira)
    assert done.status_code == 200, done.body
    assert done.json_body["triaged"] == "praise" and done.json_body["ticket"]["labelled"].startswith("amira: praise")
    corrected = client.http.post(f"/agent/tickets/{question}/label", headers=amira,
                                 body=json.dumps({"intent": "complaint", "urgent": False}))
    assert corrected.json_body["triaged"] == "question" and corrected.json_body["ticket"]["intent"] == "complaint"

    assert client.http.get("/agent/labels", headers=amira).status_code == 403
    lead = sign_in(client, "chloe", "Chloe-local-1")
    export = client.http.get("/agent/labels", headers=lead).json_body
    assert export["count"] == 2 and export["triage_agreed"] == 1
    assert {(r["tweet_id"], r["intent"], r["triaged"]) for r in export["labels"]} == {
        ("8101", "praise", "praise"), ("8102", "complaint", "question")}
    assert client.http.get("/agent/labels?since=yesterday", headers=lead).status_code == 422

    # the export is the labelled set's format: the triage report measures it as it is
    import csv

    from bench.triage_accuracy import evaluate

    path = tmp_path / "labels.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=export["columns"])
        writer.writeheader()
        writer.writerows(export["labels"])
    figures = evaluate(labelled_path=path, part=None)
    assert figures["n"] == 2 and figures["ack"]["complaint"]["n"] == 1 and figures["ack"]["praise"]["acked"] == 1
    assert figures["replies"]["praise"]["thanks"] == 1  # the praise got the thank-you


def test_the_ticket_says_why_triage_answered_and_keeps_saying_it_after_a_label(client, svc, day):
    post_tweet(client, "8301", "@MeridianRail is the 18:04 to Oxford running tonight?", WEDNESDAY, user_id="801")
    run_pipeline()
    amira = sign_in(client, "amira", "Amira-local-1")
    [ticket] = list(svc.tickets.open_tickets())
    shown = client.http.get(f"/agent/tickets/{ticket.ticket_id}", headers=amira)
    assert shown.status_code == 200, shown.body
    why = shown.json_body["triage"]
    assert set(why) == {"answered", "why", "tone", "confidence", "signals", "intent", "priority", "relabelled"}
    assert why["answered"] is True and why["why"]
    assert why["tone"] == svc.tickets.get(ticket.ticket_id).tone == "question"
    assert why["confidence"] is None or 0 < why["confidence"] <= 1
    assert (why["intent"], why["priority"], why["relabelled"]) == ("question", "normal", False)
    assert why["signals"] and all(isinstance(s, str) for s in why["signals"])

    labelled = client.http.post(f"/agent/tickets/{ticket.ticket_id}/label", headers=amira,
                                body=json.dumps({"intent": "complaint"})).json_body
    assert labelled["triaged"] == "question" and labelled["ticket"]["intent"] == "complaint"
    assert labelled["ticket"]["triage"] == {**why, "relabelled": True}  # triage's decision, beside the label


def test_a_lead_assigns_a_ticket_to_an_agent_at_work_through_the_api(client, svc, day):
    post_tweet(client, "8091", "@MeridianRail my train was cancelled, stuck at Didcot with the kids", WEDNESDAY,
               user_id="8091")
    run_pipeline()
    [waiting] = svc.tickets.backlog("complaints", limit=5)
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    path = f"/agent/tickets/{waiting.ticket_id}"
    early = client.http.post(f"{path}/assign", body=json.dumps({"agent": "ben"}), headers=chloe)
    assert early.status_code == 422 and "ben has not signed in today" in early.json_body["error"]
    ben = sign_in(client, "ben", "Ben-local-1")  # at work now
    assert "ben" in client.http.get(path, headers=chloe).json_body["assignable"]
    done = client.http.post(f"{path}/assign", body=json.dumps({"agent": "ben"}), headers=chloe)
    assert done.status_code == 200 and done.json_body["ticket"]["claimed_by"] == "ben", done.body
    mine = client.http.get("/agent/me", headers=ben).json_body["held"]
    assert [t["ticket_id"] for t in mine] == [waiting.ticket_id]
    assert client.http.post(f"{path}/assign", body=json.dumps({"agent": "chloe"}), headers=ben).status_code == 200
