"""The in-hours busy acknowledgement: the pure estimate and its range (domain.busy), its configuration and
templates, and every branch of the decision in processing, on the in-memory twins of the stores and queues."""
from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.configfile import ConfigError, load_config, parse_config
from chalicelib.domain import busy
from chalicelib.domain.ack import compose, x_length
from chalicelib.domain.config import TEMPLATE_VARIABLES, BusyAck
from chalicelib.domain.mention import Mention
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.status import view
from tests.conftest import run_memory_pipeline, utc
from tests.helpers import queued, to_customers
from tests.unit.test_config import BASE, SAMPLE

# ------------------------------------------------------------------------------------------------ the estimate
MONDAY_1030 = utc(2026, 11, 30, 10, 30)  # Monday, 10:30 in London (GMT): customer service open 07:00-20:00


def test_the_window_starts_on_the_hour_and_covers_at_least_the_window():
    assert busy.window_start(MONDAY_1030, 120) == utc(2026, 11, 30, 8, 0)
    assert busy.window_start(utc(2026, 11, 30, 10, 0), 120) == utc(2026, 11, 30, 8, 0)
    assert busy.window_start(MONDAY_1030, 90) == utc(2026, 11, 30, 9, 0)
    assert busy.hour_ceil(utc(2026, 11, 30, 8, 0)) == utc(2026, 11, 30, 8, 0)
    assert busy.hour_ceil(utc(2026, 11, 30, 8, 0, 1)) == utc(2026, 11, 30, 9, 0)
    assert busy.hour_floor(utc(2026, 11, 30, 8, 59, 59)) == utc(2026, 11, 30, 8, 0)


def test_the_estimate_is_the_backlog_at_the_recent_pace():
    # 10 answers in 2.5 hours is 4 an hour: 3 tickets waiting take 45 minutes
    assert busy.estimate_minutes(backlog=3, answers=10, span=timedelta(hours=2, minutes=30), min_answers=4) == 45
    assert busy.estimate_minutes(backlog=0, answers=10, span=timedelta(hours=2), min_answers=4) == 0


@pytest.mark.parametrize("answers, min_answers", [(3, 4), (0, 4), (0, 0)])
def test_too_few_answers_give_no_estimate(answers, min_answers):
    assert busy.estimate_minutes(backlog=50, answers=answers, span=timedelta(hours=2),
                                 min_answers=min_answers) is None


def test_an_empty_span_gives_no_estimate():
    assert busy.estimate_minutes(backlog=5, answers=9, span=timedelta(0), min_answers=4) is None


@pytest.mark.parametrize("estimate, lower, upper, text", [
    (45, 30, 60, "about 30–60 minutes"),
    (59, 40, 80, "about 40–80 minutes"),
    (90, 60, 120, "about 60–120 minutes"),
    (100, 60, 150, "about 1–2½ hours"),
    (150, 90, 210, "about 1½–3½ hours"),
    (200, 120, 300, "about 2–5 hours"),
    (600, 420, 780, "about 7–13 hours"),
    (3000, 1440, 4320, "about 1–3 days"),
    (5, 0, 10, "up to 10 minutes"),
    (0, 0, 10, "up to 10 minutes"),
])
def test_the_range_is_rounded_outwards_to_its_granularity(estimate, lower, upper, text):
    wait = busy.wait_range(estimate)
    assert (wait.lower, wait.upper, wait.text) == (lower, upper, text)


def test_the_threshold_decides_whether_anything_is_said():
    span = timedelta(hours=2)
    # 8 answers in 2 hours: 4 an hour, 15 minutes a ticket
    assert busy.expected_wait(backlog=2, answers=8, span=span, min_answers=4, threshold_minutes=30) is None  # 30
    wait = busy.expected_wait(backlog=3, answers=8, span=span, min_answers=4, threshold_minutes=30)
    assert wait is not None and wait.estimate == 45 and wait.text == "about 30–60 minutes"
    assert busy.expected_wait(backlog=30, answers=3, span=span, min_answers=4, threshold_minutes=30) is None


