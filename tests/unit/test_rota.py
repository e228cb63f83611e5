"""The calendar: shifts across DST changes, overnight slots, public holidays, overrides, several teams."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.configfile import load_config, parse_config
from chalicelib.domain.config import Override
from chalicelib.domain.rota import Calendar
from chalicelib.domain.routing import route
from chalicelib.domain.triage import Triage

ROOT = Path(__file__).resolve().parents[2]
UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample():
    return load_config(ROOT / "chalicelib" / "brand.yaml")


@pytest.fixture(scope="module")
def cal(sample):
    return Calendar(sample)


def config_with_teams(teams_yaml: str, desks_yaml: str) -> str:
    return (
        "version: 1\nbrand: {name: T, timezone: Europe/London}\n"
        f"teams:\n{teams_yaml}"
        f"desks:\n{desks_yaml}"
        "routing: {default_desk: main, escalation_desk: main}\n"
        "sla:\n  default:\n    urgent: {first_response: 15, next_response: 30}\n"
        "    normal: {first_response: 60, next_response: 60, business_hours: true}\n"
        "templates:\n  ack:\n    default:\n      en: 'ref {{ reference }}'\n"
    )


NIGHTS = config_with_teams(
    """\
  nights:
    timezone: Europe/London
    slots:
      - {days: [fri], start: "22:00", end: "06:00"}
      - {days: [thu], start: "22:00", end: "06:00"}
      - {days: [sat], start: "22:00", end: "06:00"}
    holidays: {country: GB, subdiv: ENG}
