"""Leads' reports: each ticket's figures recorded at its milestones, and the report built from them.

Recording (docs/adr/0027): at each milestone of a ticket (created or written to, in ``usecases.process``; an
acknowledgement sent, expired, waiting or parked, in ``usecases.deliver``; an agent's answer, resolution, reopening,
label or transfer, in ``usecases.desk.actions``) ``record_ticket`` rewrites the ticket's one row of figures
(``domain.reports.TicketFigures``) in ``svc.reports``: one write, plus one read of the ticket where the caller does
not hold it as saved. A failure to record is logged and counted, never the customer's or the agent's failure.

Reading: ``build_report`` reads the rows of the tickets first contacted in the range (and ``LOOKBACK_DAYS`` before
it, for resolutions, reopenings and the backlog of older tickets), never the tickets table, and works every table
out exactly: medians and 90th percentiles of the actual durations (nearest rank), not of buckets.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.domain.history import (
    AckExpired,
    Dismissed,
    Event,
    Queued,
    Reopened,
    ReopenedByAgent,
    Replied,
    ReplyFailed,
    ReplyUnconfirmed,
    Resolved,
    Scheduled,
    Sent,
    WaitingForRate,
)
from chalicelib.domain.reports import (
    Chart,
    Column,
    Report,
    ReportQuery,
    ReportQueryError,
    Table,
    TicketFigures,
    parse_query,
    period_of,
)
from chalicelib.domain.ticket import MERGED, RESOLVED, Ticket
from chalicelib.telemetry import count, logger
from chalicelib.usecases.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from chalicelib.domain.agent import Agent
    from chalicelib.domain.busy import WaitRange
    from chalicelib.services import Services

#: How far before the range a report reads rows, for the resolutions, reopenings and waits in the range of tickets
#: first contacted earlier (a ticket first contacted earlier still is not counted in those)
LOOKBACK_DAYS = 31
#: "Answered within the hour" (seed 002: nearly half of customers expect an answer within the hour)
WITHIN_MINUTES = 60
UTC = timezone.utc
Row = dict[str, str | int | float | None]


# ------------------------------------------------------------------------------------------------ recording
def _first_desk(ticket: Ticket) -> str:
    return next((e.desk for e in ticket.timeline if isinstance(e, Queued)), ticket.desk)


def _waits(ticket: Ticket) -> tuple[tuple[datetime, datetime | None], ...]:
    """When the ticket waited for the desk: from first contact, and from each reopening, until the next answer or
    resolution."""
    waits: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = ticket.first_contact_at
    for event in sorted(ticket.timeline, key=lambda e: e.at):
        if isinstance(event, (Replied, Resolved)) and start is not None:
            waits.append((start, max(start, event.at)))
            start = None
        elif isinstance(event, (Reopened, ReopenedByAgent)) and start is None:
            start = event.at
    if start is not None and ticket.status != MERGED:
        waits.append((start, None))
    return tuple(waits)


def figures_of(svc: Services, ticket: Ticket) -> TicketFigures:
    """The ticket's figures as they stand (pure but for the calendar: the rota of the desk's covering teams)."""
    first = ticket.first_contact_at
    answered, resolved = ticket.first_response_at, ticket.resolved_at if ticket.status == RESOLVED else None
    calendar = svc.calendar
    state = ticket.ack_state()
    return TicketFigures(
        ticket_id=ticket.ticket_id, channel=ticket.channel, desk=ticket.desk, first_contact_at=first,
        version=ticket.version, first_response_at=answered,
        first_response_open_min=None if answered is None else round(
            calendar.open_minutes_between(ticket.desk, first, answered), 3),
        resolved_at=resolved,
        resolution_open_min=None if resolved is None else round(
            calendar.open_minutes_between(ticket.desk, first, resolved), 3),
        resolutions=tuple(e.at for e in ticket.timeline if isinstance(e, Resolved)),
        reopens=tuple(e.at for e in ticket.timeline if isinstance(e, (Reopened, ReopenedByAgent))),
        due=ticket.first_response_due,
        wrote_while_closed=not calendar.is_open(_first_desk(ticket), first),
        triage_said_no=None if ticket.triaged_acknowledge is None else not ticket.triaged_acknowledge,
        ack_state=state[0] if state else "",
        ack_at=next((e.at for e in ticket.timeline if isinstance(e, Sent) and e.of_ack), None),
        busy_acked=any(isinstance(e, Sent) and e.message == "busy" for e in ticket.timeline),
        waits=_waits(ticket), merged=ticket.status == MERGED, listened=ticket.listened,
        dismissed_at=next((e.at for e in reversed(ticket.timeline) if isinstance(e, Dismissed)), None)
        if ticket.status == RESOLVED else None)


def record_ticket(svc: Services, ticket: Ticket | str) -> None:
    """Rewrite the ticket's row of figures (``ticket``: as saved, or its reference, then read once). Never raises:
    a failure is logged and counted (``ReportRecordFailed``)."""
    try:
        held = svc.tickets.get(ticket) if isinstance(ticket, str) else ticket
        if held is not None:
            svc.reports.record(figures_of(svc, held))
    except Exception:  # noqa: BLE001  # the reports never fail the work they report on
        count("ReportRecordFailed")
        logger.exception("report figures not recorded",
                         extra={"ticket_id": ticket if isinstance(ticket, str) else ticket.ticket_id})


_ACK_EVENTS = (Sent, ReplyFailed, ReplyUnconfirmed, WaitingForRate, Scheduled)


def note_delivery(svc: Services, ticket_id: str, event: Event) -> None:
    """The outbox noted ``event`` on the ticket: the figures change only when it is about an acknowledgement (sent,
    waiting, parked, expired)."""
    if isinstance(event, AckExpired) or (isinstance(event, _ACK_EVENTS) and event.of_ack):
        record_ticket(svc, ticket_id)


def note_busy_estimate(svc: Services, ticket: Ticket, wait: WaitRange) -> None:
    """The busy acknowledgement's range told to the customer, kept beside the ticket's figures."""
    try:
        svc.reports.note_busy(ticket.ticket_id, ticket.first_contact_at, wait.lower, wait.upper)
    except Exception:  # noqa: BLE001  # the reports never fail the work they report on
        count("ReportRecordFailed")
        logger.exception("busy estimate not recorded", extra={"ticket_id": ticket.ticket_id})


#: The desk's actions that change a ticket's figures (claims, notes, releases and assignments do not)
_FIGURE_ACTIONS = frozenset({"reply", "template", "resolve", "reopen", "transfer", "label", "reply_resolve",
                             "reply_release", "resolve_next", "dismiss"})


def record_action(svc: Services, action: str, outcome: object) -> None:
    """An agent's action done (``outcome``: what the desk answers, holding the ticket as saved): the ticket's figures
    are rewritten when the action changes them, from the saved ticket (no read)."""
    ticket = getattr(outcome, "ticket", None)
    if action in _FIGURE_ACTIONS and isinstance(ticket, Ticket):
        record_ticket(svc, ticket)


# ------------------------------------------------------------------------------------------------ the query
def may_read_reports(agent: Agent) -> bool:
    """Leads and the comms team read the reports (as they oversee the desks: ``desk.access.may_oversee``)."""
    from chalicelib.usecases.desk.access import may_oversee

    return may_oversee(agent)


def zone(svc: Services) -> ZoneInfo:
    return ZoneInfo(svc.config.brand.timezone)


def channels(svc: Services) -> tuple[str, ...]:
    from chalicelib.domain.mention import CHANNELS

    return tuple(str(c) for c in CHANNELS)


def read_query(svc: Services, params: Mapping[str, str]) -> ReportQuery:
    """The report's query from request parameters (``domain.reports.parse_query``); a bad one is refused
    (``Invalid``, with the sentence and the field)."""
    try:
        return parse_query(params, today=svc.now().astimezone(zone(svc)).date(), channels=channels(svc),
                           desks=svc.config.desk_ids)
    except ReportQueryError as exc:
        raise Invalid(exc.message, details=exc.details) from None


def report_for(svc: Services, agent: Agent, params: Mapping[str, str]) -> Report:
    """The report a lead (or the comms team) asked for; anybody else is refused."""
    if not may_read_reports(agent):
        raise Forbidden("the reports are for leads and the comms team")
    return build_report(svc, read_query(svc, params))


# ------------------------------------------------------------------------------------------------ figures
def median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 2) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value at least 90 % of the values are at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return round(float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]), 2)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


class _Range:
    def __init__(self, svc: Services, query: ReportQuery):
        self.zone = zone(svc)
        self.query = query
        self.start = datetime.combine(query.start, time(0), tzinfo=self.zone).astimezone(UTC)
        self.end = datetime.combine(query.end + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    def local_day(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()

    def period(self, t: datetime) -> str:
        return period_of(self.local_day(t), self.query.by).isoformat()

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end


def _eligible_for_first_response(f: TicketFigures, now: datetime, threshold: datetime | None) -> bool:
    """Whether a ticket counts in a "first answered by" share: answered, or still unanswered past ``threshold``
    (resolved without an answer — spam, praise — does not count)."""
    if f.first_response_at is not None:
        return True
    return not f.resolutions and threshold is not None and now >= threshold


def build_report(svc: Services, query: ReportQuery) -> Report:
    """Every table of the report (``domain.reports.TABLES``) from the stored figures of the query's range."""
    rng = _Range(svc, query)
    now = svc.now()
    rows = [f for f in svc.reports.between(rng.start - timedelta(days=LOOKBACK_DAYS), rng.end) if not f.merged]
    by_desk = [f for f in rows if query.desk is None or f.desk == query.desk]
    chosen = [f for f in by_desk if query.channel is None or f.channel == query.channel]
    created = [f for f in chosen if rng.covers(f.first_contact_at)]
    # posts nobody addressed to us (listening) have a table of their own: they wait on nobody's answer, so they are
    # left out of the response times, parity, acknowledgements and busy estimates of the customers who wrote to us
    addressed = [f for f in created if not f.listened]
    tables = (
        _response(rng, addressed, now),
        _parity([f for f in by_desk if rng.covers(f.first_contact_at) and not f.listened]),
        _acknowledgements(rng, addressed), _volume(rng, chosen), _backlog(rng, chosen, now), _busy(rng, addressed),
        _triage(svc, rng, {f.ticket_id: f for f in rows}, query), _listening(rng, created))
    return Report(query=query, timezone=svc.config.brand.timezone, generated_at=now, tables=tables)


