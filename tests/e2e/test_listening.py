"""A listened post on the real local stack (`make run`) at 03:00 on a Sunday: a post on X that names the brand
without tagging it, found by the listening poller's search stand-in, reaches the desk as "not addressed to us"
with no automated reply in the local outbox; the on-call duty officer takes it (it is urgent: someone stranded),
replies, and the reply goes out publicly on X, under that post."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from chalicelib.domain.listening import X_REPLY_RULE
from tests.e2e.conftest import PROJECT, started_at

AT = "2026-12-06T03:00:00+00:00"
POST = "Stranded at Didcot Parkway with two kids, the last Meridian Rail train was cancelled and no taxis"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack():
    """The local stack, its clock at Sunday 6 December 2026, 03:00 in London (every desk but on-call closed)."""
    yield from started_at(AT)


def outbox(stack) -> list[dict]:
    return stack.get("/local/outbox").json()["messages"]


def found(stack, omar: dict) -> dict | None:
    """The on-call desk's listened ticket, once the pipeline has made it."""
    listed = stack.get("/agent/desks/oncall/tickets?listening=only", headers=omar)
    assert listed.status_code == 200, listed.text
    tickets = listed.json()["tickets"]
    return tickets[0] if tickets else None


def make_post(stack) -> str:
    """The post on X's search stand-in, then the listening schedule run now (``POST /local/listening/posts`` and
    ``/local/schedules/poll_listening``: the poller's real path, its X search answered locally). The post's id."""
    injected = stack.post("/local/listening/posts", data=json.dumps(
        {"channel": "x", "text": POST, "handle": "sam_stranded", "name": "Sam"}), headers=JSON)
    assert injected.status_code == 202, injected.text
    polled = stack.post("/local/schedules/poll_listening")
    assert polled.status_code == 200, polled.text
    assert polled.json()["result"]["x"]["queued"] == 1
    return str(injected.json()["posts"][0]["id"])


def test_a_listened_post_reaches_the_desk_unanswered_and_the_agents_reply_goes_out_on_x(stack):
    signed = stack.post("/agent/sign-in", data=json.dumps({"username": "omar", "password": "Omar-local-1"}),
                        headers=JSON)
    assert signed.status_code == 200, signed.text
    omar = {"Authorization": f"Bearer {signed.json()['token']}", **JSON}
    post_id = make_post(stack)

    row = stack.wait_for(lambda: found(stack, omar), timeout=20)
    assert row, stack.output()[-3000:]
    assert row["priority"] == "urgent" and row["flags"] == ["listening"]
    assert row["listening"] == "Not addressed to us — found by listening on X for 'Meridian Rail'"
    time.sleep(1.5)  # an automatic reply, if there were one, would be in the outbox by now
    assert [m for m in outbox(stack) if m.get("in_reply_to") == post_id] == []

    taken = stack.post("/agent/next", data="{}", headers=omar)
    assert taken.status_code == 200, taken.text
    ticket = taken.json()["ticket"]
    assert ticket["ticket_id"] == row["ticket_id"]
    assert ticket["reply"]["note"] == f"They did not tag us. {X_REPLY_RULE}."
    replied = stack.post(f"/agent/tickets/{ticket['ticket_id']}/reply", headers=omar, data=json.dumps(
        {"text": "Sam, this is Meridian Rail's control room: a taxi is on its way to Didcot Parkway for you."}))
    assert replied.status_code == 200, replied.text

    sent = stack.wait_for(lambda: [m for m in outbox(stack) if m.get("in_reply_to") == post_id], timeout=20)
    assert len(sent) == 1, stack.output()[-3000:]
    assert sent[0]["channel"] == "x" and not sent[0]["private"]
    assert sent[0]["text"].startswith("Sam, this is Meridian Rail's control room")
    assert sent[0]["idempotency_key"].startswith(f"reply#{ticket['ticket_id']}#")


def inbox(stack, *args: str, tokens) -> subprocess.CompletedProcess:
    """One run of the terminal inbox against the stack, with its own token file."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("RESPONDER_", "AWS_")) and k != "PORT"}
    environment.update(PORT=str(stack.http_port), RESPONDER_TOKEN_FILE=str(tokens), HOME=str(tokens.parent),
                       COLUMNS="200", TZ="UTC", PYTHONIOENCODING="utf-8", RESPONDER_PASSWORD="Omar-local-1")
    done = subprocess.run([sys.executable, "-m", "tools.inbox", *args], cwd=PROJECT, env=environment, text=True,
                          capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_the_terminal_lists_shows_and_dismisses_a_post_not_addressed_to_us(stack, tmp_path):
    tokens = tmp_path / "token"
    assert inbox(stack, "login", "--username", "omar", tokens=tokens).returncode == 0
    injected = stack.post("/local/listening/posts", data=json.dumps(
        {"channel": "x", "text": "stranded at Swindon, Meridian Rail cancelled the last train to Bath",
         "handle": "bath_bound"}), headers=JSON)
    assert injected.status_code == 202, injected.text
    assert stack.post("/local/schedules/poll_listening").status_code == 200

    token = json.loads(tokens.read_text())["tokens"][stack.base]["token"]
    omar = {"Authorization": f"Bearer {token}"}
    # waiting on the on-call desk, not addressed to us: this post only (the first test's ticket was answered)
    row = stack.wait_for(lambda: found(stack, omar), timeout=20)
    assert row, stack.output()[-3000:]
    ticket_id = row["ticket_id"]
    listing = inbox(stack, "list", "oncall", "--listening", tokens=tokens)
    assert listing.returncode == 0 and ticket_id in listing.stdout, listing.stdout + listing.stderr
    assert ticket_id not in inbox(stack, "list", "oncall", "--addressed", tokens=tokens).stdout
    shown = inbox(stack, "show", ticket_id, tokens=tokens)
    assert "Not addressed to us — found by listening on X for 'Meridian Rail'" in shown.stdout, shown.stdout
    assert X_REPLY_RULE in " ".join(shown.stdout.split())

    dismissed = inbox(stack, "dismiss", ticket_id, "taxi arranged by station staff", tokens=tokens)
    assert dismissed.returncode == 0, dismissed.stderr
    assert f"Dismissed ticket {ticket_id}: closed with no reply." in dismissed.stdout
    again = inbox(stack, "dismiss", ticket_id, tokens=tokens)
    assert again.returncode == 1 and "only an open ticket can be dismissed" in again.stderr
    timeline = stack.get(f"/agent/tickets/{ticket_id}", headers=omar).json()["timeline"]
    assert timeline[-1]["kind"] == "dismissed" and timeline[-1]["detail"] == "omar: taxi arranged by station staff"