@given(st.floats(min_value=0, max_value=60 * 24 * 30, allow_nan=False, allow_infinity=False))
def test_a_range_is_never_one_number_and_always_holds_the_estimate(estimate):
    wait = busy.wait_range(estimate)
    assert wait.lower < wait.upper
    assert wait.lower <= estimate <= wait.upper
    assert wait.step == busy.granularity(estimate) and wait.step in (10, 30, 60, 24 * 60)
    assert wait.lower % wait.step == 0 and wait.upper % wait.step == 0
    # as wide as 0.75-1.25 x, and no wider than one step more on each side
    assert wait.lower <= 0.75 * estimate < wait.lower + wait.step
    assert wait.upper - wait.step < 1.25 * estimate <= wait.upper or (estimate == 0 and wait.upper == wait.step)
    # the text states exactly these two ends
    numbers = [float(n.replace("½", ".5")) if n != "½" else 0.5 for n in re.findall(r"\d*½|\d+", wait.text)]
    unit = 24 * 60 if "days" in wait.text else 60 if "hours" in wait.text else 1
    expected = [wait.upper] if wait.lower == 0 else [wait.lower, wait.upper]
    assert [n * unit for n in numbers] == expected


@given(backlog=st.integers(min_value=0, max_value=500), answers=st.integers(min_value=0, max_value=500),
       minutes=st.integers(min_value=60, max_value=24 * 60 + 59), threshold=st.integers(min_value=1, max_value=240))
def test_expected_wait_is_said_only_above_the_threshold_with_enough_answers(backlog, answers, minutes, threshold):
    span = timedelta(minutes=minutes)
    wait = busy.expected_wait(backlog=backlog, answers=answers, span=span, min_answers=4, threshold_minutes=threshold)
    estimate = backlog / (answers / (minutes / 60)) * 60 if answers else math.inf
    if answers < 4 or estimate <= threshold:
        assert wait is None
    else:
        assert wait is not None and math.isclose(wait.estimate, estimate)


# ------------------------------------------------------------------------------------------------ configuration
def test_the_busy_section_has_defaults_and_forbids_unknown_keys():
    assert BusyAck() == BusyAck(enabled=True, threshold_minutes=30, window_minutes=120, min_answers=4)
    assert "expected_wait" in TEMPLATE_VARIABLES
    with pytest.raises(ConfigError, match=r"busy\.speed: unknown key 'speed'"):
        parse_config(BASE + "busy: {enabled: false, speed: 3}\n", source="brand.yaml")
    with pytest.raises(ConfigError, match=r"busy\.window_minutes: .*greater than or equal to 60"):
        parse_config(BASE + "busy: {enabled: false, window_minutes: 30}\n", source="brand.yaml")


def test_a_busy_section_needs_a_busy_template_with_an_english_default():
    with pytest.raises(ConfigError, match=r"brand.yaml:29: busy: the busy acknowledgement needs templates.busy"):
        parse_config(BASE + "busy: {threshold_minutes: 20}\n", source="brand.yaml")
    with pytest.raises(ConfigError, match=r"templates.busy.default.en is required"):
        parse_config(BASE + "  busy:\n    x:\n      en: '{{ expected_wait }} {{ reference }}'\n", source="brand.yaml")
    # a file that never heard of it stays valid and never sends one; a template alone turns it on with defaults
    assert parse_config(BASE).busy_ack is None
    on = parse_config(BASE + "  busy:\n    default:\n      en: '{{ expected_wait }} {{ reference }}'\n")
    assert on.busy_ack == BusyAck()
    off = parse_config(BASE + "  busy:\n    default:\n      en: '{{ reference }}'\nbusy: {enabled: false}\n")
    assert off.busy_ack is None


