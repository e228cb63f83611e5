"""The acknowledgement and the status page it links to word the same wait and the same opening the same way."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.ack import compose
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.wording import DATE_FROM_DAYS, opening, wait
from chalicelib.usecases.status import _expected_response

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # Sunday 03:00 GMT
LONDON = "Europe/London"
TEMPLATE = "We're offline, back {{ back_at }} (in {{ back_in }}). Ref {{ reference }}: {{ status_url }}"
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}


def ack(delta: timedelta, now: datetime = T0) -> str:
    """The acknowledgement a customer gets when the team is back ``delta`` from ``now``."""
    return compose(TEMPLATE, channel="x", name="", reference="R00000001", status_url="https://h.test/s/R00000001-x",
                   now=now, back_at=now + delta, tz=LONDON, desk="complaints")


def ack_wait(delta: timedelta) -> str:
    match = re.search(r"\(in (.+?)\)", ack(delta))
    assert match, ack(delta)
    return match.group(1)


def page_wait(delta: timedelta) -> str:
    """What the status page promises for a first response due ``delta`` from now (desk open)."""
    ticket = Ticket(ticket_id="R00000001", desk="complaints", priority="normal", intent="complaint", channel="x",
                    conversation_key="x#1", customer_id="C1", first_contact_at=T0, last_customer_at=T0,
                    first_response_due=T0 + delta)
    sentence = _expected_response(ticket, T0, True, "")
    assert sentence.startswith("Within "), sentence
    return sentence.removeprefix("Within ")


def minutes_said(phrase: str) -> int:
    """'about 7 hours' → 420; 'about an hour' → 60."""
    match = re.fullmatch(r"about (a|an|\d+) (minute|hour|day)s?", phrase)
    assert match, phrase
    count = 1 if match.group(1) in ("a", "an") else int(match.group(1))
    return count * UNIT_MINUTES[match.group(2)]


# ------------------------------------------------------------------------------------------------ waits
@pytest.mark.parametrize("delta, said", [
    (timedelta(hours=6, minutes=50), "about 7 hours"),
    (timedelta(hours=7, minutes=10), "about 8 hours"),  # was "7 hours" in the ack, "about 8 hours" on the page
    (timedelta(minutes=40), "about 40 minutes"),
    (timedelta(minutes=42), "about 45 minutes"),
    (timedelta(minutes=58), "about an hour"),
    (timedelta(hours=37), "about 37 hours"),  # was "2 days" in the ack, "about 37 hours" on the page
    (timedelta(days=3, hours=2), "about 4 days"),
])
def test_the_ack_and_the_page_promise_the_same_wait(delta, said):
    assert ack_wait(delta) == page_wait(delta) == wait(delta) == said


def test_a_wait_in_an_acknowledgement_reads_as_a_sentence():
    assert ack(timedelta(hours=6, minutes=50)).startswith(
        "We're offline, back at 09:50 today GMT (in about 7 hours). Ref R00000001")


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=20)))
def test_any_wait_is_worded_alike_and_never_shorter_than_it_is(delta):
    said = ack_wait(delta)
    assert said == page_wait(delta)
    assert minutes_said(said) * 60 >= delta.total_seconds()


def test_an_overdue_or_instant_wait_is_never_zero():
    assert wait(timedelta(0)) == wait(timedelta(seconds=-30)) == "about a minute"


# ------------------------------------------------------------------------------------------------ openings
@pytest.mark.parametrize("at, now, label, phrase", [
    (datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc), T0, "Sunday 09:00 GMT", "at 09:00 today GMT"),
    (datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc), T0, "Monday 07:00 GMT", "at 07:00 tomorrow GMT"),
    (datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc), T0, "Tuesday 07:00 GMT", "on Tuesday at 07:00 GMT"),
    (datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc), datetime(2026, 3, 27, 21, 0, tzinfo=timezone.utc),
     "Monday 07:00 BST", "on Monday at 07:00 BST"),  # across the spring change
    (datetime(2026, 12, 29, 7, 0, tzinfo=timezone.utc), datetime(2026, 12, 20, 3, 0, tzinfo=timezone.utc),
     "Tuesday 29 December 07:00 GMT", "on Tuesday 29 December at 07:00 GMT"),
])
def test_the_page_label_and_the_ack_phrase_name_the_same_moment(at, now, label, phrase):
    assert opening(at, now, LONDON) == label
    assert opening(at, now, LONDON, style="phrase") == phrase
    assert f"back {phrase} " in ack(at - now, now)


def test_the_date_is_named_from_six_days_ahead():
    assert DATE_FROM_DAYS == 6
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)  # six days after Sunday 29 November
    assert opening(saturday, T0, LONDON) == "Saturday 5 December 09:00 GMT"
    assert opening(saturday - timedelta(days=1), T0, LONDON) == "Friday 09:00 GMT"


@given(now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(timezone.utc)),
       ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=14)))
def test_label_and_phrase_differ_only_in_grammar(now, ahead):
    at = now + ahead
    label, phrase = opening(at, now, LONDON), opening(at, now, LONDON, style="phrase")
    day, (clock, zone) = label.rsplit(" ", 2)[0], label.split()[-2:]
    days = (at.astimezone(ZoneInfo(LONDON)).date() - now.astimezone(ZoneInfo(LONDON)).date()).days
    if days == 0:
        assert phrase == f"at {clock} today {zone}"
    elif days == 1:
        assert phrase == f"at {clock} tomorrow {zone}"
    else:
        assert phrase == f"on {day} at {clock} {zone}"


LONDON_NIGHT = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)  # a Sunday


@pytest.mark.parametrize(("ahead", "fr", "cy"), [
    (timedelta(hours=6), "à 09:00 aujourd'hui (GMT)", "am 09:00 heddiw (GMT)"),
    (timedelta(days=1, hours=4), "à 07:00 demain (GMT)", "am 07:00 yfory (GMT)"),
    (timedelta(days=3), "mercredi à 03:00 (GMT)", "ddydd Mercher am 03:00 (GMT)"),
    (timedelta(days=9), "mardi 15 décembre à 03:00 (GMT)", "ddydd Mawrth 15 Rhagfyr am 03:00 (GMT)"),
])
def test_an_acknowledgement_in_french_or_welsh_words_the_time_in_its_language(ahead, fr, cy):
    at = LONDON_NIGHT + ahead
    assert opening(at, LONDON_NIGHT, "Europe/London", style="phrase", language="fr") == fr
    assert opening(at, LONDON_NIGHT, "Europe/London", style="phrase", language="cy") == cy
    assert opening(at, LONDON_NIGHT, "Europe/London", style="phrase", language="es") == \
        opening(at, LONDON_NIGHT, "Europe/London", style="phrase")  # no words of its own: English


def test_a_french_acknowledgement_says_when_the_team_is_back_in_french(mem, clock):
    from chalicelib.usecases.process import process_mention
    from tests.unit.test_usecases import outbox_of, tweet

    clock.set(LONDON_NIGHT)
    from dataclasses import replace

    written = tweet("910001", "@MeridianRail bonjour, mon train est annulé, que dois-je faire ?", at=clock.now(),
                    author="91001")
    process_mention(mem, replace(written, language="fr"))
    [ack] = outbox_of(mem)
    assert "Bonjour" in ack["text"] and "revient à 09:00 aujourd'hui (GMT)" in ack["text"], ack["text"]
    assert " today " not in ack["text"] and "at 09:00" not in ack["text"]
