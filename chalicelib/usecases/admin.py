"""Oversight for team leads and comms: who is on shift, backlog per desk, incidents."""
from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from chalicelib.domain import followup
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.usecases import incidents, whatsapp_statuses
from chalicelib.usecases.errors import NotAuthenticated, NotFound


def authorize(svc: Services, authorization: str | None) -> str:
    """Admin endpoints take ``Authorization: Bearer <ADMIN_TOKEN>``; returns who is acting."""
    expected = svc.secrets.get("ADMIN_TOKEN")
    scheme, _, token = (authorization or "").partition(" ")
    given = token.encode("utf-8", "replace")
    if scheme.lower() != "bearer" or not token or not hmac.compare_digest(given, expected.encode()):
        raise NotAuthenticated("send Authorization: Bearer <admin token>")
    return "admin"


def rota(svc: Services) -> dict[str, Any]:
    now = svc.now()
    view = svc.calendar.rota_view(now)
    for desk_id, desk in view["desks"].items():
        desk["backlog"] = svc.tickets.backlog_count(desk_id)
    return view


def backlog(svc: Services, desk: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A desk's waiting tickets in queue order, ``limit`` a page, from ``cursor``; ``next_cursor`` goes on (None:
    the queue ends here), so no ticket is left out however deep the queue is (``desk.lists``: the same cursor)."""
    from chalicelib.store.ports import QueueMark
    from chalicelib.usecases.desk.lists import decode_cursor, encode_cursor

    if desk not in svc.config.desk_ids:
        raise NotFound(f"desk {desk}")
    after = None
    if cursor:
        at = decode_cursor(cursor, "state", "order", "ticket_id")
        after = QueueMark(at["order"], at["ticket_id"]) if at["ticket_id"] else None
    page = svc.tickets.queue_page(desk, "waiting", after=after, limit=limit)
    tickets = page.tickets
    more = page.after is not None and svc.tickets.queue_page(desk, "waiting", after=page.after, limit=1).tickets
    next_cursor = encode_cursor({"state": "waiting", "order": page.after.order, "ticket_id": page.after.ticket_id}) \
        if page.after is not None and more else None
    return {"desk": desk, "open": svc.calendar.is_open(desk, svc.now()), "tickets": [
        {"ticket_id": t.ticket_id, "priority": t.priority, "intent": t.intent, "channel": t.channel,
         "first_contact_at": t.first_contact_at.isoformat(), "flags": t.flags, "breached": t.breached,
         "acked": t.acked} for t in tickets], "next_cursor": next_cursor}


def ticket_view(svc: Services, ticket_id: str) -> dict[str, Any]:
    """One ticket for a lead: state, customer and their linked identities, channels and conversations, suggested
    links to confirm, the messages and the timeline (internal: it holds what customers wrote)."""
    ticket = svc.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    messages = []
    for key in ticket.mention_keys:
        stored = svc.mentions.get(key)
        if stored is not None:
            m = stored.mention
            messages.append({"key": key, "channel": m.channel, "at": m.created_at.isoformat(),
                             "author": m.author_handle or m.author_id, "visibility": m.visibility, "text": m.text})
    target = ticket.reply_target
    return {
        "ticket_id": ticket.ticket_id, "status": ticket.status, "merged_into": ticket.merged_into,
        "desk": ticket.desk, "priority": ticket.priority, "intent": ticket.intent,
        "first_contact_at": ticket.first_contact_at.isoformat(), "acked": ticket.acked, "flags": ticket.flags,
        "customer_id": ticket.customer_id, "customer_name": target.name if target else "",
        "identities": sorted(svc.customers.identities(ticket.customer_id)),
        "channels": ticket.channels, "conversations": ticket.conversations,
        "suggested_links": ticket.suggested_links, "reopened": ticket.reopened,
        "status_url": svc.links.url(ticket.ticket_id), "messages": messages,
        "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail,
                      **({"reply": e.reply.to_dict()} if e.reply is not None else {})} for e in ticket.timeline],
        **({"whatsapp_statuses": whatsapp_statuses.of_ticket(svc, ticket.ticket_id)}
           if "whatsapp" in (ticket.channels or [ticket.channel]) else {}),
    }


def change_incident(svc: Services, incident_id: str, data: dict[str, Any], *, resolve: bool) -> dict[str, Any]:
    """Update or resolve; with ``follow_up: true`` in ``data`` every open ticket linked to the incident gets one
    reply about this change (the update's text, or that the problem is resolved), never two for the same change.
    Resolving a resolved incident is refused (Conflict) and sends nothing."""
    fields = dict(data)
    follow_up = bool(fields.pop("follow_up", False))
    incident = incidents.update(svc, incident_id, fields, resolve=resolve)
    sent = 0
    if follow_up:
        change = followup.RESOLVED if resolve else followup.UPDATE
        for ticket in svc.tickets.open_tickets():
            if ticket.incident_id == incident_id and incidents.queue_follow_up(svc, ticket, incident, change):
                sent += 1
    return {**incident.to_dict(), "follow_ups_queued": sent}


#: The states a decided acknowledgement can be in (``Ticket.ack_state``), in the order reports print them.
ACK_STATES = ("sent", "waiting", "queued", "expired", "parked")


def acknowledgements(svc: Services, open_tickets: Iterable[Ticket] | None = None) -> dict[str, Any]:
    """Every decided acknowledgement of the open cases accounted for: how many are sent, waiting for their channel's
    rate, queued (on their way), expired (the team was back first) or parked for a person — in all and per channel —
    plus what waits in the waiting room and what lies on the dead-letter queues (``parked`` is the exception an
    alarm fires on, never the normal path)."""
    totals = dict.fromkeys(("decided", *ACK_STATES), 0)
    per_channel: dict[str, dict[str, int]] = {}
    for ticket in svc.tickets.open_tickets() if open_tickets is None else open_tickets:
        state = ticket.ack_state()
        if state is None:
            continue
        channel = ticket.reply_target.channel if ticket.reply_target else ticket.channel
        row = per_channel.setdefault(channel, dict.fromkeys(("decided", *ACK_STATES), 0))
        for counts in (totals, row):
            counts["decided"] += 1
            counts[state[0]] += 1
    waiting_room = {channel: n for channel in CHANNELS if (n := svc.waiting.count(channel))}
    queues = [svc.settings.inbound_queue, svc.settings.outbox_queue]
    dead_letters = {f"{name}-dlq": svc.queues.approximate_depth(f"{name}-dlq") for name in queues}
    return {"at": svc.now().isoformat(), "of": "open tickets", **totals, "per_channel": per_channel,
            "waiting_room": waiting_room, "dead_letter_queues": dead_letters}
