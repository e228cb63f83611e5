"""The stores on DynamoDB (pynamodb): the ``store.ports`` contract, each store owning its key format and TTL.

Four tables (``infra/template.yaml``): mentions, tickets, customer identities, and a small ``state`` table whose
items belong to purpose-named stores below. Every key family of the state table is spelled in this module only:

| store            | pk                          | sk                    | TTL             |
|------------------|-----------------------------|-----------------------|-----------------|
| DynamoCustomers  | ``open#<customer id>``      | ``ticket``            | retention       |
| DynamoThreads    | ``msg#<channel>#<ext id>``  | ``ticket``            | retention       |
| DynamoAckLedger  | ``ack#<ticket id>``         | ``once``              | retention       |
| DynamoOutbox     | ``sent``                    | ``<idempotency key>`` | retention       |
| DynamoAllowance  | ``rate``                    | ``<channel>``         | 2 days          |
| DynamoWaitingRoom| ``wait#<channel>``          | ``<order>``           | retention       |
| DynamoIncidents  | ``incident``                | ``<incident id>``     | none (audit)    |
| DynamoIncidents  | ``followup#<inc>#<change>`` | ``<ticket id>``       | retention       |
| DynamoIncidents  | ``incident-resolution``     | ``<incident id>``     | retention       |
| DynamoCursors    | ``cursor``                  | ``<poller>``          | none            |
| DynamoFormLimit  | ``form-rate``               | ``<client>#<window>`` | 2 hours         |
| DynamoAnswers    | ``answers#<desk>``          | ``<UTC hour>``        | hour + 3 days   |
| DynamoSandbox    | ``sandbox#outbox``          | ``<at>#<key>``        | 7 days          |
| DynamoNotifyLog  | ``sandbox#notify``          | ``<at>#<key>``        | 7 days          |
| DynamoLocalPosts | ``sandbox#listen#<channel>``| ``<at>#<post id>``    | 1 day           |
| DynamoSavedReplies| ``saved-reply``            | ``<saved reply id>``  | none            |
| DynamoPresence    | ``agent-seen``             | ``<username>``        | 1 day           |
| DynamoSavedViews  | ``saved-view#<username>``  | ``<view name>``       | none            |
| DynamoWordIndex   | ``words#<word>``           | ``<first contact>#<ticket id>`` | retention |
| DynamoWordIndex   | ``wordlist#<ticket id>``   | ``<message key>``     | retention       |
| DynamoDeskConsumers| ``consumer``              | ``<desk>``            | none            |
| DynamoTeamFeedMarks| ``feed-thread#<dest>``    | ``<ticket id>``       | retention       |
| DynamoTeamFeedMarks| ``feed-digest``           | ``<desk>``            | none            |
| DynamoTeamFeedMarks| ``feed-handed#<desk>``    | ``<ticket>#<event>…`` | 15 days         |
| DynamoReportFigures| ``report#<UTC month>``    | ``<first contact>#<ticket id>`` | retention |
| DynamoWhatsAppStatuses| ``wa-status#<wamid>`` | ``<status>``          | 30 days         |
| DynamoWhatsAppStatuses| ``wa-status-ticket#<ticket>`` | ``<wamid>#<status>`` | 30 days  |
| DynamoPlaceSightings| ``sighting#<place>``       | ``<written at>#<mention key>`` | 2 days |
| DynamoPlaceSightings| ``suggested``               | ``<place>``           | 2 days          |

``sent/<key>`` is the outbox's one item per message: created with the sending lease (``lease``, its expiry) by the
one conditional write that also tells a duplicate (``ALL_OLD``), and kept: that the message went out is recorded on
its ticket (``sent_keys``, with the timeline entry). ``rate/<channel>`` holds the outbound rate as a theoretical
arrival time (``tat``, GCRA: a token bucket in one number) and the paid-API spend of the current day in
micro-dollars (``ref``: the day, ``count``), both changed by one conditional update per send. ``rate/x-reads``
counts listening's X search reads the same way (``charge``: a page's cost once it is read; no token).

Conditional writes ask for the item as it was when the condition failed (``ReturnValuesOnConditionCheckFailure``),
so "create unless it exists, else tell me what is there" is one call, never a write and a read.

``answers#<desk>`` holds one atomic counter (``count``) per UTC hour, its sort key the hour as fixed-width text
(``2026-11-30T09``) so that a key range is a time range; ``count_since`` sums whole hours, the first one counted
only if it starts at or after ``since`` (``store.ports.AnswerCounts``).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from chalicelib.domain.agent import Agent
from chalicelib.domain.busy import hour_ceil, hour_floor
from chalicelib.domain.config.saved_replies import SavedReply
from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.history import Event, Received
from chalicelib.domain.incident import Incident
from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.keys import channel_of
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.reports import TicketFigures
from chalicelib.domain.ticket import CLAIMED, OPEN_STATUSES, WAITING, Ticket
from chalicelib.domain.vocabulary import Intent, Priority, TicketStatus, maybe_tone
from chalicelib.store.codec import event_from_row, event_record, upgraded
from chalicelib.store.models import CustomerIdentityModel, MentionModel, StateModel, TicketModel, TimelineEvent
from chalicelib.store.ports import (
    ACQUIRED,
    HELD,
    LAPSED,
    SENT,
    Allowance,
    AlreadyExists,
    Charge,
    ConcurrentUpdate,
    DigestMark,
    QueueMark,
    QueuePage,
    R,
    Registered,
    SavedView,
    SeenAgent,
    Sighting,
    StoredMention,
    StoredSavedReply,
    Suggestion,
    TriageLabel,
    Updated,
    WaitingMessage,
    WordHit,
    WordPage,
)
from chalicelib.store.tickets import update_with_retries

#: Active incidents are read once per this many seconds per container, not once per acknowledgement: a declared
#: incident reaches every acknowledgement within this time (at once in the container that declared it).
ACTIVE_CACHE_SECONDS = 15.0


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _save_if(item: Any, condition: Any) -> bool:
    """Save ``item`` if ``condition`` holds; False (not an error) when it does not."""
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise


def _update_if(item: Any, actions: list[Any], condition: Any) -> bool:
    """Update ``item`` if ``condition`` holds; False (not an error) when it does not. On success, ``item`` holds the
    item as it is after the update."""
    try:
        item.update(actions=actions, condition=condition, add_version_condition=False)
        return True
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise


#: An item as DynamoDB's API returns it (attribute name to its typed value, ``{"N": "3"}``), read by pynamodb's
#: ``from_raw_data``
RawItem = dict[str, dict[str, object]]


def _or_old(item: Any, operation: str, kwargs: dict[str, object]) -> RawItem | None:
    """One conditional write that returns, when its condition fails, the item as it was (``ALL_OLD``): None if
    written, else the raw old item (``{}`` if there was none). pynamodb drops that item from its errors, so the
    request it builds goes through its botocore client."""
    client = type(item)._get_connection().connection.client
    try:
        getattr(client, operation)(**kwargs)
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return dict(exc.response.get("Item") or {})
        raise


def _put_or_old(item: Any, condition: Any) -> RawItem | None:
    return _or_old(item, "put_item", item.get_save_kwargs_from_instance(
        condition=condition, return_values_on_condition_failure="ALL_OLD"))


def _update_or_old(item: Any, actions: list[Any], condition: Any) -> RawItem | None:
    return _or_old(item, "update_item", item.get_update_kwargs_from_instance(
        actions, condition, "ALL_OLD", add_version_condition=False))


def _update_tat_or_old(item: Any, actions: list[Any], condition: Any) -> tuple[float | None, RawItem | None]:
    """``_update_or_old`` that also answers, when written, the rate's new ``tat`` (``UPDATED_NEW``: the same one
    call)."""
    kwargs = item.get_update_kwargs_from_instance(actions, condition, "ALL_OLD", add_version_condition=False)
    kwargs["ReturnValues"] = "UPDATED_NEW"
    client = type(item)._get_connection().connection.client
    try:
        response = client.update_item(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None, dict(exc.response.get("Item") or {})
        raise
    tat = (response.get("Attributes") or {}).get("tat", {}).get("N")
    return (float(tat) if tat is not None else None), None


_M = TypeVar("_M", bound=Model)


def _get(model: type[_M], hash_key: str, range_key: str | None = None, *, consistent: bool = False) -> _M | None:
    try:
        return model.get(hash_key, range_key, consistent_read=consistent)
    except model.DoesNotExist:
        return None


def _delete(item: Any) -> None:
    with contextlib.suppress(DeleteError):
        item.delete()


# ------------------------------------------------------------------------------------------------ mentions
class DynamoMentions:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def add_or_existing(self, mention: Mention, received_at: datetime, *, owner: str = "") -> StoredMention | None:
        item = MentionModel(
            mention.key, channel=mention.channel, external_id=mention.external_id,
            conversation_key=mention.conversation_key, author_key=mention.identity_key,
            created_at=mention.created_at, received_at=received_at, mention=mention.to_dict(),
            owner=owner or None, expires_at=self._retention)
        old = _put_or_old(item, MentionModel.pk.does_not_exist())
        if old is None:
            return None
        if not old:  # deleted between the condition and the answer: store it now
            return self.add_or_existing(mention, received_at, owner=owner)
        return self._stored(MentionModel.from_raw_data(old))

    def add_if_new(self, mention: Mention, received_at: datetime) -> bool:
        return self.add_or_existing(mention, received_at) is None

    @staticmethod
    def _stored(item: MentionModel) -> StoredMention:
        return StoredMention(Mention.from_dict(item.mention), item.received_at, item.owner or "")

    def get(self, key: str) -> StoredMention | None:
        item = _get(MentionModel, key)
        return self._stored(item) if item is not None else None

    #: Keys per page of the author index (None: DynamoDB's 1 MB pages); the iterator follows every page.
    author_page_size: int | None = None

    def keys_for_author(self, author_key: str) -> list[str]:
        """Every mention of one author, through the keys-only index ``by_author``: a query, never a scan (the
        deployed policy grants no ``Scan``). The index is eventually consistent: a mention stored a moment ago may
        be missing, never one stored before."""
        return [m.pk for m in MentionModel.by_author.query(author_key, page_size=self.author_page_size)]

    def delete(self, key: str) -> None:
        _delete(MentionModel(key))


# ------------------------------------------------------------------------------------------------ tickets
# The one declaration of how a Ticket becomes an item: every dataclass field is copied to the attribute of the same
# name, except those with a codec here (to item, from item). A test checks that the model has every field. The words
# of the vocabulary (status, priority, intent, tone) are stored as their plain text and read back as members.
def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _sortable(value: datetime) -> str:
    """Fixed-width UTC text, so that string order is time order (used in conditions)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event_to_item(event: Event) -> TimelineEvent:
    kind, data = event_record(event)
    return TimelineEvent(at=event.at, kind=kind, data=data)


