"""Mastodon adapter through ``Mastodon.py``: the brand account's mention notifications, and reply statuses.

Imported only where it is built (``bootstrap``). The client never waits on a rate limit (``ratelimit_method=
"throw"``: Mastodon.py's default sleeps, and a Lambda must not): a 429 raises ``RateLimited`` with the reset time,
and the budget is read from ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (ISO 8601) of the last response,
seen by the client's ``requests.Session``. No version check (it would cost a request per cold start).

Polling walks forward from the last mention queued: ``min_id`` asks for the notifications *immediately* newer than
it, oldest page first, so the cursor moves page by page and never leaves a hole behind a page not yet read.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from mastodon import Mastodon
from mastodon import errors as mastodon_errors

from chalicelib.channels.base import (
    NotificationsPage,
    OutboundMessage,
    PlatformAuthError,
    PlatformError,
    RateLimited,
    SearchPage,
    SendError,
    SendResult,
    sending_on,
)

#: When a 429 carries no usable reset header, wait this long (Mastodon's windows are 5 minutes).
DEFAULT_RATE_LIMIT_WINDOW = timedelta(minutes=5)
REPLY_VISIBILITIES = ("public", "unlisted", "private", "direct")


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.fromtimestamp(int(value.strip()), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """Mastodon.py's typed entities as plain JSON-like values (dicts, lists, text, datetimes)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _status_of(exc: mastodon_errors.MastodonError) -> int | None:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _describe(exc: mastodon_errors.MastodonError) -> str:
    args = [str(a) for a in getattr(exc, "args", ()) if a is not None]
    return f"{type(exc).__name__}: {' '.join(args)}"[:300]


class MastodonApi:
    """The brand's account on its instance. ``access_token``: the token, or how to read it (read again after a 401,
    so a token replaced in SSM is used without a new container). ``session``: the ``requests.Session`` to use
    (tests intercept it)."""

    def __init__(self, instance_url: str, access_token: str | Callable[[], str], *, own_acct: str = "",
                 session: requests.Session | None = None, timeout: float = 10.0):
        self._token: Callable[[], str] = access_token if callable(access_token) else lambda: access_token
        self.session = session or requests.Session()
        self._last_headers: Mapping[str, str] = {}
        self._last_response: requests.Response | None = None
        self.session.hooks["response"].append(self._record_response)
        self.client = Mastodon(access_token=self._token(), api_base_url=instance_url, ratelimit_method="throw",
                               version_check_mode="none", request_timeout=timeout, session=self.session)
        self._own = own_acct.lower()

    def _record_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._last_headers = response.headers
        self._last_response = response
        return response

    def _describe(self, exc: mastodon_errors.MastodonError) -> str:
        """The error and, for a refusal, the instance's own words (``{"error": "..."}``)."""
        said = ""
        if isinstance(exc, mastodon_errors.MastodonAPIError) and self._last_response is not None:
            try:
                body = self._last_response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                said = f": {body['error'][:200]}"
        return f"{_describe(exc)}{said}"

    @property
    def rate_limit_remaining(self) -> int | None:
        return _int(self._last_headers.get("X-RateLimit-Remaining"))

    @property
    def rate_limit_reset(self) -> datetime | None:
        return _when(self._last_headers.get("X-RateLimit-Reset"))

    def own_ids(self) -> frozenset[str]:
        return frozenset({self._own} if self._own else set())

    def _call(self, fn: Any) -> Any:
        try:
            return self._once(fn)
        except PlatformAuthError:
            token = self._token()
            if token == self.client.access_token:
                raise
            self.client.access_token = token  # replaced since this client was built: try the new one, once
            return self._once(fn)

    def _once(self, fn: Any) -> Any:
        self._last_headers = {}
        self._last_response = None
        try:
            return fn()
        except mastodon_errors.MastodonRatelimitError as exc:
            reset = self.rate_limit_reset or datetime.now(timezone.utc) + DEFAULT_RATE_LIMIT_WINDOW
            raise RateLimited(reset, f"Mastodon rate limit: {_describe(exc)}") from exc
        except mastodon_errors.MastodonUnauthorizedError as exc:
            raise PlatformAuthError(f"Mastodon refused the access token ({self._describe(exc)})", status=401) from exc
        except mastodon_errors.MastodonAPIError as exc:
            status = _status_of(exc)
            if status == 403:
                raise PlatformAuthError(f"Mastodon refused the access token's scopes ({self._describe(exc)})",
                                        status=403) from exc
            raise PlatformError(self._describe(exc), status=status) from exc
        except mastodon_errors.MastodonError as exc:
            raise PlatformError(self._describe(exc)) from exc

    def fetch_notifications(self, *, cursor: str | None, limit: int = 40) -> NotificationsPage:
        """Mention notifications just newer than ``cursor`` (``min_id``; the newest page when None), newest first."""
        items = self._call(lambda: self.client.notifications(types=["mention"], min_id=cursor or None,
                                                             limit=max(1, min(int(limit), 80))))
        if not isinstance(items, list):
            raise PlatformError("Mastodon answered /api/v1/notifications without a list")
        return NotificationsPage(items=[_plain(item) for item in items], cursor=None,
                                 rate_limit_remaining=self.rate_limit_remaining,
                                 rate_limit_reset=self.rate_limit_reset)

    def tag_timeline(self, tag: str, *, min_id: str | None, limit: int = 40) -> SearchPage:
        """The public statuses with hashtag ``tag`` the instance knows, just newer than ``min_id`` (the newest page
        when None), newest first."""
        items = self._call(lambda: self.client.timeline_hashtag(tag, min_id=min_id or None,
                                                                limit=max(1, min(int(limit), 40))))
        if not isinstance(items, list):
            raise PlatformError(f"Mastodon answered /api/v1/timelines/tag/{tag} without a list")
        return SearchPage(items=[_plain(item) for item in items], rate_limit_remaining=self.rate_limit_remaining,
                          rate_limit_reset=self.rate_limit_reset)


class MastodonSender(MastodonApi):
    """``Sender`` for channel ``mastodon``: a status in reply to the customer's, with the visibility of theirs
    (``direct`` when it was private or the agent answers privately), starting with their ``@acct`` (without it
    Mastodon would neither notify them nor show them a direct reply). The outbox's key is sent as the
    ``Idempotency-Key``, so a retried send within the hour is not posted twice."""

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel != "mastodon":
            raise SendError(f"MastodonSender cannot send on channel {message.channel!r}", retryable=False)
        acct = str(message.extra.get("acct") or "").lstrip("@")
        if not acct:
            raise SendError("a Mastodon reply needs the customer's acct", retryable=False)
        visibility = str(message.extra.get("visibility") or "public")
        if message.private or visibility not in REPLY_VISIBILITIES:
            visibility = "direct" if message.private else "public"
        text = message.text if f"@{acct}".lower() in message.text.lower() else f"@{acct} {message.text}"
        with sending_on("Mastodon", "rejected the status"):
            status = self._call(lambda: self.client.status_post(
                text, in_reply_to_id=message.in_reply_to or None, visibility=visibility,
                idempotency_key=message.idempotency_key or None))
        status_id = status.get("id") if isinstance(status, Mapping) else None
        return SendResult(external_id=str(status_id or ""))
