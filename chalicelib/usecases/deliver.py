"""The outbox: sends each queued reply exactly once, within a per-channel rate and a per-channel daily spend
budget, with retries and backoff.

One message, sent at once, costs five store calls, none of them a read: the lease (one conditional write that also
answers "sent already" or "another attempt holds it"), a token of the channel's rate (one conditional update), the
day's spend where the channel has a budget (one conditional add), the sent record (the lease item updated) with the
index of our message for the customer's answer, and the ticket's timeline entry (an append, no read)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.channels.base import SendError
from chalicelib.domain.config import usd_micros
from chalicelib.domain.outbound import OutboxItem
from chalicelib.domain.textlength import has_link
from chalicelib.domain.ticket import Event
from chalicelib.services import Services
from chalicelib.sqs_batch import Record, RetryLater
from chalicelib.store.ports import HELD, LAPSED, SENT, SentRecord
from chalicelib.telemetry import correlate, count, logger
from chalicelib.usecases.replies import handed_over

MAX_ATTEMPTS = 6
#: How long one delivery may hold a message before another may try it (the lease lapses by time, not by TTL).
LEASE = timedelta(minutes=10)
#: A message held by the spend budget is queued again as a new message (same key) once it has been received this
#: many times, so that waiting for the next day never walks it to the dead-letter queue (maxReceiveCount 6).
REQUEUE_HELD_AFTER = 4
#: SQS delays a message by 15 minutes at most; a message queued again waits that long before its next try.
REQUEUE_DELAY = 900
#: The longest one hold: SQS refuses a visibility timeout that ends more than 12 hours after the message was
#: received, and an attempt may have run up to 15 minutes by then. A longer wait takes several receives.
HOLD_STEP = 12 * 3600 - 15 * 60


class PermanentSendFailure(Exception):
    """The platform refused the message for good (it goes to the outbox dead-letter queue)."""


class SpendHeld(Exception):
    """The day's spend budget of the channel is reached: the message waits for ``until``."""

    def __init__(self, until: datetime):
        super().__init__(f"spend budget reached until {until.isoformat()}")
        self.until = until


def take_token(svc: Services, channel: str, now: datetime) -> float:
    """A token of the channel's rate (``OUTBOUND_PER_MINUTE``), shared by every Lambda: one conditional update.
    Returns 0 if a token was taken, else the seconds until one is available."""
    return svc.buckets.take(channel, now, svc.settings.outbound_per_minute)


def spend_day(svc: Services, now: datetime) -> tuple[str, datetime]:
    """The budget's day (the brand's time zone) and when the next one starts."""
    zone = ZoneInfo(svc.config.brand.timezone)
    today = now.astimezone(zone).date()
    return today.isoformat(), datetime.combine(today + timedelta(days=1), time(0), zone)


def charge(svc: Services, item: OutboxItem, now: datetime) -> tuple[str, int] | None:
    """Count the message's price in the day's spend of its channel (one atomic conditional add). None when the
    channel has no budget or the post is free; SpendHeld when the day's budget would be exceeded."""
    channel = item.target.channel
    budget = svc.config.spend.get(channel)
    if budget is None:
        return None
    micros = usd_micros(budget.price_usd(channel, with_url=has_link(item.text, channel)))
    if micros <= 0:
        return None
    day, next_day = spend_day(svc, now)
    if not svc.spend.charge(channel, day, micros, usd_micros(budget.daily_usd)):
        raise SpendHeld(next_day)
    return day, micros


def _note_on_ticket(svc: Services, ticket_id: str, now: datetime, kind: str, detail: str = "") -> None:
    """A timeline entry, appended without reading the ticket."""
    if not svc.tickets.append_event(ticket_id, Event(now, kind, detail)):
        logger.warning("timeline entry not saved: no such ticket", extra={"ticket_id": ticket_id, "kind": kind})


def _hold(svc: Services, item: OutboxItem, held: SpendHeld, now: datetime, attempt: int) -> str:
    """Over the day's budget: the message waits on the outbox queue (its lease released, nothing sent)."""
    channel = item.target.channel
    count("SpendBudgetReached", channel=channel, total=True)  # the alarm reads the total
    logger.warning("spend budget reached: message held", extra={
        "ticket_id": item.ticket_id, "kind": item.kind, "channel": channel, "until": held.until.isoformat()})
    if attempt >= REQUEUE_HELD_AFTER:
        svc.queues.send_outbox(item.to_dict(), delay=REQUEUE_DELAY)
        return "held"
    raise RetryLater(min(int((held.until - now).total_seconds()) + 60, HOLD_STEP), str(held))


def deliver(svc: Services, item: OutboxItem, *, attempt: int = 1) -> str:
    """Returns sent | duplicate | expired | held; raises RetryLater or PermanentSendFailure."""
    key, channel = item.idempotency_key, item.target.channel
    now = svc.now()
    sender = svc.sender(channel)  # before the lease: a sender that cannot be built has sent nothing
    expired = bool(item.expires_at and now >= item.expires_at)
    if not expired:
        # the rate before the lease: a throttled attempt takes no lease, so none is left behind to lapse
        wait = take_token(svc, channel, now)
        if wait:
            count("OutboundThrottled", channel=channel)
            raise RetryLater(int(wait) + 1, "outbound rate exhausted")
    lease = svc.outbox.acquire_lease(key, now, LEASE)
    if lease == SENT:
        return "duplicate"
    if lease == HELD:
        raise RetryLater(120, "another delivery of this message is in progress")
    if lease == LAPSED:
        # an earlier attempt started sending and never said how it ended: it may have reached the customer, and
        # a second copy is worse than a human checking (exactly once per key, or not at all and visible)
        count("OutboundOutcomeUnknown", channel=channel)
        _note_on_ticket(svc, item.ticket_id, now, "reply_unconfirmed", item.kind)
        raise PermanentSendFailure("an earlier attempt to send this message ended without a result; check the "
                                   "platform before sending it again")
    # this attempt holds the lease: every way out below either records the send or releases it
    if expired:
        svc.outbox.release_lease(key)
        _note_on_ticket(svc, item.ticket_id, now, "ack_expired", "the team was back before it could be sent")
        count("AcksExpired")
        return "expired"
    try:
        charged = charge(svc, item, now)  # after the lease: a duplicate is never charged
    except SpendHeld as held:
        svc.outbox.release_lease(key)
        return _hold(svc, item, held, now, attempt)
    except Exception:  # a store error before the send: nothing went out, so the next attempt may send it
        svc.outbox.release_lease(key)
        raise
    try:
        result = sender.send(item.outbound())
    except SendError as exc:
        svc.outbox.release_lease(key)
        if charged is not None:
            svc.spend.refund(channel, *charged)
        if exc.retryable and attempt < MAX_ATTEMPTS:
            backoff = exc.retry_after or min(900, 30 * 2 ** (attempt - 1))
            count("OutboundRetried", total=True, channel=channel)
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
    handed_over(item, svc.now())
    logger.info("message sent", extra={"ticket_id": item.ticket_id, "kind": item.kind, "channel": channel})
    return "sent"


def deliver_record(svc: Services, record: Record) -> str:
    """One outbox record: a permanent failure is parked on the outbox dead-letter queue, not retried."""
    message = record.json()
    item = OutboxItem.from_dict(message)
    correlate(item.ticket_id)
    try:
        return deliver(svc, item, attempt=record.receive_count)
    except PermanentSendFailure as exc:
        svc.queues.send_dead_letter(svc.settings.outbox_queue, {**message, "error": str(exc)[:500]})
        return "failed"
