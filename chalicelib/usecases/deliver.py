"""The outbox: sends each queued reply exactly once, within a per-channel rate and a per-channel daily spend
budget, with retries and backoff.

One acknowledgement, sent at once, costs three store calls, none of them a read: the channel's allowance (a token
of its rate and, where it has a budget, the post's price added to the day's spend: one conditional update), the
lease (one conditional write that also answers "another attempt holds it or sent it"), and the ticket's timeline
entry, which also records that the key was sent (``sent_keys``; an append, no read). An agent's reply also writes
the index of our message, so that the customer's answer to it finds its ticket. A lease found held or lapsed is
told apart by reading the ticket: sent already (a duplicate), or an attempt whose outcome is unknown."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as day_start
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.channels.base import SendError
from chalicelib.domain import message_prices
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.config import usd_micros
from chalicelib.domain.history import AckExpired, Event, ReplyFailed, ReplyUnconfirmed, Sent, WaitingForRate
from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.outbound import ACK_KINDS, READ_RECEIPT, OutboxItem, waiting_order
from chalicelib.domain.service_window import window_problem
from chalicelib.domain.textlength import has_link
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.sqs_batch import Record, RetryLater
from chalicelib.store.ports import ACQUIRED, HELD, SENT, Charge
from chalicelib.telemetry import correlate, count, logger
from chalicelib.usecases import read_receipts, reports
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


#: The longest a platform call may take (the X client's timeout; the Graph API's and the others' are shorter or equal).
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class SendDeadline:
    """Until when (``time.monotonic``), in this invocation, new tickets' acknowledgements are sent at once; after it
    they are handed to the outbox, so that a batch of many mentions never runs the invocation out of time (a send cut
    off by it would end unknown). ``until`` None: no limit. Built by the handler, passed down to ``send_now``."""

    until: float | None = None

    @classmethod
    def of(cls, context: Any) -> SendDeadline:
        """From a Lambda context: half the time the invocation has left, less one send's timeout (no limit for a
        context that cannot tell)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return NO_DEADLINE
        return cls(time.monotonic() + max(0.0, float(remaining()) / 1000 / 2 - SEND_TIMEOUT))

    def passed(self) -> bool:
        return self.until is not None and time.monotonic() >= self.until


#: No limit: every acknowledgement is tried at once (tests, tools, the local stack without a Lambda context).
NO_DEADLINE = SendDeadline()


class PermanentSendFailure(Exception):
    """The platform refused the message for good (it goes to the outbox dead-letter queue)."""


class SpendHeld(Exception):
    """The day's spend budget of the channel is reached: the message waits for ``until``."""

    def __init__(self, until: datetime):
        super().__init__(f"spend budget reached until {until.isoformat()}")
        self.until = until


def spend_day(svc: Services, now: datetime) -> tuple[str, datetime]:
    """The budget's day (the brand's time zone) and when the next one starts."""
    zone = ZoneInfo(svc.config.brand.timezone)
    today = now.astimezone(zone).date()
    return today.isoformat(), datetime.combine(today + timedelta(days=1), day_start(0), zone)


def price(svc: Services, item: OutboxItem, now: datetime) -> Charge | None:
    """The message's charge to the day's spend of its channel: None when the channel has no budget or the post is
    free."""
    channel = item.target.channel
    budget = svc.config.spend.get(channel)
    if budget is None:
        return None
    if message_prices.priced_per_message(channel):  # by category and the recipient's market (WhatsApp)
        usd = message_prices.message_price_usd(budget, channel, extra=item.target.extra,
                                               recipient=item.target.recipient)
    else:
        usd = budget.price_usd(channel, with_url=has_link(item.text, channel))
    micros = usd_micros(usd)
    if micros <= 0:
        return None
    return Charge(spend_day(svc, now)[0], micros, usd_micros(budget.daily_usd))


def _was_sent(svc: Services, item: OutboxItem) -> bool:
    """Whether the ticket records that the message of this key went out (read only when a lease is found)."""
    ticket = svc.tickets.get(item.ticket_id)
    return ticket is not None and item.idempotency_key in ticket.sent_keys


