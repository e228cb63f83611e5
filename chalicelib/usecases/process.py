"""Behind the inbound queue: parse, dedupe, recognise the customer, join their open case or open one, triage,
route, acknowledge. A ticket is one customer's open case: every message from any of their linked identities joins
it (keeping its first contact and queue position), and they are acknowledged once per open case: out of hours, or,
while the desk is open but its queue is long, with the expected wait (the busy acknowledgement). Every step is
idempotent, so an SQS redelivery, a webhook retry or a poll overlap changes nothing the first delivery did.

The mention is stored first, with the inbound envelope that carries it (its ``owner``): that one conditional write
is the dedupe. Another envelope with the same mention (a webhook retry, a poll overlap) is a duplicate and costs
nothing more; the envelope that stored it — delivered again by SQS after an attempt that failed, or redriven from
the dead-letter queue with the same body — does every step again, each of them idempotent, so nothing an earlier
attempt left undone is lost and nothing it did happens twice. No "processed" mark is written."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import busy, listening, sla
from chalicelib.domain.history import Escalated, Queued, Received
from chalicelib.domain.identity import (
    bluesky_handle_identity,
    handle_identity,
    identities_of,
    mastodon_handle_identity,
    quoted_references,
    threads_handle_identity,
)
from chalicelib.domain.inbound import InboundEnvelope
from chalicelib.domain.keys import channel_of
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.routing import (
    ACK_MAX_AGE,
    RouteDecision,
    moved_to_oncall,
    oncall_desk_now,
    permalink,
    queue_message,
    route,
)
from chalicelib.domain.ticket import RESOLVED, WAITING, Ticket, first_reference, new_reference
from chalicelib.domain.triage import Triage, policy_acknowledges, triage
from chalicelib.domain.words import message_words
from chalicelib.services import Services
from chalicelib.store.ports import AlreadyExists, ConcurrentUpdate
from chalicelib.telemetry import capture_method, correlate, count, logger
from chalicelib.usecases import reports, suggested_incidents
from chalicelib.usecases.acknowledge import (
    PreparedAck,
    ack_item,
    ack_key,
    acknowledge,
    first_reply,
    mark_acked,
    queue_ack,
    receipt_on_joining,
)
from chalicelib.usecases.customers import brand_identities, merge_customers, new_customer_id
from chalicelib.usecases.deliver import (
    CUT_OFF,
    LEASE,
    NO_DEADLINE,
    QUEUE_AGAIN,
    SendDeadline,
    resume_ack,
    send_now,
    settle_unknown,
)
from chalicelib.usecases.replies import unaddressed

#: No attempt runs longer than this (Lambda's own limit): a mention stored this long ago by an envelope nobody can
#: name (no ``owner``: stored before owners were recorded) is resumed by whoever carries it now.
ATTEMPT_LIMIT = timedelta(minutes=15)


@dataclass(frozen=True)
class Outcome:
    mention_key: str
    result: str  # created | threaded | duplicate
    ticket_id: str


def parse_envelope(svc: Services, envelope: dict[str, Any]) -> list[Mention]:
    """The mentions an inbound envelope carries: version 2 (``domain.inbound``, parsed once where it arrived), or
    version 1 (a raw platform payload queued before version 2, or redriven), which ``usecases.legacy_envelope``
    alone reads. One the store cannot hold (``Unstorable``: refused at the entry points since, but queued before, or
    redriven) is left out, counted and logged, never retried onto the dead-letter queue; the envelope's other
    mentions are processed."""
    refused: list[str] = []
    if isinstance(envelope, dict) and envelope.get("v") == 1:
        from chalicelib.usecases.legacy_envelope import legacy_mentions  # only an old envelope needs a parser

        mentions = legacy_mentions(svc, envelope, refused=refused)
        source = str(envelope.get("kind"))
    else:
        inbound = InboundEnvelope.from_dict(envelope, refused=refused)
        mentions, source = list(inbound.mentions), inbound.source
    if refused:
        count("InboundEventsRefused", len(refused), channel=source)
        logger.warning("inbound events the store cannot hold were left out", extra={"refused": refused[:20]})
    return mentions


@capture_method
def process_envelope(svc: Services, envelope: dict[str, Any], *, raw_ref: str = "",
                     attempt: int = 1, deadline: SendDeadline = NO_DEADLINE) -> list[Outcome]:
    """``attempt`` > 1: SQS delivers this message again after an attempt that failed, so steps an earlier attempt
    may have left undone are done again (see ``_created``). The envelope's ``id`` (or, without one, ``raw_ref``)
    owns the mentions it stores. ``deadline``: until when this invocation sends acknowledgements at once."""
    mentions = parse_envelope(svc, envelope)
    if raw_ref:
        mentions = [replace(m, raw_ref=raw_ref) for m in mentions]
    owner = envelope.get("id") if isinstance(envelope.get("id"), str) else raw_ref
    outcomes = [process_mention(svc, mention, resume=attempt > 1, owner=owner or "", deadline=deadline)
                for mention in mentions]
    for outcome in outcomes:
        count(f"Mentions{outcome.result.capitalize()}")
        if outcome.result != "duplicate":
            count("MentionsReceived", channel=channel_of(outcome.mention_key))
    return outcomes


def _current(svc: Services, ticket_id: str | None) -> Ticket | None:
    """The ticket that carries on ``ticket_id`` (following merges)."""
    ticket = svc.tickets.get(ticket_id) if ticket_id else None
    for _ in range(5):
        if ticket is None or not ticket.merged_into:
            return ticket
        ticket = svc.tickets.get(ticket.merged_into)
    return ticket


def _replied_ticket(svc: Services, mention: Mention, customer_id: str) -> Ticket | None:
    """The ticket of an agent's message this one answers, when it was sent to this customer (a stranger replying
    under someone else's thread is not joined to it). An answer to the customer's own message or to an
    acknowledgement needs no lookup: the customer's open-ticket pointer leads to their case."""
    if not mention.reply_to:
        return None
    ticket = _current(svc, svc.threads.sent_message_ticket(mention.channel, mention.reply_to))
    return ticket if ticket is not None and ticket.customer_id == customer_id else None


