"""A channel's customer-service window: how long after the customer's last message on the channel a business may
still send them a free-form message (WhatsApp: 24 hours; after that, only an approved template message). Pure.

Which channel has one is a channel fact (``ChannelProfile.service_window``); this module reads a ticket's timeline
(the customer's messages, each ``Received`` naming its channel) and says when the window closes, whether it is open
at a moment, and how long it stays open — in words an agent reads ("WhatsApp window open for 3 h 12 min"). The
window is open strictly before ``last message + length``: at exactly 24 hours it is closed, as the platform counts.

A follow-up recorded before follow-ups named their channel counts as the ticket's channel when every message of the
ticket was on that one channel; on a ticket that mixes channels such an entry is not counted (a window is never
assumed open on a message that may have been written elsewhere).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.history import Received
from chalicelib.domain.ticket import Ticket

__all__ = ["ServiceWindow", "last_customer_message", "service_window", "span", "window_problem"]


def last_customer_message(ticket: Ticket, channel: str) -> datetime | None:
    """When the customer last wrote to the brand on ``channel`` (from the timeline), or None if never."""
    only_channel = set(ticket.channels) == {channel} or (not ticket.mention_keys and ticket.channel == channel)
    found = [event.at for event in ticket.timeline
             if isinstance(event, Received) and (event.channel == channel or (not event.channel and only_channel))]
    if found:
        return max(found)
    # a ticket without its messages on the timeline (made before timelines, or by hand): its own channel's time
    return ticket.last_customer_at if only_channel else None


@dataclass(frozen=True)
class ServiceWindow:
    """The window of one channel on one ticket: ``last_message`` None means the customer never wrote on it (the
    window is closed: only a template may open the conversation)."""

    channel: str
    length: timedelta
    last_message: datetime | None

    @property
    def name(self) -> str:
        found = profile(self.channel)
        return found.agent_name if found is not None else self.channel

    @property
    def closes_at(self) -> datetime | None:
        return self.last_message + self.length if self.last_message is not None else None

    def is_open(self, now: datetime) -> bool:
        return self.closes_at is not None and now < self.closes_at

    def remaining(self, now: datetime) -> timedelta:
        """How long it stays open from ``now`` (zero once closed)."""
        return max(self.closes_at - now, timedelta(0)) if self.closes_at is not None else timedelta(0)

    def describe(self, now: datetime) -> str:
        """For the agent: "WhatsApp window open for 3 h 12 min" / "WhatsApp window closed 1 h ago"."""
        if self.closes_at is None:
            return f"{self.name} window closed: the customer has not written on {self.name}"
        if self.is_open(now):
            return f"{self.name} window open for {span(self.remaining(now))}"
        return f"{self.name} window closed {span(now - self.closes_at)} ago"

    def refusal(self, now: datetime) -> str:
        """Why a free-form message cannot go now, for a person."""
        hours = int(self.length.total_seconds() // 3600)
        if self.last_message is None:
            return (f"The customer has not written on {self.name}; {self.name} only allows an approved template to "
                    f"start a conversation")
        return (f"The customer last wrote on {self.name} {_ago(now - self.last_message)} ago; {self.name} only "
                f"allows an approved template after {hours} hours")

    def to_json(self, now: datetime) -> dict[str, object]:
        return {"channel": self.channel, "open": self.is_open(now),
                "last_customer_message_at": self.last_message.isoformat() if self.last_message else None,
                "closes_at": self.closes_at.isoformat() if self.closes_at else None,
                "open_seconds": int(self.remaining(now).total_seconds()), "summary": self.describe(now)}


def service_window(ticket: Ticket, channel: str) -> ServiceWindow | None:
    """The window of ``channel`` on ``ticket``; None when the channel has none (every channel but WhatsApp)."""
    found = profile(channel)
    if found is None or found.service_window is None:
        return None
    return ServiceWindow(channel, found.service_window, last_customer_message(ticket, channel))


def window_problem(ticket: Ticket, channel: str, now: datetime) -> str | None:
    """Why a free-form message to the ticket's customer on ``channel`` cannot go at ``now``, or None."""
    window = service_window(ticket, channel)
    if window is None or window.is_open(now):
        return None
    return window.refusal(now)


def span(delta: timedelta) -> str:
    """A duration as an agent reads it: "3 h 12 min", "45 min", "under a minute"; days past 48 hours."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _ago(delta: timedelta) -> str:
    """How long ago, in whole hours ("25 hours"); days past 48 hours; minutes under an hour."""
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return span(delta)
