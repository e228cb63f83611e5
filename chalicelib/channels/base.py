"""The one protocol every outbound channel implements, and what pollers return."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import OutboundMessage

__all__ = ["OutboundMessage", "SendResult", "SendError", "Sender", "MentionsPage", "MentionSource", "RateLimited",
           "SnsEndpoint", "XApiError", "XAuthError", "PlatformError", "PlatformAuthError", "NotificationsPage",
           "NotificationSource", "parse_post_time", "sending_on", "FoundPost", "SearchPage", "XSearch",
           "BlueskySearch", "MastodonTags"]


@dataclass(frozen=True)
class SendResult:
    external_id: str  # id the platform gave the sent message


class SendError(Exception):
    """A send failed. ``retryable`` is True for 429 / 5xx / errors before the request went out; ``retry_after`` in
    seconds if known. ``outcome_unknown``: the request went out and no answer came back (a read timeout): the
    platform may have the message, so it is never sent again automatically."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None,
                 outcome_unknown: bool = False):
        super().__init__(message)
        self.retryable = retryable and not outcome_unknown
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class Sender(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...


class XApiError(Exception):
    """A call to the X API failed. ``status`` is the HTTP status, or None for a network error."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class XAuthError(XApiError):
    """401 / 403: the credentials are wrong, revoked, or lack access to this endpoint."""


class PlatformError(XApiError):
    """A call to the Bluesky or Mastodon API failed. ``status`` is the HTTP status, or None for a network error."""


class PlatformAuthError(PlatformError):
    """401 / 403 (or a refused sign-in): the app password or access token is wrong, revoked or lacks a scope."""


class RateLimited(XApiError):
    """429: stop calling until ``reset_at`` (aware, UTC)."""

    def __init__(self, reset_at: datetime, message: str = "", *, status: int | None = 429):
        super().__init__(message or f"rate limited until {reset_at.isoformat()}", status=status)
        self.reset_at = reset_at


@dataclass(frozen=True)
class MentionsPage:
    mentions: list[Mention] = field(default_factory=list)
    next_token: str | None = None  # pass as pagination_token for the next (older) page
    newest_id: str | None = None  # the next poll's since_id
    result_count: int = 0  # tweets the API returned, before our own tweets are skipped
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    skipped: list[str] = field(default_factory=list)  # "<tweet id>: <reason>" for each tweet that cannot be read


class SnsEndpoint(Protocol):
    """The two HTTPS calls an SNS subscriber makes (``channels.sns_http``)."""

    def certificate(self, url: str) -> bytes: ...

    def confirm(self, url: str) -> None: ...


class MentionSource(Protocol):
    """A platform's mention timeline, read page by page (``channels.x_api.XApi``)."""

    def fetch_mentions(self, user_id: str, *, since_id: str | None,
                       pagination_token: str | None = None) -> MentionsPage: ...


@dataclass(frozen=True)
class NotificationsPage:
    """One page of the brand account's notifications (Bluesky, Mastodon), newest first, each as the platform's JSON
    object: the poller reads them one by one, so one it cannot read is skipped without losing the page."""

    items: list[Any] = field(default_factory=list)  # JSON objects, or whatever a broken server sent
    cursor: str | None = None  # Bluesky: the next (older) page's cursor; Mastodon: unused (the poller walks min_id)
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None  # aware, UTC


class NotificationSource(Protocol):
    """The brand account's notifications on Bluesky or Mastodon (``channels.bluesky_api``, ``channels.mastodon_api``).

    ``cursor``: Bluesky's opaque cursor of an older page; Mastodon's ``min_id`` (notifications just newer than it).
    Raises ``RateLimited``, ``PlatformAuthError`` or ``PlatformError``."""

    def own_ids(self) -> frozenset[str]:
        """The brand account's own ids and handle (DID and handle; account id and acct): its posts are skipped."""

    def fetch_notifications(self, *, cursor: str | None, limit: int) -> NotificationsPage: ...


@dataclass(frozen=True)
class FoundPost:
    """A post a listening search found, read as the mention the mention route would give it (its id, thread,
    author and reply fields), with what decides whether listening takes it: a repost, and the accounts the post's
    own mention entities name (ids and lowercase handles)."""

    mention: Mention
    repost: bool = False
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SearchPage(NotificationsPage):
    """One page of a listening search, newest first. ``items``: the platform's JSON posts (Bluesky, Mastodon), read
    one by one by the poller; ``found``: the posts the adapter read (X, through tweepy), and ``skipped`` those it could
    not ("<id>: <reason>"). X bills what a page returns: ``reads`` posts and ``users`` distinct users in the
    expansion; ``newest_id`` is the next sweep's ``since_id``. ``cursor``: the next (older) page."""

    found: list[FoundPost] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    newest_id: str | None = None
    reads: int = 0
    users: int = 0


class XSearch(Protocol):
    """X's recent search (``GET /2/tweets/search/recent``; ``channels.x_api.XApi``). Raises ``RateLimited``,
    ``XAuthError`` or ``XApiError``."""

    def search_recent(self, query: str, *, since_id: str | None, next_token: str | None, max_results: int,
                      start_time: datetime | None = None) -> SearchPage: ...


class BlueskySearch(Protocol):
    """Bluesky's post search (``app.bsky.feed.searchPosts``, newest first; ``channels.bluesky_api.BlueskyApi``).
    Raises ``RateLimited``, ``PlatformAuthError`` or ``PlatformError``."""

    def own_ids(self) -> frozenset[str]: ...

    def search_posts(self, query: str, *, since: datetime, cursor: str | None, limit: int) -> SearchPage: ...


class MastodonTags(Protocol):
    """A hashtag's timeline on the brand's instance (``GET /api/v1/timelines/tag/:hashtag``, ``min_id``;
    ``channels.mastodon_api.MastodonApi``). Raises ``RateLimited``, ``PlatformAuthError`` or ``PlatformError``."""

    def own_ids(self) -> frozenset[str]: ...

    def tag_timeline(self, tag: str, *, min_id: str | None, limit: int) -> SearchPage: ...


def id_order(value: str) -> tuple[int, str]:
    """Ids that are numbers written as text (X's, Mastodon's): compare by length, then text."""
    return len(value), value


def parse_post_time(value: object) -> datetime | None:
    """A platform's ISO-8601 time (``Z`` or an offset; naive read as UTC) as an aware UTC datetime, or None for
    anything else, including times no post was written at (before 2000, after 2100)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None
    return parsed if 2000 <= parsed.year <= 2100 else None  # a time no post was written at is not a time


@contextmanager
def sending_on(platform: str, refused: str) -> Iterator[None]:
    """Turns a platform client's errors (Bluesky, Mastodon, Threads) into the ``SendError`` the outbox reads: a rate
    limit is retried after its reset, a refused credential never, another refusal only when the platform's side
    failed (5xx, or no answer). ``refused`` says what was refused ("rejected the status")."""
    try:
        yield
    except RateLimited as exc:
        wait = max(0.0, (exc.reset_at - datetime.now(timezone.utc)).total_seconds())
        raise SendError(f"{platform} rate limit: {exc}", retryable=True, retry_after=wait) from exc
    except PlatformAuthError as exc:
        raise SendError(str(exc), retryable=False) from exc
    except PlatformError as exc:
        retryable = exc.status is None or exc.status >= 500
        raise SendError(f"{platform} {refused}: {exc}", retryable=retryable) from exc
