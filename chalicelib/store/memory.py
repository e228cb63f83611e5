"""In-memory twins of every store and of the queues: the same contract as DynamoDB and SQS (conditional writes,
compare-and-set, versions, leases that lapse by time), proven by the same contract suite (``tests/contract``).

For fast use-case tests and the benchmarks' baselines; thread-safe, so concurrency tests can race them. Objects
go in and come out as copies, as they do through a database.
"""
from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.agent import Agent
from chalicelib.domain.busy import hour_ceil, hour_floor
from chalicelib.domain.history import Event
from chalicelib.domain.incident import Incident
from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.mention import Mention
from chalicelib.domain.reports import TicketFigures
from chalicelib.domain.ticket import CLAIMED, OPEN_STATUSES, WAITING, Ticket
from chalicelib.store.codec import upgraded
from chalicelib.store.ports import (
    ACQUIRED,
    HELD,
    LAPSED,
    Allowance,
    AlreadyExists,
    Charge,
    ConcurrentUpdate,
    DigestMark,
    InvalidToken,
    QueueMark,
    QueuePage,
    R,
    Registered,
    SavedView,
    SeenAgent,
    Sighting,
    SignIn,
    SignInRefused,
    StoredMention,
    StoredSavedReply,
    Suggestion,
    TriageLabel,
    Updated,
    WaitingMessage,
    WordHit,
    WordPage,
)
from chalicelib.store.queues import MAX_SQS_BYTES
from chalicelib.store.tickets import update_with_retries


class _Locked:
    def __init__(self) -> None:
        self._lock = threading.RLock()

    def _create(self, items: dict[Any, Any], key: Any, value: Any) -> bool:
        """The conditional create every store builds on (DynamoDB's ``attribute_not_exists``): True if this call
        stored ``value`` under ``key``, False if something was there already."""
        with self._lock:
            if key in items:
                return False
            items[key] = value
            return True


class MemoryMentions(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, StoredMention] = {}

    def add_or_existing(self, mention: Mention, received_at: datetime, *, owner: str = "") -> StoredMention | None:
        with self._lock:
            if self._create(self.items, mention.key, StoredMention(mention, received_at, owner)):
                return None
            return self.items[mention.key]

    def add_if_new(self, mention: Mention, received_at: datetime) -> bool:
        return self.add_or_existing(mention, received_at) is None

    def get(self, key: str) -> StoredMention | None:
        return self.items.get(key)

    def keys_for_author(self, author_key: str) -> list[str]:
        return [k for k, m in list(self.items.items()) if m.mention.identity_key == author_key]

    def delete(self, key: str) -> None:
        self.items.pop(key, None)


def _kept(ticket: Ticket) -> Ticket:
    """The copy the twin keeps, as DynamoDB would read it back (``repositories.ticket_from_item``): the words of the
    vocabulary (status, priority, intent, tone) as its members, even where plain text was set on the ticket, and a
    ticket written as before its decision and replies were typed read as typed (``codec.upgraded``)."""
    return upgraded(replace(copy.deepcopy(ticket)))