def _still_theirs(svc: Services, ticket: Ticket | None, customer_id: str, now: datetime, *,
                  reopen: bool = True) -> bool:
    """Open, or resolved within the reopen window: a new message joins (and reopens) it. A post found by listening
    (``reopen`` False) joins an open case only: it never reopens a resolved one (which would make it a case waiting
    for an answer, and a closing-time message to a customer who did not write to us); it opens its own."""
    if ticket is None or ticket.customer_id != customer_id:
        return False
    if ticket.open or not reopen:
        return ticket.open
    window = timedelta(days=svc.settings.reopen_window_days)
    return ticket.status == RESOLVED and ticket.resolved_at is not None and now - ticket.resolved_at <= window


def _reserved(mention: Mention) -> str | None:
    """A reference the entry point gave the customer at once (the web form) and the ticket must answer to."""
    reference = mention.extra.get("reserved_reference")
    return reference if isinstance(reference, str) and reference else None


def _alias(svc: Services, reference: str, ticket: Ticket, mention: Mention, now: datetime) -> None:
    """The reference the customer was given names a ticket merged into ``ticket``: its status link keeps working."""
    if reference == ticket.ticket_id or svc.tickets.get(reference) is not None:
        return
    alias = Ticket(ticket_id=reference, desk=ticket.desk, priority=ticket.priority, intent=ticket.intent,
                   channel=mention.channel, conversation_key=mention.conversation_key, customer_id=ticket.customer_id,
                   first_contact_at=mention.created_at, last_customer_at=mention.created_at,
                   language=ticket.language, mention_keys=[mention.key], reply_target=ReplyTarget.of(mention),
                   conversations=[mention.conversation_key])
    alias.record(Received(mention.created_at, mention.channel))
    alias.merge_into(ticket.ticket_id, now)
    with contextlib.suppress(AlreadyExists):  # another delivery of the same form made it
        svc.tickets.add(alias)


