"""Routing: which desk queue a ticket goes to, whether that desk is open, and whether to acknowledge."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypedDict

from chalicelib.domain.config import BrandConfig
from chalicelib.domain.ticket import Ticket

#: A message older than this gets no automatic acknowledgement (a first poll importing old mentions, a replay).
ACK_MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class RouteDecision:
    desk: str  # the desk whose queue gets the ticket (the on-call desk when urgent work escalates)
    triaged_desk: str  # the desk triage chose
    open: bool  # is ``desk`` open now
    next_opening: datetime | None  # when ``triaged_desk`` opens (None while open, or never within the horizon)
    escalated: bool  # urgent on a closed desk, sent to the open on-call desk
    acknowledge: bool  # send the out-of-hours acknowledgement


class Triaged(Protocol):
    """What routing reads of a triage result (``domain.triage.Triage``)."""

    @property
    def desk(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def acknowledge(self) -> bool: ...


class OpeningHours(Protocol):
    """What routing asks the calendar (``domain.rota.Calendar``)."""

    def is_open(self, desk_id: str, t: datetime) -> bool: ...

    def next_opening(self, desk_id: str, t: datetime) -> datetime | None: ...


def route(triage: Triaged, *, calendar: OpeningHours, config: BrandConfig, now: datetime,
          written_at: datetime | None = None) -> RouteDecision:
    """Where a triaged ticket goes now, and whether the customer gets the out-of-hours acknowledgement.

    On-call escalation (``oncall_desk_now``, the rule every ticket follows): urgent work on a closed desk goes to
    the on-call desk (``config.routing.oncall_desk``) when one is configured and open; everything else stays on its
    desk. A message older than :data:`ACK_MAX_AGE` when routed is never acknowledged."""
    desk = triage.desk
    is_open = calendar.is_open(desk, now)
    escalated = False
    oncall = None if is_open else oncall_desk_now(desk, triage.priority, calendar=calendar, config=config, now=now)
    if oncall is not None:
        desk, is_open, escalated = oncall, True, True
    next_opening = None if is_open else calendar.next_opening(triage.desk, now)
    fresh = written_at is None or now - written_at <= ACK_MAX_AGE
    wants_ack = triage.acknowledge and fresh
    return RouteDecision(desk=desk, triaged_desk=triage.desk, open=is_open, next_opening=next_opening,
                         escalated=escalated, acknowledge=bool(wants_ack and not is_open))


def oncall_desk_now(desk: str, priority: str, *, calendar: OpeningHours, config: BrandConfig,
                    now: datetime) -> str | None:
    """The on-call desk urgent work on ``desk`` goes to at ``now``: ``config.routing.oncall_desk`` when the work is
    urgent, ``desk`` is closed and the on-call desk is another desk and open; None otherwise (the work stays). The
    one rule for a new ticket (``route``), a ticket the customer reopens or chases, and one still waiting when its
    desk closes (``usecases.closing_time``)."""
    oncall = config.routing.oncall_desk
    if priority != "urgent" or not oncall or oncall == desk or calendar.is_open(desk, now):
        return None
    return oncall if calendar.is_open(oncall, now) else None


#: Characters of the customer's latest message a desk message carries (enough to recognise the case).
EXCERPT_LENGTH = 200


def excerpt(text: str) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1].rstrip() + "…"


def permalink(channel: str, external_id: str, extra: Mapping[str, object] | None = None) -> str:
    """Where an agent can see the message on its platform, when the platform has a public address for it."""
    if channel == "x" and external_id.isdigit():
        return f"https://x.com/i/web/status/{external_id}"
    link = str((extra or {}).get("permalink") or "")
    return link if link.startswith("https://") else ""


class _DeskMessageOptions(TypedDict, total=False):
    change: str  # on ticket.updated: what changed
    from_desk: str  # transferred: the desk it left; sla_breached: its desk
    due_at: str  # sla_breached: when the first response was due
    minutes_late: int  # sla_breached
    excerpt: str  # the customer's latest message, cut to ``EXCERPT_LENGTH``
    permalink: str  # where the message is on its platform


class DeskMessage(_DeskMessageOptions):
    """What a desk queue carries per ticket event: the contract of ``docs/desk-message.schema.json`` (version 2),
    field for field (the optional ones in ``_DeskMessageOptions``)."""

    schema: Literal["responder.desk-message/2"]
    event: str  # ticket.created, ticket.updated, ticket.sla_breached
    ticket_id: str
    reference: str
    desk: str
    priority: str
    intent: str
    channel: str
    language: str
    first_contact_at: str
    sort_key: str
    flags: list[str]
    escalated: bool
    desk_open: bool
    at: str
    customer_name: str
    channels: list[str]
    messages: int
    conversations: int
    status_url: str


def moved_to_oncall(oncall_desk: str, from_desk: str) -> RouteDecision:
    """What a ticket moved from the closed ``from_desk`` to the open on-call desk is announced with (``escalated``,
    as a new urgent ticket routed there is)."""
    return RouteDecision(desk=oncall_desk, triaged_desk=from_desk, open=True, next_opening=None, escalated=True,
                         acknowledge=False)


def queue_message(ticket: Ticket, *, decision: RouteDecision | None = None, event: str = "ticket.created",
                  change: str = "", at: datetime, status_url: str = "", text: str = "",
                  link: str = "", from_desk: str = "") -> DeskMessage:
    """The desk-queue message contract, version 2 (docs/desk-message.schema.json): enough for a consumer to
    recognise the case without reading the store. ``text`` is the customer's latest message (sent as an excerpt),
    ``link`` its permalink; ``from_desk``: the desk the ticket left to come to this one."""
    target = ticket.reply_target
    message: DeskMessage = {
        "schema": "responder.desk-message/2",
        "event": event,
        "ticket_id": ticket.ticket_id,
        "reference": ticket.ticket_id,
        "desk": ticket.desk,
        "priority": ticket.priority,
        "intent": ticket.intent,
        "channel": ticket.channel,
        "language": ticket.language,
        "first_contact_at": ticket.first_contact_at.isoformat(),
        "sort_key": ticket.backlog_order,
        "flags": list(ticket.flags),
        "escalated": bool(decision.escalated) if decision else False,
        "desk_open": bool(decision.open) if decision else True,
        "at": at.isoformat(),
        "customer_name": target.name if target else "",
        "channels": ticket.channels or [ticket.channel],
        "messages": len(ticket.mention_keys),
        "conversations": len(ticket.conversations),
        "status_url": status_url,
    }
    if change:
        message["change"] = change
    if from_desk:
        message["from_desk"] = from_desk
    if text:
        message["excerpt"] = excerpt(text)
    if link:
        message["permalink"] = link
    return message