def _note_on_ticket(svc: Services, ticket_id: str, event: Event, *, sent_key: str = "",
                    release_ack_lease: bool = False) -> None:
    """A timeline entry, appended without reading the ticket (with the key of the message sent, if any, and the
    ticket's acknowledgement lease released if asked)."""
    if not svc.tickets.append_event(ticket_id, event, sent_key=sent_key, release_ack_lease=release_ack_lease):
        logger.warning("timeline entry not saved: no such ticket", extra={"ticket_id": ticket_id, "kind": event.kind})
    reports.note_delivery(svc, ticket_id, event)  # the leads' reports: an acknowledgement's fate changes figures


def _unconfirmed(svc: Services, ticket_id: str, channel: str, kind: str, now: datetime, why: str, *,
                 settle_key: str = "", release_ack_lease: bool = False) -> None:
    """A send that may have reached the customer: counted, and noted on its ticket with why, for a person
    (``settle_key``: the key recorded as never to be sent again)."""
    count("OutboundOutcomeUnknown", channel=channel)
    _note_on_ticket(svc, ticket_id, ReplyUnconfirmed(now, kind, why[:200]), sent_key=settle_key,
                    release_ack_lease=release_ack_lease)


def _sent(svc: Services, item: OutboxItem, now: datetime, external_id: str, *, release_ack_lease: bool = False) -> str:
    """What follows a send the platform accepted: the timeline entry that records it (the key in ``sent_keys``: a
    redelivery finds it and sends nothing), the index of an agent's message, the metrics and the log line."""
    channel = item.target.channel
    _note_on_ticket(svc, item.ticket_id, Sent(now, item.kind, item.expires_at), sent_key=item.idempotency_key,
                    release_ack_lease=release_ack_lease)
    found = profile(channel)
    if item.kind not in ACK_KINDS or (found is not None and found.reports_delivery):
        # a customer answering an agent's message threads into its ticket (an acknowledgement needs no index:
        # its customer's open-ticket pointer leads to the same ticket); where the platform reports deliveries (WhatsApp)
        # every message is indexed, as the statuses name a message by its id alone (ADR 0028)
        svc.threads.remember_sent_message(channel, external_id, item.ticket_id)
    count("OutboundSent", channel=channel)
    handed_over(item, svc.now())
    logger.info("message sent", extra={"ticket_id": item.ticket_id, "kind": item.kind, "channel": channel,
                                       "external_id": external_id})
    return "sent"


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
    """Returns sent | duplicate | expired | held | waiting | scheduled, or failed (outside the customer-service
    window: parked, never retried); raises RetryLater (a send that failed and is worth retrying) or
    PermanentSendFailure."""
    key, channel = item.idempotency_key, item.target.channel
    now = svc.now()
    too_late = _window_problem(svc, item, now)
    if too_late:
        return outside_window(svc, item, now, too_late)
    sender = svc.sender(channel)  # before anything is taken: a sender that cannot be built has sent nothing
    expired = bool(item.expires_at and now >= item.expires_at)
    charged = None
    reserved = _reserved(item, now, attempt)
    if reserved and item.slot is not None and item.slot - now > timedelta(seconds=SLOT_EARLY):
        # here before its slot (a delay longer than SQS's 15 minutes, or clocks apart): queued again for the rest
        svc.queues.send_outbox(item.to_dict(), delay=int((item.slot - now).total_seconds()) + 1)
        return "scheduled"
    if reserved:  # its token (and charge) were taken when the slot was reserved (``usecases.waiting``)
        charged = price(svc, item, now)
    elif not expired:
        # the allowance before the lease: a refused attempt takes no lease, so none is left behind to lapse
        charged = price(svc, item, now)
        allowance = svc.allowance.take(channel, now, svc.rate_per_minute(channel), charged)
        if allowance.over_budget:
            _, next_day = spend_day(svc, now)
            return _hold(svc, item, SpendHeld(next_day), now, attempt)
        if allowance.wait:  # waiting is not failing: the dispatcher gives it a slot; no SQS receive is spent
            count("OutboundThrottled", channel=channel)
            return wait(svc, item, now, "the channel's rate")
    try:
        lease = svc.outbox.acquire_lease(key, now, LEASE)
    except Exception:  # nothing went out: the charge is given back
        _refund(svc, channel, charged)
        raise
    if lease != ACQUIRED:
        _refund(svc, channel, charged)  # a duplicate is never charged
        if lease == SENT or _was_sent(svc, item):
            return "duplicate"
        if lease == HELD:
            raise RetryLater(120, "another delivery of this message is in progress")
        # an earlier attempt started sending and never said how it ended: it may have reached the customer, and
        # a second copy is worse than a human checking (exactly once per key, or not at all and visible)
        _unconfirmed(svc, item.ticket_id, channel, item.kind, now,
                     "an earlier attempt to send it ended without a result")
        raise PermanentSendFailure("an earlier attempt to send this message ended without a result; check the "
                                   "platform before sending it again")
    # this attempt holds the lease: every way out below either records the send or releases it
    if expired:
        svc.outbox.release_lease(key)
        return expire(svc, item, now)
    try:
        result = sender.send(item.outbound())
    except SendError as exc:
        if exc.outcome_unknown:  # the lease stays: nothing sends it again
            _unconfirmed(svc, item.ticket_id, channel, item.kind, now, f"the send ended without a result ({exc})",
                         settle_key=key)
            raise PermanentSendFailure(f"the send ended without a result ({exc}); check the platform before "
                                       f"sending it again") from exc
        svc.outbox.release_lease(key)
        _refund(svc, channel, charged)
        if exc.retryable and attempt < MAX_ATTEMPTS:
            backoff = exc.retry_after or min(900, 30 * 2 ** (attempt - 1))
            count("OutboundRetried", total=True, channel=channel)
            raise RetryLater(int(backoff), str(exc)) from exc
        count("OutboundFailed", channel=channel)
        _note_on_ticket(svc, item.ticket_id, ReplyFailed(now, item.kind, str(exc)[:200]))
        raise PermanentSendFailure(str(exc)) from exc
    # an acknowledgement's ticket lease (``send_now``) is dropped with the record: sent, whoever sent it
    return _sent(svc, item, now, result.external_id, release_ack_lease=item.kind in ACK_KINDS)