def _grouped(items: Iterable[TicketFigures], key: Callable[[TicketFigures], tuple[str, ...]]
             ) -> dict[tuple[str, ...], list[TicketFigures]]:
    groups: dict[tuple[str, ...], list[TicketFigures]] = defaultdict(list)
    for f in items:
        groups[key(f)].append(f)
    return dict(sorted(groups.items()))


def _response(rng: _Range, created: list[TicketFigures], now: datetime) -> Table:
    columns = (
        Column("period", "Period"), Column("channel", "Channel"), Column("desk", "Desk"),
        Column("tickets", "Tickets", "count"), Column("answered", "Answered", "count"),
        Column("first_response_median", "First response, median", "min"),
        Column("first_response_p90", "First response, 90th percentile", "min"),
        Column("first_response_open_median", "First response in open hours, median", "min"),
        Column("first_response_open_p90", "First response in open hours, 90th percentile", "min"),
        Column("resolution_median", "Resolution, median", "h"),
        Column("resolution_p90", "Resolution, 90th percentile", "h"),
        Column("resolution_open_median", "Resolution in open hours, median", "h"),
        Column("within_hour", "Answered within 1 hour", "share"),
        Column("within_sla", "Answered within the SLA", "share"))
    out: list[Row] = []
    for (period, channel, desk), group in _grouped(created, lambda f: (rng.period(f.first_contact_at), f.channel,
                                                                       f.desk)).items():
        answered = [f for f in group if f.first_response_at is not None]
        waits = [_minutes(f.first_contact_at, f.first_response_at) for f in answered if f.first_response_at]
        open_waits = [f.first_response_open_min for f in answered if f.first_response_open_min is not None]
        resolved = [f for f in group if f.resolved_at is not None]
        resolution = [_minutes(f.first_contact_at, f.resolved_at) / 60 for f in resolved if f.resolved_at]
        resolution_open = [f.resolution_open_min / 60 for f in resolved if f.resolution_open_min is not None]
        hour = [f for f in group if _eligible_for_first_response(
            f, now, f.first_contact_at + timedelta(minutes=WITHIN_MINUTES))]
        within_hour = [w for w in waits if w <= WITHIN_MINUTES]
        sla = [f for f in group if f.due is not None and _eligible_for_first_response(f, now, f.due)]
        within_sla = [f for f in sla if f.first_response_at is not None and f.due is not None
                      and f.first_response_at <= f.due]
        out.append({"period": period, "channel": channel, "desk": desk, "tickets": len(group),
                    "answered": len(answered), "first_response_median": median(waits),
                    "first_response_p90": p90(waits), "first_response_open_median": median(open_waits),
                    "first_response_open_p90": p90(open_waits), "resolution_median": median(resolution),
                    "resolution_p90": p90(resolution), "resolution_open_median": median(resolution_open),
                    "within_hour": share(len(within_hour), len(hour)), "within_sla": share(len(within_sla), len(sla))})
    return Table(name="response", title="First response and resolution", columns=columns, rows=tuple(out),
                 chart=Chart("line", "period", ("first_response_median", "first_response_p90"), "min"),
                 note="Tickets by the day their customer first wrote. Open hours count only minutes the desk was "
                      "open. Shares count tickets answered, or unanswered past the hour or the SLA's due time.")


