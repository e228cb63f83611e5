"""The team feed: each desk queue consumed while a team covering the desk is on shift, its messages handed to the
team's tools (Slack, Microsoft Teams, a signed webhook), and a digest of what waited when the team comes on shift.

- ``follow_rota`` (every minute) switches each desk's consumer on while a covering team is on shift and off
  otherwise (``svc.consumers``: Lambda's event source mappings; on the local stack a switch its runner reads). A
  consumer that is off receives nothing: messages wait in the queue for free, never walking to its dead-letter queue.
  Before it switches a desk on, it queues the shift-start digest: what waited, how much of it urgent, the oldest, the
  incidents open, then the waiting tickets themselves, urgent first.
- ``consume_desk_message`` (a desk queue's handler) fans one desk message out to the desk's destinations as
  deliveries on the notify queue (one ``SendMessageBatch``). Chat destinations (Slack, Teams) get new work as a
  message of its own and later events threaded under it where the platform threads (Slack with a bot token); events
  the digest already covered are left out of chat. A signed webhook gets every event, as the desk message's schema
  defines it, for the tool that keeps its own copy.
- ``deliver_notice`` (the notify queue's handler) posts one delivery. A refusal that will not change (a revoked
  token, a removed channel) is parked on ``responder-notify-dlq`` with its reason at once; a failure that may pass
  (rate limited, 5xx, time-out) comes back after a growing delay (15 s, 30 s, 1 min … at most 15 min, or what the
  platform asked for) until the queue's receive budget moves it to the dead-letter queue.

ADR 0024 records why the rota switches Lambda's mappings rather than a consumer polling on a schedule."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal, TypedDict

from chalicelib.domain import routing
from chalicelib.domain.jsonvalue import JsonObject, integer, is_object, items, obj, text, texts
from chalicelib.sqs_batch import RetryLater
from chalicelib.store.ports import DigestMark
from chalicelib.telemetry import count, logger

if TYPE_CHECKING:
    from chalicelib.domain.config.notify import Destination
    from chalicelib.domain.notice import Notice, TicketNotice
    from chalicelib.domain.routing import DeskMessage
    from chalicelib.services import Services

NOTICE_SCHEMA: Final = "responder.notice/1"
DESK_SCHEMA = "responder.desk-message/2"
URGENT_COUNTED = 500  # urgent tickets counted one by one (a digest says "500" of a deeper urgent queue)
DIGEST_LISTED = 20  # tickets listed by name in a digest; the rest are counted, with the desk's list linked
CHAT = ("slack", "teams")
#: desk events that are new work for the team reading the chat: a message of their own (other events only thread)
NEW_WORK_CHANGES = ("reopened", "transferred")
BACKOFF_FIRST, BACKOFF_MAX = 15, 900


class NoticeDelivery(TypedDict, total=False):
    """What the notify queue carries: one delivery of one notice to one destination (version 1)."""

    schema: Literal["responder.notice/1"]
    id: str  # stable for the notice and destination: the receiver's idempotency key (X-Responder-Delivery)
    kind: Literal["ticket", "digest"]
    destination: str
    desk: str
    message: JsonObject  # kind ticket: the desk message as the desk queue carried it
    digest: JsonObject  # kind digest: what waited (see ``digest_payload``)


@dataclass
class RotaResult:
    on: list[str] = field(default_factory=list)
    off: list[str] = field(default_factory=list)
    digests: dict[str, int] = field(default_factory=dict)  # desk -> deliveries queued
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> JsonObject:
        return {"on": self.on, "off": self.off, "digests": dict(self.digests), "failed": dict(self.failed)}


# ----------------------------------------------------------------------------------------------- the rota's switch
def follow_rota(svc: Services) -> RotaResult:
    """Each desk's consumer on while a covering team is on shift, off otherwise; a desk switched on gets its digest
    first. One desk's failure (a mapping being updated, say) is logged and tried again at the next run."""
    now, result = svc.now(), RotaResult()
    for desk in svc.config.desk_ids:
        teams = svc.calendar.teams_on_shift(desk, now)
        try:
            if teams:
                if svc.consumers.enabled(desk):
                    continue
                result.digests[desk] = send_digest(svc, desk, teams, now)
                svc.consumers.switch(desk, True)
                result.on.append(desk)
                logger.info("desk consumer on", extra={"desk": desk, "teams": teams})
            elif svc.consumers.switch(desk, False):
                result.off.append(desk)
                logger.info("desk consumer off: its messages wait for the next shift", extra={"desk": desk})
        except Exception as exc:  # noqa: BLE001 - the other desks are switched all the same
            logger.exception("desk consumer not switched", extra={"desk": desk})
            count("DeskConsumerSwitchFailed", total=True, desk=desk)
            result.failed[desk] = f"{type(exc).__name__}: {exc}"
    return result


