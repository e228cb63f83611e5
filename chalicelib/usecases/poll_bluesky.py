"""Scheduled Bluesky polling: the brand account's notifications (mentions, replies, quotes) become mentions on the
inbound queue.

``listNotifications`` pages from the newest to older ones and has no "since": a poll sweeps down from the newest
until it reaches what the previous sweep saw (its newest ``indexedAt``, and the posts at exactly that instant),
queueing each page before saving the page cursor (storage first). A sweep interrupted by the run's page budget or
by a rate limit goes on from its page cursor next run; when it completes, its newest notification becomes the
watermark. The rate-limit budget comes from the response headers; after a 429 the poller records the reset time
and skips until then (never sleeps). A notification that cannot be read is skipped, counted and named in the log;
the rest of its page is queued. The first poll reads the last ``FIRST_POLL_LOOKBACK_HOURS`` only.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.channels import bluesky
from chalicelib.channels.base import PlatformError, RateLimited
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count
from chalicelib.usecases import polling
from chalicelib.usecases.ingest import enqueue_mentions

CURSOR = "bluesky-notifications"
PLATFORM = "Bluesky"
SECRET = "bluesky/app-password"
MAX_PAGES_PER_RUN = 5
PAGE_SIZE = 50


def _at(item: Any) -> datetime | None:
    return bluesky.parse_time(item.get("indexedAt")) if isinstance(item, dict) else None


def _uri(item: Any) -> str:
    uri = item.get("uri") if isinstance(item, dict) else None
    return uri if isinstance(uri, str) else ""


def _name(item: Any) -> str:
    return _uri(item) or (f"cid {item.get('cid')}" if isinstance(item, dict) and item.get("cid") else repr(item)[:120])


def poll_notifications(svc: Services) -> dict[str, Any]:
    if not svc.settings.bluesky_handle:
        return {"skipped": "BLUESKY_HANDLE is not configured"}
    cursor: dict[str, Any] = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, cursor)
    if pause:
        return pause
    now = svc.now()
    seen_at = datetime.fromisoformat(cursor["seen_at"]) if cursor.get("seen_at") else \
        now - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)
    seen_uris = set(cursor.get("seen_uris") or [])
    cursor.setdefault("seen_at", seen_at.isoformat())  # an interrupted first sweep keeps its window
    page_cursor: str | None = cursor.get("page_cursor")
    sweep_at = datetime.fromisoformat(cursor["sweep_at"]) if cursor.get("sweep_at") else None
    sweep_uris: list[str] = list(cursor.get("sweep_uris") or [])
    api = svc.bluesky_api()
    brand = frozenset({svc.settings.bluesky_handle}) | api.own_ids()
    pages = fetched = queued = skipped = 0
    complete = False

    def progress() -> dict[str, Any]:
        return {"pages": pages, "fetched": fetched, "queued": queued, "skipped": skipped}

    while pages < MAX_PAGES_PER_RUN:
        try:
            page = api.fetch_notifications(cursor=page_cursor, limit=PAGE_SIZE)
        except RateLimited as limited:
            return polling.rate_limited(svc, PLATFORM, CURSOR, cursor, limited, progress())
        except PlatformError as error:
            return polling.failed(PLATFORM, SECRET, error, progress())
        pages += 1
        mentions: list[Mention] = []
        for item in page.items:
            at, uri = _at(item), _uri(item)
            if at is not None and (at < seen_at or (at == seen_at and uri in seen_uris)):
                complete = True  # newest first: this and everything after it was seen by an earlier sweep
                break
            fetched += 1
            if at is not None and (sweep_at is None or at > sweep_at):
                sweep_at, sweep_uris = at, [uri]
            elif at is not None and at == sweep_at and uri not in sweep_uris:
                sweep_uris.append(uri)
            try:
                mention = bluesky.parse_notification(item, brand=brand, source="poll")
            except bluesky.NotAMention as exc:
                skipped += 1
                polling.skipped(PLATFORM, _name(item), str(exc))
                continue
            if mention is not None:
                mentions.append(mention)
        if mentions:
            enqueue_mentions(svc, mentions, source="poll")  # safely queued before the cursor moves past them
            queued += len(mentions)
        page_cursor = page.cursor
        if complete or not page_cursor or not page.items:
            complete = True
            break
        cursor.update(page_cursor=page_cursor, sweep_at=sweep_at.isoformat() if sweep_at else None,
                      sweep_uris=sweep_uris[-50:])
        if polling.checkpoint(svc, CURSOR, cursor, page):
            break
    if complete:
        if sweep_at is not None and sweep_at > seen_at:
            seen_at, seen_uris = sweep_at, set(sweep_uris)
        elif sweep_at is not None and sweep_at == seen_at:
            seen_uris |= set(sweep_uris)
        cursor = {"seen_at": seen_at.isoformat(), "seen_uris": sorted(seen_uris)[-50:]}
        svc.cursors.put(CURSOR, cursor)
    count("BlueskyMentionsPolled", queued)
    return {**progress(), "seen_at": cursor.get("seen_at")}
