"""The calendar: which team is on shift, which desk is open, and when that changes.

A team's shifts are computed per *local date* in the team's own time zone:

* the weekly slots whose day is that date's weekday, unless the date is a public holiday for the team
  (then none), and unless dated overrides exist for that date (then the overrides replace the weekly
  slots: ``closed`` gives no shift, ``start``/``end`` give exactly those shifts);
* slot times are wall-clock times in the team's zone, so a 07:00 slot starts at 07:00 local on both
  sides of a DST change; an ``end`` at or before ``start`` runs into the next day. A wall-clock time
  that does not exist (skipped by a spring-forward change) resolves as the same clock reading before
  the change; an ambiguous one (repeated by an autumn change) resolves to its first occurrence;
* a shift belongs to the date on which it *starts*: an overnight shift that started the evening before
  a holiday or a closed override runs to its end.

Concrete shifts are UTC intervals ``[start, end)``. A desk is open when any covering team is on shift;
its open periods are the union of its teams' shifts (touching shifts join up). Shifts are memoized per
(team, local date), so repeated questions are cheap.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.config import DAYS, MINUTES_PER_DAY, BrandConfig, Override

__all__ = ["Calendar", "Interval", "HORIZON_DAYS"]

UTC = timezone.utc
#: How far ahead the calendar looks for an opening before it answers "never".
HORIZON_DAYS = 400


@dataclass(frozen=True, order=True)
class Interval:
    """A shift or an open period, ``[start, end)`` in aware UTC datetimes."""

    start: datetime
    end: datetime
    team: str = ""

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.end

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60.0


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
        raise ValueError("the calendar needs timezone-aware datetimes")
    return t.astimezone(UTC)


def _wall_to_utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Wall-clock ``minutes`` after local midnight of ``day`` in ``zone`` → UTC.

    ``minutes`` may be >= 1440 (next day). Nonexistent times use the pre-transition offset, ambiguous
    times their first occurrence (``fold=0``).
    """
    extra_days, minute_of_day = divmod(minutes, MINUTES_PER_DAY)
    local_day = day + timedelta(days=extra_days)
    wall = datetime.combine(local_day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)
    return wall.astimezone(UTC)


