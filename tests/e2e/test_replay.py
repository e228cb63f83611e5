"""Replaying the whole twcs sample into the real local stack stores every inbound tweet exactly once, and every
ticket is announced to its desk queue once, as consumers count announcements (deduped on ticket, event and ``at``;
docs/desk-message.schema.json). The desks whose team is off shift keep their messages for a consumer of the team's
own (this test's); the on-call desk, on shift around the clock, is consumed by the product and reaches its team's
Teams stand-in (ADR 0024). ``REPLAY_TWEETS=N`` replays the first N inbound tweets in time order instead
(``make test`` replays 700 to stay fast; ``make reliability`` replays them all)."""
from __future__ import annotations

import json
import os
import threading
import time

import boto3
import pytest

from tools.replay import DEFAULT_CSV, author_number, inbound, read_rows, replay, report


def aws(stack, service: str):
    return boto3.client(service, endpoint_url=stack.endpoint, region_name="eu-west-2",
                        aws_access_key_id="local", aws_secret_access_key="local")


def pages(ddb, table: str, **kwargs):
    kwargs = {"TableName": table, **kwargs}
    while True:
        page = ddb.scan(**kwargs)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan(ddb, table: str, **kwargs) -> list[dict]:
    return [item for page in pages(ddb, table, **kwargs) for item in page["Items"]]


def count_items(ddb, table: str) -> int:
    return sum(page["Count"] for page in pages(ddb, table, Select="COUNT"))


class DeskConsumer(threading.Thread):
    """What the on-shift teams' tools do: consume every desk queue, deduping on (ticket_id, event, at) as the desk
    message's schema says (an inbound attempt that is retried announces its new ticket again, with the same ``at``),
    and record each ticket handed over."""

    def __init__(self, stack, desks):
        super().__init__(daemon=True)
        self.sqs = aws(stack, "sqs")
        self.urls = [self.sqs.get_queue_url(QueueName=f"responder-desk-{d}")["QueueUrl"] for d in desks]
        self.tickets: list[str] = []  # one entry per distinct (ticket_id, "ticket.created", at)
        self.seen: set[tuple[str, str, str]] = set()
        self.repeats: list[tuple[str, str, str]] = []  # deliveries of an announcement already seen
        self.stop = threading.Event()

    def drain_once(self) -> int:
        got = 0
        for url in self.urls:
            for message in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(message["Body"])
                if body["event"] == "ticket.created":
                    key = (body["ticket_id"], body["event"], body["at"])
                    if key in self.seen:
                        self.repeats.append(key)
                    else:
                        self.seen.add(key)
                        self.tickets.append(body["ticket_id"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                got += 1
        return got

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.drain_once():
                self.stop.wait(0.5)


def queue_attributes(stack, name: str) -> dict:
    sqs = aws(stack, "sqs")
    return sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"],
                                    AttributeNames=["All"])["Attributes"]


def oncall_announced(stack) -> set[str]:
    """The tickets the on-call team's Teams stand-in was told of (new work only; Teams cannot thread updates)."""
    found = stack.get("/local/notifications?desk=oncall&limit=20000").json()["notifications"]
    return {n["reference"] for n in found if n["event"] == "ticket.created" and n["destination"] == "oncall-teams"}


def desk_drained(stack, desk: str) -> bool:
    for name in (f"responder-desk-{desk}", "responder-notify"):
        attrs = queue_attributes(stack, name)
        if attrs["ApproximateNumberOfMessages"] != "0" or attrs["ApproximateNumberOfMessagesNotVisible"] != "0":
            return False
    return True


def inbound_empty(stack) -> bool:
    attrs = queue_attributes(stack, "responder-inbound")
    return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="../shared/data/twcs_sample.csv is not beside the project")
