"""Incidents: declared once by a team lead, reused in every matching acknowledgement and on the status page."""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

from chalicelib.domain.ack import Incident
from chalicelib.usecases.errors import NotFound

INCIDENT_PK = "incident"
#: Active incidents are read once per this many seconds per container, not once per acknowledgement: a declared
#: incident reaches every acknowledgement within this time (at once in the container that declared it).
ACTIVE_CACHE_SECONDS = 15.0
_active_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


class IncidentError(ValueError):
    pass


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    allowed = {"title", "text", "desks", "keywords", "url"}
    unknown = set(data) - allowed
    if unknown:
        raise IncidentError(f"unknown field(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    if "title" in data or not partial:
        title = str(data.get("title") or "").strip()
        if not 3 <= len(title) <= 120:
            raise IncidentError("title must be 3 to 120 characters")
        out["title"] = title
    if "text" in data:
        out["text"] = str(data["text"] or "").strip()[:1000]
    if "url" in data:
        url = str(data["url"] or "").strip()
        if url and not re.match(r"^https://\S+$", url):
            raise IncidentError("url must be an https:// address")
        out["url"] = url
    for key in ("desks", "keywords"):
        if key in data:
            value = data[key] or []
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise IncidentError(f"{key} must be a list of non-empty strings")
            out[key] = [v.strip().lower() for v in value]
    return out


def declare(svc, data: dict[str, Any], *, by: str = "admin") -> dict[str, Any]:
    fields = _clean(data, partial=False)
    unknown = [d for d in fields.get("desks", []) if d not in svc.config.desk_ids]
    if unknown:
        raise IncidentError(f"unknown desk(s): {', '.join(unknown)}")
    incident = {"incident_id": "INC-" + uuid.uuid4().hex[:8].upper(), "status": "active",
                "declared_at": svc.now().isoformat(), "declared_by": by, "text": "", "url": "",
                "desks": [], "keywords": [], **fields}
    svc.state.put(INCIDENT_PK, incident["incident_id"], value=incident)
    _active_cache.pop(id(svc), None)
    return incident


def get(svc, incident_id: str) -> dict[str, Any] | None:
    item = svc.state.get(INCIDENT_PK, incident_id)
    return item.value if item else None


def update(svc, incident_id: str, data: dict[str, Any], *, resolve: bool = False) -> dict[str, Any]:
    incident = get(svc, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    incident.update(_clean(data, partial=True))
    incident["updated_at"] = svc.now().isoformat()
    if resolve:
        incident["status"] = "resolved"
        incident["resolved_at"] = incident["updated_at"]
    svc.state.put(INCIDENT_PK, incident_id, value=incident)
    _active_cache.pop(id(svc), None)
    return incident


def active_incidents(svc) -> list[dict[str, Any]]:
    now = time.monotonic()
    cached = _active_cache.get(id(svc))
    if cached is None or now - cached[0] > ACTIVE_CACHE_SECONDS:
        cached = (now, list_incidents(svc, active_only=True))
        _active_cache[id(svc)] = cached
    return cached[1]


def list_incidents(svc, *, active_only: bool = False) -> list[dict[str, Any]]:
    items = [i.value for i in svc.state.query(INCIDENT_PK)]
    return [i for i in items if i["status"] == "active"] if active_only else items


def matches(incident: dict[str, Any], *, desk: str, text: str) -> bool:
    if incident.get("status") != "active":
        return False
    if incident.get("desks") and desk not in incident["desks"]:
        return False
    keywords = incident.get("keywords") or []
    lowered = text.lower()
    return not keywords or any(re.search(rf"\b{re.escape(k)}\b", lowered) for k in keywords)


def matching(svc, *, desk: str, text: str) -> Incident | None:
    for incident in active_incidents(svc):
        if matches(incident, desk=desk, text=text):
            return Incident(incident["incident_id"], incident["title"], incident.get("text", ""),
                            incident.get("url", ""))
    return None


def queue_follow_up(svc, ticket, incident: dict[str, Any], change: str) -> bool:
    """One reply per ticket and incident change (``change``: "resolved" or the update's time), via the outbox."""
    from chalicelib.domain.ack import render

    if not svc.state.claim(f"followup#{incident['incident_id']}#{change}", ticket.ticket_id):
        return False
    target = ticket.reply_target
    template = svc.config.template("incident_followup", target["channel"], ticket.language)
    text = render(template, name=target.get("name", ""), reference=ticket.ticket_id, desk=ticket.desk,
                  incident_title=incident["title"], incident_url=incident.get("url", ""))
    svc.queues.send_outbox({
        "idempotency_key": f"followup#{incident['incident_id']}#{change}#{ticket.ticket_id}",
        "kind": "incident_followup",
        "ticket_id": ticket.ticket_id, "channel": target["channel"], "recipient": target["recipient"],
        "in_reply_to": target["in_reply_to"], "private": bool(target.get("private")),
        "subject": target.get("subject", ""), "extra": target.get("extra") or {}, "text": text,
        "queued_at": svc.now().isoformat(), "expires_at": None,
    })
    return True
