"""The acknowledgement (out of hours, at closing time, or busy in hours): decided once per ticket, composed from
templates, handed to the outbox.

The link policy (``links.no_url_in_public`` in the brand file, ``[x]`` by default): a public reply on those channels
carries no URL — neither the status link nor the incident's link; the reference stays, and the template tells the
customer how to follow it without a link (the status lookup, ``GET /status``, or a direct message). A private reply
keeps the link (ADR 0013)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.ack import compose, render, without_urls
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases import incidents
from chalicelib.usecases.replies import queue_reply


def ack_key(ack_ref: str) -> str:
    """The outbox idempotency key of an acknowledgement (``Ticket.ack_key``: once per open case)."""
    return f"ack#{ack_ref}"


def ticket_text(svc: Services, ticket: Ticket) -> str:
    first = svc.mentions.get(ticket.mention_keys[0]) if ticket.mention_keys else None
    return first.mention.text if first is not None else ""


def acknowledge(svc: Services, ticket: Ticket, *, back_at: datetime | None, kind: str = "ack",
                text: str | None = None, expected_wait: str = "") -> bool:
    """Queue the ticket's one acknowledgement (``kind`` picks the template); False if it was already queued.
    ``text`` is the customer's first message (read from the store when not given); ``expected_wait`` is the
    busy acknowledgement's range ("about 40–60 minutes")."""
    ticket_id = ticket.ticket_id
    target = ticket.reply_target
    if target is None:
        return False
    ack_ref = ticket.ack_key
    if not svc.acks.begin(ack_ref, kind) and svc.acks.is_queued(ack_ref):
        return False  # already queued by an earlier delivery; the outbox key stops any second send
    now = svc.now()
    incident = incidents.matching(svc, desk=ticket.desk, text=ticket_text(svc, ticket) if text is None else text)
    config = svc.config
    status_url = svc.links.url(ticket_id)
    if not config.url_allowed(target.channel, private=target.private):
        status_url = ""  # the reference stays; the template says how to follow it without a link
        if incident is not None:
            incident = replace(incident, url="", text=without_urls(incident.text))
    dm_invite = ""
    if "personal_data_in_public" in ticket.flags or (not target.private and ticket.intent == "complaint"):
        dm_invite = render(config.template("dm_invite", target.channel, ticket.language),
                           name=target.name, reference=ticket_id, desk=ticket.desk)
    template = config.template(kind, target.channel, ticket.language)
    message = compose(template, channel=target.channel, name=target.name, reference=ticket_id,
                      status_url=status_url, now=now, back_at=back_at, tz=config.brand.timezone,
                      desk=ticket.desk, incident=incident, dm_invite=dm_invite, expected_wait=expected_wait,
                      ask_for=config.ask_for(ticket.desk, ticket.language))
    queue_reply(svc, ticket, kind=kind, key=ack_key(ack_ref), text=message, expires_at=back_at)
    svc.acks.mark_queued(ack_ref, kind, now)

    def mark_acked(ticket: Ticket) -> None:
        ticket.acked = True
        if incident:
            ticket.incident_id = incident.incident_id
        ticket.record(now, "ack_queued", back_at.isoformat() if back_at else "")

    try:
        svc.tickets.update(ticket_id, mark_acked, current=ticket)
    except ConcurrentUpdate:  # the acknowledgement is queued (and the ack mark says so); only the flag is lost
        logger.warning("ticket not marked acknowledged", extra={"ticket_id": ticket_id})
    count("AcksQueued", kind=kind)
    logger.info("acknowledgement queued", extra={"ticket_id": ticket_id, "kind": kind,
                                                  "incident": incident.incident_id if incident else None})
    return True
