"""SLA watch: a ticket whose first (or next) response is overdue is marked breached, shown on the ticket,
counted as a metric and escalated - once per breach - to a desk that is open now: the escalation desk, else the
on-call desk; when neither is open nobody is alerted, and the ticket's timeline (and its status page) says so."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import sla
from chalicelib.domain.history import SlaBreached
from chalicelib.domain.routing import queue_message
from chalicelib.domain.ticket import CLAIMED, WAITING, Ticket
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases.replies import unaddressed


def due_at(svc: Services, ticket: Ticket) -> datetime:
    if ticket.first_response_at is None:
        return ticket.first_response_due or sla.first_response_due(
            ticket.first_contact_at, ticket.channel, ticket.priority, ticket.desk, svc.config, svc.calendar)
    return sla.next_response_due(ticket.last_customer_at, ticket.channel, ticket.priority, ticket.desk,
                                 svc.config, svc.calendar)


def alerted_desk(svc: Services, now: datetime) -> str:
    """The desk a breach is escalated to at ``now``: the escalation desk if open, else the on-call desk if open;
    '' when neither is (nobody on shift to alert)."""
    routing = svc.config.routing
    for desk in (routing.escalation_desk, routing.oncall_desk):
        if desk and svc.calendar.is_open(desk, now):
            return desk
    return ""


def sla_watch(svc: Services) -> dict[str, int]:
    now = svc.now()
    alerted = alerted_desk(svc, now)
    breached = 0
    for ticket in svc.tickets.open_tickets():
        if ticket.breached or ticket.status not in (WAITING, CLAIMED) or unaddressed(ticket):
            continue  # a listened post (nobody addressed it to us) has no response target until its author does
        due = due_at(svc, ticket)
        if not sla.is_breached(due, now):
            continue
        late = round(sla.minutes_late(due, now))
        ticket.breached = True
        ticket.record(SlaBreached(now, due, late, alerted=alerted))
        try:
            svc.tickets.save(ticket)
        except ConcurrentUpdate:
            continue  # changed meanwhile; the next run re-checks it
        if alerted:
            message = queue_message(ticket, event="ticket.sla_breached", at=now,
                                    status_url=svc.links.url(ticket.ticket_id))
            message.update({"escalated": True, "due_at": due.isoformat(), "minutes_late": late,
                            "from_desk": ticket.desk})
            svc.queues.send_desk(alerted, message)
        count("SlaBreached", total=True, desk=ticket.desk, priority=ticket.priority)
        logger.warning("SLA breached", extra={"ticket_id": ticket.ticket_id, "desk": ticket.desk,
                                              "due": due.isoformat(), "minutes_late": late,
                                              "alerted": alerted or "nobody on shift"})
        breached += 1
    return {"breached": breached}