def _suggest_links(svc: Services, mention: Mention, ticket: Ticket, now: datetime) -> None:
    """A reference quoted by someone not (yet) linked to it is a suggestion for an agent, never a merge: anybody
    can type a reference."""
    for reference in quoted_references(mention.text):
        quoted = _current(svc, reference)
        if quoted is None or quoted.ticket_id == ticket.ticket_id or quoted.customer_id == ticket.customer_id:
            continue
        svc.tickets.update(quoted.ticket_id, lambda t: t.suggest_link(mention.identity_key, now))
        count("LinksSuggested")


def _triaged(svc: Services, mention: Mention, now: datetime) -> tuple[Triage, RouteDecision]:
    """Triage and routing of a ticket's first message. A listened post (``domain.listening.listened``: it did not tag
    the brand) is triaged as any other — intent, priority, tone, flags — and goes to the brand's listening desk
    (``listening.desk``) when one is set, unless urgent (urgent work goes where urgent work goes: its desk, or the
    on-call desk); and routing never decides to acknowledge it."""
    result = triage(mention.text, channel=mention.channel, config=svc.config, followers=mention.followers,
                    tagged=mention.extra.get("tagged") is not False, language=mention.language)
    heard = listening.listened(mention.extra)
    desk = svc.config.listening.desk
    if heard and desk and result.priority != "urgent" and desk in svc.config.desk_ids:
        result = replace(result, desk=desk, reasons=[*result.reasons, f"desk {desk}: listening"])
    decision = route(result, calendar=svc.calendar, config=svc.config, now=now, written_at=mention.created_at)
    return result, replace(decision, acknowledge=False) if heard else decision


def _new_ticket(svc: Services, mention: Mention, ticket_id: str, customer_id: str,
                now: datetime) -> tuple[Ticket, RouteDecision]:
    result, decision = _triaged(svc, mention, now)
    heard = listening.listened(mention.extra)
    flags = [listening.FLAG] if heard else []  # a person answers, links or dismisses it: nothing automatic
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
        references=dict(result.references), reasons=list(result.reasons), decision=result.decision, tone=result.tone,
        conversations=[mention.conversation_key],
        # no first-response target for a post nobody addressed to us (no breach, no escalation) until they do
        first_response_due=None if heard else sla.first_response_due(
            mention.created_at, mention.channel, result.priority, decision.desk, svc.config, svc.calendar),
    )
    ticket.record(Received(mention.created_at, mention.channel))
    ticket.record(Queued(now, decision.desk))
    if decision.escalated:
        ticket.record(Escalated(now, decision.triaged_desk, decision.desk))
    return ticket, decision


def _desk_message(svc: Services, ticket: Ticket, mention: Mention, now: datetime, **kwargs: Any) -> None:
    svc.queues.send_desk(ticket.desk, queue_message(
        ticket, at=now, status_url=svc.links.url(ticket.ticket_id), text=mention.text,
        link=permalink(mention.channel, mention.external_id, mention.extra), **kwargs))
    # every customer's message on a ticket passes here (created, joined, resumed): its words made searchable
    svc.words.add(ticket.ticket_id, ticket.first_contact_at, mention.key, message_words(mention.text, ticket.language))


def to_oncall(svc: Services, ticket: Ticket, now: datetime) -> tuple[Ticket, str]:
    """An urgent ticket waiting on a closed desk goes to the on-call desk when that desk is open now, by the rule a
    new ticket is routed by (``routing.oncall_desk_now``): one reopened or chased by the customer, or still waiting
    when its desk closes (``usecases.closing_time``). Recorded as ``Escalated`` with a conditional write. The ticket
    as it is now, and the desk it left ('' when it stays)."""
    if ticket.status != WAITING:
        return ticket, ""
    oncall = oncall_desk_now(ticket.desk, ticket.priority, calendar=svc.calendar, config=svc.config, now=now)
    if oncall is None:
        return ticket, ""
    before = ticket.desk
    moved = svc.tickets.update(ticket.ticket_id, lambda t: t.desk == before and t.escalate(oncall, now),
                               current=ticket)
    if moved is None or not moved.result:
        return (moved.ticket if moved is not None else ticket), ""
    logger.info("urgent ticket moved to the on-call desk", extra={
        "ticket_id": ticket.ticket_id, "from_desk": before, "desk": oncall})
    return moved.ticket, before