class MemoryTickets(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Ticket] = {}

    def get(self, ticket_id: str) -> Ticket | None:
        ticket = self.items.get(ticket_id)
        return copy.deepcopy(ticket) if ticket is not None else None

    def add(self, ticket: Ticket) -> None:
        ticket.version = 1
        if not self._create(self.items, ticket.ticket_id, _kept(ticket)):
            raise AlreadyExists(ticket.ticket_id)

    def save(self, ticket: Ticket) -> None:
        with self._lock:
            stored = self.items.get(ticket.ticket_id)
            if stored is None or stored.version != ticket.version:
                raise ConcurrentUpdate(ticket.ticket_id)
            ticket.version += 1
            self.items[ticket.ticket_id] = _kept(ticket)

    def update(self, ticket_id: str, change: Callable[[Ticket], R], *, current: Ticket | None = None,
               attempts: int = 5) -> Updated[R] | None:
        return update_with_retries(self, ticket_id, change, current=current, attempts=attempts)

    def _change(self, ticket_id: str, change: Callable[[Ticket], object],
                when: Callable[[Ticket], bool] = lambda ticket: True) -> Ticket | None:
        """One conditional update without a read, as on DynamoDB: ``change`` applied to a new object and the version
        moved on, when the ticket exists and ``when`` holds; the ticket as it is after, else None. (A new object, as
        ``save`` stores: ``get`` copies the stored one without the lock, and a copy taken while it changed in place
        could carry the new version without the change — a save from it would drop it.)"""
        with self._lock:
            stored = self.items.get(ticket_id)
            if stored is None or not when(stored):
                return None
            updated = copy.deepcopy(stored)
            change(updated)
            updated.version += 1
            self.items[ticket_id] = updated
            return copy.deepcopy(updated)

    def append_event(self, ticket_id: str, event: Event, *, sent_key: str = "",
                     release_ack_lease: bool = False) -> bool:
        def append(ticket: Ticket) -> None:
            ticket.timeline.append(copy.deepcopy(event))
            if sent_key:
                ticket.sent_keys.append(sent_key)
            if release_ack_lease:
                ticket.ack_lease = None

        return self._change(ticket_id, append) is not None

    def release_ack_lease(self, ticket_id: str) -> None:
        self._change(ticket_id, lambda ticket: setattr(ticket, "ack_lease", None))

    def join_open(self, ticket_id: str, customer_id: str, mention_key: str, at: datetime,
                  conversation_key: str = "") -> Ticket | None:
        return self._change(
            ticket_id, lambda ticket: ticket.customer_wrote(mention_key, at, conversation_key),
            when=lambda ticket: (ticket.customer_id == customer_id and ticket.status in (WAITING, CLAIMED)
                                 and mention_key not in ticket.mention_keys and ticket.last_customer_at <= at))

    def _all(self) -> list[Ticket]:
        with self._lock:
            return [copy.deepcopy(t) for t in self.items.values()]

    def backlog(self, desk: str, limit: int = 100) -> list[Ticket]:
        waiting = [t for t in self._all() if t.desk == desk and t.status == WAITING]
        return sorted(waiting, key=lambda t: t.backlog_order)[:limit]

    def backlog_count(self, desk: str) -> int:
        return sum(1 for t in self.items.values() if t.desk == desk and t.status == WAITING)

    def queue_page(self, desk: str, status: str = WAITING, *, after: QueueMark | None = None, limit: int = 50,
                   urgent: bool | None = None) -> QueuePage:
        """As the backlog index holds them: keyed ``<desk>#<status>`` while open, ordered by ``backlog_order``
        (and the ticket id between equals)."""
        prefix = "" if urgent is None else ("0#" if urgent else "1#")
        start = (after.order, after.ticket_id) if after is not None else None
        found = sorted(((t.backlog_order, t.ticket_id), t) for t in self._all()
                       if t.desk == desk and t.status == status and status in OPEN_STATUSES
                       and t.backlog_order.startswith(prefix))
        page = [t for key, t in found if start is None or key > start][:max(1, limit)]
        last = page[-1] if len(page) == max(1, limit) else None
        return QueuePage(page, QueueMark(last.backlog_order, last.ticket_id) if last is not None else None)

    def open_tickets(self) -> Iterator[Ticket]:
        return iter([t for t in self._all() if t.status in OPEN_STATUSES])

    def claimed(self) -> Iterator[Ticket]:
        return iter([t for t in self._all() if t.status == "claimed"])

    def for_customer(self, customer_id: str) -> list[Ticket]:
        return sorted((t for t in self._all() if t.customer_id == customer_id), key=lambda t: t.first_contact_at)

    def delete(self, ticket_id: str) -> None:
        self.items.pop(ticket_id, None)


