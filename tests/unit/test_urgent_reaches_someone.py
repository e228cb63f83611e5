"""Urgent work always reaches someone on shift: an urgent ticket whose desk is closed — new, reopened by the
customer's message, or still waiting at closing time — goes to the on-call desk when that desk is open, the customer
is told the on-call team has it, the on-call agent can take it and act on it, and an SLA breach is escalated only to
a desk that is open (or the status page says honestly that nobody is on shift). On the in-memory services."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.configfile import parse_config
from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Escalated, SlaBreached
from chalicelib.domain.mention import Mention
from chalicelib.domain.rota import Calendar
from chalicelib.usecases.closing_time import closing_time
from chalicelib.usecases.desk import actions, claims
from chalicelib.usecases.desk.commands import Reply
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.sla_watch import sla_watch
from chalicelib.usecases.status import view
from tests.conftest import run_memory_pipeline, utc
from tests.helpers import to_customers

STRANDED = "@MeridianRail stranded at Didcot Parkway with two kids, last train cancelled, what do we do"
AGAIN = "@MeridianRail it's happened again, stranded at Didcot Parkway, last train cancelled, please help"
MONDAY_10 = utc(2026, 11, 30, 10, 0)  # complaints open (customer service 07:00-20:00 London)
MONDAY_2030 = utc(2026, 11, 30, 20, 30)  # complaints and escalations closed; the on-call team on shift

AMIRA = Agent("amira", "Amira", ("customer_service",))
OMAR = Agent("omar", "Omar", ("oncall",))


def tweet(external_id: str, text: str, *, at, author: str = "4242") -> Mention:
    return Mention(channel="x", external_id=external_id, conversation_id=external_id, author_id=author, text=text,
                   created_at=at, author_handle=f"user{author}", author_name=f"User {author}")


def desk_queue(mem, desk: str) -> list[dict]:
    return list(mem.queues.messages.get(f"responder-desk-{desk}", []))


def acks(mem) -> list[dict]:
    return [m for m in to_customers(mem) if m["kind"] in ("ack", "closing")]


def page(mem, ticket_id: str) -> dict:
    return view(mem, mem.tickets.get(ticket_id), mem.now())


def timeline_texts(mem, ticket_id: str) -> list[str]:
    return [e["text"] for e in page(mem, ticket_id)["timeline"]]


def answered_and_resolved_at_ten(mem, clock, author: str = "4242", text: str = STRANDED) -> str:
    """The morning: the customer writes, the complaints team takes the ticket, answers and resolves it."""
    clock.set(MONDAY_10)
    ticket_id = process_mention(mem, tweet(f"{author}1", text, at=clock.now(), author=author)).ticket_id
    assert mem.tickets.get(ticket_id).desk == "complaints"
    clock.advance(minutes=3)
    taken = claims.next_ticket(mem, AMIRA)
    assert taken.ticket is not None and taken.ticket.ticket_id == ticket_id
    actions.reply(mem, AMIRA, ticket_id, Reply("So sorry: a replacement taxi is on its way to you."))
    actions.resolve(mem, AMIRA, ticket_id)
    run_memory_pipeline(mem)
    return ticket_id


def with_oncall_closed_at_night(mem) -> None:
    """The brand file with an on-call team that works days only (07:00-19:00): at 20:30 nobody is on call."""
    text = Path(mem.settings.config_path).read_text(encoding="utf-8")
    night = ('      - days: [mon, tue, wed, thu, fri, sat, sun]\n        start: "19:00"\n        end: "07:00"\n')
    changed = text.replace(night, "", 1)
    assert changed != text, "the brand file has no overnight on-call slot"
    mem.config = parse_config(changed, source=mem.settings.config_path)
    mem.calendar = Calendar(mem.config)


@pytest.fixture
def agents(mem):
    for agent in (AMIRA, OMAR):
        mem.agents.register(agent, f"{agent.username}-password")
    return mem


# ------------------------------------------------------------------------------------------------ the story
def test_a_stranded_customer_reopening_after_closing_reaches_the_on_call_team(agents, clock):
    mem = agents
    ticket_id = answered_and_resolved_at_ten(mem, clock)
    before = len(acks(mem))
    clock.set(MONDAY_2030)
    again = process_mention(mem, tweet("42422", AGAIN, at=clock.now()))
    assert again.ticket_id == ticket_id and again.result == "threaded"

    # 1. routed as a new urgent ticket would be: to the open on-call desk, recorded and announced there
    ticket = mem.tickets.get(ticket_id)
    assert ticket.status == "waiting" and ticket.reopened == 1 and ticket.desk == "oncall"
    assert [e for e in ticket.timeline if isinstance(e, Escalated)] == [Escalated(clock.now(), "complaints", "oncall")]
    [announced] = [m for m in desk_queue(mem, "oncall") if m["ticket_id"] == ticket_id]
    assert announced["event"] == "ticket.updated" and announced["change"] == "reopened"
    assert announced["escalated"] is True and announced["desk_open"] is True
    assert announced["from_desk"] == "complaints" and announced["desk"] == "oncall"
    assert not [m for m in desk_queue(mem, "complaints") if m.get("change") == "reopened"]

    # 2. told the truth: the on-call team has it, not "back at 07:00"
    [ack] = acks(mem)[before:]
    assert ack["kind"] == "ack" and ack["idempotency_key"] == f"ack#{ticket_id}#r1"
    assert "on-call team" in ack["text"] and "07:00" not in ack["text"] and ticket_id in ack["text"]
    shown = page(mem, ticket_id)
    assert shown["desk_open"] is True and shown["opens_at_text"] == ""
    assert shown["status_text"] == "In the queue for the next agent"
    assert "Marked urgent and passed to our on-call team" in timeline_texts(mem, ticket_id)

    # 3. the on-call agent takes it and acts on it
    taken = claims.next_ticket(mem, OMAR)
    assert taken.ticket is not None and taken.ticket.ticket_id == ticket_id
    actions.reply(mem, OMAR, ticket_id, Reply("Omar from our control room: a taxi is booked to Oxford for you."))
    assert actions.resolve(mem, OMAR, ticket_id).ticket.status == "resolved"


def test_a_breach_at_night_goes_to_the_open_on_call_desk_and_the_page_says_so(agents, clock):
    mem = agents
    ticket_id = answered_and_resolved_at_ten(mem, clock)
    clock.set(MONDAY_2030)
    process_mention(mem, tweet("42422", AGAIN, at=clock.now()))
    clock.advance(minutes=31)  # nobody answered within the urgent next-response target (30 minutes)
    assert sla_watch(mem) == {"breached": 1}
    assert desk_queue(mem, "escalations") == []  # the team leads are off shift until 08:00
    [breach] = [m for m in desk_queue(mem, "oncall") if m["event"] == "ticket.sla_breached"]
    assert breach["ticket_id"] == ticket_id and breach["escalated"] is True
    [entry] = [e for e in mem.tickets.get(ticket_id).timeline if isinstance(e, SlaBreached)]
    assert entry.alerted == "oncall"
    texts = timeline_texts(mem, ticket_id)
    assert "This is taking longer than we aim for; our on-call team has been alerted" in texts
    assert not any("team lead" in text for text in texts)


# ------------------------------------------------------------------------------------------------ around it
def test_a_reopen_when_the_on_call_desk_is_closed_too_stays_and_tells_the_real_opening(agents, clock):
    mem = agents
    ticket_id = answered_and_resolved_at_ten(mem, clock)
    before = len(acks(mem))
    with_oncall_closed_at_night(mem)
    clock.set(MONDAY_2030)
    process_mention(mem, tweet("42422", AGAIN, at=clock.now()))
    ticket = mem.tickets.get(ticket_id)
    assert ticket.desk == "complaints" and ticket.status == "waiting"
    assert not [e for e in ticket.timeline if isinstance(e, Escalated)]
    [ack] = acks(mem)[before:]
    assert "07:00" in ack["text"] and "on-call" not in ack["text"]
    shown = page(mem, ticket_id)
    assert shown["desk_open"] is False and "07:00" in shown["opens_at_text"]


def test_an_urgent_ticket_still_waiting_at_closing_time_moves_to_on_call_and_is_told_so(agents, clock):
    mem = agents
    clock.set(utc(2026, 11, 30, 19, 50))  # Monday, ten minutes before the complaints desk closes
    ticket_id = process_mention(mem, tweet("4301", STRANDED, at=clock.now(), author="43")).ticket_id
    ticket = mem.tickets.get(ticket_id)
    assert ticket.desk == "complaints" and ticket.urgent and to_customers(mem) == []
    clock.set(utc(2026, 11, 30, 20, 5))
    assert closing_time(mem)["acknowledged"] == 1
    ticket = mem.tickets.get(ticket_id)
    assert ticket.desk == "oncall" and ticket.status == "waiting"
    assert [e for e in ticket.timeline if isinstance(e, Escalated)] == [Escalated(clock.now(), "complaints", "oncall")]
    [moved] = [m for m in desk_queue(mem, "oncall") if m["ticket_id"] == ticket_id]
    assert moved["event"] == "ticket.updated" and moved["change"] == "transferred"
    assert moved["from_desk"] == "complaints" and moved["escalated"] is True
    [closing] = acks(mem)
    assert closing["kind"] == "closing" and "on-call team" in closing["text"] and "07:00" not in closing["text"]
    assert closing_time(mem)["acknowledged"] == 0  # once
    assert claims.next_ticket(mem, OMAR).ticket.ticket_id == ticket_id


def test_a_normal_ticket_reopened_after_closing_stays_on_its_desk(agents, clock):
    mem = agents
    ticket_id = answered_and_resolved_at_ten(mem, clock, author="44",
                                             text="@MeridianRail my refund for last week's delay never arrived")
    assert not mem.tickets.get(ticket_id).urgent
    before = len(acks(mem))
    clock.set(MONDAY_2030)
    process_mention(mem, tweet("442", "@MeridianRail still no refund, this is poor", at=clock.now(), author="44"))
    ticket = mem.tickets.get(ticket_id)
    assert ticket.desk == "complaints" and ticket.reopened == 1
    assert not [e for e in ticket.timeline if isinstance(e, Escalated)]
    assert desk_queue(mem, "oncall") == []
    [ack] = acks(mem)[before:]
    assert "07:00" in ack["text"]
    assert claims.next_ticket(mem, OMAR).ticket is None


def test_a_breach_with_no_desk_open_alerts_nobody_and_the_page_says_so_honestly(agents, clock):
    mem = agents
    with_oncall_closed_at_night(mem)
    clock.set(utc(2026, 11, 30, 19, 50))
    ticket_id = process_mention(mem, tweet("4501", STRANDED, at=clock.now(), author="45")).ticket_id
    clock.set(utc(2026, 11, 30, 20, 30))
    assert sla_watch(mem) == {"breached": 1}
    assert desk_queue(mem, "escalations") == [] and desk_queue(mem, "oncall") == []
    ticket = mem.tickets.get(ticket_id)
    assert ticket.breached and ticket.desk == "complaints"
    [entry] = [e for e in ticket.timeline if isinstance(e, SlaBreached)]
    assert entry.alerted == ""
    texts = timeline_texts(mem, ticket_id)
    assert not any("alerted" in text for text in texts)
    assert any(text.startswith("This is taking longer than we aim for; nobody is on shift") for text in texts)


def test_a_breach_while_the_team_leads_are_on_shift_still_goes_to_them(agents, clock):
    mem = agents
    clock.set(MONDAY_10)
    ticket_id = process_mention(mem, tweet("4601", STRANDED, at=clock.now(), author="46")).ticket_id
    clock.advance(minutes=16)
    assert sla_watch(mem) == {"breached": 1}
    [breach] = desk_queue(mem, "escalations")
    assert breach["ticket_id"] == ticket_id and desk_queue(mem, "oncall") == []
    [entry] = [e for e in mem.tickets.get(ticket_id).timeline if isinstance(e, SlaBreached)]
    assert entry.alerted == "escalations"
    assert "This is taking longer than we aim for; a team lead has been alerted" in timeline_texts(mem, ticket_id)


@pytest.mark.parametrize("alerted", [None, "", "oncall", "escalations"])
def test_who_a_breach_alerted_is_kept_with_the_entry(alerted):
    from chalicelib.store.codec import event_from_row, event_record

    entry = SlaBreached(MONDAY_2030, MONDAY_10, 42, alerted=alerted)
    kind, data = event_record(entry)
    assert event_from_row(entry.at, kind, data) == entry
    assert entry.detail == f"response was due {MONDAY_10.isoformat()} (42 min late)"


@pytest.mark.parametrize("kind", ["oncall_ack", "oncall_closing"])
@pytest.mark.parametrize("channel", ["x", "bluesky", "email"])
def test_the_on_call_wording_names_no_opening_time_and_fits_its_channel(kind, channel):
    from chalicelib.configfile import load_config
    from chalicelib.domain.ack import compose, fits

    sample = load_config(Path(__file__).resolve().parents[2] / "chalicelib" / "brand.yaml")
    url = "" if channel == "x" else "https://help.example.test/s/abc"
    text = compose(sample.template(kind, channel, "en"), channel=channel, name="Bartholomew-Fitzgerald",
                   reference="R7Q2K0000", status_url=url, now=MONDAY_2030, back_at=None,
                   tz=sample.brand.timezone, desk="oncall", ask_for=sample.ask_for("oncall", "en"))
    assert "R7Q2K0000" in text and "on-call team" in text and "back" not in text and fits(channel, text), text
    assert "{" not in text and "  " not in text and (url in text if url else "http" not in text)


def test_a_reopen_whose_attempt_failed_before_its_acknowledgement_gets_the_on_call_wording_on_redelivery(agents,
                                                                                                       clock):
    from chalicelib.usecases.process import process_envelope
    from tests.helpers import queued

    mem = agents
    ticket_id = answered_and_resolved_at_ten(mem, clock)
    before = len(acks(mem))
    clock.set(MONDAY_2030)
    start, failures = mem.acks.start, []

    def failing_once(ack_ref, kind):
        if not failures:
            failures.append(ack_ref)
            raise ConnectionError("PutItem failed")
        return start(ack_ref, kind)

    mem.acks.start = failing_once
    envelope = queued(tweet("42422", AGAIN, at=clock.now()), received_at=clock.now())
    with pytest.raises(ConnectionError):
        process_envelope(mem, envelope)
    assert mem.tickets.get(ticket_id).desk == "oncall" and acks(mem)[before:] == []
    clock.advance(seconds=40)
    process_envelope(mem, envelope, attempt=2)  # SQS delivers it again: the acknowledgement it owed
    [ack] = acks(mem)[before:]
    assert "on-call team" in ack["text"] and "07:00" not in ack["text"]
    assert [e for e in mem.tickets.get(ticket_id).timeline if isinstance(e, Escalated)] == [
        Escalated(MONDAY_2030, "complaints", "oncall")]
    # the on-call desk hears where the ticket came from, although the attempt that moved it failed before saying so
    [announced] = [m for m in desk_queue(mem, "oncall") if m["ticket_id"] == ticket_id]
    assert announced["from_desk"] == "complaints" and announced["escalated"] is True