def _parity(created: list[TicketFigures]) -> Table:
    columns = (Column("channel", "Channel"), Column("answered", "Answered", "count"),
               Column("median", "Median first response", "min"),
               Column("others_median", "Other channels' median", "min"),
               Column("ratio", "Ratio to the other channels", None))
    waits: dict[str, list[float]] = defaultdict(list)
    for f in created:
        if f.first_response_at is not None:
            waits[f.channel].append(_minutes(f.first_contact_at, f.first_response_at))
    out: list[Row] = []
    for channel in sorted(waits):
        mine = median(waits[channel])
        others = median([w for c, ws in waits.items() if c != channel for w in ws])
        out.append({"channel": channel, "answered": len(waits[channel]), "median": mine, "others_median": others,
                    "ratio": round(mine / others, 2) if mine is not None and others else None})
    return Table(name="parity", title="Channel parity", columns=columns, rows=tuple(out),
                 chart=Chart("bar", "channel", ("median", "others_median"), "min"),
                 note="Each channel's median first response against all other channels' answered tickets together "
                      "(the channel filter does not apply: parity compares channels).")


def _acknowledgements(rng: _Range, created: list[TicketFigures]) -> Table:
    columns = (Column("period", "Period"), Column("channel", "Channel"),
               Column("wrote_while_closed", "Wrote while closed", "count"),
               Column("acknowledged", "Acknowledged", "count"),
               Column("acknowledged_share", "Acknowledged share", "share"),
               Column("ack_median", "Median time to the acknowledgement", "s"),
               Column("triage_said_no", "Not acknowledged: triage said no", "count"),
               Column("expired", "Not acknowledged: expired", "count"),
               Column("waiting", "Not acknowledged: waiting", "count"),
               Column("parked", "Not acknowledged: parked", "count"),
               Column("other", "Not acknowledged: other", "count"))
    out: list[Row] = []
    closed = [f for f in created if f.wrote_while_closed]
    for (period, channel), group in _grouped(closed, lambda f: (rng.period(f.first_contact_at), f.channel)).items():
        sent = [f for f in group if f.ack_state == "sent"]
        seconds = [(f.ack_at - f.first_contact_at).total_seconds() for f in sent if f.ack_at is not None]
        said_no = [f for f in group if not f.ack_state and f.triage_said_no]
        reasons = {state: sum(1 for f in group if f.ack_state in states)
                   for state, states in (("expired", ("expired",)), ("waiting", ("waiting", "queued")),
                                         ("parked", ("parked",)))}
        other = len(group) - len(sent) - len(said_no) - sum(reasons.values())
        out.append({"period": period, "channel": channel, "wrote_while_closed": len(group),
                    "acknowledged": len(sent), "acknowledged_share": share(len(sent), len(group)),
                    "ack_median": median(seconds), "triage_said_no": len(said_no), **reasons, "other": other})
    return Table(name="acknowledgements", title="Acknowledgements out of hours", columns=columns, rows=tuple(out),
                 chart=Chart("bar", "period", ("acknowledged", "triage_said_no", "expired", "waiting", "parked"),
                             "count"),
                 note="Customers whose desk was closed when they first wrote; waiting includes acknowledgements "
                      "queued and not yet sent; other: no acknowledgement decided (e.g. answered by a person first).")


