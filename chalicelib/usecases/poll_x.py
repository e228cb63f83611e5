"""Scheduled X mention polling for accounts without the Account Activity webhook.

A ``since_id`` cursor in DynamoDB; pages are enqueued before the cursor moves past them (storage first); the
rate-limit budget comes from the response headers; after a 429 the poller records the reset time and skips
until then (never sleeps); a possible gap (more than the 800 mentions X keeps reachable) is logged and counted.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.channels.base import RateLimited
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases.ingest import enqueue_mentions

CURSOR = "x-mentions"
MAX_PAGES_PER_RUN = 5
REACHABLE_MENTIONS = 800


def _save(svc: Services, cursor: dict[str, Any]) -> None:
    svc.cursors.put(CURSOR, cursor)


def poll_mentions(svc: Services) -> dict[str, Any]:
    user_id = svc.settings.x_account_id
    if not user_id:
        return {"skipped": "X_ACCOUNT_ID is not configured"}
    cursor: dict[str, Any] = svc.cursors.get(CURSOR)
    now = svc.now()
    resume_after = cursor.get("resume_after")
    if resume_after and now < datetime.fromisoformat(resume_after):
        count("XPollSkippedRateLimited")
        return {"skipped": f"rate limited until {resume_after}"}
    cursor.pop("resume_after", None)

    api = svc.x_api()
    since_id = cursor.get("since_id")
    token = cursor.get("pagination_token")
    newest = cursor.get("newest_pending")
    fetched = int(cursor.get("fetched_pending", 0))
    pages = 0
    while pages < MAX_PAGES_PER_RUN:
        try:
            page = api.fetch_mentions(user_id, since_id=since_id, pagination_token=token)
        except RateLimited as limited:
            cursor.update(resume_after=limited.reset_at.isoformat(), pagination_token=token,
                          newest_pending=newest, fetched_pending=fetched)
            _save(svc, cursor)
            count("XPollRateLimited")
            logger.warning("X rate limit reached", extra={"resume_after": limited.reset_at.isoformat()})
            return {"pages": pages, "fetched": fetched, "rate_limited_until": limited.reset_at.isoformat()}
        pages += 1
        if page.mentions:
            enqueue_mentions(svc, page.mentions, source="poll")  # safely queued before the cursor moves
        newest = newest or page.newest_id
        fetched += page.result_count
        token = page.next_token
        cursor.update(pagination_token=token, newest_pending=newest, fetched_pending=fetched)
        if token and page.rate_limit_remaining is not None and page.rate_limit_remaining < 1 and page.rate_limit_reset:
            cursor["resume_after"] = page.rate_limit_reset.isoformat()
            _save(svc, cursor)
            break
        _save(svc, cursor)
        if not token:
            break
    if not token:
        if since_id and fetched >= REACHABLE_MENTIONS:
            count("XPollGap")
            logger.warning("possible gap in X mentions: more than the reachable 800 since the last poll",
                           extra={"since_id": since_id, "fetched": fetched})
        cursor = {"since_id": newest or since_id}
        _save(svc, cursor)
    count("XMentionsPolled", fetched)
    return {"pages": pages, "fetched": fetched, "since_id": cursor.get("since_id")}
