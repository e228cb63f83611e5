"""Scheduled X mention polling for accounts without the Account Activity webhook.

A ``since_id`` cursor in DynamoDB; pages are enqueued before the cursor moves past them (storage first); the
rate-limit budget comes from the response headers; after a 429 the poller records the reset time and skips
until then (never sleeps); a possible gap (more than the 800 mentions X keeps reachable) is logged and counted. A
mention that cannot be stored is skipped, counted and named in the log; the rest of its page is queued.
"""
from __future__ import annotations

from typing import Any

from chalicelib.channels.base import RateLimited
from chalicelib.services import Services
from chalicelib.telemetry import count, gauge, logger
from chalicelib.usecases import polling
from chalicelib.usecases.ingest import enqueue_mentions

CURSOR = "x-mentions"
PLATFORM = "X"
MAX_PAGES_PER_RUN = 5
REACHABLE_MENTIONS = 800


def _save(svc: Services, cursor: dict[str, Any]) -> None:
    svc.cursors.put(CURSOR, cursor)


def poll_mentions(svc: Services) -> dict[str, Any]:
    user_id = svc.settings.x_account_id
    if not user_id:
        return {"skipped": "X_ACCOUNT_ID is not configured"}
    cursor: dict[str, Any] = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, cursor)
    if pause:
        return pause

    api = svc.x_api()
    since_id = cursor.get("since_id")
    token = cursor.get("pagination_token")
    newest = cursor.get("newest_pending")
    fetched = int(cursor.get("fetched_pending", 0))
    pages = skipped = 0
    while pages < MAX_PAGES_PER_RUN:
        try:
            page = api.fetch_mentions(user_id, since_id=since_id, pagination_token=token)
        except RateLimited as limited:
            gauge("XRateLimitRemaining", 0)
            cursor.update(pagination_token=token, newest_pending=newest, fetched_pending=fetched)
            return polling.rate_limited(svc, PLATFORM, CURSOR, cursor, limited,
                                        {"pages": pages, "fetched": fetched, "skipped": skipped})
        pages += 1
        for reason in page.skipped:
            skipped += 1
            polling.skipped(PLATFORM, reason.partition(":")[0], reason.partition(": ")[2])
        if page.rate_limit_remaining is not None:  # x-rate-limit-remaining: requests left in the window
            gauge("XRateLimitRemaining", page.rate_limit_remaining)
        if page.mentions:
            enqueue_mentions(svc, page.mentions, source="poll")  # safely queued before the cursor moves
        newest = newest or page.newest_id
        fetched += page.result_count
        token = page.next_token
        cursor.update(pagination_token=token, newest_pending=newest, fetched_pending=fetched)
        if polling.checkpoint(svc, CURSOR, cursor, page) or not token:
            break  # the budget is spent (resume_after recorded), or no older page is left
    if not token:
        if since_id and fetched >= REACHABLE_MENTIONS:
            count("XPollGap")
            logger.warning("possible gap in X mentions: more than the reachable 800 since the last poll",
                           extra={"since_id": since_id, "fetched": fetched})
        cursor = {"since_id": newest or since_id}
        _save(svc, cursor)
    count("XMentionsPolled", fetched)
    return {"pages": pages, "fetched": fetched, "skipped": skipped, "since_id": cursor.get("since_id")}
