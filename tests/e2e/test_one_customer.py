"""One customer, one open ticket — on the real local stack started as `make run` starts it (signed webhooks, the
form, /local/outbox, the admin API), at 03:00 on a Sunday."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.e2e.test_local_stack import ADMIN, app_now, send_tweet

META_SECRET = "local-meta-app-secret"


def outbox(stack) -> list[dict]:
    return stack.get("/local/outbox").json()["messages"]


def acks_to(stack, recipient: str) -> list[dict]:
    return [m for m in outbox(stack) if m["recipient"] == recipient and m["idempotency_key"].startswith("ack#")]


def ticket(stack, ticket_id: str) -> dict:
    response = stack.get(f"/admin/tickets/{ticket_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def reference_in(message: dict) -> str:
    return message["idempotency_key"].split("#")[1]


def fb_comment(stack, comment_id: str, author: str, name: str, text: str) -> None:
    created = int(app_now(stack).timestamp())
    body = json.dumps({"object": "page", "entry": [{"id": "2000000001", "time": created, "changes": [{
        "field": "feed", "value": {
            "from": {"id": author, "name": name}, "post_id": "2000000001_555", "parent_id": "2000000001_555",
            "comment_id": f"555_{comment_id}", "created_time": created, "item": "comment", "verb": "add",
            "message": text}}]}]}).encode()
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = stack.post("/webhooks/meta", data=body, headers={"Content-Type": "application/json",
                                                                "X-Hub-Signature-256": f"sha256={digest}"})
    assert response.status_code == 200 and response.json() == {"accepted": 1}, response.text


def test_two_customers_under_one_facebook_post_get_two_tickets_and_two_acks(sunday_night_stack):
    stack = sunday_night_stack
    fb_comment(stack, "9001", "8100000001", "Ann Rider", "The 23:10 from Leeds was cancelled, how do I get a refund?")
    fb_comment(stack, "9002", "8100000002", "Bo Rider",
               "Same here, my train was cancelled too, how do I claim a refund?")
    first = stack.wait_for(lambda: acks_to(stack, "8100000001"), timeout=15)
    second = stack.wait_for(lambda: acks_to(stack, "8100000002"), timeout=15)
    assert len(first) == 1 and len(second) == 1, stack.output()[-3000:]
    assert reference_in(first[0]) != reference_in(second[0])
    assert ticket(stack, reference_in(second[0]))["conversations"] == ["facebook#2000000001_555"]


def test_two_customers_replying_in_one_x_thread_get_two_tickets(sunday_night_stack):
    stack = sunday_night_stack
    send_tweet(stack, "300001", "@ExampleRail my train was cancelled and nobody told us, awful", user_id="301")
    send_tweet(stack, "300002", "@ExampleRail @traveller301 same, no replacement bus either, terrible",
               user_id="302", reply_to="300001")
    first = stack.wait_for(lambda: acks_to(stack, "301"), timeout=15)
    second = stack.wait_for(lambda: acks_to(stack, "302"), timeout=15)
    assert len(first) == len(second) == 1 and reference_in(first[0]) != reference_in(second[0])


def test_tweet_new_tweet_and_reply_to_our_ack_are_one_ticket_with_one_ack(sunday_night_stack):
    stack = sunday_night_stack
    send_tweet(stack, "310001", "@ExampleRail my refund for the cancelled 22:10 never came, awful", user_id="311")
    send_tweet(stack, "310002", "@ExampleRail hello?? anyone there", user_id="311")
    [ack] = stack.wait_for(lambda: acks_to(stack, "311"), timeout=15)
    send_tweet(stack, "310003", "@ExampleRail thanks, still waiting though", user_id="311",
               reply_to=ack["external_id"])
    reference = reference_in(ack)
    shown = stack.wait_for(lambda: (t := ticket(stack, reference)) and len(t["messages"]) == 3 and t, timeout=15)
    assert shown, ticket(stack, reference)
    assert [e["kind"] for e in shown["timeline"]].count("received") == 3
    time.sleep(1)
    assert len(acks_to(stack, "311")) == 1


def test_a_form_with_a_handle_then_a_tweet_keeps_the_forms_reference_place_and_single_ack(sunday_night_stack):
    stack = sunday_night_stack
    send_tweet(stack, "320001", "@ExampleRail my train was cancelled, want my money back", user_id="321")
    form = stack.post("/contact", json={"name": "Cara", "email": "cara@example.org", "handle": "@cara_rides",
                                        "message": "My refund for booking ABC123 never arrived"})
    assert form.status_code == 202, form.text
    reference = form.json()["reference"]
    assert stack.wait_for(lambda: acks_to(stack, "cara@example.org"), timeout=15)
    send_tweet(stack, "320002", "@ExampleRail still no refund, this is the second time I ask!!", user_id="322",
               handle="Cara_Rides")
    shown = stack.wait_for(lambda: (t := ticket(stack, reference)) and len(t["messages"]) == 2 and t, timeout=15)
    assert shown and shown["channels"] == ["form", "x"], ticket(stack, reference)
    time.sleep(1)
    assert len(acks_to(stack, "cara@example.org")) == 1 and acks_to(stack, "322") == []
    backlog = [t["ticket_id"] for t in stack.get(f"/admin/backlog/{shown['desk']}", headers=ADMIN).json()["tickets"]]
    earlier = stack.wait_for(lambda: acks_to(stack, "321"), timeout=15)
    if reference_in(earlier[0]) in backlog:
        assert backlog.index(reference_in(earlier[0])) < backlog.index(reference)  # chasing does not jump the queue


def test_two_concurrent_first_messages_of_one_customer_make_one_ticket(sunday_night_stack):
    stack = sunday_night_stack
    now = app_now(stack)
    bodies = []
    for n, text in enumerate(("@ExampleRail my season ticket was charged twice, awful",
                              "@ExampleRail and the app crashed when I tried to complain")):
        from tests.helpers import tweet_event, x_body

        bodies.append(x_body(tweet_event(f"33000{n}", text, at=now - timedelta(seconds=n), user_id="331")))
    from tests.helpers import x_headers

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(lambda b: stack.post("/webhooks/x", data=b, headers=x_headers(b)).status_code,
                                 bodies))
    assert statuses == [200, 200]
    [ack] = stack.wait_for(lambda: acks_to(stack, "331"), timeout=15)
    shown = stack.wait_for(lambda: (t := ticket(stack, reference_in(ack))) and len(t["messages"]) == 2 and t,
                           timeout=15)
    assert shown, ticket(stack, reference_in(ack))
    time.sleep(1)
    assert len(acks_to(stack, "331")) == 1


def test_incident_update_and_resolution_follow_ups_say_what_happened(sunday_night_stack):
    stack = sunday_night_stack
    declared = stack.post("/admin/incidents", headers=ADMIN, json={
        "title": "No trains at Bath Spa", "keywords": ["bath"], "url": "https://status.example-rail.test/bath"})
    assert declared.status_code == 201, declared.text
    incident = declared.json()["incident_id"]
    send_tweet(stack, "340001", "@ExampleRail nothing leaving Bath Spa, what is going on? awful", user_id="341")
    assert stack.wait_for(lambda: acks_to(stack, "341"), timeout=15)
    update = stack.post(f"/admin/incidents/{incident}", headers=ADMIN,
                        json={"text": "Buses from the station forecourt every 20 minutes", "follow_up": True})
    assert update.status_code == 200 and update.json()["follow_ups_queued"] == 1, update.text
    resolve = stack.post(f"/admin/incidents/{incident}/resolve", headers=ADMIN,
                         json={"text": "Trains are running again", "follow_up": True})
    assert resolve.status_code == 200 and resolve.json()["follow_ups_queued"] == 1, resolve.text
    again = stack.post(f"/admin/incidents/{incident}/resolve", headers=ADMIN, json={"follow_up": True})
    assert again.status_code == 409

    def follow_ups():
        found = [m["text"] for m in outbox(stack) if m["recipient"] == "341" and m["idempotency_key"].startswith(
            "followup#")]
        return found if len(found) == 2 else None

    texts = stack.wait_for(follow_ups, timeout=15)
    assert texts, outbox(stack)
    assert any("Buses from the station forecourt" in t and t.startswith("Update") for t in texts)
    assert any(t.startswith("Resolved") and "Trains are running again" in t for t in texts)
