"""Closing time: customers still waiting on a desk that has just closed get the acknowledgement once (so nobody
who wrote at 19:59 is left in silence), and agents' claims past their end (shift over, or idle too long) return to
their desk. Urgent work still waiting on a closed desk goes to the on-call desk when that is open, as a new urgent
ticket would (``process.to_oncall``); its acknowledgement then says the on-call team has it.

A ticket an agent has answered already is never told "we'll reply then" as if nobody had: when the customer wrote
again since the answer, the message is worded for it (``closing_answered``: we'll pick up your latest message);
when they have not, they have their answer and nothing is sent."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.history import Replied
from chalicelib.domain.routing import ACK_MAX_AGE, moved_to_oncall, oncall_desk_now, queue_message
from chalicelib.domain.triage import policy_acknowledges
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases.acknowledge import acknowledge
from chalicelib.usecases.desk.claims import expire_claims
from chalicelib.usecases.process import to_oncall


def closing_time(svc: Services) -> dict[str, int]:
    now = svc.now()
    acked = escalated = 0
    for desk in svc.config.desk_ids:
        if svc.calendar.is_open(desk, now):
            continue
        back_at = svc.calendar.next_opening(desk, now)
        for ticket in svc.tickets.backlog(desk, limit=1000):
            oncall = oncall_desk_now(ticket.desk, ticket.priority, calendar=svc.calendar, config=svc.config, now=now)
            if oncall is not None:
                # the on-call desk hears of it before it moves: a run that dies between the two has told it (the
                # next run moves it and tells it again, at least once); one that moved it first and died never would
                svc.queues.send_desk(oncall, queue_message(
                    replace(ticket, desk=oncall), decision=moved_to_oncall(oncall, ticket.desk),
                    event="ticket.updated", change="transferred", from_desk=ticket.desk, at=now,
                    status_url=svc.links.url(ticket.ticket_id)))
            try:
                ticket, from_desk = to_oncall(svc, ticket, now)
            except ConcurrentUpdate:
                continue  # changing right now; the next run looks again
            if from_desk:
                escalated += 1
            stale = now - ticket.last_customer_at > ACK_MAX_AGE
            if ticket.acked or stale or not policy_acknowledges(ticket.intent, ticket.current_decision):
                continue
            answered_at = max((e.at for e in ticket.timeline if isinstance(e, Replied)), default=None)
            if answered_at is not None and ticket.last_customer_at <= answered_at:
                continue  # answered, and the customer has not written since: nothing to tell them
            if acknowledge(svc, ticket, back_at=None if from_desk else back_at, kind="closing",
                           oncall=bool(from_desk), answered=answered_at is not None):
                acked += 1
    released = expire_claims(svc)
    if acked or released or escalated:
        logger.info("closing time", extra={"acknowledged": acked, "claims_released": released,
                                           "escalated": escalated})
    count("ClosingAcks", acked)
    count("ClaimsReleased", released)
    return {"acknowledged": acked, "claims_released": released}
