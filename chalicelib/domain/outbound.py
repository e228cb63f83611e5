"""How to answer a customer, and the one message shape that travels from a use case to a channel sender.

``ReplyTarget`` is decided once, from the customer's first message, and kept on the ticket. ``OutboxItem`` is what a
use case puts on the outbox queue (one idempotency key per message), and ``OutboundMessage`` is what a sender sends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.jsonvalue import JsonObject, is_object, obj
from chalicelib.domain.mention import Mention
from chalicelib.domain.vocabulary import AckKind as AckKind


@dataclass(frozen=True)
class ReplyTarget:
    channel: str  # Mention.channel of the conversation being answered
    recipient: str  # author id (X user id, PSID, e-mail address)
    in_reply_to: str = ""  # external id being answered (tweet id, comment id, Message-ID)
    private: bool = False  # True: DM / private reply / e-mail; False: public reply
    subject: str = ""  # e-mail subject / form topic
    name: str = ""  # how to greet the customer
    handle: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # channel specifics copied from Mention.extra

    @classmethod
    def of(cls, mention: Mention) -> ReplyTarget:
        return cls(channel=mention.channel, recipient=mention.author_id, in_reply_to=mention.external_id,
                   private=mention.visibility == "private", subject=mention.subject,
                   name=mention.author_name or mention.author_handle, handle=mention.author_handle,
                   extra=dict(mention.extra))

    def to_dict(self) -> dict[str, object]:
        return {"channel": self.channel, "recipient": self.recipient, "in_reply_to": self.in_reply_to,
                "private": self.private, "subject": self.subject, "name": self.name, "handle": self.handle,
                "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: JsonObject) -> ReplyTarget:
        return cls(channel=str(data.get("channel", "")), recipient=str(data.get("recipient", "")),
                   in_reply_to=str(data.get("in_reply_to") or ""), private=bool(data.get("private")),
                   subject=str(data.get("subject") or ""), name=str(data.get("name") or ""),
                   handle=str(data.get("handle") or ""), extra=dict(obj(data, "extra")))


@dataclass(frozen=True)
class OutboundMessage:
    """What a channel sender sends (``channels.base.Sender``)."""

    channel: str
    recipient: str
    text: str
    in_reply_to: str = ""
    private: bool = False
    idempotency_key: str = ""  # one key per message: the sender never sends the same key twice
    subject: str = ""  # e-mail only
    extra: dict[str, Any] = field(default_factory=dict)  # channel specifics copied from Mention.extra
    kind: str = ""  # the OutboxItem's kind (ack, reply, ...): for records, never sent to the platform


#: The version of the outbox message's shape (``OutboxItem.to_dict``); a message without one is of version 1
OUTBOX_VERSION = 1


@dataclass(frozen=True)
class OutboxItem:
    """One queued reply. ``kind``: ack, closing, busy, incident_update, incident_resolved, reply (older items may
    say incident_followup). An item whose ``expires_at`` has passed is not sent (an out-of-hours acknowledgement is
    pointless once the team is back)."""

    idempotency_key: str
    kind: str
    ticket_id: str
    target: ReplyTarget
    text: str
    queued_at: datetime
    expires_at: datetime | None = None
    #: When the customer wrote the message this answers (the ticket's last customer message): ack latency.
    customer_wrote_at: datetime | None = None
    #: The ticket's priority (``urgent`` goes first when messages wait for the channel's rate).
    priority: str = "normal"
    #: The slot of the channel's rate reserved for this message (``usecases.waiting``): sent then without taking
    #: another token. None: the message takes a token when it is sent.
    slot: datetime | None = None
    #: When the channel's customer-service window closes for this free-form message (WhatsApp: 24 hours after the
    #: customer's last message there; ``domain.service_window``): one that would reach the platform later is parked
    #: with the reason, never sent (``usecases.deliver``). None: no window (another channel, or a template).
    window_closes_at: datetime | None = None

    def outbound(self) -> OutboundMessage:
        t = self.target
        return OutboundMessage(channel=t.channel, recipient=t.recipient, text=self.text, in_reply_to=t.in_reply_to,
                               private=t.private, idempotency_key=self.idempotency_key, subject=t.subject,
                               extra=dict(t.extra), kind=self.kind)

    def to_dict(self) -> dict[str, object]:
        """The outbox queue message (flat, as consumers and the DLQ redrive see it)."""
        t = self.target
        return {"v": OUTBOX_VERSION, "idempotency_key": self.idempotency_key, "kind": self.kind,
                "ticket_id": self.ticket_id, "channel": t.channel, "recipient": t.recipient,
                "in_reply_to": t.in_reply_to, "private": t.private,
                "subject": t.subject, "name": t.name, "handle": t.handle, "extra": dict(t.extra), "text": self.text,
                "queued_at": self.queued_at.isoformat(),
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "customer_wrote_at": self.customer_wrote_at.isoformat() if self.customer_wrote_at else None,
                "priority": self.priority, **({"slot": self.slot.isoformat()} if self.slot else {}),
                **({"window_closes_at": self.window_closes_at.isoformat()} if self.window_closes_at else {})}

    @classmethod
    def from_dict(cls, data: object) -> OutboxItem:
        """Raises ValueError for a message that is not an outbox item (not an object, a field missing, a time that
        is not one)."""
        if not is_object(data):
            raise ValueError("an outbox message must be a JSON object")
        if data.get("v", OUTBOX_VERSION) != OUTBOX_VERSION:  # none: queued before messages carried their version
            raise ValueError(f"an outbox message of version {data.get('v')!r}: this code reads version "
                             f"{OUTBOX_VERSION}")
        try:
            return cls(idempotency_key=str(data["idempotency_key"]), kind=str(data.get("kind") or "reply"),
                       ticket_id=str(data["ticket_id"]), target=ReplyTarget.from_dict(data), text=str(data["text"]),
                       queued_at=_moment(data["queued_at"]), expires_at=_maybe_moment(data.get("expires_at")),
                       customer_wrote_at=_maybe_moment(data.get("customer_wrote_at")),
                       priority="urgent" if data.get("priority") == "urgent" else "normal",
                       slot=_maybe_moment(data.get("slot")),
                       window_closes_at=_maybe_moment(data.get("window_closes_at")))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an outbox message: {exc}") from None


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"a time must be ISO 8601 text, not {value!r}")
    return datetime.fromisoformat(value)


def _maybe_moment(value: object) -> datetime | None:
    return _moment(value) if value else None


#: The outbox kind of a read receipt: the customer's message is marked read on their platform when an agent opens
#: the ticket (``usecases.read_receipts``); nothing is sent to the customer, nothing goes on the timeline.
READ_RECEIPT = "read"

#: The kinds of the one acknowledgement per open case (out of hours, busy in hours, closing time): ``AckKind``.
ACK_KINDS: tuple[AckKind, ...] = tuple(AckKind)


def waiting_order(item: OutboxItem) -> str:
    """A waiting message's place, as text that sorts in sending order: urgent first, then the acknowledgements of
    first contacts, then the rest (agents' replies, incident notices); within each, the customer who wrote first
    goes first (``customer_wrote_at``, else when the message was queued); the key makes the place unique and the
    same for the same message."""
    rank = 0 if item.priority == "urgent" else 1 if item.kind in ACK_KINDS else 2
    since = (item.customer_wrote_at or item.queued_at).astimezone(timezone.utc)
    return f"{rank}#{since.strftime('%Y-%m-%dT%H:%M:%S.%f')}#{item.idempotency_key}"