def digest_payload(svc: Services, desk: str, teams: list[str], now: datetime) -> JsonObject:
    """What waited on ``desk``: counted with one ``Select=COUNT`` query, the first tickets of its queue (urgent
    first, then the oldest first contact) read with one page, and the active incidents touching the desk."""
    waiting = svc.tickets.backlog_count(desk)
    listed = svc.tickets.queue_page(desk, "waiting", limit=DIGEST_LISTED).tickets
    urgent = svc.tickets.queue_page(desk, "waiting", urgent=True, limit=URGENT_COUNTED).tickets
    oldest = svc.tickets.queue_page(desk, "waiting", urgent=False, limit=1).tickets
    incidents = [i.title for i in svc.stores.incidents.active() if not i.desks or desk in i.desks]
    first_contacts = [t.first_contact_at for t in (*urgent, *oldest)]
    return {
        "desk": desk, "team": teams[0] if teams else "", "teams": list(teams), "at": now.isoformat(),
        "waiting": waiting, "urgent": len(urgent),
        "oldest_first_contact": min(first_contacts).isoformat() if first_contacts else None,
        "incidents": incidents,
        # each as a desk message of the ticket as it is now (its schema, no change named)
        "tickets": [dict(routing.queue_message(t, event="ticket.updated", at=now,
                                               status_url=svc.links.url(t.ticket_id))) for t in listed],
        "more": max(0, waiting - len(listed)),
    }


def send_digest(svc: Services, desk: str, teams: list[str], now: datetime) -> int:
    """Queue the shift-start digest to each of the desk's destinations when anything waited, and remember what it
    told the team (``DigestMark``): chat then skips those tickets' queued events. Returns the deliveries queued."""
    destinations = svc.config.notify.destinations_for(desk, svc.config.teams_covering(desk))
    payload = digest_payload(svc, desk, teams, now) if destinations else None
    if payload is None or not payload["waiting"]:
        svc.stores.feed.mark_digest(desk, DigestMark(at=now))  # told nothing: nothing is skipped
        return 0
    listed = tuple(text(t, "ticket_id") for t in items(payload, "tickets"))
    svc.stores.feed.mark_digest(desk, DigestMark(at=now, listed=listed, more=integer(payload, "more")))
    stamp = now.strftime("%Y%m%dT%H%M")
    deliveries: list[JsonObject] = [dict(NoticeDelivery(
        schema=NOTICE_SCHEMA, id=f"digest-{desk}-{stamp}-{d.name}", kind="digest", destination=d.name, desk=desk,
        digest=payload)) for d in destinations]
    svc.queues.send_notices(deliveries)
    count("DigestsQueued", len(deliveries), desk=desk)
    return len(deliveries)


def told_in_digest(mark: DigestMark | None, message: JsonObject) -> bool:
    """Whether the shift-start digest already told the team of this event: an event no later than the digest, of a
    ticket it listed by name — or, when it counted more than it listed, of a normal ticket among those "N more". An
    urgent ticket it did not list is always posted: a digest never hides one."""
    if mark is None or datetime.fromisoformat(text(message, "at")) > mark.at:
        return False
    if text(message, "ticket_id") in mark.listed:
        return True
    return mark.more > 0 and text(message, "priority") != "urgent"


# ----------------------------------------------------------------------------------------------- a desk's consumer
class NotADeskMessage(ValueError):
    """A body on a desk queue that is not a desk message this version reads (parked with its reason)."""


def is_new_work(message: JsonObject) -> bool:
    """New to the desk's team: created, past its SLA, reopened, transferred in, or moved in by the customer's chase
    (``from_desk``)."""
    event = text(message, "event")
    return event in ("ticket.created", "ticket.sla_breached") or (
        event == "ticket.updated" and (text(message, "change") in NEW_WORK_CHANGES or bool(text(message, "from_desk"))))


def consume_desk_message(svc: Services, desk: str, body: JsonObject, *, message_id: str) -> int:
    """Fan one desk message out to the desk's destinations; returns the deliveries queued."""
    if body.get("schema") != DESK_SCHEMA or not text(body, "ticket_id") or not text(body, "at"):
        raise NotADeskMessage(f"not a {DESK_SCHEMA} message (schema {body.get('schema')!r})")
    destinations = svc.config.notify.destinations_for(desk, svc.config.teams_covering(desk))
    if not destinations:
        return 0
    # what consumers dedupe on (docs/desk-message.schema.json): a retried attempt announces again with the same `at`
    event = "#".join((text(body, "ticket_id"), text(body, "event"), text(body, "change"), text(body, "at")))
    if svc.stores.feed.handed_over(desk, event):
        return 0
    told = any(d.kind in CHAT for d in destinations) and told_in_digest(svc.stores.feed.digest(desk), body)
    new_work = is_new_work(body)
    deliveries: list[JsonObject] = []
    for d in destinations:
        if d.kind in CHAT:
            if told:
                continue  # the shift-start digest told the team about it
            if not new_work and not (d.kind == "slack" and d.channel):
                continue  # an update is threaded under its ticket, and only a Slack bot threads
        deliveries.append(dict(NoticeDelivery(schema=NOTICE_SCHEMA, id=f"{message_id}-{d.name}", kind="ticket",
                                              destination=d.name, desk=desk, message=body)))
    if deliveries:
        svc.queues.send_notices(deliveries)
        count("NoticesQueued", len(deliveries), desk=desk)
    svc.stores.feed.mark_handed_over(desk, event)  # after: a death in between repeats it, never loses it
    return len(deliveries)


