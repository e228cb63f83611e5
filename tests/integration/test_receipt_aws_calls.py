"""AWS calls of an e-mail's receipt in hours, counted with the benchmark's botocore hook (as ``test_aws_calls``): the
receipt is saved with the ticket and sent by the attempt that creates it, exactly as an out-of-hours
acknowledgement is, so an e-mail costs the same in hours as out of hours; nothing else is read or written for it
(the busy estimate's read is not needed: the receipt is the case's one acknowledgement)."""
from __future__ import annotations

import collections
import json

from bench.run import counting_aws_calls as counting
from chalicelib.usecases.local_mentions import inject
from chalicelib.usecases.process import process_envelope
from tests.conftest import utc
from tests.integration.test_aws_calls import _deliver, _take, lambda_svc  # noqa: F401 - the warm Lambda's services


def _email(svc, sender: str) -> collections.Counter:
    inject(svc, "email", json.dumps({"from": sender, "text": "My refund never arrived"}).encode())
    inbound = _take("responder-inbound")
    with counting() as calls:
        for m in inbound:
            process_envelope(svc, json.loads(m["Body"]), raw_ref=f"inbound#{m['MessageId']}")
    assert _deliver(svc) == {}  # sent by the process attempt: nothing on the outbox
    [ticket] = svc.tickets.for_customer(svc.customers.lookup(f"email#{sender}"))
    assert ticket.sent_keys == [f"ack#{ticket.ticket_id}"] and ticket.acked and ticket.ack_lease is None
    return calls


def test_an_email_in_hours_costs_what_one_out_of_hours_costs(lambda_svc, clock):  # noqa: F811
    svc = lambda_svc
    night = _email(svc, "night@example.org")  # Sunday 03:00: the acknowledgement with the time the team is back
    clock.set(utc(2026, 12, 1, 10, 0))  # Tuesday 10:00: the desks are open
    day = _email(svc, "day@example.org")  # the receipt
    assert day == night
    assert day["sqs.SendMessage"] == 1 and "dynamodb.Query" not in day  # the desk queue; no busy estimate read
