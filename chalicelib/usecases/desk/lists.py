"""A desk's tickets as a list: filtered, sorted, and paged with an opaque cursor — no silent cap.

Read through the backlog index (``TicketStore.queue_page``: one query per page of a desk's tickets of one status,
in queue order), never a scan. The index filters by desk, status and priority (its key and the start of its sort
key); the other filters (flag, channel, held by, SLA due within) are applied to each page read, and reading goes on
until the page is full, the desk ends or ``READ_CAP`` items were read in this request — then the answer is
``partial`` and its cursor goes on from the last ticket read. ``open`` lists waiting, then claimed, then waiting
for the customer, each in queue order.

Sorting by SLA due cannot follow the index: it reads the desk's open tickets of the state (up to ``SLA_CAP``),
sorts them by due time and pages through that order; a desk with more is answered ``partial``.

The cursor is base64-url JSON of where the list stopped (a state and a place in the queue, or a due time and a
reference); it is opaque to callers and checked when read back.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from chalicelib.domain.agent import Agent
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.store.ports import QueueMark
from chalicelib.usecases.desk.commands import ListFilters
from chalicelib.usecases.desk.views import TicketSummary, summary
from chalicelib.usecases.errors import Forbidden, Invalid, NotFound

#: Items read from the index per request at most, whatever the filters keep.
READ_CAP = 500
#: The open tickets of a desk read to sort them by SLA due.
SLA_CAP = 1000
#: The states ``open`` lists, in this order.
OPEN_STATES = ("waiting", "claimed", "replied")
_FAR = "9999"  # no SLA due (answered already): after every due time


@dataclass(frozen=True)
class TicketRow(TicketSummary):
    """A ticket in a desk's list: its summary, when its first response is due (None: answered), and whether it
    waits for the customer (an agent answered after their last message)."""

    sla_due: str | None = None
    awaiting_customer: bool = False

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "sla_due": self.sla_due, "awaiting_customer": self.awaiting_customer}


@dataclass(frozen=True)
class TicketPage:
    """One page of a desk's list: ``rows``, ``next_cursor`` (None: the list ends here), ``total`` (how many wait
    on the desk, when the list is the plain queue and counting it is one query; else None), how many tickets were
    read for it, and ``partial`` when the read cap ended the page before it was full."""

    desk: str
    filters: ListFilters
    rows: tuple[TicketRow, ...]
    next_cursor: str | None
    total: int | None
    read: int
    partial: bool

    def to_json(self) -> dict[str, object]:
        return {"desk": self.desk, "filters": {f.name: getattr(self.filters, f.name) for f in fields(self.filters)},
                "tickets": [r.to_json() for r in self.rows], "next_cursor": self.next_cursor, "total": self.total,
                "read": self.read, "partial": self.partial}


# ------------------------------------------------------------------------------------------------ the cursor
def encode_cursor(position: dict[str, str]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *names: str) -> dict[str, str]:
    """The position a cursor names; Invalid unless it is one this list gave (its names, all text)."""
    try:
        if len(cursor) > 1000:
            raise ValueError(cursor)
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not one this list gave", details={"cursor": "invalid"}) from None
    if not isinstance(data, dict) or set(data) != set(names) or not all(isinstance(v, str) for v in data.values()):
        raise Invalid("cursor is not one this list gave (or was given for another sort)",
                      details={"cursor": "invalid"})
    return data


# ------------------------------------------------------------------------------------------------ the use case
def may_list(svc: Services, agent: Agent, desk: str) -> None:
    if desk not in svc.config.desk_ids:
        raise NotFound(f"desk {desk}")
    if not agent.lead and not any(t in agent.teams for t in svc.config.teams_covering(desk)):
        raise Forbidden(f"desk {desk} is not one your teams cover")


def row(svc: Services, ticket: Ticket, now: datetime) -> TicketRow:
    head = summary(svc, ticket, now)
    due = ticket.first_response_due if ticket.first_response_at is None else None
    return TicketRow(**{f.name: getattr(head, f.name) for f in fields(TicketSummary)},
                     sla_due=due.isoformat() if due else None, awaiting_customer=ticket.awaiting_customer)


Keep = Callable[[Ticket], bool]


def _keeps(filters: ListFilters, agent: Agent, now: datetime) -> Keep:
    """The filters the index cannot apply, as one test of a ticket."""
    holder = agent.username if filters.held_by == "mine" else filters.held_by
    until = now + timedelta(minutes=filters.due_within) if filters.due_within is not None else None

    def keep(t: Ticket) -> bool:
        if filters.flag and filters.flag not in t.flags:
            return False
        if filters.listening and t.listened != (filters.listening == "only"):
            return False
        if filters.channel and filters.channel != t.channel and filters.channel not in t.channels:
            return False
        if holder and t.claimed_by != holder:
            return False
        if until is not None:
            due = t.first_response_due if t.first_response_at is None else None
            if due is None or due > until:
                return False
        return True

    return keep


def desk_tickets(svc: Services, agent: Agent, desk: str, filters: ListFilters, cursor: str | None = None,
                 limit: int = 25) -> TicketPage:
    """One page of the desk's tickets that pass ``filters``, in their order, from ``cursor`` (None: the first
    page). Leads see every desk; other agents the desks their teams cover (on shift or not: it is a read)."""
    may_list(svc, agent, desk)
    now = svc.now()
    keep = _keeps(filters, agent, now)
    states = OPEN_STATES if filters.state == "open" else (filters.state,)
    urgent = None if not filters.priority else filters.priority == "urgent"
    if filters.sort == "sla":
        found, next_cursor, read, partial = _by_due(svc, desk, states, urgent, keep, cursor, limit)
    else:
        found, next_cursor, read, partial = _in_queue(svc, desk, states, urgent, keep, cursor, limit)
    plain = filters == ListFilters() or filters == ListFilters(sort="sla")
    total = svc.tickets.backlog_count(desk) if plain else None
    return TicketPage(desk=desk, filters=filters, rows=tuple(row(svc, t, now) for t in found),
                      next_cursor=next_cursor, total=total, read=read, partial=partial)


def _in_queue(svc: Services, desk: str, states: tuple[str, ...], urgent: bool | None, keep: Keep,
              cursor: str | None, limit: int) -> tuple[list[Ticket], str | None, int, bool]:
    state, after = states[0], None
    if cursor:
        at = decode_cursor(cursor, "state", "order", "ticket_id")
        if at["state"] not in states:
            raise Invalid("cursor is not one this list gave (or was given for another state)",
                          details={"cursor": "invalid"})
        state, after = at["state"], QueueMark(at["order"], at["ticket_id"]) if at["ticket_id"] else None
    found: list[Ticket] = []
    read = 0
    while True:
        page = svc.tickets.queue_page(desk, state, after=after, limit=min(READ_CAP - read, max(limit, 25)),
                                      urgent=urgent)
        read += len(page.tickets)
        for ticket in page.tickets:
            if keep(ticket):
                found.append(ticket)
                if len(found) == limit:
                    mark = {"state": state, "order": ticket.backlog_order, "ticket_id": ticket.ticket_id}
                    more = ticket is not page.tickets[-1] or page.after is not None or state != states[-1]
                    return found, encode_cursor(mark) if more else None, read, False
        if page.after is None:
            if state == states[-1]:
                return found, None, read, False
            state, after = states[states.index(state) + 1], None
        else:
            after = page.after
        if read >= READ_CAP:
            mark = {"state": state, "order": after.order if after else "",
                    "ticket_id": after.ticket_id if after else ""}
            return found, encode_cursor(mark), read, True


def _all_of(svc: Services, desk: str, states: tuple[str, ...], urgent: bool | None) -> Iterator[Ticket]:
    for state in states:
        after: QueueMark | None = None
        while True:
            page = svc.tickets.queue_page(desk, state, after=after, limit=100, urgent=urgent)
            yield from page.tickets
            if page.after is None:
                break
            after = page.after


def _by_due(svc: Services, desk: str, states: tuple[str, ...], urgent: bool | None, keep: Keep,
            cursor: str | None, limit: int) -> tuple[list[Ticket], str | None, int, bool]:

    def due_key(t: Ticket) -> tuple[str, str]:
        due = t.first_response_due if t.first_response_at is None else None
        return (due.isoformat() if due else _FAR), t.ticket_id

    read: list[Ticket] = []
    for ticket in _all_of(svc, desk, states, urgent):
        read.append(ticket)
        if len(read) >= SLA_CAP:
            break
    start = None
    if cursor:
        at = decode_cursor(cursor, "due", "ticket_id")
        start = (at["due"], at["ticket_id"])
    ordered = sorted((t for t in read if keep(t)), key=due_key)
    rest = [t for t in ordered if start is None or due_key(t) > start]
    page = rest[:limit]
    more = len(rest) > limit
    next_cursor = None
    if more:
        due, ticket_id = due_key(page[-1])
        next_cursor = encode_cursor({"due": due, "ticket_id": ticket_id})
    return page, next_cursor, len(read), len(read) >= SLA_CAP
