"""Stage local only: drive the local stack for a demo or a test — run a schedule now, move the app's clock forward —
so "what happens at closing time" takes seconds instead of waiting for the real schedule. Everywhere else these
answer NotFound, as if they did not exist."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.services import Services
from chalicelib.usecases.errors import Invalid, NotFound

#: At most a year forward per call (a reasonable demo; the clock never goes back).
MAX_ADVANCE_MINUTES = 366 * 24 * 60


class ScheduleRun(TypedDict):
    """A schedule run on demand: its name, when (the app's clock, ISO 8601), and what it answered."""

    schedule: str
    at: str
    result: object


class ClockMoved(TypedDict):
    """The app's clock before and after a move (ISO 8601)."""

    was: str
    now: str


def _local_only(svc: Services) -> None:
    if svc.settings.stage != "local":
        raise NotFound("this exists only in stage local")


def schedules() -> dict[str, Callable[[Services], object]]:
    """The scheduled use cases by their schedule's name in app.py."""
    from chalicelib.usecases.closing_time import closing_time
    from chalicelib.usecases.listening import poll_listening
    from chalicelib.usecases.poll_bluesky import poll_notifications as poll_bluesky
    from chalicelib.usecases.poll_mastodon import poll_mentions as poll_mastodon
    from chalicelib.usecases.poll_threads import poll_mentions as poll_threads
    from chalicelib.usecases.poll_x import poll_mentions
    from chalicelib.usecases.sla_watch import sla_watch
    from chalicelib.usecases.team_feed import follow_rota
    from chalicelib.usecases.waiting import dispatch

    return {"closing_time": closing_time, "sla_watch": sla_watch, "poll_x": poll_mentions,
            "poll_bluesky": poll_bluesky, "poll_mastodon": poll_mastodon, "poll_threads": poll_threads,
            "poll_listening": poll_listening,
            "dispatch_outbox": dispatch,
            "follow_rota": lambda svc: follow_rota(svc).summary()}


def run_schedule(svc: Services, name: str) -> ScheduleRun:
    _local_only(svc)
    known = schedules()
    if name not in known:
        raise NotFound(f"no schedule {name}: one of {', '.join(sorted(known))}")
    return {"schedule": name, "at": svc.now().isoformat(), "result": known[name](svc)}


def advance_clock(svc: Services, data: JsonObject) -> ClockMoved:
    """``{"minutes": N}``: the app's clock jumps N minutes forward (whole minutes, 1 to a year)."""
    _local_only(svc)
    minutes = data.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_ADVANCE_MINUTES:
        raise Invalid(f"minutes must be a whole number from 1 to {MAX_ADVANCE_MINUTES}",
                      details={"minutes": "not a whole number in range"})
    before = svc.now()
    svc.clock.advance(minutes=minutes)
    return {"was": before.isoformat(), "now": svc.now().isoformat()}
