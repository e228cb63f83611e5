"""What the X, Bluesky and Mastodon pollers share: the one poll loop (``sweep``: fetch a page, read its items,
queue its mentions, move the cursor, stop at the run's page budget or the platform's rate-limit budget), the
rate-limit pause, the cursor saved after each queued page (with when to resume once the page spent the rate-limit
budget), one clear error per run for a refused credential, and skipping a notification that cannot be read without
stopping its page.

Each poller plugs into the loop with its own typed cursor (a frozen dataclass, stored as the same row as ever:
``Feed.row``), its fetch and its page reader; what a run does before the loop (the pause, the cursor's first
reading) and after it (a sweep's end) stays the poller's."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar

from chalicelib.channels.base import MentionsPage, NotificationsPage, PlatformAuthError, PlatformError, RateLimited
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases.ingest import enqueue_mentions

#: The first poll of an account reads only what was written in this window: older notifications are history the
#: team has seen in the platform's own app, and would open tickets nobody is waiting on.
FIRST_POLL_LOOKBACK_HOURS = 24

#: A poller's cursor as its row is stored (``PollCursors``): its typed cursor's ``row()``, and, after a rate limit,
#: ``resume_after`` (ISO 8601).
CursorRow = Mapping[str, object]


class PollAnswer(TypedDict, total=False):
    """What a poll run answers: its counts (``Tally.report``, or the poller's own), and why it stopped early or did
    not run. ``skipped`` is the count of notifications that could not be read, or, for a run that did not call the
    platform, the reason (not configured, rate limited)."""

    pages: int
    fetched: int
    queued: int
    skipped: int | str
    error: str
    rate_limited_until: str
    since_id: str | None
    seen_at: str


def save(svc: Services, name: str, row: CursorRow) -> None:
    """Store a poller's cursor row (under its name)."""
    svc.cursors.put(name, dict(row))


def paused(svc: Services, platform: str, cursor: CursorRow) -> PollAnswer | None:
    """The answer of a run that must not call the platform (its rate limit resets later), else None."""
    resume_after = cursor.get("resume_after")
    if not resume_after:
        return None
    try:
        until = datetime.fromisoformat(str(resume_after))
    except ValueError:
        return None
    if svc.now() < until:
        count(f"{platform}PollSkippedRateLimited")
        return {"skipped": f"rate limited until {resume_after}"}
    return None


def rate_limited(svc: Services, platform: str, name: str, cursor: CursorRow, limited: RateLimited,
                 result: PollAnswer) -> PollAnswer:
    """Record when to resume (never sleep in a Lambda) and end the run."""
    save(svc, name, {**cursor, "resume_after": limited.reset_at.isoformat()})
    count(f"{platform}PollRateLimited")
    logger.warning(f"{platform} rate limit reached", extra={"resume_after": limited.reset_at.isoformat()})
    return {**result, "rate_limited_until": limited.reset_at.isoformat()}


def checkpoint(svc: Services, name: str, cursor: CursorRow, page: MentionsPage | NotificationsPage) -> bool:
    """Save the cursor once a page is queued; when that page spent the rate-limit budget, record when to resume
    too. True if the run must stop here."""
    spent = page.rate_limit_remaining is not None and page.rate_limit_remaining < 1 and page.rate_limit_reset
    if spent and page.rate_limit_reset is not None:
        cursor = {**cursor, "resume_after": page.rate_limit_reset.isoformat()}
    save(svc, name, cursor)
    return bool(spent)


def failed(platform: str, secret: str, error: PlatformError, result: PollAnswer) -> PollAnswer:
    """One clear line and one metric for a run the platform refused; the cursor stays, the next run tries again (a
    scheduled run that returns is not retried, so a revoked credential never becomes a crash loop)."""
    if isinstance(error, PlatformAuthError):
        count(f"{platform}PollAuthFailed")
        logger.error(f"{platform} refused the account's credentials: update the SSM parameter {secret}",
                     extra={"status": error.status, "error": str(error)[:300]})
        return {**result, "error": f"{platform} refused the credentials ({secret}): {error}"}
    count(f"{platform}PollFailed")
    logger.warning(f"{platform} poll failed; the next run tries again",
                   extra={"status": error.status, "error": str(error)[:300]})
    return {**result, "error": f"{platform} poll failed: {error}"}


def skipped(platform: str, name: str, reason: str) -> None:
    """A notification that cannot be read: counted and named in the log; the rest of its page goes on."""
    count(f"{platform}NotificationsSkipped")
    logger.warning(f"{platform} notification skipped: {reason}", extra={"notification": name[:300],
                                                                         "reason": reason[:300]})


C = TypeVar("C")  # a poller's cursor: a frozen dataclass
P = TypeVar("P", MentionsPage, NotificationsPage)


@dataclass(frozen=True)
class Step(Generic[C]):
    """What one page gave: its mentions (queued before the cursor moves past them), the cursor after it, how many
    items it counted as fetched and as skipped, whether the cursor is saved now (a checkpoint, with the rate-limit
    budget's pause if the page spent it), and whether this page ends the sweep (``last``: no further page)."""

    cursor: C
    mentions: Sequence[Mention] = ()
    fetched: int = 0
    skipped: int = 0
    save: bool = True
    last: bool = False


@dataclass(frozen=True)
class Tally:
    """One run's counts."""

    pages: int = 0
    fetched: int = 0
    queued: int = 0
    skipped: int = 0

    def add(self, step: Step[Any]) -> Tally:
        return Tally(self.pages + 1, self.fetched + step.fetched, self.queued + len(step.mentions),
                     self.skipped + step.skipped)

    def report(self) -> PollAnswer:
        return {"pages": self.pages, "fetched": self.fetched, "queued": self.queued, "skipped": self.skipped}


@dataclass(frozen=True)
class Feed(Generic[C, P]):
    """A poller's parts for the loop. ``secret``: the credential named when the platform refuses a call (the run
    answers with the error, the cursor stays); None: such an error is raised. ``report``: the run's answer's counts
    (the same counts whether it ended or was cut off by a rate limit or a refusal)."""

    platform: str
    name: str  # the cursor's row
    max_pages: int
    fetch: Callable[[C], P]
    read: Callable[[C, P], Step[C]]
    row: Callable[[C], CursorRow]
    secret: str | None = None
    report: Callable[[C, Tally], PollAnswer] = lambda cursor, tally: tally.report()
    on_rate_limited: Callable[[], None] = lambda: None
    source: str = "poll"  # how its mentions are queued (``enqueue_mentions``): listening's searches say "listening"


@dataclass(frozen=True)
class Sweep(Generic[C]):
    """Where the loop stopped: the cursor, the run's counts, whether the last page read ended the sweep, and the
    answer of a run cut off by a rate limit or a refused call (None: it ran to its end or its page budget)."""

    cursor: C
    tally: Tally
    finished: bool = False
    answer: PollAnswer | None = None


def sweep(svc: Services, feed: Feed[C, P], cursor: C) -> Sweep[C]:
    """The one poll loop: up to ``max_pages`` pages, each fetched, read, its mentions queued (storage first), then
    the cursor moved (and saved, when the page says so); it stops at the page that ends the sweep, when a page spent
    the rate-limit budget (the pause recorded), or at a rate limit or refused call (the answer recorded)."""
    tally = Tally()
    while tally.pages < feed.max_pages:
        try:
            page = feed.fetch(cursor)
        except RateLimited as limited:
            feed.on_rate_limited()
            return Sweep(cursor, tally, answer=rate_limited(svc, feed.platform, feed.name, feed.row(cursor), limited,
                                                            feed.report(cursor, tally)))
        except PlatformError as error:
            if feed.secret is None:
                raise
            return Sweep(cursor, tally, answer=failed(feed.platform, feed.secret, error, feed.report(cursor, tally)))
        step = feed.read(cursor, page)
        tally = tally.add(step)
        if step.mentions:
            enqueue_mentions(svc, list(step.mentions), source=feed.source)  # queued before the cursor moves
        cursor = step.cursor
        if step.save and checkpoint(svc, feed.name, feed.row(cursor), page):
            return Sweep(cursor, tally, finished=step.last)  # the budget is spent (resume_after recorded)
        if step.last:
            return Sweep(cursor, tally, finished=True)
    return Sweep(cursor, tally)
