"""What the desk's faces show, typed: the agent, their desks, a ticket's summary and its whole story, the oversight
page and the labels' export. The web inbox renders these (attributes); the JSON API answers ``view.to_json()``.

``act_and_view`` runs an action and answers what the API answers for it: its outcome with the ticket's view. Only
the API asks for a view after an action; the web inbox redirects and builds none.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from chalicelib.domain import jsonvalue as jv
from chalicelib.domain import routing, wording
from chalicelib.domain.agent import Agent, reply_limit
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.history import Labelled, Noted, Replied, Sent
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.triage import explain
from chalicelib.services import Services
from chalicelib.store import ports
from chalicelib.usecases import read_receipts, whatsapp_statuses
from chalicelib.usecases.desk import access, claims, listened, window
from chalicelib.usecases.desk.actions import PRIVATE_CAPABLE, act
from chalicelib.usecases.desk.assign import assignable
from chalicelib.usecases.desk.commands import Action, Given
from chalicelib.usecases.desk.results import NextTaken, Outcome


def counting_hint(channel: str, private: bool) -> str:
    """How the platform counts a reply, for the person writing it (the server's count decides: domain.agent)."""
    found = profile(channel)
    return found.reply(private).hint if found is not None else ""


def _flat(view: object) -> dict[str, object]:
    """A view of plain fields as JSON, its fields in order (a tuple as a list)."""
    return {f.name: list(value) if isinstance(value := getattr(view, f.name), tuple) else value
            for f in fields(view)}  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ the agent
@dataclass(frozen=True)
class AgentView:
    """Who the agent is, their teams, whether they are on shift (else why not) and the desks they cover."""

    username: str
    name: str
    teams: tuple[str, ...]
    lead: bool
    timezone: str
    on_shift: tuple[str, ...]
    desks: tuple[str, ...]
    off_shift_reason: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class SignedInView:
    """The sign-in's answer: the token, how long it lasts (seconds), and who it names."""

    token: str
    expires_in: int
    agent: AgentView

    def to_json(self) -> dict[str, object]:
        return {"token": self.token, "expires_in": self.expires_in, "agent": self.agent.to_json()}


def agent_view(svc: Services, agent: Agent) -> AgentView:
    now = svc.now()
    on_shift = access.on_shift_teams(svc, agent, now)
    return AgentView(username=agent.username, name=agent.display, teams=tuple(agent.teams), lead=agent.lead,
                     timezone=svc.config.brand.timezone, on_shift=tuple(on_shift),
                     desks=tuple(access.covered_desks(svc, agent)),
                     off_shift_reason="" if on_shift else access.off_shift_reason(svc, list(agent.teams), now))


def signed_in(svc: Services, signed: ports.SignIn) -> SignedInView:
    return SignedInView(token=signed.token, expires_in=signed.expires_in, agent=agent_view(svc, signed.agent))


# ------------------------------------------------------------------------------------------------ desks
@dataclass(frozen=True)
class TicketSummary:
    """A ticket in a list: where it is, how urgent, who wrote, how long they wait, who holds it."""

    ticket_id: str
    desk: str
    status: str
    priority: str
    intent: str
    channel: str
    customer_name: str
    first_contact_at: str
    flags: tuple[str, ...]
    waiting: str
    breached: bool
    claimed_by: str | None
    claim_expires_at: str | None
    #: A listened ticket: "Not addressed to us — found by listening on X for 'Meridian Rail'" ('' when addressed)
    listening: str

    def to_json(self) -> dict[str, object]:
        return {f.name: list(self.flags) if f.name == "flags" else getattr(self, f.name)
                for f in fields(TicketSummary)}


@dataclass(frozen=True)
class DeskRow:
    """One desk the agent's teams cover: open or not, depth, oldest wait."""

    desk: str
    description: str
    depth: int
    open: bool
    yours_on_shift: bool
    oldest_first_contact_at: str | None
    oldest_wait: str
    oldest_wait_minutes: int

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class DesksView:
    """The agent, their desks, and the tickets they hold."""

    agent: AgentView
    desks: tuple[DeskRow, ...]
    held: tuple[TicketSummary, ...]

    def to_json(self) -> dict[str, object]:
        return {"agent": self.agent.to_json(), "desks": [d.to_json() for d in self.desks],
                "held": [t.to_json() for t in self.held]}


def queue_of(svc: Services, desk: str) -> tuple[int, datetime | None]:
    """How many wait on ``desk``, and since when the oldest has (one count and one first-item query)."""
    waiting = svc.tickets.backlog(desk, limit=1)
    return svc.tickets.backlog_count(desk), waiting[0].first_contact_at if waiting else None


def desks(svc: Services, agent: Agent) -> DesksView:
    """The desks the agent's teams cover: open or not, depth, oldest wait; and the tickets the agent holds."""
    now = svc.now()
    rows = []
    for desk in access.covered_desks(svc, agent):
        depth, oldest = queue_of(svc, desk)
        teams = [t for t in svc.config.teams_covering(desk) if t in agent.teams]
        rows.append(DeskRow(desk=desk, description=svc.config.desks[desk].description, depth=depth,
                            open=svc.calendar.is_open(desk, now),
                            yours_on_shift=any(svc.calendar.on_shift(t, now) for t in teams),
                            oldest_first_contact_at=oldest.isoformat() if oldest else None,
                            oldest_wait=wording.wait(now - oldest) if oldest else "",
                            oldest_wait_minutes=int((now - oldest).total_seconds() // 60) if oldest else 0))
    return DesksView(agent=agent_view(svc, agent), desks=tuple(rows),
                     held=tuple(summary(svc, t, now) for t in claims.held(svc, agent)))


def summary(svc: Services, ticket: Ticket, now: datetime) -> TicketSummary:
    target = ticket.reply_target
    return TicketSummary(ticket_id=ticket.ticket_id, desk=ticket.desk, status=ticket.status,
                         priority=ticket.priority, intent=ticket.intent, channel=ticket.channel,
                         customer_name=target.name if target else "",
                         first_contact_at=ticket.first_contact_at.isoformat(), flags=tuple(ticket.flags),
                         waiting=wording.wait(now - ticket.first_contact_at), breached=ticket.breached,
                         claimed_by=ticket.claimed_by,
                         claim_expires_at=ticket.claim_expires_at.isoformat() if ticket.claim_expires_at else None,
                         listening=listened.heading(ticket))


# ------------------------------------------------------------------------------------------------ a ticket
@dataclass(frozen=True)
class Attached:
    """What a customer's message carries beyond its text, for the agent to open (never fetched or shown inline):
    a link the platform shortened (``kind`` link; ``short``: how the text shows it) or a photo, video or file."""

    kind: str
    url: str
    short: str = ""

    def to_json(self) -> dict[str, object]:
        return _flat(self)


def attached(extra: Mapping[str, object]) -> tuple[Attached, ...]:
    """From a mention's channel details: X's expanded links and media, Messenger's and Instagram's attachments."""
    found = [Attached("link", jv.text(link, "expanded"), jv.text(link, "url")) for link in jv.items(extra, "links")]
    found += [Attached(jv.text(item, "type") or "file", jv.text(item, "url"))
              for item in [*jv.items(extra, "media"), *jv.items(extra, "attachments")]]
    return tuple(a for a in found if a.url.startswith(("https://", "http://")))


@dataclass(frozen=True)
class MessageView:
    """One message of the conversation: the customer's (any linked channel), or an agent's reply (``ours``)."""

    key: str
    channel: str
    at: str
    author: str
    visibility: str
    text: str
    link: str
    followers: int
    ours: bool = False
    attached: tuple[Attached, ...] = ()

    def to_json(self) -> dict[str, object]:
        said: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)
                                   if f.name not in ("ours", "attached")}
        if self.attached:
            said["attached"] = [a.to_json() for a in self.attached]
        return {**said, "ours": True} if self.ours else said


@dataclass(frozen=True)
class SlaView:
    first_response_due: str | None
    breached: bool
    first_response_at: str | None
    time_left: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class IncidentRef:
    incident_id: str
    title: str
    active: bool

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class Told:
    """What the customer was sent, when, by whom (an agent's reply), and its text (an agent's reply)."""

    at: str
    what: str
    by: str
    text: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class NoteView:
    at: str
    text: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    kind: str
    detail: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class TriageView:
    """Why triage did what it did with the first message: answered automatically or not and why, the tone and how
    sure, the signals that decided, the intent and priority it gave, and whether an agent relabelled it since."""

    answered: bool | None
    why: str
    tone: str
    confidence: float | None
    signals: tuple[str, ...]
    intent: str
    priority: str
    relabelled: bool

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class ReplyView:
    """Where a reply goes and how long it may be (``limit``, counted as ``counting`` says)."""

    channel: str
    public: bool
    private_possible: bool
    limit: int
    to: str
    counting: str
    #: What to know before typing (a listened ticket: public on their platform; X's reply rule); '' when nothing
    note: str = ""

    def to_json(self) -> dict[str, object]:
        said = _flat(self)
        if not self.note:  # said only when there is something to know
            del said["note"]
        return said


@dataclass(frozen=True)
class HistoryTicket:
    """One of a customer's tickets, as their history lists it: reference, status, first contact, desk, channel."""

    ticket_id: str
    status: str
    desk: str
    channel: str
    first_contact_at: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


#: How many of a customer's tickets their history shows (the latest first contacts).
HISTORY = 20


def customer_history(svc: Services, customer_id: str, *, but: str = "") -> tuple[HistoryTicket, ...]:
    """The customer's tickets (``TicketStore.for_customer``: one query of the ``by_customer`` index and a read per
    ticket), latest first contact first, at most ``HISTORY``, without ``but`` (the ticket being shown)."""
    found = [t for t in svc.tickets.for_customer(customer_id) if t.ticket_id != but] if customer_id else []
    found.sort(key=lambda t: t.first_contact_at, reverse=True)
    return tuple(HistoryTicket(ticket_id=t.ticket_id, status=t.status, desk=t.desk, channel=t.channel,
                               first_contact_at=t.first_contact_at.isoformat()) for t in found[:HISTORY])


@dataclass(frozen=True)
class TicketView(TicketSummary):
    """The whole story for an agent."""

    held_by_you: bool
    merged_into: str | None
    reopened: int
    acked: bool
    customer_id: str
    identities: tuple[str, ...]
    channels: tuple[str, ...]
    conversations: tuple[str, ...]
    suggested_links: tuple[str, ...]
    references: Mapping[str, list[str]]
    incident: IncidentRef | None
    sla: SlaView
    told: tuple[Told, ...]
    status_url: str
    messages: tuple[MessageView, ...]
    notes: tuple[NoteView, ...]
    labelled: str
    triage: TriageView
    timeline: tuple[TimelineEntry, ...]
    reply: ReplyView
    #: The customer's other tickets, latest first (``customer_history``); their identities are ``identities``
    history: tuple[HistoryTicket, ...] = ()
    #: Who the viewer may give the ticket to (a lead, or its holder): agents at work who may take it
    assignable: tuple[str, ...] = ()
    #: WhatsApp's customer-service window and the approved templates (``window.window_view``); None elsewhere
    service_window: Mapping[str, object] | None = None
    #: What became of the brand's WhatsApp messages (``whatsapp_statuses.delivery_view``); None elsewhere
    delivery: Mapping[str, object] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            **super().to_json(),
            "assignable": list(self.assignable),
            "held_by_you": self.held_by_you,
            "merged_into": self.merged_into, "reopened": self.reopened, "acked": self.acked,
            "customer_id": self.customer_id, "identities": list(self.identities),
            "channels": list(self.channels), "conversations": list(self.conversations),
            "suggested_links": list(self.suggested_links), "references": self.references,
            "incident": self.incident.to_json() if self.incident else None,
            "sla": self.sla.to_json(), "told": [t.to_json() for t in self.told], "status_url": self.status_url,
            "messages": [m.to_json() for m in self.messages],
            "notes": [n.to_json() for n in self.notes],
            "labelled": self.labelled,
            "triage": self.triage.to_json(),
            "timeline": [e.to_json() for e in self.timeline],
            "reply": self.reply.to_json(),
            "history": [h.to_json() for h in self.history],
            "service_window": dict(self.service_window) if self.service_window is not None else None,
            "delivery": dict(self.delivery) if self.delivery is not None else None,
        }


def _told(ticket: Ticket) -> list[Told]:
    """What the customer was sent, and when (acknowledgements, replies, incident follow-ups)."""
    told = []
    for event in ticket.timeline:
        if isinstance(event, Replied):
            told.append(Told(at=event.at.isoformat(), what="agent reply queued", by=event.answer.agent,
                             text=event.answer.text))
        elif isinstance(event, Sent) and event.message in _SENT:
            told.append(Told(at=event.at.isoformat(), what=_SENT[event.message], by="", text=""))
    return told


#: How the agents' page names each kind of message the outbox sent (by its outbox kind)
_SENT = {"ack": "acknowledgement", "closing": "closing-time acknowledgement", "busy": "busy notice",
         "incident_update": "incident update", "incident_resolved": "incident resolved",
         "incident_followup": "incident follow-up", "reply": "agent reply delivered"}


def _triage(ticket: Ticket) -> TriageView:
    """Why triage did what it did with the first message (``triage.explain`` of ``Ticket.decision``): answered
    automatically or not and why, the tone and how sure, the signals that decided, and the intent and priority it
    gave. As triage decided it: a label given since (``Ticket.relabel``) is not mixed in; ``relabelled`` says there
    is one. A listened ticket was never answered automatically, whatever triage alone would have done."""
    said = explain(ticket.decision, ticket.reasons)
    if ticket.listened:
        would = f" (triage alone: {said['why']})" if said["why"] else ""
        said = {**said, "answered": False, "why": f"not addressed to us: never answered automatically{would}"}
    return TriageView(answered=said["answered"], why=said["why"], tone=ticket.tone or said["tone"],
                      confidence=said["confidence"], signals=tuple(said["signals"]), intent=ticket.triaged_intent,
                      priority=ticket.priority, relabelled=ticket.relabel is not None)


def ticket_view(svc: Services, ticket: Ticket, agent: Agent, *, team: bool = True) -> TicketView:
    """The whole story for an agent: messages across linked channels, flags, SLA state, what the customer was told,
    the notes, the timeline, the claim, where and how long a reply may be, and why triage answered as it did."""
    now = svc.now()
    messages: list[MessageView] = []
    latest: Mention | None = None
    read: list[Mention] = []
    for key in ticket.mention_keys:
        stored = svc.mentions.get(key)
        if stored is not None:
            m = latest = stored.mention
            read.append(m)
            messages.append(MessageView(key=key, channel=m.channel, at=m.created_at.isoformat(),
                                        author=m.author_handle or m.author_name or m.author_id,
                                        visibility=m.visibility, text=m.text,
                                        link=routing.permalink(m.channel, m.external_id, m.extra),
                                        followers=m.followers, attached=attached(m.extra)))
    read_receipts.mark_read(svc, ticket, read)  # the customer sees it read (WhatsApp); never fails the page
    for at, answer in ticket.replies:  # agents' replies, in the conversation where they happened
        messages.append(MessageView(key="", channel="reply", at=at.isoformat(), author=answer.agent, visibility="",
                                    text=answer.text, link="", followers=0, ours=True))
    messages.sort(key=lambda m: m.at)
    target = ReplyTarget.of(latest) if latest is not None else ticket.reply_target  # as latest_target, read once
    due = ticket.first_response_due if ticket.first_response_at is None else None
    sla = SlaView(first_response_due=due.isoformat() if due else None,
                  breached=ticket.breached or bool(due and due <= now),
                  first_response_at=ticket.first_response_at.isoformat() if ticket.first_response_at else None,
                  time_left=wording.wait(due - now) if due and due > now else "")
    incident = svc.incidents.get(ticket.incident_id) if ticket.incident_id else None
    private_ok = bool(target) and target is not None and (target.private or target.channel in PRIVATE_CAPABLE)
    head = summary(svc, ticket, now)
    return TicketView(
        ticket_id=head.ticket_id, desk=head.desk, status=head.status, priority=head.priority, intent=head.intent,
        channel=head.channel, customer_name=head.customer_name, first_contact_at=head.first_contact_at,
        flags=head.flags, waiting=head.waiting, breached=head.breached, claimed_by=head.claimed_by,
        claim_expires_at=head.claim_expires_at, listening=head.listening,
        held_by_you=ticket.held_by(agent.username, now),
        merged_into=ticket.merged_into, reopened=ticket.reopened, acked=ticket.acked,
        customer_id=ticket.customer_id, identities=tuple(sorted(svc.customers.identities(ticket.customer_id))),
        channels=tuple(ticket.channels), conversations=tuple(ticket.conversations),
        suggested_links=tuple(ticket.suggested_links), references=ticket.references,
        incident=IncidentRef(incident_id=incident.incident_id, title=incident.title, active=incident.active)
        if incident else None,
        sla=sla, told=tuple(_told(ticket)), status_url=svc.links.url(ticket.ticket_id),
        messages=tuple(messages),
        notes=tuple(NoteView(at=e.at.isoformat(), text=e.detail) for e in ticket.timeline if isinstance(e, Noted)),
        labelled=next((e.detail for e in reversed(ticket.timeline) if isinstance(e, Labelled)), ""),
        triage=_triage(ticket),
        timeline=tuple(TimelineEntry(at=e.at.isoformat(), kind=e.kind,
                                     detail="" if isinstance(e, Replied) else e.detail) for e in ticket.timeline),
        reply=ReplyView(channel=target.channel if target else "", public=bool(target and not target.private),
                        private_possible=private_ok,
                        limit=reply_limit(target.channel, target.private) if target else 0,
                        to=(target.handle or target.name) if target else "",
                        counting=counting_hint(target.channel, target.private) if target else "",
                        note=listened.reply_note(ticket, target)),
        history=customer_history(svc, ticket.customer_id, but=ticket.ticket_id),
        assignable=tuple(seen.username for seen in assignable(svc, ticket, now)
                         if seen.username != ticket.claimed_by) if team and ticket.open and (
            agent.lead or ticket.held_by(agent.username, now)) else (),
        service_window=window.window_view(svc, ticket, target, now),
        delivery=whatsapp_statuses.delivery_view(svc, ticket.ticket_id, ticket.channels),
    )


def show(svc: Services, agent: Agent, ticket_id: str) -> TicketView:
    ticket = access.load(svc, ticket_id)
    access.may_see(svc, agent, ticket)
    return ticket_view(svc, ticket, agent)


# ------------------------------------------------------------------------------------------------ oversight
@dataclass(frozen=True)
class TeamShift:
    """A team: on shift now (``until`` when), and its next shift."""

    team: str
    on_shift: bool
    until: str
    next_shift: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class OversightDesk:
    """A desk for the leads: open, depth, claimed, oldest wait, SLA breaches, first answers in the last hour."""

    desk: str
    open: bool
    depth: int
    claimed: int
    oldest_wait: str
    oldest_wait_minutes: int
    sla_breaches: int
    answered_last_hour: int

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class HourCount:
    """Tickets a team first answered in one hour (``hour``: ``HH:00`` in the brand's time zone)."""

    hour: str
    team: str
    tickets: int

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class AckFigures:
    """Of the labelled tickets triage decided on: how many should have been acknowledged (complaints, questions)
    and were, and how many should not (praise, other) and were."""

    should: int
    should_acked: int
    should_not: int
    should_not_acked: int

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class LabelSummary:
    """The agents' labels of the last ``days`` days: how many, how often triage agreed, the acknowledgement's
    figures, and each correction (``triaged → labelled``) with how often."""

    days: int
    count: int
    triage_agreed: int
    acknowledged: AckFigures
    corrected: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, object]:
        return {"days": self.days, "count": self.count, "triage_agreed": self.triage_agreed,
                "acknowledged": self.acknowledged.to_json(), "corrected": list(self.corrected)}