def test_whole_sample_replayed_stores_every_inbound_tweet_once(sunday_night_stack):
    stack = sunday_night_stack
    rows = inbound(read_rows())
    assert len(rows) == 2778
    limit = int(os.environ.get("REPLAY_TWEETS") or 0)
    if limit:
        rows = sorted(rows, key=lambda r: r.created_at)[:limit]
    distinct = {r.tweet_id for r in rows}
    ddb = aws(stack, "dynamodb")
    mentions_before = count_items(ddb, "responder-mentions")
    tickets_before = count_items(ddb, "responder-tickets")
    consumer = DeskConsumer(stack, ["complaints", "journeys", "press"])  # off shift on Sunday at 03:00
    oncall_before = oncall_announced(stack)
    consumer.drain_once()
    consumer.tickets.clear()  # what earlier tests in this module left behind
    consumer.repeats.clear()
    consumer.start()
    started = time.monotonic()
    first = replay(stack.base, rows, workers=4)  # all at once: a storm, thousands waiting in the inbound queue
    assert first == {"sent": len(rows), "accepted": len(rows), "rejected": 0}
    again = replay(stack.base, rows[:300], workers=4)  # webhook retries / overlap: nothing new
    assert again == {"sent": 300, "accepted": 300, "rejected": 0}
    assert stack.wait_for(lambda: inbound_empty(stack), timeout=900, interval=5), stack.output()[-2000:]
    elapsed = time.monotonic() - started
    time.sleep(2)
    consumer.stop.set()
    consumer.join(timeout=30)
    consumer.drain_once()

    assert count_items(ddb, "responder-mentions") - mentions_before == len(distinct)
    new_tickets = count_items(ddb, "responder-tickets") - tickets_before
    customers = {author_number(r.author_id) for r in rows}
    assert new_tickets == len(customers)  # one open case per customer: nothing is resolved during the replay
    # every ticket announced to its desk, once after the dedupe the schema asks for: a repeat is the same announcement
    # (same at) from a retried attempt, never a second one
    assert stack.wait_for(lambda: desk_drained(stack, "oncall"), timeout=120, interval=2)
    oncall = oncall_announced(stack) - oncall_before
    assert len(consumer.tickets) == len(set(consumer.tickets))
    assert len(consumer.tickets) + len(oncall) == new_tickets
    assert not oncall & set(consumer.tickets)
    assert queue_attributes(stack, "responder-inbound-dlq")["ApproximateNumberOfMessages"] == "0"
    merged = ddb.scan(TableName="responder-tickets", Select="COUNT", FilterExpression="#s = :m",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":m": {"S": "merged"}})["Count"]
    # acknowledgements queued (the outbox then sends each key once, at 120 a minute locally), per customer: a new
    # ticket is saved already acknowledged (ADR 0015); an existing one is marked in the ack ledger (`ack#`)
    tickets = scan(ddb, "responder-tickets")
    owner = {item["ticket_id"]["S"]: item["customer_id"]["S"] for item in tickets}
    acked: dict[str, set[str]] = {}
    for item in tickets:
        if item.get("acked", {}).get("BOOL"):
            acked.setdefault(item["customer_id"]["S"], set()).add(f"ticket#{item['ticket_id']['S']}")
    for item in scan(ddb, "responder-state", FilterExpression="begins_with(pk, :a)",
                     ExpressionAttributeValues={":a": {"S": "ack#"}}):
        reference = item["pk"]["S"].split("#")[1]
        acked.setdefault(owner[reference], set()).add(f"ticket#{reference}")
    twice = sum(1 for keys in acked.values() if len(keys) > 1)
    assert twice == 0 and 0 < len(acked) <= len(customers)
    sent = report(stack.base, rows)
    assert sent["acknowledged_more_than_once"] == 0, sent
    print(f"\nreplayed {len(rows)} tweets + 300 repeats: {len(distinct)} mentions stored once, {new_tickets} tickets "
          f"each announced to its desk queue once, in {elapsed:.0f}s ({len(rows) / elapsed:.1f} mentions/s); "
          f"{len(customers)} customers wrote, {len(acked)} acknowledged, {twice} more than once, "
          f"{merged} tickets merged; {sent['customers_acknowledged']} acknowledgements already sent; "
          f"{len(consumer.repeats)} desk announcements delivered again by a retried attempt")