def _moved(ticket: Ticket, from_desk: str) -> dict[str, Any]:
    """What the desk message of a ticket ``to_oncall`` just moved adds (nothing when it stayed)."""
    return {"decision": moved_to_oncall(ticket.desk, from_desk), "from_desk": from_desk} if from_desk else {}


def _join(svc: Services, mention: Mention, ticket: Ticket, now: datetime, resume: bool = False) -> Outcome:
    """The customer wrote again: the message joins their case, which keeps its first contact and its place in the
    queue. No second acknowledgement: only a case nobody has acknowledged yet is, by the first message that would
    be acknowledged out of hours (``_ack_on_joining``). A message already on the ticket (the same message delivered
    twice at once) changes nothing; the message that created the ticket is left unprocessed for the attempt that
    created it to finish, or, when ``resume``, this attempt finishes it (an earlier attempt saved the ticket and
    failed)."""
    correlate(ticket.ticket_id)
    if mention.key in ticket.mention_keys:
        if ticket.mention_keys[0] == mention.key:
            # resumed: the steps after the ticket's creation again, each once
            return _created(svc, mention, ticket, now) if resume else Outcome(mention.key, "duplicate",
                                                                                 ticket.ticket_id)
        if resume:  # joined by an attempt that failed: the acknowledgement it owed, and the desk may not have heard
            ticket = _addressed(svc, mention, ticket)
            ticket, from_desk = to_oncall(svc, ticket, now)
            # moved to the on-call desk now, or by the attempt that failed (since this message was written): the
            # on-call desk hears where it came from either way
            from_desk = from_desk or next((e.from_desk for e in reversed(ticket.timeline) if isinstance(e, Escalated)
                                           and e.to_desk == ticket.desk and e.at >= mention.created_at), "")
            if not _ack_on_joining(svc, mention, ticket, now, oncall=bool(from_desk)):
                receipt_on_joining(svc, ticket, mention)
            _desk_message(svc, ticket, mention, now, event="ticket.updated", change="chase",
                          **_moved(ticket, from_desk))
            suggested_incidents.note_places(svc, mention, ticket)  # the attempt that failed may not have
        return Outcome(mention.key, "duplicate", ticket.ticket_id)
    joined = svc.tickets.update(ticket.ticket_id, lambda t: t.customer_wrote(
        mention.key, mention.created_at, mention.conversation_key), current=ticket)
    if joined is None:  # deleted meanwhile (a data-protection request): nothing to join
        raise ConcurrentUpdate(ticket.ticket_id)
    return _joined(svc, mention, joined.ticket, now, reopened=joined.result)


def _joined(svc: Services, mention: Mention, joined: Ticket, now: datetime, *, reopened: bool = False) -> Outcome:
    """What follows a message joining its customer's ticket: urgent and waiting on a closed desk, it goes to the
    on-call desk when that is open (``to_oncall``, as a new ticket would); a case nobody has acknowledged yet (a
    reopened one, or one whose first message was not acknowledged) is acknowledged out of hours, or told the on-call
    team has it; the desk hears of it, quoted references are suggested."""
    correlate(joined.ticket_id)
    reserved = _reserved(mention)
    if reserved:
        _alias(svc, reserved, joined, mention, now)
    joined = _addressed(svc, mention, joined)
    joined, from_desk = to_oncall(svc, joined, now)
    # the customer first, as for a new ticket; a new e-mail or form on an acknowledged case gets its receipt
    if not _ack_on_joining(svc, mention, joined, now, oncall=bool(from_desk)):
        receipt_on_joining(svc, joined, mention)
    _desk_message(svc, joined, mention, now, event="ticket.updated", change="reopened" if reopened else "chase",
                  **_moved(joined, from_desk))
    _suggest_links(svc, mention, joined, now)
    logger.info("mention joined its customer's ticket", extra={"mention": mention.key, "ticket_id": joined.ticket_id})
    reports.record_ticket(svc, joined)  # the leads' reports: the ticket's figures (an older copy never wins)
    suggested_incidents.note_places(svc, mention, joined)  # a burst naming one place: suggested to leads
    return Outcome(mention.key, "threaded", joined.ticket_id)