class MemoryCustomers(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, str] = {}
        self.handles: dict[str, str] = {}
        self.open: dict[str, str] = {}

    def register(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                 display_name: str = "", at: datetime) -> Registered:
        with self._lock:
            if self._create(self.items, identity, new_customer_id):
                self.handles[identity] = handle
                return Registered(new_customer_id, True, handle)
            return Registered(self.items[identity], False, self.handles.get(identity, ""))

    def resolve(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                display_name: str = "", at: datetime) -> str:
        return self.register(identity, new_customer_id, channel=channel, handle=handle, display_name=display_name,
                             at=at).customer_id

    def lookup(self, identity: str) -> str | None:
        return self.items.get(identity)

    def identities(self, customer_id: str) -> list[str]:
        return [i for i, c in list(self.items.items()) if c == customer_id]

    def relink(self, identity: str, customer_id: str) -> None:
        with self._lock:
            if identity not in self.items:
                raise KeyError(identity)
            self.items[identity] = customer_id

    def delete(self, identity: str) -> None:
        self.items.pop(identity, None)
        self.handles.pop(identity, None)

    def open_ticket(self, customer_id: str) -> str | None:
        return self.open.get(customer_id)

    def point_open_ticket(self, customer_id: str, ticket_id: str, *, expected: str | None) -> bool:
        with self._lock:
            if self.open.get(customer_id) != expected:
                return False
            self.open[customer_id] = ticket_id
            return True

    def forget_open_ticket(self, customer_id: str) -> None:
        self.open.pop(customer_id, None)


