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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NotRequired, TypedDict

from chalicelib.channels import bluesky
from chalicelib.channels.base import NotificationsPage
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count
from chalicelib.usecases import polling

CURSOR = "bluesky-notifications"
PLATFORM = "Bluesky"
SECRET = "bluesky/app-password"
MAX_PAGES_PER_RUN = 5
PAGE_SIZE = 50
#: How many of the posts at one instant a cursor row keeps.
KEPT_URIS = 50


class BlueskyCursorRow(TypedDict):
    """``BlueskyCursor`` as stored: the watermark, and while a sweep is under way its page cursor and newest
    notifications (times in ISO 8601)."""

    seen_at: str
    seen_uris: list[str]
    page_cursor: NotRequired[str]
    sweep_at: NotRequired[str | None]
    sweep_uris: NotRequired[list[str]]


@dataclass(frozen=True)
class BlueskyCursor:
    """The watermark (``seen_at`` and the posts at exactly that instant) and, while a sweep is under way, its page
    cursor and its newest notification so far (``sweep_at`` and the posts at that instant)."""

    seen_at: datetime
    seen_uris: tuple[str, ...] = ()
    page_cursor: str | None = None
    sweep_at: datetime | None = None
    sweep_uris: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: polling.CursorRow, now: datetime) -> BlueskyCursor:
        """The stored row; with none yet, a watermark ``FIRST_POLL_LOOKBACK_HOURS`` back (an interrupted first sweep
        keeps that window: it is saved with the sweep)."""
        seen_at, sweep_at = jv.text(row, "seen_at"), jv.text(row, "sweep_at")
        return cls(datetime.fromisoformat(seen_at) if seen_at else
                   now - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS),
                   tuple(jv.texts(row, "seen_uris")), jv.optional_text(row, "page_cursor"),
                   datetime.fromisoformat(sweep_at) if sweep_at else None, tuple(jv.texts(row, "sweep_uris")))

    def row(self) -> BlueskyCursorRow:
        watermark: BlueskyCursorRow = {"seen_at": self.seen_at.isoformat(), "seen_uris": list(self.seen_uris)}
        if self.page_cursor is None:
            return watermark
        return {**watermark, "page_cursor": self.page_cursor,
                "sweep_at": self.sweep_at.isoformat() if self.sweep_at else None,
                "sweep_uris": list(self.sweep_uris[-KEPT_URIS:])}

    def finished(self) -> BlueskyCursor:
        """The sweep reached the watermark: its newest notification becomes the watermark."""
        seen_at, seen_uris = self.seen_at, set(self.seen_uris)
        if self.sweep_at is not None and self.sweep_at > seen_at:
            seen_at, seen_uris = self.sweep_at, set(self.sweep_uris)
        elif self.sweep_at is not None and self.sweep_at == seen_at:
            seen_uris |= set(self.sweep_uris)
        return BlueskyCursor(seen_at, tuple(sorted(seen_uris)[-KEPT_URIS:]))


def _at(item: object) -> datetime | None:
    return bluesky.parse_time(item.get("indexedAt")) if jv.is_object(item) else None


def _uri(item: object) -> str:
    return jv.text(item, "uri") if jv.is_object(item) else ""


def _name(item: object) -> str:
    return _uri(item) or (f"cid {item.get('cid')}" if jv.is_object(item) and item.get("cid") else repr(item)[:120])


def _reader(brand: frozenset[str], parse: Callable[[object], Mention | None] | None = None
            ) -> Callable[[BlueskyCursor, NotificationsPage], polling.Step[BlueskyCursor]]:
    """The page reader of a sweep down to the watermark; ``parse`` reads one item (default: a notification; listening
    reads search hits), raising ``bluesky.NotAMention`` for one it cannot read."""
    if parse is None:
        parse = lambda item: bluesky.parse_notification(item, brand=brand, source="poll")  # noqa: E731

    def read(cursor: BlueskyCursor, page: NotificationsPage) -> polling.Step[BlueskyCursor]:
        """Newest first: the page's notifications down to the first one an earlier sweep saw."""
        sweep_at, sweep_uris = cursor.sweep_at, list(cursor.sweep_uris)
        fetched = skipped = 0
        complete = False
        mentions: list[Mention] = []
        for item in page.items:
            at, uri = _at(item), _uri(item)
            if at is not None and (at < cursor.seen_at or (at == cursor.seen_at and uri in cursor.seen_uris)):
                complete = True  # newest first: this and everything after it was seen by an earlier sweep
                break
            fetched += 1
            if at is not None and (sweep_at is None or at > sweep_at):
                sweep_at, sweep_uris = at, [uri]
            elif at is not None and at == sweep_at and uri not in sweep_uris:
                sweep_uris.append(uri)
            try:
                mention = parse(item)
            except bluesky.NotAMention as exc:
                skipped += 1
                polling.skipped(PLATFORM, _name(item), str(exc))
                continue
            if mention is not None:
                mentions.append(mention)
        swept = replace(cursor, page_cursor=page.cursor, sweep_at=sweep_at, sweep_uris=tuple(sweep_uris))
        if complete or not page.cursor or not page.items:  # the watermark is saved after the loop, as the run ends
            return polling.Step(swept.finished(), mentions, fetched, skipped, save=False, last=True)
        return polling.Step(swept, mentions, fetched, skipped)

    return read


def poll_notifications(svc: Services) -> polling.PollAnswer:
    if not svc.settings.bluesky_handle:
        return {"skipped": "BLUESKY_HANDLE is not configured"}
    row: polling.CursorRow = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, row)
    if pause:
        return pause
    start = BlueskyCursor.of(row, svc.now())
    api = svc.bluesky_api()
    brand = frozenset({svc.settings.bluesky_handle}) | api.own_ids()
    feed = polling.Feed(PLATFORM, CURSOR, MAX_PAGES_PER_RUN, secret=SECRET, row=BlueskyCursor.row,
                        fetch=lambda c: api.fetch_notifications(cursor=c.page_cursor, limit=PAGE_SIZE),
                        read=_reader(brand))
    run = polling.sweep(svc, feed, start)
    if run.answer is not None:
        return run.answer
    if run.finished:
        polling.save(svc, CURSOR, run.cursor.row())
    count("BlueskyMentionsPolled", run.tally.queued)
    return {**run.tally.report(), "seen_at": run.cursor.seen_at.isoformat()}