def _volume(rng: _Range, chosen: list[TicketFigures]) -> Table:
    columns = (Column("period", "Period"), Column("desk", "Desk"), Column("created", "Created", "count"),
               Column("resolved", "Resolved", "count"), Column("reopened", "Reopened", "count"))
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"created": 0, "resolved": 0, "reopened": 0})
    for f in chosen:
        if rng.covers(f.first_contact_at):
            counts[(rng.period(f.first_contact_at), f.desk)]["created"] += 1
        for at in f.resolutions:
            if rng.covers(at):
                counts[(rng.period(at), f.desk)]["resolved"] += 1
        for at in f.reopens:
            if rng.covers(at):
                counts[(rng.period(at), f.desk)]["reopened"] += 1
    out: list[Row] = [{"period": period, "desk": desk, **c} for (period, desk), c in sorted(counts.items())]
    return Table(name="volume", title="Tickets created, resolved and reopened", columns=columns, rows=tuple(out),
                 chart=Chart("bar", "period", ("created", "resolved", "reopened"), "count"),
                 note=f"Resolutions and reopenings in the period of tickets first written up to {LOOKBACK_DAYS} days "
                      "before the range.")


def _listening(rng: _Range, created: list[TicketFigures]) -> Table:
    columns = (Column("period", "Period"), Column("channel", "Channel"), Column("found", "Found", "count"),
               Column("answered", "Answered by an agent", "count"),
               Column("answered_median", "Median time to the answer", "min"),
               Column("dismissed", "Dismissed", "count"), Column("open", "Still open", "count"))
    out: list[Row] = []
    heard = [f for f in created if f.listened]
    for (period, channel), group in _grouped(heard, lambda f: (rng.period(f.first_contact_at), f.channel)).items():
        answered = [f for f in group if f.first_response_at is not None]
        waits = [_minutes(f.first_contact_at, f.first_response_at) for f in answered if f.first_response_at]
        dismissed = [f for f in group if f.dismissed_at is not None]
        out.append({"period": period, "channel": channel, "found": len(group), "answered": len(answered),
                    "answered_median": median(waits), "dismissed": len(dismissed),
                    "open": sum(1 for f in group if f.first_response_at is None and f.resolved_at is None)})
    return Table(name="listening", title="Posts not addressed to us (listening)", columns=columns, rows=tuple(out),
                 chart=Chart("bar", "period", ("found", "answered", "dismissed"), "count"),
                 note="Posts naming the brand without tagging it, found by listening, by the day they were written; "
                      "never answered automatically, and left out of the other tables' response times and "
                      "acknowledgements. One whose author then wrote to us counts with the customers who did.")