def _addressed(svc: Services, mention: Mention, ticket: Ticket) -> Ticket:
    """The customer of a ticket opened by a listened post now addresses the brand (a mention, a reply, a message):
    the ``listening`` flag goes (one conditional update, made only then), and the case gets the first-response target
    a first contact has, counted from this message, and is answered where they addressed us (the reply target: X lets
    the brand reply only to a post that mentions it); ``_ack_on_joining`` then acknowledges it as any first contact.
    Another listened post, or a ticket without the flag, changes nothing."""
    if not ticket.listened or listening.listened(mention.extra):
        return ticket
    due = sla.first_response_due(mention.created_at, mention.channel, ticket.priority, ticket.desk, svc.config,
                                 svc.calendar)

    def addressed(t: Ticket) -> bool:
        if not t.listened:
            return False
        t.flags = [f for f in t.flags if f != listening.FLAG]
        t.reply_target = ReplyTarget.of(mention)
        if t.first_response_at is None and t.first_response_due is None:
            t.first_response_due = due
        return True

    cleared = svc.tickets.update(ticket.ticket_id, addressed, current=ticket)
    if cleared is None:
        raise ConcurrentUpdate(ticket.ticket_id)  # deleted meanwhile (a data-protection request)
    if cleared.result:
        count("ListenedTicketsAddressed")
        logger.info("the customer addressed the brand: no longer a listened ticket",
                    extra={"ticket_id": ticket.ticket_id, "mention": mention.key})
    return cleared.ticket


def _heard_first(svc: Services, mention: Mention, now: datetime) -> Outcome:
    """The same post came first from listening (its search found it before the mention route delivered it): it is
    one message, stored once, but it did address the brand. Its ticket loses the ``listening`` flag and the message
    is acknowledged as the case's first addressed message would be (``_addressed``, ``_ack_on_joining``); the
    listening pollers skip what tags the brand, so this is the rare post they could not tell (a reply or quote the
    search reported without its parent)."""
    customer_id, _ = _customer(svc, mention, now, thorough=True)
    holder = next((t for t in svc.tickets.for_customer(customer_id) if mention.key in t.mention_keys and t.open),
                  None)
    if holder is None or not holder.listened:
        return Outcome(mention.key, "duplicate", holder.ticket_id if holder else "")
    correlate(holder.ticket_id)
    holder = _addressed(svc, mention, holder)
    _ack_on_joining(svc, mention, holder, now)
    _desk_message(svc, holder, mention, now, event="ticket.updated", change="chase")
    return Outcome(mention.key, "duplicate", holder.ticket_id)


def _ack_on_joining(svc: Services, mention: Mention, ticket: Ticket, now: datetime, *, oncall: bool = False) -> bool:
    """The one acknowledgement of an open case, given by a message that joins it: when nobody has acknowledged the
    case yet (none sent, queued or decided: ``acked`` is set with the decision and cleared only by a reopening), the
    desk is closed, no agent holds it, and this message is one the policy acknowledges, fresh. So a customer whose
    first message was not acknowledged ("hi", praise) and who then writes the real complaint before the team is back
    hears from us; a chase after an acknowledgement does not. Two concurrent messages meet at the ack ledger and the
    outbox key (``ack#<Ticket.ack_key>``, sent at most once); a redelivery comes back here and finishes what its
    attempt left. ``oncall``: this message moved the ticket from its closed desk to the open on-call desk
    (``to_oncall``): the acknowledgement says the on-call team has it, never when the closed desk opens. True if
    queued."""
    if ticket.acked or ack_key(ticket.ack_key) in ticket.sent_keys or now - mention.created_at > ACK_MAX_AGE:
        return False
    if listening.listened(mention.extra):  # a post that did not tag us joins its author's case in silence
        return False
    if (svc.calendar.is_open(ticket.desk, now) and not oncall) or (
            ticket.claimed_by and ticket.held_by(ticket.claimed_by, now)):
        return False
    result = triage(mention.text, channel=mention.channel, config=svc.config, followers=mention.followers,
                    tagged=mention.extra.get("tagged") is not False, language=mention.language)
    if not result.acknowledge:
        return False
    back_at = None if oncall else svc.calendar.next_opening(ticket.desk, now)
    return acknowledge(svc, ticket, back_at=back_at, kind="ack", text=mention.text, tone=result.tone,
                       references=result.references, oncall=oncall)


