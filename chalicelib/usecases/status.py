"""The customer's status page, ``GET /s/{token}``: where their ticket is, what happens next, and when.

The token (see ``domain.status_link``) names the ticket and proves the link came from us. The page shows
the brand, the reference, the state in plain words, the timeline, the expected response time and the
active incidents for the ticket's desk. It never shows personal data or message text: no name, handle,
recipient, agent name or anything the customer wrote — only what the ticket's state and the brand
configuration say. Times are shown in the brand's time zone.

``status_view`` gives what the page shows (``web.status_page`` renders it as HTML or JSON). A token that is
malformed, forged, names an unknown ticket, or names a ticket resolved more than 30 days ago raises the same
``NotFound``, so the answer reveals nothing about which references exist.

``lookup`` serves ``POST /status``: a customer whose acknowledgement carried no link (a public X reply, see
``links.no_url_in_public``) gives their reference and the handle or e-mail address they wrote from, and gets the
signed link when both match (ADR 0013).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import followup, wording
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.history import Event, EventKind, Queued, Received, Sent, SlaBreached, Transferred
from chalicelib.domain.identity import REFERENCE, InvalidIdentity, parse_identity
from chalicelib.domain.keys import ChannelKey
from chalicelib.domain.ticket import CLAIMED, REPLIED, RESOLVED, WAITING, Ticket
from chalicelib.services import Services
from chalicelib.usecases.errors import NotFound, TooManyRequests

#: How long after resolution a status link keeps working.
LINK_LIFETIME_AFTER_RESOLUTION = timedelta(days=30)

_INCIDENT_UPDATE = "We sent you an update about a problem affecting your request"
_INCIDENT_FIXED = "We let you know the problem affecting your request was fixed"
_STATUS_TEXT = {
    WAITING: "In the queue for the next agent",
    CLAIMED: "An agent is working on it",
    REPLIED: "We have replied",
    RESOLVED: "Resolved",
}


# ------------------------------------------------------------------------------------------------ wording
def _local(t: datetime, tz: ZoneInfo) -> datetime:
    return t.astimezone(tz)


def format_moment(t: datetime, tz: ZoneInfo) -> str:
    """'Sun 29 Nov, 03:00 GMT'."""
    local = _local(t, tz)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local:%Z}".strip()


def _desk_description(svc: Services, desk_id: str) -> str:
    desk = svc.config.desks.get(desk_id)
    return (desk.description if desk and desk.description else desk_id.replace("_", " ")).strip()


def _legacy_follow_up_text(svc: Services, ticket: Ticket, at: datetime) -> str:
    """A follow-up recorded before updates and resolutions were told apart: it was about the resolution only if
    the ticket's incident was resolved by the time it was sent; otherwise (or unknown) it was an update."""
    incident = svc.incidents.get(ticket.incident_id) if ticket.incident_id else None
    if incident is not None and not incident.active and incident.resolved_at and incident.resolved_at <= at:
        return _INCIDENT_FIXED
    return _INCIDENT_UPDATE


def _event_text(svc: Services, ticket: Ticket, event: Event, tz: ZoneInfo) -> str | None:
    """What an event means to the customer, or None if it is internal. Only the facts known to hold no personal
    data are told (a channel, a desk)."""
    at = event.at
    if isinstance(event, Received):
        if event.follow_up:
            return "We received your follow-up message"
        channel = profile(event.channel)
        return f"We received your message {channel.customer_via}" if channel else "We received your message"
    if isinstance(event, Queued):
        desk_id = event.desk if event.desk in svc.config.desks else ticket.desk
        text = f"Queued for: {_desk_description(svc, desk_id)}"
        if not svc.calendar.is_open(desk_id, at):
            opening = svc.calendar.next_opening(desk_id, at)
            text += (f" (team offline, opens at {wording.opening(opening, at, tz)})" if opening
                     else " (team offline)")
        return text
    if isinstance(event, Transferred):
        desk_id = event.desk if event.desk in svc.config.desks else ticket.desk
        return f"Passed to: {_desk_description(svc, desk_id)}"
    if isinstance(event, Sent) and event.message == followup.LEGACY_KIND:
        return _legacy_follow_up_text(svc, ticket, at)
    if isinstance(event, SlaBreached):
        return _breach_text(svc, event.alerted)
    if event.kind in _WITH_LINK and not _linked(svc, ticket):
        return _WITHOUT_LINK[event.kind]
    return _TOLD.get(event.kind)


def _linked(svc: Services, ticket: Ticket) -> bool:
    """Whether the ticket's automatic messages carried this page's link: not a public reply on a channel whose
    replies carry no URL (``links.no_url_in_public``: X, ADR 0013), where they gave the reference alone."""
    target = ticket.reply_target
    return target is None or svc.config.url_allowed(target.channel, private=target.private)


