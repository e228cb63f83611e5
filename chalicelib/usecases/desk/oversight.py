"""For leads and comms: the oversight page (who is on shift, the desks' queues and breaches, high-reach and abuse
tickets, throughput, the agents' labels lately) and the labels' export in the triage report's format (JSON for the
API and the terminal, CSV for the web inbox)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import wording
from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Claimed
from chalicelib.domain.ticket import CLAIMED, WAITING, Ticket
from chalicelib.services import Services
from chalicelib.store.ports import TriageLabel
from chalicelib.usecases import suggested_incidents
from chalicelib.usecases.admin import acknowledgements
from chalicelib.usecases.desk.access import may_oversee, zone
from chalicelib.usecases.desk.views import (
    AckFigures,
    HeldClaim,
    HourCount,
    LabelRow,
    LabelsExport,
    LabelSummary,
    OversightDesk,
    OversightView,
    TeamShift,
    summary,
)
from chalicelib.usecases.errors import Forbidden, Invalid

#: The labelled set's columns, as ``tests/fixtures/triage_eval.csv`` and ``make triage-report`` read them, then
#: what the export adds.
LABEL_COLUMNS = ("tweet_id", "author_id", "created_at", "text", "reply", "intent", "urgent",
                 "channel", "triaged", "triage_acknowledged", "agent", "labelled_at", "ticket_id")
#: How far back the oversight page counts agents' labels.
LABEL_SUMMARY_DAYS = 30


def held_claims(tickets: list[Ticket], now: datetime, brand_zone: ZoneInfo) -> tuple[HeldClaim, ...]:
    """Every unexpired claim: who holds which ticket, since their latest claim, longest held first."""
    held = []
    for ticket in tickets:
        if ticket.status != CLAIMED or not ticket.claimed_by or not ticket.claim_expires_at or \
                ticket.claim_expires_at <= now:
            continue
        since = max((e.at for e in ticket.timeline if isinstance(e, Claimed) and e.agent == ticket.claimed_by),
                    default=now)
        held.append(HeldClaim(agent=ticket.claimed_by, ticket_id=ticket.ticket_id, desk=ticket.desk,
                              priority=ticket.priority, since=since.isoformat(),
                              held_minutes=int((now - since).total_seconds() // 60),
                              until=ticket.claim_expires_at.astimezone(brand_zone).strftime("%H:%M")))
    return tuple(sorted(held, key=lambda h: (-h.held_minutes, h.agent, h.ticket_id)))


def oversight(svc: Services, agent: Agent) -> OversightView:
    """For leads and comms: who is on shift now and next; per desk depth, oldest wait and SLA breaches; who holds
    which ticket and for how long; the high-reach and abuse lists; tickets first answered per hour."""
    if not may_oversee(agent):
        raise Forbidden("oversight is for leads and comms")
    now = svc.now()
    brand_zone = zone(svc)
    rota = svc.calendar.rota_view(now)
    open_tickets = list(svc.tickets.open_tickets())
    desks_view = []
    for desk in svc.config.desk_ids:
        mine = [t for t in open_tickets if t.desk == desk]
        waiting = sorted((t for t in mine if t.status == WAITING), key=lambda t: t.first_contact_at)
        breaches = [t for t in mine if t.breached or (t.first_response_at is None and t.first_response_due
                                                      and t.first_response_due <= now)]
        desks_view.append(OversightDesk(
            desk=desk, open=svc.calendar.is_open(desk, now), depth=len(waiting),
            claimed=sum(1 for t in mine if t.status == CLAIMED),
            oldest_wait=wording.wait(now - waiting[0].first_contact_at) if waiting else "",
            oldest_wait_minutes=int((now - waiting[0].first_contact_at).total_seconds() // 60) if waiting else 0,
            sla_breaches=len(breaches),
            answered_last_hour=svc.answers.count_since(desk, now - timedelta(hours=1), now),
        ))
    teams = []
    for team in svc.config.team_ids:
        start = svc.calendar.next_shift_start(team, now)
        end = svc.calendar.shift_end(team, now)
        on_shift = svc.calendar.on_shift(team, now)
        around_the_clock = on_shift and (end is None or end - now > timedelta(days=7))
        teams.append(TeamShift(team=team, on_shift=on_shift,
                               until="around the clock" if around_the_clock else
                               wording.opening(end, now, brand_zone) if end and on_shift else "",
                               next_shift=wording.opening(start, now, brand_zone) if start else ""))
    hours = [now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=n) for n in range(7, -1, -1)]
    per_desk = {desk: [svc.answers.count_since(desk, h, min(now, h + timedelta(hours=1)) - timedelta(microseconds=1))
                       for h in hours] for desk in svc.config.desk_ids}
    throughput = [HourCount(hour=h.astimezone(brand_zone).strftime("%H:00"), team=team,
                            tickets=sum(per_desk[d][i] for d in svc.config.desks_covered_by(team)))
                  for i, h in enumerate(hours) for team in svc.config.team_ids]
    return OversightView(
        at=now.isoformat(), timezone=svc.config.brand.timezone, teams=tuple(teams), desks=tuple(desks_view),
        rota=rota,
        held=held_claims(open_tickets, now, brand_zone),
        high_reach=tuple(summary(svc, t, now) for t in open_tickets if "high_reach" in t.flags),
        abuse=tuple(summary(svc, t, now) for t in open_tickets if t.intent == "abuse" or "abuse" in t.flags),
        first_answered_per_hour=tuple(row for row in throughput if row.tickets),
        labels=label_summary(svc.labels.all(now - timedelta(days=LABEL_SUMMARY_DAYS))),
        acknowledgements=acknowledgements(svc, open_tickets),
        suggested_incidents=suggested_incidents.live(svc, now),
    )


def labels(svc: Services, agent: Agent, since: str | None = None) -> LabelsExport:
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
            after = after.replace(tzinfo=zone(svc))
    rows = []
    for given in svc.labels.all(after):
        stored = svc.mentions.get(given.mention_key)
        if stored is None:
            continue
        m = stored.mention
        rows.append(LabelRow(tweet_id=m.external_id, author_id=given.customer_id,
                             created_at=m.created_at.isoformat(), text=m.text, reply="yes" if m.reply_to else "no",
                             intent=given.intent, urgent="yes" if given.urgent else "no", channel=m.channel,
                             triaged=given.triaged, triage_acknowledged=_yes_no(given.triaged_acknowledge),
                             agent=given.agent, labelled_at=given.at.isoformat(), ticket_id=given.ticket_id))
    agreed = sum(1 for r in rows if r.intent == r.triaged)
    return LabelsExport(columns=LABEL_COLUMNS, labels=tuple(rows), count=len(rows), triage_agreed=agreed)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def label_summary(given: list[TriageLabel]) -> LabelSummary:
    """How many tickets agents labelled lately, how often triage had said the same, and the acknowledgement's
    figures on them: the share triage's policy acknowledged of those labelled a complaint or question (which
    should be) and of those labelled praise or other (which should not)."""
    agreed = sum(1 for x in given if x.intent == x.triaged)
    decided = [x for x in given if x.triaged_acknowledge is not None]
    should = [x.triaged_acknowledge for x in decided if x.intent in ("complaint", "question")]
    should_not = [x.triaged_acknowledge for x in decided if x.intent in ("praise", "other")]
    acknowledged = AckFigures(should=len(should), should_acked=sum(1 for a in should if a),
                              should_not=len(should_not), should_not_acked=sum(1 for a in should_not if a))
    return LabelSummary(days=LABEL_SUMMARY_DAYS, count=len(given), triage_agreed=agreed, acknowledged=acknowledged,
                        corrected=tuple(sorted(Counter(f"{x.triaged} → {x.intent}" for x in given
                                                       if x.intent != x.triaged).items(),
                                               key=lambda kv: (-kv[1], kv[0]))))
