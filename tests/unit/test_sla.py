"""SLA due times: wall-clock targets, and business-hours targets that count only open minutes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.configfile import load_config
from chalicelib.domain.rota import Calendar
from chalicelib.domain.sla import first_response_due, is_breached, minutes_late, next_response_due, response_due

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "chalicelib" / "brand.yaml")


@pytest.fixture(scope="module")
def cal(config):
    return Calendar(config)


def test_urgent_is_wall_clock(config, cal):
    created = london(2026, 6, 10, 23, 0)  # desk closed
    due = first_response_due(created, "x", "urgent", "complaints", config, cal)
    assert due == created + timedelta(minutes=15)
    assert due.tzinfo == UTC
    assert next_response_due(created, "x", "urgent", "complaints", config, cal) == created + timedelta(minutes=30)


def test_business_hours_while_open(config, cal):
    created = london(2026, 6, 10, 12, 0)
    assert first_response_due(created, "x", "normal", "complaints", config, cal) == london(2026, 6, 10, 13, 0)
    assert first_response_due(created, "facebook", "normal", "complaints", config, cal) == london(2026, 6, 10, 13, 0)


def test_business_hours_start_at_next_opening(config, cal):
    created = london(2026, 6, 10, 23, 0)
    assert first_response_due(created, "x", "normal", "complaints", config, cal) == london(2026, 6, 11, 8, 0)


def test_business_hours_span_closing_time(config, cal):
    created = london(2026, 6, 12, 19, 50)  # Friday, 10 open minutes left; Saturday opens 09:00
    assert first_response_due(created, "x", "normal", "complaints", config, cal) == london(2026, 6, 13, 9, 50)


def test_business_hours_skip_bank_holidays(config, cal):
    created = london(2026, 12, 24, 15, 45)  # closes 16:00; 25/26 holidays; Sunday 27 opens 09:00
    assert first_response_due(created, "x", "normal", "complaints", config, cal) == london(2026, 12, 27, 9, 45)


def test_email_target_spans_days(config, cal):
    created = london(2026, 6, 10, 19, 30)  # 30 open minutes left today, the rest from 07:00 tomorrow
    assert first_response_due(created, "email", "normal", "complaints", config, cal) == london(2026, 6, 11, 7, 30)
    assert next_response_due(created, "email", "normal", "complaints", config, cal) == london(2026, 6, 11, 8, 30)


@pytest.mark.parametrize("priority", ["normal", "urgent"])
@pytest.mark.parametrize("created", [
    london(2026, 6, 10, 12, 0),    # Wednesday, open
    london(2026, 6, 10, 19, 45),   # Wednesday, just before closing
    london(2026, 6, 13, 3, 0),     # Saturday night, closed
    london(2026, 12, 24, 15, 50),  # Christmas Eve, just before the early close
])
def test_the_same_message_gets_the_same_first_response_due_on_every_channel(config, cal, priority, created):
    """An e-mail, a form and an X message written at the same instant, with the same priority, are due at the
    same time: no channel's customers wait longer for the same problem."""
    due = {channel: first_response_due(created, channel, priority, "complaints", config, cal)
           for channel in ("email", "form", "x")}
    assert due["email"] == due["form"] == due["x"], due
    channels = ("email", "form", "x", "facebook", "instagram", "messenger")
    assert len({first_response_due(created, c, priority, "complaints", config, cal) for c in channels}) == 1
    assert len({next_response_due(created, c, priority, "complaints", config, cal) for c in channels}) == 1


def test_business_hours_across_dst(config, cal):
    created = london(2026, 3, 28, 16, 50)  # Saturday; Sunday 29 March opens 09:00 BST
    assert first_response_due(created, "x", "normal", "journeys", config, cal) == london(2026, 3, 29, 9, 50)


def test_naive_created_at_is_refused(config, cal):
    with pytest.raises(ValueError):
        first_response_due(datetime(2026, 6, 10, 12), "x", "normal", "complaints", config, cal)


def test_is_breached_and_minutes_late():
    due = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    assert not is_breached(due, due)
    assert is_breached(due, due + timedelta(seconds=1))
    assert minutes_late(due, due + timedelta(minutes=90)) == 90
    assert minutes_late(due, due - timedelta(minutes=5)) == 0


@settings(max_examples=100, deadline=None)
@given(
    created=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)),
    channel=st.sampled_from(["x", "email", "facebook"]),
    desk=st.sampled_from(["complaints", "journeys", "press", "escalations"]),
)
def test_business_hours_due_counts_exactly_the_target(config, cal, created, channel, desk):
    due = first_response_due(created, channel, "normal", desk, config, cal)
    target = config.sla_target(channel, "normal").first_response
    assert due > created
    assert cal.open_minutes_between(desk, created, due) == pytest.approx(target, abs=1e-6)
    assert cal.is_open(desk, due - timedelta(seconds=1))


def test_efficient_for_long_targets(config, cal):
    import time

    started = time.perf_counter()
    for day in range(50):  # a full working day of open minutes on a desk open 8 hours on weekdays only
        response_due(london(2026, 1, 1, 3, 0) + timedelta(days=day), 480, True, "press", cal)
    assert time.perf_counter() - started < 1.0
