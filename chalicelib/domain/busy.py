"""The in-hours busy estimate: how long a new ticket will wait while its desk is open, and how to say it.

Pure arithmetic on two figures the stores give: the desk's backlog (tickets waiting, the new one included) and
the tickets its agents first answered in the recent window. The estimate is the backlog divided by the answers
per hour. It is only as good as that throughput, so it is never worded more precisely than it can be:

* with fewer than ``min_answers`` answers in the window there is no estimate at all;
* the wait is given as a range, from 0.75 × the estimate rounded **down** to 1.25 × the estimate rounded **up**,
  both to one granularity chosen by the estimate's size: 10 minutes under an hour, 30 minutes from one to three
  hours, whole hours from three hours to two days, whole days above; the two ends always differ;
* it reads "about 40–60 minutes", "about 60–90 minutes", "about 1½–3 hours", "about 3–5 hours", "about 2–4 days".

Answers are counted in whole UTC hours (``store.ports.AnswerCounts``), so the window starts on the hour
(:func:`window_start`) and the throughput is measured over the time actually covered, from that hour to now.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["WaitRange", "estimate_minutes", "expected_wait", "granularity", "hour_ceil", "hour_floor",
           "wait_range", "window_start"]

HOUR, DAY = 60, 24 * 60
LOWER_FACTOR, UPPER_FACTOR = 0.75, 1.25


def hour_floor(t: datetime) -> datetime:
    """The start of the UTC hour ``t`` falls in."""
    return t.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def hour_ceil(t: datetime) -> datetime:
    """The first UTC hour that starts at or after ``t``."""
    floor = hour_floor(t)
    return floor if floor == t else floor + timedelta(hours=1)


def window_start(now: datetime, window_minutes: int) -> datetime:
    """The start of the throughput window: ``window_minutes`` before ``now``, moved back to its hour, so that the
    hourly counts cover the whole window (and up to an hour more, which the throughput divides by)."""
    return hour_floor(now - timedelta(minutes=window_minutes))


def estimate_minutes(*, backlog: int, answers: int, span: timedelta, min_answers: int) -> float | None:
    """Minutes until the backlog is worked through at the recent pace; None when ``answers`` is under
    ``min_answers`` (or zero, or the span empty): too little data for an honest estimate."""
    hours = span.total_seconds() / 3600
    if answers < max(1, min_answers) or hours <= 0:
        return None
    return max(0, backlog) / (answers / hours) * 60


def granularity(estimate: float) -> int:
    """The step, in minutes, both ends of the range are rounded to."""
    if estimate < HOUR:
        return 10
    if estimate < 3 * HOUR:
        return 30
    if estimate < 2 * DAY:
        return HOUR
    return DAY


@dataclass(frozen=True)
class WaitRange:
    lower: int  # minutes, a multiple of ``step``
    upper: int  # minutes, a multiple of ``step``, above ``lower``
    step: int  # minutes
    estimate: float  # minutes

    @property
    def text(self) -> str:
        """'about 40–60 minutes', 'about 60–90 minutes', 'about 1½–3 hours', 'about 2–4 days'."""
        if self.step == DAY:
            return f"about {self.lower // DAY}–{self.upper // DAY} days"
        if self.upper <= 2 * HOUR:
            if self.lower == 0:
                return f"up to {self.upper} minutes"
            return f"about {self.lower}–{self.upper} minutes"
        return f"about {_hours(self.lower)}–{_hours(self.upper)} hours"


def _hours(minutes: int) -> str:
    whole, rest = divmod(minutes, HOUR)
    half = "½" if rest else ""  # a step of 30 or 60 minutes: the rest is 0 or 30
    return f"{whole or ''}{half}" if half else str(whole)


def wait_range(estimate: float) -> WaitRange:
    """The range an estimate (minutes) is told as: never more precise than its granularity, never one number."""
    step = granularity(estimate)
    lower = math.floor(LOWER_FACTOR * estimate / step) * step
    upper = math.ceil(UPPER_FACTOR * estimate / step) * step
    if upper <= lower:  # only for an estimate of zero
        upper = lower + step
    return WaitRange(lower=lower, upper=upper, step=step, estimate=estimate)


def expected_wait(*, backlog: int, answers: int, span: timedelta, min_answers: int,
                  threshold_minutes: int) -> WaitRange | None:
    """The range to tell a new ticket's customer, or None: no honest estimate, or a wait within the threshold
    (then nothing automated is sent)."""
    estimate = estimate_minutes(backlog=backlog, answers=answers, span=span, min_answers=min_answers)
    if estimate is None or estimate <= threshold_minutes:
        return None
    return wait_range(estimate)
