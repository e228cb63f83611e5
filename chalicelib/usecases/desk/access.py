"""Who may do what at the desk: sign-in and the token, shifts, the desks an agent's teams cover, holding a ticket,
and oversight. The guards around every change to a ticket (``act_as_holder``, ``annotate``) live here too: the check
is repeated on every re-read of a conditional write."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import wording
from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Claimed, Released, ReleaseReason
from chalicelib.domain.ticket import CLAIMED, MERGED, RESOLVED, Ticket, TicketStateError
from chalicelib.services import Services
from chalicelib.store import ports
from chalicelib.store.ports import ConcurrentUpdate, InvalidToken, R, SignInRefused, Updated
from chalicelib.telemetry import logger
from chalicelib.usecases.desk.commands import SignIn
from chalicelib.usecases.errors import Conflict, Forbidden, NotAuthenticated, NotFound


# ------------------------------------------------------------------------------------------------ who
def sign_in(svc: Services, command: SignIn) -> ports.SignIn:
    """The agent's token (and how long it lasts) for their username and password."""
    try:
        signed = svc.agents.sign_in(command.username, command.password)
    except SignInRefused as exc:
        raise NotAuthenticated(str(exc)) from None
    logger.info("agent signed in", extra={"agent": signed.agent.username})
    svc.presence.seen(signed.agent, svc.now())  # at work: a lead may give them tickets (``desk.assign``)
    return signed


def authenticate(svc: Services, token: str | None) -> Agent:
    if not token:
        raise NotAuthenticated("sign in first: POST /agent/sign-in, then send Authorization: Bearer <token>")
    try:
        return svc.agents.verify(token)
    except InvalidToken as exc:
        raise NotAuthenticated(f"{exc}; sign in again") from None


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def may_oversee(agent: Agent) -> bool:
    """Whether ``oversight`` is open to the agent: leads and comms (the web inbox links to it only for them)."""
    return agent.lead or "comms" in agent.teams


# ------------------------------------------------------------------------------------------------ shifts
def zone(svc: Services) -> ZoneInfo:
    return ZoneInfo(svc.config.brand.timezone)


def on_shift_teams(svc: Services, agent: Agent, now: datetime) -> list[str]:
    return [team for team in agent.teams if svc.calendar.on_shift(team, now)]


def covered_desks(svc: Services, agent: Agent) -> list[str]:
    return [d for d in svc.config.desk_ids if any(t in agent.teams for t in svc.config.teams_covering(d))]


def off_shift_reason(svc: Services, teams: list[str], now: datetime) -> str:
    if not teams:
        return "you are in no team of this brand: ask ops to add you to a team group"
    starts = [(svc.calendar.next_shift_start(t, now), t) for t in teams]
    known = sorted((s, t) for s, t in starts if s is not None)
    if not known:
        return f"your team {', '.join(teams)} has no shift coming up"
    at, team = known[0]
    return f"your team {team} is off shift; its next shift starts {wording.opening(at, now, zone(svc))}"


def require_on_shift(svc: Services, agent: Agent, now: datetime) -> list[str]:
    teams = on_shift_teams(svc, agent, now)
    if not teams:
        raise Forbidden(off_shift_reason(svc, list(agent.teams), now))
    return teams


def on_call(svc: Services, agent: Agent) -> bool:
    """Whether the agent is in a team that covers the on-call desk (``routing.oncall_desk``)."""
    desk = svc.config.routing.oncall_desk
    return bool(desk) and any(t in agent.teams for t in svc.config.teams_covering(desk or ""))


def acting_teams(svc: Services, agent: Agent, desk: str, now: datetime) -> list[str]:
    """The agent's teams that cover ``desk`` and are on shift now (Forbidden, with the reason, if none). A lead or
    a member of the on-call team may act on any desk's ticket while one of their teams is on shift."""
    if desk not in svc.config.desks:
        raise NotFound(f"desk {desk} (desks: {', '.join(svc.config.desk_ids)})")
    covering = [t for t in svc.config.teams_covering(desk) if t in agent.teams]
    if not covering and (agent.lead or on_call(svc, agent)):
        return require_on_shift(svc, agent, now)  # leads and the on-call team may take any desk's ticket
    if not covering:
        raise Forbidden(f"desk {desk} is covered by {', '.join(svc.config.teams_covering(desk))}; your teams: "
                        f"{', '.join(agent.teams) or 'none'}")
    on_shift = [t for t in covering if svc.calendar.on_shift(t, now)]
    if not on_shift:
        raise Forbidden(off_shift_reason(svc, covering, now))
    return on_shift