""",
    "  main:\n    covered_by: [nights]\n",
)


@pytest.fixture(scope="module")
def nights():
    return Calendar(parse_config(NIGHTS))


# -- the sample rota on ordinary days ---------------------------------------------------------------


def test_weekday_hours(cal):
    assert not cal.is_open("complaints", london(2026, 6, 10, 6, 59))
    assert cal.is_open("complaints", london(2026, 6, 10, 7, 0))
    assert cal.is_open("complaints", london(2026, 6, 10, 19, 59))
    assert not cal.is_open("complaints", london(2026, 6, 10, 20, 0))


def test_weekend_hours(cal):
    assert not cal.is_open("journeys", london(2026, 6, 13, 8, 59))
    assert cal.is_open("journeys", london(2026, 6, 13, 9, 0))
    assert not cal.is_open("journeys", london(2026, 6, 14, 17, 0))


def test_press_weekdays_only(cal):
    assert cal.is_open("press", london(2026, 6, 12, 16, 59))
    assert cal.next_opening("press", london(2026, 6, 12, 17, 0)) == london(2026, 6, 15, 9, 0)


def test_results_are_utc(cal):
    t = london(2026, 6, 10, 21, 0)
    opening = cal.next_opening("complaints", t)
    assert opening.tzinfo == UTC and opening == utc(2026, 6, 11, 6, 0)


def test_next_opening_is_t_when_open(cal):
    t = london(2026, 6, 10, 12, 0)
    assert cal.next_opening("complaints", t) == t


def test_next_closing(cal):
    assert cal.next_closing("complaints", london(2026, 6, 10, 12, 0)) == london(2026, 6, 10, 20, 0)
    assert cal.next_closing("complaints", london(2026, 6, 10, 21, 0)) is None


def test_always_open_desk(cal):
    t = london(2026, 12, 25, 3, 0)
    assert cal.is_open("oncall", t)
    assert cal.next_opening("oncall", t) == t
    assert cal.next_closing("oncall", t) is None  # never closes within the horizon


def test_who_is_on_shift_and_shift_end(cal):
    t = london(2026, 6, 10, 8, 30)
    assert cal.who_is_on_shift(t) == ["customer_service", "oncall", "team_leads"]
    assert cal.on_shift("team_leads", t)
    assert cal.shift_end("customer_service", t) == london(2026, 6, 10, 20, 0)
    assert cal.shift_end("oncall", t) is not None
    assert cal.shift_end("comms", t) is None


def test_open_desks(cal):
    assert cal.open_desks(london(2026, 6, 10, 8, 30)) == ["complaints", "journeys", "oncall", "escalations"]
    assert cal.open_desks(london(2026, 6, 10, 23, 0)) == ["oncall"]


def test_unknown_desk_and_team(cal):
    with pytest.raises(KeyError):
        cal.is_open("nope", london(2026, 6, 10, 8, 30))
    with pytest.raises(KeyError):
        cal.on_shift("nope", london(2026, 6, 10, 8, 30))


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError):
        cal.is_open("complaints", datetime(2026, 6, 10, 8, 30))


# -- DST --------------------------------------------------------------------------------------------


def test_spring_forward_wall_clock(cal):
    # Sunday 29 March 2026: clocks go 01:00 GMT → 02:00 BST. The 09:00 slot starts at 09:00 BST = 08:00 UTC.
    assert not cal.is_open("journeys", utc(2026, 3, 29, 7, 59))
    assert cal.is_open("journeys", utc(2026, 3, 29, 8, 0))
    assert cal.next_opening("journeys", utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 29, 8, 0)
    assert cal.next_closing("journeys", utc(2026, 3, 29, 12, 0)) == utc(2026, 3, 29, 16, 0)
    # Monday: 07:00 BST = 06:00 UTC; the Saturday before: 09:00 GMT = 09:00 UTC.
    assert cal.next_opening("complaints", utc(2026, 3, 29, 17, 0)) == utc(2026, 3, 30, 6, 0)
    assert cal.next_opening("complaints", utc(2026, 3, 28, 0, 0)) == utc(2026, 3, 28, 9, 0)


def test_fall_back_wall_clock(cal):
    # Sunday 25 October 2026: clocks go 02:00 BST → 01:00 GMT. Saturday opens 09:00 BST = 08:00 UTC,
    # Sunday 09:00 GMT = 09:00 UTC.
    assert cal.next_opening("journeys", utc(2026, 10, 24, 0, 0)) == utc(2026, 10, 24, 8, 0)
    assert cal.next_opening("journeys", utc(2026, 10, 24, 17, 0)) == utc(2026, 10, 25, 9, 0)
    assert not cal.is_open("journeys", utc(2026, 10, 25, 8, 30))
    assert cal.is_open("journeys", utc(2026, 10, 25, 16, 59))


def test_open_minutes_on_dst_days(cal):
    # An 8-hour Sunday shift stays 8 hours on both change days.
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
        assert cal.open_minutes_between("journeys", start, start + timedelta(days=1)) == 8 * 60


def test_overnight_across_dst(nights):
    # Saturday 28 March 22:00 GMT → Sunday 06:00 BST: 7 hours.
    start = london(2026, 3, 28, 22, 0)
    assert nights.next_closing("main", start) == utc(2026, 3, 29, 5, 0)
    assert nights.open_minutes_between("main", start, start + timedelta(hours=12)) == 7 * 60
    # Saturday 24 October 22:00 BST → Sunday 06:00 GMT: 9 hours.
    start = london(2026, 10, 24, 22, 0)
    assert nights.next_closing("main", start) == utc(2026, 10, 25, 6, 0)
    assert nights.open_minutes_between("main", start, start + timedelta(hours=12)) == 9 * 60


# -- overnight slots --------------------------------------------------------------------------------


def test_overnight_covers_next_morning(nights):
    assert nights.is_open("main", london(2026, 6, 13, 2, 0))  # Saturday 02:00, from Friday 22:00
    assert not nights.is_open("main", london(2026, 6, 13, 6, 0))
    assert not nights.is_open("main", london(2026, 6, 11, 2, 0))  # Thursday 02:00: Wednesday has no slot
    assert nights.is_open("main", london(2026, 6, 12, 5, 59))  # Friday 05:59, from Thursday
    assert nights.next_opening("main", london(2026, 6, 13, 6, 0)) == london(2026, 6, 13, 22, 0)


def test_shift_end_of_overnight(nights):
    assert nights.shift_end("nights", london(2026, 6, 12, 23, 0)) == london(2026, 6, 13, 6, 0)


# -- public holidays --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [date(2026, 12, 25), date(2026, 12, 28), date(2026, 8, 31), date(2026, 4, 3), date(2026, 5, 4)],
)
def test_bank_holidays_closed(cal, day):
    assert day in holidays.country_holidays("GB", subdiv="ENG")
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    assert cal.open_minutes_between("complaints", start, start + timedelta(days=1)) == 0
    assert cal.is_open("oncall", start + timedelta(hours=12))  # the on-call team keeps no holidays


def test_christmas_week(cal):
    # Thu 24 Dec closes early (override 07:00-16:00); Fri 25 and Sat 26 are holidays; Sun 27 opens;
    # Mon 28 is the Boxing Day substitute.
    assert cal.next_closing("complaints", london(2026, 12, 24, 12, 0)) == london(2026, 12, 24, 16, 0)
    assert cal.next_opening("complaints", london(2026, 12, 24, 16, 30)) == london(2026, 12, 27, 9, 0)
    assert cal.next_opening("complaints", london(2026, 12, 27, 17, 0)) == london(2026, 12, 29, 7, 0)
    assert cal.next_opening("press", london(2026, 12, 24, 17, 0)) == london(2026, 12, 29, 9, 0)


def test_holiday_name(cal):
    assert cal.holiday("customer_service", date(2026, 12, 28)) == "Boxing Day (observed)"
    assert cal.holiday("oncall", date(2026, 12, 25)) is None


def test_overnight_slot_started_before_holiday_continues(nights):
    # Thursday 24 Dec 22:00 runs into Christmas Day; no slot starts on Friday 25 Dec (holiday).
    assert nights.is_open("main", london(2026, 12, 25, 2, 0))
    assert not nights.is_open("main", london(2026, 12, 25, 23, 0))
    # Saturday 26 Dec is a holiday too; the next start is Thursday 31 Dec 22:00.
    assert nights.next_opening("main", london(2026, 12, 25, 6, 0)) == london(2026, 12, 31, 22, 0)


# -- overrides --------------------------------------------------------------------------------------

OVERRIDES = config_with_teams(
    """\
  day:
    timezone: Europe/London
    slots:
      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
    holidays: {country: GB, subdiv: ENG}
    overrides:
      - {date: 2026-06-10, closed: true}
      - {date: 2026-06-13, start: "10:00", end: "12:00"}
      - {date: 2026-06-13, start: "14:00", end: "16:00"}
      - {date: 2026-08-31, start: "10:00", end: "14:00"}
      - {date: 2026-06-11, start: "21:00", end: "02:00"}
