"""Stage ``local``: every outbound message is recorded instead of sent, shown at ``GET /local/outbox``; the platforms'
reads are stand-ins (empty mention pages; listening's searches answer the posts of ``POST /local/listening/posts``)."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from chalicelib.channels.base import (
    MentionsPage,
    NotificationsPage,
    OutboundMessage,
    SearchPage,
    SendResult,
    id_order,
    parse_post_time,
)
from chalicelib.domain.identity import masked_phone
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.store.ports import LocalPosts, SandboxOutbox

logger = Logger(child=True)


class SandboxSender:
    def __init__(self, outbox: SandboxOutbox, now: Callable[[], datetime], channel: str):
        self._outbox = outbox
        self._now = now
        self._channel = channel

    def send(self, message: OutboundMessage) -> SendResult:
        at = self._now()
        external_id = f"sandbox-{message.idempotency_key or at.timestamp()}"
        record = {
            "channel": message.channel, "recipient": message.recipient, "in_reply_to": message.in_reply_to,
            "private": message.private, "text": message.text, "subject": message.subject,
            "at": at.isoformat(), "idempotency_key": message.idempotency_key, "external_id": external_id,
            "kind": message.kind,
        }
        if "whatsapp_template" in message.extra:  # an approved template: what the WhatsApp sender would send
            record["whatsapp_template"] = message.extra["whatsapp_template"]
        self._outbox.record(at, message.idempotency_key, record)
        # logs carry no message text: it holds the customer's status link (a bearer credential) and personal data
        logger.info("sandbox: message not sent", extra={"outbound": {
            k: record[k] for k in ("channel", "idempotency_key", "in_reply_to", "private", "at", "external_id")}})
        # a WhatsApp recipient is a phone number: the stack's output is a log, and shows it masked
        recipient = masked_phone(message.recipient) if message.channel == "whatsapp" else message.recipient
        print(f"[outbox] {message.channel} -> {recipient} (in reply to {message.in_reply_to or '-'}): "
              f"{message.text}", flush=True)
        return SendResult(external_id=external_id)


class LocalMentionSource:
    """Stage local's stand-in for the X mentions API: the local stack never calls X (mentions arrive through the
    signed webhook, ``POST /webhooks/x``). Every poll answers an empty page, so the poller runs its real path."""

    def fetch_mentions(self, user_id: str, *, since_id: str | None,
                       pagination_token: str | None = None) -> MentionsPage:
        return MentionsPage(mentions=[], next_token=None, newest_id=None, result_count=0)


class LocalNotificationSource:
    """Stage local's stand-in for the Bluesky and Mastodon notification APIs: the local stack never calls them.
    Every poll answers an empty page, so the pollers run their real path; mentions are injected with
    ``POST /local/bluesky/mentions`` and ``POST /local/mastodon/mentions``, which feed the pollers' own parser and
    the same inbound queue."""

    def own_ids(self) -> frozenset[str]:
        return frozenset()

    def fetch_notifications(self, *, cursor: str | None, limit: int = 50) -> NotificationsPage:
        return NotificationsPage()


class LocalThreadsSource:
    """Stage local's stand-in for the Threads API's reads: the local stack never calls Threads. Every read answers an
    empty page, so the poller runs its real path; posts arrive by the signed webhook (``POST /webhooks/threads``) or
    are injected with ``POST /local/threads/mentions``, through the same parser onto the same inbound queue."""

    def own_ids(self) -> frozenset[str]:
        return frozenset()

    def fetch_mentions(self, *, since: datetime | None, after: str | None, limit: int) -> NotificationsPage:
        return NotificationsPage()

    def fetch_posts(self, *, limit: int) -> NotificationsPage:
        return NotificationsPage()

    def fetch_replies(self, media_id: str, *, after: str | None, limit: int) -> NotificationsPage:
        return NotificationsPage()


class LocalSns:
    """Stage local's stand-in for the two HTTPS calls an SNS subscriber makes: the local stack fetches no signing
    certificate and confirms no subscription, so a signed SNS message cannot be verified locally and is refused
    (401). E-mails are injected with ``POST /local/email/mentions``, which builds the SES notification and takes the
    e-mail channel's own parser onto the same inbound queue."""

    def certificate(self, url: str) -> bytes:
        return b""

    def confirm(self, url: str) -> None:
        return None



# ------------------------------------------------------------------------------------------------ listening
#: How long the search stand-ins keep an injected post (``POST /local/listening/posts``).
LOCAL_POST_DAYS = 1
_QUERY_TERM = re.compile(r'"([^"]+)"|(#?[^\s()"]+)')


