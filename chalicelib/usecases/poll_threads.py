"""Scheduled Threads polling, for a brand whose app has no webhook access (``THREADS_INGEST=poll``): posts that
mention the brand, and replies under the brand's recent posts, become mentions on the inbound queue.

Threads has no notification list: a sweep reads, in turn, the mentions written since the last sweep (``GET
/{user-id}/mentions?since=``), the brand's recent posts (``GET /{user-id}/threads``, the last ``MAX_POSTS`` of the
last ``REPLY_WINDOW_DAYS`` days) and, for each, its replies, nested ones too (``GET /{media-id}/conversation``,
newest first, paged with ``after`` until a page reaches what the last sweep read). The cursor (in ``PollCursors``)
holds what the sweep still has to read, and moves once each page is queued (storage first): a sweep cut off by the
page budget or a rate limit goes on where it stopped. When it ends, the next sweep reads from when this one
started, less a minute of margin: a post is read twice rather than missed, and its key (``threads#<id>``) makes
the second reading a no-op, as it does for a reply that also came by webhook.

The shared loop (``usecases.polling``) records a rate limit's reset and skips until then, answers a refused token
with one clear error, and skips a post that cannot be read (counted and named in the log) without losing its page.
The first sweep reads only the last ``FIRST_POLL_LOOKBACK_HOURS``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.channels import threads
from chalicelib.channels.base import NotificationsPage, PlatformAuthError, PlatformError, parse_post_time
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count
from chalicelib.usecases import polling

CURSOR = "threads-mentions"
PLATFORM = "Threads"
SECRET = "threads/access-token"
MENTIONS, POSTS = "mentions", "posts"
#: Pages a run reads: the mentions, the brand's posts, and a page of replies under each of them.
MAX_PAGES_PER_RUN = 12
PAGE_SIZE = 50
#: The brand's posts whose replies are read: the newest of the last week.
MAX_POSTS = 10
REPLY_WINDOW_DAYS = 7
#: The next sweep reads from when this one started, less this margin (the platform's clock and indexing delay).
OVERLAP = timedelta(minutes=1)


@dataclass(frozen=True)
class ThreadsCursor:
    """Where polling stands: the sweep under way reads what was written at or after ``since``; ``sources`` is what
    it has left to read (``mentions``, ``posts``, or a post id: the replies under it), ``after`` the page cursor
    within the first, ``started`` when the sweep began (the next sweep's ``since``, less ``OVERLAP``). No sources:
    no sweep under way."""

    since: str | None = None
    started: str | None = None
    sources: tuple[str, ...] = ()
    after: str | None = None

    @classmethod
    def of(cls, row: polling.CursorRow) -> ThreadsCursor:
        """The stored row; a source that is none of the three kinds is dropped (it could never be read, and would
        hold the sweep up for good)."""
        sources = tuple(s for s in jv.text(row, "sources").split(",") if s in (MENTIONS, POSTS) or threads.media_id(s))
        return cls(jv.optional_text(row, "since"), jv.optional_text(row, "started"), sources,
                   jv.optional_text(row, "after"))

    def row(self) -> dict[str, str]:
        values = {"since": self.since, "started": self.started, "sources": ",".join(self.sources),
                  "after": self.after}
        return {key: value for key, value in values.items() if value}

    def next_source(self, *more: str) -> ThreadsCursor:
        """The first source read to its end; ``more`` sources to read after the rest."""
        return ThreadsCursor(self.since, self.started, (*self.sources[1:], *more), None)


def _time(value: str | None) -> datetime | None:
    return parse_post_time(value) if value else None


def _reader(brand: frozenset[str], now: datetime) -> Callable[[ThreadsCursor, NotificationsPage],
                                                               polling.Step[ThreadsCursor]]:
    def read(cursor: ThreadsCursor, page: NotificationsPage) -> polling.Step[ThreadsCursor]:
        source = cursor.sources[0]
        since = _time(cursor.since)
        if source == POSTS:  # the brand's own posts: whose replies to read
            recent = now - timedelta(days=REPLY_WINDOW_DAYS)
            posts = [threads.media_id(item.get("id")) for item in page.items if jv.is_object(item)
                     and (parse_post_time(item.get("timestamp")) or now) >= recent]
            return _end_or_go_on(cursor.next_source(*[p for p in dict.fromkeys(posts) if p][:MAX_POSTS]), [], 0, 0)
        field = MENTIONS if source == MENTIONS else "replies"
        mentions: list[Mention] = []
        skipped = 0
        oldest: datetime | None = None
        for item in page.items:
            written = parse_post_time(item.get("timestamp")) if jv.is_object(item) else None
            if written is not None and (oldest is None or written < oldest):
                oldest = written
            try:
                mention = threads.parse_media(item, brand=brand, field=field, source="poll")
            except threads.NotAMention as exc:
                skipped += 1
                name = threads.media_id(item.get("id")) if jv.is_object(item) else ""
                polling.skipped(PLATFORM, f"post {name or repr(item)[:120]}", str(exc))
                continue
            if mention is not None and (since is None or mention.created_at >= since):
                mentions.append(mention)
        # newest first: a page that reaches back before ``since`` is the last one worth reading
        more = page.cursor is not None and page.items and (since is None or oldest is None or oldest >= since)
        if more:
            return polling.Step(ThreadsCursor(cursor.since, cursor.started, cursor.sources, page.cursor), mentions,
                                len(page.items), skipped)
        return _end_or_go_on(cursor.next_source(), mentions, len(page.items), skipped)

    return read


def _end_or_go_on(cursor: ThreadsCursor, mentions: list[Mention], fetched: int,
                  skipped: int) -> polling.Step[ThreadsCursor]:
    """The cursor after a source read to its end: the next source, or, with none left, the sweep's end (the next
    sweep reads from when this one started, less the overlap)."""
    if cursor.sources:
        return polling.Step(cursor, mentions, fetched, skipped)
    started = _time(cursor.started)
    since = (started - OVERLAP).isoformat() if started is not None else cursor.since
    return polling.Step(ThreadsCursor(since=since), mentions, fetched, skipped, last=True)


def poll_mentions(svc: Services) -> polling.PollAnswer:
    settings = svc.settings
    if not settings.threads_user_id:
        return {"skipped": "THREADS_USER_ID is not configured"}
    if settings.threads_ingest != "poll":
        return {"skipped": "THREADS_INGEST is webhook: Threads posts arrive at POST /webhooks/threads"}
    row: polling.CursorRow = svc.cursors.get(CURSOR)
    pause = polling.paused(svc, PLATFORM, row)
    if pause:
        return pause
    now = svc.now()
    start = ThreadsCursor.of(row)
    if not start.sources:  # a new sweep
        since = start.since or (now - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)).isoformat()
        start = ThreadsCursor(since, now.isoformat(), (MENTIONS, POSTS))
    api = svc.threads_api()
    brand = frozenset(v for v in (settings.threads_username, settings.threads_user_id) if v) | api.own_ids()

    def fetch(cursor: ThreadsCursor) -> NotificationsPage:
        source = cursor.sources[0]
        try:
            if source == MENTIONS:
                return api.fetch_mentions(since=_time(cursor.since), after=cursor.after, limit=PAGE_SIZE)
            if source == POSTS:
                return api.fetch_posts(limit=MAX_POSTS)
            return api.fetch_replies(source, after=cursor.after, limit=PAGE_SIZE)
        except PlatformAuthError:
            raise
        except PlatformError as exc:
            if exc.status is None or not 400 <= exc.status < 500:
                raise  # Threads' side: the next run tries again from here
            # this source cannot be read (a post deleted since, a page cursor that lapsed): named, and the sweep
            # goes on with the next one instead of stopping at it for good
            polling.skipped(PLATFORM, f"{source} after {cursor.after or '-'}", str(exc))
            return NotificationsPage()

    feed = polling.Feed(PLATFORM, CURSOR, MAX_PAGES_PER_RUN, secret=SECRET, row=ThreadsCursor.row, fetch=fetch,
                        read=_reader(brand, now))
    run = polling.sweep(svc, feed, start)
    if run.answer is not None:
        return run.answer
    count("ThreadsMentionsPolled", run.tally.queued)
    answer: polling.PollAnswer = {**run.tally.report()}
    if run.cursor.since:
        answer["seen_at"] = run.cursor.since
    return answer
