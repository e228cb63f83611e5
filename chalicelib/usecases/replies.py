"""Queue a reply to a ticket's customer, on their own channel, through the outbox (sent by ``usecases.deliver``)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.outbound import OutboxItem, ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services


class NoReplyTarget(ValueError):
    """The ticket has no channel to answer on (it was created without a customer message)."""


def queue_reply(svc: Services, ticket: Ticket, *, kind: str, key: str, text: str,
                expires_at: datetime | None = None, target: ReplyTarget | None = None) -> OutboxItem:
    """Put one message on the outbox queue; ``key`` is its idempotency key (never sent twice). ``target``: where
    to send it (default: the ticket's reply target, decided from the customer's first message)."""
    target = target or ticket.reply_target
    if target is None:
        raise NoReplyTarget(f"ticket {ticket.ticket_id} has no reply target")
    item = OutboxItem(idempotency_key=key, kind=kind, ticket_id=ticket.ticket_id, target=target,
                      text=text, queued_at=svc.now(), expires_at=expires_at)
    svc.queues.send_outbox(item.to_dict())
    return item