def claim_until(svc: Services, teams: list[str], now: datetime) -> datetime:
    ends = [end for end in (svc.calendar.shift_end(t, now) for t in teams) if end is not None]
    idle = now + timedelta(minutes=svc.settings.claim_idle_minutes)
    return min([idle, *([max(ends)] if ends else [])])


# ------------------------------------------------------------------------------------------------ a ticket
def load(svc: Services, ticket_id: str) -> Ticket:
    ticket = svc.tickets.get(ticket_id) if ticket_id else None
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    return ticket


def may_see(svc: Services, agent: Agent, ticket: Ticket) -> None:
    """Leads and the on-call team see every desk's tickets; others, their teams' desks'."""
    if agent.lead or on_call(svc, agent) or any(t in agent.teams for t in svc.config.teams_covering(ticket.desk)):
        return
    raise Forbidden(f"ticket {ticket.ticket_id} is on desk {ticket.desk}, which your teams do not cover")


def holder_check(svc: Services, agent: Agent, ticket: Ticket, now: datetime, *, lead_may: bool = False) -> None:
    """Refuse (with the reason) unless the agent holds the ticket (or, where allowed, leads it)."""
    if ticket.status == MERGED:
        raise Conflict(f"ticket {ticket.ticket_id} was merged into {ticket.merged_into}: act on that one")
    if ticket.status == RESOLVED:
        raise Conflict(f"ticket {ticket.ticket_id} is resolved; reopen it first "
                       f"(POST /agent/tickets/{ticket.ticket_id}/reopen, or: inbox reopen {ticket.ticket_id})")
    if ticket.held_by(agent.username, now):
        return
    if lead_may and agent.lead:
        return
    if ticket.status == CLAIMED and ticket.claimed_by and ticket.claim_expires_at and ticket.claim_expires_at > now:
        raise Forbidden(f"ticket {ticket.ticket_id} is held by {ticket.claimed_by} until "
                        f"{ticket.claim_expires_at.astimezone(zone(svc)):%H:%M}")
    claims = [e for e in ticket.timeline if isinstance(e, Claimed | Released)]
    expired = len(claims) >= 2 and isinstance(claims[-1], Released) and claims[-1].reason == ReleaseReason.EXPIRED
    if ticket.claimed_by == agent.username or (
            expired and isinstance(claims[-2], Claimed) and claims[-2].agent == agent.username):
        raise Forbidden(f"your claim on ticket {ticket.ticket_id} expired (idle for "
                        f"{svc.settings.claim_idle_minutes} minutes, or your shift ended); take it again with next")
    raise Forbidden(f"you do not hold ticket {ticket.ticket_id}: take it with next first")


def act_as_holder(svc: Services, agent: Agent, ticket_id: str, change: Callable[[Ticket, datetime], R], *,
                  lead_may: bool = False, renew: bool = True, current: Ticket | None = None) -> Updated[R]:
    """Check shift and hold, then apply ``change(ticket, now)`` with a conditional write; the check is repeated on
    every re-read, so an action never lands on a ticket somebody else took meanwhile. The ticket as saved and what
    ``change`` returned on the attempt saved. ``current``: the ticket as the caller already read it (it is not read
    again unless the write finds it changed)."""
    now = svc.now()
    ticket = current if current is not None else load(svc, ticket_id)
    may_see(svc, agent, ticket)
    teams = acting_teams(svc, agent, ticket.desk, now) if not agent.lead else require_on_shift(svc, agent, now)

    def apply(t: Ticket) -> R:
        holder_check(svc, agent, t, now, lead_may=lead_may)
        result = change(t, now)
        if renew and t.held_by(agent.username, now):
            t.claim_expires_at = claim_until(svc, teams, now)
        return result

    try:
        updated = svc.tickets.update(ticket_id, apply, current=ticket)
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    except TicketStateError as exc:
        raise Conflict(str(exc)) from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    return updated


def annotate(svc: Services, agent: Agent, ticket_id: str, change: Callable[[Ticket, datetime], R],
             check: Callable[[Ticket], None] | None = None) -> Updated[R]:
    """A change any agent whose team covers the desk (or a lead) may make, on shift, holder or not (a note, a
    label): ``check`` may refuse the ticket first, then ``change(ticket, now)`` with a conditional write. The ticket
    as saved and what ``change`` returned on the attempt saved."""
    now = svc.now()
    ticket = load(svc, ticket_id)
    may_see(svc, agent, ticket)
    if agent.lead:
        require_on_shift(svc, agent, now)
    else:
        acting_teams(svc, agent, ticket.desk, now)
    if check is not None:
        check(ticket)
    try:
        updated = svc.tickets.update(ticket_id, lambda t: change(t, now), current=ticket)
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    return updated
