"""Assigning: a lead, or the agent who holds a ticket, gives it to a named agent who is at work and may take it
(their team covers its desk and is on shift now, or they lead or are on call). It is theirs at once: in their
"tickets you hold", with the claim their shift allows; whoever held it lets it go."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.agent import Agent
from chalicelib.domain.ticket import Ticket, TicketStateError
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate, SeenAgent
from chalicelib.telemetry import count, logger
from chalicelib.usecases.desk.access import acting_teams, claim_until, load, may_see, require_on_shift
from chalicelib.usecases.desk.claims import desk_update
from chalicelib.usecases.desk.commands import Assign
from chalicelib.usecases.desk.results import TicketAssigned
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotFound

#: How recently an agent must have signed in or taken work to be given a ticket (a shift and a bit)
AT_WORK_WITHIN = timedelta(hours=14)


def _as_agent(seen: SeenAgent) -> Agent:
    return Agent(seen.username, seen.name, seen.teams, lead=seen.lead)


def _acting(svc: Services, seen: SeenAgent | None, username: str, ticket: Ticket, now: datetime
            ) -> tuple[list[str], str]:
    """The teams ``username`` would hold ``ticket`` with now, or (none) why they cannot be given it."""
    if seen is None or now - seen.at > AT_WORK_WITHIN:
        return [], f"{username} has not signed in today: they can be given tickets once they sign in"
    try:
        return acting_teams(svc, _as_agent(seen), ticket.desk, now), ""
    except (Forbidden, NotFound) as exc:
        return [], f"{username} cannot take ticket {ticket.ticket_id}: {exc.message}"


def assignable(svc: Services, ticket: Ticket, now: datetime | None = None) -> list[SeenAgent]:
    """The agents at work now who may take ``ticket``, by username."""
    now = now or svc.now()
    return [seen for seen in svc.presence.all() if not _acting(svc, seen, seen.username, ticket, now)[1]]


def assign(svc: Services, agent: Agent, ticket_id: str, command: Assign) -> TicketAssigned:
    """``agent`` (a lead, or the ticket's holder, on shift) gives the ticket to ``command.agent``."""
    now = svc.now()
    ticket = load(svc, ticket_id)
    may_see(svc, agent, ticket)
    if not (agent.lead or ticket.held_by(agent.username, now)):
        raise Forbidden("only a lead, or the agent who holds the ticket, may assign it")
    require_on_shift(svc, agent, now)
    seen = next((s for s in svc.presence.all() if s.username == command.agent), None)
    teams, why = _acting(svc, seen, command.agent, ticket, now)
    if why or seen is None:
        raise Invalid(why, details={"agent": "not available"})
    until = claim_until(svc, teams, now)
    try:
        updated = svc.tickets.update(ticket_id, lambda t: t.assign(seen.username, until, now, by=agent.username),
                                     current=ticket)
    except TicketStateError as exc:
        raise Conflict(str(exc)) from None
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    desk_update(svc, updated.ticket, "assigned")
    count("TicketsAssigned", desk=updated.ticket.desk)
    logger.info("ticket assigned", extra={"ticket_id": ticket_id, "agent": seen.username, "by": agent.username})
    return TicketAssigned(updated.ticket, agent=seen.username)