def test_the_sample_busy_acknowledgement_on_x_fits_and_keeps_the_reference_and_link():
    sample = load_config(SAMPLE)
    assert sample.busy_ack == BusyAck()
    url = "https://help.example.test/s/R7Q2K0000-abcdefghijklmnop"
    for wait in ("about 30–60 minutes", "about 1½–3½ hours", "about 60–120 minutes"):
        text = compose(sample.template("busy", "x", "en"), channel="x", name="Maximilian Featherstonehaugh",
                       reference="R7Q2K0000", status_url=url, now=MONDAY_1030, back_at=None,
                       tz=sample.brand.timezone, desk="complaints", expected_wait=wait,
                       dm_invite=sample.templates["dm_invite"]["default"]["en"])
        assert f"we expect to reply in {wait}" in text and "R7Q2K0000" in text and url in text
        assert x_length(text) <= 280 and "{" not in text and "  " not in text
    text = compose(sample.template("busy", "email", "en"), channel="email", name="Sam", reference="R7Q2K0000",
                   status_url=url, now=MONDAY_1030, back_at=None, tz=sample.brand.timezone, desk="complaints",
                   expected_wait="about 30–60 minutes")
    assert "we expect to reply in about 30–60 minutes" in text and url in text and "offline" not in text


# ------------------------------------------------------------------------------------------------ processing
COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful"


def tweet(external_id: str, text: str = COMPLAINT, *, at, author: str = "555", reply_to: str = "") -> Mention:
    return Mention(channel="x", external_id=external_id, conversation_id=external_id, author_id=author, text=text,
                   created_at=at, author_handle=f"user{author}", author_name=f"User {author}", reply_to=reply_to)


def outbox_of(mem) -> list[dict]:
    return to_customers(mem)


def busy_desk(mem, clock, *, waiting: int, answers: int, desk: str = "complaints") -> None:
    """``waiting`` complaints already in the desk's queue (from other customers) and ``answers`` first answers
    spread over the last two hours."""
    for n in range(waiting):
        process_mention(mem, tweet(f"90{n}", at=clock.now(), author=f"70{n}"))
    seeded = to_customers(mem)
    mem.sandbox.items.clear()
    # no answers recorded yet: no estimate, so no busy acknowledgement (out of hours, the usual one)
    assert [m["kind"] for m in seeded] == ([] if mem.calendar.is_open(desk, clock.now()) else ["ack"] * waiting)
    for n in range(answers):
        mem.answers.record(desk, clock.now() - timedelta(minutes=5 + 10 * n))


@pytest.fixture
def open_desk(mem, clock):
    clock.set(MONDAY_1030)
    return mem


def test_a_long_queue_in_hours_gets_one_busy_acknowledgement_with_a_range(open_desk, clock):
    mem = open_desk
    busy_desk(mem, clock, waiting=2, answers=10)  # 10 answers since 08:00: 4 an hour; 3 waiting with the new one
    outcome = process_mention(mem, tweet("1", at=clock.now()))
    [ack] = outbox_of(mem)
    assert ack["kind"] == "busy" and ack["idempotency_key"] == f"ack#{outcome.ticket_id}"
    assert "we expect to reply in about 30–60 minutes" in ack["text"]
    # a public X reply carries no URL (links.no_url_in_public): the reference, and how to follow it
    assert outcome.ticket_id in ack["text"] and "http" not in ack["text"] and "status page" in ack["text"]
    assert ack["expires_at"] is None
    ticket = mem.tickets.get(outcome.ticket_id)
    assert ticket.acked and [e.kind for e in ticket.timeline] == ["received", "queued", "ack_queued"]
    assert mem.acks.is_queued(ticket.ack_key)


def test_a_short_queue_gets_nothing(open_desk, clock):
    busy_desk(open_desk, clock, waiting=1, answers=10)  # 2 waiting at 4 an hour: 30 minutes, not above it
    outcome = process_mention(open_desk, tweet("1", at=clock.now()))
    assert outbox_of(open_desk) == [] and not open_desk.tickets.get(outcome.ticket_id).acked


def test_too_few_recent_answers_give_no_estimate_and_nothing_is_sent(open_desk, clock):
    busy_desk(open_desk, clock, waiting=40, answers=3)
    open_desk.answers.record("complaints", clock.now() - timedelta(hours=3))  # before the window: not counted
    open_desk.answers.record("journeys", clock.now())  # another desk's answers: not counted
    process_mention(open_desk, tweet("1", at=clock.now()))
    assert outbox_of(open_desk) == []


