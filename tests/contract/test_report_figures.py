"""The reports' figure store (``ReportFigureStore``): the same contract in memory and on DynamoDB (moto, the
template's tables), with the fixtures of the stores' contract suite."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from chalicelib.domain.reports import TicketFigures
from tests.contract.test_stores import dynamo_stores, stores  # noqa: F401  # the suite's fixtures

T0 = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)  # a month's last half hour: rows fall in two months


def figures(ticket_id: str, at: datetime, **changes) -> TicketFigures:
    base = TicketFigures(ticket_id=ticket_id, channel="x", desk="support", first_contact_at=at, version=1,
                         first_response_at=at + timedelta(minutes=12), first_response_open_min=12.0,
                         resolutions=(at + timedelta(hours=2),), reopens=(), due=at + timedelta(hours=1),
                         wrote_while_closed=True, triage_said_no=False, ack_state="sent",
                         ack_at=at + timedelta(seconds=40), waits=((at, at + timedelta(minutes=12)),))
    return replace(base, **changes)


def uid() -> str:
    return "R" + uuid.uuid4().hex[:8].upper()


def test_figures_round_trip_and_are_read_by_first_contact_across_months(stores):  # noqa: F811
    a, b, c = uid(), uid(), uid()
    first = figures(a, T0)
    second = figures(b, T0 + timedelta(minutes=45), channel="email", first_response_at=None,
                     first_response_open_min=None, waits=((T0 + timedelta(minutes=45), None),), busy_acked=True)
    third = figures(c, T0 + timedelta(days=3))
    for f in (third, second, first):
        stores.reports.record(f)
    found = [f for f in stores.reports.between(T0, T0 + timedelta(days=1)) if f.ticket_id in {a, b, c}]
    assert found == [first, second]
    assert [f.ticket_id for f in stores.reports.between(T0 + timedelta(minutes=45), T0 + timedelta(days=4))
            if f.ticket_id in {a, b, c}] == [b, c]
    assert [f for f in stores.reports.between(T0 - timedelta(days=1), T0) if f.ticket_id in {a, b, c}] == []


def test_an_older_version_never_replaces_a_newer(stores):  # noqa: F811
    t = uid()
    stores.reports.record(figures(t, T0, version=3, ack_state="sent"))
    stores.reports.record(figures(t, T0, version=2, ack_state="queued"))
    stores.reports.record(figures(t, T0, version=3, desk="billing"))
    (found,) = [f for f in stores.reports.between(T0, T0 + timedelta(hours=1)) if f.ticket_id == t]
    assert found.version == 3 and found.desk == "billing" and found.ack_state == "sent"
    stores.reports.record(figures(t, T0, version=4, ack_state="expired"))
    (found,) = [f for f in stores.reports.between(T0, T0 + timedelta(hours=1)) if f.ticket_id == t]
    assert found.ack_state == "expired"


def test_a_busy_estimate_is_kept_beside_the_figures_whichever_comes_first(stores):  # noqa: F811
    before, after = uid(), uid()
    stores.reports.note_busy(before, T0, 40, 60)
    stores.reports.record(figures(before, T0, busy_acked=True))
    stores.reports.record(figures(after, T0, busy_acked=True))
    stores.reports.note_busy(after, T0, 90, 180)
    stores.reports.record(figures(after, T0, busy_acked=True, version=2))
    got = {f.ticket_id: f.busy_estimate for f in stores.reports.between(T0, T0 + timedelta(hours=1))
           if f.ticket_id in {before, after}}
    assert got == {before: (40, 60), after: (90, 180)}


def test_a_ticket_whose_first_contact_moved_is_read_once_at_its_newest(stores):  # noqa: F811
    t = uid()
    stores.reports.record(figures(t, T0 + timedelta(minutes=20), version=1))
    stores.reports.record(figures(t, T0, version=2))  # merged with an earlier ticket of the customer
    found = [f for f in stores.reports.between(T0, T0 + timedelta(hours=1)) if f.ticket_id == t]
    assert [(f.version, f.first_contact_at) for f in found] == [(2, T0)]


def test_the_figures_item_expires_with_retention(dynamo_stores):  # noqa: F811
    from chalicelib.store.models import StateModel

    t = uid()
    dynamo_stores.reports.record(figures(t, T0))
    (item,) = [i for i in StateModel.query("report#2026-01") if i.sk.endswith(t)]
    assert item.expires_at is not None and item.expires_at > datetime.now(timezone.utc) + timedelta(days=30)
    assert "customer" not in str(item.value)
