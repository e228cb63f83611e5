"""Closing time: customers still waiting on a desk that has just closed get the acknowledgement once (so nobody
who wrote at 19:59 is left in silence), and agents' claims expire at the end of their shift."""
from __future__ import annotations

from chalicelib.domain.routing import ACK_MAX_AGE
from chalicelib.domain.triage import NO_ACK_INTENTS
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases.acknowledge import acknowledge


def closing_time(svc: Services) -> dict[str, int]:
    now = svc.now()
    acked = released = 0
    for desk in svc.config.desk_ids:
        if svc.calendar.is_open(desk, now):
            continue
        back_at = svc.calendar.next_opening(desk, now)
        for ticket in svc.tickets.backlog(desk, limit=1000):
            if ticket.acked or ticket.intent in NO_ACK_INTENTS or now - ticket.last_customer_at > ACK_MAX_AGE:
                continue
            if acknowledge(svc, ticket, back_at=back_at, kind="closing"):
                acked += 1
    for ticket in svc.tickets.claimed():
        if ticket.claim_expires_at and ticket.claim_expires_at <= now:
            ticket.release(now, "shift ended")
            try:
                svc.tickets.save(ticket)
                released += 1
            except ConcurrentUpdate:
                continue  # the agent acted on it just now; the next run looks again
    if acked or released:
        logger.info("closing time", extra={"acknowledged": acked, "claims_released": released})
    count("ClosingAcks", acked)
    count("ClaimsReleased", released)
    return {"acknowledged": acked, "claims_released": released}
