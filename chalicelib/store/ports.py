"""The stores and queues the use cases need, as small typed Protocols, and the store exceptions.

Use cases import this module only: never ``store.repositories``, pynamodb or botocore. Each store is named for its
purpose and owns its key format and its retention; two implementations keep the same contract
(``store.repositories`` on DynamoDB, ``store.memory`` in memory), proven by one contract suite
(``tests/contract``). Every method returns domain objects or plain values, never a database item.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Event
from chalicelib.domain.incident import Incident
from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.mention import Mention
from chalicelib.domain.ticket import Ticket

if TYPE_CHECKING:  # the brand file's models (pydantic) are not imported with the ports: cold starts stay light
    from chalicelib.domain.config.saved_replies import SavedReply
    from chalicelib.domain.reports import TicketFigures


class AlreadyExists(Exception):
    """The item was created by somebody else first."""


class ConcurrentUpdate(Exception):
    """Somebody else saved the item first: reload and try again."""


R = TypeVar("R")


@dataclass(frozen=True)
class Updated(Generic[R]):
    """What ``TicketStore.update`` saved: the ticket as saved, and what the change function returned on the attempt
    that was saved (an attempt that lost a race is applied again, and its result dropped)."""

    ticket: Ticket
    result: R


class SignInRefused(Exception):
    """Wrong username or password, or an account that cannot sign in yet; the message says which, for a person."""


class InvalidToken(Exception):
    """A sign-in token that is forged, expired, or was issued for another pool or app."""


@dataclass(frozen=True)
class SignIn:
    token: str  # the identity token: ``Authorization: Bearer <token>`` or the inbox session cookie
    expires_in: int  # seconds
    agent: Agent


@dataclass(frozen=True)
class StoredMention:
    mention: Mention
    received_at: datetime
    owner: str = ""  # the inbound envelope that stored it: only its redeliveries process it again ("": unknown)


@dataclass(frozen=True)
class TriageLabel:
    """An agent's word on what a ticket's first message was (``usecases.desk.actions``). It holds no customer text:
    the export reads the message from the mention store, so a forgotten customer's labels export nothing."""

    ticket_id: str
    customer_id: str  # the product's own random id, never the platform's
    mention_key: str  # the first message, the one triage decided on
    intent: str
    urgent: bool
    triaged: str  # the intent triage had given
    triaged_acknowledge: bool | None  # whether triage's policy acknowledged the message (None: not recorded)
    agent: str
    at: datetime


ACQUIRED, HELD, LAPSED = "acquired", "held", "lapsed"
#: ``OutboxLedger.acquire_lease`` on a key whose sent record was written before sends were recorded on tickets
SENT = "sent"


@dataclass(frozen=True)
class Registered:
    """An identity's customer, as ``CustomerStore.register`` found or made it."""

    customer_id: str
    created: bool  # True: this call registered the identity (under the new customer id it was given)
    handle: str  # the handle stored with the identity (the one it had when first seen)


@dataclass(frozen=True)
class Charge:
    """A paid post's price, counted in the day's spend of its channel (micro-dollars; the day in the brand's zone)."""

    day: str
    micros: int
    limit_micros: int


@dataclass(frozen=True)
class Allowance:
    """What ``SendAllowance.take`` answered: allowed (``wait`` 0, not ``over_budget``), or why not."""

    wait: float = 0.0  # seconds until the rate allows a send
    over_budget: bool = False  # the day's spend budget would be exceeded
    #: allowed: seconds from now to the slot this token was reserved for (0: send now; > 0 only when ``take`` was
    #: given ``within``)
    slot_in: float = 0.0

    @property
    def allowed(self) -> bool:
        return not self.wait and not self.over_budget


