"""The actions on a ticket: ``reply``, ``note``, ``transfer``, ``resolve``, ``reopen``, ``label`` and ``link``
(``claim`` and ``release`` are in ``claims``). Each takes its typed command (``commands``) and answers a small typed
outcome (``results``), never a view.

``ACTIONS`` is the one table from an ``Action`` to its use case; ``act`` runs one by name for the API and the web
inbox, reading the request's input only for the actions that take some.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.agent import Agent, reply_limit, reply_problem
from chalicelib.domain.channel_profiles import PROFILES, profile
from chalicelib.domain.listening import listened as was_listened
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import CLAIMED, MERGED, RESOLVED, Ticket, TicketStateError
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate, TriageLabel
from chalicelib.telemetry import correlate, count, logger
from chalicelib.usecases import customers, reports
from chalicelib.usecases.desk import claims, listened, window
from chalicelib.usecases.desk.access import (
    act_as_holder,
    acting_teams,
    annotate,
    claim_until,
    load,
    may_see,
    require_on_shift,
)
from chalicelib.usecases.desk.answering import answer_customer
from chalicelib.usecases.desk.assign import assign
from chalicelib.usecases.desk.commands import Action, Assign, Given, Label, Link, Next, Note, Reply, Transfer
from chalicelib.usecases.desk.results import (
    CustomersLinked,
    NextTaken,
    NoteAdded,
    Outcome,
    RepliedAnd,
    ReplyQueued,
    ResolvedAndNext,
    TicketLabelled,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
)
from chalicelib.usecases.errors import Conflict, Invalid, NotFound, Refused

#: Channels where an agent may answer privately instead of publicly (X DM, Facebook/Instagram private reply,
#: Mastodon direct-visibility reply): ``ChannelProfile.can_reply_privately``.
PRIVATE_CAPABLE = tuple(channel for channel, p in PROFILES.items() if p.can_reply_privately)


def latest_target(svc: Services, ticket: Ticket) -> ReplyTarget | None:
    """Where to answer: the customer's latest message that addressed the brand (any linked channel); on a case
    nobody addressed to us (only listened posts), the latest of those; else the ticket's first. A post found by
    listening that joined an addressed case is not where the answer goes: the customer wrote to us elsewhere (and
    X lets the brand reply only to posts that mention it)."""
    heard: ReplyTarget | None = None
    for key in reversed(ticket.mention_keys):
        stored = svc.mentions.get(key)
        if stored is None:
            continue
        if not was_listened(stored.mention.extra):
            return ReplyTarget.of(stored.mention)
        heard = heard or ReplyTarget.of(stored.mention)
    if not ticket.listened and ticket.reply_target is not None:
        return ticket.reply_target  # addressed since by a message stored as its listened copy (the same post)
    return heard or ticket.reply_target


def reply(svc: Services, agent: Agent, ticket_id: str, command: Reply) -> ReplyQueued:
    """Answer the customer on their own channel (where they last wrote), through the outbox: once per request id.
    The customer's answer to it threads back in."""
    text, private, request_id = command.text, command.private, command.request_id
    ticket = load(svc, ticket_id)
    may_see(svc, agent, ticket)
    target = latest_target(svc, ticket)
    if target is None:
        raise Conflict(f"ticket {ticket_id} has no customer message to answer")
    if private and not target.private:
        if target.channel not in PRIVATE_CAPABLE:
            found = profile(target.channel)
            raise Invalid(f"a conversation on {found.agent_name if found else target.channel} cannot be answered "
                          "privately", details={"private": "no"})
        target = ReplyTarget(channel=target.channel, recipient=target.recipient, in_reply_to=target.in_reply_to,
                             private=True, subject=target.subject, name=target.name, handle=target.handle,
                             extra=dict(target.extra))
    problem = reply_problem(target.channel, target.private, text)
    if problem:
        raise Invalid(problem, details={"text": problem, "limit": reply_limit(target.channel, target.private)})
    window.refuse_outside_window(svc, ticket, target)  # WhatsApp after 24 hours: an approved template only
    updated, queued = answer_customer(svc, agent, ticket, text=text, request_id=request_id, target=target)
    if not queued:
        return ReplyQueued(ticket, queued=False, request_id=request_id)
    count("AgentReplies", channel=target.channel)
    logger.info("agent reply queued", extra={"ticket_id": ticket_id, "agent": agent.username,
                                             "channel": target.channel})
    return ReplyQueued(updated, queued=True, channel=target.channel, private=target.private, request_id=request_id)


def note(svc: Services, agent: Agent, ticket_id: str, command: Note) -> NoteAdded:
    """An internal note: any agent whose team covers the desk (or a lead), on shift, holder or not."""
    return NoteAdded(annotate(svc, agent, ticket_id, lambda t, now: t.note(agent.username, command.text, now)).ticket)