def _own_handle(mention: Mention) -> str | None:
    """The identity of the author's own handle, the alias every message of theirs carries."""
    handle = mention.author_handle or ""
    if not handle:
        return None
    if mention.channel == "x":
        return handle_identity(handle)
    if mention.channel == "bluesky":
        return bluesky_handle_identity(handle)
    if mention.channel == "mastodon":
        return mastodon_handle_identity(handle)
    if mention.channel == "threads":
        return threads_handle_identity(handle)
    return None


def _customer(svc: Services, mention: Mention, now: datetime, *, thorough: bool) -> tuple[str, bool]:
    """The customer who wrote ``mention`` (``usecases.customers.customer_of``, in fewer calls) and whether they are
    new: registered by this very message and linked to nobody, so that they can have no ticket yet. Each identity
    costs one conditional write that returns the owner when the identity is known; the alias of the author's own
    handle is skipped when the author's identity already carries that handle (it was registered with it), unless
    ``thorough`` (a resumed attempt, which may have stopped between the two)."""
    identities = identities_of(mention, brand=brand_identities(svc))
    author = svc.customers.register(identities[0], new_customer_id(), channel=mention.channel,
                                    handle=mention.author_handle, display_name=mention.author_name, at=now)
    customer_id, fresh = author.customer_id, author.created
    own = _own_handle(mention)
    for alias in identities[1:]:
        if alias == own and not author.created and not thorough and author.handle == mention.author_handle:
            continue
        owner = svc.customers.resolve(alias, customer_id, channel=channel_of(alias), at=now)
        if owner != customer_id:
            merge_customers(svc, customer_id, owner, now, reason=f"{mention.key} gave {alias}")
            fresh = False
    return customer_id, fresh


