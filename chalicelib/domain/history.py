"""A ticket's history: each timeline entry a small frozen value that says what happened, with typed facts.

Code asks an entry what it is (``isinstance(event, Claimed)``) and reads its fields (``event.agent``), never a kind
string or a detail's prose. ``kind`` is the entry's word in the vocabulary (what rows, the status page's JSON and the
admin dump carry); ``detail`` is a line for people (the agents' timeline, logs), never read back. The store keeps an
entry as its kind and its fields (``chalicelib.store.codec``), and reads rows written before the entries were typed
through the same codec.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from chalicelib.domain.outbound import ACK_KINDS

__all__ = [
    "AckExpired", "AckQueued", "Claimed", "Dismissed", "Escalated", "Event", "EventKind", "Labelled", "LinkSuggested",
    "Merged", "MergedInto", "Noted", "Queued", "Received", "ReleaseReason", "Released", "Reopened", "ReopenedByAgent",
    "Replied", "ReplyFailed", "ReplyRecord", "ReplyUnconfirmed", "Resolved", "Scheduled", "Sent", "SlaBreached",
    "Transferred", "Unrecognised", "WaitingForRate", "sent_kind",
]


class EventKind(StrEnum):
    """Every kind of timeline entry, as rows and the JSON views name it."""

    RECEIVED = "received"  # a message from the customer (the first, or a follow-up)
    QUEUED = "queued"  # put on a desk's queue
    ESCALATED = "escalated"  # urgent while its desk was closed: to the on-call desk
    ACK_QUEUED = "ack_queued"  # an acknowledgement decided and on its way
    SCHEDULED = "scheduled"  # a message given its slot of the channel's rate
    WAITING = "waiting"  # a message waiting for the channel's rate or the day's budget
    ACKNOWLEDGED = "acknowledged"  # sent: the acknowledgement
    CLOSING = "closing"  # sent: the closing-time message
    BUSY = "busy"  # sent: the busy acknowledgement
    REPLY = "reply_sent"  # sent: an agent's reply (its answer is ``replied``; rows written before say "reply")
    INCIDENT_UPDATE = "incident_update"  # sent: an incident's update
    INCIDENT_RESOLVED = "incident_resolved"  # sent: an incident's resolution
    INCIDENT_FOLLOWUP = "incident_followup"  # sent: an incident follow-up, before updates and fixes were told apart
    REPLY_FAILED = "reply_failed"  # a message the platform refused: parked for a person
    REPLY_UNCONFIRMED = "reply_unconfirmed"  # a send that may have reached the customer: never sent again
    ACK_EXPIRED = "ack_expired"  # the team was back before the acknowledgement could go
    SLA_BREACHED = "sla_breached"
    REOPENED = "reopened"  # the customer wrote again after resolution
    MERGED = "merged"  # took in another ticket of the same customer
    MERGED_INTO = "merged_into"  # taken into another ticket
    LINK_SUGGESTED = "link_suggested"  # an identity quoted this ticket's reference
    CLAIMED = "claimed"
    RELEASED = "released"  # back in the queue
    AWAITING_CUSTOMER = "awaiting_customer"  # released after an answer: the customer's turn
    REPLIED = "replied"  # an agent answered (queued on the outbox)
    NOTE = "note"
    LABELLED = "labelled"
    TRANSFERRED = "transferred"
    REOPENED_BY_AGENT = "reopened_by_agent"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"  # closed with no reply: a listened post nobody needs to answer


#: The entry recording that the outbox sent a message of each kind (``OutboxItem.kind``)
_SENT_KINDS: dict[str, EventKind] = {"ack": EventKind.ACKNOWLEDGED, "closing": EventKind.CLOSING,
                                     "busy": EventKind.BUSY, "reply": EventKind.REPLY,
                                     "incident_update": EventKind.INCIDENT_UPDATE,
                                     "incident_resolved": EventKind.INCIDENT_RESOLVED,
                                     "incident_followup": EventKind.INCIDENT_FOLLOWUP}


def sent_kind(message: str) -> EventKind | None:
    """The entry kind that records a sent message of outbox kind ``message`` (None for a kind it does not know)."""
    return _SENT_KINDS.get(message)


class ReleaseReason(StrEnum):
    """Why a claim ended without an answer or a resolution."""

    BY_AGENT = "released by"  # the agent let it go
    EXPIRED = "claim expired"  # nobody acted before the claim ran out


@dataclass(frozen=True)
class ReplyRecord:
    """An agent's answer to the customer, as the ticket keeps it (on its ``Replied`` entry): who, the request that
    sent it (a repeated request is answered once), and the text."""

    agent: str
    request_id: str = ""
    text: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"agent": self.agent, "request_id": self.request_id, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> ReplyRecord:
        return cls(agent=str(data["agent"]), request_id=str(data.get("request_id") or ""),
                   text=str(data.get("text") or ""))


@dataclass(frozen=True)
class Event:
    """One entry of a ticket's timeline: when, and (in each subtype) what."""

    at: datetime

    kind: ClassVar[EventKind]

    @property
    def detail(self) -> str:
        """A line for people; empty when the kind says it all."""
        return ""

    @property
    def reply(self) -> ReplyRecord | None:
        return None


