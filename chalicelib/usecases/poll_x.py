"""Scheduled X mention polling for accounts without the Account Activity webhook.

A ``since_id`` cursor in DynamoDB; pages are enqueued before the cursor moves past them (storage first); the
rate-limit budget comes from the response headers; after a 429 the poller records the reset time and skips
until then (never sleeps); a possible gap (more than the 800 mentions X keeps reachable) is logged and counted. A
mention that cannot be stored is skipped, counted and named in the log; the rest of its page is queued.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from chalicelib.channels.base import MentionsPage
from chalicelib.domain import jsonvalue as jv
from chalicelib.services import Services
from chalicelib.telemetry import count, gauge, logger
from chalicelib.usecases import polling

CURSOR = "x-mentions"
PLATFORM = "X"
MAX_PAGES_PER_RUN = 5
REACHABLE_MENTIONS = 800


class XCursorRow(TypedDict):
    """``XCursor`` as stored: ``since_id`` alone between sweeps, all four while one pages down."""

    since_id: str | None
    pagination_token: NotRequired[str | None]
    newest_pending: NotRequired[str | None]
    fetched_pending: NotRequired[int]


@dataclass(frozen=True)
class XCursor:
    """``since_id``: the newest mention of the last finished sweep; while a sweep pages down to it, the next page's
    token, the sweep's newest mention and how many it has fetched so far."""

    since_id: str | None = None
    pagination_token: str | None = None
    newest_pending: str | None = None
    fetched_pending: int = 0

    @classmethod
    def of(cls, row: polling.CursorRow) -> XCursor:
        return cls(jv.optional_text(row, "since_id"), jv.optional_text(row, "pagination_token"),
                   jv.optional_text(row, "newest_pending"), jv.integer(row, "fetched_pending"))

    def row(self) -> XCursorRow:
        if self.pagination_token is None and self.newest_pending is None and not self.fetched_pending:
            return {"since_id": self.since_id}
        return {"since_id": self.since_id, "pagination_token": self.pagination_token,
                "newest_pending": self.newest_pending, "fetched_pending": self.fetched_pending}


def _read(cursor: XCursor, page: MentionsPage) -> polling.Step[XCursor]:
    for reason in page.skipped:
        polling.skipped(PLATFORM, reason.partition(":")[0], reason.partition(": ")[2])
    if page.rate_limit_remaining is not None:  # x-rate-limit-remaining: requests left in the window
        gauge("XRateLimitRemaining", page.rate_limit_remaining)
    after = XCursor(cursor.since_id, page.next_token, cursor.newest_pending or page.newest_id,
                    cursor.fetched_pending + page.result_count)
    # saved once the page is queued; no older page left ends the sweep
    return polling.Step(after, page.mentions, fetched=page.result_count, skipped=len(page.skipped),
                        last=not page.next_token)


def _report(cursor: XCursor, tally: polling.Tally) -> polling.PollAnswer:
    return {"pages": tally.pages, "fetched": cursor.fetched_pending, "skipped": tally.skipped}


def poll_mentions(svc: Services) -> polling.PollAnswer:
    user_id = svc.settings.x_account_id
    if not user_id:
        return {"skipped": "X_ACCOUNT_ID is not configured"}
    row: polling.CursorRow = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, row)
    if pause:
        return pause
    api = svc.x_api()
    feed = polling.Feed(
        PLATFORM, CURSOR, MAX_PAGES_PER_RUN, row=XCursor.row, read=_read, report=_report,
        fetch=lambda c: api.fetch_mentions(user_id, since_id=c.since_id, pagination_token=c.pagination_token),
        on_rate_limited=lambda: gauge("XRateLimitRemaining", 0))
    run = polling.sweep(svc, feed, XCursor.of(row))
    if run.answer is not None:
        return run.answer
    cursor = run.cursor
    if not cursor.pagination_token:  # the sweep reached since_id: its newest mention is the next one's since_id
        if cursor.since_id and cursor.fetched_pending >= REACHABLE_MENTIONS:
            count("XPollGap")
            logger.warning("possible gap in X mentions: more than the reachable 800 since the last poll",
                           extra={"since_id": cursor.since_id, "fetched": cursor.fetched_pending})
        cursor = XCursor(cursor.newest_pending or cursor.since_id)
        polling.save(svc, CURSOR, cursor.row())
    count("XMentionsPolled", run.cursor.fetched_pending)
    return {**_report(run.cursor, run.tally), "since_id": cursor.since_id}
