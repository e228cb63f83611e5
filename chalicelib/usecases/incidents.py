"""Incidents: declared once by a team lead, reused in every matching acknowledgement and on the status page."""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from chalicelib.domain import followup
from chalicelib.domain.incident import AlreadyResolved, Incident, IncidentFields, IncidentInvalid, clean_fields
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.usecases.errors import Conflict, Invalid, NotFound
from chalicelib.usecases.replies import queue_reply


def _fields(data: object, *, partial: bool) -> IncidentFields:
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
    """Change an incident's fields, and resolve it with ``resolve``. Resolving a resolved incident is refused
    (Conflict) and changes nothing: it is resolved once, its ``resolved_at`` never moves. Updating a resolved
    incident's fields is allowed."""
    incident = svc.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    now = svc.now()
    incident = incident.changed(_fields(data, partial=True), now)
    if resolve:
        try:
            incident = incident.resolved(now)
        except AlreadyResolved as exc:
            raise Conflict(f"{exc}: nothing was changed or sent") from None
        if not svc.incidents.claim_resolution(incident_id):  # resolved at the same moment by somebody else
            raise Conflict(f"incident {incident_id} is already resolved: nothing was changed or sent")
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
    """One reply, via the outbox, telling the ticket's customer about ``change`` (``followup.UPDATE`` or
    ``followup.RESOLVED``) to ``incident`` as it now stands: what it says and, for a resolution, that it is over.
    Never two for the same change: the resolution is one change, each update another (named by its time).
    False when the ticket has no one to answer, already had this one, or its customer-service window (WhatsApp) is
    closed."""
    if change not in followup.CHANGES:
        raise ValueError(f"unknown incident change {change!r}")
    claim = (followup.RESOLVED if change == followup.RESOLVED
             else incident.updated_at.isoformat() if incident.updated_at else followup.UPDATE)
    if ticket.reply_target is None or not svc.incidents.claim_follow_up(incident.incident_id, claim,
                                                                         ticket.ticket_id):
        return False
    target = ticket.reply_target
    template = svc.config.template(followup.TEMPLATE_KIND, target.channel, ticket.language)
    if incident.url and not svc.config.url_allowed(target.channel, private=target.private):
        incident = replace(incident, url="")  # a public X reply carries no URL (links.no_url_in_public, ADR 0013)
    text = followup.compose(template, channel=target.channel, incident=incident, change=change,
                            reference=ticket.ticket_id, name=target.name, desk=ticket.desk,
                            notice=svc.config.brand.notice(ticket.language))
    # None: outside WhatsApp's 24-hour window, not sent (the ticket's timeline says why)
    return queue_reply(svc, ticket, kind=followup.OUTBOX_KINDS[change], text=text,
                       key=f"followup#{incident.incident_id}#{claim}#{ticket.ticket_id}") is not None