@dataclass(frozen=True)
class _OfMessage(Event):
    """An entry about one outbound message (``message``: its outbox kind, e.g. ``ack``, ``reply``)."""

    message: str

    @property
    def of_ack(self) -> bool:
        """About an acknowledgement (ack, busy, closing)?"""
        return self.message in ACK_KINDS


@dataclass(frozen=True)
class Received(Event):
    """A message from the customer: the first (on ``channel``) or a later one (``follow_up``)."""

    kind = EventKind.RECEIVED
    channel: str = ""
    follow_up: bool = False

    @property
    def detail(self) -> str:
        return "follow-up" if self.follow_up else self.channel


@dataclass(frozen=True)
class Queued(Event):
    kind = EventKind.QUEUED
    desk: str

    @property
    def detail(self) -> str:
        return self.desk


@dataclass(frozen=True)
class Escalated(Event):
    """Urgent while ``from_desk`` was closed: queued on the on-call desk ``to_desk`` instead."""

    kind = EventKind.ESCALATED
    from_desk: str
    to_desk: str

    @property
    def detail(self) -> str:
        return f"{self.from_desk} closed; on-call desk {self.to_desk}"


@dataclass(frozen=True)
class AckQueued(Event):
    """An acknowledgement decided and queued (``back_at``: when the team is back, if it said so)."""

    kind = EventKind.ACK_QUEUED
    back_at: datetime | None = None

    @property
    def detail(self) -> str:
        return self.back_at.isoformat() if self.back_at else ""


@dataclass(frozen=True)
class Scheduled(_OfMessage):
    """A waiting message given its slot of the channel's rate."""

    kind = EventKind.SCHEDULED
    slot: datetime | None = None

    @property
    def detail(self) -> str:
        return f"{self.message}: {self.slot.isoformat() if self.slot else ''}"


@dataclass(frozen=True)
class WaitingForRate(_OfMessage):
    """A message waiting for the channel's rate or the day's budget (``why``)."""

    kind = EventKind.WAITING
    why: str = ""

    @property
    def detail(self) -> str:
        return f"{self.message}: {self.why}"


@dataclass(frozen=True)
class Sent(_OfMessage):
    """The outbox sent a message (``expires_at``: the deadline it carried, if any)."""

    expires_at: datetime | None = None

    @property
    def kind(self) -> EventKind:  # type: ignore[override]  # one type, a kind per message sent
        return _SENT_KINDS.get(self.message, EventKind.REPLY)

    @property
    def detail(self) -> str:
        return self.expires_at.isoformat() if self.expires_at else ""


@dataclass(frozen=True)
class ReplyFailed(_OfMessage):
    """The platform refused a message (``error``): parked for a person."""

    kind = EventKind.REPLY_FAILED
    error: str = ""

    @property
    def detail(self) -> str:
        return f"{self.message}: {self.error}"


@dataclass(frozen=True)
class ReplyUnconfirmed(_OfMessage):
    """A send that may have reached the customer (``why``): never sent again, a person checks."""

    kind = EventKind.REPLY_UNCONFIRMED
    why: str = ""

    @property
    def detail(self) -> str:
        return f"{self.message}: {self.why}"


@dataclass(frozen=True)
class AckExpired(Event):
    kind = EventKind.ACK_EXPIRED

    @property
    def detail(self) -> str:
        return "the team was back before it could be sent"


@dataclass(frozen=True)
class SlaBreached(Event):
    """A response overdue. ``alerted``: the desk whose queue was told (the escalation desk, or the on-call desk when
    that one is closed); '' when no such desk was open, so nobody was alerted; None in entries from before it was
    recorded (the escalation desk was told, open or not)."""

    kind = EventKind.SLA_BREACHED
    due: datetime
    minutes_late: int = 0
    alerted: str | None = None

    @property
    def detail(self) -> str:
        return f"response was due {self.due.isoformat()} ({self.minutes_late} min late)"