#: A reserved message that arrives this many seconds or less before its slot is sent (SQS delays are whole seconds).
SLOT_EARLY = 2
#: A slot older than this is not honoured (a message parked and redriven long after): it takes a token again.
SLOT_STALE = timedelta(minutes=5)


def _reserved(item: OutboxItem, now: datetime, attempt: int) -> bool:
    """Whether this delivery uses the slot reserved for it: on its first receive only (a retry after a failed send
    takes a new token), and not once the slot is long past."""
    return item.slot is not None and attempt <= 1 and now - item.slot < SLOT_STALE


def _window_problem(svc: Services, item: OutboxItem, now: datetime) -> str | None:
    """Why a free-form message would reach the platform after its customer-service window closed (WhatsApp's 24
    hours, ``OutboxItem.window_closes_at``; a send may take ``SEND_TIMEOUT``), or None. The ticket is read only then
    (one read): a customer who wrote again since it was queued has opened the window again."""
    closes = item.window_closes_at
    arrives = now + timedelta(seconds=SEND_TIMEOUT)
    if closes is None or arrives < closes:
        return None
    ticket = svc.tickets.get(item.ticket_id)
    if ticket is None:
        return "the customer-service window closed before it could be sent"
    return window_problem(ticket, item.target.channel, arrives)


def outside_window(svc: Services, item: OutboxItem, now: datetime, why: str) -> str:
    """A free-form message whose customer-service window closed before it could go (a reply queued at 23 h 59 min
    that waited for the channel's rate): never sent nor retried (the platform would refuse it: WhatsApp's error
    131047), noted on the ticket with the reason, counted and parked for a person, who may send a template."""
    count("OutsideServiceWindow", channel=item.target.channel, kind=item.kind)
    _note_on_ticket(svc, item.ticket_id, ReplyFailed(now, item.kind, f"not sent: {why}"[:200]))
    _park(svc, item.to_dict(), f"not sent: {why}")
    return "failed"


def expire(svc: Services, item: OutboxItem, now: datetime) -> str:
    """An acknowledgement whose time is over (the team was back before it could be sent): not sent, and said so on
    the ticket and in the metrics."""
    _note_on_ticket(svc, item.ticket_id, AckExpired(now))
    count("AcksExpired", channel=item.target.channel)
    return "expired"


