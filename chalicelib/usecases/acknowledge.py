"""Out-of-hours acknowledgement: decided once per ticket, composed from templates, handed to the outbox."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.ack import compose, render
from chalicelib.domain.status_link import status_url
from chalicelib.store.repositories import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases import incidents

ACK_PK = "ack"
ONCE = "once"  # one acknowledgement per ticket, whichever kind (out-of-hours or closing time) comes first


def ticket_text(svc, ticket) -> str:
    first = svc.mentions.get(ticket.mention_keys[0]) if ticket.mention_keys else None
    return (first.mention or {}).get("text", "") if first else ""


def acknowledge(svc, ticket, *, back_at: datetime | None, kind: str = "ack", text: str | None = None) -> bool:
    """Queue the ticket's one acknowledgement (``kind`` picks the template); False if it was already queued.
    ``text`` is the customer's first message (read from the store when not given)."""
    ticket_id = ticket.ticket_id
    mark = f"{ACK_PK}#{ticket_id}"
    if not svc.state.claim(mark, ONCE, value={"queued": False, "kind": kind}):
        existing = svc.state.get(mark, ONCE)
        if existing and (existing.value or {}).get("queued"):
            return False  # already queued by an earlier delivery; the outbox key stops any second send
    target = ticket.reply_target
    now = svc.now()
    incident = incidents.matching(svc, desk=ticket.desk, text=ticket_text(svc, ticket) if text is None else text)
    config = svc.config
    dm_invite = ""
    if "personal_data_in_public" in ticket.flags or (not target.get("private") and ticket.intent == "complaint"):
        dm_invite = render(config.template("dm_invite", target["channel"], ticket.language),
                           name=target.get("name", ""), reference=ticket.ticket_id, desk=ticket.desk)
    template = config.template(kind, target["channel"], ticket.language)
    link = status_url(svc.settings.public_base_url, svc.secrets.get("STATUS_LINK_KEY"), ticket_id)
    text = compose(template, channel=target["channel"], name=target.get("name", ""), reference=ticket_id,
                   status_url=link, now=now, back_at=back_at, tz=config.brand.timezone, desk=ticket.desk,
                   incident=incident, dm_invite=dm_invite)
    svc.queues.send_outbox({
        "idempotency_key": f"{ACK_PK}#{ticket_id}", "kind": kind, "ticket_id": ticket_id,
        "channel": target["channel"], "recipient": target["recipient"], "in_reply_to": target["in_reply_to"],
        "private": bool(target.get("private")), "subject": target.get("subject", ""),
        "extra": target.get("extra") or {}, "text": text, "queued_at": now.isoformat(),
        "expires_at": back_at.isoformat() if back_at else None,
    })
    svc.state.put(mark, ONCE, value={"queued": True, "kind": kind, "at": now.isoformat()})
    def mark_acked(ticket) -> None:
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
