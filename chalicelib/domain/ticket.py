"""Ticket: one customer's conversation with the brand, across channels. A small state machine, pure Python."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.outbound import ReplyTarget

WAITING, CLAIMED, REPLIED, RESOLVED = "waiting", "claimed", "replied", "resolved"
STATUSES = (WAITING, CLAIMED, REPLIED, RESOLVED)
_TRANSITIONS = {
    WAITING: {CLAIMED, RESOLVED},
    CLAIMED: {WAITING, REPLIED, RESOLVED},
    REPLIED: {WAITING, CLAIMED, RESOLVED},
    RESOLVED: {WAITING},  # the customer writes again: the ticket reopens
}
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class TicketStateError(Exception):
    """An agent action that the ticket's state does not allow (e.g. claiming a resolved ticket)."""


def new_reference(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A short, unambiguous reference customers can read out: ``R`` + 8 base32 characters (40 bits)."""
    value = int.from_bytes(random_bytes(5), "big")
    chars = []
    for _ in range(8):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "R" + "".join(reversed(chars))


@dataclass
class Event:
    at: datetime
    kind: str  # received, acknowledged, queued, escalated, claimed, released, replied, resolved, reopened, ...
    detail: str = ""


@dataclass
class Ticket:
    ticket_id: str
    desk: str
    priority: str
    intent: str
    channel: str
    conversation_key: str
    customer_id: str
    first_contact_at: datetime
    last_customer_at: datetime
    status: str = WAITING
    language: str = "und"
    mention_keys: list[str] = field(default_factory=list)
    reply_target: ReplyTarget | None = None  # how to answer: decided from the first message
    flags: list[str] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    acked: bool = False
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    first_response_due: datetime | None = None
    first_response_at: datetime | None = None
    breached: bool = False
    incident_id: str | None = None
    timeline: list[Event] = field(default_factory=list)
    resolved_at: datetime | None = None
    version: int = 0

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"

    @property
    def open(self) -> bool:
        return self.status != RESOLVED

    def record(self, at: datetime, kind: str, detail: str = "") -> None:
        self.timeline.append(Event(at, kind, detail))

    def _move(self, target: str) -> None:
        if target not in _TRANSITIONS[self.status]:
            raise TicketStateError(f"ticket {self.ticket_id} is {self.status}; it cannot become {target}")
        self.status = target

    def customer_wrote(self, mention_key: str, at: datetime) -> None:
        """A further message in the same conversation: threaded in, first-contact time kept."""
        if mention_key in self.mention_keys:
            return
        self.mention_keys.append(mention_key)
        self.last_customer_at = max(self.last_customer_at, at)
        if self.status == RESOLVED:
            self._move(WAITING)
            self.resolved_at = None
            self.record(at, "reopened")
        elif self.status == REPLIED:
            self._move(WAITING)
        self.record(at, "received", "follow-up")

    def claim(self, agent: str, until: datetime, now: datetime) -> None:
        held = self.claim_expires_at is not None and self.claim_expires_at > now
        if self.status == CLAIMED and self.claimed_by != agent and held:
            raise TicketStateError(f"ticket {self.ticket_id} is claimed by {self.claimed_by} until {until:%H:%M}")
        if self.status != CLAIMED:
            self._move(CLAIMED)
        self.claimed_by, self.claim_expires_at = agent, until
        self.record(now, "claimed", agent)

    def release(self, now: datetime, reason: str = "") -> None:
        if self.status != CLAIMED:
            return
        self._move(WAITING)
        self.claimed_by = self.claim_expires_at = None
        self.record(now, "released", reason)

    def replied(self, agent: str, now: datetime) -> None:
        self._move(REPLIED)
        self.claimed_by = self.claim_expires_at = None
        if self.first_response_at is None:
            self.first_response_at = now
        self.record(now, "replied", agent)

    def resolve(self, agent: str, now: datetime) -> None:
        self._move(RESOLVED)
        self.claimed_by = self.claim_expires_at = None
        self.resolved_at = now
        self.record(now, "resolved", agent)

    @property
    def backlog_order(self) -> str:
        """Urgent first, then oldest first contact, across all channels."""
        return f"{0 if self.urgent else 1}#{self.first_contact_at.isoformat()}"