def _backlog(rng: _Range, chosen: list[TicketFigures], now: datetime) -> Table:
    columns = (Column("hour", "Hour"), Column("desk", "Desk"), Column("waiting", "Waiting", "count"))
    last = min(rng.end, now)
    hours: list[datetime] = []
    at = rng.start
    while at < last:
        hours.append(at)
        at += timedelta(hours=1)
    out: list[Row] = []
    for desk in sorted({f.desk for f in chosen}):
        changes: list[tuple[datetime, int]] = []
        for f in chosen:
            if f.desk != desk:
                continue
            for start, end in f.waits:
                changes.append((start, 1))
                if end is not None:
                    changes.append((end, -1))
        changes.sort(key=lambda c: (c[0], c[1]))
        waiting, i = 0, 0
        for hour in hours:
            while i < len(changes) and changes[i][0] <= hour:
                waiting += changes[i][1]
                i += 1
            out.append({"hour": hour.astimezone(rng.zone).strftime("%Y-%m-%d %H:%M"), "desk": desk,
                        "waiting": waiting})
    return Table(name="backlog", title="Backlog at each hour", columns=columns, rows=tuple(out),
                 chart=Chart("line", "hour", ("waiting",), "count"),
                 note="Tickets waiting for an answer at the start of each hour (local time): from first contact, or "
                      "a reopening, until answered or resolved; the desk is the one the ticket is on now.")


