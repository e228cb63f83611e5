"""A realistic day through the real processing path and the agents' real actions (in-memory twins), then every
figure of the report compared with a recomputation straight from the tickets, written here on its own: it reads
the tickets' timelines and the rota, never the reports' figures or their aggregation."""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import history as h
from chalicelib.domain.agent import Agent
from chalicelib.domain.mention import Mention
from chalicelib.domain.reports import ReportQuery, report_json, to_csv
from chalicelib.domain.ticket import Ticket
from chalicelib.usecases.desk import claims
from chalicelib.usecases.desk.actions import act
from chalicelib.usecases.desk.commands import Action, Given
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.reports import build_report
from tests.conftest import run_memory_pipeline, utc
from tests.helpers import ticket_of

AMIRA = Agent("amira", "Amira", ("customer_service",))
BEN = Agent("ben", "Ben", ("customer_service",))
DAY = date(2026, 11, 25)  # a Wednesday: customer service on shift 07:00-20:00 London (UTC in November)
LONDON = ZoneInfo("Europe/London")
COMPLAINT = "my train was cancelled and nobody told us, awful"
QUESTION = "can I change my booking to a later train tomorrow?"
PRAISE = "thank you to the lovely guard on the 08:15, great service"


def message(channel: str, n: int, text: str, at: datetime, author: str = "") -> Mention:
    who = author or f"{channel}-{n}"
    return Mention(channel=channel, external_id=f"{channel}{n:05d}", conversation_id=f"{channel}{n:05d}",
                   author_id=f"{who}@example.test" if channel == "email" else who, text=f"@MeridianRail {text}",
                   created_at=at, author_handle=who, author_name=who.title())


def write(svc, clock, mention: Mention) -> None:
    clock.set(mention.created_at)
    process_mention(svc, mention)
    run_memory_pipeline(svc)


def do(svc, clock, at: datetime, agent: Agent, ticket_id: str, action: Action, body: dict | None = None) -> None:
    clock.set(at)
    act(svc, agent, ticket_id, action, Given.of_json(lambda: body or {}))
    run_memory_pipeline(svc)


def take(svc, clock, at: datetime, agent: Agent) -> str:
    clock.set(at)
    got = claims.next_ticket(svc, agent)
    assert got.ticket_id is not None
    return got.ticket_id


def at(hour: int, minute: int = 0) -> datetime:
    return utc(2026, 11, 25, hour, minute)


@pytest.fixture
def day(mem, clock):
    """Night messages on three channels while the desks are closed, praise, a morning of answers and resolutions,
    labels, a customer reopening a resolved case, a transfer, and tickets still waiting at the end of the day."""
    for agent in (AMIRA, BEN):
        mem.agents.register(agent, f"{agent.username}-password")
    night = [message("x", 1, COMPLAINT, at(1, 10)), message("x", 2, PRAISE, at(2, 30)),
             message("email", 3, COMPLAINT, at(3, 15)), message("x", 4, QUESTION, at(4, 5)),
             message("email", 5, QUESTION, at(5, 40)), message("bluesky", 6, COMPLAINT, at(6, 20))]
    for m in night:
        write(mem, clock, m)
    first = take(mem, clock, at(7, 5), AMIRA)
    do(mem, clock, at(7, 25), AMIRA, first, Action.REPLY, {"text": "Sorry about that, a refund is on its way."})
    do(mem, clock, at(7, 40), AMIRA, first, Action.RESOLVE)
    second = take(mem, clock, at(7, 45), BEN)
    do(mem, clock, at(8, 10), BEN, second, Action.REPLY_RESOLVE, {"text": "Done: your booking is changed."})
    write(mem, clock, message("x", 7, COMPLAINT, at(9, 0)))
    write(mem, clock, message("email", 8, QUESTION, at(9, 30)))
    third = take(mem, clock, at(9, 45), AMIRA)
    do(mem, clock, at(9, 50), AMIRA, third, Action.LABEL, {"intent": "complaint"})
    do(mem, clock, at(10, 5), AMIRA, third, Action.REPLY, {"text": "Let me look into that for you."})
    fourth = take(mem, clock, at(10, 10), BEN)
    do(mem, clock, at(10, 12), BEN, fourth, Action.LABEL, {"intent": "praise"})
    do(mem, clock, at(10, 35), BEN, fourth, Action.REPLY_RESOLVE, {"text": "Thank you, we will pass it on."})
    write(mem, clock, message("x", 12, COMPLAINT, at(11, 0)))
    quick = ticket_of(mem, "x#x00012")
    do(mem, clock, at(11, 5), AMIRA, quick, Action.CLAIM)
    do(mem, clock, at(11, 20), AMIRA, quick, Action.REPLY, {"text": "On it: the refund form is here."})
    write(mem, clock, message("x", 9, "still no refund, this is ridiculous", at(13, 0), author="x-1"))  # reopens
    again = take(mem, clock, at(13, 30), AMIRA)
    do(mem, clock, at(13, 50), AMIRA, again, Action.REPLY_RESOLVE, {"text": "The refund went out today."})
    write(mem, clock, message("x", 10, COMPLAINT, at(15, 0)))
    fifth = take(mem, clock, at(15, 20), BEN)
    elsewhere = "complaints" if mem.tickets.get(fifth).desk == "journeys" else "journeys"
    do(mem, clock, at(15, 30), BEN, fifth, Action.TRANSFER, {"desk": elsewhere})
    write(mem, clock, message("email", 11, COMPLAINT, at(21, 30)))  # closed again: acknowledged
    clock.set(at(23, 0))
    return mem


