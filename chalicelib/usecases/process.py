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
from chalicelib.domain.routing import queue_message, route
from chalicelib.domain.ticket import Ticket, new_reference
from chalicelib.domain.triage import triage
from chalicelib.store.repositories import AlreadyExists
from chalicelib.telemetry import count, logger, tracer
from chalicelib.usecases.acknowledge import acknowledge

CONVERSATION_PK = "conv"  # state item: pk "conv#<conversation key>", sk "ticket", ref = ticket id
REPLY_INDEX_PK = "msg"  # state item: pk "msg#<channel>#<external id>", sk "ticket": our own sent messages


@dataclass(frozen=True)
class Outcome:
    mention_key: str
    result: str  # created | threaded | duplicate
    ticket_id: str


def parse_envelope(svc, envelope: dict[str, Any]) -> list[Mention]:
    if not isinstance(envelope, dict) or envelope.get("v") != 1:
        raise ValueError("not an inbound envelope of version 1")
    kind, payload = envelope.get("kind"), envelope.get("payload")
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
def process_envelope(svc, envelope: dict[str, Any], *, raw_ref: str = "") -> list[Outcome]:
    mentions = parse_envelope(svc, envelope)
    if raw_ref:
        mentions = [replace(m, raw_ref=raw_ref) for m in mentions]
    outcomes = [process_mention(svc, mention) for mention in mentions]
    for outcome in outcomes:
        count(f"Mentions{outcome.result.capitalize()}")
    return outcomes


def _find_ticket_id(svc, mention: Mention) -> str | None:
    """The ticket this mention belongs to: same conversation, or a reply to a message of a known ticket."""
    for pk in (f"{CONVERSATION_PK}#{mention.conversation_key}",
               f"{REPLY_INDEX_PK}#{mention.channel}#{mention.reply_to}" if mention.reply_to else None):
        if pk:
            item = svc.state.get(pk, "ticket")
            if item and item.ref:
                return item.ref
    if mention.reply_to:
        parent = svc.mentions.get(f"{mention.channel}#{mention.reply_to}")
        if parent and parent.ticket_id:
            return parent.ticket_id
    return None


def _thread_into(svc, ticket_id: str, mention: Mention) -> Ticket | None:
    return svc.tickets.update(ticket_id, lambda ticket: ticket.customer_wrote(mention.key, mention.created_at))


def _reply_target(mention: Mention) -> dict[str, Any]:
    return {"channel": mention.channel, "recipient": mention.author_id, "in_reply_to": mention.external_id,
            "private": mention.visibility == "private", "subject": mention.subject,
            "name": mention.author_name or mention.author_handle, "handle": mention.author_handle,
            "extra": mention.extra}


def _new_ticket(svc, mention: Mention, ticket_id: str, now: datetime):
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
        mention_keys=[mention.key], reply_target=_reply_target(mention), flags=flags,
        references=dict(result.references), reasons=list(result.reasons),
        first_response_due=sla.first_response_due(mention.created_at, mention.channel, result.priority,
                                                  decision.desk, svc.config, svc.calendar),
    )
    ticket.record(mention.created_at, "received", mention.channel)
    ticket.record(now, "queued", decision.desk)
    if decision.escalated:
        ticket.record(now, "escalated", f"{decision.triaged_desk} closed; on-call desk {decision.desk}")
    return ticket, result, decision


@tracer.capture_method
def process_mention(svc, mention: Mention) -> Outcome:
    now = svc.now()
    if not svc.mentions.add_if_new(mention, now):
        existing = svc.mentions.get(mention.key)
        if existing is not None and existing.ticket_id:
            return Outcome(mention.key, "duplicate", existing.ticket_id)
        # stored by an attempt that did not finish: carry on where it stopped

    ticket_id = _find_ticket_id(svc, mention)
    if ticket_id:
        ticket = _thread_into(svc, ticket_id, mention)
        if ticket is not None:
            svc.state.claim(f"{CONVERSATION_PK}#{mention.conversation_key}", "ticket", ref=ticket.ticket_id,
                            ttl=svc.retention)
            svc.mentions.mark_processed(mention.key, ticket.ticket_id)
            logger.info("mention threaded", extra={"mention": mention.key, "ticket_id": ticket.ticket_id})
            return Outcome(mention.key, "threaded", ticket.ticket_id)

    # a new conversation: the conditional write on the conversation decides which delivery creates the ticket
    candidate = ticket_id or new_reference()
    conv_pk = f"{CONVERSATION_PK}#{mention.conversation_key}"
    if not svc.state.claim(conv_pk, "ticket", ref=candidate, ttl=svc.retention):
        winner = svc.state.get(conv_pk, "ticket").ref
        if svc.tickets.get(winner) is not None:
            _thread_into(svc, winner, mention)
            svc.mentions.mark_processed(mention.key, winner)
            return Outcome(mention.key, "threaded", winner)
        candidate = winner  # the earlier attempt claimed the conversation but stopped before saving

    ticket, result, decision = _new_ticket(svc, mention, candidate, now)
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