class Calendar:
    """Answers rota questions for one configuration.

    ``extra_overrides`` adds dated overrides per team id (e.g. one-off closures kept outside the
    configuration file); for a given date they replace the file's overrides of that date.
    """

    def __init__(
        self,
        config: BrandConfig,
        extra_overrides: Mapping[str, Sequence[Override]] | None = None,
        horizon_days: int = HORIZON_DAYS,
    ):
        self.config = config
        self.horizon = timedelta(days=horizon_days)
        self._zones: dict[str, ZoneInfo] = {tid: ZoneInfo(team.timezone) for tid, team in config.teams.items()}
        self._holidays = {tid: team.holidays.build() for tid, team in config.teams.items() if team.holidays}
        self._overrides: dict[str, dict[date, list[Override]]] = {}
        for tid, team in config.teams.items():
            by_date: dict[date, list[Override]] = {}
            for ov in team.overrides:
                by_date.setdefault(ov.date, []).append(ov)
            for ov_date, extra in _group(extra_overrides.get(tid, ()) if extra_overrides else ()).items():
                by_date[ov_date] = extra
            self._overrides[tid] = by_date
        self._slots_by_weekday: dict[str, list[list[tuple[int, int]]]] = {}
        for tid, team in config.teams.items():
            per_day: list[list[tuple[int, int]]] = [[] for _ in DAYS]
            for slot in team.slots:
                for day in slot.days:
                    per_day[DAYS.index(day)].append((slot.start, slot.start + slot.length))
            for spans in per_day:
                spans.sort()
            self._slots_by_weekday[tid] = per_day
        self._cache: dict[tuple[str, date], tuple[Interval, ...]] = {}

    # -- shifts of one team ---------------------------------------------------------------------

    def holiday(self, team_id: str, day: date) -> str | None:
        """The name of the public holiday on local ``day`` for the team, if any."""
        calendar = self._holidays.get(team_id)
        if calendar is None:
            return None
        return calendar.get(day)

    def shifts_on(self, team_id: str, day: date) -> tuple[Interval, ...]:
        """The team's shifts that start on its local date ``day`` (memoized)."""
        key = (team_id, day)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        zone = self._zones[team_id]
        overrides = self._overrides[team_id].get(day)
        if overrides is not None:
            spans = sorted(ov.span for ov in overrides if ov.span is not None)
        elif self.holiday(team_id, day):
            spans = []
        else:
            spans = self._slots_by_weekday[team_id][day.weekday()]
        shifts = []
        for start, end in spans:
            s, e = _wall_to_utc(day, start, zone), _wall_to_utc(day, end, zone)
            if e > s:  # a slot falling entirely inside a skipped DST hour has no length
                shifts.append(Interval(s, e, team_id))
        result = tuple(shifts)
        self._cache[key] = result
        return result

    def _local_date(self, team_id: str, t: datetime) -> date:
        return t.astimezone(self._zones[team_id]).date()

    def team_shifts(self, team_id: str, start: datetime, until: datetime | None = None) -> Iterator[Interval]:
        """The team's shifts that end after ``start``, in order of start (merged when touching)."""
        start = _utc(start)
        until = _utc(until) if until is not None else start + self.horizon
        day = self._local_date(team_id, start) - timedelta(days=1)
        last_day = self._local_date(team_id, until)
        raw = self._raw_team_shifts(team_id, day, last_day)
        for interval in _coalesce(raw):
            if interval.end <= start:
                continue
            if interval.start >= until:
                return
            yield interval

    def _raw_team_shifts(self, team_id: str, day: date, last_day: date) -> Iterator[Interval]:
        while day <= last_day:
            yield from self.shifts_on(team_id, day)
            day += timedelta(days=1)

    def on_shift(self, team_id: str, t: datetime) -> bool:
        self._check_team(team_id)
        t = _utc(t)
        day = self._local_date(team_id, t)
        for d in (day - timedelta(days=1), day):
            for shift in self.shifts_on(team_id, d):
                if shift.contains(t):
                    return True
        return False

    def shift_end(self, team_id: str, t: datetime) -> datetime | None:
        """When the team's current shift ends (touching shifts count as one); None if off shift."""
        self._check_team(team_id)
        t = _utc(t)
        if not self.on_shift(team_id, t):
            return None
        for interval in self.team_shifts(team_id, t):
            return interval.end if interval.contains(t) else None
        return None

    def next_shift_start(self, team_id: str, t: datetime) -> datetime | None:
        """Start of the team's next shift strictly after ``t`` begins (None within the horizon)."""
        self._check_team(team_id)
        t = _utc(t)
        for interval in self.team_shifts(team_id, t):
            if interval.start > t:
                return interval.start
        return None

    def who_is_on_shift(self, t: datetime) -> list[str]:
        return [tid for tid in self.config.teams if self.on_shift(tid, t)]

    # -- desks ----------------------------------------------------------------------------------

    def desk_periods(self, desk_id: str, start: datetime, until: datetime | None = None) -> Iterator[Interval]:
        """The desk's open periods that end after ``start``, in order (union of its teams' shifts)."""
        teams = self._teams_for(desk_id)
        start = _utc(start)
        until = _utc(until) if until is not None else start + self.horizon
        streams = [self.team_shifts(tid, start, until) for tid in teams]
        for interval in _coalesce(heapq.merge(*streams, key=lambda i: i.start)):
            yield Interval(interval.start, interval.end)

    def is_open(self, desk_id: str, t: datetime) -> bool:
        return any(self.on_shift(tid, t) for tid in self._teams_for(desk_id))

    def teams_on_shift(self, desk_id: str, t: datetime) -> list[str]:
        """The teams covering ``desk_id`` that are on shift at ``t`` (the desk is open when there is one)."""
        return [tid for tid in self._teams_for(desk_id) if self.on_shift(tid, t)]

    def open_desks(self, t: datetime) -> list[str]:
        return [desk for desk in self.config.desks if self.is_open(desk, t)]

    def next_opening(self, desk_id: str, t: datetime) -> datetime | None:
        """``t`` (in UTC) if the desk is open, else when it next opens; None if not within the horizon."""
        t = _utc(t)
        if self.is_open(desk_id, t):
            return t
        for period in self.desk_periods(desk_id, t):
            return max(period.start, t)
        return None

    def next_closing(self, desk_id: str, t: datetime) -> datetime | None:
        """When the desk's current open period ends; None if it is closed now, or if it stays open
        beyond the horizon (an always-open desk)."""
        t = _utc(t)
        if not self.is_open(desk_id, t):
            return None
        for period in self.desk_periods(desk_id, t):
            if period.contains(t) and period.end < t + self.horizon:
                return period.end
            return None
        return None

    def open_minutes_between(self, desk_id: str, start: datetime, end: datetime) -> float:
        """Minutes in ``[start, end)`` during which the desk is open."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        total = 0.0
        for period in self.desk_periods(desk_id, start, end):
            s, e = max(period.start, start), min(period.end, end)
            if e > s:
                total += (e - s).total_seconds() / 60.0
        return total

    def add_open_minutes(self, desk_id: str, start: datetime, minutes: float) -> datetime | None:
        """The instant at which ``minutes`` of open time have passed since ``start`` (None if the desk
        does not accumulate them within the horizon)."""
        start = _utc(start)
        remaining = timedelta(minutes=minutes)
        if remaining <= timedelta(0):
            return start
        for period in self.desk_periods(desk_id, start):
            s = max(period.start, start)
            available = period.end - s
            if available >= remaining:
                return s + remaining
            remaining -= available
        return None

    # -- overview -------------------------------------------------------------------------------

    def rota_view(self, t: datetime) -> dict[str, Any]:
        """Who is on now and next, per desk and per team; JSON-serialisable (ISO 8601 strings)."""
        t = _utc(t)
        desks = {}
        for desk_id, desk in self.config.desks.items():
            teams_now = self.teams_on_shift(desk_id, t)
            is_open = bool(teams_now)
            closes_at = self.next_closing(desk_id, t) if is_open else None
            if is_open:
                nxt = None
                if closes_at is not None:
                    nxt = self.next_opening(desk_id, closes_at)
            else:
                nxt = self.next_opening(desk_id, t)
            next_teams = [tid for tid in desk.covered_by if nxt is not None and self.on_shift(tid, nxt)]
            desks[desk_id] = {
                "open": is_open,
                "queue": self.config.queue_name(desk_id),
                "teams_on_shift": teams_now,
                "closes_at": _iso(closes_at),
                "next_opening": _iso(nxt),
                "next_teams": next_teams,
                "next_team": next_teams[0] if next_teams else None,
            }
        teams = {}
        for tid, team in self.config.teams.items():
            on = self.on_shift(tid, t)
            local_day = self._local_date(tid, t)
            teams[tid] = {
                "on_shift": on,
                "timezone": team.timezone,
                "shift_end": _iso(self.shift_end(tid, t)) if on else None,
                "next_shift_start": _iso(self.next_shift_start(tid, t)),
                "holiday_today": self.holiday(tid, local_day),
                "desks": self.config.desks_covered_by(tid),
            }
        return {"at": _iso(t), "desks": desks, "teams": teams}

    # -- internals ------------------------------------------------------------------------------

    def _teams_for(self, desk_id: str) -> list[str]:
        try:
            return self.config.desks[desk_id].covered_by
        except KeyError:
            raise KeyError(f"unknown desk {desk_id!r}") from None

    def _check_team(self, team_id: str) -> None:
        if team_id not in self.config.teams:
            raise KeyError(f"unknown team {team_id!r}")


def _group(overrides: Iterable[Override]) -> dict[date, list[Override]]:
    grouped: dict[date, list[Override]] = {}
    for ov in overrides:
        grouped.setdefault(ov.date, []).append(ov)
    return grouped


def _coalesce(intervals: Iterable[Interval]) -> Iterator[Interval]:
    """Join overlapping or touching intervals of a stream sorted by start."""
    current: Interval | None = None
    for interval in intervals:
        if current is None:
            current = interval
        elif interval.start <= current.end:
            if interval.end > current.end:
                current = Interval(current.start, interval.end, current.team)
        else:
            yield current
            current = interval
    if current is not None:
        yield current


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t is not None else None
