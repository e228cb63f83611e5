"""AWS calls per scenario, counted with a botocore hook (every boto3 and pynamodb call goes through it): they do not
drift, so they are asserted exactly (docs/adr/0015-fewer-calls-and-spend-budget.md has the table and the reasons)."""
from __future__ import annotations

import collections
import json
from datetime import timedelta

import boto3
import pytest

from bench.run import counting_aws_calls as counting  # the benchmark's own counter: one way to count
from chalicelib.channels.base import SendResult
from chalicelib.sqs_batch import Record
from chalicelib.usecases.deliver import deliver_record
from chalicelib.usecases.process import process_envelope
from chalicelib.usecases.replies import queue_reply
from chalicelib.usecases.webhooks import receive_x
from tests.conftest import LOCAL_ENV, queue_url
from tests.helpers import tweet_event, x_body, x_headers


class Platform:
    """A platform API (HTTP, no AWS call)."""

    def send(self, message):
        return SendResult(external_id=f"out-{message.idempotency_key}")


@pytest.fixture
def lambda_svc(aws, settings, clock):
    """Services as a warm Lambda has them: the queue URLs from the stack's outputs (no GetQueueUrl), the active
    incidents read once (cached for 15 s), a platform sender."""
    from chalicelib import bootstrap
    from chalicelib.settings import Secrets

    settings = settings.model_copy(update={"inbound_queue_url": queue_url("responder-inbound"),
                                           "outbox_queue_url": queue_url("responder-outbox")})
    svc = bootstrap.build(settings, clock=clock, secrets=Secrets(settings, env=LOCAL_ENV),
                          sender_factory=lambda channel: Platform())
    svc.incidents.active()
    return svc


def _take(name: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name="eu-west-2")
    messages = sqs.receive_message(QueueUrl=queue_url(name), MaxNumberOfMessages=10).get("Messages", [])
    for m in messages:
        sqs.delete_message(QueueUrl=queue_url(name), ReceiptHandle=m["ReceiptHandle"])
    return messages


def _webhook(svc, tweet_id: str, text: str, clock) -> collections.Counter:
    body = x_body(tweet_event(tweet_id, text, user_id="42", at=clock.now() - timedelta(minutes=1)))
    with counting() as calls:
        receive_x(svc, body, x_headers(body)["x-twitter-webhooks-signature"])
    return calls


def _process(svc, messages: list[dict]) -> collections.Counter:
    with counting() as calls:
        for m in messages:
            process_envelope(svc, json.loads(m["Body"]), raw_ref=f"inbound#{m['MessageId']}")
    return calls


def _deliver(svc) -> collections.Counter:
    queued = _take("responder-outbox")
    with counting() as calls:
        for n, m in enumerate(queued):
            assert deliver_record(svc, Record(f"o{n}", "r", m["Body"], 1)) == "sent"
    return calls


def test_calls_per_scenario(lambda_svc, clock):
    svc = lambda_svc
    # a new out-of-hours complaint, end to end: webhook, process, deliver
    webhook = _webhook(svc, "9001", "@MeridianRail my train was cancelled and nobody told us, a disgrace", clock)
    inbound = _take("responder-inbound")
    process = _process(svc, inbound)
    deliver = _deliver(svc)
    assert webhook == {"sqs.SendMessage": 1}
    assert process == {
        # mention (the dedupe), identity, handle alias, ticket (saved acknowledged: the ack's sending lease)
        "dynamodb.PutItem": 4,
        # the allowance (a token of the rate and the day's spend), the timeline entry recording the send; the
        # ticket's report figures (docs/adr/0027) after the send, and again after processing (refused: older)
        "dynamodb.UpdateItem": 4,
        "dynamodb.GetItem": 1,  # the ticket as the send left it, for its report figures (docs/adr/0027)
        "sqs.SendMessage": 1,  # the desk queue
        "dynamodb.BatchWriteItem": 1,  # the words of the message, searchable (docs/adr/0026)
    }
    assert deliver == {}  # the acknowledgement went out from the process attempt: nothing on the outbox
    assert sum((webhook + process + deliver).values()) == 12  # 21 before (docs/adr/0015), 8 before the words, 9
    # before the report figures
    [ticket] = svc.tickets.for_customer(svc.customers.lookup("x#42"))
    assert ticket.sent_keys == [f"ack#{ticket.ticket_id}"] and ticket.ack_lease is None

    # a reply through the outbox (an agent's; an acknowledgement the process attempt could not send)
    queue_reply(svc, ticket, kind="reply", key=f"reply#{ticket.ticket_id}#1", text="Sorry about that - which train?")
    assert _deliver(svc) == {
        "dynamodb.UpdateItem": 2,  # the allowance, the timeline entry recording the send
        "dynamodb.PutItem": 2,  # the lease (also the duplicate check), the index of our message (their answer)
    }

    # the same message again (a webhook retry, a poll overlap): another envelope carries it
    _webhook(svc, "9001", "@MeridianRail my train was cancelled and nobody told us, a disgrace", clock)
    assert _process(svc, _take("responder-inbound")) == {"dynamodb.PutItem": 1}

    # a chase: the same customer writes again while their case is open
    _webhook(svc, "9002", "@MeridianRail still nothing about my cancelled train", clock)
    chase = _process(svc, _take("responder-inbound"))
    assert chase == {
        "dynamodb.PutItem": 2,  # mention, identity (the alias is skipped: same handle)
        # joined to their first ticket without a read (a conditional update); its report figures (docs/adr/0027)
        "dynamodb.UpdateItem": 2,
        "sqs.SendMessage": 1,  # the desk hears of the chase
        "dynamodb.BatchWriteItem": 1,  # its words
    }
    assert _deliver(svc) == {}  # one acknowledgement per open case
