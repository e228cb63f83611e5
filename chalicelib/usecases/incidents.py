"""Incidents: declared once by a team lead, reused in every matching acknowledgement and on the status page."""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain.ack import render
from chalicelib.domain.incident import Incident, IncidentInvalid, clean_fields
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.usecases.errors import Invalid, NotFound
from chalicelib.usecases.replies import queue_reply


def _fields(data: Any, *, partial: bool) -> dict[str, Any]:
    try:
        return clean_fields(data, partial=partial)
    except IncidentInvalid as exc:
        raise Invalid(str(exc)) from None


def declare(svc: Services, data: Any, *, by: str = "admin") -> Incident:
    fields = _fields(data, partial=False)
    unknown = [d for d in fields.get("desks", ()) if d not in svc.config.desk_ids]
    if unknown:
        raise Invalid(f"unknown desk(s): {', '.join(unknown)}")
    incident = Incident(incident_id="INC-" + uuid.uuid4().hex[:8].upper(), declared_at=svc.now(), declared_by=by,
                        **fields)
    svc.incidents.put(incident)
    return incident


def update(svc: Services, incident_id: str, data: Any, *, resolve: bool = False) -> Incident:
    incident = svc.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    now = svc.now()
    incident = incident.changed(_fields(data, partial=True), now)
    if resolve:
        incident = incident.resolved(now)
    svc.incidents.put(incident)
    return incident


def list_incidents(svc: Services, *, active_only: bool = False) -> list[Incident]:
    return svc.incidents.active() if active_only else svc.incidents.all()


def matching(svc: Services, *, desk: str, text: str) -> Incident | None:
    for incident in svc.incidents.active():
        if incident.matches(desk=desk, text=text):
            return incident
    return None


def queue_follow_up(svc: Services, ticket: Ticket, incident: Incident, change: str) -> bool:
    """One reply per ticket and incident change (``change``: "resolved" or the update's time), via the outbox."""
    if ticket.reply_target is None or not svc.incidents.claim_follow_up(incident.incident_id, change,
                                                                         ticket.ticket_id):
        return False
    target = ticket.reply_target
    template = svc.config.template("incident_followup", target.channel, ticket.language)
    text = render(template, name=target.name, reference=ticket.ticket_id, desk=ticket.desk,
                  incident_title=incident.title, incident_url=incident.url)
    queue_reply(svc, ticket, kind="incident_followup", text=text,
                key=f"followup#{incident.incident_id}#{change}#{ticket.ticket_id}")
    return True