def _event_from_item(item: TimelineEvent) -> Event:
    return event_from_row(item.at, item.kind, getattr(item, "data", None), item.detail or "",
                          getattr(item, "reply", None))


def _decision(value: TriageDecision | None) -> dict[str, Any] | None:
    return value.to_dict() if value is not None else None


def _read_decision(value: dict[str, Any] | None) -> TriageDecision | None:
    return TriageDecision.from_dict(value) if value else None


_TICKET_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "first_contact_at": (_iso, datetime.fromisoformat),
    "reply_target": (lambda t: t.to_dict() if t else None, lambda d: ReplyTarget.from_dict(d) if d else None),
    "references": (lambda r: r or None, lambda r: dict(r or {})),
    "timeline": (lambda events: [_event_to_item(e) for e in events],
                 lambda items: [_event_from_item(e) for e in (items or [])]),
    "decision": (_decision, _read_decision),
    "relabel": (_decision, _read_decision),
    "mention_keys": (list, lambda v: list(v or [])),
    "conversations": (list, lambda v: list(dict.fromkeys(v or []))),  # ``join_open`` appends without a read
    "suggested_links": (list, lambda v: list(v or [])),
    "sent_keys": (list, lambda v: list(v or [])),
    "reopened": (int, lambda v: int(v or 0)),
    "flags": (list, lambda v: list(v or [])),
    "reasons": (list, lambda v: list(v or [])),
    "acked": (bool, bool),
    "status": (str, TicketStatus),
    "priority": (str, Priority),
    "intent": (str, Intent),
    "tone": (lambda v: str(v) or None, maybe_tone),
    "breached": (bool, bool),
    "version": (int, lambda v: int(v or 0)),
}
_TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
_IDENTITY = (lambda v: v, lambda v: v)


def ticket_to_item(ticket: Ticket, retention: timedelta | None) -> TicketModel:
    values = {name: _TICKET_CODECS.get(name, _IDENTITY)[0](getattr(ticket, name)) for name in _TICKET_FIELDS}
    queued = ticket.status in OPEN_STATUSES  # the backlog index: "<desk>#<status>" while open (queue_page)
    ticket_id = values.pop("ticket_id")
    return TicketModel(ticket_id, **values, backlog_key=f"{ticket.desk}#{ticket.status}" if queued else None,
                       backlog_order=ticket.backlog_order if queued else None,
                       open_status=str(ticket.status) if ticket.status in OPEN_STATUSES else None,
                       expires_at=retention)


def ticket_from_item(item: TicketModel) -> Ticket:
    """The ticket an item holds; a row written before the decision and replies were typed is read through
    ``codec.upgraded`` (the one reader of their old prose)."""
    return upgraded(Ticket(**{name: _TICKET_CODECS.get(name, _IDENTITY)[1](getattr(item, name))
                              for name in _TICKET_FIELDS}))


