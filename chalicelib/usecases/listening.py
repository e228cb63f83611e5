"""Scheduled listening (ADR 0032): the brand's terms searched on X, Bluesky and Mastodon; every matching post that
does not tag the brand goes onto the inbound queue as a listened mention (``domain.listening``), never
acknowledged automatically.

Three searches, each a ``polling.Feed`` through the one poll loop (its own cursor row, the rate-limit pause, the
checkpoint after each queued page, one clear error for a refused credential, an unreadable post skipped without
its page):

- X recent search (``listening-x``): one query (``listening.x_query``), a ``since_id`` cursor paged down with
  ``next_token`` as the mention poller does; the first run reads the last ``FIRST_POLL_LOOKBACK_HOURS``. X bills
  every post read and every user in a page's expansion: before each request the day's read budget
  (``spend.x.read_daily_usd``, midnight to midnight in the brand's zone) decides how many posts it asks for, and
  after it the page's cost is added to the day's count (``rate/x-reads`` in the state table, one atomic update), so
  concurrent runs overspend by one page at most.
- Bluesky post search (``listening-bluesky#<query>``, one per ``listening.search_terms``): newest first down to
  the watermark, as the notification poller sweeps.
- Mastodon hashtag timelines of the brand's instance (``listening-mastodon#<tag>``, one per ``listening.hashtags``):
  walked forward by ``min_id``, as the notification poller does.

A post becomes a mention only when the brand's own matching (``listening.matched_terms``, exclusions included) names
a term; never the brand's own post, a repost, or a post that tags the brand (its text, or the platform's own
mention entities or facets): those reach the brand as mentions, once. The mention is the one the mention route
gives that post (same key, thread, author and reply fields), with ``listening.listening_extra`` in ``extra``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from chalicelib.channels import bluesky, mastodon
from chalicelib.channels.base import (
    FoundPost,
    PlatformAuthError,
    PlatformError,
    RateLimited,
    SearchPage,
    XApiError,
    XAuthError,
)
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain import listening
from chalicelib.domain.config.delivery import DEFAULT_READ_DAILY_USD, usd_micros
from chalicelib.domain.config.listening import Listening
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases import polling
from chalicelib.usecases.deliver import spend_day
from chalicelib.usecases.poll_bluesky import BlueskyCursor
from chalicelib.usecases.poll_bluesky import _reader as bluesky_reader
from chalicelib.usecases.poll_mastodon import MastodonCursor
from chalicelib.usecases.poll_mastodon import _reader as mastodon_reader
from chalicelib.usecases.poll_x import XCursor

X_CURSOR = "listening-x"
BLUESKY_CURSOR = "listening-bluesky#"  # + the query
MASTODON_CURSOR = "listening-mastodon#"  # + the tag
#: The state table's day count of X read spend (``SendAllowance.charge``, micro-dollars).
X_READS = "x-reads"
X_SECRET = "x/bearer-token"
BLUESKY_SECRET = "bluesky/app-password"
MASTODON_SECRET = "mastodon/access-token"
#: How far back X's recent search reaches (7 days), less an hour's margin.
X_SEARCH_REACH = timedelta(days=7) - timedelta(hours=1)
#: X's ids are snowflakes: milliseconds since this epoch, shifted left 22 bits.
_X_EPOCH_MS = 1288834974657
#: X's ``max_results`` for recent search is 10 to 100.
X_MIN_RESULTS, X_MAX_RESULTS = 10, 100
MAX_PAGES = {"x": 5, "bluesky": 2, "mastodon": 2}  # per search a run
BLUESKY_PAGE = 50
MASTODON_PAGE = 40  # the most a hashtag timeline answers
SOURCES = {"x": "x-search", "bluesky": "bluesky-search", "mastodon": "mastodon-tag"}
PLATFORMS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}


def listened(watch: Listening, mention: Mention, *, channel: str, brand: frozenset[str], handles: Iterable[str],
             repost: bool = False, tags: Iterable[str] = ()) -> Mention | None:
    """The listened mention a found post becomes, or None: a repost, the brand's own post, a post that tags the brand
    (its text names a brand handle, or the platform's mention entities name the brand's account), or one the brand's
    own matching does not take (no term, or an exclusion)."""
    if repost or mention.author_id.lower() in brand or (mention.author_handle.lower() in brand):
        return None
    if set(tags) & brand or mention.extra.get("tagged") or listening.tags_brand(mention.text, list(handles)):
        return None
    terms = listening.matched_terms(watch, mention.text)
    if not terms:
        return None
    return replace(mention, extra={**mention.extra, "source": "listening",
                                   **listening.listening_extra(terms, SOURCES[channel])})


# -------------------------------------------------------------------------------------------------- the read budget
@dataclass(frozen=True)
class ReadBudget:
    """The day's X read budget in micro-dollars, what a post read and a user in the expansion cost, and the day
    (the brand's zone) its count belongs to."""

    day: str
    limit: int
    per_read: int
    per_user: int

    @classmethod
    def of(cls, svc: Services) -> ReadBudget:
        spend = svc.config.spend.get("x")
        daily = spend.read_daily_usd if spend is not None and spend.read_daily_usd is not None \
            else DEFAULT_READ_DAILY_USD
        per_read = spend.per_read_usd if spend is not None else 0.005
        per_user = spend.per_user_read_usd if spend is not None else 0.010
        return cls(spend_day(svc, svc.now())[0], usd_micros(daily), usd_micros(per_read), usd_micros(per_user))

    def affordable(self, spent: int) -> int:
        """How many posts the rest of the day's budget pays for, each counted with its author (the most a post
        can cost)."""
        worst = self.per_read + self.per_user
        left = max(0, self.limit - spent)
        return X_MAX_RESULTS if worst <= 0 else min(X_MAX_RESULTS, left // worst)

    def cost(self, page: SearchPage) -> int:
        return page.reads * self.per_read + page.users * self.per_user

    def spent_text(self, spent: int) -> str:
        return f"${spent / 1_000_000:.2f} of ${self.limit / 1_000_000:.2f}"


# -------------------------------------------------------------------------------------------------------------- X
def x_id_time(post_id: str) -> datetime | None:
    """When an X post was written, from its id (a snowflake, since November 2010); None for an id that is not one
    (an older, sequential id)."""
    if not post_id.isdigit():
        return None
    written = datetime.fromtimestamp(((int(post_id) >> 22) + _X_EPOCH_MS) / 1000, tz=timezone.utc)
    return written if written.year > 2010 else None


def _x(svc: Services, watch: Listening) -> polling.PollAnswer:
    settings = svc.settings
    if not settings.x_account_id:
        return {"skipped": "X_ACCOUNT_ID is not configured"}
    row: polling.CursorRow = svc.cursors.get(X_CURSOR)
    pause = polling.paused(svc, "XSearch", row)
    if pause:
        return pause
    budget = ReadBudget.of(svc)
    spent = svc.allowance.spent(X_READS, budget.day)
    if budget.affordable(spent) < X_MIN_RESULTS:
        count("XSearchBudgetReached")
        return {"skipped": f"X read budget spent for today ({budget.spent_text(spent)})"}
    handle = svc.config.brand.x_handle.lstrip("@")
    query = listening.x_query(watch, handle)
    brand = frozenset({settings.x_account_id, handle.lower()} - {""})
    start = XCursor.of(row)
    first_since = svc.now() - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)
    if row.get("query") != query and (start.since_id or start.pagination_token):
        # the brand changed its terms: X's page token belongs to the old query, and what the new terms find
        # since the last sweep is wanted (back to the newest post seen, within X's 7 days)
        start = XCursor(start.since_id)
    written = x_id_time(start.since_id) if start.since_id else None
    if written is not None and written < svc.now() - X_SEARCH_REACH:
        # X refuses a since_id older than its recent search reaches (7 days): after a quiet week, a held budget or
        # a revoked token, the search starts again from as far back as X goes, instead of failing every run
        count("XSearchCursorExpired")
        logger.warning("X search cursor older than X's 7 days: starting from as far back as X reaches",
                       extra={"since_id": start.since_id})
        start, first_since = XCursor(), svc.now() - X_SEARCH_REACH
    api = svc.x_search()

    def fetch(cursor: XCursor) -> SearchPage:
        nonlocal spent
        wanted = max(X_MIN_RESULTS, budget.affordable(spent))
        try:
            page = api.search_recent(query, since_id=cursor.since_id, next_token=cursor.pagination_token,
                                     max_results=wanted, start_time=first_since if cursor.since_id is None else None)
        except (RateLimited, PlatformError):
            raise
        except XAuthError as exc:  # the loop's one clear error for a refused credential, as on the other platforms
            raise PlatformAuthError(f"X refused the bearer token ({exc})", status=exc.status) from exc
        except XApiError as exc:
            raise PlatformError(f"X recent search failed: {exc}", status=exc.status) from exc
        # what X bills for the page, once it answered; the day's spend after it (other runs' pages included)
        spent = svc.allowance.charge(X_READS, budget.day, budget.cost(page))
        count("XSearchReads", page.reads)
        return page

    def read(cursor: XCursor, page: SearchPage) -> polling.Step[XCursor]:
        for reason in page.skipped:
            polling.skipped("XSearch", reason.partition(":")[0], reason.partition(": ")[2])
        mentions = [m for m in (_x_listened(watch, found, brand, handle) for found in page.found) if m is not None]
        after = XCursor(cursor.since_id, page.cursor, cursor.newest_pending or page.newest_id,
                        cursor.fetched_pending + page.reads)
        # the day's budget pays for no further page: the sweep stops here and goes on from the token next run
        spent_now = budget.affordable(spent) < X_MIN_RESULTS
        return polling.Step(after, mentions, fetched=page.reads, skipped=len(page.skipped),
                            last=not page.cursor or spent_now)

    def row_of(cursor: XCursor) -> polling.CursorRow:
        return {**cursor.row(), "query": query}  # the query the cursor belongs to

    feed: polling.Feed[XCursor, Any] = polling.Feed(
        "XSearch", X_CURSOR, MAX_PAGES["x"], fetch=fetch, read=read, row=row_of, secret=X_SECRET,
        source="listening")
    run = polling.sweep(svc, feed, start)
    _queued("x", run.tally.queued)
    if run.answer is not None:
        return run.answer
    cursor = run.cursor
    if not cursor.pagination_token:  # the sweep reached since_id: its newest post is the next one's since_id
        cursor = XCursor(cursor.newest_pending or cursor.since_id)
        polling.save(svc, X_CURSOR, row_of(cursor))
    return {**run.tally.report(), "since_id": cursor.since_id}


def _x_listened(watch: Listening, found: FoundPost, brand: frozenset[str], handle: str) -> Mention | None:
    return listened(watch, found.mention, channel="x", brand=brand, handles=[handle], repost=found.repost,
                    tags=found.tags)


# -------------------------------------------------------------------------------------------------------- Bluesky
def _bluesky(svc: Services, watch: Listening) -> polling.PollAnswer:
    handle = svc.settings.bluesky_handle
    if not handle:
        return {"skipped": "BLUESKY_HANDLE is not configured"}
    api = svc.bluesky_search()
    seen: set[str] = set()  # a post two queries find is queued once a run

    def brand() -> frozenset[str]:  # the account's DID is known once the client has signed in (its first call)
        return frozenset({handle.lower()}) | api.own_ids()

    def parse(item: object) -> Mention | None:
        if not jv.is_object(item):
            raise bluesky.NotAMention("not an object")
        mention = bluesky.parse_post(item, reason="search", brand=brand(), source="listening")
        taken = None if mention is None else listened(watch, mention, channel="bluesky", brand=brand(),
                                                      handles=[handle], tags=bluesky_answered(item))
        return _once(taken, seen)

    def search(query: str) -> Callable[[BlueskyCursor], SearchPage]:
        return lambda c: api.search_posts(query, since=c.seen_at, cursor=c.page_cursor, limit=BLUESKY_PAGE)

    def sweep(query: str, name: str, row: polling.CursorRow) -> polling.Sweep[BlueskyCursor]:
        feed: polling.Feed[BlueskyCursor, Any] = polling.Feed(
            "BlueskySearch", name, MAX_PAGES["bluesky"], fetch=search(query), read=bluesky_reader(frozenset(), parse),
            row=BlueskyCursor.row, secret=BLUESKY_SECRET, source="listening")
        return polling.sweep(svc, feed, BlueskyCursor.of(row, svc.now()))

    # a finished sweep's newest post becomes the query's watermark, as the notification poller's does
    return _each(svc, "bluesky", BLUESKY_CURSOR, listening.search_terms(watch), sweep, finished=BlueskyCursor.row)


def bluesky_answered(item: jv.JsonObject) -> frozenset[str]:
    """The accounts (DIDs) whose posts a Bluesky post replies to (its parent and its thread's root) or quotes: a reply
    under the brand's post, or a quote of it, reaches the brand as a notification (``reply``, ``quote``) without
    naming its handle, so listening leaves it to that route, as it leaves posts that tag the brand."""
    record = item.get("record")
    record = record if jv.is_object(record) else {}
    uris: list[object] = []
    reply = record.get("reply")
    if jv.is_object(reply):
        uris += [ref.get("uri") for ref in (reply.get("parent"), reply.get("root")) if jv.is_object(ref)]
    embed = record.get("embed")
    quoted = embed.get("record") if jv.is_object(embed) else None
    if jv.is_object(quoted):  # app.bsky.embed.record: {"record": {"uri"}}; recordWithMedia: {"record": {"record"}}
        inner = quoted.get("record")
        uris.append(inner.get("uri") if jv.is_object(inner) else quoted.get("uri"))
    return frozenset(str(uri)[len("at://"):].split("/")[0].lower() for uri in uris
                     if isinstance(uri, str) and uri.startswith("at://"))


# ------------------------------------------------------------------------------------------------------- Mastodon
def _mastodon(svc: Services, watch: Listening) -> polling.PollAnswer:
    settings = svc.settings
    instance = settings.mastodon_instance_url
    if not instance:
        return {"skipped": "MASTODON_INSTANCE_URL is not configured"}
    api = svc.mastodon_search()
    brand = frozenset({mastodon.full_acct(settings.mastodon_account, instance)} if settings.mastodon_account
                      else set()) | api.own_ids()
    handles = [acct.split("@")[0] for acct in brand] + list(brand)
    seen: set[str] = set()  # a status with two of the tags is queued once a run

    def parse(item: object) -> Mention | None:
        if not jv.is_object(item):
            raise mastodon.NotAMention("not an object")
        mention = mastodon.parse_status(item, instance_url=instance, brand=brand, source="listening")
        if mention is None or mention.visibility != "public":
            return None
        named = item.get("mentions")
        tags = {value for m in named if jv.is_object(m) for value in (
            mastodon.full_acct(str(m.get("acct") or ""), instance), str(m.get("id") or ""))} \
            if isinstance(named, list) else set()
        return _once(listened(watch, mention, channel="mastodon", brand=brand, handles=handles,
                              repost=item.get("reblog") is not None, tags=tags), seen)

    oldest_wanted = svc.now() - timedelta(hours=polling.FIRST_POLL_LOOKBACK_HOURS)

    def sweep(tag: str, name: str, row: polling.CursorRow) -> polling.Sweep[MastodonCursor]:
        start = MastodonCursor.of(row)
        feed: polling.Feed[MastodonCursor, Any] = polling.Feed(
            "MastodonSearch", name, MAX_PAGES["mastodon"], row=MastodonCursor.row, secret=MASTODON_SECRET,
            fetch=lambda c: api.tag_timeline(tag, min_id=c.since_id, limit=MASTODON_PAGE),
            read=mastodon_reader(instance, brand, first=start.since_id is None, oldest_wanted=oldest_wanted,
                                 parse=parse),
            source="listening")
        return polling.sweep(svc, feed, start)

    return _each(svc, "mastodon", MASTODON_CURSOR, listening.hashtags(watch), sweep)


# ------------------------------------------------------------------------------------------------------------ run
C = TypeVar("C")


def _each(svc: Services, channel: str, prefix: str, keys: Iterable[str],
          sweep: Callable[[str, str, polling.CursorRow], polling.Sweep[C]], *,
          finished: Callable[[C], polling.CursorRow] | None = None) -> polling.PollAnswer:
    """One platform's searches (Bluesky's queries, Mastodon's tags), each swept from its own cursor row
    (``prefix`` + the query or tag): a paused one, a rate limit or a refusal ends the platform's run (they hold for
    the account: the other searches wait for the next run); ``finished``: the row a completed sweep saves."""
    platform = f"{PLATFORMS[channel]}Search"
    answers: list[tuple[str, polling.PollAnswer]] = []
    for key in keys:
        name = prefix + key
        row: polling.CursorRow = svc.cursors.get(name)
        pause = polling.paused(svc, platform, row)
        if pause:
            answers.append((key, pause))
            break
        run = sweep(key, name, row)
        _queued(channel, run.tally.queued)
        if run.answer is not None:
            answers.append((key, run.answer))
            break
        if run.finished and finished is not None:
            polling.save(svc, name, finished(run.cursor))
        answers.append((key, run.tally.report()))
    return _combined(answers)


def _once(mention: Mention | None, seen: set[str]) -> Mention | None:
    """The mention, unless this run already queued the same post (found by another query or tag)."""
    if mention is None or mention.key in seen:
        return None
    seen.add(mention.key)
    return mention


def _queued(channel: str, queued: int) -> None:
    if queued:
        count("ListeningPostsQueued", queued, total=True, channel=channel)


def _combined(answers: list[tuple[str, polling.PollAnswer]]) -> polling.PollAnswer:
    """One platform's answer from its searches': the counts added up; a pause or an error named with its search."""
    pages = fetched = queued = skipped = 0
    total: polling.PollAnswer = {}
    for search, answer in answers:
        pages += answer.get("pages", 0)
        fetched += answer.get("fetched", 0)
        queued += answer.get("queued", 0)
        left = answer.get("skipped", 0)
        if isinstance(left, int):
            skipped += left
        else:
            total["skipped"] = f"{search}: {left}"
        if "error" in answer:
            total["error"] = f"{search}: {answer['error']}"
        if "rate_limited_until" in answer:
            total["rate_limited_until"] = answer["rate_limited_until"]
    counts: polling.PollAnswer = {"pages": pages, "fetched": fetched, "queued": queued, "skipped": skipped}
    return {**counts, **total}


RUNS: dict[str, Callable[[Services, Listening], polling.PollAnswer]] = {"x": _x, "bluesky": _bluesky,
                                                                          "mastodon": _mastodon}


def poll_listening(svc: Services) -> dict[str, polling.PollAnswer]:
    """One run of every listening search the brand configured, each with its own cursor, rate-limit pause and (X)
    read budget: what each answered, by platform. One platform's failure never stops the others."""
    watch = svc.config.listening
    if not watch.enabled:
        return {}
    answers: dict[str, polling.PollAnswer] = {}
    for channel, run in RUNS.items():
        if not watch.searches(channel):
            continue
        try:
            answers[channel] = run(svc, watch)
        except Exception as exc:  # noqa: BLE001 - one platform's bug must not cost the others their run
            count("ListeningSearchFailed", channel=channel)
            logger.exception(f"{PLATFORMS[channel]} listening search failed", extra={"error": str(exc)[:300]})
            answers[channel] = {"error": f"{PLATFORMS[channel]} search failed: {type(exc).__name__}"}
    return answers