""",
    "  main:\n    covered_by: [day]\n",
)


@pytest.fixture(scope="module")
def overrides():
    return Calendar(parse_config(OVERRIDES))


def test_closed_override(overrides):
    assert not overrides.is_open("main", london(2026, 6, 10, 12, 0))
    assert overrides.next_opening("main", london(2026, 6, 10, 12, 0)) == london(2026, 6, 11, 21, 0)


def test_extra_cover_on_saturday(overrides):
    assert overrides.is_open("main", london(2026, 6, 13, 11, 0))
    assert not overrides.is_open("main", london(2026, 6, 13, 13, 0))
    assert overrides.next_opening("main", london(2026, 6, 13, 13, 0)) == london(2026, 6, 13, 14, 0)
    day = london(2026, 6, 13, 0, 0)
    assert overrides.open_minutes_between("main", day, day + timedelta(days=1)) == 240


def test_override_opens_a_bank_holiday(overrides):
    assert overrides.is_open("main", london(2026, 8, 31, 11, 0))
    assert overrides.next_closing("main", london(2026, 8, 31, 11, 0)) == london(2026, 8, 31, 14, 0)


def test_override_replaces_weekly_hours_overnight(overrides):
    assert not overrides.is_open("main", london(2026, 6, 11, 12, 0))
    assert overrides.is_open("main", london(2026, 6, 12, 1, 30))
    assert overrides.is_open("main", london(2026, 6, 12, 9, 30))  # Friday's own slot


def test_extra_overrides_from_outside_the_file():
    config = parse_config(OVERRIDES)
    extra = {"day": [Override(date=date(2026, 6, 15), closed=True)]}
    cal = Calendar(config, extra_overrides=extra)
    assert not cal.is_open("main", london(2026, 6, 15, 12, 0))
    assert cal.next_opening("main", london(2026, 6, 15, 12, 0)) == london(2026, 6, 16, 9, 0)


# -- several teams ----------------------------------------------------------------------------------

FOLLOW_THE_SUN = config_with_teams(
    """\
  uk:
    timezone: Europe/London
    slots:
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "17:00"}
  us:
    timezone: America/New_York
    slots:
      - {days: [mon, tue, wed, thu, fri], start: "12:00", end: "20:00"}
