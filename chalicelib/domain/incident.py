"""Incidents: declared once by a team lead, reused in every matching acknowledgement and on the status page."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TypedDict

from chalicelib.domain.jsonvalue import JsonObject, texts

ACTIVE, RESOLVED = "active", "resolved"


class IncidentInvalid(ValueError):
    """What a lead sent cannot be an incident (the message says which field and why)."""


class AlreadyResolved(ValueError):
    """An incident is resolved once: resolving it again would move its ``resolved_at`` and tell customers twice."""


@dataclass(frozen=True)
class Incident:
    incident_id: str
    title: str
    text: str = ""
    url: str = ""
    status: str = ACTIVE
    desks: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    declared_at: datetime | None = None
    declared_by: str = ""
    updated_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def concerns_desk(self, desk: str) -> bool:
        return not self.desks or desk in self.desks

    def matches(self, *, desk: str, text: str) -> bool:
        """Active, for this desk (or every desk), and naming one of its keywords (or having none)."""
        if not self.active or not self.concerns_desk(desk):
            return False
        lowered = text.lower()
        return not self.keywords or any(re.search(rf"\b{re.escape(k)}\b", lowered) for k in self.keywords)

    def changed(self, fields: IncidentFields, at: datetime) -> Incident:
        return replace(self, **fields, updated_at=at)

    def resolved(self, at: datetime) -> Incident:
        """This incident resolved at ``at``; raises AlreadyResolved if it is resolved already."""
        if not self.active:
            when = self.resolved_at.isoformat() if self.resolved_at else "an unknown time"
            raise AlreadyResolved(f"incident {self.incident_id} was already resolved at {when}")
        return replace(self, status=RESOLVED, updated_at=at, resolved_at=at)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        data["desks"], data["keywords"] = list(self.desks), list(self.keywords)
        for key in ("declared_at", "updated_at", "resolved_at"):
            value = getattr(self, key)
            if value is None:
                data.pop(key)
            else:
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: JsonObject) -> Incident:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) and value else None

        return cls(incident_id=str(data["incident_id"]), title=str(data.get("title", "")),
                   text=str(data.get("text") or ""), url=str(data.get("url") or ""),
                   status=str(data.get("status") or ACTIVE), desks=tuple(texts(data, "desks")),
                   keywords=tuple(texts(data, "keywords")), declared_at=when("declared_at"),
                   declared_by=str(data.get("declared_by") or ""), updated_at=when("updated_at"),
                   resolved_at=when("resolved_at"))


_ALLOWED = ("title", "text", "desks", "keywords", "url")


class IncidentFields(TypedDict, total=False):
    """What a lead may set on an incident, validated (``clean_fields``)."""

    title: str
    text: str
    url: str
    desks: tuple[str, ...]
    keywords: tuple[str, ...]


def clean_fields(data: object, *, partial: bool) -> IncidentFields:
    """Validate what a lead sent; raises IncidentInvalid with a message a person understands."""
    if not isinstance(data, dict):
        raise IncidentInvalid("the body must be a JSON object")
    unknown = set(data) - set(_ALLOWED)
    if unknown:
        raise IncidentInvalid(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    out: IncidentFields = {}
    if "title" in data or not partial:
        title = data.get("title")
        title = title.strip() if isinstance(title, str) else ""
        if not 3 <= len(title) <= 120:
            raise IncidentInvalid("title must be 3 to 120 characters")
        out["title"] = title
    if "text" in data:
        text = data["text"]
        if text is not None and not isinstance(text, str):
            raise IncidentInvalid("text must be a string")
        out["text"] = (text or "").strip()[:1000]
    if "url" in data:
        url = data["url"]
        if url is not None and not isinstance(url, str):
            raise IncidentInvalid("url must be a string")
        url = (url or "").strip()
        if url and not re.match(r"^https://\S+$", url):
            raise IncidentInvalid("url must be an https:// address")
        out["url"] = url
    if "desks" in data:
        out["desks"] = _words(data["desks"], "desks")
    if "keywords" in data:
        out["keywords"] = _words(data["keywords"], "keywords")
    return out


def _words(value: object, key: str) -> tuple[str, ...]:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise IncidentInvalid(f"{key} must be a list of non-empty strings")
    return tuple(v.strip().lower() for v in value)