class DynamoTickets:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def get(self, ticket_id: str) -> Ticket | None:
        # strongly consistent: a ticket saved a moment ago (by another message of the same customer) is seen
        item = _get(TicketModel, ticket_id, consistent=True)
        return ticket_from_item(item) if item is not None else None

    def add(self, ticket: Ticket) -> None:
        ticket.version = 1
        if not _save_if(ticket_to_item(ticket, self._retention), TicketModel.ticket_id.does_not_exist()):
            raise AlreadyExists(ticket.ticket_id)

    def save(self, ticket: Ticket) -> None:
        expected = ticket.version
        ticket.version = expected + 1
        try:
            saved = _save_if(ticket_to_item(ticket, self._retention), TicketModel.version == expected)
        except Exception:
            ticket.version = expected
            raise
        if not saved:
            ticket.version = expected
            raise ConcurrentUpdate(ticket.ticket_id)

    def update(self, ticket_id: str, change: Callable[[Ticket], R], *, current: Ticket | None = None,
               attempts: int = 5) -> Updated[R] | None:
        return update_with_retries(self, ticket_id, change, current=current, attempts=attempts)

    def append_event(self, ticket_id: str, event: Event, *, sent_key: str = "",
                     release_ack_lease: bool = False) -> bool:
        """One ``UpdateItem``: ``list_append`` on the timeline (and on ``sent_keys``) and the version moved on (so a
        save from an earlier read is refused and re-applied, never overwriting the entry); no read."""
        entry = _event_to_item(event)
        actions = [TicketModel.timeline.set(TicketModel.timeline.append([entry])), TicketModel.version.add(1)]
        if sent_key:
            actions.append(TicketModel.sent_keys.set((TicketModel.sent_keys | []).append([sent_key])))
        if release_ack_lease:
            actions.append(TicketModel.ack_lease.remove())
        return _update_if(TicketModel(ticket_id), actions, TicketModel.ticket_id.exists())

    def release_ack_lease(self, ticket_id: str) -> None:
        _update_if(TicketModel(ticket_id), [TicketModel.ack_lease.remove(), TicketModel.version.add(1)],
                   TicketModel.ticket_id.exists())

    def join_open(self, ticket_id: str, customer_id: str, mention_key: str, at: datetime,
                  conversation_key: str = "") -> Ticket | None:
        """One ``UpdateItem`` returning the new item; the conversation is appended even if the ticket has it (read
        back without repeats), so that no read decides it."""
        item = TicketModel(ticket_id)
        actions = [TicketModel.mention_keys.set(TicketModel.mention_keys.append([mention_key])),
                   TicketModel.timeline.set(TicketModel.timeline.append(
                       [_event_to_item(Received(at, channel_of(mention_key), follow_up=True))])),
                   TicketModel.last_customer_at.set(at), TicketModel.version.add(1)]
        if conversation_key:
            actions.append(TicketModel.conversations.set((TicketModel.conversations | []).append([conversation_key])))
        condition = ((TicketModel.customer_id == customer_id) & TicketModel.status.is_in(WAITING, CLAIMED)
                     & ~TicketModel.mention_keys.contains(mention_key) & (TicketModel.last_customer_at <= at))
        return ticket_from_item(item) if _update_if(item, actions, condition) else None

    def backlog(self, desk: str, limit: int = 100) -> list[Ticket]:
        return [ticket_from_item(i) for i in TicketModel.backlog.query(f"{desk}#{WAITING}", limit=limit)]

    def backlog_count(self, desk: str) -> int:
        return int(TicketModel.backlog.count(f"{desk}#{WAITING}"))

    def queue_page(self, desk: str, status: str = WAITING, *, after: QueueMark | None = None, limit: int = 50,
                   urgent: bool | None = None) -> QueuePage:
        """One query of the backlog index from ``after`` (given to DynamoDB as the index's ``ExclusiveStartKey``:
        the table key and the index key), at most ``limit`` items read."""
        limit = max(1, limit)
        key = f"{desk}#{status}"
        start = None if after is None else {"ticket_id": {"S": after.ticket_id}, "backlog_key": {"S": key},
                                            "backlog_order": {"S": after.order}}
        condition = None if urgent is None else TicketModel.backlog_order.startswith("0#" if urgent else "1#")
        if status not in OPEN_STATUSES:
            return QueuePage([], None)
        found = [ticket_from_item(i) for i in TicketModel.backlog.query(
            key, condition, limit=limit, page_size=limit, last_evaluated_key=start)]
        last = found[-1] if len(found) == limit else None
        return QueuePage(found, QueueMark(last.backlog_order, last.ticket_id) if last is not None else None)

    def open_tickets(self) -> Iterator[Ticket]:
        """Open tickets through the sparse ``open_work`` index: a read per open ticket, whatever the table holds."""
        for status in OPEN_STATUSES:
            for item in TicketModel.open_work.query(status):
                yield ticket_from_item(item)

    def claimed(self) -> Iterator[Ticket]:
        for item in TicketModel.open_work.query(CLAIMED):
            yield ticket_from_item(item)

    def for_customer(self, customer_id: str) -> list[Ticket]:
        ids = [i.ticket_id for i in TicketModel.by_customer.query(customer_id)]
        return [t for t in (self.get(i) for i in ids) if t is not None]

    def delete(self, ticket_id: str) -> None:
        _delete(TicketModel(ticket_id))


# ------------------------------------------------------------------------------------------------ customers
class DynamoCustomers:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def register(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                 display_name: str = "", at: datetime) -> Registered:
        item = CustomerIdentityModel(identity, customer_id=new_customer_id, channel=channel,
                                     handle=handle or None, display_name=display_name or None,
                                     first_seen_at=at, expires_at=self._retention)
        for _ in range(3):
            old = _put_or_old(item, CustomerIdentityModel.pk.does_not_exist())
            if old is None:
                return Registered(new_customer_id, True, handle)
            if old:  # else deleted meanwhile (a data-protection request): register it
                known = CustomerIdentityModel.from_raw_data(old)
                return Registered(str(known.customer_id), False, known.handle or "")
        raise ConcurrentUpdate(identity)

    def resolve(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                display_name: str = "", at: datetime) -> str:
        return self.register(identity, new_customer_id, channel=channel, handle=handle, display_name=display_name,
                             at=at).customer_id

    def lookup(self, identity: str) -> str | None:
        item = _get(CustomerIdentityModel, identity)
        return item.customer_id if item is not None else None

    def identities(self, customer_id: str) -> list[str]:
        return [i.pk for i in CustomerIdentityModel.by_customer.query(customer_id)]

    def relink(self, identity: str, customer_id: str) -> None:
        if not _update_if(CustomerIdentityModel(identity), [CustomerIdentityModel.customer_id.set(customer_id)],
                          CustomerIdentityModel.pk.exists()):
            raise KeyError(identity)

    def delete(self, identity: str) -> None:
        _delete(CustomerIdentityModel(identity))

    # the open-ticket pointer lives in the state table: pk "open#<customer id>", sk "ticket", ref = ticket id
    _OPEN, _SK = "open", "ticket"

    def open_ticket(self, customer_id: str) -> str | None:
        # strongly consistent: the pointer decides between concurrent messages (and a merge a moment ago wrote it)
        item = _get(StateModel, f"{self._OPEN}#{customer_id}", self._SK, consistent=True)
        return item.ref if item is not None else None

    def point_open_ticket(self, customer_id: str, ticket_id: str, *, expected: str | None) -> bool:
        condition = StateModel.pk.does_not_exist() if expected is None else StateModel.ref == expected
        item = StateModel(f"{self._OPEN}#{customer_id}", self._SK, ref=ticket_id, expires_at=self._retention)
        return _save_if(item, condition)

    def forget_open_ticket(self, customer_id: str) -> None:
        _delete(StateModel(f"{self._OPEN}#{customer_id}", self._SK))