""",
    "  main:\n    covered_by: [uk, us]\n  uk_only:\n    covered_by: [uk]\n",
)


@pytest.fixture(scope="module")
def sun():
    return Calendar(parse_config(FOLLOW_THE_SUN))


def test_desk_open_while_any_team_is_on(sun):
    # 17:00 London = 12:00 New York in June: shifts touch, so the desk stays open until 20:00 NY.
    t = london(2026, 6, 10, 16, 0)
    assert sun.who_is_on_shift(t) == ["uk"]
    assert sun.next_closing("main", t) == datetime(2026, 6, 10, 20, 0, tzinfo=NEW_YORK)
    assert sun.next_closing("uk_only", t) == london(2026, 6, 10, 17, 0)
    assert sun.shift_end("uk", t) == london(2026, 6, 10, 17, 0)


def test_gap_when_zones_change_on_different_days(sun):
    # 2026-03-09 (Mon): New York is already on EDT, London still on GMT: 17:00 London = 13:00 NY,
    # so both teams overlap for an hour and the desk is open 08:00 GMT → 20:00 EDT.
    t = london(2026, 3, 9, 9, 0)
    assert sun.next_closing("main", t) == datetime(2026, 3, 9, 20, 0, tzinfo=NEW_YORK)
    day = london(2026, 3, 9, 0, 0)
    assert sun.open_minutes_between("main", day, day + timedelta(days=1)) == (24 - 8) * 60


def test_rota_view(sun, cal):
    view = sun.rota_view(london(2026, 6, 10, 16, 0))
    assert view["desks"]["main"]["open"] is True
    assert view["desks"]["main"]["teams_on_shift"] == ["uk"]
    assert view["desks"]["main"]["closes_at"] == "2026-06-11T00:00:00Z"
    assert view["desks"]["main"]["next_opening"] == "2026-06-11T07:00:00Z"
    assert view["desks"]["main"]["next_team"] == "uk"
    assert view["teams"]["us"]["next_shift_start"] == "2026-06-10T16:00:00Z"
    closed = cal.rota_view(london(2026, 12, 25, 12, 0))
    assert closed["desks"]["complaints"]["open"] is False
    assert closed["desks"]["complaints"]["next_opening"] == "2026-12-27T09:00:00Z"
    assert closed["desks"]["complaints"]["queue"] == "responder-desk-complaints"
    assert closed["teams"]["customer_service"]["holiday_today"] == "Christmas Day"
    json.dumps(closed)


def test_route_urgent_to_oncall_when_closed(sample, cal):
    def desk(priority, t):
        triaged = Triage(desk="complaints", priority=priority, intent="complaint", language="en")
        return route(triaged, calendar=cal, config=sample, now=t).desk

    night = london(2026, 6, 10, 23, 0)
    assert desk("urgent", night) == "oncall"
    assert desk("normal", night) == "complaints"
    assert desk("urgent", london(2026, 6, 10, 12, 0)) == "complaints"


# -- properties -------------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
DESKS = ["complaints", "journeys", "press", "escalations"]
BANK = holidays.country_holidays("GB", subdiv="ENG")


def oracle_customer_service(t: datetime) -> bool:
    """An independent reading of the sample rota for the customer-service team."""
    local = t.astimezone(LONDON)
    day = local.date()
    minutes = local.hour * 60 + local.minute
    if day == date(2026, 12, 24):
        return 7 * 60 <= minutes < 16 * 60
    if day == date(2026, 12, 31):
        return 7 * 60 <= minutes < 18 * 60
    if day in BANK:
        return False
    if local.weekday() < 5:
        return 7 * 60 <= minutes < 20 * 60
    return 9 * 60 <= minutes < 17 * 60


@settings(max_examples=300, deadline=None)
@given(t=instants)
def test_is_open_matches_an_independent_oracle(cal, t):
    assert cal.is_open("complaints", t) == oracle_customer_service(t)


@settings(max_examples=150, deadline=None)
@given(t=instants, desk=st.sampled_from(DESKS))
def test_next_opening_is_open_and_nothing_before_it(cal, t, desk):
    opening = cal.next_opening(desk, t)
    assert opening is not None and opening >= t
    assert cal.is_open(desk, opening)
    assert cal.open_minutes_between(desk, t, opening) == 0
    if opening > t:
        assert not cal.is_open(desk, opening - timedelta(seconds=1))


@settings(max_examples=150, deadline=None)
@given(t=instants, desk=st.sampled_from(DESKS))
def test_is_open_consistent_with_next_closing(cal, t, desk):
    closing = cal.next_closing(desk, t)
    assert cal.is_open(desk, t) == (closing is not None)
    if closing is not None:
        assert closing > t
        assert not cal.is_open(desk, closing)
        assert cal.is_open(desk, closing - timedelta(seconds=1))
        assert cal.open_minutes_between(desk, t, closing) == pytest.approx((closing - t).total_seconds() / 60)


@settings(max_examples=150, deadline=None)
@given(
    a=instants,
    gap1=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
    gap2=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
    desk=st.sampled_from(DESKS),
)
def test_open_minutes_additive(cal, a, gap1, gap2, desk):
    b, c = a + gap1, a + gap1 + gap2
    whole = cal.open_minutes_between(desk, a, c)
    assert whole == pytest.approx(cal.open_minutes_between(desk, a, b) + cal.open_minutes_between(desk, b, c))
    assert 0 <= whole <= (c - a).total_seconds() / 60 + 1e-9


@settings(max_examples=100, deadline=None)
@given(t=instants, minutes=st.floats(min_value=0, max_value=5000))
def test_add_open_minutes_inverts_open_minutes_between(cal, t, minutes):
    due = cal.add_open_minutes("complaints", t, minutes)
    assert due is not None and due >= t
    assert cal.open_minutes_between("complaints", t, due) == pytest.approx(minutes, abs=1e-3)


def test_memoized_and_fast(cal):
    import time

    t = london(2026, 6, 10, 23, 0)
    cal.next_opening("complaints", t)
    started = time.perf_counter()
    for _ in range(1000):
        cal.is_open("complaints", t)
        cal.next_opening("complaints", t)
    assert time.perf_counter() - started < 1.0
