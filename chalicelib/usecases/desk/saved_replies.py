"""Saved replies: the team's canned answers, rendered for one ticket, and the leads' own.

``saved_replies`` answers the entries for the ticket's desk and language (the brand's language when the ticket's has
none), each rendered for this ticket — the customer's name as acknowledgements greet them (never an address or a
platform id), the reference, the status link where the reply may carry one, when the desk next opens, and the
active incident linked to the ticket or matching it — and counted for the ticket's reply channel as ``reply``
counts it (``domain.agent``). It is read-only: any agent who may see the ticket may see them. The agent edits the
text and sends it as any reply.

The brand file's entries (``saved_replies`` in ``brand.yaml``) are read-only here; leads add, edit and delete their
own (``save``, ``delete``: stored apart, ``SavedReplyStore``), checked as the brand file's are, and an id of the brand
file's is refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from jinja2 import TemplateError

from chalicelib.domain import wording
from chalicelib.domain.ack import sentence, without_urls
from chalicelib.domain.agent import Agent, reply_length, reply_limit, reply_problem
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.config.saved_replies import SavedReply, saved_reply_problem
from chalicelib.domain.incident import Incident
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.templates import render
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.store.ports import StoredSavedReply
from chalicelib.usecases import incidents
from chalicelib.usecases.desk import access
from chalicelib.usecases.desk.actions import PRIVATE_CAPABLE, latest_target
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotFound

#: Where an entry comes from: the brand file (read-only in the inbox) or a lead.
BRAND, LEAD = "brand", "lead"


# ------------------------------------------------------------------------------------------------ views
@dataclass(frozen=True)
class SavedReplyView:
    """One saved reply rendered for a ticket: its text as it would be sent, its length as the channel counts it,
    the channel's limit, and whether it fits (``problem`` says why not)."""

    id: str
    title: str
    source: str
    language: str
    text: str
    length: int
    limit: int
    fits: bool
    problem: str

    def to_json(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class SavedRepliesView:
    """The saved replies for a ticket: where its reply goes (channel, public or private, limit) and each entry."""

    ticket_id: str
    desk: str
    language: str
    channel: str
    private: bool
    limit: int
    replies: tuple[SavedReplyView, ...]

    def get(self, reply_id: str) -> SavedReplyView | None:
        return next((r for r in self.replies if r.id == reply_id), None)

    def to_json(self) -> dict[str, object]:
        return {"ticket_id": self.ticket_id, "desk": self.desk, "language": self.language, "channel": self.channel,
                "private": self.private, "limit": self.limit, "replies": [r.to_json() for r in self.replies]}


@dataclass(frozen=True)
class SavedReplyEntry:
    """A saved reply as leads manage it: the entry, where it comes from, who saved it and when (a lead's)."""

    reply: SavedReply
    source: str
    by: str = ""
    at: str = ""

    def to_json(self) -> dict[str, object]:
        return {**self.reply.model_dump(mode="json"), "source": self.source, "by": self.by, "at": self.at}


@dataclass(frozen=True)
class SavedReplyList:
    """Every saved reply (the brand file's, then the leads'), and whether this agent may manage them."""

    entries: tuple[SavedReplyEntry, ...]
    may_manage: bool
    desks: tuple[str, ...]
    language: str

    def get(self, reply_id: str) -> SavedReplyEntry | None:
        return next((e for e in self.entries if e.reply.id == reply_id), None)

    def to_json(self) -> dict[str, object]:
        return {"saved_replies": [e.to_json() for e in self.entries], "may_manage": self.may_manage}


# ------------------------------------------------------------------------------------------------ one ticket
def _entries(svc: Services) -> list[SavedReplyEntry]:
    brand = [SavedReplyEntry(reply, BRAND) for reply in svc.config.saved_replies]
    known = {entry.reply.id for entry in brand}
    leads = [SavedReplyEntry(s.reply, LEAD, s.by, s.at.isoformat()) for s in svc.saved_replies.all()
             if s.reply.id not in known]
    return brand + leads


def _greeting_name(target: ReplyTarget) -> str:
    """The customer's name as acknowledgements greet them; never an address or a platform id."""
    name = target.name.strip()
    return "" if "@" in name.lstrip("@") or "#" in name else name


def _ticket_text(svc: Services, ticket: Ticket) -> str:
    first = svc.mentions.get(ticket.mention_keys[0]) if ticket.mention_keys else None
    return first.mention.text if first is not None else ""


def _incident(svc: Services, ticket: Ticket) -> Incident | None:
    """The active incident linked to the ticket, else the one matching it as acknowledgements match."""
    linked = svc.incidents.get(ticket.incident_id) if ticket.incident_id else None
    if linked is not None and linked.active:
        return linked
    return incidents.matching(svc, desk=ticket.desk, text=_ticket_text(svc, ticket))


def values(svc: Services, ticket: Ticket, target: ReplyTarget) -> dict[str, str]:
    """What a saved reply's template is given for this ticket and reply target (``SAVED_REPLY_VARIABLES``)."""
    now = svc.now()
    link_ok = svc.config.url_allowed(target.channel, private=target.private)
    incident = _incident(svc, ticket)
    if incident is not None and not link_ok:
        incident = replace(incident, url="", text=without_urls(incident.text))
    opening = None if svc.calendar.is_open(ticket.desk, now) else svc.calendar.next_opening(ticket.desk, now)
    return {
        "name": _greeting_name(target),
        "reference": ticket.ticket_id,
        "status_url": svc.links.url(ticket.ticket_id) if link_ok else "",
        "eta": wording.opening(opening, now, svc.config.brand.timezone, style="phrase") if opening else "",
        "incident_title": incident.title if incident else "",
        "incident_text": sentence(incident.text) if incident else "",
        "incident_url": incident.url if incident else "",
    }


def _rendered(entry: SavedReplyEntry, given: Mapping[str, str], target: ReplyTarget,
              language: str) -> SavedReplyView:
    limit = reply_limit(target.channel, target.private)
    try:
        text = render(entry.reply.text, **given)
    except TemplateError as exc:
        return SavedReplyView(id=entry.reply.id, title=entry.reply.title, source=entry.source, language=language,
                              text="", length=0, limit=limit, fits=False,
                              problem=f"the saved reply could not be rendered: {exc}")
    problem = reply_problem(target.channel, target.private, text) or ""
    return SavedReplyView(id=entry.reply.id, title=entry.reply.title, source=entry.source, language=language,
                          text=text, length=reply_length(target.channel, target.private, text), limit=limit,
                          fits=not problem, problem=problem)


def saved_replies(svc: Services, agent: Agent, ticket_id: str, *, private: bool = False) -> SavedRepliesView:
    """The saved replies for the ticket's desk and language, each rendered for it and counted for its reply channel
    (``private``: as a private reply, where the channel has them). Read-only: any agent who may see the ticket."""
    ticket = access.load(svc, ticket_id)
    access.may_see(svc, agent, ticket)
    brand_language = svc.config.brand.language
    wanted = ticket.language if ticket.language and ticket.language != "und" else brand_language
    for_desk = [e for e in _entries(svc) if e.reply.for_desk(ticket.desk)]
    chosen = [e for e in for_desk if e.reply.in_language(brand_language) == wanted]
    if not chosen and wanted != brand_language:
        wanted = brand_language
        chosen = [e for e in for_desk if e.reply.in_language(brand_language) == wanted]
    target = latest_target(svc, ticket)
    if target is None:
        return SavedRepliesView(ticket_id=ticket.ticket_id, desk=ticket.desk, language=wanted, channel="",
                                private=False, limit=0, replies=())
    if private and not target.private:
        if target.channel not in PRIVATE_CAPABLE:
            found = profile(target.channel)
            raise Invalid(f"a conversation on {found.agent_name if found else target.channel} cannot be answered "
                          "privately", details={"private": "no"})
        target = replace(target, private=True)
    given = values(svc, ticket, target)
    return SavedRepliesView(ticket_id=ticket.ticket_id, desk=ticket.desk, language=wanted, channel=target.channel,
                            private=target.private, limit=reply_limit(target.channel, target.private),
                            replies=tuple(_rendered(e, given, target, wanted) for e in chosen))


# ------------------------------------------------------------------------------------------------ leads' entries
def listing(svc: Services, agent: Agent) -> SavedReplyList:
    """Every saved reply: the brand file's (read-only) and the leads'."""
    return SavedReplyList(entries=tuple(_entries(svc)), may_manage=agent.lead, desks=tuple(svc.config.desk_ids),
                          language=svc.config.brand.language)


def _require_lead(agent: Agent) -> None:
    if not agent.lead:
        raise Forbidden("only leads add, edit and delete saved replies")


def checked(svc: Services, data: Mapping[str, object]) -> SavedReply:
    """A lead's saved reply from a JSON body or a form, checked as the brand file's entries are: its fields, its
    desks, its template (Invalid, with the reason)."""
    from pydantic import ValidationError

    try:
        reply = SavedReply.model_validate(dict(data))
    except ValidationError as exc:
        reasons = {".".join(str(p) for p in e["loc"]) or "saved reply": e["msg"] for e in exc.errors()}
        raise Invalid("; ".join(f"{k}: {v}" for k, v in reasons.items()), details=reasons) from None
    unknown = [d for d in reply.desks if d not in svc.config.desks]
    if unknown:
        reason = f"unknown desk {', '.join(unknown)} (desks: {', '.join(svc.config.desk_ids)})"
        raise Invalid(reason, details={"desks": reason})
    problem = saved_reply_problem(reply.text)
    if problem:
        raise Invalid(f"saved reply {reply.id!r}: {problem}", details={"text": problem})
    return reply


def save(svc: Services, agent: Agent, data: Mapping[str, object]) -> SavedReplyEntry:
    """Add or replace a lead's saved reply (leads only; an id of the brand file's is refused)."""
    _require_lead(agent)
    reply = checked(svc, data)
    if svc.config.saved_reply(reply.id) is not None:
        raise Conflict(f"saved reply {reply.id} is in the brand file, which the inbox does not change: "
                       "choose another id")
    now = svc.now()
    svc.saved_replies.put(StoredSavedReply(reply=reply, by=agent.username, at=now))
    return SavedReplyEntry(reply, LEAD, agent.username, now.isoformat())


def delete(svc: Services, agent: Agent, reply_id: str) -> SavedReplyEntry:
    """Delete a lead's saved reply (leads only; the brand file's are read-only)."""
    _require_lead(agent)
    if svc.config.saved_reply(reply_id) is not None:
        raise Conflict(f"saved reply {reply_id} is in the brand file, which the inbox does not change")
    found = next((s for s in svc.saved_replies.all() if s.reply.id == reply_id), None)
    if found is None or not svc.saved_replies.delete(reply_id):
        raise NotFound(f"saved reply {reply_id}")
    return SavedReplyEntry(found.reply, LEAD, found.by, found.at.isoformat())