class MentionStore(Protocol):
    def add_or_existing(self, mention: Mention, received_at: datetime, *, owner: str = "") -> StoredMention | None:
        """Store the mention unless its key exists: None if this call stored it, else the stored one — in one
        conditional write that returns the old item, so a duplicate costs one call. ``owner``: the inbound
        envelope that carries it (see ``usecases.process``)."""

    def add_if_new(self, mention: Mention, received_at: datetime) -> bool:
        """Store the mention unless its key exists; True if this call stored it."""

    def get(self, key: str) -> StoredMention | None: ...

    def keys_for_author(self, author_key: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...


class AgentDirectory(Protocol):
    """Agents' sign-in (Amazon Cognito in AWS and on the local stack): who an agent is, from a token."""

    def sign_in(self, username: str, password: str) -> SignIn:
        """SignInRefused for a wrong password, an unknown user or an account that must first set its password."""

    def verify(self, token: str) -> Agent:
        """The agent a token names, with their teams and role; InvalidToken if it is not a valid, unexpired token
        of this pool and app."""


@dataclass(frozen=True)
class QueueMark:
    """A place in a desk's queue: a ticket's ``Ticket.backlog_order`` and its id (the backlog index's sort key and
    the table's key, which is what DynamoDB's ``LastEvaluatedKey`` of the index holds)."""

    order: str
    ticket_id: str


@dataclass(frozen=True)
class QueuePage:
    """One page of a desk's tickets of one status, in queue order, read by one query of the backlog index;
    ``after``: where the next page starts (None: the desk ends here). A page as long as the limit always gives
    ``after``, so the page after it may be empty."""

    tickets: list[Ticket]
    after: QueueMark | None


class TicketStore(Protocol):
    def get(self, ticket_id: str) -> Ticket | None: ...

    def add(self, ticket: Ticket) -> None:
        """Create; AlreadyExists if a ticket with that id exists. Sets ``ticket.version`` to 1."""

    def save(self, ticket: Ticket) -> None:
        """Optimistic concurrency: ConcurrentUpdate if anybody saved since this ticket was read."""

    def update(self, ticket_id: str, change: Callable[[Ticket], R], *, current: Ticket | None = None,
               attempts: int = 5) -> Updated[R] | None:
        """Apply ``change`` and save; when somebody saved first, re-read and apply it again. ``current`` saves the
        first read. The ticket as saved and what ``change`` returned on the attempt saved; None if the ticket does
        not exist; ConcurrentUpdate after ``attempts`` lost races."""

    def append_event(self, ticket_id: str, event: Event, *, sent_key: str = "",
                     release_ack_lease: bool = False) -> bool:
        """Add a timeline entry without reading the ticket (one update; the version moves on, so a save from an
        earlier read is refused and re-applied), and ``sent_key`` to ``sent_keys`` when given (the outbox's proof
        that the message of that key went out); ``release_ack_lease`` drops ``ack_lease`` in the same update.
        False if the ticket does not exist."""

    def release_ack_lease(self, ticket_id: str) -> None:
        """Drop ``ack_lease`` (the acknowledgement was handed to the outbox); no read."""

    def join_open(self, ticket_id: str, customer_id: str, mention_key: str, at: datetime,
                  conversation_key: str = "") -> Ticket | None:
        """The customer wrote again (``Ticket.customer_wrote``), in one conditional update without a read: applied
        only while the ticket is theirs, waiting or claimed (no change of state), the message not on it yet and
        written no earlier than their last one; the ticket as it is after, else None (read it and decide)."""

    def backlog(self, desk: str, limit: int = 100) -> list[Ticket]:
        """Waiting tickets of a desk: urgent first, then oldest first contact."""

    def backlog_count(self, desk: str) -> int: ...

    def queue_page(self, desk: str, status: str = "waiting", *, after: QueueMark | None = None, limit: int = 50,
                   urgent: bool | None = None) -> QueuePage:
        """A desk's open tickets of one status (waiting, claimed, replied) in queue order — urgent first, then
        oldest first contact — from after ``after``: one query of the backlog index, never a scan. ``urgent``
        (True / False) reads only that priority (a condition on the index's sort key); None reads both."""

    def open_tickets(self) -> Iterator[Ticket]: ...

    def claimed(self) -> Iterator[Ticket]: ...

    def for_customer(self, customer_id: str) -> list[Ticket]: ...

    def delete(self, ticket_id: str) -> None: ...


class CustomerStore(Protocol):
    def register(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                 display_name: str = "", at: datetime) -> Registered:
        """Register the identity under ``new_customer_id`` unless it is known; either way, in one conditional write,
        the customer it belongs to, whether this call registered it, and the handle stored with it."""

    def resolve(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                display_name: str = "", at: datetime) -> str:
        """The customer id this identity belongs to; registers it under ``new_customer_id`` if unseen."""

    def lookup(self, identity: str) -> str | None: ...

    def identities(self, customer_id: str) -> list[str]: ...

    def relink(self, identity: str, customer_id: str) -> None:
        """Move a known identity to another customer (an agent's link, a merge, an unlink); KeyError if unknown."""

    def delete(self, identity: str) -> None: ...

    def open_ticket(self, customer_id: str) -> str | None:
        """The customer's open ticket, as last pointed (it may since have been resolved or merged)."""

    def point_open_ticket(self, customer_id: str, ticket_id: str, *, expected: str | None) -> bool:
        """Compare-and-set the open-ticket pointer: write ``ticket_id`` if the pointer is still ``expected`` (None:
        no pointer). The one decision when two first messages of a customer arrive at once."""

    def forget_open_ticket(self, customer_id: str) -> None: ...


class ThreadIndex(Protocol):
    """Which ticket one of our own sent messages belongs to (a customer answering it joins that ticket)."""

    def sent_message_ticket(self, channel: str, external_id: str) -> str | None: ...

    def remember_sent_message(self, channel: str, external_id: str, ticket_id: str) -> None: ...


class AckLedger(Protocol):
    """One acknowledgement per ticket, whichever kind (out of hours, busy in hours, or closing time) comes
    first."""

    def begin(self, ticket_id: str, kind: str) -> bool:
        """Mark the acknowledgement as being queued; False if a mark exists already."""

    def start(self, ticket_id: str, kind: str) -> bool:
        """``begin`` and ``is_queued`` in one conditional write: True if this call may queue the acknowledgement (it
        made the mark, or an earlier attempt made it and never queued), False if it was queued already."""

    def is_queued(self, ticket_id: str) -> bool: ...

    def mark_queued(self, ticket_id: str, kind: str, at: datetime) -> None: ...

    def forget(self, ticket_id: str) -> None: ...


class OutboxLedger(Protocol):
    """Who is sending a message or has sent it (never twice per idempotency key): one item per key, a lease taken
    by one conditional write before the send and kept after it. That a send went out is recorded on the ticket
    (``TicketStore.append_event`` with ``sent_key``), in the same write as its timeline entry."""

    def acquire_lease(self, key: str, now: datetime, hold: timedelta) -> str:
        """Take the sending lease for one attempt, in one conditional write that also reports what is there:
        ``acquired``; ``held`` while another attempt's lease runs (or ran, and sent); ``lapsed`` when an earlier
        attempt took it and did not release it (it sent, or its outcome is unknown: the ticket says which); or
        ``sent`` for a sent record of the earlier format (before 2026-11-25). A
        lapsed lease is not taken over; expiry is checked against its time, never left to TTL deletion (which is
        asynchronous)."""

    def release_lease(self, key: str) -> None:
        """Drop a lease (this attempt did not send)."""


@dataclass(frozen=True)
class WaitingMessage:
    """An outbound message waiting for its channel's rate: its place (``order``, ``domain.outbound.waiting_order``)
    and the outbox message itself."""

    channel: str
    order: str
    message: JsonObject


class WaitingRoom(Protocol):
    """Outbound messages the channel's rate cannot send now, per channel in priority order, until the dispatcher
    (``usecases.waiting``) reserves each a slot of the rate and hands it to the outbox queue. Waiting here costs no
    SQS receive, so waiting never walks a message to the dead-letter queue."""

    def add(self, channel: str, order: str, message: JsonObject) -> None:
        """Put a message in its place (the same place again is the same message: a no-op)."""

    def first(self, channel: str, limit: int) -> list[WaitingMessage]:
        """The channel's first ``limit`` waiting messages, in order."""

    def take(self, channel: str, order: str) -> JsonObject | None:
        """Remove one: its message if this call removed it, None if it was gone (another dispatcher took it)."""

    def count(self, channel: str) -> int:
        """How many messages of the channel wait (oversight)."""


class SendAllowance(Protocol):
    """Whether a channel may send now, shared by every Lambda: its rate (a token bucket of ``per_minute`` tokens
    refilled at ``per_minute`` a minute, kept as one number, GCRA) and, where it has a budget, its paid-API spend of
    the day (micro-dollars) — one item per channel, so both are taken by one conditional update, no read."""

    def take(self, channel: str, now: datetime, per_minute: float, charge: Charge | None = None, *,
             within: float = 0.0) -> Allowance:
        """Take a token and add ``charge`` to the day's spend, both or neither: refused with the seconds until a
        token is available, or as ``over_budget`` when the spend would exceed the charge's limit. ``within``: a
        token whose slot comes within that many seconds is reserved (``Allowance.slot_in``): the caller sends at
        that slot, and the next caller gets the slot after it — N reservations, N different slots."""

    def refund(self, channel: str, day: str, micros: int) -> None:
        """Take back a charge for a message that was not sent (a known failure, a duplicate); a day that is over
        is not changed."""

    def spent(self, channel: str, day: str) -> int:
        """The day's spend so far (0 for a day that is over: only the current day is kept)."""

    def charge(self, channel: str, day: str, micros: int) -> int:
        """Add a cost already incurred (what a page of paid reads cost) to the day's spend of ``channel``, without a
        token or a limit, in one atomic update (a new day starts a new count): the day's spend after it."""


class IncidentStore(Protocol):
    def put(self, incident: Incident) -> None: ...

    def get(self, incident_id: str) -> Incident | None: ...

    def all(self) -> list[Incident]: ...

    def active(self) -> list[Incident]:
        """Active incidents; an implementation may cache them for a few seconds (see ``ACTIVE_CACHE_SECONDS``)."""

    def claim_follow_up(self, incident_id: str, change: str, ticket_id: str) -> bool:
        """True once per (incident, change, ticket): one follow-up reply per ticket and incident change."""

    def claim_resolution(self, incident_id: str) -> bool:
        """True once per incident: of two concurrent resolutions, one wins and the other is refused."""


class PollCursors(Protocol):
    """Where each scheduled poller stopped (``since_id``, pagination token, resume-after)."""

    def get(self, name: str) -> dict[str, Any]: ...

    def put(self, name: str, cursor: dict[str, Any]) -> None: ...


class FormRateLimit(Protocol):
    def try_take(self, client_key: str, window: str, limit: int) -> bool:
        """Count one submission for this client in this window unless ``limit`` is reached; True if counted."""

    def used(self, client_key: str, window: str) -> int:
        """How many were counted for this client in this window (0 for none)."""


class LocalPosts(Protocol):
    """Stage local: the posts the listening searches' stand-ins answer (``POST /local/listening/posts``), per
    channel, kept a day."""

    def add(self, channel: str, at: datetime, post_id: str, post: JsonObject) -> None: ...

    def recent(self, channel: str, *, since: datetime) -> list[JsonObject]:
        """The channel's posts written after ``since``, newest first."""


class SandboxOutbox(Protocol):
    """Stage local: outbound messages recorded instead of sent (``GET /local/outbox``)."""

    def record(self, at: datetime, key: str, message: JsonObject) -> None: ...

    def recent(self, limit: int = 200) -> list[JsonObject]:
        """Newest first."""


class NotifyLog(Protocol):
    """Stage local: what the team-notification stand-in would have posted to Slack, Teams and webhooks
    (``GET /local/notifications``); each entry names its ``desk``."""

    def record(self, at: datetime, key: str, entry: JsonObject) -> None: ...

    def recent(self, *, desk: str | None = None, limit: int = 200) -> list[JsonObject]:
        """Newest first; only ``desk``'s when given."""


class DeskConsumers(Protocol):
    """Whether each desk queue's consumer runs: Lambda's event source mapping, enabled while a team covering the
    desk is on shift (``usecases.team_feed.follow_rota``, ADR 0024). A desk never switched reads as off."""

    def enabled(self, desk: str) -> bool: ...

    def switch(self, desk: str, on: bool) -> bool:
        """Turn the desk's consumer on or off; True if that changed it."""


@dataclass(frozen=True)
class DigestMark:
    """A shift-start digest: when it was made, the tickets it listed by name, and how many it only counted."""

    at: datetime
    listed: tuple[str, ...] = ()
    more: int = 0


class TeamFeedMarks(Protocol):
    """What the team feed remembers: the thread each ticket's notices go under, per destination, and when each
    desk's last shift-start digest was made (what it told the team of)."""

    def thread(self, destination: str, ticket_id: str) -> str | None: ...

    def remember_thread(self, destination: str, ticket_id: str, thread: str) -> None: ...

    def digest(self, desk: str) -> DigestMark | None:
        """The desk's last shift-start digest (None: never)."""

    def mark_digest(self, desk: str, mark: DigestMark) -> None: ...

    def handed_over(self, desk: str, event: str) -> bool:
        """Whether this desk event (``<ticket>#<event>#<change>#<at>``: what consumers dedupe on) was handed to the
        team's tools already: a desk queue delivers at least once, and a retried attempt announces again."""

    def mark_handed_over(self, desk: str, event: str) -> None: ...


class Health(Protocol):
    def ping(self) -> None:
        """Raise if the store cannot be reached."""


class Queues(Protocol):
    """SQS: the inbound queue, one queue per desk, the outbox, and their dead-letter queues."""

    def send_inbound(self, envelope: JsonObject) -> str: ...

    def send_desk(self, desk: str, message: JsonObject) -> str: ...

    def send_outbox(self, message: JsonObject, *, delay: int = 0) -> str: ...

    def send_dead_letter(self, queue_name: str, body: JsonObject) -> str: ...

    def send_notices(self, messages: list[JsonObject]) -> None:
        """Put team-feed deliveries on the notify queue, in batches of ten (one call for up to ten)."""

    def delete(self, queue_name: str, receipt_handles: list[str]) -> None: ...

    def delay_redelivery(self, queue_name: str, receipt_handle: str, seconds: int) -> None: ...

    def url(self, name: str) -> str: ...

    def approximate_depth(self, queue_name: str) -> int: ...


class AnswerCounts(Protocol):
    """Tickets first answered by agents, per desk and hour: the recent throughput behind the busy estimate.

    Counted in whole UTC hours: ``count_since`` adds up the hours that start at or after ``since`` (an hour
    that began before ``since`` is left out whole), up to and including the hour ``now`` falls in. With ``since``
    on the hour, it counts exactly the answers recorded from ``since`` to the end of ``now``'s hour."""

    def record(self, desk: str, at: datetime) -> None: ...

    def count_since(self, desk: str, since: datetime, now: datetime) -> int: ...


class TriageLabels(Protocol):
    """Agents' labels of tickets' first messages: the brand's own labelled set, to measure triage on its traffic."""

    def record(self, label: TriageLabel) -> None:
        """The ticket's label; a later label of the same ticket replaces it."""

    def all(self, since: datetime | None = None) -> list[TriageLabel]:
        """Every ticket's label given at or after ``since``, oldest first."""

    def forget(self, ticket_id: str) -> None:
        """The ticket's label is removed (a data-protection request)."""


@dataclass(frozen=True)
class StoredSavedReply:
    """A saved reply a lead added in the inbox (the brand file's are in the configuration), who saved it and when."""

    reply: SavedReply
    by: str
    at: datetime


@dataclass(frozen=True)
class SavedView:
    """An agent's named list of a desk's tickets: the desk and the list's filters as query parameters."""

    name: str
    desk: str
    query: Mapping[str, str]
    at: datetime


class SavedViews(Protocol):
    """Each agent's saved views: a handful of small items per agent, kept until deleted."""

    def of(self, username: str) -> list[SavedView]:
        """The agent's views, by name."""

    def put(self, username: str, view: SavedView) -> None:
        """Add it, or replace the agent's view of the same name."""

    def delete(self, username: str, name: str) -> bool:
        """Remove it; False if the agent had none of that name."""


@dataclass(frozen=True)
class SeenAgent:
    """An agent as they last signed in or took work: who, their teams and role, and when."""

    username: str
    name: str
    teams: tuple[str, ...]
    lead: bool
    at: datetime


class AgentPresence(Protocol):
    """Who has been at work lately (a lead assigns them tickets): one small item per agent, kept a day."""

    def seen(self, agent: Agent, at: datetime) -> None:
        """The agent signed in or took work at ``at``."""

    def all(self) -> list[SeenAgent]:
        """Every agent seen within the last day, by username (an older sighting may linger until it expires)."""


class SavedReplyStore(Protocol):
    """Leads' saved replies: a handful of items, read whole."""

    def all(self) -> list[StoredSavedReply]:
        """Every lead's saved reply, by id."""

    def put(self, saved: StoredSavedReply) -> None:
        """Add it, or replace the one of the same id."""

    def delete(self, reply_id: str) -> bool:
        """Remove it; False if there was none of that id."""


@dataclass(frozen=True)
class WordHit:
    """A ticket a word was written in: its id and its place in the word's list (``order``: the ticket's first
    contact as fixed-width UTC text, so that the list reads newest first)."""

    ticket_id: str
    order: str


@dataclass(frozen=True)
class WordPage:
    """The newest tickets a word was written in, newest first, read by one bounded query; ``complete``: every
    ticket the word is indexed for is here (the read stopped before its limit)."""

    hits: list[WordHit]
    complete: bool


class WordIndex(Protocol):
    """The words customers wrote (``domain.words``), brand-wide: one item per word and ticket, found by word; beside
    them, per ticket, the list of what was written for it, so that erasure deletes exactly that. Kept as long as
    tickets are (the retention, from the last message that wrote the word)."""

    def add(self, ticket_id: str, first_contact_at: datetime, message_key: str, words: Sequence[str]) -> None:
        """Index the words of one message of the ticket (at most ``domain.words.MAX_WORDS``): one batch write with
        the ticket's list of written words. Writing the same message again changes nothing."""

    def tickets(self, word: str, limit: int) -> WordPage:
        """The newest ``limit`` tickets the word was written in (one query; never more)."""

    def having(self, word: str, hits: Sequence[WordHit]) -> set[str]:
        """Which of these tickets the word was written in (batch reads by key, 100 a call)."""

    def forget(self, ticket_id: str) -> int:
        """Delete every word item written for the ticket and its list (a data-protection request); how many word
        items were deleted."""


class ReportFigureStore(Protocol):
    """Each ticket's figures for the leads' reports (``domain.reports.TicketFigures``), rewritten whole at each of its
    milestones and read by first-contact time: a report reads these rows, never the tickets. Kept as long as
    tickets are (the retention); no customer data."""

    def record(self, figures: TicketFigures) -> None:
        """The ticket's figures; an older version of the same ticket (a lower ``version``) never replaces a newer."""

    def note_busy(self, ticket_id: str, first_contact_at: datetime, lower: int, upper: int) -> None:
        """The busy acknowledgement's range (minutes) told to the customer, kept beside the ticket's figures."""

    def between(self, start: datetime, end: datetime) -> list[TicketFigures]:
        """The figures of the tickets first contacted in ``[start, end)``, one per ticket (the newest version),
        ordered by first contact."""


class WhatsAppStatuses(Protocol):
    """The WhatsApp statuses of the brand's own messages (sent, delivered, read, failed), for the agent reading a
    ticket: one entry per (message, status), so that statuses arriving out of order (Meta does not keep their order)
    or twice need no read before the write. No phone number is kept: the message id names the ticket."""

    def record(self, message_id: str, status: str, value: JsonObject) -> None:
        """Keep ``status`` of ``message_id`` (the ``wamid``); the same status again replaces the first."""

    def of(self, message_id: str) -> dict[str, JsonObject]:
        """Every status recorded for ``message_id``, by status."""

    def for_ticket(self, ticket_id: str) -> dict[str, dict[str, JsonObject]]:
        """Every status recorded for the messages sent on ``ticket_id`` (those recorded with it), by message id."""


@dataclass(frozen=True)
class Sighting:
    """A message that named one of the brand's places (``listening.places``): the place as the brand file spells it,
    when it was written, where, on which ticket, by whom, its first 280 characters and its permalink. The mention
    key names it: the same message delivered again is the same sighting."""

    place: str
    at: datetime
    channel: str
    ticket_id: str
    mention_key: str
    author: str = ""
    text: str = ""
    link: str = ""


@dataclass(frozen=True)
class Suggestion:
    """A suggested incident at one place (``usecases.suggested_incidents``): ``suggested`` until a lead declares it
    (``declared``, with the incident's id) or dismisses it (``dismissed``); ``since``: the first post of the burst;
    ``last_at``: the latest post counted for it (the quiet time runs from there)."""

    suggestion_id: str
    place: str
    status: str
    since: datetime
    last_at: datetime
    decided_by: str = ""
    decided_at: datetime | None = None
    incident_id: str = ""
    version: int = 0  # as stored: every write moves it on (``PlaceSightings.put_suggestion`` compares it)


class PlaceSightings(Protocol):
    """The messages that named each place over the last day or two, and each place's suggested incident: one write
    per place a message names, one query of a place's window when counting, one item per place for its suggestion
    (the newest; a new burst after the last one was over replaces it)."""

    def add(self, sighting: Sighting) -> None:
        """Keep the sighting (the same place, time and mention key again replaces it: no second count)."""

    def between(self, place: str, start: datetime, end: datetime) -> list[Sighting]:
        """The place's sightings written in ``[start, end]``, oldest first, one per mention key (one query)."""

    def forget(self, place: str, at: datetime, mention_key: str) -> None:
        """Delete one sighting (a data-protection request: it holds the customer's words and handle)."""

    def suggestion(self, place: str) -> Suggestion | None:
        """The place's newest suggestion (None: never, or expired)."""

    def suggestions(self) -> list[Suggestion]:
        """Every place's newest suggestion, by place (one query)."""

    def put_suggestion(self, suggestion: Suggestion, *, expected: int | None) -> bool:
        """Write the place's suggestion (its ``version`` becomes ``expected`` + 1) if the stored one is still at
        version ``expected`` (None: there is none): the one decision when two messages reach the burst at once, or two
        leads declare at once. False when somebody wrote it first."""