@dataclass(frozen=True)
class Reopened(Event):
    """The customer wrote again after the ticket was resolved."""

    kind = EventKind.REOPENED


@dataclass(frozen=True)
class Merged(Event):
    """Took in ``ticket_id`` (the same customer's other case)."""

    kind = EventKind.MERGED
    ticket_id: str

    @property
    def detail(self) -> str:
        return self.ticket_id


@dataclass(frozen=True)
class MergedInto(Event):
    """Taken into ``ticket_id``, which carries on."""

    kind = EventKind.MERGED_INTO
    ticket_id: str

    @property
    def detail(self) -> str:
        return self.ticket_id


@dataclass(frozen=True)
class LinkSuggested(Event):
    """``identity`` quoted this ticket's reference: perhaps the same customer (unconfirmed)."""

    kind = EventKind.LINK_SUGGESTED
    identity: str

    @property
    def detail(self) -> str:
        return self.identity


@dataclass(frozen=True)
class Claimed(Event):
    """``agent`` holds the ticket: they took it, or ``by`` (a lead, or the agent who held it) assigned it to them."""

    kind = EventKind.CLAIMED
    agent: str
    by: str = ""

    @property
    def detail(self) -> str:
        return f"{self.agent} (assigned by {self.by})" if self.by else self.agent


@dataclass(frozen=True)
class Released(Event):
    """The claim ended: back in the queue, or, after an answer, the customer's turn (``awaiting_customer``)."""

    reason: ReleaseReason
    by: str = ""  # the agent who let it go (``ReleaseReason.BY_AGENT``)
    awaiting_customer: bool = False

    @property
    def kind(self) -> EventKind:  # type: ignore[override]  # one type, two kinds
        return EventKind.AWAITING_CUSTOMER if self.awaiting_customer else EventKind.RELEASED

    @property
    def detail(self) -> str:
        return f"released by {self.by}" if self.reason == ReleaseReason.BY_AGENT else str(self.reason)


@dataclass(frozen=True)
class Replied(Event):
    """An agent answered; the answer went to the outbox."""

    kind = EventKind.REPLIED
    answer: ReplyRecord

    @property
    def detail(self) -> str:
        return self.answer.agent

    @property
    def reply(self) -> ReplyRecord:
        return self.answer


@dataclass(frozen=True)
class Noted(Event):
    """An internal note (never shown to the customer)."""

    kind = EventKind.NOTE
    agent: str
    text: str

    @property
    def detail(self) -> str:
        return f"{self.agent}: {self.text}"


@dataclass(frozen=True)
class Labelled(Event):
    """An agent said what the first message really was; ``triaged``: the intent triage had given."""

    kind = EventKind.LABELLED
    agent: str
    intent: str
    urgent: bool = False
    triaged: str = ""

    @property
    def said(self) -> str:
        return f"{self.intent}{', urgent' if self.urgent else ''}"

    @property
    def detail(self) -> str:
        return f"{self.agent}: {self.said} (triage: {self.triaged})"


@dataclass(frozen=True)
class Transferred(Event):
    kind = EventKind.TRANSFERRED
    desk: str

    @property
    def detail(self) -> str:
        return self.desk


@dataclass(frozen=True)
class ReopenedByAgent(Event):
    kind = EventKind.REOPENED_BY_AGENT
    agent: str

    @property
    def detail(self) -> str:
        return self.agent


@dataclass(frozen=True)
class Resolved(Event):
    kind = EventKind.RESOLVED
    agent: str

    @property
    def detail(self) -> str:
        return self.agent


@dataclass(frozen=True)
class Dismissed(Resolved):
    """A ticket opened by a listened post closed by an agent with no reply (``reason``: why, for the timeline): a
    resolution to everything that reads one, and never a first response."""

    kind = EventKind.DISMISSED
    reason: str = ""

    @property
    def detail(self) -> str:
        return f"{self.agent}: {self.reason}" if self.reason else self.agent


@dataclass(frozen=True)
class Unrecognised(Event):
    """A row of a kind this version does not know (written by a later one): kept as it was, shown to nobody."""

    raw_kind: str
    text: str = ""

    @property
    def kind(self) -> EventKind | str:  # type: ignore[override]
        return self.raw_kind

    @property
    def detail(self) -> str:
        return self.text