class MemoryThreads(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.sent_messages: dict[tuple[str, str], str] = {}

    def sent_message_ticket(self, channel: str, external_id: str) -> str | None:
        return self.sent_messages.get((channel, external_id))

    def remember_sent_message(self, channel: str, external_id: str, ticket_id: str) -> None:
        self.sent_messages[(channel, external_id)] = ticket_id


class MemoryAckLedger(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, dict[str, object]] = {}

    def begin(self, ticket_id: str, kind: str) -> bool:
        return self._create(self.marks, ticket_id, {"queued": False, "kind": kind})

    def start(self, ticket_id: str, kind: str) -> bool:
        with self._lock:
            return self.begin(ticket_id, kind) or not self.is_queued(ticket_id)

    def is_queued(self, ticket_id: str) -> bool:
        return bool(self.marks.get(ticket_id, {}).get("queued"))

    def mark_queued(self, ticket_id: str, kind: str, at: datetime) -> None:
        self.marks[ticket_id] = {"queued": True, "kind": kind, "at": at.isoformat()}

    def forget(self, ticket_id: str) -> None:
        self.marks.pop(ticket_id, None)


class MemoryOutbox(_Locked):
    """One lease per key, as on DynamoDB: taken before the send and kept after it."""

    def __init__(self) -> None:
        super().__init__()
        self.leases: dict[str, datetime] = {}

    def acquire_lease(self, key: str, now: datetime, hold: timedelta) -> str:
        with self._lock:
            until = self.leases.get(key)
            if until is None:
                self.leases[key] = now + hold
                return ACQUIRED
            return HELD if until > now else LAPSED

    def release_lease(self, key: str) -> None:
        self.leases.pop(key, None)


class MemoryAllowance(_Locked):
    """Per channel the outbound rate as GCRA (``tat``: when the bucket is full again) and the current day's spend,
    taken together or not at all, as on DynamoDB."""

    def __init__(self) -> None:
        super().__init__()
        self.tat: dict[str, float] = {}
        self.spend: dict[str, tuple[str, int]] = {}  # channel -> (day, micro-dollars)

    def take(self, channel: str, now: datetime, per_minute: float, charge: Charge | None = None, *,
             within: float = 0.0) -> Allowance:
        interval, at = 60.0 / per_minute, now.timestamp()
        burst = max(0.0, per_minute - 1) * interval  # below one a minute: a bucket of one
        ahead = burst + max(0.0, within)
        with self._lock:
            if charge is not None:
                day, spent = self.spend.get(channel, (charge.day, 0))
                spent = spent if day == charge.day else 0
                if spent + charge.micros > charge.limit_micros:
                    return Allowance(over_budget=True)
            tat = self.tat.get(channel, at)
            if tat > at + ahead:
                return Allowance(wait=tat - (at + ahead))
            self.tat[channel] = max(tat, at) + interval
            if charge is not None:
                self.spend[channel] = (charge.day, spent + charge.micros)
            return Allowance(slot_in=max(0.0, tat - burst - at))

    def refund(self, channel: str, day: str, micros: int) -> None:
        with self._lock:
            current = self.spend.get(channel)
            if current is not None and current[0] == day:  # as on DynamoDB: a day that is over, or none, is not changed
                self.spend[channel] = (day, current[1] - micros)

    def spent(self, channel: str, day: str) -> int:
        current, spent = self.spend.get(channel, (day, 0))
        return spent if current == day else 0

    def charge(self, channel: str, day: str, micros: int) -> int:
        with self._lock:
            current, spent = self.spend.get(channel, (day, 0))
            total = (spent if current == day else 0) + micros
            self.spend[channel] = (day, total)
            return total


class MemoryLocalPosts(_Locked):
    """Stage local's injected listening posts, per channel, as on DynamoDB (kept a day)."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: dict[str, list[tuple[datetime, str, JsonObject]]] = {}

    def add(self, channel: str, at: datetime, post_id: str, post: JsonObject) -> None:
        with self._lock:
            kept = [p for p in self.posts.get(channel, []) if p[1] != post_id and p[0] > at - timedelta(days=1)]
            self.posts[channel] = [*kept, (at, post_id, post)]

    def recent(self, channel: str, *, since: datetime) -> list[JsonObject]:
        with self._lock:
            found = sorted((p for p in self.posts.get(channel, []) if p[0] > since), key=lambda p: (p[0], p[1]),
                           reverse=True)
            return [post for _, _, post in found]


class MemoryWaitingRoom(_Locked):
    """Per channel, the waiting messages by their place, as on DynamoDB."""

    def __init__(self) -> None:
        super().__init__()
        self.rooms: dict[str, dict[str, JsonObject]] = {}

    def add(self, channel: str, order: str, message: JsonObject) -> None:
        with self._lock:
            self.rooms.setdefault(channel, {})[order] = dict(message)

    def first(self, channel: str, limit: int) -> list[WaitingMessage]:
        with self._lock:
            room = self.rooms.get(channel, {})
            return [WaitingMessage(channel, order, dict(room[order])) for order in sorted(room)[:limit]]

    def take(self, channel: str, order: str) -> JsonObject | None:
        with self._lock:
            return self.rooms.get(channel, {}).pop(order, None)

    def count(self, channel: str) -> int:
        return len(self.rooms.get(channel, {}))


class MemoryIncidents(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Incident] = {}
        self.follow_ups: dict[tuple[str, str, str], bool] = {}

    def put(self, incident: Incident) -> None:
        self.items[incident.incident_id] = incident

    def get(self, incident_id: str) -> Incident | None:
        return self.items.get(incident_id)

    def all(self) -> list[Incident]:
        return sorted(self.items.values(), key=lambda i: i.incident_id)

    def active(self) -> list[Incident]:
        return [i for i in self.all() if i.active]

    def claim_follow_up(self, incident_id: str, change: str, ticket_id: str) -> bool:
        return self._create(self.follow_ups, (incident_id, change, ticket_id), True)

    def claim_resolution(self, incident_id: str) -> bool:
        return self._create(self.follow_ups, (incident_id, "resolution", ""), True)


class MemoryCursors:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.items.get(name, {}))

    def put(self, name: str, cursor: dict[str, Any]) -> None:
        self.items[name] = copy.deepcopy(cursor)


class MemoryFormLimit(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[tuple[str, str], int] = {}

    def try_take(self, client_key: str, window: str, limit: int) -> bool:
        with self._lock:
            used = self.counts.get((client_key, window), 0)
            if used >= limit:
                return False
            self.counts[(client_key, window)] = used + 1
            return True

    def used(self, client_key: str, window: str) -> int:
        with self._lock:
            return self.counts.get((client_key, window), 0)


class MemoryAnswerCounts(_Locked):
    """Answers per desk and UTC hour, counted as DynamoDB's atomic ``ADD`` counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[tuple[str, datetime], int] = {}

    def record(self, desk: str, at: datetime) -> None:
        with self._lock:
            key = (desk, hour_floor(at))
            self.counts[key] = self.counts.get(key, 0) + 1

    def count_since(self, desk: str, since: datetime, now: datetime) -> int:
        first, last = hour_ceil(since), hour_floor(now)
        with self._lock:
            return sum(n for (d, hour), n in self.counts.items() if d == desk and first <= hour <= last)


class MemorySandbox(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, JsonObject] = {}

    def record(self, at: datetime, key: str, message: JsonObject) -> None:
        self.items[f"{at.isoformat()}#{key}"] = copy.deepcopy(dict(message))

    def recent(self, limit: int = 200) -> list[JsonObject]:
        return [copy.deepcopy(self.items[k]) for k in sorted(self.items, reverse=True)[:limit]]


class MemoryNotifyLog(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, JsonObject] = {}

    def record(self, at: datetime, key: str, entry: JsonObject) -> None:
        with self._lock:
            self.items[f"{at.isoformat()}#{key}"] = copy.deepcopy(dict(entry))

    def recent(self, *, desk: str | None = None, limit: int = 200) -> list[JsonObject]:
        with self._lock:
            newest = [self.items[k] for k in sorted(self.items, reverse=True)]
        return [copy.deepcopy(e) for e in newest if desk is None or e.get("desk") == desk][:limit]


class MemoryHealth:
    def ping(self) -> None:
        return None


class MemoryQueues(_Locked):
    """Queues as lists: ``messages[name]`` holds the bodies sent to each queue (names as in SQS)."""

    def __init__(self, *, inbound: str = "responder-inbound", outbox: str = "responder-outbox",
                 desk_queue_name: Callable[[str], str] = lambda desk: f"responder-desk-{desk}",
                 notify: str = "responder-notify"):
        super().__init__()
        self.inbound, self.outbox, self.notify = inbound, outbox, notify
        self._desk_queue_name = desk_queue_name
        self.messages: dict[str, list[dict[str, object]]] = {}
        self.deleted: list[str] = []
        self.delayed: dict[str, int] = {}
        self._ids = itertools.count(1)

    def _send(self, name: str, body: JsonObject) -> str:
        size = len(json.dumps(body, separators=(",", ":"), default=str).encode())
        if size > MAX_SQS_BYTES:
            raise ValueError(f"message of {size} bytes exceeds the SQS limit")
        with self._lock:
            self.messages.setdefault(name, []).append(json.loads(json.dumps(body, default=str)))
            return f"m-{next(self._ids)}"

    def send_inbound(self, envelope: JsonObject) -> str:
        return self._send(self.inbound, envelope)

    def send_desk(self, desk: str, message: JsonObject) -> str:
        return self._send(self._desk_queue_name(desk), message)

    def send_outbox(self, message: JsonObject, *, delay: int = 0) -> str:
        return self._send(self.outbox, message)

    def send_dead_letter(self, queue_name: str, body: JsonObject) -> str:
        return self._send(f"{queue_name}-dlq", body)

    def send_notices(self, messages: list[JsonObject]) -> None:
        for message in messages:
            self._send(self.notify, message)

    def delete(self, queue_name: str, receipt_handles: list[str]) -> None:
        self.deleted.extend(receipt_handles)

    def delay_redelivery(self, queue_name: str, receipt_handle: str, seconds: int) -> None:
        self.delayed[receipt_handle] = seconds

    def url(self, name: str) -> str:
        return f"memory://{name}"

    def approximate_depth(self, queue_name: str) -> int:
        return len(self.messages.get(queue_name, []))

    def take(self, name: str) -> list[dict[str, object]]:
        """Remove and return everything sent to a queue (tests act as its consumer)."""
        with self._lock:
            return self.messages.pop(name, [])


class MemoryAgents(_Locked):
    """The agent directory's twin: registered agents and opaque tokens with an expiry in real time."""

    def __init__(self, wall_clock: Callable[[], float] | None = None, lifetime: int = 3600) -> None:
        import time

        super().__init__()
        self._users: dict[str, tuple[str, Agent]] = {}
        self._tokens: dict[str, tuple[Agent, float]] = {}
        self._wall_clock = wall_clock or time.time
        self.lifetime = lifetime

    def register(self, agent: Agent, password: str) -> None:
        with self._lock:
            self._users[agent.username] = (password, agent)

    def sign_in(self, username: str, password: str) -> SignIn:
        import hmac
        import secrets

        with self._lock:
            known = self._users.get(username)
            if known is None or not hmac.compare_digest(known[0].encode(), password.encode()):
                raise SignInRefused("wrong username or password")
            token = "mem." + secrets.token_urlsafe(24) + ".t"
            self._tokens[token] = (known[1], self._wall_clock() + self.lifetime)
            return SignIn(token=token, expires_in=self.lifetime, agent=known[1])

    def verify(self, token: str) -> Agent:
        with self._lock:
            found = self._tokens.get(token or "")
            if found is None or found[1] <= self._wall_clock():
                raise InvalidToken("the sign-in token is not valid")
            return found[0]


class MemoryTriageLabels(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, TriageLabel] = {}

    def record(self, label: TriageLabel) -> None:
        with self._lock:
            self.items[label.ticket_id] = label

    def all(self, since: datetime | None = None) -> list[TriageLabel]:
        with self._lock:
            found = [x for x in self.items.values() if since is None or x.at >= since]
        return sorted(found, key=lambda x: (x.at, x.ticket_id))

    def forget(self, ticket_id: str) -> None:
        with self._lock:
            self.items.pop(ticket_id, None)


class MemorySavedViews(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], SavedView] = {}

    def of(self, username: str) -> list[SavedView]:
        with self._lock:
            return [view for (who, _), view in sorted(self.items.items()) if who == username]

    def put(self, username: str, view: SavedView) -> None:
        with self._lock:
            self.items[(username, view.name)] = replace(view, query=dict(view.query))

    def delete(self, username: str, name: str) -> bool:
        with self._lock:
            return self.items.pop((username, name), None) is not None


