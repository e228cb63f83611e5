"""The one poll loop (``usecases.polling.sweep``) on a scripted feed, and each poller's typed cursor: it reads the
rows stored before it existed and writes them in the same shape, so that deployed cursors keep working."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.channels.base import NotificationsPage, PlatformAuthError, PlatformError, RateLimited
from chalicelib.domain.mention import Mention
from chalicelib.usecases import polling
from chalicelib.usecases.poll_bluesky import BlueskyCursor
from chalicelib.usecases.poll_mastodon import MastodonCursor
from chalicelib.usecases.poll_x import XCursor

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Count:
    n: int = 0


def mention(n: int) -> Mention:
    return Mention(channel="mastodon", external_id=str(n), conversation_id=str(n), author_id="7001", text="help",
                   created_at=T0, author_handle="pat@fedi.example", author_name="Pat")


def feed(answers: list, *, max_pages: int = 5, secret: str | None = "secret/name",
         last_after: int = 99) -> tuple[polling.Feed, list[Count]]:
    """A feed whose pages are ``answers`` (a page, or an exception to raise); the cursor counts the pages read."""
    fetched: list[Count] = []

    def fetch(cursor: Count) -> NotificationsPage:
        fetched.append(cursor)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def read(cursor: Count, page: NotificationsPage) -> polling.Step[Count]:
        mentions = [mention(cursor.n * 10 + i) for i, _ in enumerate(page.items)]
        return polling.Step(Count(cursor.n + 1), mentions, fetched=len(page.items), last=cursor.n + 1 >= last_after)

    return polling.Feed("Test", "test-cursor", max_pages, fetch=fetch, read=read, secret=secret,
                        row=lambda c: {"n": c.n}), fetched


def page(items: int = 1, remaining: int | None = None) -> NotificationsPage:
    return NotificationsPage(items=[{}] * items, rate_limit_remaining=remaining,
                             rate_limit_reset=T0 + timedelta(minutes=5) if remaining is not None else None)


def test_the_loop_queues_each_page_then_saves_its_cursor_up_to_the_page_budget(mem):
    test_feed, fetched = feed([page(2), page(1), page(3)], max_pages=2)
    run = polling.sweep(mem, test_feed, Count())
    assert fetched == [Count(0), Count(1)] and run.cursor == Count(2) and not run.finished and run.answer is None
    assert run.tally == polling.Tally(pages=2, fetched=3, queued=3, skipped=0)
    assert mem.cursors.get("test-cursor") == {"n": 2}
    assert [len(m["mentions"]) for m in mem.queues.take(mem.settings.inbound_queue)] == [2, 1]


def test_the_loop_stops_at_the_page_that_ends_the_sweep(mem):
    test_feed, fetched = feed([page(), page(), page()], last_after=2)
    run = polling.sweep(mem, test_feed, Count())
    assert len(fetched) == 2 and run.finished and run.cursor == Count(2)


def test_a_page_that_spends_the_rate_limit_budget_records_when_to_resume(mem):
    test_feed, fetched = feed([page(remaining=0), page()])
    run = polling.sweep(mem, test_feed, Count())
    assert len(fetched) == 1 and not run.finished
    assert mem.cursors.get("test-cursor") == {"n": 1, "resume_after": (T0 + timedelta(minutes=5)).isoformat()}


def test_a_rate_limit_saves_the_cursor_with_the_reset_and_answers(mem):
    test_feed, _ = feed([page(), RateLimited(T0 + timedelta(minutes=10))])
    run = polling.sweep(mem, test_feed, Count())
    assert run.answer == {"pages": 1, "fetched": 1, "queued": 1, "skipped": 0,
                          "rate_limited_until": (T0 + timedelta(minutes=10)).isoformat()}
    assert mem.cursors.get("test-cursor") == {"n": 1, "resume_after": (T0 + timedelta(minutes=10)).isoformat()}


def test_a_refused_call_answers_with_the_credential_or_is_raised_without_one(mem):
    test_feed, _ = feed([PlatformAuthError("revoked", status=401)])
    assert "secret/name" in polling.sweep(mem, test_feed, Count()).answer["error"]
    test_feed, _ = feed([PlatformError("boom", status=500)], secret=None)
    with pytest.raises(PlatformError):
        polling.sweep(mem, test_feed, Count())


@pytest.mark.parametrize("row", [
    {},
    {"since_id": "503"},
    {"since_id": None},
    {"since_id": "503", "pagination_token": "T1", "newest_pending": "600", "fetched_pending": 200},
])
def test_an_x_cursor_reads_and_writes_its_rows_as_before(row):
    cursor = XCursor.of(row)
    assert XCursor.of(cursor.row()) == cursor
    if row:
        assert cursor.row() == row


def test_a_bluesky_cursor_reads_and_writes_its_rows_as_before():
    watermark = {"seen_at": T0.isoformat(), "seen_uris": ["at://a", "at://b"]}
    assert BlueskyCursor.of(watermark, T0).row() == watermark
    sweeping = {**watermark, "page_cursor": "P2", "sweep_at": (T0 + timedelta(minutes=1)).isoformat(),
                "sweep_uris": ["at://c"]}
    assert BlueskyCursor.of(sweeping, T0).row() == sweeping
    first = BlueskyCursor.of({}, T0)
    assert first.seen_at == T0 - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS) and first.page_cursor is None
    assert BlueskyCursor(T0, sweep_uris=tuple(f"u{n:03}" for n in range(80)), page_cursor="P").row()[
        "sweep_uris"] == [f"u{n:03}" for n in range(30, 80)]  # a row keeps the last 50


def test_a_finished_bluesky_sweep_makes_its_newest_the_watermark():
    later = T0 + timedelta(minutes=1)
    assert BlueskyCursor(T0, ("a",), "P", later, ("c", "b")).finished() == BlueskyCursor(later, ("b", "c"))
    assert BlueskyCursor(T0, ("a",), "P", T0, ("b",)).finished() == BlueskyCursor(T0, ("a", "b"))
    assert BlueskyCursor(T0, ("a",)).finished() == BlueskyCursor(T0, ("a",))


def test_a_mastodon_cursor_reads_and_writes_its_rows_as_before():
    assert MastodonCursor.of({"since_id": "108"}).row() == {"since_id": "108"}
    assert MastodonCursor.of({}).row() == {} and MastodonCursor.of({}).since_id is None
