"""Taking and giving back tickets: ``next_ticket`` and ``claim`` (a conditional write, so two agents never hold one
ticket), ``release``, claims that run out (``expire_claims``), and the tickets an agent holds (``held``)."""
from __future__ import annotations

from chalicelib.domain import routing
from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Claimed, Queued, ReleaseReason
from chalicelib.domain.ticket import WAITING, Ticket, TicketStateError
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import correlate, count, logger, seconds
from chalicelib.usecases.desk.access import (
    act_as_holder,
    acting_teams,
    claim_until,
    holder_check,
    load,
    require_on_shift,
)
from chalicelib.usecases.desk.listened import addressed_first
from chalicelib.usecases.desk.results import NextTaken, TicketClaimed, TicketReleased
from chalicelib.usecases.errors import Conflict, Forbidden, NotFound

#: How many waiting tickets per desk ``next`` looks at per round (losing a race moves on to the next one).
CANDIDATES = 25
#: How many times more it reads when the first ones are all of the kind served last (listened, or addressed).
LONGER = 8


def next_ticket(svc: Services, agent: Agent, desk: str | None = None, listening: bool = False) -> NextTaken:
    """Claim the next ticket: of ``desk``, or of every desk the agent's on-shift teams cover. Addressed tickets
    before listened ones (``listened.addressed_first``; ``listening``: listened ones first), then urgent first, then
    oldest first contact. The ticket claimed, or none and why."""
    now = svc.now()
    svc.presence.seen(agent, now)  # at work (``desk.assign``)
    if desk:
        candidates_desks = [desk]
        teams = acting_teams(svc, agent, desk, now)
    else:
        teams = require_on_shift(svc, agent, now)
        candidates_desks = [d for d in svc.config.desk_ids if any(t in teams for t in svc.config.teams_covering(d))]
    until = claim_until(svc, teams, now)
    for _ in range(4):  # each round reads the queues afresh; a round ends early only by winning
        candidates = addressed_first((t for d in candidates_desks for t in _candidates(svc, d, listening)),
                                     listened=listening)
        if not candidates:
            break
        for candidate in candidates:
            ticket = svc.tickets.get(candidate.ticket_id)  # the queue index may lag: read the ticket itself
            if ticket is None or ticket.status != WAITING or ticket.desk not in candidates_desks:
                continue
            try:
                ticket.claim(agent.username, until, now)
                svc.tickets.save(ticket)  # conditional on the version read: one winner
            except (ConcurrentUpdate, TicketStateError):
                continue
            correlate(ticket.ticket_id)
            count("TicketsClaimed", desk=ticket.desk)
            count("AgentActions", action="next")
            desk_wait(ticket)
            logger.info("ticket claimed", extra={"ticket_id": ticket.ticket_id, "agent": agent.username})
            return NextTaken(ticket)
    return NextTaken(None, f"Nothing is waiting on {', '.join(candidates_desks)}.")


def _candidates(svc: Services, desk: str, listening: bool) -> list[Ticket]:
    """The first waiting tickets of ``desk``; when every one read is of the kind asked for last (listened, or
    addressed when ``listening``) and there may be more, a longer stretch of the queue, so the kind served first is
    found behind them."""
    found = svc.tickets.backlog(desk, limit=CANDIDATES)
    if len(found) == CANDIDATES and all(t.listened != listening for t in found):
        found = svc.tickets.backlog(desk, limit=CANDIDATES * LONGER)
    return found


def claim(svc: Services, agent: Agent, ticket_id: str) -> TicketClaimed:
    """Take one named ticket (waiting in the queue, or waiting for the customer after a reply); refused if somebody
    holds it, or with the reason when off shift or on a desk the agent's teams do not cover."""
    now = svc.now()
    ticket = load(svc, ticket_id)
    teams = acting_teams(svc, agent, ticket.desk, now)
    if not ticket.open:
        holder_check(svc, agent, ticket, now)  # says merged / resolved, and how to reopen
    try:
        updated = svc.tickets.update(ticket_id, lambda t: t.claim(agent.username, claim_until(svc, teams, now), now),
                                     current=ticket)
    except TicketStateError as exc:
        raise Forbidden(str(exc)) from None
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    count("TicketsClaimed", desk=updated.ticket.desk)
    desk_wait(updated.ticket)
    return TicketClaimed(updated.ticket)


def release(svc: Services, agent: Agent, ticket_id: str) -> TicketReleased:
    """Give the ticket back: to the desk's queue, or, after a reply, to wait for the customer."""
    updated = act_as_holder(svc, agent, ticket_id,
                            lambda t, now: t.release(now, ReleaseReason.BY_AGENT, agent.username),
                            lead_may=True, renew=False).ticket
    if updated.status == WAITING:
        desk_update(svc, updated, "released")
    return TicketReleased(updated)


def held(svc: Services, agent: Agent) -> list[Ticket]:
    """The tickets the agent holds now."""
    now = svc.now()
    return [t for t in svc.tickets.claimed() if t.held_by(agent.username, now)]


def expire_claims(svc: Services) -> int:
    """Claims past their end (shift over, or idle too long) return to their desk; the desk's queue hears of it."""
    now = svc.now()
    released = 0
    for ticket in svc.tickets.claimed():
        if ticket.claim_expires_at and ticket.claim_expires_at <= now:
            holder = ticket.claimed_by
            ticket.release(now, ReleaseReason.EXPIRED)
            try:
                svc.tickets.save(ticket)
            except ConcurrentUpdate:
                continue  # the agent acted on it just now; the next run looks again
            released += 1
            logger.info("claim expired", extra={"ticket_id": ticket.ticket_id, "agent": holder})
            if ticket.status == WAITING:
                desk_update(svc, ticket, "released")
    return released


def desk_wait(ticket: Ticket) -> None:
    """``DeskWait`` (seconds, per desk): from the ticket queued on its desk to its first claim. An agent holds a
    ticket before answering it, so the first claim is where the customer's wait for a person ends."""
    claims = [e.at for e in ticket.timeline if isinstance(e, Claimed)]
    if len(claims) != 1:
        return  # claimed before: released, expired or reopened work is not a new wait
    queued = next((e.at for e in ticket.timeline if isinstance(e, Queued)), ticket.first_contact_at)
    seconds("DeskWait", claims[0] - queued, desk=ticket.desk)


def desk_update(svc: Services, ticket: Ticket, change: str, *, from_desk: str = "") -> None:
    """The desk's queue hears that ``ticket`` changed (``change``: released, transferred … ``from_desk``: the desk
    a transfer took it from)."""
    message = routing.queue_message(ticket, event="ticket.updated", change=change, at=svc.now(),
                                    status_url=svc.links.url(ticket.ticket_id))
    if from_desk:
        message["from_desk"] = from_desk
    svc.queues.send_desk(ticket.desk, message)
