"""The outbox: sends each queued reply exactly once, within a per-channel budget, with retries and backoff."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.sqs_batch import RetryLater
from chalicelib.store.repositories import ConcurrentUpdate
from chalicelib.telemetry import count, logger

SENT_PK = "sent"
LEASE_PK = "sending"
BUCKET_PK = "bucket"
REPLY_INDEX_PK = "msg"
MAX_ATTEMPTS = 6


class PermanentSendFailure(Exception):
    """The platform refused the message for good (it goes to the outbox dead-letter queue)."""


def take_token(svc, channel: str, now: datetime) -> float:
    """Token bucket per channel account, shared by every Lambda through a compare-and-set item.
    Returns 0 if a token was taken, else the seconds until one is available."""
    rate = svc.settings.outbound_per_minute / 60.0
    capacity = float(svc.settings.outbound_per_minute)
    for _ in range(10):
        item = svc.state.get(BUCKET_PK, channel)
        current = item.value if item else None
        tokens, at = (capacity, now) if current is None else (
            float(current["tokens"]), datetime.fromisoformat(current["at"]))
        tokens = min(capacity, tokens + max(0.0, (now - at).total_seconds()) * rate)
        if tokens < 1:
            return (1 - tokens) / rate
        if svc.state.put_if_value(BUCKET_PK, channel, current, {"tokens": tokens - 1, "at": now.isoformat()}):
            return 0
    return 1


def _note_on_ticket(svc, ticket_id: str, now: datetime, kind: str, detail: str = "") -> None:
    """A timeline entry; the message is already sent, so losing every race only loses the entry."""
    try:
        svc.tickets.update(ticket_id, lambda ticket: ticket.record(now, kind, detail))
    except ConcurrentUpdate:
        logger.warning("timeline entry not saved", extra={"ticket_id": ticket_id, "kind": kind})


def deliver(svc, message: dict[str, Any], *, attempt: int = 1) -> str:
    """Returns sent | duplicate | expired; raises RetryLater or PermanentSendFailure."""
    key = message["idempotency_key"]
    now = svc.now()
    if svc.state.get(SENT_PK, key):
        return "duplicate"
    expires = message.get("expires_at")
    if expires and now >= datetime.fromisoformat(expires):
        _note_on_ticket(svc, message["ticket_id"], now, "ack_expired", "the team was back before it could be sent")
        count("AcksExpired")
        return "expired"
    wait = take_token(svc, message["channel"], now)
    if wait:
        count("OutboundThrottled", channel=message["channel"])
        raise RetryLater(int(wait) + 1, "outbound budget exhausted")
    if not svc.state.claim(LEASE_PK, key, ttl=timedelta(minutes=10)):
        raise RetryLater(120, "another delivery of this message is in progress")
    outbound = OutboundMessage(
        channel=message["channel"], recipient=message["recipient"], text=message["text"],
        in_reply_to=message.get("in_reply_to", ""), private=bool(message.get("private")),
        idempotency_key=key, subject=message.get("subject", ""), extra=message.get("extra") or {})
    try:
        result = svc.sender(message["channel"]).send(outbound)
    except SendError as exc:
        svc.state.delete(LEASE_PK, key)
        if exc.retryable and attempt < MAX_ATTEMPTS:
            backoff = exc.retry_after or min(900, 30 * 2 ** (attempt - 1))
            count("OutboundRetried", channel=message["channel"])
            raise RetryLater(int(backoff), str(exc)) from exc
        count("OutboundFailed", channel=message["channel"])
        _note_on_ticket(svc, message["ticket_id"], now, "reply_failed", str(exc)[:200])
        raise PermanentSendFailure(str(exc)) from exc
    svc.state.put(SENT_PK, key, value={"external_id": result.external_id, "at": now.isoformat()},
                  ref=message["ticket_id"])
    # a customer answering our message threads into the same ticket
    svc.state.put(f"{REPLY_INDEX_PK}#{message['channel']}#{result.external_id}", "ticket", ref=message["ticket_id"],
                  ttl=svc.retention)
    kind = message.get("kind", "reply")
    _note_on_ticket(svc, message["ticket_id"], now, "acknowledged" if kind == "ack" else kind,
                    message.get("expires_at") or "")
    count("OutboundSent", channel=message["channel"])
    logger.info("message sent", extra={"ticket_id": message["ticket_id"], "kind": kind,
                                       "channel": message["channel"]})
    return "sent"


def deliver_record(svc, record) -> str:
    """One outbox record: a permanent failure is parked on the outbox dead-letter queue, not retried."""
    message = record.json()
    try:
        return deliver(svc, message, attempt=record.receive_count)
    except PermanentSendFailure as exc:
        svc.queues.send_dead_letter(svc.settings.outbox_queue, {**message, "error": str(exc)[:500]})
        return "failed"
