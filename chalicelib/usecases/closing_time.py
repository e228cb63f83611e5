"""Closing time: customers still waiting on a desk that has just closed get the acknowledgement once (so nobody
who wrote at 19:59 is left in silence), and agents' claims past their end (shift over, or idle too long) return to
their desk."""
from __future__ import annotations

from chalicelib.domain.routing import ACK_MAX_AGE
from chalicelib.domain.triage import policy_acknowledges
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases.acknowledge import acknowledge
from chalicelib.usecases.desk.claims import expire_claims


def closing_time(svc: Services) -> dict[str, int]:
    now = svc.now()
    acked = 0
    for desk in svc.config.desk_ids:
        if svc.calendar.is_open(desk, now):
            continue
        back_at = svc.calendar.next_opening(desk, now)
        for ticket in svc.tickets.backlog(desk, limit=1000):
            stale = now - ticket.last_customer_at > ACK_MAX_AGE
            if ticket.acked or stale or not policy_acknowledges(ticket.intent, ticket.current_decision):
                continue
            if acknowledge(svc, ticket, back_at=back_at, kind="closing"):
                acked += 1
    released = expire_claims(svc)
    if acked or released:
        logger.info("closing time", extra={"acknowledged": acked, "claims_released": released})
    count("ClosingAcks", acked)
    count("ClaimsReleased", released)
    return {"acknowledged": acked, "claims_released": released}
