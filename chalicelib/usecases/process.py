"""Behind the inbound queue: parse, dedupe, thread, triage, route, acknowledge. Every step is idempotent, so
an SQS redelivery, a webhook retry or a poll overlap changes nothing the first delivery did."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.channels import email as email_channel
from chalicelib.channels import meta as meta_channel
from chalicelib.channels import x as x_channel
from chalicelib.domain import sla
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.routing import RouteDecision, queue_message, route
from chalicelib.domain.ticket import Ticket, new_reference
from chalicelib.domain.triage import triage
from chalicelib.services import Services
from chalicelib.store.ports import AlreadyExists
from chalicelib.telemetry import count, logger, tracer
from chalicelib.usecases.acknowledge import acknowledge


@dataclass(frozen=True)
class Outcome:
    mention_key: str
    result: str  # created | threaded | duplicate
    ticket_id: str


def parse_envelope(svc: Services, envelope: dict[str, Any]) -> list[Mention]:
    if not isinstance(envelope, dict) or envelope.get("v") != 1:
        raise ValueError("not an inbound envelope of version 1")
    kind, payload = envelope.get("kind"), envelope.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("the envelope has no payload object")
    if kind == "x":
        return x_channel.parse(payload, brand_id=svc.settings.x_account_id)
    if kind == "meta":
        return meta_channel.parse(payload, page_ids=set(svc.settings.meta_page_ids),
                                  ig_ids=set(svc.settings.instagram_account_ids))
    if kind == "email":
        return email_channel.parse_sns_notification(payload)
    if kind == "mentions":
        return [Mention.from_dict(m) for m in payload["mentions"]]
    raise ValueError(f"unknown envelope kind {kind!r}")


@tracer.capture_method
def process_envelope(svc: Services, envelope: dict[str, Any], *, raw_ref: str = "") -> list[Outcome]:
    mentions = parse_envelope(svc, envelope)
    if raw_ref:
        mentions = [replace(m, raw_ref=raw_ref) for m in mentions]
    outcomes = [process_mention(svc, mention) for mention in mentions]
    for outcome in outcomes:
        count(f"Mentions{outcome.result.capitalize()}")
    return outcomes


def _find_ticket_id(svc: Services, mention: Mention) -> str | None:
    """The ticket this mention belongs to: same conversation, or a reply to a message of a known ticket."""
    ticket_id = svc.threads.conversation_ticket(mention.conversation_key)
    if ticket_id:
        return ticket_id
    if mention.reply_to:
        ticket_id = svc.threads.sent_message_ticket(mention.channel, mention.reply_to)
        if ticket_id:
            return ticket_id
        parent = svc.mentions.get(f"{mention.channel}#{mention.reply_to}")
        if parent is not None and parent.ticket_id:
            return parent.ticket_id
    return None


def _thread_into(svc: Services, ticket_id: str, mention: Mention) -> Ticket | None:
    return svc.tickets.update(ticket_id, lambda ticket: ticket.customer_wrote(mention.key, mention.created_at))


def _new_ticket(svc: Services, mention: Mention, ticket_id: str, now: datetime) -> tuple[Ticket, RouteDecision]:
    result = triage(mention.text, channel=mention.channel, config=svc.config, followers=mention.followers,
                    language=mention.language)
    decision = route(result, calendar=svc.calendar, config=svc.config, now=now, written_at=mention.created_at)
    customer_id = svc.customers.resolve(mention.identity_key, "C" + uuid.uuid4().hex[:12], channel=mention.channel,
                                        handle=mention.author_handle, display_name=mention.author_name, at=now)
    flags = []
    if result.intent == "abuse":
        flags.append("abuse")
    if result.high_reach:
        flags.append("high_reach")
    if result.personal_data and mention.visibility == "public":
        flags.append("personal_data_in_public")
    ticket = Ticket(
        ticket_id=ticket_id, desk=decision.desk, priority=result.priority, intent=result.intent,
        channel=mention.channel, conversation_key=mention.conversation_key, customer_id=customer_id,
        first_contact_at=mention.created_at, last_customer_at=mention.created_at, language=result.language,
        mention_keys=[mention.key], reply_target=ReplyTarget.of(mention), flags=flags,
        references=dict(result.references), reasons=list(result.reasons),
        first_response_due=sla.first_response_due(mention.created_at, mention.channel, result.priority,
                                                  decision.desk, svc.config, svc.calendar),
    )
    ticket.record(mention.created_at, "received", mention.channel)
    ticket.record(now, "queued", decision.desk)
    if decision.escalated:
        ticket.record(now, "escalated", f"{decision.triaged_desk} closed; on-call desk {decision.desk}")
    return ticket, decision


@tracer.capture_method
def process_mention(svc: Services, mention: Mention) -> Outcome:
    now = svc.now()
    if not svc.mentions.add_if_new(mention, now):
        existing = svc.mentions.get(mention.key)
        if existing is not None and existing.ticket_id:
            return Outcome(mention.key, "duplicate", existing.ticket_id)
        # stored by an attempt that did not finish: carry on where it stopped

    ticket_id = _find_ticket_id(svc, mention)
    if ticket_id:
        threaded = _thread_into(svc, ticket_id, mention)
        if threaded is not None:
            svc.threads.claim_conversation(mention.conversation_key, threaded.ticket_id)
            svc.mentions.mark_processed(mention.key, threaded.ticket_id)
            logger.info("mention threaded", extra={"mention": mention.key, "ticket_id": threaded.ticket_id})
            return Outcome(mention.key, "threaded", threaded.ticket_id)

    # a new conversation: the conditional write on the conversation decides which delivery creates the ticket
    candidate = ticket_id or new_reference()
    if not svc.threads.claim_conversation(mention.conversation_key, candidate):
        winner = svc.threads.conversation_ticket(mention.conversation_key) or candidate
        if svc.tickets.get(winner) is not None:
            _thread_into(svc, winner, mention)
            svc.mentions.mark_processed(mention.key, winner)
            return Outcome(mention.key, "threaded", winner)
        candidate = winner  # the earlier attempt claimed the conversation but stopped before saving

    ticket, decision = _new_ticket(svc, mention, candidate, now)
    try:
        svc.tickets.add(ticket)
    except AlreadyExists:
        svc.mentions.mark_processed(mention.key, ticket.ticket_id)
        return Outcome(mention.key, "duplicate", ticket.ticket_id)
    svc.queues.send_desk(ticket.desk, queue_message(ticket, decision=decision, at=now))
    if decision.acknowledge:
        acknowledge(svc, ticket, back_at=decision.next_opening, kind="ack", text=mention.text)
    svc.mentions.mark_processed(mention.key, ticket.ticket_id)
    logger.info("ticket created", extra={
        "mention": mention.key, "ticket_id": ticket.ticket_id, "desk": ticket.desk, "priority": ticket.priority,
        "intent": ticket.intent, "desk_open": decision.open, "ack": decision.acknowledge})
    return Outcome(mention.key, "created", ticket.ticket_id)
