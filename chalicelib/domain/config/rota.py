"""The ``teams`` and ``desks`` sections of the brand file: teams with their time zone, weekly slots, public
holidays and dated overrides (the rota), and the desks they cover, each with its queue.

Slots of one team must not overlap: :class:`Team` refuses overlapping slots, and ``cross_check`` reports the
overlaps among the slots that are valid on their own when the team has other errors too.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain.config.base import _check_timezone, _Model, _problem

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: What an acknowledgement may never ask a customer to send, even by direct message: the desk's reference is enough
#: to find the case, and personal data is asked for (if ever) by an agent in private.
_PERSONAL_DATA_WORDS = re.compile(
    r"\b(?:e-?mail|phone|mobile number|address|post ?code|zip|card|account number|sort code|iban|bank|password|pin|"
    r"date of birth|birthday|passport|licen[cs]e number|social security|ssn|national insurance)\b",
    re.IGNORECASE,
)
QUEUE_PREFIX = "responder-desk-"
_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def _parse_hhmm(value: Any, *, allow_24: bool) -> int:
    """``"HH:MM"`` → minutes after midnight (``24:00`` → 1440 when allowed)."""
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    if not isinstance(value, str):
        raise _problem(f"malformed time {value!r}: expected \"HH:MM\"")
    match = _TIME_RE.match(value.strip())
    if not match:
        raise _problem(f"malformed time {value!r}: expected \"HH:MM\" (00:00 to 23:59)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if total > MINUTES_PER_DAY or (total == MINUTES_PER_DAY and not allow_24):
        end = "" if allow_24 else " (or 24:00 as an end)"
        raise _problem(f"malformed time {value!r}: hours must be 00 to 23{end}")
    return total


def _span(start: int, end: int) -> int:
    """Length in minutes of a shift from ``start`` to ``end`` (``end <= start`` runs past midnight)."""
    return end - start if end > start else end + MINUTES_PER_DAY - start


def format_minutes(minutes: int) -> str:
    """Minutes after midnight → ``"HH:MM"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------------------------------
# schema: teams and rota
# --------------------------------------------------------------------------------------------------


