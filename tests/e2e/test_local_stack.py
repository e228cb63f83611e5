"""The issue's acceptance scenarios, on the real local stack started as `make run` starts it."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import boto3

from tests.helpers import tweet_event, x_body, x_headers

ADMIN = {"Authorization": "Bearer local-admin-token"}


def app_now(stack) -> datetime:
    return datetime.fromisoformat(stack.get("/health").json()["time"])


def send_tweet(stack, tweet_id: str, text: str, **kwargs):
    body = x_body(tweet_event(tweet_id, text, at=app_now(stack), **kwargs))
    response = stack.post("/webhooks/x", data=body, headers=x_headers(body))
    assert response.status_code == 200, response.text
    return body


def acks_for(stack, tweet_id: str) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"] if m["in_reply_to"] == tweet_id]


def test_sunday_3am_complaint_gets_exactly_one_ack_within_two_seconds_with_eta_and_link(sunday_night_stack):
    stack = sunday_night_stack
    started = time.monotonic()
    send_tweet(stack, "100001", "@ExampleRail my train was cancelled and nobody told us, disgraceful", user_id="71")
    acks = stack.wait_for(lambda: acks_for(stack, "100001"), timeout=10, interval=0.05)
    elapsed = time.monotonic() - started
    assert len(acks) == 1, stack.output()[-3000:]
    assert elapsed < 2.0, f"ack took {elapsed:.2f}s"
    text = acks[0]["text"]
    assert "09:00" in text  # Sunday opening, Europe/London
    # a public X reply carries no URL (links.no_url_in_public): the reference, followed at /status
    assert "http" not in text, text
    found = re.search(r"\b(R[0-9A-Z]{8})\b", text)
    assert found, text
    reference = found.group(1)
    page = stack.post("/status", data={"reference": reference, "who": "@traveller71"})
    assert page.status_code == 200 and re.search(r"/s/R[0-9A-Z]{8}-", page.url), page.url
    assert reference in page.text
    time.sleep(1)
    assert len(acks_for(stack, "100001")) == 1


def test_same_mention_five_times_concurrently_yields_one_ack(sunday_night_stack):
    stack = sunday_night_stack
    body = x_body(tweet_event("100002", "@ExampleRail still no refund for my cancelled train, awful service",
                              at=app_now(stack), user_id="72"))
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: stack.post("/webhooks/x", data=body, headers=x_headers(body)).status_code,
                                 range(5)))
    assert statuses == [200] * 5
    assert stack.wait_for(lambda: acks_for(stack, "100002"), timeout=10)
    time.sleep(2)
    assert len(acks_for(stack, "100002")) == 1


def test_praise_gets_the_thank_you_and_abuse_no_reply(sunday_night_stack):
    stack = sunday_night_stack
    send_tweet(stack, "100003", "@ExampleRail huge thanks to the lovely conductor on the 22:10, brilliant!",
               user_id="73")
    send_tweet(stack, "100004", "@ExampleRail you useless idiots, f*** off", user_id="74")
    send_tweet(stack, "100005", "@ExampleRail my train is delayed again, where's the refund?", user_id="75")
    assert stack.wait_for(lambda: acks_for(stack, "100005") and acks_for(stack, "100003"), timeout=10)
    [thanks] = acks_for(stack, "100003")
    assert thanks["text"].startswith("Thank you") and "sorry" not in thanks["text"].lower(), thanks["text"]
    assert acks_for(stack, "100004") == []


def test_with_an_incident_declared_the_ack_carries_it(sunday_night_stack):
    stack = sunday_night_stack
    declared = stack.post("/admin/incidents", headers=ADMIN, json={
        "title": "Signal failure at Swindon", "keywords": ["swindon"],
        "url": "https://status.example-rail.test/swindon"})
    assert declared.status_code == 201, declared.text
    send_tweet(stack, "100006", "@ExampleRail nothing moving at Swindon, what's going on?", user_id="76")
    acks = stack.wait_for(lambda: acks_for(stack, "100006"), timeout=10)
    assert len(acks) == 1 and "Signal failure at Swindon" in acks[0]["text"]


def test_weekday_10am_no_ack_and_the_ticket_reaches_the_team_on_shift_through_its_desk_queue(weekday_stack):
    """The desk is open: no acknowledgement; the desk queue's consumer, on while the team is on shift, hands the
    desk message to the team's tools (the signed webhook carries it whole) and leaves the queue empty."""
    stack = weekday_stack
    send_tweet(stack, "200001", "@ExampleRail my train was cancelled, I want a refund", user_id="81")

    def delivered():
        return [n for n in stack.get("/local/notifications").json()["notifications"]
                if n["destination"] == "helpdesk" and n["event"] == "ticket.created"]

    [hook] = stack.wait_for(delivered, timeout=15)
    assert hook["verified"] and hook["body"]["desk_open"] is True and hook["body"]["desk"] == "complaints"
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint, region_name="eu-west-2",
                       aws_access_key_id="local", aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName="responder-desk-complaints")["QueueUrl"]

    def drained():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return attributes["ApproximateNumberOfMessages"] == "0" == attributes["ApproximateNumberOfMessagesNotVisible"]

    assert stack.wait_for(drained, timeout=10)
    time.sleep(1)
    assert acks_for(stack, "200001") == []


def test_make_run_stops_cleanly_on_ctrl_c():
    from tests.e2e.conftest import PROJECT, free_port

    env = {"LOCAL_AWS_PORT": str(free_port()), "PORT": str(free_port()), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "tools.local_stack"], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Responder is running" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, "".join(lines) + out
    assert "stopped" in out


def test_an_unknown_route_answers_the_json_404_and_requests_are_not_logged_by_default(sunday_night_stack):
    stack = sunday_night_stack
    missing = stack.get("/foo")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/json"
    assert missing.json() == {"error": "not_found", "message": "No such endpoint: GET /foo"}
    refused = stack.post("/admin/nothing/here", json={}, headers=ADMIN)  # API Gateway: 403 "Authorization header…"
    assert refused.status_code == 404 and refused.json()["message"] == "No such endpoint: POST /admin/nothing/here"
    assert stack.get("/health").status_code == 200
    assert "GET /foo" not in stack.output() and "GET /health HTTP" not in stack.output()


def test_responder_log_level_debug_shows_every_request():
    from tests.e2e.conftest import PROJECT, free_port

    port = free_port()
    env = {"LOCAL_AWS_PORT": str(free_port()), "PORT": str(port), "PATH": "/usr/bin:/bin",
           "RESPONDER_LOG_LEVEL": "DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "tools.local_stack"], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:  # until the stack is up (or it exited: the assertion below shows why)
            if "Responder is running" in line:
                break
        import requests

        assert requests.get(f"http://127.0.0.1:{port}/foo", timeout=10).status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert re.search(r'DEBUG \[local_stack\] 127\.0\.0\.1 "GET /foo HTTP/1\.1" 404', out), out[-3000:]