# ------------------------------------------------------------------------------------------------ the state table
class _State:
    """Helpers over the state table for the purpose-named stores below."""

    def __init__(self, retention: timedelta):
        self._retention = retention

    @staticmethod
    def _item(pk: str, sk: str) -> StateModel | None:
        return _get(StateModel, pk, sk)

    @staticmethod
    def _claim(pk: str, sk: str, *, value: Any = None, ref: str | None = None,
               ttl: timedelta | None = None) -> bool:
        return _save_if(StateModel(pk, sk, value=value, ref=ref, expires_at=ttl), StateModel.pk.does_not_exist())

    @staticmethod
    def _put(pk: str, sk: str, *, value: Any = None, ref: str | None = None, ttl: timedelta | None = None) -> None:
        StateModel(pk, sk, value=value, ref=ref, expires_at=ttl).save()

    @staticmethod
    def _delete(pk: str, sk: str) -> None:
        _delete(StateModel(pk, sk))


class DynamoThreads(_State):
    _MSG, _SK = "msg", "ticket"

    def sent_message_ticket(self, channel: str, external_id: str) -> str | None:
        item = self._item(f"{self._MSG}#{channel}#{external_id}", self._SK)
        return item.ref if item is not None else None

    def remember_sent_message(self, channel: str, external_id: str, ticket_id: str) -> None:
        self._put(f"{self._MSG}#{channel}#{external_id}", self._SK, ref=ticket_id, ttl=self._retention)


class DynamoAckLedger(_State):
    _PK, _SK = "ack", "once"

    def begin(self, ticket_id: str, kind: str) -> bool:
        return self._claim(f"{self._PK}#{ticket_id}", self._SK, value={"queued": False, "kind": kind},
                           ttl=self._retention)

    def start(self, ticket_id: str, kind: str) -> bool:
        item = StateModel(f"{self._PK}#{ticket_id}", self._SK, value={"queued": False, "kind": kind},
                          expires_at=self._retention)
        old = _put_or_old(item, StateModel.pk.does_not_exist())
        if not old:  # marked by this call (or the mark was forgotten meanwhile)
            return True
        return not (StateModel.from_raw_data(old).value or {}).get("queued")

    def is_queued(self, ticket_id: str) -> bool:
        item = self._item(f"{self._PK}#{ticket_id}", self._SK)
        return bool(item is not None and (item.value or {}).get("queued"))

    def mark_queued(self, ticket_id: str, kind: str, at: datetime) -> None:
        self._put(f"{self._PK}#{ticket_id}", self._SK, value={"queued": True, "kind": kind, "at": at.isoformat()},
                  ttl=self._retention)

    def forget(self, ticket_id: str) -> None:
        self._delete(f"{self._PK}#{ticket_id}", self._SK)


class DynamoOutbox(_State):
    """One item per idempotency key, ``sent/<key>``: the sending lease, taken before the send and kept after it
    (the ticket records that the message went out)."""

    _SENT = "sent"

    def acquire_lease(self, key: str, now: datetime, hold: timedelta) -> str:
        # one conditional put: it takes the lease, or answers with what is there (a lease whose expiry is compared
        # with now: never left to TTL deletion, which is asynchronous)
        item = StateModel(self._SENT, key, lease=_sortable(now + hold), expires_at=self._retention)
        for _ in range(3):
            old = _put_or_old(item, StateModel.pk.does_not_exist())
            if old is None:
                return ACQUIRED
            if old:
                current = StateModel.from_raw_data(old)
                if "external_id" in (current.value or {}):
                    return SENT  # a sent record of the earlier format
                return HELD if current.lease and current.lease > _sortable(now) else LAPSED
        return HELD

    def release_lease(self, key: str) -> None:
        """Drop this attempt's lease. A delete that fails (throttled, a 5xx) is tried again, up to three times: a
        lease left behind makes the next attempt park the message as "outcome unknown" although nothing was sent."""
        for tries_left in (2, 1, 0):
            try:
                StateModel(self._SENT, key).delete(condition=StateModel.lease.exists())
                return
            except DeleteError as exc:
                if _conditional_failed(exc) or not tries_left:  # no lease to drop; or give up (it lapses)
                    return


