"""Two customers linked into one: their open tickets merge, and the leads' reports count the case once (ADR 0027)."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.usecases.customers import merge_customers
from chalicelib.usecases.process import process_mention
from tests.unit.test_usecases import tweet


def test_a_merged_ticket_is_counted_once_in_the_reports(mem, clock):
    first = process_mention(mem, tweet("910001", at=clock.now(), author="81001"))
    clock.advance(minutes=5)
    second = process_mention(mem, tweet("910002", at=clock.now(), author="81002"))
    keep = mem.tickets.get(first.ticket_id).customer_id
    other = mem.tickets.get(second.ticket_id).customer_id
    span = (clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))
    assert [f.merged for f in mem.reports.between(*span)] == [False, False]

    result = merge_customers(mem, keep, other, clock.now(), reason="an agent linked them")
    rows = {f.ticket_id: f for f in mem.reports.between(*span)}
    assert result.merged == second.ticket_id and rows[second.ticket_id].merged is True
    assert rows[first.ticket_id].merged is False and len([f for f in rows.values() if not f.merged]) == 1
