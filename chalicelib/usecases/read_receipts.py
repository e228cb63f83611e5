"""Read receipts: when an agent opens (or claims) a WhatsApp ticket, the customer's latest WhatsApp message is marked
read on WhatsApp (the two blue ticks), once.

The agent's page never waits for WhatsApp: opening the ticket takes the receipt's key on the outbox ledger (one
conditional write: the first opening wins, every later one finds it taken and does nothing) and puts a message of
kind ``read`` on the outbox queue; the outbox consumer sends it (``deliver_read``). A read receipt is not a reply: it
takes no token of the channel's rate, costs nothing, is never charged to the spend budget, never goes on the
ticket's timeline, and is never counted in the reports. Anything that goes wrong is logged and counted, never
raised: a receipt is worth less than the agent's page. See ``docs/adr/0029-whatsapp-replies-and-prices.md``.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.channels.base import SendError
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import READ_RECEIPT, OutboxItem, ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.sqs_batch import RetryLater
from chalicelib.store.ports import ACQUIRED
from chalicelib.telemetry import count, logger

#: The channels whose customers see that their message was read.
CHANNELS = ("whatsapp",)
#: How long a receipt's key stays taken on the ledger: a receipt is sent once, so "for good" (the ledger's
#: retention removes it long after the message could be marked again).
HOLD = timedelta(days=3650)
#: A read receipt failing for a reason worth retrying is retried this many times, then given up (logged).
MAX_ATTEMPTS = 4


def receipt_key(mention: Mention) -> str:
    return f"read#{mention.channel}#{mention.external_id}"


def latest_unread(mentions: list[Mention]) -> Mention | None:
    """The customer's latest message on a channel with read receipts (marking it read marks the earlier ones)."""
    for mention in reversed(mentions):
        if mention.channel in CHANNELS and mention.external_id:
            return mention
    return None


def mark_read(svc: Services, ticket: Ticket, mentions: list[Mention]) -> str:
    """An agent opened or claimed ``ticket``, whose messages are ``mentions`` (oldest first): its customer's latest
    WhatsApp message is queued to be marked read, once. Returns queued | done (marked already) | none (nothing to
    mark) | failed (logged; the agent's page is unaffected)."""
    mention = latest_unread(mentions)
    if mention is None:
        return "none"
    key = receipt_key(mention)
    try:
        now = svc.now()
        if svc.outbox.acquire_lease(key, now, HOLD) != ACQUIRED:
            return "done"
        item = OutboxItem(idempotency_key=key, kind=READ_RECEIPT, ticket_id=ticket.ticket_id,
                          target=ReplyTarget.of(mention), text="", queued_at=now)
        try:
            svc.queues.send_outbox(item.to_dict())
        except Exception:
            svc.outbox.release_lease(key)  # not queued: the next opening tries again
            raise
    except Exception:
        logger.warning("read receipt not queued", exc_info=True,
                       extra={"ticket_id": ticket.ticket_id, "channel": mention.channel})
        count("ReadReceiptsFailed", channel=mention.channel)
        return "failed"
    count("ReadReceiptsQueued", channel=mention.channel)
    return "queued"


def deliver_read(svc: Services, item: OutboxItem, *, attempt: int = 1) -> str:
    """Send one read receipt from the outbox: ``read``, or ``failed`` (logged and counted: never parked for a
    person, never on the timeline). Raises RetryLater for a failure worth retrying (rate limits, Meta's own
    errors), up to ``MAX_ATTEMPTS``."""
    channel = item.target.channel
    sender = svc.sender(channel)
    try:
        sender.send(item.outbound())
    except SendError as exc:
        if exc.retryable and attempt < MAX_ATTEMPTS:
            raise RetryLater(int(exc.retry_after or 30 * 2 ** (attempt - 1)), str(exc)) from exc
        count("ReadReceiptsFailed", channel=channel)
        logger.warning("read receipt not sent", extra={"ticket_id": item.ticket_id, "channel": channel,
                                                       "error": str(exc)[:300]})
        return "failed"
    count("ReadReceiptsSent", channel=channel)
    logger.info("read receipt sent", extra={"ticket_id": item.ticket_id, "channel": channel})
    return "read"