# ----------------------------------------------------------------------------------------------- one delivery
def _inbox_link(svc: Services, path: str) -> str:
    return f"{svc.settings.public_base_url}/inbox/{path}"


def notice_of(svc: Services, delivery: JsonObject, destination: Destination) -> Notice:
    from chalicelib.domain.notice import DigestNotice

    if delivery.get("kind") == "digest":
        digest = obj(delivery, "digest")
        if not digest:
            raise ValueError("a digest delivery without its digest")
        oldest = text(digest, "oldest_first_contact")
        return DigestNotice(
            desk=text(digest, "desk"), team=text(digest, "team"), at=datetime.fromisoformat(text(digest, "at")),
            waiting=integer(digest, "waiting"), urgent=integer(digest, "urgent"),
            oldest_first_contact=datetime.fromisoformat(oldest) if oldest else None,
            incidents=tuple(texts(digest, "incidents")),
            tickets=tuple(_ticket_notice(svc, m, destination) for m in items(digest, "tickets")),
            more=integer(digest, "more"), link=_inbox_link(svc, f"desks/{text(digest, 'desk')}"))
    message = delivery.get("message")
    if not is_object(message):
        raise ValueError("a ticket delivery without its desk message")
    return _ticket_notice(svc, message, destination)


def _ticket_notice(svc: Services, message: JsonObject, destination: Destination) -> TicketNotice:
    from chalicelib.domain.notice import ticket_notice

    desk_message: DeskMessage = message  # type: ignore[assignment]  # checked on the desk queue's side
    words = text(message, "excerpt") if destination.include_customer_text else None
    return ticket_notice(desk_message, link=_inbox_link(svc, f"tickets/{text(message, 'ticket_id')}"),
                         text=words or None)


def _secret_set(svc: Services, destination: Destination) -> bool:
    """A destination whose secret was never set is off, as a channel without its token is (the deploy lists the
    secrets not set yet); a store that cannot answer now raises, and the delivery is tried again."""
    from chalicelib.settings import SettingsError

    try:
        svc.secrets.get(destination.secret)
    except SettingsError:
        return False
    except Exception as exc:
        if "ParameterNotFound" in f"{type(exc).__name__} {exc} {exc.__cause__}":
            return False
        raise
    return True


def backoff(receive_count: int, retry_after: float | None = None) -> int:
    wait = BACKOFF_FIRST * 2 ** max(0, receive_count - 1)
    return int(min(BACKOFF_MAX, max(wait, retry_after or 0)))


def deliver_notice(svc: Services, delivery: JsonObject, *, receive_count: int, queue_name: str) -> str:
    """Post one delivery; returns what became of it (posted, threaded, skipped, parked)."""
    from chalicelib.channels.notify import NotifyFailed

    name = text(delivery, "destination")
    destination = svc.config.notify.destinations.get(name)
    if delivery.get("schema") != NOTICE_SCHEMA or destination is None:
        reason = "not a notice delivery" if destination is not None or not name else \
            f"destination {name} is no longer in the brand file"
        svc.queues.send_dead_letter(queue_name, {"reason": reason, "delivery": delivery})
        count("NoticesParked", destination=name or "?")
        return "parked"
    if not _secret_set(svc, destination):
        logger.warning("notice not posted: the destination's secret is not set (python -m tools.deploy secret)",
                       extra={"destination": name, "secret": destination.secret})
        count("NoticesSkipped", destination=name)
        return "skipped"
    notice = notice_of(svc, delivery, destination)
    ticket_id = text(obj(delivery, "message"), "ticket_id") if delivery.get("kind") == "ticket" else ""
    thread = svc.stores.feed.thread(name, ticket_id) if ticket_id and destination.kind == "slack" else None
    if destination.kind in CHAT and ticket_id and thread is None and not is_new_work(obj(delivery, "message")):
        return "skipped"  # an update of a ticket this chat was never told about (a webhook gets every event)
    try:
        posted = svc.notifier.post(destination, notice, thread=thread)
    except NotifyFailed as failed:
        if failed.retryable:
            count("NoticesRetried", destination=name)
            raise RetryLater(backoff(receive_count, getattr(failed, "retry_after", None)),
                             f"{name}: {failed.reason}") from failed
        svc.queues.send_dead_letter(queue_name, {"reason": f"refused for good: {failed.reason}",
                                                 "delivery": delivery})
        logger.error("notice parked", extra={"destination": name, "reason": failed.reason})
        count("NoticesParked", destination=name)
        return "parked"
    if posted and ticket_id and thread is None:
        svc.stores.feed.remember_thread(name, ticket_id, posted)
    count("NoticesPosted", destination=name)
    return "threaded" if thread else "posted"