class DynamoAllowance(_State):
    """Per channel, one item ``rate/<channel>``: the outbound rate as GCRA and the paid-API spend of the current day.

    ``tat`` is when the bucket is full again (epoch seconds); a send moves it ``60 / per_minute`` seconds on and is
    refused while it would end more than a full bucket ahead. ``ref`` is the spend's day, ``count`` its micro-dollars:
    a charge adds to the count of the same day, or starts a new day's count. Each send is one conditional update
    whose condition covers both; its variant (rate idle or busy, same day or a new one) is the one this container
    saw last, and a refusal returns the stored item (``ALL_OLD``), which says why or which variant applies: one
    call, two when the guess was wrong."""

    _PK = "rate"

    def __init__(self, retention: timedelta):
        super().__init__(retention)
        self._seen_tat: dict[str, float] = {}
        self._seen_day: dict[str, str] = {}

    def take(self, channel: str, now: datetime, per_minute: float, charge: Charge | None = None, *,
             within: float = 0.0) -> Allowance:
        interval, at = 60.0 / per_minute, now.timestamp()
        burst = max(0.0, per_minute - 1) * interval  # how far ahead ``tat`` may be before a send now (a bucket of
        # one below one a minute)
        ahead = burst + max(0.0, within)  # ... and before a reservation within ``within`` seconds
        if charge is not None and charge.micros > charge.limit_micros:
            return Allowance(over_budget=True)
        busy = self._seen_tat.get(channel, 0.0) > at
        same_day = charge is not None and self._seen_day.get(channel) == charge.day
        for _ in range(4):
            actions: list[Any] = [StateModel.expires_at.set(timedelta(days=2))]  # type: ignore[arg-type]  # a TTL takes a timedelta (from now)
            if busy:
                actions.append(StateModel.tat.add(interval))
                condition = (StateModel.tat > at) & (StateModel.tat <= at + ahead)
            else:
                actions.append(StateModel.tat.set(at + interval))
                condition = StateModel.tat.does_not_exist() | (StateModel.tat <= at)
            if charge is not None:
                if same_day:
                    actions.append(StateModel.count.add(charge.micros))
                    condition &= (StateModel.ref == charge.day) & (
                        StateModel.count <= charge.limit_micros - charge.micros)
                else:
                    actions += [StateModel.ref.set(charge.day), StateModel.count.set(charge.micros)]
                    condition &= StateModel.ref.does_not_exist() | (StateModel.ref != charge.day)
            new_tat, old = _update_tat_or_old(StateModel(self._PK, channel), actions, condition)
            if old is None:
                self._seen_tat[channel] = new_tat if new_tat is not None else \
                    max(self._seen_tat.get(channel, at), at) + interval
                if charge is not None:
                    self._seen_day[channel] = charge.day
                # this token's slot: the earliest time the bucket allowed it (now, unless it was reserved ahead)
                slot_in = max(0.0, new_tat - interval - burst - at) if new_tat is not None else 0.0
                return Allowance(slot_in=slot_in)
            stored = StateModel.from_raw_data(old) if old else None
            tat = float(stored.tat or 0.0) if stored is not None else 0.0
            self._seen_tat[channel] = tat
            if charge is not None:
                day = stored.ref if stored is not None else None
                if day == charge.day and int(stored.count or 0) + charge.micros > charge.limit_micros:  # type: ignore[union-attr]
                    self._seen_day[channel] = day
                    return Allowance(over_budget=True)
                same_day = day == charge.day
            if tat > at + ahead:
                return Allowance(wait=tat - (at + ahead))
            busy = tat > at
        return Allowance(wait=interval)

    def refund(self, channel: str, day: str, micros: int) -> None:
        # a day that is over is not changed
        _update_if(StateModel(self._PK, channel), [StateModel.count.add(-micros)], StateModel.ref == day)

    def spent(self, channel: str, day: str) -> int:
        item = self._item(self._PK, channel)
        return int(item.count or 0) if item is not None and item.ref == day else 0

    def charge(self, channel: str, day: str, micros: int) -> int:
        """An ``ADD`` to the same day's count, else a new day's count (each conditional, so two runs that start a
        day at once both count: the loser adds to the winner's)."""
        for _ in range(4):
            item = StateModel(self._PK, channel)
            ttl: Any = timedelta(days=2)  # a TTL takes a timedelta (from now)
            if _update_if(item, [StateModel.count.add(micros), StateModel.expires_at.set(ttl)],
                          StateModel.ref == day):
                return int(item.count or 0)
            if _update_if(item, [StateModel.ref.set(day), StateModel.count.set(micros),
                                 StateModel.expires_at.set(ttl)],
                          StateModel.ref.does_not_exist() | (StateModel.ref != day)):
                return micros
        raise RuntimeError(f"the day's spend of {channel} could not be counted")


class DynamoWaitingRoom(_State):
    """``wait#<channel>`` / ``<order>``: an outbound message waiting for its channel's rate, its place the sort key
    (``domain.outbound.waiting_order``: urgent first, then acknowledgements, oldest first), so the next ones are one
    query. Taken by a conditional delete that returns the item (two dispatchers never both take one)."""

    _PK = "wait"

    def add(self, channel: str, order: str, message: JsonObject) -> None:
        StateModel(f"{self._PK}#{channel}", order, value=message, expires_at=self._retention).save()

    def first(self, channel: str, limit: int) -> list[WaitingMessage]:
        return [WaitingMessage(channel, item.sk, dict(item.value or {}))
                for item in StateModel.query(f"{self._PK}#{channel}", limit=limit, consistent_read=True)]

    def take(self, channel: str, order: str) -> JsonObject | None:
        item = StateModel(f"{self._PK}#{channel}", order)
        kwargs = item.get_delete_kwargs_from_instance(condition=StateModel.pk.exists(),
                                                      add_version_condition=False)
        kwargs["ReturnValues"] = "ALL_OLD"
        client = StateModel._get_connection().connection.client
        try:
            response = client.delete_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        old = response.get("Attributes")
        return dict(StateModel.from_raw_data(old).value or {}) if old else None

    def count(self, channel: str) -> int:
        # ``StateModel.count`` is an attribute (the counters'), so the query's COUNT goes through the client
        client, total, start = StateModel._get_connection().connection.client, 0, None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": StateModel.Meta.table_name, "Select": "COUNT", "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"{self._PK}#{channel}"}}}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = client.query(**kwargs)
            total += int(page.get("Count", 0))
            start = page.get("LastEvaluatedKey")
            if not start:
                return total


class DynamoIncidents(_State):
    _PK, _FOLLOW_UP, _RESOLUTION = "incident", "followup", "incident-resolution"

    def __init__(self, retention: timedelta, monotonic: Callable[[], float] = time.monotonic):
        super().__init__(retention)
        self._monotonic = monotonic
        self._cache: tuple[float, list[Incident]] | None = None

    def put(self, incident: Incident) -> None:
        self._put(self._PK, incident.incident_id, value=incident.to_dict())
        self._cache = None

    def get(self, incident_id: str) -> Incident | None:
        item = self._item(self._PK, incident_id)
        return Incident.from_dict(item.value) if item is not None and item.value else None

    def all(self) -> list[Incident]:
        return [Incident.from_dict(i.value) for i in StateModel.query(self._PK) if i.value]

    def active(self) -> list[Incident]:
        now = self._monotonic()
        if self._cache is None or now - self._cache[0] > ACTIVE_CACHE_SECONDS:
            self._cache = (now, [i for i in self.all() if i.active])
        return self._cache[1]

    def claim_follow_up(self, incident_id: str, change: str, ticket_id: str) -> bool:
        return self._claim(f"{self._FOLLOW_UP}#{incident_id}#{change}", ticket_id, ttl=self._retention)

    def claim_resolution(self, incident_id: str) -> bool:
        return self._claim(self._RESOLUTION, incident_id, ttl=self._retention)


class DynamoCursors(_State):
    _PK = "cursor"

    def get(self, name: str) -> dict[str, Any]:
        item = self._item(self._PK, name)
        return dict(item.value) if item is not None and item.value else {}

    def put(self, name: str, cursor: dict[str, Any]) -> None:
        self._put(self._PK, name, value=cursor)


