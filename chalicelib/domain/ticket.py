"""Ticket: one customer's open case with the brand, across conversations and channels. A small state machine,
pure Python. A ticket merged into another (two linked customers, or a form reference that joined an open ticket)
stays, with ``merged_into`` naming the ticket that carries on: nothing is ever deleted by a merge."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.history import (
    AckExpired,
    AckQueued,
    Claimed,
    Dismissed,
    Escalated,
    Event,
    Labelled,
    LinkSuggested,
    Merged,
    MergedInto,
    Noted,
    Received,
    Released,
    ReleaseReason,
    Reopened,
    ReopenedByAgent,
    Replied,
    ReplyFailed,
    ReplyRecord,
    ReplyUnconfirmed,
    Resolved,
    Scheduled,
    Sent,
    Transferred,
    WaitingForRate,
)
from chalicelib.domain.keys import channel_of
from chalicelib.domain.listening import FLAG as LISTENED
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.vocabulary import Intent as Intent
from chalicelib.domain.vocabulary import MaybeTone as MaybeTone
from chalicelib.domain.vocabulary import Priority as Priority
from chalicelib.domain.vocabulary import TicketStatus as TicketStatus
from chalicelib.domain.vocabulary import maybe_tone

WAITING, CLAIMED, REPLIED, RESOLVED, MERGED = (TicketStatus.WAITING, TicketStatus.CLAIMED, TicketStatus.REPLIED,
                                               TicketStatus.RESOLVED, TicketStatus.MERGED)
STATUSES: tuple[TicketStatus, ...] = tuple(TicketStatus)
OPEN_STATUSES: tuple[TicketStatus, ...] = (WAITING, CLAIMED, REPLIED)
_TRANSITIONS: dict[TicketStatus, set[TicketStatus]] = {
    WAITING: {CLAIMED, RESOLVED, MERGED},
    CLAIMED: {WAITING, REPLIED, RESOLVED, MERGED},
    REPLIED: {WAITING, CLAIMED, RESOLVED, MERGED},
    RESOLVED: {WAITING, MERGED},  # the customer writes again: the ticket reopens
    MERGED: set(),
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


def first_reference(customer_id: str) -> str:
    """The reference of a customer's first ticket, derived from their (random, never shown) id: it is the open
    ticket of a customer who has no open-ticket pointer yet, so a new customer's first ticket needs no pointer
    written (``usecases.process``)."""
    digest = hashlib.sha256(f"first-ticket:{customer_id}".encode()).digest()
    return new_reference(lambda n: digest[:n])


@dataclass
class Ticket:
    ticket_id: str
    desk: str
    priority: Priority
    intent: Intent
    channel: str
    conversation_key: str
    customer_id: str
    first_contact_at: datetime
    last_customer_at: datetime
    status: TicketStatus = WAITING
    language: str = "und"
    mention_keys: list[str] = field(default_factory=list)
    reply_target: ReplyTarget | None = None  # how to answer: decided from the first message
    flags: list[str] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # triage's explanation, for people (never read back)
    #: What triage decided about answering the first message (None: a ticket from before the policy)
    decision: TriageDecision | None = None
    #: What the latest agent's label decided instead (``label``; None: not labelled)
    relabel: TriageDecision | None = None
    acked: bool = False
    #: How the acknowledgement reads (``Tone``; empty: none decided, or a ticket from before tones)
    tone: MaybeTone = ""
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    first_response_due: datetime | None = None
    first_response_at: datetime | None = None
    breached: bool = False
    incident_id: str | None = None
    timeline: list[Event] = field(default_factory=list)
    resolved_at: datetime | None = None
    conversations: list[str] = field(default_factory=list)  # platform conversations the customer wrote in
    reopened: int = 0  # times the customer reopened it by writing again after resolution
    merged_into: str | None = None  # the ticket that carries on, once this one was merged
    suggested_links: list[str] = field(default_factory=list)  # identities that quoted this reference (unconfirmed)
    # outbox keys never to send again: the messages that went out, or may have (``reply_unconfirmed``)
    sent_keys: list[str] = field(default_factory=list)
    # until then, the attempt that saved this ticket may be sending its acknowledgement itself (``deliver.send_now``)
    ack_lease: datetime | None = None
    version: int = 0

    def __post_init__(self) -> None:
        """The words of the vocabulary as its members, whether given as members or as their text (a test, a row
        read before the fields were typed): ValueError for a word that is none of them."""
        self.status, self.priority = TicketStatus(self.status), Priority(self.priority)
        self.intent, self.tone = Intent(self.intent), maybe_tone(self.tone)

    @property
    def urgent(self) -> bool:
        return self.priority == Priority.URGENT

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def listened(self) -> bool:
        """Opened by a post that did not tag the brand (listening, ADR 0032), and its customer has not addressed the
        brand since (the ``listening`` flag goes when they do)."""
        return LISTENED in self.flags

    @property
    def channels(self) -> list[str]:
        """The channels the customer wrote on, in order of first use."""
        return list(dict.fromkeys(channel_of(key) for key in self.mention_keys))

    @property
    def ack_key(self) -> str:
        """One acknowledgement per open case: a reopened ticket may be acknowledged once more."""
        return self.ticket_id if not self.reopened else f"{self.ticket_id}#r{self.reopened}"

    def record(self, event: Event) -> None:
        self.timeline.append(event)

    @property
    def replies(self) -> list[tuple[datetime, ReplyRecord]]:
        """The agents' answers, in order, with when each was queued."""
        return [(e.at, e.answer) for e in self.timeline if isinstance(e, Replied)]

    def ack_state(self) -> tuple[str, str] | None:
        """What became of the open case's acknowledgement, from the timeline: None when none was decided, else
        (state, detail) — ``sent``; ``waiting`` for the channel's rate (detail: its slot once it has one);
        ``expired`` (the team was back first); ``parked`` for a person (detail: why); ``queued`` (decided, on its
        way). Every decided acknowledgement is in exactly one of them. What became of it counts even when recorded
        before the decision: an attempt that queued it may fail before saying so while the outbox sends it
        (``usecases.acknowledge.mark_acked`` then records no decision after it). Sent, or sent without a result
        (``reply_unconfirmed``), is final: its key never goes again, so a copy of it met later (a redrive) that
        waits for the rate before the outbox finds the key settled changes nothing."""
        state: tuple[str, str] | None = None
        final = False
        for event in self.timeline:
            if isinstance(event, AckQueued):
                state, final = ("queued", ""), False
            elif final:
                continue
            elif isinstance(event, Sent) and event.of_ack:
                state, final = ("sent", event.at.isoformat()), True
            elif isinstance(event, AckExpired):
                state = ("expired", event.detail)
            elif isinstance(event, (ReplyFailed, ReplyUnconfirmed)) and event.of_ack:
                state, final = ("parked", event.detail), isinstance(event, ReplyUnconfirmed)
            elif isinstance(event, WaitingForRate) and event.of_ack:
                state = ("waiting", "")
            elif isinstance(event, Scheduled) and event.of_ack:
                state = ("waiting", event.slot.isoformat() if event.slot else "")
        return state

    def _move(self, target: TicketStatus) -> None:
        if target not in _TRANSITIONS[self.status]:
            raise TicketStateError(f"ticket {self.ticket_id} is {self.status}; it cannot become {target}")
        self.status = target

    def customer_wrote(self, mention_key: str, at: datetime, conversation_key: str = "") -> bool:
        """A further message from the customer (any conversation, any linked channel): threaded in, first-contact
        time kept. True if it reopened a resolved ticket."""
        if mention_key in self.mention_keys:
            return False
        self.mention_keys.append(mention_key)
        if conversation_key and conversation_key not in self.conversations:
            self.conversations.append(conversation_key)
        self.last_customer_at = max(self.last_customer_at, at)
        reopened = self.status == RESOLVED
        if reopened:
            self._move(WAITING)
            self.resolved_at = None
            self.acked = False
            self.reopened += 1
            self.record(Reopened(at))
        elif self.status == REPLIED:
            self._move(WAITING)
        self.record(Received(at, channel_of(mention_key), follow_up=True))  # the channel: its service window
        return reopened

    def absorb(self, other: Ticket, at: datetime) -> None:
        """Take in ``other`` (the same customer's case): its messages, conversations, flags and timeline; the
        earlier first contact keeps the queue position; urgent if either was. ``other`` is marked merged."""
        if other.ticket_id == self.ticket_id:
            return
        for key in other.mention_keys:
            if key not in self.mention_keys:
                self.mention_keys.append(key)
        for conversation in other.conversations:
            if conversation not in self.conversations:
                self.conversations.append(conversation)
        addressed = self.listened != other.listened  # one of the two addressed us: the case did
        if addressed and self.listened and other.reply_target is not None:
            self.reply_target = other.reply_target  # answered where they addressed us, never under a listened post
        self.flags = [f for f in dict.fromkeys(self.flags + other.flags) if not (addressed and f == LISTENED)]
        if addressed:
            self.first_response_due = self.first_response_due or other.first_response_due
        self.suggested_links = list(dict.fromkeys(self.suggested_links + other.suggested_links))
        for kind, values in other.references.items():
            self.references[kind] = list(dict.fromkeys(self.references.get(kind, []) + values))
        self.first_contact_at = min(self.first_contact_at, other.first_contact_at)
        self.last_customer_at = max(self.last_customer_at, other.last_customer_at)
        if other.urgent:
            self.priority = Priority.URGENT
        self.acked = self.acked or other.acked
        if self.first_response_due and other.first_response_due:
            self.first_response_due = min(self.first_response_due, other.first_response_due)
        self.timeline = sorted(self.timeline + other.timeline, key=lambda e: e.at)
        self.record(Merged(at, other.ticket_id))
        other.merge_into(self.ticket_id, at)

    def merge_into(self, ticket_id: str, at: datetime) -> None:
        self._move(MERGED)
        self.merged_into = ticket_id
        self.claimed_by = self.claim_expires_at = None
        self.record(MergedInto(at, ticket_id))

    def suggest_link(self, identity: str, at: datetime) -> bool:
        if identity in self.suggested_links:
            return False
        self.suggested_links.append(identity)
        self.record(LinkSuggested(at, identity))
        return True

    def claim(self, agent: str, until: datetime, now: datetime) -> None:
        held = self.claim_expires_at is not None and self.claim_expires_at > now
        if self.status == CLAIMED and self.claimed_by != agent and held:
            raise TicketStateError(f"ticket {self.ticket_id} is claimed by {self.claimed_by} until {until:%H:%M}")
        if self.status != CLAIMED:
            self._move(CLAIMED)
        self.claimed_by, self.claim_expires_at = agent, until
        self.record(Claimed(now, agent))

    def assign(self, agent: str, until: datetime, now: datetime, *, by: str) -> None:
        """``by`` gives the ticket to ``agent`` (whoever held it before lets it go): it is theirs until ``until``."""
        if not self.open:
            raise TicketStateError(f"ticket {self.ticket_id} is {self.status}; reopen it before assigning it")
        if self.status != CLAIMED:
            self._move(CLAIMED)
        self.claimed_by, self.claim_expires_at = agent, until
        self.record(Claimed(now, agent, by=by))

    def held_by(self, agent: str, now: datetime) -> bool:
        """True while ``agent`` holds an unexpired claim on this ticket."""
        return (self.status == CLAIMED and self.claimed_by == agent and self.claim_expires_at is not None
                and self.claim_expires_at > now)

    @property
    def awaiting_customer(self) -> bool:
        """An agent answered after the customer's last message: the ball is in the customer's court."""
        return any(isinstance(e, Replied) and e.at >= self.last_customer_at for e in self.timeline)

    def release(self, now: datetime, reason: ReleaseReason = ReleaseReason.BY_AGENT, by: str = "") -> None:
        """The claim ends: back to the desk's queue, or, when an agent has answered the customer's last message,
        waiting for the customer (their next message puts it back in the queue)."""
        if self.status != CLAIMED:
            return
        awaiting = self.awaiting_customer
        self._move(REPLIED if awaiting else WAITING)
        self.claimed_by = self.claim_expires_at = None
        self.record(Released(now, reason, by, awaiting_customer=awaiting))

    def replied(self, agent: str, now: datetime, *, text: str = "", request_id: str = "") -> None:
        """An agent answered (``text``, sent by request ``request_id``); a claimed ticket stays with the agent (they
        may resolve it or wait for an answer)."""
        if self.status != CLAIMED:
            self._move(REPLIED)
            self.claimed_by = self.claim_expires_at = None
        if self.first_response_at is None:
            self.first_response_at = now
        self.record(Replied(now, ReplyRecord(agent, request_id, text)))

    def note(self, agent: str, text: str, now: datetime) -> None:
        """An internal note (never shown to the customer)."""
        self.record(Noted(now, agent, text))

    @property
    def triaged_intent(self) -> Intent:
        """The intent triage gave the first message (``decision``), whatever a label said since."""
        return self.decision.intent if self.decision is not None else self.intent

    @property
    def triaged_acknowledge(self) -> bool | None:
        """Whether triage's policy acknowledged the first message (whether or not the desk was open then); None for
        a ticket from before the policy."""
        return self.decision.answered if self.decision is not None else None

    @property
    def current_decision(self) -> TriageDecision | None:
        """The decision an acknowledgement still to come follows (closing time, busy): the latest label's, else
        triage's; None for a ticket from before the policy."""
        return self.relabel if self.relabel is not None else self.decision

    def label(self, intent: str, urgent: bool, agent: str, now: datetime, *, acknowledge: bool) -> str:
        """An agent says what the first message really was (intent, urgent or not): the ticket's intent becomes it,
        and an acknowledgement still to come (closing time, busy) follows the label (``relabel``); triage's decision
        and reasons stay as they were. Priority and SLA stay as routed. Returns the intent triage had given."""
        triaged = self.triaged_intent
        self.intent = Intent(intent)
        self.relabel = TriageDecision(intent=Intent(intent), answered=acknowledge, why=f"labelled {intent}")
        self.record(Labelled(now, agent, intent, urgent, triaged))
        return triaged

    def transfer(self, desk: str, agent: str, now: datetime) -> None:
        """To another desk's queue; the claim ends."""
        if not self.open:
            raise TicketStateError(f"ticket {self.ticket_id} is {self.status}; reopen it before transferring")
        if self.status != WAITING:
            self._move(WAITING)
        self.claimed_by = self.claim_expires_at = None
        self.desk = desk
        self.record(Transferred(now, desk))

    def escalate(self, desk: str, now: datetime) -> bool:
        """Urgent and waiting while its desk is closed: to the on-call desk ``desk`` (``routing.oncall_desk_now``
        decides when). False, and nothing changes, unless it is urgent, waiting and on another desk."""
        if not self.urgent or self.status != WAITING or self.desk == desk:
            return False
        self.record(Escalated(now, self.desk, desk))
        self.desk = desk
        return True

    def reopen(self, agent: str, now: datetime) -> None:
        """An agent reopens a resolved ticket (to answer again); it goes back to the desk's queue."""
        if self.status != RESOLVED:
            raise TicketStateError(f"ticket {self.ticket_id} is {self.status}; only a resolved ticket reopens")
        self._move(WAITING)
        self.resolved_at = None
        self.record(ReopenedByAgent(now, agent))

    def resolve(self, agent: str, now: datetime) -> None:
        self._move(RESOLVED)
        self.claimed_by = self.claim_expires_at = None
        self.resolved_at = now
        self.record(Resolved(now, agent))

    def dismiss(self, agent: str, reason: str, now: datetime) -> None:
        """A ticket opened by a listened post, closed with no reply: the author is not answered, nor waited for."""
        self._move(RESOLVED)
        self.claimed_by = self.claim_expires_at = None
        self.resolved_at = now
        self.record(Dismissed(now, agent, reason))

    @property
    def backlog_order(self) -> str:
        """Urgent first, then oldest first contact, across all channels."""
        return f"{0 if self.urgent else 1}#{self.first_contact_at.isoformat()}"