@capture_method
def process_mention(svc: Services, mention: Mention, *, resume: bool = False, owner: str = "",
                    deadline: SendDeadline = NO_DEADLINE) -> Outcome:
    now = svc.now()
    # one conditional write: stored (with the envelope that owns it), or what was there
    existing = svc.mentions.add_or_existing(mention, now, owner=owner)
    if existing is not None:
        if existing.owner and existing.owner != owner:
            if listening.listened(existing.mention.extra) and not listening.listened(mention.extra):
                return _heard_first(svc, mention, now)
            return Outcome(mention.key, "duplicate", "")  # another envelope carries it: that one finishes it
        # stored by this envelope (delivered again after an attempt that failed), or by one nobody can name:
        # carry on where it stopped
        resume = resume or bool(existing.owner) or now - existing.received_at >= ATTEMPT_LIMIT

    customer_id, fresh = _customer(svc, mention, now, thorough=resume or existing is not None)
    if not fresh and not _reserved(mention):
        # a chase, most often: the customer's first ticket, still theirs and waiting or claimed, joined in one
        # conditional update with no read (anything else — a later ticket, a reopened or replied one, a merge —
        # takes the way below)
        chased = svc.tickets.join_open(first_reference(customer_id), customer_id, mention.key, mention.created_at,
                                       mention.conversation_key)
        if chased is not None:
            return _joined(svc, mention, chased, now)
    # a customer this message registered has no ticket yet: neither the replied-to ticket nor their case can be
    # found, so neither is read
    replied = None if fresh else _replied_ticket(svc, mention, customer_id)
    if replied is not None:
        return _join(svc, mention, replied, now, resume)

    # the customer's case, or a new one. Their open ticket is the one their pointer names or, with no pointer, their
    # first ticket (``first_reference``). A customer this message registered (nobody else knows them) has their
    # first ticket created under that reference with no pointer written: ticket creation (a conditional put) decides
    # between two concurrent first messages. Any other new ticket is chosen by a compare-and-set on the pointer (the
    # first one too, for a customer known before, so that a form's reserved reference and a message racing it
    # cannot both start a case); the other message joins it.
    registered_now = fresh
    for _ in range(5):
        stored = None if fresh else svc.customers.open_ticket(customer_id)
        current = stored or first_reference(customer_id)
        case = None if fresh else _current(svc, current)
        fresh = False
        if _still_theirs(svc, case, customer_id, now, reopen=not listening.listened(mention.extra)):
            assert case is not None
            return _join(svc, mention, case, now, resume)
        if resume and not registered_now:  # an attempt that failed may have put it on a ticket since closed
            holder = next((t for t in svc.tickets.for_customer(customer_id) if mention.key in t.mention_keys), None)
            if holder is not None:  # a closed case was handled: nothing left to redo
                return _join(svc, mention, holder, now, resume) if holder.open else Outcome(
                    mention.key, "duplicate", holder.ticket_id)
        reserved = _reserved(mention)
        if case is None:  # named, never saved: created under that name (unless a form reserved its own)
            candidate = reserved if reserved and stored is None else current
        else:
            candidate = reserved or new_reference()
        if candidate == current and (registered_now or stored is not None):
            break  # the pointer says so already, or nobody else knows the customer
        if svc.customers.point_open_ticket(customer_id, candidate, expected=stored):
            break
    else:
        raise ConcurrentUpdate(f"open ticket of {customer_id}")
    return _open(svc, mention, candidate, customer_id, stored, now, resume, deadline=deadline)


def _open(svc: Services, mention: Mention, candidate: str, customer_id: str, pointer: str | None, now: datetime,
          resume: bool, *, collisions: int = 0, deadline: SendDeadline = NO_DEADLINE) -> Outcome:
    """Create the customer's new ticket under ``candidate`` and do what follows (``_created``). A ticket of theirs
    saved under it meanwhile is joined; a stranger's (two references that happen to be the same) is left alone:
    a new reference is pointed at and used."""
    ticket, decision = _new_ticket(svc, mention, candidate, customer_id, now)
    # out of hours, the ticket is saved already acknowledged: one write, no ack mark, no second save; this attempt
    # then sends the acknowledgement itself (``deliver.send_now``), handing it to the outbox if it cannot
    ack = first_reply(svc, ticket, decision, text=mention.text)  # e-mail and the form: a receipt, in hours too
    if ack is not None:  # sent by this attempt, the saved ticket being its sending lease
        mark_acked(ticket, ack, sending_until=now + LEASE)
    try:
        svc.tickets.add(ticket)
    except AlreadyExists:
        existing_ticket = _current(svc, candidate)
        if existing_ticket is None:
            raise
        if existing_ticket.customer_id == customer_id:
            return _join(svc, mention, existing_ticket, now, resume)
        if collisions >= 3:
            raise
        other = new_reference()
        if not svc.customers.point_open_ticket(customer_id, other, expected=pointer):
            raise ConcurrentUpdate(f"open ticket of {customer_id}") from None
        return _open(svc, mention, other, customer_id, other, now, resume, collisions=collisions + 1,
                     deadline=deadline)
    return _created(svc, mention, ticket, now, decision, ack, deadline)


