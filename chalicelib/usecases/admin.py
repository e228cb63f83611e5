"""Oversight for team leads and comms: who is on shift, backlog per desk, incidents."""
from __future__ import annotations

import hmac
from typing import Any

from chalicelib.domain import followup
from chalicelib.services import Services
from chalicelib.usecases import incidents
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


def backlog(svc: Services, desk: str, limit: int = 50) -> dict[str, Any]:
    if desk not in svc.config.desk_ids:
        raise NotFound(f"desk {desk}")
    tickets = svc.tickets.backlog(desk, limit=limit)
    return {"desk": desk, "open": svc.calendar.is_open(desk, svc.now()), "tickets": [
        {"ticket_id": t.ticket_id, "priority": t.priority, "intent": t.intent, "channel": t.channel,
         "first_contact_at": t.first_contact_at.isoformat(), "flags": t.flags, "breached": t.breached,
         "acked": t.acked} for t in tickets]}


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
        "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail} for e in ticket.timeline],
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