@dataclass(frozen=True)
class HeldClaim:
    """A ticket an agent holds now: since when (their latest claim), for how many minutes, and until when the
    claim runs unless they act (``until``: the brand's local time)."""

    agent: str
    ticket_id: str
    desk: str
    priority: str
    since: str
    held_minutes: int
    until: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class SuggestedPost:
    """One post counted for a suggested incident: what it said (its first 280 characters), where, by whom, when
    (``at``: ISO, ``time``: HH:MM in the brand's zone), its ticket and its permalink."""

    text: str
    channel: str
    author: str
    at: str
    time: str
    ticket_id: str
    link: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class SuggestedIncident:
    """A burst of posts naming one place, for a lead to declare as an incident or dismiss
    (``usecases.suggested_incidents``): ``posts`` in ``minutes`` since ``since``; ``declare``: the declaration
    form's prefilled fields (title, text, keywords, desks)."""

    suggestion_id: str
    place: str
    count: int
    minutes: int
    since: str
    since_time: str
    posts: tuple[SuggestedPost, ...]
    declare: Mapping[str, object]

    def to_json(self) -> dict[str, object]:
        return {**_flat(self), "posts": [p.to_json() for p in self.posts], "declare": dict(self.declare)}


@dataclass(frozen=True)
class OversightView:
    """For leads and comms. ``rota`` (the calendar's) and ``acknowledgements`` (the admin figures) are raw JSON."""

    at: str
    timezone: str
    teams: tuple[TeamShift, ...]
    desks: tuple[OversightDesk, ...]
    rota: Mapping[str, object]
    high_reach: tuple[TicketSummary, ...]
    abuse: tuple[TicketSummary, ...]
    first_answered_per_hour: tuple[HourCount, ...]
    labels: LabelSummary
    acknowledgements: Mapping[str, object]
    #: Who holds what, longest held first
    held: tuple[HeldClaim, ...] = ()
    #: Bursts of posts naming one place, oldest first, for a lead to declare or dismiss
    suggested_incidents: tuple[SuggestedIncident, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "suggested_incidents": [s.to_json() for s in self.suggested_incidents],
            "held": [h.to_json() for h in self.held],
            "at": self.at, "timezone": self.timezone, "teams": [t.to_json() for t in self.teams],
            "desks": [d.to_json() for d in self.desks], "rota": self.rota,
            "high_reach": [t.to_json() for t in self.high_reach], "abuse": [t.to_json() for t in self.abuse],
            "first_answered_per_hour": [h.to_json() for h in self.first_answered_per_hour],
            "labels": self.labels.to_json(), "acknowledgements": self.acknowledgements,
        }


