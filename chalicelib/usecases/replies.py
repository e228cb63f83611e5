"""Queue a reply to a ticket's customer, on their own channel, through the outbox (sent by ``usecases.deliver``)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.outbound import ACK_KINDS, OutboxItem, ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.telemetry import count, milliseconds


class NoReplyTarget(ValueError):
    """The ticket has no channel to answer on (it was created without a customer message)."""


def outbox_item(svc: Services, ticket: Ticket, *, kind: str, key: str, text: str,
                expires_at: datetime | None = None, target: ReplyTarget | None = None) -> OutboxItem:
    """One message to a ticket's customer; ``key`` is its idempotency key (never sent twice). ``target``: where
    to send it (default: the ticket's reply target, decided from the customer's first message)."""
    target = target or ticket.reply_target
    if target is None:
        raise NoReplyTarget(f"ticket {ticket.ticket_id} has no reply target")
    return OutboxItem(idempotency_key=key, kind=kind, ticket_id=ticket.ticket_id, target=target,
                      text=text, queued_at=svc.now(), expires_at=expires_at,
                      customer_wrote_at=ticket.last_customer_at,
                      priority="urgent" if ticket.urgent else "normal")


def queue_reply(svc: Services, ticket: Ticket, *, kind: str, key: str, text: str,
                expires_at: datetime | None = None, target: ReplyTarget | None = None) -> OutboxItem:
    """Put one message on the outbox queue (``outbox_item``)."""
    item = outbox_item(svc, ticket, kind=kind, key=key, text=text, expires_at=expires_at, target=target)
    svc.queues.send_outbox(item.to_dict())
    return item


def handed_over(item: OutboxItem, at: datetime) -> None:
    """Metrics of a message the channel accepted at ``at``: an acknowledgement is counted (``AcksSent``) and timed
    from the customer's message to now (``AckLatency``, milliseconds), both per kind."""
    if item.kind not in ACK_KINDS:
        return
    count("AcksSent", kind=item.kind)
    if item.customer_wrote_at is not None:
        milliseconds("AckLatency", at - item.customer_wrote_at, kind=item.kind)
