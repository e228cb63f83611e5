"""Every first contact of the real twcs sample, replayed through the real webhook route and SQS handler with
the app's clock at the tweet's own time, against the sample UK rota. The desk's open/closed state is checked
against an oracle written independently of the calendar code."""
from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.triage import triage
from tests.conftest import drain
from tests.helpers import ticket_of
from tools.replay import DEFAULT_CSV, inbound, read_rows, signed, webhook_payload

LONDON = ZoneInfo("Europe/London")
ENGLAND_BANK_HOLIDAYS_2017 = {"2017-08-28", "2017-12-25", "2017-12-26"}


def desk_open_oracle(at: datetime) -> bool:
    """Customer service: 07:00-20:00 Mon-Fri, 09:00-17:00 Sat-Sun, Europe/London, bank holidays closed."""
    local = at.astimezone(LONDON)
    if local.date().isoformat() in ENGLAND_BANK_HOLIDAYS_2017:
        return False
    minutes = local.hour * 60 + local.minute
    if local.weekday() < 5:
        return 7 * 60 <= minutes < 20 * 60
    return 9 * 60 <= minutes < 17 * 60


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="../shared/data/twcs_sample.csv is not beside the project")
def test_every_first_contact_gets_its_desk_priority_and_the_right_open_state(client, svc, clock):
    """A customer's first message opens their case; a later first contact of the same customer (nobody resolves
    tickets here) joins that case and keeps its desk and first-contact time."""
    rows = inbound(read_rows())
    first_contacts = [r for r in rows if not r.in_reply_to]
    assert len(first_contacts) == 1285  # as the data README measures
    # ``REPLAY_FIRST_CONTACTS=N``: the first N in time order (make test replays 500 to stay fast; make reliability all)
    first_contacts = first_contacts[:int(os.environ.get("REPLAY_FIRST_CONTACTS") or 0) or None]
    closed = acked = joined = 0
    cases: dict[str, str] = {}
    for row in first_contacts:
        clock.set(row.created_at)
        body, headers = signed(webhook_payload(row, brand_id="1000000001"), "local-x-consumer-secret")
        assert client.http.post("/webhooks/x", body=body, headers=headers).status_code == 200
        drain("process_inbound", "responder-inbound")

        ticket_id = ticket_of(svc, f"x#{row.tweet_id}")
        assert ticket_id, row.tweet_id
        ticket = svc.tickets.get(ticket_id)
        if row.author_id in cases:
            assert ticket.ticket_id == cases[row.author_id] and f"x#{row.tweet_id}" in ticket.mention_keys
            assert ticket.first_contact_at < row.created_at
            joined += 1
            continue
        cases[row.author_id] = ticket.ticket_id
        expected = triage(row.text, channel="x", config=svc.config, followers=100, language="")
        assert ticket.priority == expected.priority
        escalated = any(e.kind == "escalated" for e in ticket.timeline)
        assert ticket.desk == ("oncall" if escalated else expected.desk)
        is_open = desk_open_oracle(row.created_at) if expected.desk in ("complaints", "journeys") else \
            svc.calendar.is_open(expected.desk, row.created_at)
        assert svc.calendar.is_open(expected.desk, row.created_at) == is_open, row.created_at
        should_ack = expected.acknowledge and not is_open and not escalated
        assert ticket.acked == should_ack, (row.tweet_id, row.text, ticket.intent, is_open)
        closed += not is_open
        acked += ticket.acked
    print(f"\n{len(first_contacts)} first contacts from {len(cases)} customers ({joined} joined their open case): "
          f"{closed} cases opened while their desk was closed, {acked} acknowledged")
    assert len(set(cases.values())) == len(cases)  # one case per customer
    assert 0 < acked <= closed < len(cases)
