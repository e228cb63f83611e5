"""The spend budget through the real outbox queue and the app's SQS handler on moto: a reply past the day's budget
waits on the queue, is sent the next day, and never twice."""
from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone

import boto3

from chalicelib.domain.config import ChannelSpend
from chalicelib.domain.outbound import OutboxItem, ReplyTarget
from chalicelib.sqs_batch import BatchPartiallyFailed
from tests.conftest import drain, queue_url
from tests.helpers import a_ticket


def _deliver() -> None:
    """The outbox handler on what is visible; a held record fails the batch (Lambda then retries only it)."""
    with contextlib.suppress(BatchPartiallyFailed):
        drain("deliver_outbox", "responder-outbox")


def _queue(n: int, at: datetime) -> None:
    item = OutboxItem(idempotency_key=f"reply#R1#{n}", kind="reply", ticket_id="R1",
                      target=ReplyTarget(channel="x", recipient="42", in_reply_to=str(n)),
                      text=f"Thanks for waiting, reply {n}", queued_at=at)
    boto3.client("sqs", region_name="eu-west-2").send_message(QueueUrl=queue_url("responder-outbox"),
                                                             MessageBody=json.dumps(item.to_dict()))


def _sent(svc) -> list[str]:
    return sorted(m["idempotency_key"] for m in svc.sandbox.recent())


def _make_visible(handles: list[str]) -> None:
    """The next day has come: what the handler delayed is visible again (as SQS does once the delay ends)."""
    sqs = boto3.client("sqs", region_name="eu-west-2")
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue_url("responder-outbox"), ReceiptHandle=handle,
                                      VisibilityTimeout=0)


def test_replies_past_the_budget_wait_for_the_next_day_and_go_once(svc, clock, monkeypatch):
    delayed: list[tuple[str, int]] = []
    svc.tickets.add(a_ticket("R1", clock.now()))  # the outbox records each send on its ticket
    real_delay = svc.queues.delay_redelivery

    def delay(queue: str, handle: str, seconds: int) -> None:
        delayed.append((handle, seconds))
        real_delay(queue, handle, seconds)

    monkeypatch.setattr(svc.queues, "delay_redelivery", delay)
    clock.set(datetime(2026, 11, 29, 22, 0, tzinfo=timezone.utc))
    svc.config = svc.config.model_copy(update={"spend": {"x": ChannelSpend(daily_usd=0.03)}})  # two posts a day
    for n in range(3):
        _queue(n, clock.now())
    _deliver()
    assert _sent(svc) == ["reply#R1#0", "reply#R1#1"]
    sqs = boto3.client("sqs", region_name="eu-west-2")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url("responder-outbox"),
                                     AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"  # held on the queue, not lost
    assert svc.allowance.spent("x", "2026-11-29") == 30_000
    assert [seconds for _, seconds in delayed] == [2 * 3600 + 60]  # until the next day in London, then a minute

    _deliver()  # nothing visible: still held
    assert len(_sent(svc)) == 2

    clock.set(datetime(2026, 11, 30, 0, 2, tzinfo=timezone.utc))
    _make_visible([handle for handle, _ in delayed])
    _deliver()
    assert _sent(svc) == ["reply#R1#0", "reply#R1#1", "reply#R1#2"]
    assert svc.allowance.spent("x", "2026-11-30") == 15_000

    _queue(2, clock.now())  # the same reply queued again: never sent twice
    _deliver()
    assert len(_sent(svc)) == 3 and len(svc.sandbox.recent()) == 3