def _busy_ack(svc: Services, mention: Mention, ticket: Ticket, now: datetime) -> bool:
    """A new ticket on an open desk whose queue is long: the one acknowledgement, with the expected wait as a range
    (``domain.busy``). Sent only to a customer who would be acknowledged out of hours (not praise, spam or abuse;
    a fresh message), only with enough recent answers for an honest estimate, only above the threshold, and only
    when the range ends before the desk closes (a customer who will wait past closing hears from the closing-time
    acknowledgement instead). True if queued."""
    rule = svc.config.busy_ack
    if rule is None or unaddressed(ticket) or not policy_acknowledges(ticket.intent, ticket.current_decision) \
            or now - mention.created_at > ACK_MAX_AGE:
        return False
    since = busy.window_start(now, rule.window_minutes)
    answers = svc.answers.count_since(ticket.desk, since, now)
    if answers < rule.min_answers:  # no honest estimate: spare the backlog count
        return False
    wait = busy.expected_wait(backlog=svc.tickets.backlog_count(ticket.desk), answers=answers, span=now - since,
                              min_answers=rule.min_answers, threshold_minutes=rule.threshold_minutes)
    if wait is None:
        return False
    closing = svc.calendar.next_closing(ticket.desk, now)
    if closing is not None and now + timedelta(minutes=wait.upper) > closing:
        return False
    reports.note_busy_estimate(svc, ticket, wait)  # the leads' reports: the range told, against the wait to come
    return acknowledge(svc, ticket, back_at=None, kind="busy", text=mention.text, expected_wait=wait.text)


def _created(svc: Services, mention: Mention, ticket: Ticket, now: datetime,
             decision: RouteDecision | None = None, ack: PreparedAck | None = None,
             deadline: SendDeadline = NO_DEADLINE) -> Outcome:
    """The steps after a new ticket is saved (``ack``: the acknowledgement it was saved with, sent at once unless
    ``deadline`` has passed). A redelivery of the
    message that created the ticket comes back here and does them again: the desk hears of the ticket at least once
    (consumers dedupe on ticket and event), the acknowledgement the ticket was saved with is queued again, and the
    outbox sends its key at most once."""
    correlate(ticket.ticket_id)
    if decision is None:
        decision = _triaged(svc, mention, now)[1]
    reserved = _reserved(mention)
    if reserved and reserved != ticket.ticket_id:
        _alias(svc, reserved, ticket, mention, now)
    if ack is not None:  # the customer first: sent now, before the desk hears of the ticket
        count("AcksQueued", kind=ack.kind)
        send_now(svc, ack_item(svc, ticket, ack), deadline)
    # the same `at` on every attempt (the time the ticket was queued), so a consumer's (ticket_id, event, at) dedupe
    # recognises the announcement a resumed attempt sends again
    queued_at = next((e.at for e in ticket.timeline if isinstance(e, Queued)), now)
    _desk_message(svc, ticket, mention, queued_at, decision=decision)
    busy_ack = False
    if ack is None and ticket.acked:  # resumed: the acknowledgement it was saved with, whatever the hour now
        verdict = resume_ack(svc, ticket, ack_key(ticket.ack_key))
        if verdict == QUEUE_AGAIN:
            resumed = first_reply(svc, ticket, decision, text=mention.text)
            if resumed is not None:
                queue_ack(svc, ticket, resumed)
        elif verdict == CUT_OFF:  # an inline send cut off: never sent again, parked with the reason for a person
            cut = first_reply(svc, ticket, decision, text=mention.text)
            if cut is not None:
                settle_unknown(svc, ack_item(svc, ticket, cut), "the attempt sending it was cut off")
    elif ack is None and decision.acknowledge:
        acknowledge(svc, ticket, back_at=decision.next_opening, kind="ack", text=mention.text)
    elif ack is None and decision.open and not ticket.acked:
        busy_ack = _busy_ack(svc, mention, ticket, now)
    _suggest_links(svc, mention, ticket, now)
    logger.info("ticket created", extra={
        "mention": mention.key, "ticket_id": ticket.ticket_id, "desk": ticket.desk, "priority": ticket.priority,
        "intent": ticket.intent, "desk_open": decision.open, "ack": decision.acknowledge, "busy_ack": busy_ack})
    reports.record_ticket(svc, ticket)  # the leads' reports: the new ticket's figures (an older copy never wins)
    suggested_incidents.note_places(svc, mention, ticket)  # a burst naming one place: suggested to leads
    return Outcome(mention.key, "created", ticket.ticket_id)