def _busy(rng: _Range, created: list[TicketFigures]) -> Table:
    columns = (Column("period", "Period"), Column("busy_acks", "Busy acknowledgements", "count"),
               Column("answered", "Answered since", "count"),
               Column("estimate_median", "Estimate told, median midpoint", "min"),
               Column("wait_median", "Wait that followed, median", "min"),
               Column("within", "Answered within the range told", "share"),
               Column("sooner", "Answered sooner", "share"), Column("later", "Answered later", "share"))
    out: list[Row] = []
    busy = [f for f in created if f.busy_acked and f.busy_estimate is not None]
    for (period,), group in _grouped(busy, lambda f: (rng.period(f.first_contact_at),)).items():
        pairs = [(f.busy_estimate, _minutes(f.first_contact_at, f.first_response_at)) for f in group
                 if f.busy_estimate is not None and f.first_response_at is not None]
        within = sum(1 for (lo, hi), w in pairs if lo <= w <= hi)
        sooner = sum(1 for (lo, _), w in pairs if w < lo)
        out.append({"period": period, "busy_acks": len(group), "answered": len(pairs),
                    "estimate_median": median([(f.busy_estimate[0] + f.busy_estimate[1]) / 2 for f in group
                                               if f.busy_estimate is not None]),
                    "wait_median": median([w for _, w in pairs]), "within": share(within, len(pairs)),
                    "sooner": share(sooner, len(pairs)), "later": share(len(pairs) - within - sooner, len(pairs))})
    return Table(name="busy", title="Busy acknowledgements: the wait told and the wait that followed", columns=columns,
                 rows=tuple(out), chart=Chart("bar", "period", ("estimate_median", "wait_median"), "min"),
                 note="The range told to customers while the desk was busy against their first response.")


def _triage(svc: Services, rng: _Range, known: Mapping[str, TicketFigures], query: ReportQuery) -> Table:
    columns = (Column("intent", "Intent triage gave"), Column("labelled", "Labelled by agents", "count"),
               Column("agreed", "Agents agreed", "count"), Column("agreement", "Agreement", "share"))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in svc.labels.all(since=rng.start):
        if not rng.covers(label.at):
            continue
        if query.channel is not None or query.desk is not None:
            f = known.get(label.ticket_id)
            if f is None or (query.channel and f.channel != query.channel) or (query.desk and f.desk != query.desk):
                continue
        counts[label.triaged][0] += 1
        counts[label.triaged][1] += int(label.intent == label.triaged)
    out: list[Row] = [{"intent": intent, "labelled": n, "agreed": agreed, "agreement": share(agreed, n)}
           for intent, (n, agreed) in sorted(counts.items())]
    return Table(name="triage", title="Triage agreement with agents' labels", columns=columns, rows=tuple(out),
                 chart=Chart("bar", "intent", ("agreement",), "share"),
                 note="Labels given in the range; agreed: the agent's intent is the one triage gave.")


def report_csv(svc: Services, agent: Agent, params: Mapping[str, str]) -> tuple[str, str]:
    """One table of the report as CSV (``table``: its name): the file name to save it as, and its text."""
    from chalicelib.domain.reports import TABLES, to_csv

    if not may_read_reports(agent):
        raise Forbidden("the reports are for leads and the comms team")
    name = (params.get("table") or "").strip()
    if name not in TABLES:
        raise Invalid(f"table must be one of {', '.join(TABLES)}", details={"table": "unknown" if name else "required"})
    report = report_for(svc, agent, params)
    q = report.query
    suffix = "".join(f"-{v}" for v in (q.channel, q.desk) if v)
    return f"report-{name}-{q.start.isoformat()}-{q.end.isoformat()}{suffix}.csv", to_csv(report.table(name))
