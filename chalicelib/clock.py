"""The app's clock. ``RESPONDER_CLOCK`` (ISO-8601) starts it at that instant and lets it run on from there."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"RESPONDER_CLOCK must carry a UTC offset, e.g. 2026-11-29T03:00:00+00:00 (got {text!r})")
    return value.astimezone(timezone.utc)


class Clock:
    """``now()`` returns an aware UTC datetime."""

    def __init__(self, start: datetime | None = None, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._start = start
        self._origin = monotonic()
        self._offset = timedelta(0)

    @classmethod
    def from_setting(cls, value: str | None) -> Clock:
        return cls(parse_instant(value) if value else None)

    def now(self) -> datetime:
        if self._start is None:
            return datetime.now(timezone.utc) + self._offset
        return self._start + self._offset + timedelta(seconds=self._monotonic() - self._origin)

    def advance(self, **delta: float) -> None:
        """Move the clock forward (stage local's ``POST /local/clock``: a demo of closing time takes seconds)."""
        self._offset += timedelta(**delta)


class FixedClock(Clock):
    """A clock that only moves when told to (tests, replays)."""

    def __init__(self, at: datetime):
        super().__init__(at)
        self._at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)