def wait(svc: Services, item: OutboxItem, now: datetime, why: str) -> str:
    """The channel's rate cannot send it now: it waits in the waiting room, in its place (``waiting_order``),
    until the dispatcher reserves it a slot (``usecases.waiting``). Noted on the ticket and counted."""
    channel = item.target.channel
    svc.waiting.add(channel, waiting_order(replace(item, slot=None)), replace(item, slot=None).to_dict())
    count("OutboundWaiting", channel=channel)
    _note_on_ticket(svc, item.ticket_id, WaitingForRate(now, item.kind, why))
    return "waiting"


def send_now(svc: Services, item: OutboxItem, deadline: SendDeadline = NO_DEADLINE) -> str:
    """Send a new ticket's acknowledgement from the attempt that saved the ticket, its sending lease being the
    ticket's ``ack_lease``: no outbox message, no lease item — the allowance, the send, and the timeline entry that
    records it (releasing the lease). Throttled, over the budget, a failure worth retrying, a store error before
    the send, or this invocation's time for sending at once used up (``deadline``): the lease is
    released and the message handed to the outbox, which sends it once as any other. Returns sent | queued | failed
    | unknown. A send whose outcome is unknown (the request went out, no answer came, or an error no sender
    expects) is settled: its key recorded on the ticket as never to be sent again, counted, noted and parked for a
    person; a crash between saving the ticket and recording the send leaves the lease, which the attempt that
    resumes reports the same way once it lapses (``resume_ack``)."""
    channel = item.target.channel
    now = svc.now()
    if deadline.passed():
        return _hand_over(svc, item, delay=0)  # the rest of this invocation's work first; the outbox sends it
    try:  # the store calls before the send: an error here means nothing went out
        sender = svc.sender(channel)
        cost = price(svc, item, now)
        allowance = svc.allowance.take(channel, now, svc.rate_per_minute(channel), cost)
    except Exception:
        logger.warning("acknowledgement handed to the outbox after an error", exc_info=True,
                       extra={"ticket_id": item.ticket_id, "channel": channel})
        return _hand_over(svc, item, delay=0)
    if not allowance.allowed:  # nothing was taken
        if allowance.wait:  # waiting is not failing: it waits for a slot of the rate, in priority order
            count("OutboundThrottled", channel=channel)
            try:
                wait(svc, item, now, "the channel's rate")
            except Exception:
                logger.warning("acknowledgement handed to the outbox: the waiting room refused it", exc_info=True,
                               extra={"ticket_id": item.ticket_id, "channel": channel})
                return _hand_over(svc, item, delay=0)
            _release_ack_lease(svc, item)
            return "waiting"
        return _hand_over(svc, item, delay=0)
    try:
        result = sender.send(item.outbound())
    except SendError as exc:
        if exc.outcome_unknown:
            return _unknown(svc, item, now, str(exc))
        _refund(svc, channel, cost)
        if exc.retryable:
            count("OutboundRetried", total=True, channel=channel)
            return _hand_over(svc, item, delay=int(exc.retry_after or 30))
        count("OutboundFailed", channel=channel)
        _note_on_ticket(svc, item.ticket_id, ReplyFailed(now, item.kind, str(exc)[:200]),
                        release_ack_lease=True)
        _park(svc, item.to_dict(), str(exc))
        return "failed"
    except Exception as exc:  # no sender raises anything else on purpose: it may have reached the platform
        logger.exception("acknowledgement send ended without a result", extra={"ticket_id": item.ticket_id,
                                                                                "channel": channel})
        return _unknown(svc, item, now, type(exc).__name__)
    return _sent(svc, item, now, result.external_id, release_ack_lease=True)


def settle_unknown(svc: Services, item: OutboxItem, why: str) -> str:
    """An acknowledgement whose inline send was cut off (its ticket's lease lapsed without a record): settled as a
    send without a result (``_unknown``): never sent again, and parked for a person with the reason."""
    return _unknown(svc, item, svc.now(), why)


