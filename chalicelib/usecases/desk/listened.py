"""Listened tickets on the desk: cases opened by posts about the brand that did not tag its account
(``domain.listening``). Nothing automatic ever answers them (``usecases.replies.unaddressed``); a person replies
(publicly, on the platform where the author posted, or privately where the channel has a private route), links the
author to a customer the brand knows already (``/agent/customer-links``), or dismisses the ticket here.

What agents read of them (``heading``, ``reply_note``), the order "take next" serves them in (``addressed_first``:
after every addressed ticket waiting on the agent's desks, unless the agent asks for listened ones), and ``dismiss``:
closed with no reply, who and why on the timeline, never a first response."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import listening
from chalicelib.domain.agent import Agent
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases.desk.access import annotate
from chalicelib.usecases.desk.results import TicketDismissed
from chalicelib.usecases.errors import Conflict, Invalid

#: What the desk calls a listened ticket.
NOT_ADDRESSED = "Not addressed to us"
#: The longest reason a dismissal keeps.
MAX_REASON = 500
#: ``?listening=`` of a desk's list: only the listened tickets, or none of them ('' lists both).
LISTENING_FILTERS = ("only", "exclude")


def heading(ticket: Ticket) -> str:
    """What the desk shows of a listened ticket ("Not addressed to us — found by listening on X for 'Meridian
    Rail'"); '' for an addressed ticket."""
    if not ticket.listened:
        return ""
    extra = ticket.reply_target.extra if ticket.reply_target is not None else {}
    found = listening.found_by(extra, ticket.channel)
    return f"{NOT_ADDRESSED} — {found}" if found else NOT_ADDRESSED


def reply_note(ticket: Ticket, target: ReplyTarget | None) -> str:
    """What the reply box says before the agent types, on a listened ticket: the reply is public on the platform
    where they posted (a private route where the channel has one), and, on X, that X lets the brand reply only to
    people who mention it."""
    if not ticket.listened or target is None:
        return ""
    found = profile(target.channel)
    platform = found.agent_name if found is not None else target.channel
    if target.private:
        return f"They did not write to us: your reply goes to them privately on {platform}."
    if target.channel == "x":
        return f"They did not tag us. {listening.X_REPLY_RULE}."
    said = f"They did not tag us: your reply will be public on {platform}, under their post."
    if found is not None and found.can_reply_privately:
        said += " Tick private to answer them privately instead."
    return said


@dataclass(frozen=True)
class Dismiss:
    """``{"reason": optional}``: why nobody answers it (up to ``MAX_REASON`` characters)."""

    reason: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Dismiss:
        reason = data.get("reason", "")
        if reason is None:
            reason = ""
        if not isinstance(reason, str):
            raise Invalid("reason must be text", details={"reason": "not a string"})
        if len(reason) > MAX_REASON:
            raise Invalid(f"reason is longer than {MAX_REASON} characters", details={"reason": "too long"})
        return cls(" ".join(reason.split()))

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Dismiss:
        return cls.from_json({"reason": form.get("reason", "")})


def dismiss(svc: Services, agent: Agent, ticket_id: str, command: Dismiss) -> TicketDismissed:
    """Close a listened ticket with no reply: any agent whose team covers its desk (or a lead), on shift, unless
    somebody else holds it. Recorded on the timeline (``Dismissed``: who, why); not a first response in the
    reports. A ticket that was addressed to us is refused (409): resolve it instead."""

    def dismissable(ticket: Ticket, now: datetime) -> None:
        if not ticket.listened:
            raise Conflict(f"ticket {ticket_id} was addressed to us, so it cannot be dismissed: resolve it instead")
        if not ticket.open:
            raise Conflict(f"ticket {ticket_id} is {ticket.status}; only an open ticket can be dismissed")
        holder = ticket.claimed_by
        if holder and holder != agent.username and ticket.held_by(holder, now) and not agent.lead:
            raise Conflict(f"ticket {ticket_id} is held by {holder}: ask them, or a lead, to dismiss it")
        ticket.dismiss(agent.username, command.reason, now)

    updated = annotate(svc, agent, ticket_id, dismissable).ticket
    count("ListenedDismissed", desk=updated.desk)
    logger.info("listened ticket dismissed", extra={"ticket_id": ticket_id, "agent": agent.username})
    return TicketDismissed(updated, reason=command.reason)


def addressed_first(candidates: Iterable[Ticket], *, listened: bool = False) -> list[Ticket]:
    """The order "take next" tries tickets in: addressed tickets (urgent first, then oldest first contact), then
    listened ones in the same order; ``listened``: the agent asked for listened ones, which come first instead."""
    return sorted(candidates, key=lambda t: (t.listened != listened, t.backlog_order))