def transfer(svc: Services, agent: Agent, ticket_id: str, command: Transfer) -> TicketTransferred:
    """To another desk's queue (the holder, or a lead); the desk's queue hears of it."""
    desk = command.desk
    ticket = load(svc, ticket_id)
    before = ticket.desk
    if desk == before:
        raise Conflict(f"ticket {ticket_id} is already on desk {desk}")
    updated = act_as_holder(svc, agent, ticket_id, lambda t, now: t.transfer(desk, agent.username, now),
                            lead_may=True, renew=False, current=ticket).ticket
    claims.desk_update(svc, updated, "transferred", from_desk=before)
    return TicketTransferred(updated, from_desk=before)


def resolve(svc: Services, agent: Agent, ticket_id: str) -> TicketResolved:
    updated = act_as_holder(svc, agent, ticket_id, lambda t, now: t.resolve(agent.username, now), lead_may=True,
                            renew=False).ticket
    # the customer's open-ticket pointer stays: writing again within the reopen window reopens this ticket
    count("TicketsResolved", desk=updated.desk)
    return TicketResolved(updated)


def reopen(svc: Services, agent: Agent, ticket_id: str) -> TicketReopened:
    """A resolved ticket back in play: claimed by the agent who reopened it (to answer again)."""
    now = svc.now()
    ticket = load(svc, ticket_id)
    may_see(svc, agent, ticket)
    teams = acting_teams(svc, agent, ticket.desk, now)
    if ticket.status != RESOLVED:
        raise Conflict(f"ticket {ticket_id} is {ticket.status}; only a resolved ticket can be reopened")
    if ticket.merged_into:
        raise Conflict(f"ticket {ticket_id} was merged into {ticket.merged_into}")
    current = svc.customers.open_ticket(ticket.customer_id)
    other = customers.live_open_ticket(svc, ticket.customer_id)  # the pointer's, or their first ticket
    if other is not None and other.ticket_id != ticket_id:
        raise Conflict(f"the customer has an open ticket already: {other.ticket_id}; work on that one")

    def reopen_and_claim(t: Ticket) -> None:
        t.reopen(agent.username, now)
        t.claim(agent.username, claim_until(svc, teams, now), now)

    try:
        updated = svc.tickets.update(ticket_id, reopen_and_claim, current=ticket)
    except (ConcurrentUpdate, TicketStateError) as exc:
        raise Conflict(f"ticket {ticket_id} could not be reopened: {exc}") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    svc.customers.point_open_ticket(updated.ticket.customer_id, ticket_id, expected=current)
    return TicketReopened(updated.ticket)


def label(svc: Services, agent: Agent, ticket_id: str, command: Label) -> TicketLabelled:
    """What the ticket's first message really was: ``{"intent": "praise", "urgent": false}`` (``urgent`` defaults to
    the ticket's). Any agent whose team covers the desk, or a lead, on shift; open or resolved tickets alike. The
    ticket's intent becomes the label and an acknowledgement still to come follows it; the label is kept (a later
    one replaces it) for ``labels``."""
    intent, urgent = command.intent, command.urgent
    acknowledge = intent in svc.config.triage.acknowledge.intents

    def labellable(ticket: Ticket) -> None:
        if ticket.status == MERGED:
            raise Conflict(f"ticket {ticket_id} was merged into {ticket.merged_into}: label that one")
        if not ticket.mention_keys:
            raise Conflict(f"ticket {ticket_id} has no customer message to label")

    def apply(t: Ticket, now: datetime) -> tuple[bool, str, datetime]:
        """Urgent, what triage had given, when."""
        is_urgent = t.urgent if urgent is None else urgent
        return is_urgent, t.label(intent, is_urgent, agent.username, now, acknowledge=acknowledge), now

    labelled = annotate(svc, agent, ticket_id, apply, labellable)
    updated, (said_urgent, triaged, at) = labelled.ticket, labelled.result
    svc.labels.record(TriageLabel(ticket_id=ticket_id, customer_id=updated.customer_id,
                                  mention_key=updated.mention_keys[0], intent=intent, urgent=said_urgent,
                                  triaged=triaged, triaged_acknowledge=updated.triaged_acknowledge,
                                  agent=agent.username, at=at))
    logger.info("ticket labelled", extra={"ticket_id": ticket_id, "agent": agent.username, "intent": intent,
                                          "triaged": triaged})
    return TicketLabelled(updated, intent=intent, urgent=said_urgent, triaged=triaged)


def link(svc: Services, agent: Agent, command: Link) -> CustomersLinked:
    """Two identities are one customer (the customer-links use case, acted by this agent)."""
    require_on_shift(svc, agent, svc.now())
    linked = customers.link(svc, command.identity, command.other, by=agent.username)
    count("AgentActions", action="link")
    return CustomersLinked(linked)


# ------------------------------------------------------------------------------------------------ one step
def reply_resolve(svc: Services, agent: Agent, ticket_id: str, command: Reply) -> RepliedAnd:
    """Reply, then resolve, in one request. A refused reply (too long, not the holder …) raises before anything
    changed: nothing is resolved. A retry of the same request id that finds the ticket resolved answers as done."""
    replied = reply(svc, agent, ticket_id, command)
    if replied.ticket.status == RESOLVED and not replied.queued:
        return RepliedAnd(replied.ticket, reply=replied, then="resolved")
    return RepliedAnd(resolve(svc, agent, ticket_id).ticket, reply=replied, then="resolved")