# ------------------------------------------------------------------------------ the independent recomputation
def tickets(svc) -> list[Ticket]:
    return [t for t in svc.tickets.items.values() if t.status != "merged"]


def on(t: datetime) -> bool:
    return t.astimezone(LONDON).date() == DAY


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 0.01 + 1e-9


def first_queued_desk(t: Ticket) -> str:
    for e in t.timeline:
        if isinstance(e, h.Queued):
            return e.desk
    return t.desk


def minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def test_every_figure_of_a_day_matches_the_tickets(day):
    report = build_report(day, ReportQuery(DAY, DAY, "day", None, None))
    now = day.now()
    mine = [t for t in tickets(day) if on(t.first_contact_at)]
    assert len(mine) >= 10 and {t.channel for t in mine} >= {"x", "email", "bluesky"}

    # response: per channel and desk
    response = {(r["channel"], r["desk"]): r for r in report.table("response").rows}
    groups: dict[tuple[str, str], list[Ticket]] = defaultdict(list)
    for t in mine:
        groups[(t.channel, t.desk)].append(t)
    assert set(response) == set(groups)
    for key, group in groups.items():
        row = response[key]
        answered = [t for t in group if t.first_response_at]
        waits = [minutes(t.first_contact_at, t.first_response_at) for t in answered]
        opened = [day.calendar.open_minutes_between(t.desk, t.first_contact_at, t.first_response_at)
                  for t in answered]
        done = [t for t in group if t.status == "resolved"]
        hours = [minutes(t.first_contact_at, t.resolved_at) / 60 for t in done]
        assert row["period"] == DAY.isoformat() and row["tickets"] == len(group) and row["answered"] == len(answered)
        assert close(row["first_response_median"], statistics.median(waits) if waits else None)
        assert close(row["first_response_p90"], nearest_rank(waits, 0.9) if waits else None)
        assert close(row["first_response_open_median"], statistics.median(opened) if opened else None)
        assert close(row["first_response_open_p90"], nearest_rank(opened, 0.9) if opened else None)
        assert close(row["resolution_median"], statistics.median(hours) if hours else None)
        assert close(row["resolution_p90"], nearest_rank(hours, 0.9) if hours else None)
        counted = [t for t in group if t.first_response_at or (
            not any(isinstance(e, h.Resolved) for e in t.timeline) and now - t.first_contact_at >= timedelta(hours=1))]
        fast = [t for t in counted if t.first_response_at and t.first_response_at - t.first_contact_at
                <= timedelta(hours=1)]
        assert close(row["within_hour"], round(len(fast) / len(counted), 4) if counted else None)
        due = [t for t in group if t.first_response_due and (t.first_response_at or (
            not any(isinstance(e, h.Resolved) for e in t.timeline) and now >= t.first_response_due))]
        met = [t for t in due if t.first_response_at and t.first_response_at <= t.first_response_due]
        assert close(row["within_sla"], round(len(met) / len(due), 4) if due else None)

    assert any(r["within_hour"] for r in response.values())  # the ticket answered in 20 minutes

    # parity
    by_channel: dict[str, list[float]] = defaultdict(list)
    for t in mine:
        if t.first_response_at:
            by_channel[t.channel].append(minutes(t.first_contact_at, t.first_response_at))
    parity = {r["channel"]: r for r in report.table("parity").rows}
    assert set(parity) == set(by_channel)
    for channel, waits in by_channel.items():
        others = [w for c, ws in by_channel.items() if c != channel for w in ws]
        assert close(parity[channel]["median"], statistics.median(waits))
        assert close(parity[channel]["others_median"], statistics.median(others) if others else None)

    # acknowledgements: customers who wrote while their desk was closed
    closed = [t for t in mine if not day.calendar.is_open(first_queued_desk(t), t.first_contact_at)]
    assert len(closed) >= 6
    acks = {r["channel"]: r for r in report.table("acknowledgements").rows}
    for channel in {t.channel for t in closed}:
        group = [t for t in closed if t.channel == channel]
        sent = [t for t in group if any(isinstance(e, h.Sent) and e.of_ack for e in t.timeline)]
        seconds = [(next(e.at for e in t.timeline if isinstance(e, h.Sent) and e.of_ack) - t.first_contact_at)
                   .total_seconds() for t in sent]
        said_no = [t for t in group if t not in sent and t.decision is not None and not t.decision.answered
                   and not t.acked]
        row = acks[channel]
        assert row["wrote_while_closed"] == len(group) and row["acknowledged"] == len(sent)
        assert close(row["ack_median"], statistics.median(seconds) if seconds else None)
        assert row["triage_said_no"] == len(said_no)
    assert sum(r["acknowledged"] for r in acks.values()) >= 4

    # volume
    volume = {r["desk"]: r for r in report.table("volume").rows}
    for desk in {t.desk for t in tickets(day)}:
        row = volume.get(desk, {"created": 0, "resolved": 0, "reopened": 0})
        assert row["created"] == sum(1 for t in mine if t.desk == desk)
        assert row["resolved"] == sum(1 for t in tickets(day) if t.desk == desk for e in t.timeline
                                      if isinstance(e, h.Resolved) and on(e.at))
        assert row["reopened"] == sum(1 for t in tickets(day) if t.desk == desk for e in t.timeline
                                      if isinstance(e, (h.Reopened, h.ReopenedByAgent)) and on(e.at))
    assert sum(r["reopened"] for r in volume.values()) == 1

    # backlog at each hour: waiting from first contact (or a reopening) to the next answer or resolution
    backlog = {(r["hour"], r["desk"]): r["waiting"] for r in report.table("backlog").rows}
    assert len(backlog) == 23 * len({t.desk for t in mine})  # 00:00 to 22:00, the report made at 23:00
    for (hour, desk), waiting in backlog.items():
        t0 = datetime.strptime(hour, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON).astimezone(timezone.utc)
        expected = 0
        for t in tickets(day):
            if t.desk != desk:
                continue
            start: datetime | None = t.first_contact_at
            spans = []
            for e in sorted(t.timeline, key=lambda e: e.at):
                if isinstance(e, (h.Replied, h.Resolved)) and start is not None:
                    spans.append((start, e.at))
                    start = None
                elif isinstance(e, (h.Reopened, h.ReopenedByAgent)) and start is None:
                    start = e.at
            if start is not None:
                spans.append((start, None))
            expected += any(a <= t0 and (b is None or t0 < b) for a, b in spans)
        assert waiting == expected, (hour, desk)
    assert max(backlog.values()) >= 5

    # triage: the agents' labels against the intent triage gave
    labels = [e for t in tickets(day) for e in t.timeline if isinstance(e, h.Labelled)]
    triage = {r["intent"]: r for r in report.table("triage").rows}
    for intent in {e.triaged for e in labels}:
        mine_l = [e for e in labels if e.triaged == intent]
        assert triage[intent]["labelled"] == len(mine_l)
        assert triage[intent]["agreed"] == sum(1 for e in mine_l if e.intent == e.triaged)
    assert sum(r["labelled"] for r in triage.values()) == 2

    # busy: no busy acknowledgement on a day whose queue never grew long enough, on both sides
    assert report.table("busy").rows == () and not any(
        isinstance(e, h.Sent) and e.message == "busy" for t in tickets(day) for e in t.timeline)

    # every table serialises
    body = report_json(report)
    assert [t["name"] for t in body["tables"]] == ["response", "parity", "acknowledgements", "volume", "backlog",
                                                    "busy", "triage", "listening"]
    assert to_csv(report.table("response")).count("\r\n") == len(report.table("response").rows) + 1


