"""Queue a reply to a ticket's customer, on their own channel, through the outbox (sent by ``usecases.deliver``)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.history import ReplyFailed
from chalicelib.domain.outbound import ACK_KINDS, OutboxItem, ReplyTarget
from chalicelib.domain.service_window import service_window, window_problem
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.telemetry import count, logger, milliseconds
from chalicelib.usecases import reports

#: The key of ``OutboundMessage.extra`` (and ``ReplyTarget.extra``) that makes a WhatsApp message an approved
#: template: ``{"name", "language", "category", "parameters": [str, ...]}``; its ``text`` is the rendered body.
WHATSAPP_TEMPLATE = "whatsapp_template"


class NoReplyTarget(ValueError):
    """The ticket has no channel to answer on (it was created without a customer message)."""


def outbox_item(svc: Services, ticket: Ticket, *, kind: str, key: str, text: str,
                expires_at: datetime | None = None, target: ReplyTarget | None = None) -> OutboxItem:
    """One message to a ticket's customer; ``key`` is its idempotency key (never sent twice). ``target``: where
    to send it (default: the ticket's reply target, decided from the customer's first message)."""
    target = target or ticket.reply_target
    if target is None:
        raise NoReplyTarget(f"ticket {ticket.ticket_id} has no reply target")
    window = None if is_template(target) else service_window(ticket, target.channel)
    return OutboxItem(idempotency_key=key, kind=kind, ticket_id=ticket.ticket_id, target=target,
                      text=text, queued_at=svc.now(), expires_at=expires_at,
                      customer_wrote_at=ticket.last_customer_at,
                      priority="urgent" if ticket.urgent else "normal",
                      window_closes_at=window.closes_at if window is not None else None)


def queue_reply(svc: Services, ticket: Ticket, *, kind: str, key: str, text: str,
                expires_at: datetime | None = None, target: ReplyTarget | None = None) -> OutboxItem | None:
    """Put one message on the outbox queue (``outbox_item``). An automatic message (not an agent's reply, which is
    refused before it gets here) that the channel's customer-service window no longer allows as free-form text is
    not queued: None, noted on the ticket with why (``outside_window``)."""
    if kind != "reply" and unaddressed(ticket):
        count("AutomaticNotSent", kind=kind, why="unaddressed")
        logger.info("automatic message not sent: nobody addressed the ticket to us",
                    extra={"ticket_id": ticket.ticket_id, "kind": kind})
        return None
    item = outbox_item(svc, ticket, kind=kind, key=key, text=text, expires_at=expires_at, target=target)
    if kind != "reply" and outside_window(svc, ticket, item.target, kind):
        return None
    svc.queues.send_outbox(item.to_dict())
    return item


def unaddressed(ticket: Ticket) -> bool:
    """A ticket opened by a post that did not tag the brand (``Ticket.listened``), until its customer addresses the
    brand. No automatic message of any kind goes to it — no acknowledgement, receipt, busy or
    closing-time notice, incident follow-up — only an agent's reply: an unasked bot reply to someone who did not
    tag the brand is intrusive. The one rule, asked where every automatic message is composed
    (``acknowledge.prepare``), decided (``acknowledge.acknowledge``) and queued (``queue_reply``)."""
    return ticket.listened


def is_template(target: ReplyTarget) -> bool:
    """Whether the message is an approved WhatsApp template (allowed whatever the window)."""
    return WHATSAPP_TEMPLATE in target.extra


def outside_window(svc: Services, ticket: Ticket, target: ReplyTarget, kind: str) -> bool:
    """Whether a free-form automatic message (``kind``) to ``target`` is outside its channel's customer-service
    window now; if so it is not sent: the ticket's timeline says why (a ``reply_failed`` entry, which also settles
    an acknowledgement as parked for a person), counted (``OutsideServiceWindow``) and logged."""
    problem = None if is_template(target) else window_problem(ticket, target.channel, svc.now())
    if problem is None:
        return False
    event = ReplyFailed(svc.now(), kind, f"not sent: {problem}"[:200])
    svc.tickets.append_event(ticket.ticket_id, event)
    reports.note_delivery(svc, ticket.ticket_id, event)  # the leads' reports: an acknowledgement parked, with why
    count("OutsideServiceWindow", channel=target.channel, kind=kind)
    logger.info("automatic message not sent: outside the customer-service window",
                extra={"ticket_id": ticket.ticket_id, "kind": kind, "channel": target.channel})
    return True


def handed_over(item: OutboxItem, at: datetime) -> None:
    """Metrics of a message the channel accepted at ``at``: an acknowledgement is counted (``AcksSent``) and timed
    from the customer's message to now (``AckLatency``, milliseconds), both per kind."""
    if item.kind not in ACK_KINDS:
        return
    count("AcksSent", kind=item.kind)
    if item.customer_wrote_at is not None:
        milliseconds("AckLatency", at - item.customer_wrote_at, kind=item.kind)
