"""What became of the brand's WhatsApp messages: the statuses the Cloud API webhook reports (sent, delivered, read,
failed with Meta's error), recorded for the agent reading the ticket and counted when a message failed.

A status is never a ticket and never acknowledged. It is kept under the message id the messages endpoint answered
(``wamid…``) with the ticket that message was sent on (``ThreadIndex``, when the sender recorded it), never with the
customer's phone number. Meta does not keep statuses in order, so each is kept as it comes and ``summary`` decides:
read, then delivered (the customer has it), then failed, then sent.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from chalicelib.channels.whatsapp import Status
from chalicelib.domain import jsonvalue as jv
from chalicelib.services import Services
from chalicelib.telemetry import count

#: The order in which a message's statuses tell its state: the first one recorded wins.
_PRECEDENCE = ("read", "delivered", "failed", "sent")


def record(svc: Services, statuses: Iterable[Status]) -> int:
    """Keep every status; count ``WhatsAppMessagesFailed`` (by Meta's error code) for each failure. Returns how many
    were kept."""
    kept = 0
    for status in statuses:
        ticket_id = svc.threads.sent_message_ticket("whatsapp", status.message_id) or ""
        svc.whatsapp_statuses.record(status.message_id, status.status, {
            "status": status.status, "at": status.at.isoformat(), "ticket_id": ticket_id,
            "summary": status.summary(),
            "errors": [{"code": e.code, "title": e.title, "details": e.details} for e in status.errors]})
        if status.failed:
            codes = [str(e.code) for e in status.errors if e.code is not None] or ["none"]
            for code in codes:
                count("WhatsAppMessagesFailed", code=code, total=True)
        kept += 1
    return kept


def summary(svc: Services, message_id: str) -> str | None:
    """How an agent reads what became of one message: "read", "delivered", "failed: 131026 Message undeliverable",
    "sent"; None when no status has come."""
    found = svc.whatsapp_statuses.of(message_id)
    return _decide(found) if found else None


def of_ticket(svc: Services, ticket_id: str) -> dict[str, str]:
    """What became of each WhatsApp message sent on ``ticket_id`` whose status has come, by message id ("wamid…":
    "read", "failed: 131047 …")."""
    return {message_id: _decide(found) for message_id, found in sorted(
        svc.whatsapp_statuses.for_ticket(ticket_id).items())}


def _decide(found: dict[str, jv.JsonObject]) -> str:
    for status in _PRECEDENCE:
        if status in found:
            return jv.text(found[status], "summary") or status
    status = sorted(found)[0]
    return jv.text(found[status], "summary") or status


def delivery_view(svc: Services, ticket_id: str, channels: Iterable[str]) -> dict[str, object] | None:
    """What became of the brand's WhatsApp messages on a ticket, for the agent: how many are read, delivered, sent,
    and each failure with its reason; None for a ticket with no WhatsApp conversation (no read), or while no status
    has come."""
    if "whatsapp" not in channels:
        return None
    found = of_ticket(svc, ticket_id)
    if not found:
        return None
    counts = Counter(summary.split(":", 1)[0] for summary in found.values())
    failed = [summary for summary in found.values() if summary.startswith("failed")]
    said = ", ".join(f"{counts[status]} {status}" for status in ("read", "delivered", "sent", "failed")
                     if counts[status])
    return {"counts": dict(counts), "failed": failed, "summary": f"Our WhatsApp messages: {said}"}
