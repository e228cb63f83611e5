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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from chalicelib.channels import mastodon
from chalicelib.channels.base import NotificationsPage, id_order
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count
from chalicelib.usecases import polling

CURSOR = "mastodon-mentions"
PLATFORM = "Mastodon"
SECRET = "mastodon/access-token"
MAX_PAGES_PER_RUN = 5
PAGE_SIZE = 40


class MastodonCursorRow(TypedDict, total=False):
    """``MastodonCursor`` as stored: empty before the first poll."""

    since_id: str


@dataclass(frozen=True)
class MastodonCursor:
    """The id of the newest notification queued (None before the first poll)."""

    since_id: str | None = None

    @classmethod
    def of(cls, row: polling.CursorRow) -> MastodonCursor:
        return cls(jv.optional_text(row, "since_id"))

    def row(self) -> MastodonCursorRow:
        return {} if self.since_id is None else {"since_id": self.since_id}


def _id(item: object) -> str:
    value = item.get("id") if jv.is_object(item) else None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isalnum() and len(text) <= 64 else ""


def _reader(instance_url: str, brand: frozenset[str], *, first: bool, oldest_wanted: datetime,
            parse: Callable[[object], Mention | None] | None = None
            ) -> Callable[[MastodonCursor, NotificationsPage], polling.Step[MastodonCursor]]:
    """The page reader of a walk forward by ``min_id``; ``parse`` reads one item (default: a notification; listening
    reads a hashtag timeline's statuses), raising ``mastodon.NotAMention`` for one it cannot read."""
    if parse is None:
        parse = lambda item: mastodon.parse_notification(  # noqa: E731
            item, instance_url=instance_url, brand=brand, source="poll")

    def read(cursor: MastodonCursor, page: NotificationsPage) -> polling.Step[MastodonCursor]:
        """Oldest first: the cursor moves to the page's newest id once the page is queued."""
        mentions: list[Mention] = []
        skipped = 0
        newest = cursor.since_id
        for item in page.items:
            item_id = _id(item)
            if item_id and (newest is None or id_order(item_id) > id_order(newest)):
                newest = item_id
            try:
                mention = parse(item)
            except mastodon.NotAMention as exc:
                skipped += 1
                polling.skipped(PLATFORM, f"notification {item_id or repr(item)[:120]}", str(exc))
                continue
            if mention is not None and not (first and mention.created_at < oldest_wanted):
                mentions.append(mention)
        if newest is None or newest == cursor.since_id:  # nothing newer (or nothing with an id to move on from)
            return polling.Step(cursor, mentions, len(page.items), skipped, save=False, last=True)
        # the first poll reads the newest page only; a short page means we caught up
        return polling.Step(MastodonCursor(newest), mentions, len(page.items), skipped,
                            last=first or len(page.items) < PAGE_SIZE)

    return read


def poll_mentions(svc: Services) -> polling.PollAnswer:
    settings = svc.settings
    if not settings.mastodon_instance_url:
        return {"skipped": "MASTODON_INSTANCE_URL is not configured"}
    row: polling.CursorRow = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, row)
    if pause:
        return pause
    start = MastodonCursor.of(row)
    oldest_wanted = svc.now() - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)
    api = svc.mastodon_api()
    brand = frozenset({settings.mastodon_account} if settings.mastodon_account else set()) | api.own_ids()
    feed = polling.Feed(PLATFORM, CURSOR, MAX_PAGES_PER_RUN, secret=SECRET, row=MastodonCursor.row,
                        fetch=lambda c: api.fetch_notifications(cursor=c.since_id, limit=PAGE_SIZE),
                        read=_reader(settings.mastodon_instance_url, brand, first=start.since_id is None,
                                     oldest_wanted=oldest_wanted))
    run = polling.sweep(svc, feed, start)
    if run.answer is not None:
        return run.answer
    count("MastodonMentionsPolled", run.tally.queued)
    return {**run.tally.report(), "since_id": run.cursor.since_id}