def test_filters_and_weeks_keep_the_same_counts(day):
    week = build_report(day, ReportQuery(DAY - timedelta(days=2), DAY + timedelta(days=1), "week", None, None))
    assert {r["period"] for r in week.table("response").rows} == {"2026-11-23"}
    everything = build_report(day, ReportQuery(DAY, DAY, "day", None, None))
    assert sum(r["tickets"] for r in week.table("response").rows) == sum(
        r["tickets"] for r in everything.table("response").rows)
    email = build_report(day, ReportQuery(DAY, DAY, "day", "email", None))
    assert {r["channel"] for r in email.table("response").rows} == {"email"}
    assert sum(r["tickets"] for r in email.table("response").rows) == sum(
        1 for t in tickets(day) if t.channel == "email" and on(t.first_contact_at))
    assert {r["channel"] for r in email.table("parity").rows} >= {"x", "email"}  # parity compares channels
    journeys = build_report(day, ReportQuery(DAY, DAY, "day", None, "journeys"))
    assert {r["desk"] for r in journeys.table("volume").rows} <= {"journeys"}


def test_a_busy_acknowledgement_is_reported_against_the_wait_that_followed(mem, clock):
    """A long queue on an open desk: the new customer is told the wait as a range; the report pairs that range,
    read here from the message the customer received, with the wait until an agent answered."""
    import re

    monday = utc(2026, 11, 30, 10, 30)  # customer service open
    mem.agents.register(AMIRA, "amira-password")
    clock.set(monday)
    for n in range(2):
        write(mem, clock, message("x", 20 + n, COMPLAINT, monday))
    for n in range(10):  # 10 tickets first answered over the last two hours: 5 an hour
        mem.answers.record("complaints", monday - timedelta(minutes=5 + 10 * n))
    write(mem, clock, message("x", 30, COMPLAINT, monday))
    told = [m for m in mem.sandbox.recent() if m.get("in_reply_to") == "x00030"]
    assert len(told) == 1
    lower, upper = (int(x) for x in re.search(r"about (\d+)–(\d+) minutes", told[0]["text"]).groups())
    busy = ticket_of(mem, "x#x00030")
    do(mem, clock, monday + timedelta(minutes=40), AMIRA, busy, Action.CLAIM)
    do(mem, clock, monday + timedelta(minutes=45), AMIRA, busy, Action.REPLY, {"text": "Sorry for the wait."})

    report = build_report(mem, ReportQuery(date(2026, 11, 30), date(2026, 11, 30), "day", None, None))
    (row,) = report.table("busy").rows
    waited = minutes(mem.tickets.get(busy).first_contact_at, mem.tickets.get(busy).first_response_at)
    assert (row["busy_acks"], row["answered"]) == (1, 1)
    assert close(row["estimate_median"], (lower + upper) / 2) and close(row["wait_median"], waited)
    assert row["within"] == (1.0 if lower <= waited <= upper else 0.0)