class DynamoFormLimit(_State):
    _PK = "form-rate"

    def try_take(self, client_key: str, window: str, limit: int) -> bool:
        """One atomic counter per client and window: ``ADD`` under the condition that the limit is not reached."""
        item = StateModel(self._PK, f"{client_key}#{window}")
        return _update_if(item, [StateModel.count.add(1),
                                 StateModel.expires_at.set(datetime.now(timezone.utc) + timedelta(hours=2))],
                          StateModel.count.does_not_exist() | (StateModel.count < limit))

    def used(self, client_key: str, window: str) -> int:
        item = self._item(self._PK, f"{client_key}#{window}")
        return int(item.count or 0) if item is not None else 0


class DynamoAnswers(_State):
    """Tickets first answered per desk and UTC hour: one item per hour, an atomic ``ADD`` per answer."""

    _PK = "answers"
    #: Long enough for any throughput window (at most a day, see ``domain.config.BusyAck``); then cleaned up.
    KEEP = timedelta(days=3)

    @staticmethod
    def _hour(t: datetime) -> str:
        return hour_floor(t).strftime("%Y-%m-%dT%H")

    def record(self, desk: str, at: datetime) -> None:
        item = StateModel(f"{self._PK}#{desk}", self._hour(at))
        item.update(actions=[StateModel.count.add(1), StateModel.expires_at.set(hour_floor(at) + self.KEEP)])

    def count_since(self, desk: str, since: datetime, now: datetime) -> int:
        first, last = hour_ceil(since), hour_floor(now)
        if first > last:
            return 0
        hours = StateModel.query(f"{self._PK}#{desk}", StateModel.sk.between(self._hour(first), self._hour(last)))
        return sum(int(item.count or 0) for item in hours)


class DynamoSandbox(_State):
    _PK = "sandbox#outbox"

    def record(self, at: datetime, key: str, message: JsonObject) -> None:
        self._put(self._PK, f"{at.isoformat()}#{key}", value=message, ttl=timedelta(days=7))

    def recent(self, limit: int = 200) -> list[JsonObject]:
        return [i.value for i in StateModel.query(self._PK, scan_index_forward=False, limit=limit)]


class DynamoLocalPosts(_State):
    """Stage local's injected listening posts: ``sandbox#listen#<channel>`` / ``<at>#<id>``, kept a day; newest
    first is one query."""

    _PK = "sandbox#listen"

    def add(self, channel: str, at: datetime, post_id: str, post: JsonObject) -> None:
        self._put(f"{self._PK}#{channel}", f"{_sortable(at)}#{post_id}", value=post, ttl=timedelta(days=1))

    def recent(self, channel: str, *, since: datetime) -> list[JsonObject]:
        # "~" sorts after "#": a post kept at exactly ``since`` is not newer than it
        return [dict(item.value or {}) for item in StateModel.query(
            f"{self._PK}#{channel}", StateModel.sk > f"{_sortable(since)}~", scan_index_forward=False)]


class DynamoNotifyLog(_State):
    """Stage local's record of team notifications: one partition, newest first; a desk's entries are picked
    while reading (a local stack's week of notices, never a deployed stage's)."""

    _PK = "sandbox#notify"

    def record(self, at: datetime, key: str, entry: JsonObject) -> None:
        self._put(self._PK, f"{at.isoformat()}#{key}", value=entry, ttl=timedelta(days=7))

    def recent(self, *, desk: str | None = None, limit: int = 200) -> list[JsonObject]:
        found: list[JsonObject] = []
        for item in StateModel.query(self._PK, scan_index_forward=False):
            entry = item.value or {}
            if desk is None or entry.get("desk") == desk:
                found.append(entry)
                if len(found) >= limit:
                    break
        return found


class DynamoTriageLabels(_State):
    """One item per labelled ticket under one partition (agents label a few tickets an hour): ``all`` is a single
    query. Kept as long as tickets are (the retention), and holds no customer text."""

    _PK = "triage#labels"

    def record(self, label: TriageLabel) -> None:
        value = {"customer_id": label.customer_id, "mention_key": label.mention_key, "intent": label.intent,
                 "urgent": label.urgent,
                 "triaged": label.triaged, "triaged_acknowledge": label.triaged_acknowledge, "agent": label.agent,
                 "at": label.at.isoformat()}
        self._put(self._PK, label.ticket_id, value=value, ttl=self._retention)

    def all(self, since: datetime | None = None) -> list[TriageLabel]:
        found = []
        for item in StateModel.query(self._PK):
            v = item.value or {}
            at = datetime.fromisoformat(v["at"])
            if since is None or at >= since:
                found.append(TriageLabel(ticket_id=item.sk, customer_id=v["customer_id"], mention_key=v["mention_key"],
                                         intent=v["intent"], urgent=bool(v["urgent"]), triaged=v["triaged"],
                                         triaged_acknowledge=v.get("triaged_acknowledge"), agent=v["agent"], at=at))
        return sorted(found, key=lambda x: (x.at, x.ticket_id))

    def forget(self, ticket_id: str) -> None:
        self._delete(self._PK, ticket_id)


class DynamoHealth(_State):
    def ping(self) -> None:
        self._item("health", "probe")


class DynamoSavedViews(_State):
    """An agent's saved views under one partition per agent: ``of`` is a single query."""

    _PK = "saved-view"

    def of(self, username: str) -> list[SavedView]:
        found = []
        for item in StateModel.query(f"{self._PK}#{username}"):
            v = item.value or {}
            query = v.get("query") or {}
            found.append(SavedView(name=item.sk, desk=str(v.get("desk", "")),
                                   query={str(k): str(q) for k, q in query.items()},
                                   at=datetime.fromisoformat(str(v["at"]))))
        return sorted(found, key=lambda view: view.name)

    def put(self, username: str, view: SavedView) -> None:
        self._put(f"{self._PK}#{username}", view.name,
                  value={"desk": view.desk, "query": dict(view.query), "at": view.at.isoformat()})

    def delete(self, username: str, name: str) -> bool:
        item = StateModel(f"{self._PK}#{username}", name)
        try:
            item.delete(condition=StateModel.pk.exists())
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


class DynamoPresence(_State):
    """Agents seen lately, one item each under one partition (a team's worth): ``all`` is a single query. Each
    expires a day after the agent was last seen."""

    _PK, _KEEP = "agent-seen", timedelta(days=1)

    def seen(self, agent: Agent, at: datetime) -> None:
        value = {"name": agent.display, "teams": list(agent.teams), "lead": agent.lead, "at": at.isoformat()}
        self._put(self._PK, agent.username, value=value, ttl=self._KEEP)

    def all(self) -> list[SeenAgent]:
        found = []
        for item in StateModel.query(self._PK):
            v = item.value or {}
            found.append(SeenAgent(username=item.sk, name=str(v.get("name") or item.sk),
                                   teams=tuple(str(t) for t in v.get("teams") or ()), lead=bool(v.get("lead")),
                                   at=datetime.fromisoformat(str(v["at"]))))
        return sorted(found, key=lambda a: a.username)


