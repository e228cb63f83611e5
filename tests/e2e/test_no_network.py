"""The local stack never reaches the internet. Every Python process of the stack (the app, its queue and schedule
runners, the embedded AWS) runs with an audit hook (tests/e2e/netguard/sitecustomize.py) that records each name
lookup and socket connection to anything but loopback. The stack then takes a customer on every channel, a forged
SNS e-mail, posts for listening's search stand-ins, every schedule (the pollers and listening included) and an
agent's reply; the record must stay empty."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT, LocalStack
from tests.e2e.test_local_stack import send_tweet
from tests.e2e.test_one_customer import fb_comment

NETGUARD = Path(__file__).resolve().parent / "netguard"
ADMIN = {"Authorization": "Bearer local-admin-token"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    log = tmp_path_factory.mktemp("network") / "outbound.log"
    (PROJECT / ".pytest_cache").mkdir(exist_ok=True)
    stack = LocalStack("2026-11-29T03:00:00+00:00",
                       extra_env={"PYTHONPATH": str(NETGUARD), "RESPONDER_NETWORK_LOG": str(log)})
    yield stack, log
    stack.stop_in_background()


def test_the_audit_hook_records_a_lookup_that_leaves_the_machine(tmp_path):
    """The guard itself works: a process with it that looks up a public name is recorded (and not the loopback)."""
    log = tmp_path / "probe.log"
    code = ("import socket\nsocket.getaddrinfo('127.0.0.1', 80)\n"
            "try:\n    socket.getaddrinfo('api.x.com', 443)\nexcept OSError:\n    pass\n")
    subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(NETGUARD), "RESPONDER_NETWORK_LOG": str(log),
                                                      "PATH": "/usr/bin:/bin"}, check=True, timeout=30)
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and "api.x.com" in lines[0]


def acks(stack) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"] if m["idempotency_key"].startswith("ack#")]


def test_a_night_on_every_channel_and_every_schedule_makes_no_outbound_call(guarded):
    stack, log = guarded
    send_tweet(stack, "880001", "@ExampleRail my train was cancelled and nobody told us", user_id="8801")
    fb_comment(stack, "8802", "8100000802", "Ann Rider", "The 23:10 from Leeds was cancelled, refund please?")
    email = stack.post("/local/email/mentions", json={"from": "cara@example.org", "name": "Cara",
                                                      "subject": "Refund", "text": "My refund never arrived"})
    assert email.status_code == 202, email.text
    form = stack.post("/contact", json={"name": "Dev", "email": "dev@example.org",
                                        "message": "My season ticket renewal failed twice"})
    assert form.status_code == 202, form.text
    for channel, body in (("bluesky", {"handle": "pat.bsky.social", "text": "@meridianrail.bsky.social train "
                                                                             "cancelled, no bus"}),
                          ("mastodon", {"acct": "pat@fedi.example", "text": "@meridianrail my train was cancelled"}),
                          ("threads", {"username": "pat.rides", "text": "@meridianrail my train was cancelled",
                                       "reply_to": "18040000000000001"})):
        assert stack.post(f"/local/{channel}/mentions", json=body).status_code == 202

    # a forged SNS message whose certificate URL looks like SNS's: refused, and no certificate is fetched
    forged = {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-2:1:t", "Message": "{}",
              "Timestamp": "2026-11-29T03:00:00.000Z", "SignatureVersion": "1",
              "Signature": base64.b64encode(b"x" * 256).decode(),
              "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-abc.pem"}
    refused = stack.post("/webhooks/email", data=json.dumps(forged), headers={"Content-Type": "text/plain"})
    assert refused.status_code == 401, refused.text

    # posts naming the brand without tagging it, for listening's search stand-ins
    listened = stack.post("/local/listening/posts", json=[
        {"channel": "x", "text": "Meridian Rail cancelled the 23:10 again"},
        {"channel": "bluesky", "text": "Meridian Rail cancelled the 23:10 again"},
        {"channel": "mastodon", "text": "#MeridianRail cancelled the 23:10 again"}])
    assert listened.status_code == 202, listened.text

    for name in ("poll_x", "poll_bluesky", "poll_mastodon", "poll_threads", "poll_listening", "closing_time",
                 "sla_watch"):
        ran = stack.post(f"/local/schedules/{name}")
        assert ran.status_code == 200, ran.text
        if name == "poll_listening":  # each search read its stand-in and queued the post it found
            assert {c: a.get("queued") for c, a in ran.json()["result"].items()} == {
                "x": 1, "bluesky": 1, "mastodon": 1}, ran.text

    sent = stack.wait_for(lambda: len(acks(stack)) >= 7 and acks(stack), timeout=30)
    # seven customers, seven acknowledgements, each recorded by the sandbox sender instead of sent
    assert sent and len(sent) == 7, [(m["channel"], m["recipient"]) for m in acks(stack)]
    assert {m["channel"] for m in sent} == {"x", "facebook", "email", "form", "bluesky", "mastodon", "threads"}

    # an on-call agent signs in (Cognito on the local AWS) and replies: still nothing leaves
    signed_in = stack.post("/agent/sign-in", json={"username": "omar", "password": "Omar-local-1"})
    assert signed_in.status_code == 200, signed_in.text
    time.sleep(1.0)  # the schedule and queue runners' next turn
    recorded = log.read_text() if log.exists() else ""
    assert recorded == "", recorded
    assert len(acks(stack)) == 7  # the listened posts became tickets for a person: never acknowledged