class MemoryPresence(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, SeenAgent] = {}

    def seen(self, agent: Agent, at: datetime) -> None:
        with self._lock:
            self.items[agent.username] = SeenAgent(agent.username, agent.display, tuple(agent.teams), agent.lead, at)

    def all(self) -> list[SeenAgent]:
        with self._lock:
            return [self.items[key] for key in sorted(self.items)]


class MemorySavedReplies(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, StoredSavedReply] = {}

    def all(self) -> list[StoredSavedReply]:
        with self._lock:
            return [self.items[key] for key in sorted(self.items)]

    def put(self, saved: StoredSavedReply) -> None:
        with self._lock:
            self.items[saved.reply.id] = saved

    def delete(self, reply_id: str) -> bool:
        with self._lock:
            return self.items.pop(reply_id, None) is not None


class MemoryDeskConsumers(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.on: set[str] = set()

    def enabled(self, desk: str) -> bool:
        with self._lock:
            return desk in self.on

    def switch(self, desk: str, on: bool) -> bool:
        with self._lock:
            if (desk in self.on) == on:
                return False
            (self.on.add if on else self.on.discard)(desk)
            return True


class MemoryTeamFeedMarks(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.threads: dict[tuple[str, str], str] = {}
        self.digests: dict[str, DigestMark] = {}
        self.handed: set[tuple[str, str]] = set()

    def thread(self, destination: str, ticket_id: str) -> str | None:
        with self._lock:
            return self.threads.get((destination, ticket_id))

    def remember_thread(self, destination: str, ticket_id: str, thread: str) -> None:
        with self._lock:
            self.threads[(destination, ticket_id)] = thread

    def digest(self, desk: str) -> DigestMark | None:
        with self._lock:
            return self.digests.get(desk)

    def mark_digest(self, desk: str, mark: DigestMark) -> None:
        with self._lock:
            self.digests[desk] = mark

    def handed_over(self, desk: str, event: str) -> bool:
        with self._lock:
            return (desk, event) in self.handed

    def mark_handed_over(self, desk: str, event: str) -> None:
        with self._lock:
            self.handed.add((desk, event))


class MemoryWordIndex(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, WordHit]] = {}  # word -> order#ticket id -> the hit
        self.written: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {}  # ticket -> message -> (order, words)

    def add(self, ticket_id: str, first_contact_at: datetime, message_key: str, words: Sequence[str]) -> None:
        if not words:
            return
        order = first_contact_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            for word in words:
                self.items.setdefault(word, {})[f"{order}#{ticket_id}"] = WordHit(ticket_id, order)
            self.written.setdefault(ticket_id, {})[message_key] = (order, tuple(words))

    def tickets(self, word: str, limit: int) -> WordPage:
        with self._lock:
            keys = sorted(self.items.get(word, {}), reverse=True)
            hits = [self.items[word][k] for k in keys[:limit]]
        return WordPage(hits, complete=len(keys) < limit)

    def having(self, word: str, hits: Sequence[WordHit]) -> set[str]:
        with self._lock:
            items = self.items.get(word, {})
            return {h.ticket_id for h in hits if f"{h.order}#{h.ticket_id}" in items}

    def forget(self, ticket_id: str) -> int:
        with self._lock:
            keys = {(word, order) for order, words in self.written.pop(ticket_id, {}).values() for word in words}
            for word, order in keys:
                self.items.get(word, {}).pop(f"{order}#{ticket_id}", None)
        return len(keys)


class MemoryReportFigures(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, TicketFigures] = {}
        self.busy: dict[str, tuple[int, int]] = {}

    def record(self, figures: TicketFigures) -> None:
        with self._lock:
            stored = self.items.get(figures.ticket_id)
            if stored is None or stored.version <= figures.version:
                self.items[figures.ticket_id] = figures

    def note_busy(self, ticket_id: str, first_contact_at: datetime, lower: int, upper: int) -> None:
        with self._lock:
            self.busy[ticket_id] = (lower, upper)

    def between(self, start: datetime, end: datetime) -> list[TicketFigures]:
        with self._lock:
            found = [replace(f, busy_estimate=self.busy.get(f.ticket_id, f.busy_estimate))
                     for f in self.items.values() if start <= f.first_contact_at < end]
        return sorted(found, key=lambda f: (f.first_contact_at, f.ticket_id))


class MemoryWhatsAppStatuses(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], JsonObject] = {}

    def record(self, message_id: str, status: str, value: JsonObject) -> None:
        with self._lock:
            self.items[(message_id, status)] = copy.deepcopy(dict(value))

    def of(self, message_id: str) -> dict[str, JsonObject]:
        with self._lock:
            return {s: copy.deepcopy(dict(v)) for (m, s), v in self.items.items() if m == message_id}

    def for_ticket(self, ticket_id: str) -> dict[str, dict[str, JsonObject]]:
        found: dict[str, dict[str, JsonObject]] = {}
        with self._lock:
            for (m, s), v in sorted(self.items.items()):
                if ticket_id and v.get("ticket_id") == ticket_id:
                    found.setdefault(m, {})[s] = copy.deepcopy(dict(v))
        return found