_SLA_LATE = "This is taking longer than we aim for"


def _breach_text(svc: Services, alerted: str | None) -> str:
    """Who a breach alerted, as it was: a team lead (the escalation desk; also every breach recorded before who was
    alerted was), the on-call team, another desk, or nobody, when no desk to alert was open."""
    if alerted is None or alerted == svc.config.routing.escalation_desk:
        return f"{_SLA_LATE}; a team lead has been alerted"
    if alerted == svc.config.routing.oncall_desk:
        return f"{_SLA_LATE}; our on-call team has been alerted"
    if alerted:
        return f"{_SLA_LATE}; it has been passed to: {_desk_description(svc, alerted)}"
    return f"{_SLA_LATE}; nobody is on shift to alert right now, and the team will see it as soon as they are back"


#: What the other entries the customer is told of say (the rest are internal)
_TOLD: dict[EventKind | str, str] = {
    EventKind.ESCALATED: "Marked urgent and passed to our on-call team",
    EventKind.ACKNOWLEDGED: "We sent you an acknowledgement with this link",
    EventKind.CLOSING: "We let you know the team had closed for the day",
    EventKind.BUSY: "We let you know the team was busy and how long replies were taking, with this link",
    EventKind.INCIDENT_UPDATE: _INCIDENT_UPDATE,
    EventKind.INCIDENT_RESOLVED: _INCIDENT_FIXED,
    EventKind.CLAIMED: "Picked up by an agent",
    EventKind.RELEASED: "Back in the queue for the next available agent",
    EventKind.REPLIED: "We replied to you",
    EventKind.RESOLVED: "Marked as resolved",
    EventKind.REOPENED: "Reopened after your new message",
    EventKind.REOPENED_BY_AGENT: "Reopened by our team",
    EventKind.MERGED: "Your other messages to us were joined to this request",
    EventKind.REPLY_FAILED: "A message to you could not be delivered; we will try again another way",
}


#: What the messages that carry this page's link say where they carried the reference alone (``_linked``)
_WITH_LINK = frozenset({EventKind.ACKNOWLEDGED, EventKind.BUSY})
_WITHOUT_LINK: dict[EventKind | str, str] = {
    EventKind.ACKNOWLEDGED: "We sent you an acknowledgement with your reference",
    EventKind.BUSY: "We let you know the team was busy and how long replies were taking, with your reference",
}


def _incidents(svc: Services, ticket: Ticket) -> list[dict[str, str]]:
    """Active incidents of the ticket's desk (or of every desk), read fresh: a resolved one leaves the page at once."""
    shown = [i for i in svc.incidents.all()
             if i.active and (i.concerns_desk(ticket.desk) or i.incident_id == ticket.incident_id)]
    return [{"incident_id": i.incident_id, "title": i.title, "text": i.text,
             "url": i.url if i.url.startswith("https://") else ""} for i in shown]


def _expected_response(ticket: Ticket, now: datetime, desk_open: bool, opens_at: str) -> str:
    if ticket.status == RESOLVED:
        return "Nothing: this request is resolved. Write to us again if you need anything else"
    if ticket.status == REPLIED:
        return "Please see our reply on the channel you used, and write back if you need anything else"
    if ticket.status == CLAIMED:
        return "An agent will reply to you soon"
    if not desk_open:
        return f"After we open at {opens_at}" if opens_at else "As soon as the team is back"
    due = ticket.first_response_due if ticket.first_response_at is None else None
    if due is None:
        return "Soon: the team is working through the queue now"
    if due <= now:
        return "As soon as possible: we are taking longer than we aim for"
    return f"Within {wording.wait(due - now)}"