def query_terms(query: str) -> tuple[str, ...]:
    """The positive terms of a search query (X's ``(a OR "b c") -x -is:retweet``, a Bluesky phrase, a hashtag),
    lowercase: the stand-ins match them loosely, as the platforms' search does (the poller then applies the brand's
    own matching)."""
    terms: list[str] = []
    for match in _QUERY_TERM.finditer(query):
        term = match.group(1) or match.group(2)
        if not term or term.upper() == "OR" or term.startswith("-") or ":" in term:
            continue
        terms.append(term.lower())
    return tuple(terms)


def _loosely(terms: tuple[str, ...], text: str) -> bool:
    text = text.lower()
    return any(term in text or term.lstrip("#") in text for term in terms)


def _offset(cursor: str | None) -> int:
    return int(cursor) if cursor and cursor.isdigit() else 0


class _LocalSearch:
    def __init__(self, posts: LocalPosts, now: Callable[[], datetime], channel: str, own: frozenset[str] = frozenset()):
        self._posts, self._now, self._channel, self._own = posts, now, channel, own

    def own_ids(self) -> frozenset[str]:
        return self._own

    def _kept(self) -> list[JsonObject]:
        return self._posts.recent(self._channel, since=self._now() - timedelta(days=LOCAL_POST_DAYS))


class LocalXSearch(_LocalSearch):
    """Stage local's stand-in for X's recent search: the posts injected with ``POST /local/listening/posts``
    (``{"tweet", "user"}``) matching the query's terms loosely, newer than ``since_id`` (or ``start_time``), newest
    first, ``max_results`` a page; a page reports its reads (posts and distinct users) as X bills them."""

    def __init__(self, posts: LocalPosts, now: Callable[[], datetime]):
        super().__init__(posts, now, "x")

    def search_recent(self, query: str, *, since_id: str | None, next_token: str | None, max_results: int,
                      start_time: datetime | None = None) -> SearchPage:
        from chalicelib.channels.x_api import search_page

        terms, hits = query_terms(query), []
        for post in self._kept():
            tweet, user = post.get("tweet"), post.get("user")
            if not is_object(tweet) or not is_object(user) or not _loosely(terms, str(tweet.get("text", ""))):
                continue
            tweet_id = str(tweet.get("id", ""))
            if since_id and id_order(tweet_id) <= id_order(since_id):
                continue
            at = parse_post_time(tweet.get("created_at"))
            if start_time is not None and (at is None or at < start_time):
                continue
            hits.append((tweet, user))
        hits.sort(key=lambda hit: id_order(str(hit[0]["id"])), reverse=True)
        start, size = _offset(next_token), max(10, min(int(max_results), 100))
        page = hits[start:start + size]
        users = {str(user["id"]): user for _, user in page}
        more = str(start + size) if len(hits) > start + size else None
        return search_page([tweet for tweet, _ in page], users, next_token=more,
                           newest_id=str(page[0][0]["id"]) if page else None)


class LocalBlueskySearch(_LocalSearch):
    """Stage local's stand-in for Bluesky's post search: the injected posts (post views) matching the query loosely,
    indexed since ``since``, newest first, ``limit`` a page."""

    def __init__(self, posts: LocalPosts, now: Callable[[], datetime], handle: str):
        super().__init__(posts, now, "bluesky", frozenset({handle.lower()} if handle else set()))

    def search_posts(self, query: str, *, since: datetime, cursor: str | None, limit: int = 50) -> SearchPage:
        terms, hits = query_terms(query), []
        for post in self._kept():
            record = post.get("record")
            at = parse_post_time(post.get("indexedAt"))
            if is_object(record) and _loosely(terms, str(record.get("text", ""))) and at is not None and at >= since:
                hits.append((at, post))
        hits.sort(key=lambda hit: hit[0], reverse=True)
        start, size = _offset(cursor), max(1, min(int(limit), 100))
        more = str(start + size) if len(hits) > start + size else None
        return SearchPage(items=[post for _, post in hits[start:start + size]], cursor=more)


class LocalMastodonTags(_LocalSearch):
    """Stage local's stand-in for a hashtag timeline of the brand's instance: the injected statuses carrying the tag,
    the ``limit`` just newer than ``min_id`` (the newest when None), newest first, as Mastodon pages them."""

    def __init__(self, posts: LocalPosts, now: Callable[[], datetime], account: str):
        super().__init__(posts, now, "mastodon", frozenset({account.lower()} if account else set()))

    def tag_timeline(self, tag: str, *, min_id: str | None, limit: int = 40) -> SearchPage:
        hits = []
        for status in self._kept():
            tags = status.get("tags")
            named = {str(t.get("name", "")).lower() for t in tags if is_object(t)} if isinstance(tags, list) else set()
            status_id = str(status.get("id", ""))
            if tag.lower() in named and (not min_id or id_order(status_id) > id_order(min_id)):
                hits.append(status)
        hits.sort(key=lambda status: id_order(str(status["id"])))
        size = max(1, min(int(limit), 40))
        page = hits[:size] if min_id else hits[-size:]
        return SearchPage(items=list(reversed(page)))