@dataclass(frozen=True)
class LabelRow:
    """One label in the labelled set's format (``oversight.LABEL_COLUMNS``, in order)."""

    tweet_id: str
    author_id: str
    created_at: str
    text: str
    reply: str
    intent: str
    urgent: str
    channel: str
    triaged: str
    triage_acknowledged: str
    agent: str
    labelled_at: str
    ticket_id: str

    def to_json(self) -> dict[str, object]:
        return _flat(self)


@dataclass(frozen=True)
class LabelsExport:
    """Every label given, as rows of the labelled set (``columns``), and how often triage had said the same."""

    columns: tuple[str, ...]
    labels: tuple[LabelRow, ...]
    count: int
    triage_agreed: int

    def to_json(self) -> dict[str, object]:
        return {"columns": list(self.columns), "labels": [r.to_json() for r in self.labels], "count": self.count,
                "triage_agreed": self.triage_agreed}


# ------------------------------------------------------------------------------------------------ the API's answers
def with_view(svc: Services, agent: Agent, outcome: Outcome | NextTaken) -> dict[str, object]:
    """What the API answers for an outcome: the outcome, with the view of its ticket (built from the ticket as
    saved, never loaded again; without ``assignable``, which costs a read an action's answer does not need: a GET
    of the ticket has it)."""
    return outcome.to_json(lambda ticket: ticket_view(svc, ticket, agent, team=False).to_json())


def act_and_view(svc: Services, agent: Agent, ticket_id: str, action: Action, given: Given) -> dict[str, object]:
    """``actions.act``, answered as the API answers it (``with_view``)."""
    return with_view(svc, agent, act(svc, agent, ticket_id, action, given))