class DynamoSavedReplies(_State):
    """Leads' saved replies, one item each under one partition (a handful): ``all`` is a single query. Kept until a
    lead deletes them."""

    _PK = "saved-reply"

    def all(self) -> list[StoredSavedReply]:
        found = []
        for item in StateModel.query(self._PK):
            v = item.value or {}
            found.append(StoredSavedReply(reply=SavedReply.model_validate(v["reply"]), by=str(v.get("by", "")),
                                          at=datetime.fromisoformat(v["at"])))
        return sorted(found, key=lambda x: x.reply.id)

    def put(self, saved: StoredSavedReply) -> None:
        value = {"reply": saved.reply.model_dump(mode="json"), "by": saved.by, "at": saved.at.isoformat()}
        self._put(self._PK, saved.reply.id, value=value)

    def delete(self, reply_id: str) -> bool:
        item = StateModel(self._PK, reply_id)
        try:
            item.delete(condition=StateModel.pk.exists())
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


class DynamoDeskConsumers(_State):
    """The desk consumers' switch where no Lambda mapping exists (the local stack's runner reads it before each
    receive, as Lambda's pollers follow a mapping's state): one item per desk, ``value.on``. Absent: off."""

    _PK = "consumer"

    def enabled(self, desk: str) -> bool:
        item = self._item(self._PK, desk)
        return bool(item is not None and (item.value or {}).get("on"))

    def switch(self, desk: str, on: bool) -> bool:
        if self.enabled(desk) == on:
            return False
        self._put(self._PK, desk, value={"on": on})
        return True


class DynamoTeamFeedMarks(_State):
    """``feed-thread#<destination>``/``<ticket id>`` (ref: the platform's thread id, TTL retention) and
    ``feed-digest``/``<desk>`` (ref: when the desk's last shift-start digest was made; value: the tickets it listed and
    how many more it counted)."""

    _THREAD, _DIGEST, _HANDED = "feed-thread", "feed-digest", "feed-handed"
    _HANDED_KEEP = timedelta(days=15)  # longer than a desk queue keeps a message (14 days)

    def thread(self, destination: str, ticket_id: str) -> str | None:
        item = self._item(f"{self._THREAD}#{destination}", ticket_id)
        return item.ref if item is not None else None

    def remember_thread(self, destination: str, ticket_id: str, thread: str) -> None:
        self._put(f"{self._THREAD}#{destination}", ticket_id, ref=thread, ttl=self._retention)

    def digest(self, desk: str) -> DigestMark | None:
        item = self._item(self._DIGEST, desk)
        if item is None or not item.ref:
            return None
        value = item.value or {}
        return DigestMark(at=datetime.fromisoformat(item.ref), listed=tuple(str(r) for r in value.get("listed") or ()),
                          more=int(value.get("more") or 0))

    def mark_digest(self, desk: str, mark: DigestMark) -> None:
        self._put(self._DIGEST, desk, ref=mark.at.isoformat(), value={"listed": list(mark.listed), "more": mark.more})

    def handed_over(self, desk: str, event: str) -> bool:
        return self._item(f"{self._HANDED}#{desk}", event) is not None

    def mark_handed_over(self, desk: str, event: str) -> None:
        self._put(f"{self._HANDED}#{desk}", event, ttl=self._HANDED_KEEP)


class DynamoWordIndex(_State):
    """The words customers wrote (``store.ports.WordIndex``): ``words#<word>`` / ``<first contact>#<ticket id>``
    (``ref``: the ticket id), brand-wide so that a ticket moved to another desk or merged stays where it was
    written; beside them ``wordlist#<ticket id>`` / ``<message key>`` (``value``: the order and the words written
    for that message), which erasure reads back. A message's words and its list go in one ``BatchWriteItem`` (25
    items at most: ``domain.words.MAX_WORDS`` words and the list); every item expires with the retention."""

    _WORD, _LIST = "words", "wordlist"

    def add(self, ticket_id: str, first_contact_at: datetime, message_key: str, words: Sequence[str]) -> None:
        if not words:
            return
        order = _sortable(first_contact_at)
        with StateModel.batch_write() as batch:
            for word in dict.fromkeys(words):
                batch.save(StateModel(f"{self._WORD}#{word}", f"{order}#{ticket_id}", ref=ticket_id,
                                      value={"order": order}, expires_at=self._retention))
            batch.save(StateModel(f"{self._LIST}#{ticket_id}", message_key,
                                  value={"order": order, "words": list(dict.fromkeys(words))},
                                  expires_at=self._retention))

    def tickets(self, word: str, limit: int) -> WordPage:
        found = StateModel.query(f"{self._WORD}#{word}", scan_index_forward=False, limit=limit, page_size=limit)
        hits = [WordHit(str(item.ref), str((item.value or {}).get("order", ""))) for item in found]
        return WordPage(hits, complete=len(hits) < limit)

    def having(self, word: str, hits: Sequence[WordHit]) -> set[str]:
        keys = list(dict.fromkeys((f"{self._WORD}#{word}", f"{h.order}#{h.ticket_id}") for h in hits))
        return {str(item.ref) for item in StateModel.batch_get(keys)} if keys else set()

    def forget(self, ticket_id: str) -> int:
        written = list(StateModel.query(f"{self._LIST}#{ticket_id}", consistent_read=True))
        keys = {(f"{self._WORD}#{word}", f"{(item.value or {}).get('order')}#{ticket_id}")
                for item in written for word in (item.value or {}).get("words") or ()}
        with StateModel.batch_write() as batch:
            for pk, sk in keys:
                batch.delete(StateModel(pk, sk))
            for item in written:
                batch.delete(StateModel(item.pk, item.sk))
        return len(keys)


