"""Scheduled Mastodon polling: the brand account's mention notifications become mentions on the inbound queue.

The cursor is the ``since_id`` of the newest notification queued. Each request asks for the notifications
immediately newer than it (Mastodon's ``min_id``), so pages come oldest first and the cursor moves after each page
is queued (storage first) and never past a page not yet read. A full page means more may follow, up to
``MAX_PAGES_PER_RUN`` a run. ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` give the budget; after a 429 the
poller records the reset time and skips until then (never sleeps). A notification that cannot be read is skipped,
counted and named in the log; the rest of its page is queued. The first poll reads the newest page only, and
queues what was written in the last ``FIRST_POLL_LOOKBACK_HOURS``.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.channels import mastodon
from chalicelib.channels.base import PlatformError, RateLimited
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count
from chalicelib.usecases import polling
from chalicelib.usecases.ingest import enqueue_mentions

CURSOR = "mastodon-mentions"
PLATFORM = "Mastodon"
SECRET = "mastodon/access-token"
MAX_PAGES_PER_RUN = 5
PAGE_SIZE = 40


def _id(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isalnum() and len(text) <= 64 else ""


def poll_mentions(svc: Services) -> dict[str, Any]:
    settings = svc.settings
    if not settings.mastodon_instance_url:
        return {"skipped": "MASTODON_INSTANCE_URL is not configured"}
    cursor: dict[str, Any] = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, cursor)
    if pause:
        return pause
    since_id: str | None = cursor.get("since_id")
    first = since_id is None
    oldest_wanted = svc.now() - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)
    api = svc.mastodon_api()
    brand = frozenset({settings.mastodon_account} if settings.mastodon_account else set()) | api.own_ids()
    pages = fetched = queued = skipped = 0

    def progress() -> dict[str, Any]:
        return {"pages": pages, "fetched": fetched, "queued": queued, "skipped": skipped}

    while pages < MAX_PAGES_PER_RUN:
        try:
            page = api.fetch_notifications(cursor=since_id, limit=PAGE_SIZE)
        except RateLimited as limited:
            return polling.rate_limited(svc, PLATFORM, CURSOR, cursor, limited, progress())
        except PlatformError as error:
            return polling.failed(PLATFORM, SECRET, error, progress())
        pages += 1
        fetched += len(page.items)
        mentions: list[Mention] = []
        newest = since_id
        for item in page.items:
            item_id = _id(item)
            if item_id and (newest is None or mastodon.id_order(item_id) > mastodon.id_order(newest)):
                newest = item_id
            try:
                mention = mastodon.parse_notification(item, instance_url=settings.mastodon_instance_url,
                                                      brand=brand, source="poll")
            except mastodon.NotAMention as exc:
                skipped += 1
                polling.skipped(PLATFORM, f"notification {item_id or repr(item)[:120]}", str(exc))
                continue
            if mention is not None and not (first and mention.created_at < oldest_wanted):
                mentions.append(mention)
        if mentions:
            enqueue_mentions(svc, mentions, source="poll")  # safely queued before the cursor moves past them
            queued += len(mentions)
        if newest is None or newest == since_id:
            break  # nothing newer (or nothing with an id to move on from)
        since_id = newest
        cursor = {"since_id": since_id}
        if polling.checkpoint(svc, CURSOR, cursor, page):
            break
        if first or len(page.items) < PAGE_SIZE:
            break  # the first poll reads the newest page only; a short page means we caught up
    count("MastodonMentionsPolled", queued)
    return {**progress(), "since_id": since_id}
