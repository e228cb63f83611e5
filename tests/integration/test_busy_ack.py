"""The in-hours busy acknowledgement through the whole pipeline: signed webhook -> inbound queue -> the real
process handler -> outbox queue -> the real deliver handler -> the local sandbox, on DynamoDB and SQS (moto), with
the answer counts in the real state table."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import run_pipeline, utc
from tests.helpers import ticket_of
from tests.integration.test_pipeline import outbox, post_tweet

MONDAY_1030 = utc(2026, 11, 30, 10, 30)  # Monday 10:30 in London (GMT): customer service open 07:00-20:00
COMPLAINT = "@ExampleRail my train was cancelled and there is no replacement bus, awful"
RANGE = re.compile(r"about \d+–\d+ minutes|about \d*½?–\d*½? hours")


@pytest.fixture
def open_desk(svc, clock):
    clock.set(MONDAY_1030)
    return svc


def queue_up(client, clock, svc, *, waiting: int, answers: int) -> None:
    """``waiting`` complaints from other customers already in the complaints queue, then ``answers`` tickets first
    answered by agents over the last two hours."""
    for n in range(waiting):
        post_tweet(client, f"81{n:02d}", COMPLAINT, clock.now(), user_id=f"61{n:02d}")
    run_pipeline()
    assert outbox(client) == []  # no answers counted yet: no estimate, nothing sent
    for n in range(answers):
        svc.answers.record("complaints", clock.now() - timedelta(minutes=5 + 10 * n))


def test_a_long_queue_gets_exactly_one_busy_acknowledgement_with_a_range(client, clock, open_desk):
    svc = open_desk
    queue_up(client, clock, svc, waiting=2, answers=10)  # 4 answers an hour, 3 waiting with the new one: 45 min
    post_tweet(client, "8001", COMPLAINT, clock.now(), user_id="700")
    run_pipeline()
    [sent] = outbox(client)
    ticket_id = ticket_of(svc, "x#8001")
    assert sent["idempotency_key"] == f"ack#{ticket_id}" and sent["in_reply_to"] == "8001"
    assert "we expect to reply in about 30–60 minutes" in sent["text"] and RANGE.search(sent["text"])
    # a public X reply carries no URL (links.no_url_in_public): the reference, and how to follow it
    assert ticket_id in sent["text"] and "http" not in sent["text"] and "status page" in sent["text"]
    assert "offline" not in sent["text"]
    ticket = svc.tickets.get(ticket_id)
    assert ticket.acked and [e.kind for e in ticket.timeline][-1] == "busy"

    # the status page tells the customer, in words that hold no personal data
    path = svc.links.url(ticket_id).removeprefix("https://help.example.test")
    last = client.http.get(path, headers={"Accept": "application/json"}).json_body["timeline"][-1]
    assert (last["kind"], last["text"]) == (
        "busy", "We let you know the team was busy and how long replies were taking, with your reference")

    # the same customer writes again, a new tweet and a reply: the same case, still one acknowledgement
    clock.advance(minutes=3)
    post_tweet(client, "8002", "@ExampleRail hello?? still waiting for an answer", clock.now(), user_id="700")
    post_tweet(client, "8003", "@ExampleRail anyone there", clock.now(), user_id="700", reply_to="8001")
    run_pipeline()
    assert {ticket_of(svc, f"x#800{n}") for n in (1, 2, 3)} == {ticket_id}
    assert len(outbox(client)) == 1


def test_a_short_queue_gets_nothing(client, clock, open_desk):
    queue_up(client, clock, open_desk, waiting=1, answers=10)  # 2 waiting at 4 an hour: 30 minutes, not above
    post_tweet(client, "8011", COMPLAINT, clock.now(), user_id="710")
    run_pipeline()
    assert outbox(client) == []
    assert not open_desk.tickets.get(ticket_of(open_desk, "x#8011")).acked


def test_too_few_recent_answers_give_no_estimate_and_nothing_is_sent(client, clock, open_desk):
    queue_up(client, clock, open_desk, waiting=6, answers=3)
    open_desk.answers.record("complaints", clock.now() - timedelta(hours=4))  # before the window
    post_tweet(client, "8021", COMPLAINT, clock.now(), user_id="720")
    run_pipeline()
    assert outbox(client) == []