class DynamoReportFigures(_State):
    """One item per ticket under the UTC month of its first contact, its sort key the first contact as fixed-width
    text then the reference, so a time range is a key range: a report reads a month in one query (paged). Each
    milestone rewrites the row with one conditional ``UpdateItem`` (``count``: the ticket's version, so an older
    copy never replaces a newer); the busy acknowledgement's range is ``ref`` (``lower-upper`` minutes)."""

    _PK = "report"

    @staticmethod
    def _keys(ticket_id: str, first_contact_at: datetime) -> tuple[str, str]:
        at = first_contact_at.astimezone(timezone.utc)
        return f"report#{at:%Y-%m}", f"{at:%Y-%m-%dT%H:%M:%S.%fZ}#{ticket_id}"

    def record(self, figures: TicketFigures) -> None:
        item = StateModel(*self._keys(figures.ticket_id, figures.first_contact_at))
        _update_if(item, [StateModel.value.set(figures.to_json()), StateModel.count.set(figures.version),
                          StateModel.expires_at.set(datetime.now(timezone.utc) + self._retention)],
                   StateModel.count.does_not_exist() | (StateModel.count <= figures.version))

    def note_busy(self, ticket_id: str, first_contact_at: datetime, lower: int, upper: int) -> None:
        item = StateModel(*self._keys(ticket_id, first_contact_at))
        item.update(actions=[StateModel.ref.set(f"{lower}-{upper}"),
                             StateModel.expires_at.set(datetime.now(timezone.utc) + self._retention)])

    def between(self, start: datetime, end: datetime) -> list[TicketFigures]:
        if end <= start:
            return []
        (_, first), (_, last) = self._keys("", start), self._keys("~", end)
        month = start.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        found: dict[str, TicketFigures] = {}
        while month < end:
            for item in StateModel.query(f"report#{month:%Y-%m}", StateModel.sk.between(first, last)):
                if not item.value:
                    continue
                raw = dict(item.value)
                if item.ref and "-" in item.ref:
                    lower, _, upper = item.ref.partition("-")
                    raw["est"] = [int(lower), int(upper)]
                figures = TicketFigures.from_json(raw)
                if start <= figures.first_contact_at < end and (
                        figures.ticket_id not in found or found[figures.ticket_id].version <= figures.version):
                    found[figures.ticket_id] = figures
            month = (month + timedelta(days=32)).replace(day=1)
        return sorted(found.values(), key=lambda f: (f.first_contact_at, f.ticket_id))


class DynamoWhatsAppStatuses(_State):
    """``wa-status#<wamid>`` / ``<status>``, 30 days: what became of a WhatsApp message the brand sent (the agent
    needs it while the ticket is worked on, not for the record); the same under ``wa-status-ticket#<ticket id>`` /
    ``<wamid>#<status>`` when the message's ticket is known, so that a ticket's messages are one query."""

    _PK, _BY_TICKET = "wa-status#", "wa-status-ticket#"
    _TTL = timedelta(days=30)

    def record(self, message_id: str, status: str, value: JsonObject) -> None:
        self._put(f"{self._PK}{message_id}", status, value=dict(value), ttl=self._TTL)
        ticket_id = value.get("ticket_id")
        if isinstance(ticket_id, str) and ticket_id:
            self._put(f"{self._BY_TICKET}{ticket_id}", f"{message_id}#{status}", ttl=self._TTL,
                      value={"message_id": message_id, "status": status, "value": dict(value)})

    def of(self, message_id: str) -> dict[str, JsonObject]:
        return {item.sk: item.value or {} for item in StateModel.query(f"{self._PK}{message_id}")}

    def for_ticket(self, ticket_id: str) -> dict[str, dict[str, JsonObject]]:
        found: dict[str, dict[str, JsonObject]] = {}
        for item in StateModel.query(f"{self._BY_TICKET}{ticket_id}"):
            entry = item.value or {}
            found.setdefault(str(entry.get("message_id")), {})[str(entry.get("status"))] = entry.get("value") or {}
        return found


class DynamoPlaceSightings(_State):
    """``sighting#<place>`` / ``<written at>#<mention key>`` (the place in lower case, the time as fixed-width UTC
    text, so that a window is one key-range query; ``value``: channel, ticket, author, text, link): one item per
    place a message names, written with a plain put (the same message again is the same item). ``suggested`` /
    ``<place>`` (``ref``: the suggestion's id, ``count``: its version, ``value``: the rest): each place's newest
    suggested incident, written by a put conditional on the version it replaces. Both kept two days (``KEEP``): a
    burst is counted in minutes and a suggestion is over after an hour or so of quiet."""

    _SIGHTING, _SUGGESTED = "sighting", "suggested"
    KEEP = timedelta(days=2)

    def add(self, sighting: Sighting) -> None:
        value = {"place": sighting.place, "at": _iso(sighting.at), "channel": sighting.channel,
                 "ticket_id": sighting.ticket_id,
                 "author": sighting.author, "text": sighting.text, "link": sighting.link}
        self._put(f"{self._SIGHTING}#{sighting.place.lower()}", f"{_sortable(sighting.at)}#{sighting.mention_key}",
                  ref=sighting.mention_key, value=value, ttl=self.KEEP)

    def forget(self, place: str, at: datetime, mention_key: str) -> None:
        self._delete(f"{self._SIGHTING}#{place.lower()}", f"{_sortable(at)}#{mention_key}")

    def between(self, place: str, start: datetime, end: datetime) -> list[Sighting]:
        # the end's whole second and beyond: "<end>#~" sorts after every mention key written at ``end``
        found = StateModel.query(f"{self._SIGHTING}#{place.lower()}",
                                 StateModel.sk.between(_sortable(start), _sortable(end) + "#~"))
        once: dict[str, Sighting] = {}
        for item in found:
            v = item.value or {}
            once.setdefault(str(item.ref), Sighting(
                place=str(v.get("place") or place), at=datetime.fromisoformat(str(v["at"])),
                channel=str(v.get("channel") or ""), ticket_id=str(v.get("ticket_id") or ""),
                mention_key=str(item.ref), author=str(v.get("author") or ""), text=str(v.get("text") or ""),
                link=str(v.get("link") or "")))
        return list(once.values())

    @staticmethod
    def _suggestion(item: StateModel) -> Suggestion:
        v = item.value or {}
        decided = v.get("decided_at")
        return Suggestion(suggestion_id=str(item.ref), place=str(v["place"]), status=str(v["status"]),
                          since=datetime.fromisoformat(v["since"]), last_at=datetime.fromisoformat(v["last_at"]),
                          decided_by=str(v.get("decided_by") or ""),
                          decided_at=datetime.fromisoformat(decided) if decided else None,
                          incident_id=str(v.get("incident_id") or ""), version=int(item.count or 0))

    def suggestion(self, place: str) -> Suggestion | None:
        item = self._item(self._SUGGESTED, place.lower())
        return self._suggestion(item) if item is not None and item.value else None

    def suggestions(self) -> list[Suggestion]:
        return [self._suggestion(item) for item in StateModel.query(self._SUGGESTED, consistent_read=True)
                if item.value]

    def put_suggestion(self, suggestion: Suggestion, *, expected: int | None) -> bool:
        value = {"place": suggestion.place, "status": suggestion.status, "since": _iso(suggestion.since),
                 "last_at": _iso(suggestion.last_at), "decided_by": suggestion.decided_by,
                 "decided_at": _iso(suggestion.decided_at) if suggestion.decided_at else "",
                 "incident_id": suggestion.incident_id}
        item = StateModel(self._SUGGESTED, suggestion.place.lower(), ref=suggestion.suggestion_id, value=value,
                          count=(expected or 0) + 1, expires_at=self.KEEP)
        return _save_if(item, StateModel.pk.does_not_exist() if expected is None else StateModel.count == expected)