def _unknown(svc: Services, item: OutboxItem, now: datetime, why: str) -> str:
    """A send that may have reached the customer: its key is recorded on the ticket as never to be sent again (with
    the lease released: settled) and on the outbox ledger (a lease: a redrive of the parked message finds it, reads
    the ticket and sends nothing), and a person is told (counted, noted, parked on the outbox dead-letter queue).
    The ledger first, and a failure of it raised: the outbox reads the ticket only when it finds a lease, so a
    message parked without one would be sent again by a redrive. The attempt fails and, retried, settles it once the
    ticket's sending lease has lapsed (``resume_ack``)."""
    svc.outbox.acquire_lease(item.idempotency_key, now, LEASE)
    _unconfirmed(svc, item.ticket_id, item.target.channel, item.kind, now,
                 f"the send ended without a result ({why[:200]})", settle_key=item.idempotency_key,
                 release_ack_lease=True)
    _park(svc, item.to_dict(), f"the send ended without a result ({why[:200]}); check the platform before sending "
                               f"it again")
    return "unknown"


def _park(svc: Services, message: JsonObject, error: str) -> None:
    """On the outbox dead-letter queue, with why, for a person (``tools.admin dlq``), and counted (the alarm's
    exception, never the normal path). Its ticket says so already: every message parked was first noted
    ``reply_failed`` or ``reply_unconfirmed`` (``domain.ticket.ack_state``)."""
    svc.queues.send_dead_letter(svc.settings.outbox_queue, {**message, "error": error[:500]})
    count("OutboundParked", channel=str(message.get("channel", "")), kind=str(message.get("kind", "")))


def _hand_over(svc: Services, item: OutboxItem, *, delay: int) -> str:
    """The outbox takes the message over (its own lease from there). Queued first, then the ticket's lease is
    released: a release that fails leaves an acknowledgement that is on its way (the outbox's send drops the lease
    with its record), never one that is neither sent nor queued."""
    svc.queues.send_outbox(item.to_dict(), delay=min(delay, REQUEUE_DELAY))
    count("AcksHandedOver", channel=item.target.channel)
    _release_ack_lease(svc, item)
    return "queued"


def _release_ack_lease(svc: Services, item: OutboxItem) -> None:
    """Drop the ticket's lease on its acknowledgement once the message is in the outbox's hands; a failure is logged,
    not raised: the outbox's send drops it too."""
    try:
        svc.tickets.release_ack_lease(item.ticket_id)
    except Exception:
        logger.warning("acknowledgement lease not released; the outbox's record drops it", exc_info=True,
                       extra={"ticket_id": item.ticket_id})


#: What ``resume_ack`` answers.
QUEUE_AGAIN, SETTLED, CUT_OFF = "queue", "settled", "cut off"


def resume_ack(svc: Services, ticket: Ticket, key: str) -> str:
    """An attempt resumes a ticket saved with its acknowledgement: ``queue`` (again: the outbox sends a key once);
    ``settled`` when the ticket records it sent (or settled as unknown); while an inline send may still be under
    way (``ack_lease``), later; once that lease has lapsed without a record, ``cut off``: it may have reached the
    customer, and a second copy is worse than a human checking — the caller settles it (``settle_unknown``: never
    sent again, parked with the reason for a person)."""
    if key in ticket.sent_keys:
        return SETTLED
    if ticket.ack_lease is None:
        return QUEUE_AGAIN
    now = svc.now()
    if now < ticket.ack_lease:
        raise RetryLater(int((ticket.ack_lease - now).total_seconds()) + 1, "the acknowledgement may be being sent")
    return CUT_OFF


def _refund(svc: Services, channel: str, charged: Charge | None) -> None:
    if charged is not None:
        svc.allowance.refund(channel, charged.day, charged.micros)


def deliver_record(svc: Services, record: Record) -> str:
    """One outbox record: a permanent failure is parked on the outbox dead-letter queue, not retried."""
    message = record.json()
    item = OutboxItem.from_dict(message)
    correlate(item.ticket_id)
    if item.kind == READ_RECEIPT:  # not a message to the customer: no rate, spend, lease or timeline entry
        return read_receipts.deliver_read(svc, item, attempt=record.receive_count)
    try:
        return deliver(svc, item, attempt=record.receive_count)
    except PermanentSendFailure as exc:
        _park(svc, message, str(exc))
        return "failed"