class MemoryPlaceSightings(_Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[tuple[datetime, str], Sighting]] = {}  # place (lower) -> (at, mention key) -> it
        self.suggested: dict[str, Suggestion] = {}  # place (lower) -> its newest suggestion

    def add(self, sighting: Sighting) -> None:
        with self._lock:
            self.items.setdefault(sighting.place.lower(), {})[(sighting.at, sighting.mention_key)] = sighting

    def forget(self, place: str, at: datetime, mention_key: str) -> None:
        with self._lock:
            self.items.get(place.lower(), {}).pop((at, mention_key), None)

    def between(self, place: str, start: datetime, end: datetime) -> list[Sighting]:
        with self._lock:
            found = sorted((k, s) for k, s in self.items.get(place.lower(), {}).items() if start <= k[0] <= end)
        once: dict[str, Sighting] = {}
        for _, sighting in found:
            once.setdefault(sighting.mention_key, sighting)
        return list(once.values())

    def suggestion(self, place: str) -> Suggestion | None:
        with self._lock:
            return self.suggested.get(place.lower())

    def suggestions(self) -> list[Suggestion]:
        with self._lock:
            return [self.suggested[k] for k in sorted(self.suggested)]

    def put_suggestion(self, suggestion: Suggestion, *, expected: int | None) -> bool:
        with self._lock:
            current = self.suggested.get(suggestion.place.lower())
            if (current.version if current is not None else None) != expected:
                return False
            self.suggested[suggestion.place.lower()] = replace(suggestion, version=(expected or 0) + 1)
            return True