def test_the_customer_writing_again_still_has_one_acknowledgement(open_desk, clock):
    busy_desk(open_desk, clock, waiting=2, answers=10)
    first = process_mention(open_desk, tweet("1", at=clock.now()))
    clock.advance(minutes=5)
    again = process_mention(open_desk, tweet("2", "@MeridianRail hello?? still waiting", at=clock.now()))
    chase = process_mention(open_desk, tweet("3", "@MeridianRail anyone?", at=clock.now(), reply_to="1"))
    assert first.ticket_id == again.ticket_id == chase.ticket_id
    assert [m["kind"] for m in outbox_of(open_desk)] == ["busy"]


@pytest.mark.parametrize("text", ["@MeridianRail huge thanks to the lovely conductor, brilliant!",
                                  "@MeridianRail win a free iPhone giveaway, follow and retweet"])
def test_praise_and_spam_get_no_busy_acknowledgement(open_desk, clock, text):
    busy_desk(open_desk, clock, waiting=5, answers=10)
    outcome = process_mention(open_desk, tweet("1", text, at=clock.now()))
    assert open_desk.tickets.get(outcome.ticket_id).intent in ("praise", "spam")
    assert outbox_of(open_desk) == []


def test_an_old_message_gets_no_busy_acknowledgement(open_desk, clock):
    busy_desk(open_desk, clock, waiting=5, answers=10)
    process_mention(open_desk, tweet("1", at=clock.now() - timedelta(hours=13)))
    assert outbox_of(open_desk) == []


def test_a_wait_past_closing_is_left_to_the_closing_time_acknowledgement(mem, clock):
    clock.set(utc(2026, 11, 30, 19, 30))  # Monday 19:30: customer service closes at 20:00
    busy_desk(mem, clock, waiting=2, answers=10)  # 45 minutes, said as 30-60: runs past 20:00
    process_mention(mem, tweet("1", at=clock.now()))
    assert outbox_of(mem) == []


def test_switched_off_it_sends_nothing(open_desk, clock):
    open_desk.config = open_desk.config.model_copy(update={"busy": BusyAck(enabled=False)})
    busy_desk(open_desk, clock, waiting=5, answers=10)
    process_mention(open_desk, tweet("1", at=clock.now()))
    assert outbox_of(open_desk) == []


def test_out_of_hours_the_acknowledgement_is_still_the_out_of_hours_one(mem, clock):
    busy_desk(mem, clock, waiting=5, answers=10)  # Sunday 03:00: closed, answers or not
    process_mention(mem, tweet("1", at=clock.now()))
    assert [m["kind"] for m in outbox_of(mem)] == ["ack"]


def test_a_redelivery_after_the_busy_acknowledgement_sends_no_second_one(open_desk, clock):
    from chalicelib.usecases.process import process_envelope

    busy_desk(open_desk, clock, waiting=2, answers=10)
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    process_envelope(open_desk, env)
    open_desk.answers.record("complaints", clock.now())  # the estimate moves on; the ledger still says once
    # the envelope that stored it, delivered again: every step again, none of them twice
    assert process_envelope(open_desk, env, attempt=2)[0].result == "created"
    assert [m["kind"] for m in outbox_of(open_desk)] == ["busy"]


def test_the_status_page_tells_the_customer_about_the_busy_acknowledgement(open_desk, clock):
    busy_desk(open_desk, clock, waiting=2, answers=10)
    outcome = process_mention(open_desk, tweet("1", at=clock.now()))
    run_memory_pipeline(open_desk)
    [sent] = open_desk.sandbox.recent()
    assert "about 30–60 minutes" in sent["text"]
    page = view(open_desk, open_desk.tickets.get(outcome.ticket_id), clock.now())
    assert page["timeline"][-1]["kind"] == "busy"
    # a public X reply carries no link (ADR 0013): the page says what the message carried
    assert page["timeline"][-1]["text"] == ("We let you know the team was busy and how long replies were taking, "
                                           "with your reference")
