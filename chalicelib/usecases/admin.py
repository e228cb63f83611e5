"""Oversight for team leads and comms: who is on shift, backlog per desk, incidents."""
from __future__ import annotations

import hmac
from typing import Any

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


def change_incident(svc: Services, incident_id: str, data: dict[str, Any], *, resolve: bool) -> dict[str, Any]:
    """Update or resolve; with ``follow_up: true`` in ``data`` every open ticket linked to the incident gets one
    reply about this change (an update, or 'service restored'), never two for the same change."""
    fields = dict(data)
    follow_up = bool(fields.pop("follow_up", False))
    incident = incidents.update(svc, incident_id, fields, resolve=resolve)
    sent = 0
    if follow_up:
        change = "resolved" if resolve else (incident.updated_at.isoformat() if incident.updated_at else "update")
        for ticket in svc.tickets.open_tickets():
            if ticket.incident_id == incident_id and incidents.queue_follow_up(svc, ticket, incident, change):
                sent += 1
    return {**incident.to_dict(), "follow_ups_queued": sent}
