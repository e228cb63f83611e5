"""WhatsApp's prices in the day's spend budget, through the real outbox queue and the app's SQS handler on moto:
every message counts its price in the customer's market (free-form ones the service rate, since 1 October 2026;
nothing on the older terms), and a message past the day's budget waits on the queue for the next day, as an X post
does, and goes once."""
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

UK_CUSTOMER = "447700900123"
US_CUSTOMER = "15551234567"
UTILITY = {"name": "case_update", "language": "en", "category": "utility", "parameters": ["Ada", "T-1", "done"]}
MARKETING = {"name": "spring_offer", "language": "en", "category": "marketing", "parameters": []}


def _deliver() -> None:
    """The outbox handler on what is visible; a held record fails the batch (Lambda then retries only it)."""
    with contextlib.suppress(BatchPartiallyFailed):
        drain("deliver_outbox", "responder-outbox")


def _queue(key: str, at: datetime, *, recipient: str = UK_CUSTOMER, template: dict | None = None,
           kind: str = "reply") -> None:
    extra: dict = {"phone_number_id": "4000000001"}
    if template is not None:
        extra["whatsapp_template"] = template
    item = OutboxItem(idempotency_key=key, kind=kind, ticket_id="W1",
                      target=ReplyTarget(channel="whatsapp", recipient=recipient, in_reply_to="wamid.IN",
                                         private=True, extra=extra),
                      text=f"message {key}", queued_at=at, customer_wrote_at=at)
    boto3.client("sqs", region_name="eu-west-2").send_message(QueueUrl=queue_url("responder-outbox"),
                                                             MessageBody=json.dumps(item.to_dict()))


def _sent(svc) -> list[str]:
    return sorted(m["idempotency_key"] for m in svc.sandbox.recent())


def test_free_form_messages_cost_the_service_rate_and_templates_their_price(svc, clock):
    svc.tickets.add(a_ticket("W1", clock.now()))
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    svc.config = svc.config.model_copy(update={"spend": {"whatsapp": ChannelSpend(daily_usd=5)}})  # default prices

    _queue("ack#W1", clock.now(), kind="ack")
    _queue("reply#W1#1", clock.now())
    _deliver()
    assert _sent(svc) == ["ack#W1", "reply#W1#1"]
    assert svc.allowance.spent("whatsapp", "2026-11-25") == 2 * 22_000  # service messages: the UK utility rate

    _queue("reply#W1#2", clock.now(), template=UTILITY)
    _queue("reply#W1#3", clock.now(), template=MARKETING)
    _queue("reply#W1#4", clock.now(), recipient=US_CUSTOMER, template=MARKETING)
    _deliver()
    assert _sent(svc) == ["ack#W1", "reply#W1#1", "reply#W1#2", "reply#W1#3", "reply#W1#4"]
    # a UK utility template $0.022, a UK marketing one $0.0529, one to another market $0.0604
    assert svc.allowance.spent("whatsapp", "2026-11-25") == 2 * 22_000 + 22_000 + 52_900 + 60_400


def test_on_the_older_terms_free_form_messages_cost_nothing(svc, clock):
    svc.tickets.add(a_ticket("W1", clock.now()))
    clock.set(datetime(2026, 9, 25, 10, 0, tzinfo=timezone.utc))
    older = ChannelSpend(daily_usd=5, free_in_window=["service", "utility"])  # 1 July 2025 - 30 September 2026
    svc.config = svc.config.model_copy(update={"spend": {"whatsapp": older}})
    _queue("ack#W1", clock.now(), kind="ack")
    _queue("reply#W1#1", clock.now())
    _queue("reply#W1#2", clock.now(), template=MARKETING)
    _deliver()
    assert _sent(svc) == ["ack#W1", "reply#W1#1", "reply#W1#2"]
    assert svc.allowance.spent("whatsapp", "2026-09-25") == 52_900  # the marketing template alone


def test_templates_past_the_budget_wait_for_the_next_day_and_go_once(svc, clock, monkeypatch):
    delayed: list[tuple[str, int]] = []
    svc.tickets.add(a_ticket("W1", clock.now()))
    real_delay = svc.queues.delay_redelivery

    def delay(queue: str, handle: str, seconds: int) -> None:
        delayed.append((handle, seconds))
        real_delay(queue, handle, seconds)

    monkeypatch.setattr(svc.queues, "delay_redelivery", delay)
    clock.set(datetime(2026, 11, 29, 22, 0, tzinfo=timezone.utc))
    budget = ChannelSpend(daily_usd=0.05, per_message_usd={"utility": {"44": 0.02, "other": 0.01}},
                          free_in_window=["service"])
    svc.config = svc.config.model_copy(update={"spend": {"whatsapp": budget}})  # two UK utility templates a day
    for n in range(3):
        _queue(f"reply#W1#{n}", clock.now(), template=UTILITY)
    _queue("reply#W1#text", clock.now())  # a free reply (service, free here) is never held by the budget
    _deliver()
    assert _sent(svc) == ["reply#W1#0", "reply#W1#1", "reply#W1#text"]
    assert svc.allowance.spent("whatsapp", "2026-11-29") == 40_000
    assert [seconds for _, seconds in delayed] == [2 * 3600 + 60]  # until the next day in London, then a minute

    clock.set(datetime(2026, 11, 30, 0, 2, tzinfo=timezone.utc))
    sqs = boto3.client("sqs", region_name="eu-west-2")
    for handle, _ in delayed:
        sqs.change_message_visibility(QueueUrl=queue_url("responder-outbox"), ReceiptHandle=handle,
                                      VisibilityTimeout=0)
    _deliver()
    assert _sent(svc) == ["reply#W1#0", "reply#W1#1", "reply#W1#2", "reply#W1#text"]
    assert svc.allowance.spent("whatsapp", "2026-11-30") == 20_000

    _queue("reply#W1#2", clock.now(), template=UTILITY)  # the same template queued again: never sent twice
    _deliver()
    assert len(svc.sandbox.recent()) == 4
    assert svc.allowance.spent("whatsapp", "2026-11-30") == 20_000  # and never charged twice