class Slot(_Model):
    """A weekly shift: on each of ``days``, from ``start`` to ``end`` (wall-clock, team's zone).

    ``end <= start`` means the shift runs overnight into the next day; ``end: "24:00"`` means midnight.
    """

    days: list[Day] = Field(min_length=1)
    start: int  # minutes after midnight
    end: int  # minutes after midnight; <= start means next day

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            value = [v.strip().lower()[:3] if isinstance(v, str) else v for v in value]
            if len(set(value)) != len(value):
                raise _problem("a day is listed twice")
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> int:
        return _parse_hhmm(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> int:
        return _parse_hhmm(value, allow_24=True)

    @model_validator(mode="after")
    def _length(self) -> Slot:
        if self.start == self.end:
            raise _problem(
                f"zero-length slot {format_minutes(self.start)}-{format_minutes(self.end)} "
                "(use 00:00-24:00 for a whole day)"
            )
        return self

    @property
    def overnight(self) -> bool:
        """True when the slot ends after midnight (an end of exactly midnight is not overnight)."""
        return self.end < self.start and self.end != 0

    @property
    def length(self) -> int:
        return _span(self.start, self.end)

    def label(self, day: str) -> str:
        end = "24:00" if self.end == MINUTES_PER_DAY else format_minutes(self.end)
        return f"{day} {format_minutes(self.start)}-{end}"


class Override(_Model):
    """A dated exception replacing the weekly slots that *start* on ``date``.

    ``{date, closed: true}``: no shift starts that day. ``{date, start, end}``: this shift instead of the
    weekly ones (several entries for one date add up). An override also applies on a public holiday.
    """

    date: date
    closed: bool = False
    start: int | None = None
    end: int | None = None
    note: str = ""

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> int | None:
        return None if value is None else _parse_hhmm(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> int | None:
        return None if value is None else _parse_hhmm(value, allow_24=True)

    @model_validator(mode="after")
    def _shape(self) -> Override:
        if self.closed:
            if self.start is not None or self.end is not None:
                raise _problem("an override is either closed: true or has start and end, not both")
        else:
            if self.start is None or self.end is None:
                raise _problem("an override needs closed: true, or both start and end")
            if self.start == self.end:
                raise _problem(f"zero-length override {format_minutes(self.start)}-{format_minutes(self.end)}")
        return self

    @property
    def span(self) -> tuple[int, int] | None:
        """``(start, end)`` in minutes after midnight of ``date`` (``end`` passes 1440 when the shift runs
        overnight); None for a closed day."""
        if self.closed or self.start is None or self.end is None:
            return None
        return self.start, self.start + _span(self.start, self.end)

    @property
    def length(self) -> int:
        span = self.span
        return 0 if span is None else span[1] - span[0]


class HolidayCalendar(_Model):
    """Public holidays from the ``holidays`` package: the team is off unless an override says otherwise."""

    country: str
    subdiv: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidayCalendar:
        supported = holidays_lib.list_supported_countries()
        if self.country not in supported:
            raise _problem(f"unknown holiday country {self.country!r} (use an ISO 3166 code such as GB)")
        if self.subdiv is not None and self.subdiv not in supported[self.country]:
            known = ", ".join(supported[self.country]) or "none"
            raise _problem(f"unknown holiday subdivision {self.subdiv!r} for {self.country} (known: {known})")
        return self

    def build(self) -> holidays_lib.HolidayBase:
        return holidays_lib.country_holidays(self.country, subdiv=self.subdiv)


class Team(_Model):
    timezone: str
    description: str = ""
    slots: list[Slot] = Field(default_factory=list)
    holidays: HolidayCalendar | None = None
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _no_overlaps(self) -> Team:
        overlaps = _slot_overlaps(self.slots)
        if overlaps:
            index, message = overlaps[0]
            raise PydanticCustomError("overlap", message, {"slot": index})
        seen: dict[tuple[date, str], int] = {}
        for index, ov in enumerate(self.overrides):
            kind = "closed" if ov.closed else "open"
            other = "open" if ov.closed else "closed"
            if (ov.date, other) in seen:
                raise PydanticCustomError(
                    "override", f"override {ov.date} both closes the day and adds hours", {"override": index}
                )
            seen[(ov.date, kind)] = index
        timed: dict[date, list[tuple[int, int]]] = {}
        for index, ov in enumerate(self.overrides):
            if ov.span is None:
                continue
            start, end = ov.span
            for s, e in timed.get(ov.date, []):
                if start < e and s < end:
                    raise PydanticCustomError(
                        "override", f"overlapping overrides on {ov.date}", {"override": index}
                    )
            timed.setdefault(ov.date, []).append((start, end))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _slot_overlaps(slots: Sequence[Slot]) -> list[tuple[int, str]]:
    """(index of the later slot, message) for every pair of overlapping weekly slots."""
    spans: list[tuple[int, int, int, str]] = []  # (start, end, slot index, label), minutes since Monday 00:00
    for index, slot in enumerate(slots):
        for day in slot.days:
            start = DAYS.index(day) * MINUTES_PER_DAY + slot.start
            spans.append((start, start + slot.length, index, slot.label(day)))
    found: list[tuple[int, str]] = []
    for i, (s1, e1, idx1, label1) in enumerate(spans):
        for s2, e2, idx2, label2 in spans[i + 1 :]:
            if idx1 != idx2 and _week_overlap(s1, e1, s2, e2):
                first, second = (label1, label2) if idx1 < idx2 else (label2, label1)
                found.append((max(idx1, idx2), f"overlapping slots {first} and {second}"))
    return sorted(found)


def _week_overlap(s1: int, e1: int, s2: int, e2: int) -> bool:
    """Whether two spans of the week overlap, also across the week's end (Sunday night into Monday)."""
    return any(s1 < e2 + shift and s2 + shift < e1 for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK))


# --------------------------------------------------------------------------------------------------
# schema: desks
# --------------------------------------------------------------------------------------------------


class Desk(_Model):
    description: str = ""
    covered_by: list[str] = Field(default_factory=list)
    oncall: bool = False
    #: language → what the desk needs to pick a case up ("your booking reference and the train"), for the
    #: acknowledgement's invitation to continue in private (template variable ``ask_for``)
    ask_for: dict[str, str] = Field(default_factory=dict)

    @field_validator("covered_by", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("ask_for")
    @classmethod
    def _ask_for(cls, value: dict[str, str]) -> dict[str, str]:
        for language, text in value.items():
            if not re.match(r"^[a-z]{2,3}$", language):
                raise _problem(f"ask_for: language {language!r} must be an ISO 639 code such as en")
            if not text.strip():
                raise _problem(f"ask_for.{language} is empty")
            found = _PERSONAL_DATA_WORDS.search(text)
            if found:
                raise _problem(f"ask_for.{language} asks for personal data ({found.group(0)!r}): ask for the "
                               "reference the desk needs, never for contact, card, account or identity details")
        return value
