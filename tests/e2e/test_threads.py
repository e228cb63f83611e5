"""Threads on the real local stack (`make run`), at 03:00 on a Sunday: a reply to the brand's post, signed as Meta
signs Threads webhooks, gets exactly one acknowledgement on Threads, in that thread and within Threads' 500
characters (an emoji counted as its UTF-8 bytes); Meta's retry of the same delivery and the poller's schedule add
nothing; a forged delivery is refused."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from chalicelib.domain.textlength import threads_length
from tests.e2e.conftest import started_at

SECRET = b"local-threads-app-secret"  # .chalice/config.json, stage local
BRAND_POST = "18040000000000001"


@pytest.fixture(scope="module")
def stack():
    """The local stack, its clock at Sunday 6 December 2026, 03:00 in London (every desk but on-call closed)."""
    yield from started_at("2026-12-06T03:00:00+00:00")


def acks_on_threads(stack) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"]
            if m["channel"] == "threads" and m["idempotency_key"].startswith("ack#")]


def signed_post(stack, body: dict, secret: bytes = SECRET):
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    return stack.post("/webhooks/threads", data=raw,
                      headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def test_a_signed_threads_reply_at_3am_sunday_gets_exactly_one_acknowledgement_on_threads(stack):
    reply = {"id": "18050000000000101", "username": "pat.rides", "media_type": "TEXT_POST",
             "text": "@meridianrail the 23:10 from Leeds was cancelled 😡 and there is no replacement bus",
             "permalink": "https://www.threads.net/@pat.rides/post/DA1", "shortcode": "DA1",
             "timestamp": "2026-12-06T02:59:30+0000", "replied_to": {"id": BRAND_POST},
             "root_post": {"id": BRAND_POST, "owner_id": "5000000001", "username": "meridianrail"}}
    delivery = {"app_id": "1", "topic": "moderate", "target_id": "5000000001", "time": 1765000770,
                "subscription_id": "2", "has_uid_field": False, "values": {"field": "replies", "value": reply}}
    started = time.monotonic()
    accepted = signed_post(stack, delivery)
    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1}, accepted.text
    assert signed_post(stack, delivery).status_code == 200  # Meta retries a delivery: the same reply again
    forged = signed_post(stack, {**delivery, "values": {"field": "replies", "value": {**reply, "id": "1"}}},
                         secret=b"local-meta-app-secret")
    assert forged.status_code == 401, forged.text

    sent = stack.wait_for(lambda: acks_on_threads(stack), timeout=20)
    assert sent, stack.output()[-3000:]
    assert time.monotonic() - started < 20
    assert stack.post("/local/schedules/poll_threads").status_code == 200  # the poller reads an empty stand-in
    time.sleep(1.5)  # a second acknowledgement, if there were one, would be in the outbox by now
    [ack] = acks_on_threads(stack)
    assert ack["in_reply_to"] == "18050000000000101" and ack["recipient"] == "pat.rides" and not ack["private"]
    assert threads_length(ack["text"]) <= 500, (threads_length(ack["text"]), ack["text"])
    assert "back at" in ack["text"] and "(automated reply)" in ack["text"]
    link = ack["text"].split(stack.base)[-1].split()[0].rstrip(".,")
    status = stack.get(link, headers={"Accept": "application/json"})
    assert status.status_code == 200, status.text