def reply_release(svc: Services, agent: Agent, ticket_id: str, command: Reply) -> RepliedAnd:
    """Reply, then release: the ticket waits for the customer (their answer puts it back in the queue). A refused
    reply releases nothing."""
    replied = reply(svc, agent, ticket_id, command)
    if replied.ticket.status != CLAIMED and not replied.queued:
        return RepliedAnd(replied.ticket, reply=replied, then="released")
    return RepliedAnd(claims.release(svc, agent, ticket_id).ticket, reply=replied, then="released")


def resolve_next(svc: Services, agent: Agent, ticket_id: str, command: Next) -> ResolvedAndNext:
    """Resolve, then take the next ticket (of ``command.desk``, else of every desk the agent's on-shift teams
    cover). The resolution stands whatever the next step finds: none waiting, or the agent off shift, is said in
    the answer's message."""
    resolved = resolve(svc, agent, ticket_id)
    try:
        taken = claims.next_ticket(svc, agent, command.desk, command.listening)
    except Refused as exc:
        taken = NextTaken(None, exc.message)
    return ResolvedAndNext(resolved.ticket, next=taken)


# ------------------------------------------------------------------------------------------------ by name
Run = Callable[[Services, Agent, str, Given], Outcome]


@dataclass(frozen=True)
class UseCase:
    """What an ``Action`` runs: ``run(svc, agent, ticket_id, given)``, which reads ``given`` only if the action takes
    input. ``on_ticket``: the action is on the ticket itself (its log lines carry the reference, and ``AgentActions``
    counts it); linking customers counts itself."""

    run: Run
    on_ticket: bool = True


#: Every action, by its name (``.../tickets/{id}/{action}``), to its use case.
ACTIONS: Mapping[Action, UseCase] = {
    Action.REPLY: UseCase(lambda svc, agent, ticket_id, given: reply(svc, agent, ticket_id, given.read_as(Reply))),
    Action.NOTE: UseCase(lambda svc, agent, ticket_id, given: note(svc, agent, ticket_id, given.read_as(Note))),
    Action.TRANSFER: UseCase(lambda svc, agent, ticket_id, given: transfer(
        svc, agent, ticket_id, Transfer.of(given, svc.config.desk_ids))),
    Action.LABEL: UseCase(lambda svc, agent, ticket_id, given: label(svc, agent, ticket_id, given.read_as(Label))),
    Action.CLAIM: UseCase(lambda svc, agent, ticket_id, _: claims.claim(svc, agent, ticket_id)),
    Action.RELEASE: UseCase(lambda svc, agent, ticket_id, _: claims.release(svc, agent, ticket_id)),
    Action.RESOLVE: UseCase(lambda svc, agent, ticket_id, _: resolve(svc, agent, ticket_id)),
    Action.REOPEN: UseCase(lambda svc, agent, ticket_id, _: reopen(svc, agent, ticket_id)),
    Action.LINK: UseCase(lambda svc, agent, _, given: link(svc, agent, given.read_as(Link)), on_ticket=False),
    Action.REPLY_RESOLVE: UseCase(lambda svc, agent, ticket_id, given: reply_resolve(
        svc, agent, ticket_id, given.read_as(Reply))),
    Action.REPLY_RELEASE: UseCase(lambda svc, agent, ticket_id, given: reply_release(
        svc, agent, ticket_id, given.read_as(Reply))),
    Action.RESOLVE_NEXT: UseCase(lambda svc, agent, ticket_id, given: resolve_next(
        svc, agent, ticket_id, given.read_as(Next))),
    Action.ASSIGN: UseCase(lambda svc, agent, ticket_id, given: assign(svc, agent, ticket_id, given.read_as(Assign))),
    Action.TEMPLATE: UseCase(lambda svc, agent, ticket_id, given: window.send_template(
        svc, agent, ticket_id, given.read_as(window.SendTemplate))),
    Action.DISMISS: UseCase(lambda svc, agent, ticket_id, given: listened.dismiss(
        svc, agent, ticket_id, given.read_as(listened.Dismiss))),
}


def act(svc: Services, agent: Agent, ticket_id: str, action: Action, given: Given) -> Outcome:
    """One action by its name; ``given`` is read only by the actions that take input. From here on the request's log
    lines carry the ticket reference; each action done is counted (``AgentActions`` per action)."""
    use = ACTIONS[action]
    if use.on_ticket:
        correlate(ticket_id)
    outcome = use.run(svc, agent, ticket_id, given)
    if use.on_ticket:
        count("AgentActions", action=action.value)
        reports.record_action(svc, action.value, outcome)  # the leads' reports: the ticket's figures, as saved
    return outcome
