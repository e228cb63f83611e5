"""The agents' inbox: one set of use cases behind three faces (the JSON API ``/agent/...``, the web inbox
``/inbox`` and the terminal inbox ``python -m tools.inbox``).

Who an agent is, their teams and whether they lead, come from their sign-in token (``AgentDirectory.verify``),
never from the request. Agents act while one of their teams is on shift, on the desks their teams cover:

- ``next_ticket`` claims the next waiting ticket (urgent first, then oldest first contact) with a conditional
  write, so two agents never hold one ticket; the claim lasts until the end of the agent's shift or the idle limit
  (``CLAIM_IDLE_MINUTES``), whichever is first, and every action by the holder renews the idle limit;
- ``claim`` one named ticket (the same conditional write);
- ``show`` the whole story; ``reply`` on the customer's own channel through the outbox; ``note`` (internal);
  ``transfer`` to another desk; ``release``; ``resolve``; ``reopen``; ``link`` two identities as one customer;
- ``label`` what the first message really was (intent, urgent): the ticket follows it, and leads export the labels
  (``labels``) in the triage report's format, to measure triage on the brand's own traffic.

Refusals say why, for a person: ``NotAuthenticated`` (no or bad token), ``Forbidden`` (off shift, a desk the
team does not cover, a ticket the agent does not hold), ``Conflict`` (resolved, merged), ``Invalid`` (a reply
longer than the channel allows — before anything is queued).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import routing, wording
from chalicelib.domain.agent import Agent, reply_limit, reply_problem
from chalicelib.domain.channel_profiles import PROFILES, profile
from chalicelib.domain.config import INTENTS
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import CLAIMED, MERGED, RESOLVED, WAITING, Ticket, TicketStateError
from chalicelib.domain.triage import explain
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate, InvalidToken, R, SignInRefused, TriageLabel, Updated
from chalicelib.telemetry import correlate, count, logger, seconds
from chalicelib.usecases import customers
from chalicelib.usecases.admin import acknowledgements
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, Malformed, NotAuthenticated, NotFound
from chalicelib.usecases.replies import queue_reply

#: Channels where an agent may answer privately instead of publicly (X DM, Facebook/Instagram private reply,
#: Mastodon direct-visibility reply): ``ChannelProfile.can_reply_privately``.
PRIVATE_CAPABLE = tuple(channel for channel, p in PROFILES.items() if p.can_reply_privately)


def counting_hint(channel: str, private: bool) -> str:
    """How the platform counts a reply, for the person writing it (the server's count decides: domain.agent)."""
    found = profile(channel)
    return found.reply(private).hint if found is not None else ""


MAX_NOTE = 4000
#: How many waiting tickets per desk ``next`` looks at per round (losing a race moves on to the next one).
CANDIDATES = 25


# ------------------------------------------------------------------------------------------------ who
def sign_in(svc: Services, data: dict[str, Any]) -> dict[str, Any]:
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise Malformed("send {\"username\": ..., \"password\": ...}")
    if len(username) > 128 or len(password) > 256:
        raise NotAuthenticated("wrong username or password")
    try:
        signed = svc.agents.sign_in(username, password)
    except SignInRefused as exc:
        raise NotAuthenticated(str(exc)) from None
    logger.info("agent signed in", extra={"agent": signed.agent.username})
    return {"token": signed.token, "expires_in": signed.expires_in, "agent": agent_view(svc, signed.agent)}


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


def _zone(svc: Services) -> ZoneInfo:
    return ZoneInfo(svc.config.brand.timezone)


def _on_shift_teams(svc: Services, agent: Agent, now: datetime) -> list[str]:
    return [team for team in agent.teams if svc.calendar.on_shift(team, now)]


def _covered_desks(svc: Services, agent: Agent) -> list[str]:
    return [d for d in svc.config.desk_ids if any(t in agent.teams for t in svc.config.teams_covering(d))]


def _off_shift_reason(svc: Services, teams: list[str], now: datetime) -> str:
    if not teams:
        return "you are in no team of this brand: ask ops to add you to a team group"
    starts = [(svc.calendar.next_shift_start(t, now), t) for t in teams]
    known = sorted((s, t) for s, t in starts if s is not None)
    if not known:
        return f"your team {', '.join(teams)} has no shift coming up"
    at, team = known[0]
    return f"your team {team} is off shift; its next shift starts {wording.opening(at, now, _zone(svc))}"


def _require_on_shift(svc: Services, agent: Agent, now: datetime) -> list[str]:
    teams = _on_shift_teams(svc, agent, now)
    if not teams:
        raise Forbidden(_off_shift_reason(svc, list(agent.teams), now))
    return teams


def _acting_teams(svc: Services, agent: Agent, desk: str, now: datetime) -> list[str]:
    """The agent's teams that cover ``desk`` and are on shift now (Forbidden, with the reason, if none)."""
    if desk not in svc.config.desks:
        raise NotFound(f"desk {desk} (desks: {', '.join(svc.config.desk_ids)})")
    covering = [t for t in svc.config.teams_covering(desk) if t in agent.teams]
    if not covering:
        raise Forbidden(f"desk {desk} is covered by {', '.join(svc.config.teams_covering(desk))}; your teams: "
                        f"{', '.join(agent.teams) or 'none'}")
    on_shift = [t for t in covering if svc.calendar.on_shift(t, now)]
    if not on_shift:
        raise Forbidden(_off_shift_reason(svc, covering, now))
    return on_shift


def _claim_until(svc: Services, teams: list[str], now: datetime) -> datetime:
    ends = [end for end in (svc.calendar.shift_end(t, now) for t in teams) if end is not None]
    idle = now + timedelta(minutes=svc.settings.claim_idle_minutes)
    return min([idle, *([max(ends)] if ends else [])])


def agent_view(svc: Services, agent: Agent) -> dict[str, Any]:
    now = svc.now()
    on_shift = _on_shift_teams(svc, agent, now)
    return {"username": agent.username, "name": agent.display, "teams": list(agent.teams), "lead": agent.lead,
            "timezone": svc.config.brand.timezone,
            "on_shift": on_shift, "desks": _covered_desks(svc, agent),
            "off_shift_reason": "" if on_shift else _off_shift_reason(svc, list(agent.teams), now)}


# ------------------------------------------------------------------------------------------------ desks
def desks(svc: Services, agent: Agent) -> dict[str, Any]:
    """The desks the agent's teams cover: open or not, depth, oldest wait; and the tickets the agent holds."""
    now = svc.now()
    rows = []
    for desk in _covered_desks(svc, agent):
        waiting = svc.tickets.backlog(desk, limit=1)
        oldest = waiting[0].first_contact_at if waiting else None
        depth = svc.tickets.backlog_count(desk)
        teams = [t for t in svc.config.teams_covering(desk) if t in agent.teams]
        rows.append({"desk": desk, "description": svc.config.desks[desk].description, "depth": depth,
                     "open": svc.calendar.is_open(desk, now),
                     "yours_on_shift": any(svc.calendar.on_shift(t, now) for t in teams),
                     "oldest_first_contact_at": oldest.isoformat() if oldest else None,
                     "oldest_wait": wording.wait(now - oldest) if oldest else "",
                     "oldest_wait_minutes": int((now - oldest).total_seconds() // 60) if oldest else 0})
    return {"agent": agent_view(svc, agent), "desks": rows, "held": held(svc, agent)}


def held(svc: Services, agent: Agent) -> list[dict[str, Any]]:
    now = svc.now()
    return [_summary(svc, t, now) for t in svc.tickets.claimed() if t.held_by(agent.username, now)]


def _summary(svc: Services, ticket: Ticket, now: datetime) -> dict[str, Any]:
    target = ticket.reply_target
    return {"ticket_id": ticket.ticket_id, "desk": ticket.desk, "status": ticket.status, "priority": ticket.priority,
            "intent": ticket.intent, "channel": ticket.channel, "customer_name": target.name if target else "",
            "first_contact_at": ticket.first_contact_at.isoformat(), "flags": list(ticket.flags),
            "waiting": wording.wait(now - ticket.first_contact_at), "breached": ticket.breached,
            "claimed_by": ticket.claimed_by,
            "claim_expires_at": ticket.claim_expires_at.isoformat() if ticket.claim_expires_at else None}


# ------------------------------------------------------------------------------------------------ next
def next_ticket(svc: Services, agent: Agent, desk: str | None = None) -> dict[str, Any]:
    """Claim the next ticket: of ``desk``, or of every desk the agent's on-shift teams cover. Urgent first, then
    oldest first contact. Returns ``{"ticket": <show view>}``, or ``{"ticket": None, "message": ...}``."""
    now = svc.now()
    if desk:
        candidates_desks = [desk]
        teams = _acting_teams(svc, agent, desk, now)
    else:
        teams = _require_on_shift(svc, agent, now)
        candidates_desks = [d for d in svc.config.desk_ids if any(t in teams for t in svc.config.teams_covering(d))]
    until = _claim_until(svc, teams, now)
    for _ in range(4):  # each round reads the queues afresh; a round ends early only by winning
        candidates = sorted((t for d in candidates_desks for t in svc.tickets.backlog(d, limit=CANDIDATES)),
                            key=lambda t: t.backlog_order)
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
            _desk_wait(ticket)
            logger.info("ticket claimed", extra={"ticket_id": ticket.ticket_id, "agent": agent.username})
            return {"ticket": ticket_view(svc, ticket, agent)}
    return {"ticket": None, "message": f"Nothing is waiting on {', '.join(candidates_desks)}."}


def claim(svc: Services, agent: Agent, ticket_id: str) -> dict[str, Any]:
    """Take one named ticket (waiting in the queue, or waiting for the customer after a reply); refused if somebody
    holds it, or with the reason when off shift or on a desk the agent's teams do not cover."""
    now = svc.now()
    ticket = _load(svc, ticket_id)
    teams = _acting_teams(svc, agent, ticket.desk, now)
    if not ticket.open:
        _holder_check(svc, agent, ticket, now)  # says merged / resolved, and how to reopen
    try:
        updated = svc.tickets.update(ticket_id, lambda t: t.claim(agent.username, _claim_until(svc, teams, now), now),
                                     current=ticket)
    except TicketStateError as exc:
        raise Forbidden(str(exc)) from None
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    count("TicketsClaimed", desk=updated.ticket.desk)
    _desk_wait(updated.ticket)
    return {"ticket": ticket_view(svc, updated.ticket, agent)}


def _desk_wait(ticket: Ticket) -> None:
    """``DeskWait`` (seconds, per desk): from the ticket queued on its desk to its first claim. An agent holds a
    ticket before answering it, so the first claim is where the customer's wait for a person ends."""
    claims = [e.at for e in ticket.timeline if e.kind == "claimed"]
    if len(claims) != 1:
        return  # claimed before: released, expired or reopened work is not a new wait
    queued = next((e.at for e in ticket.timeline if e.kind == "queued"), ticket.first_contact_at)
    seconds("DeskWait", claims[0] - queued, desk=ticket.desk)


# ------------------------------------------------------------------------------------------------ show
def _load(svc: Services, ticket_id: str) -> Ticket:
    ticket = svc.tickets.get(ticket_id) if ticket_id else None
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    return ticket


def _may_see(svc: Services, agent: Agent, ticket: Ticket) -> None:
    if agent.lead or any(t in agent.teams for t in svc.config.teams_covering(ticket.desk)):
        return
    raise Forbidden(f"ticket {ticket.ticket_id} is on desk {ticket.desk}, which your teams do not cover")


def _latest_target(svc: Services, ticket: Ticket) -> ReplyTarget | None:
    """Where to answer: the customer's latest message (any linked channel), else the ticket's first."""
    for key in reversed(ticket.mention_keys):
        stored = svc.mentions.get(key)
        if stored is not None:
            return ReplyTarget.of(stored.mention)
    return ticket.reply_target


def _told(ticket: Ticket) -> list[dict[str, str]]:
    """What the customer was sent, and when (acknowledgements, replies, incident follow-ups)."""
    kinds = {"acknowledged": "acknowledgement", "closing": "closing-time acknowledgement", "busy": "busy notice",
             "incident_update": "incident update", "incident_resolved": "incident resolved",
             "incident_followup": "incident follow-up", "reply": "agent reply delivered"}
    told = []
    for event in ticket.timeline:
        if event.kind == "replied" and event.reply is not None:
            told.append({"at": event.at.isoformat(), "what": "agent reply queued", "by": event.reply.agent,
                         "text": event.reply.text})
        elif event.kind in kinds:
            told.append({"at": event.at.isoformat(), "what": kinds[event.kind], "by": "", "text": ""})
    return told


def _triage(ticket: Ticket) -> dict[str, Any]:
    """Why triage did what it did with the first message (``triage.explain`` of ``Ticket.decision``): answered
    automatically or not and why, the tone and how sure, the signals that decided, and the intent and priority it
    gave. As triage decided it: a label given since (``Ticket.relabel``) is not mixed in; ``relabelled`` says there
    is one."""
    said = explain(ticket.decision, ticket.reasons)
    return {**said, "tone": ticket.tone or said["tone"], "intent": ticket.triaged_intent,
            "priority": ticket.priority, "relabelled": ticket.relabel is not None}


def ticket_view(svc: Services, ticket: Ticket, agent: Agent) -> dict[str, Any]:
    """The whole story for an agent: messages across linked channels, flags, SLA state, what the customer was told,
    the notes, the timeline, the claim, where and how long a reply may be, and why triage answered as it did."""
    now = svc.now()
    messages: list[dict[str, Any]] = []
    latest: Mention | None = None
    for key in ticket.mention_keys:
        stored = svc.mentions.get(key)
        if stored is not None:
            m = latest = stored.mention
            messages.append({"key": key, "channel": m.channel, "at": m.created_at.isoformat(),
                             "author": m.author_handle or m.author_name or m.author_id, "visibility": m.visibility,
                             "text": m.text, "link": routing.permalink(m.channel, m.external_id, m.extra),
                             "followers": m.followers})
    for at, answer in ticket.replies:  # agents' replies, in the conversation where they happened
        messages.append({"key": "", "channel": "reply", "at": at.isoformat(), "author": answer.agent,
                         "visibility": "", "text": answer.text, "link": "", "followers": 0, "ours": True})
    messages.sort(key=lambda m: str(m["at"]))
    target = ReplyTarget.of(latest) if latest is not None else ticket.reply_target  # as _latest_target, read once
    due = ticket.first_response_due if ticket.first_response_at is None else None
    sla = {"first_response_due": due.isoformat() if due else None,
           "breached": ticket.breached or bool(due and due <= now),
           "first_response_at": ticket.first_response_at.isoformat() if ticket.first_response_at else None,
           "time_left": wording.wait(due - now) if due and due > now else ""}
    incident = svc.incidents.get(ticket.incident_id) if ticket.incident_id else None
    private_ok = bool(target) and target is not None and (target.private or target.channel in PRIVATE_CAPABLE)
    return {
        **_summary(svc, ticket, now),
        "held_by_you": ticket.held_by(agent.username, now),
        "merged_into": ticket.merged_into, "reopened": ticket.reopened, "acked": ticket.acked,
        "customer_id": ticket.customer_id, "identities": sorted(svc.customers.identities(ticket.customer_id)),
        "channels": ticket.channels, "conversations": ticket.conversations,
        "suggested_links": ticket.suggested_links, "references": ticket.references,
        "incident": {"incident_id": incident.incident_id, "title": incident.title, "active": incident.active}
        if incident else None,
        "sla": sla, "told": _told(ticket), "status_url": svc.links.url(ticket.ticket_id),
        "messages": messages,
        "notes": [{"at": e.at.isoformat(), "text": e.detail} for e in ticket.timeline if e.kind == "note"],
        "labelled": next((e.detail for e in reversed(ticket.timeline) if e.kind == "labelled"), ""),
        "triage": _triage(ticket),
        "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "detail": "" if e.kind == "replied" else e.detail}
                     for e in ticket.timeline],
        "reply": {"channel": target.channel if target else "", "public": bool(target and not target.private),
                  "private_possible": private_ok,
                  "limit": reply_limit(target.channel, target.private) if target else 0,
                  "to": (target.handle or target.name) if target else "",
                  "counting": counting_hint(target.channel, target.private) if target else ""},
    }


def show(svc: Services, agent: Agent, ticket_id: str) -> dict[str, Any]:
    ticket = _load(svc, ticket_id)
    _may_see(svc, agent, ticket)
    return ticket_view(svc, ticket, agent)


# ------------------------------------------------------------------------------------------------ acting on a ticket
def _holder_check(svc: Services, agent: Agent, ticket: Ticket, now: datetime, *, lead_may: bool = False) -> None:
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
                        f"{ticket.claim_expires_at.astimezone(_zone(svc)):%H:%M}")
    claims = [e for e in ticket.timeline if e.kind in ("claimed", "released", "awaiting_customer")]
    if ticket.claimed_by == agent.username or (
            len(claims) >= 2 and claims[-1].kind != "claimed" and claims[-1].detail == "claim expired"
            and claims[-2].detail == agent.username):
        raise Forbidden(f"your claim on ticket {ticket.ticket_id} expired (idle for "
                        f"{svc.settings.claim_idle_minutes} minutes, or your shift ended); take it again with next")
    raise Forbidden(f"you do not hold ticket {ticket.ticket_id}: take it with next first")


def _act(svc: Services, agent: Agent, ticket_id: str, change: Callable[[Ticket, datetime], R], *,
         lead_may: bool = False, renew: bool = True) -> Updated[R]:
    """Check shift and hold, then apply ``change(ticket, now)`` with a conditional write; the check is repeated on
    every re-read, so an action never lands on a ticket somebody else took meanwhile. The ticket as saved and what
    ``change`` returned on the attempt saved."""
    now = svc.now()
    ticket = _load(svc, ticket_id)
    _may_see(svc, agent, ticket)
    teams = _acting_teams(svc, agent, ticket.desk, now) if not agent.lead else _require_on_shift(svc, agent, now)

    def apply(t: Ticket) -> R:
        _holder_check(svc, agent, t, now, lead_may=lead_may)
        result = change(t, now)
        if renew and t.held_by(agent.username, now):
            t.claim_expires_at = _claim_until(svc, teams, now)
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


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{name} is required", details={name: "required"})
    if len(value) > limit:
        raise Invalid(f"{name} is longer than {limit} characters", details={name: "too long"})
    return value.strip()


def reply(svc: Services, agent: Agent, ticket_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Answer the customer on their own channel (where they last wrote), through the outbox: once per request id.
    ``{"text": ..., "private": false, "request_id": optional}``. The customer's answer to it threads back in."""
    text = _text(data, "text", 50_000)
    private = data.get("private", False)
    if not isinstance(private, bool):
        raise Invalid("private must be true or false", details={"private": "not a boolean"})
    request_id = data.get("request_id") or ""
    if not isinstance(request_id, str) or len(request_id) > 64 or not request_id.replace("-", "").isalnum() and \
            request_id:
        raise Invalid("request_id must be up to 64 letters, digits or dashes", details={"request_id": "invalid"})
    ticket = _load(svc, ticket_id)
    _may_see(svc, agent, ticket)
    target = _latest_target(svc, ticket)
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
    if request_id and any(answer.agent == agent.username and answer.request_id == request_id
                          for _, answer in ticket.replies):
        return {"ticket": ticket_view(svc, ticket, agent), "queued": False, "duplicate": True}
    def answer(t: Ticket, now: datetime) -> tuple[bool, int]:
        """Whether this is the ticket's first response, and which reply it is."""
        first = t.first_response_at is None
        sequence = sum(1 for e in t.timeline if e.kind == "replied") + 1
        t.replied(agent.username, now, text=text, request_id=request_id)
        return first, sequence

    answered = _act(svc, agent, ticket_id, answer)
    updated, (first, sequence) = answered.ticket, answered.result
    key = f"reply#{ticket_id}#{request_id or sequence}"
    queue_reply(svc, updated, kind="reply", key=key, text=text, target=target)
    if first:
        svc.answers.record(updated.desk, svc.now())
    count("AgentReplies", channel=target.channel)
    logger.info("agent reply queued", extra={"ticket_id": ticket_id, "agent": agent.username,
                                             "channel": target.channel})
    return {"ticket": ticket_view(svc, updated, agent), "queued": True, "channel": target.channel,
            "private": target.private}


def note(svc: Services, agent: Agent, ticket_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An internal note: any agent whose team covers the desk (or a lead), on shift, holder or not."""
    text = _text(data, "text", MAX_NOTE)
    return {"ticket": ticket_view(svc, _annotate(svc, agent, ticket_id,
                                                 lambda t, now: t.note(agent.username, text, now)).ticket, agent)}


def _annotate(svc: Services, agent: Agent, ticket_id: str, change: Callable[[Ticket, datetime], R],
              check: Callable[[Ticket], None] | None = None) -> Updated[R]:
    """A change any agent whose team covers the desk (or a lead) may make, on shift, holder or not (a note, a
    label): ``check`` may refuse the ticket first, then ``change(ticket, now)`` with a conditional write. The ticket
    as saved and what ``change`` returned on the attempt saved."""
    now = svc.now()
    ticket = _load(svc, ticket_id)
    _may_see(svc, agent, ticket)
    if agent.lead:
        _require_on_shift(svc, agent, now)
    else:
        _acting_teams(svc, agent, ticket.desk, now)
    if check is not None:
        check(ticket)
    try:
        updated = svc.tickets.update(ticket_id, lambda t: change(t, now), current=ticket)
    except ConcurrentUpdate:
        raise Conflict(f"ticket {ticket_id} is changing right now; try again") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    return updated


def _desk_update(svc: Services, ticket: Ticket, change: str, **extra: Any) -> None:
    message = routing.queue_message(ticket, event="ticket.updated", change=change, at=svc.now(),
                                    status_url=svc.links.url(ticket.ticket_id))
    message.update(extra)
    svc.queues.send_desk(ticket.desk, message)


def transfer(svc: Services, agent: Agent, ticket_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """To another desk's queue (the holder, or a lead); the desk's queue hears of it."""
    desk = data.get("desk")
    if not isinstance(desk, str) or desk not in svc.config.desks:
        raise Invalid(f"desk must be one of {', '.join(svc.config.desk_ids)}", details={"desk": "unknown"})
    before = _load(svc, ticket_id).desk
    if desk == before:
        raise Conflict(f"ticket {ticket_id} is already on desk {desk}")
    updated = _act(svc, agent, ticket_id, lambda t, now: t.transfer(desk, agent.username, now), lead_may=True,
                   renew=False).ticket
    _desk_update(svc, updated, "transferred", from_desk=before)
    return {"ticket": ticket_view(svc, updated, agent)}


def release(svc: Services, agent: Agent, ticket_id: str) -> dict[str, Any]:
    """Give the ticket back: to the desk's queue, or, after a reply, to wait for the customer."""
    updated = _act(svc, agent, ticket_id, lambda t, now: t.release(now, f"released by {agent.username}"),
                   lead_may=True, renew=False).ticket
    if updated.status == WAITING:
        _desk_update(svc, updated, "released")
    return {"ticket": ticket_view(svc, updated, agent)}


def resolve(svc: Services, agent: Agent, ticket_id: str) -> dict[str, Any]:
    updated = _act(svc, agent, ticket_id, lambda t, now: t.resolve(agent.username, now), lead_may=True,
                   renew=False).ticket
    # the customer's open-ticket pointer stays: writing again within the reopen window reopens this ticket
    count("TicketsResolved", desk=updated.desk)
    return {"ticket": ticket_view(svc, updated, agent)}


def reopen(svc: Services, agent: Agent, ticket_id: str) -> dict[str, Any]:
    """A resolved ticket back in play: claimed by the agent who reopened it (to answer again)."""
    now = svc.now()
    ticket = _load(svc, ticket_id)
    _may_see(svc, agent, ticket)
    teams = _acting_teams(svc, agent, ticket.desk, now)
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
        t.claim(agent.username, _claim_until(svc, teams, now), now)

    try:
        updated = svc.tickets.update(ticket_id, reopen_and_claim, current=ticket)
    except (ConcurrentUpdate, TicketStateError) as exc:
        raise Conflict(f"ticket {ticket_id} could not be reopened: {exc}") from None
    if updated is None:
        raise NotFound(f"ticket {ticket_id}")
    svc.customers.point_open_ticket(updated.ticket.customer_id, ticket_id, expected=current)
    return {"ticket": ticket_view(svc, updated.ticket, agent)}


def label(svc: Services, agent: Agent, ticket_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the ticket's first message really was: ``{"intent": "praise", "urgent": false}`` (``urgent`` defaults to
    the ticket's). Any agent whose team covers the desk, or a lead, on shift; open or resolved tickets alike. The
    ticket's intent becomes the label and an acknowledgement still to come follows it; the label is kept (a later
    one replaces it) for ``labels``."""
    intent = data.get("intent")
    if intent not in INTENTS:
        raise Invalid(f"intent must be one of {', '.join(INTENTS)}", details={"intent": "unknown"})
    urgent = data.get("urgent")
    if urgent is not None and not isinstance(urgent, bool):
        raise Invalid("urgent must be true or false", details={"urgent": "not a boolean"})
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

    labelled = _annotate(svc, agent, ticket_id, apply, labellable)
    updated, (said_urgent, triaged, at) = labelled.ticket, labelled.result
    svc.labels.record(TriageLabel(ticket_id=ticket_id, customer_id=updated.customer_id,
                                  mention_key=updated.mention_keys[0], intent=intent, urgent=said_urgent,
                                  triaged=triaged, triaged_acknowledge=updated.triaged_acknowledge,
                                  agent=agent.username, at=at))
    logger.info("ticket labelled", extra={"ticket_id": ticket_id, "agent": agent.username, "intent": intent,
                                          "triaged": triaged})
    return {"ticket": ticket_view(svc, updated, agent), "triaged": triaged}


#: The labelled set's columns, as ``tests/fixtures/triage_eval.csv`` and ``make triage-report`` read them, then
#: what the export adds.
LABEL_COLUMNS = ("tweet_id", "author_id", "created_at", "text", "reply", "intent", "urgent",
                 "channel", "triaged", "triage_acknowledged", "agent", "labelled_at", "ticket_id")


def labels(svc: Services, agent: Agent, since: str | None = None) -> dict[str, Any]:
    """For leads and comms: every label given (since ``since``, an ISO date or time), as rows of the labelled
    set's format: the first message's id, the customer's internal id (never the platform's), when it was written,
    its text, whether it replied to something, the label, and what triage had said. One read of the mention store
    per label (``since`` keeps a large export short). A label whose message is gone is left out."""
    if not may_oversee(agent):
        raise Forbidden("the labels are for leads and comms")
    after: datetime | None = None
    if since:
        try:
            after = datetime.fromisoformat(since)
        except ValueError:
            raise Invalid("since must be an ISO date or time, e.g. 2026-12-01", details={"since": "invalid"}) from None
        if after.tzinfo is None:
            after = after.replace(tzinfo=_zone(svc))
    rows = []
    for given in svc.labels.all(after):
        stored = svc.mentions.get(given.mention_key)
        if stored is None:
            continue
        m = stored.mention
        rows.append({"tweet_id": m.external_id, "author_id": given.customer_id,
                     "created_at": m.created_at.isoformat(), "text": m.text, "reply": "yes" if m.reply_to else "no",
                     "intent": given.intent, "urgent": "yes" if given.urgent else "no", "channel": m.channel,
                     "triaged": given.triaged, "triage_acknowledged": _yes_no(given.triaged_acknowledge),
                     "agent": given.agent, "labelled_at": given.at.isoformat(),
                     "ticket_id": given.ticket_id})
    agreed = sum(1 for r in rows if r["intent"] == r["triaged"])
    return {"columns": list(LABEL_COLUMNS), "labels": rows, "count": len(rows),
            "triage_agreed": agreed}


def link(svc: Services, agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    """Two identities are one customer (the customer-links use case, acted by this agent)."""
    _require_on_shift(svc, agent, svc.now())
    linked = customers.link(svc, data, by=agent.username)
    count("AgentActions", action="link")
    return linked


# ------------------------------------------------------------------------------------------------ by name
#: The actions on one ticket, by the name the API and the web inbox use (``.../tickets/{id}/{action}``).
ACTIONS_WITH_BODY: dict[str, Callable[[Services, Agent, str, dict[str, Any]], dict[str, Any]]] = {
    "reply": reply, "note": note, "transfer": transfer, "label": label}
ACTIONS_WITHOUT_BODY: dict[str, Callable[[Services, Agent, str], dict[str, Any]]] = {
    "claim": claim, "release": release, "resolve": resolve, "reopen": reopen}
TICKET_ACTIONS = (*ACTIONS_WITH_BODY, *ACTIONS_WITHOUT_BODY)


def act(svc: Services, agent: Agent, ticket_id: str, action: str,
        body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One of ``TICKET_ACTIONS`` by name; ``body`` is read only by the actions that take one. From here on the
    request's log lines carry the ticket reference; each action done is counted (``AgentActions`` per action)."""
    correlate(ticket_id)
    if action in ACTIONS_WITH_BODY:
        result = ACTIONS_WITH_BODY[action](svc, agent, ticket_id, body())
    elif action in ACTIONS_WITHOUT_BODY:
        result = ACTIONS_WITHOUT_BODY[action](svc, agent, ticket_id)
    else:
        raise NotFound(f"no action {action}: use one of {', '.join(TICKET_ACTIONS)}")
    count("AgentActions", action=action)
    return result


# ------------------------------------------------------------------------------------------------ oversight
def may_oversee(agent: Agent) -> bool:
    """Whether ``oversight`` is open to the agent: leads and comms (the web inbox links to it only for them)."""
    return agent.lead or "comms" in agent.teams


def oversight(svc: Services, agent: Agent) -> dict[str, Any]:
    """For leads and comms: who is on shift now and next; per desk depth, oldest wait and SLA breaches; the
    high-reach and abuse lists; tickets first answered per hour."""
    if not may_oversee(agent):
        raise Forbidden("oversight is for leads and comms")
    now = svc.now()
    zone = _zone(svc)
    rota = svc.calendar.rota_view(now)
    open_tickets = list(svc.tickets.open_tickets())
    desks_view = []
    for desk in svc.config.desk_ids:
        mine = [t for t in open_tickets if t.desk == desk]
        waiting = sorted((t for t in mine if t.status == WAITING), key=lambda t: t.first_contact_at)
        breaches = [t for t in mine if t.breached or (t.first_response_at is None and t.first_response_due
                                                      and t.first_response_due <= now)]
        desks_view.append({
            "desk": desk, "open": svc.calendar.is_open(desk, now), "depth": len(waiting),
            "claimed": sum(1 for t in mine if t.status == CLAIMED),
            "oldest_wait": wording.wait(now - waiting[0].first_contact_at) if waiting else "",
            "oldest_wait_minutes": int((now - waiting[0].first_contact_at).total_seconds() // 60) if waiting else 0,
            "sla_breaches": len(breaches),
            "answered_last_hour": svc.answers.count_since(desk, now - timedelta(hours=1), now),
        })
    teams = []
    for team in svc.config.team_ids:
        start = svc.calendar.next_shift_start(team, now)
        end = svc.calendar.shift_end(team, now)
        on_shift = svc.calendar.on_shift(team, now)
        around_the_clock = on_shift and (end is None or end - now > timedelta(days=7))
        teams.append({"team": team, "on_shift": on_shift,
                      "until": "around the clock" if around_the_clock else
                      wording.opening(end, now, zone) if end and on_shift else "",
                      "next_shift": wording.opening(start, now, zone) if start else ""})
    hours = [now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=n) for n in range(7, -1, -1)]
    per_desk = {desk: [svc.answers.count_since(desk, h, min(now, h + timedelta(hours=1)) - timedelta(microseconds=1))
                       for h in hours] for desk in svc.config.desk_ids}
    throughput = [{"hour": h.astimezone(zone).strftime("%H:00"), "team": team,
                   "tickets": sum(per_desk[d][i] for d in svc.config.desks_covered_by(team))}
                  for i, h in enumerate(hours) for team in svc.config.team_ids]
    return {
        "at": now.isoformat(), "timezone": svc.config.brand.timezone, "teams": teams, "desks": desks_view, "rota": rota,
        "high_reach": [_summary(svc, t, now) for t in open_tickets if "high_reach" in t.flags],
        "abuse": [_summary(svc, t, now) for t in open_tickets if t.intent == "abuse" or "abuse" in t.flags],
        "first_answered_per_hour": [row for row in throughput if row["tickets"]],
        "labels": _label_summary(svc.labels.all(now - timedelta(days=LABEL_SUMMARY_DAYS))),
        "acknowledgements": acknowledgements(svc, open_tickets),
    }


#: How far back the oversight page counts agents' labels.
LABEL_SUMMARY_DAYS = 30


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def _label_summary(given: list[TriageLabel]) -> dict[str, Any]:
    """How many tickets agents labelled lately, how often triage had said the same, and the acknowledgement's
    figures on them: the share triage's policy acknowledged of those labelled a complaint or question (which
    should be) and of those labelled praise or other (which should not)."""
    agreed = sum(1 for x in given if x.intent == x.triaged)
    decided = [x for x in given if x.triaged_acknowledge is not None]
    should = [x.triaged_acknowledge for x in decided if x.intent in ("complaint", "question")]
    should_not = [x.triaged_acknowledge for x in decided if x.intent in ("praise", "other")]
    acknowledged = {"should": len(should), "should_acked": sum(1 for a in should if a),
                    "should_not": len(should_not), "should_not_acked": sum(1 for a in should_not if a)}
    return {"days": LABEL_SUMMARY_DAYS, "count": len(given), "triage_agreed": agreed, "acknowledged": acknowledged,
            "corrected": sorted(Counter(f"{x.triaged} → {x.intent}" for x in given if x.intent != x.triaged).items(),
                                key=lambda kv: (-kv[1], kv[0]))}


def expire_claims(svc: Services) -> int:
    """Claims past their end (shift over, or idle too long) return to their desk; the desk's queue hears of it."""
    now = svc.now()
    released = 0
    for ticket in svc.tickets.claimed():
        if ticket.claim_expires_at and ticket.claim_expires_at <= now:
            holder = ticket.claimed_by
            ticket.release(now, "claim expired")
            try:
                svc.tickets.save(ticket)
            except ConcurrentUpdate:
                continue  # the agent acted on it just now; the next run looks again
            released += 1
            logger.info("claim expired", extra={"ticket_id": ticket.ticket_id, "agent": holder})
            if ticket.status == WAITING:
                _desk_update(svc, ticket, "released")
    return released