def view(svc: Services, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """Everything the page shows, free of personal data; shared by the HTML and JSON variants."""
    tz = ZoneInfo(svc.config.brand.timezone)
    desk_open = svc.calendar.is_open(ticket.desk, now)
    opening = None if desk_open else svc.calendar.next_opening(ticket.desk, now)
    opens_at = wording.opening(opening, now, tz) if opening else ""
    status_text = _STATUS_TEXT.get(ticket.status, "In progress")
    if ticket.status == WAITING:
        status_text = "Waiting for our team" if not desk_open else "In the queue for the next agent"
    timeline = []
    for event in sorted(ticket.timeline, key=lambda e: e.at):
        text = _event_text(svc, ticket, event, tz)
        if text:
            timeline.append({"at": _local(event.at, tz).isoformat(), "at_text": format_moment(event.at, tz),
                             "kind": event.kind, "text": text})
    return {
        "brand": svc.config.brand.name,
        "language": getattr(svc.config.brand, "language", "en") or "en",
        "reference": ticket.ticket_id,
        "status": ticket.status,
        "status_text": status_text,
        "desk": ticket.desk,
        "desk_description": _desk_description(svc, ticket.desk),
        "desk_open": desk_open,
        "opens_at": _local(opening, tz).isoformat() if opening else None,
        "opens_at_text": opens_at,
        "expected_response": _expected_response(ticket, now, desk_open, opens_at),
        "expected_label": "Expected response" if ticket.status == WAITING else "What happens next",
        "timeline": timeline,
        "incidents": _incidents(svc, ticket),
        "timezone": svc.config.brand.timezone,
        "updated_at": _local(now, tz).isoformat(),
        "updated_at_text": format_moment(now, tz),
    }


def _expired(ticket: Ticket, now: datetime) -> bool:
    return (ticket.status == RESOLVED and ticket.resolved_at is not None
            and now - ticket.resolved_at > LINK_LIFETIME_AFTER_RESOLUTION)


def status_view(svc: Services, token: str) -> dict[str, Any]:
    """What the status page of ``token`` shows; NotFound for any token that does not name a live ticket."""
    ticket_id = svc.links.ticket_id(token or "")
    ticket = svc.tickets.get(ticket_id) if ticket_id else None
    for _ in range(5):  # a reference merged into another case shows the case that carries on
        if ticket is None or not ticket.merged_into:
            break
        ticket = svc.tickets.get(ticket.merged_into)
    now = svc.now()
    if ticket is None or ticket.merged_into or _expired(ticket, now):
        raise NotFound("status page")
    page = view(svc, ticket, now)
    if ticket_id != ticket.ticket_id:
        page["merged_from"] = ticket_id
    return page


# ------------------------------------------------------------------------------------------------ lookup
#: The longest handle or e-mail address a lookup reads (an e-mail address is at most 254 characters).
_WHO_MAX = 320


def _claimed_identities(who: str) -> set[str]:
    """The identities ``who`` (what the customer typed: ``@pat``, ``pat``, ``pat@example.org``,
    ``pat.bsky.social``, ``pat@fedi.example``) can stand for; empty when it is none of them."""
    value = (who or "").strip()
    if not value or len(value) > _WHO_MAX:
        return set()
    bare = value.lstrip("@")
    candidates = [*(str(ChannelKey.handle(channel, bare)) for channel in ("x", "bluesky", "mastodon", "threads")),
                  *(str(ChannelKey.by_id(channel, value)) for channel in ("email", "form"))]
    found = set()
    for candidate in candidates:
        try:
            found.add(parse_identity(candidate))
        except InvalidIdentity:
            continue
    return found


def lookup(svc: Services, reference: str, who: str, *, client_key: str) -> str:
    """The signed status link of the ticket ``reference`` names, when ``who`` (a handle or e-mail address the
    customer wrote from) is one of that ticket's customer's identities and the ticket's status page is live.

    The reference (40 random bits) is the secret; a handle alone is public, so both must match. Each attempt that
    finds nothing counts against ``status_lookup_misses_per_hour`` (a stage setting) per client; past it every
    lookup from that client is refused (TooManyRequests) until the hour ends, before anything is read — a customer
    who finds their request again and again is never held back, a guesser is. Whatever is wrong — a malformed or
    unknown reference, another customer's handle, an expired ticket — the answer is the same ``NotFound``."""
    key, hour = f"status-lookup#{client_key}", svc.now().strftime("%Y%m%d%H")
    limit = svc.settings.status_lookup_misses_per_hour
    if svc.form_limit.used(key, hour) >= limit:
        raise TooManyRequests("too many status lookups from this address; please try again in an hour")
    try:
        return _find(svc, reference, who)
    except NotFound:
        if not svc.form_limit.try_take(key, hour, limit):
            raise TooManyRequests("too many status lookups from this address; please try again in an hour") from None
        raise


def _find(svc: Services, reference: str, who: str) -> str:
    ticket_id = (reference or "").strip().upper()
    claimed = _claimed_identities(who)
    if len(ticket_id) > 16 or not REFERENCE.fullmatch(ticket_id) or not claimed:
        raise NotFound("status lookup")
    ticket = svc.tickets.get(ticket_id)
    if ticket is None or not ticket.customer_id:
        raise NotFound("status lookup")
    if not claimed & set(svc.customers.identities(ticket.customer_id)):
        raise NotFound("status lookup")
    url = svc.links.url(ticket_id)
    status_view(svc, url.rsplit("/s/", 1)[1])  # NotFound when the page is gone (resolved long ago, merged away)
    return url
