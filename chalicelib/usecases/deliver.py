"""The outbox: sends each queued reply exactly once, within a per-channel budget, with retries and backoff."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.channels.base import SendError
from chalicelib.domain.outbound import OutboxItem
from chalicelib.services import Services
from chalicelib.sqs_batch import Record, RetryLater
from chalicelib.store.ports import HELD, LAPSED, Bucket, ConcurrentUpdate, SentRecord
from chalicelib.telemetry import count, logger

MAX_ATTEMPTS = 6
#: How long one delivery may hold a message before another may try it (the lease lapses by time, not by TTL).
LEASE = timedelta(minutes=10)


class PermanentSendFailure(Exception):
    """The platform refused the message for good (it goes to the outbox dead-letter queue)."""


def take_token(svc: Services, channel: str, now: datetime) -> float:
    """Token bucket per channel account, shared by every Lambda through compare-and-set.
    Returns 0 if a token was taken, else the seconds until one is available."""
    rate = svc.settings.outbound_per_minute / 60.0
    capacity = float(svc.settings.outbound_per_minute)
    for _ in range(10):
        current = svc.buckets.read(channel)
        tokens, at = (capacity, now) if current is None else (current.tokens, current.at)
        tokens = min(capacity, tokens + max(0.0, (now - at).total_seconds()) * rate)
        if tokens < 1:
            return (1 - tokens) / rate
        if svc.buckets.replace(channel, current, Bucket(tokens - 1, now)):
            return 0
    return 1


def _note_on_ticket(svc: Services, ticket_id: str, now: datetime, kind: str, detail: str = "") -> None:
    """A timeline entry; the message is already sent, so losing every race only loses the entry."""
    try:
        svc.tickets.update(ticket_id, lambda ticket: ticket.record(now, kind, detail))
    except ConcurrentUpdate:
        logger.warning("timeline entry not saved", extra={"ticket_id": ticket_id, "kind": kind})


def deliver(svc: Services, item: OutboxItem, *, attempt: int = 1) -> str:
    """Returns sent | duplicate | expired; raises RetryLater or PermanentSendFailure."""
    key, channel = item.idempotency_key, item.target.channel
    now = svc.now()
    if svc.outbox.sent(key):
        return "duplicate"
    if item.expires_at and now >= item.expires_at:
        _note_on_ticket(svc, item.ticket_id, now, "ack_expired", "the team was back before it could be sent")
        count("AcksExpired")
        return "expired"
    wait = take_token(svc, channel, now)
    if wait:
        count("OutboundThrottled", channel=channel)
        raise RetryLater(int(wait) + 1, "outbound budget exhausted")
    sender = svc.sender(channel)  # before the lease: a sender that cannot be built has sent nothing
    lease = svc.outbox.acquire_lease(key, now, LEASE)
    if lease == HELD:
        raise RetryLater(120, "another delivery of this message is in progress")
    if lease == LAPSED:
        # an earlier attempt started sending and never said how it ended: it may have reached the customer, and
        # a second copy is worse than a human checking (exactly once per key, or not at all and visible)
        count("OutboundOutcomeUnknown", channel=channel)
        _note_on_ticket(svc, item.ticket_id, now, "reply_unconfirmed", item.kind)
        raise PermanentSendFailure("an earlier attempt to send this message ended without a result; check the "
                                   "platform before sending it again")
    try:
        result = sender.send(item.outbound())
    except SendError as exc:
        svc.outbox.release_lease(key)
        if exc.retryable and attempt < MAX_ATTEMPTS:
            backoff = exc.retry_after or min(900, 30 * 2 ** (attempt - 1))
            count("OutboundRetried", channel=channel)
            raise RetryLater(int(backoff), str(exc)) from exc
        count("OutboundFailed", channel=channel)
        _note_on_ticket(svc, item.ticket_id, now, "reply_failed", str(exc)[:200])
        raise PermanentSendFailure(str(exc)) from exc
    svc.outbox.record_sent(key, SentRecord(result.external_id, item.ticket_id, now))
    # a customer answering our message threads into the same ticket
    svc.threads.remember_sent_message(channel, result.external_id, item.ticket_id)
    _note_on_ticket(svc, item.ticket_id, now, "acknowledged" if item.kind == "ack" else item.kind,
                    item.expires_at.isoformat() if item.expires_at else "")
    count("OutboundSent", channel=channel)
    logger.info("message sent", extra={"ticket_id": item.ticket_id, "kind": item.kind, "channel": channel})
    return "sent"


def deliver_record(svc: Services, record: Record) -> str:
    """One outbox record: a permanent failure is parked on the outbox dead-letter queue, not retried."""
    message = record.json()
    item = OutboxItem.from_dict(message)
    try:
        return deliver(svc, item, attempt=record.receive_count)
    except PermanentSendFailure as exc:
        svc.queues.send_dead_letter(svc.settings.outbox_queue, {**message, "error": str(exc)[:500]})
        return "failed"
