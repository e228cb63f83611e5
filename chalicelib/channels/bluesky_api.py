"""Bluesky adapter through the ``atproto`` SDK: the brand account's notifications, and reply posts.

Imported only where it is built (``bootstrap``): the SDK and its models take a noticeable share of a cold start,
which only the Bluesky poller and the Bluesky sender pay. The client signs in with the handle and an **app
password** (``com.atproto.server.createSession``) once per Lambda container and keeps the session (the SDK refreshes
its access token); sign-ins are rate limited by the network (30 per 5 minutes, 300 a day per account), so a
container never signs in per call.

Notifications are read raw (``invoke_query``), not through the SDK's strict response model: one notification the
model would refuse must not lose the page, so the poller reads them one by one (``channels.bluesky``).
Rate limits come from the ``ratelimit-remaining`` / ``ratelimit-reset`` headers; a 429 raises ``RateLimited`` with
the reset time, never a sleep.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import httpx

from chalicelib.channels.atproto_load import without_did_key_algorithms
from chalicelib.channels.base import (
    NotificationsPage,
    OutboundMessage,
    PlatformAuthError,
    PlatformError,
    RateLimited,
    SearchPage,
    SendError,
    SendResult,
)
from chalicelib.channels.bluesky import REASONS, link_facets

without_did_key_algorithms()  # the deployment ships no cryptography: atproto's client loads without it (ADR 0014)

from atproto_client import Client, models  # noqa: E402
from atproto_client import exceptions as at_errors  # noqa: E402
from atproto_client.request import Request  # noqa: E402

#: When a 429 carries no usable reset header, wait this long.
DEFAULT_RATE_LIMIT_WINDOW = timedelta(minutes=5)
LIST_NOTIFICATIONS = "app.bsky.notification.listNotifications"
SEARCH_POSTS = "app.bsky.feed.searchPosts"
P = TypeVar("P", bound=NotificationsPage)
#: Errors that mean "sign in again" (an expired or revoked session), not "the password is wrong".
_SESSION_ERRORS = ("ExpiredToken", "InvalidToken")


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _status(exc: at_errors.AtProtocolError) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _error_name(exc: at_errors.AtProtocolError) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    return str(getattr(content, "error", "") or "")


def _describe(exc: at_errors.AtProtocolError) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None)
    status = _status(exc)
    return f"{type(exc).__name__}{f' {status}' if status else ''}{f': {message}' if message else ''}"


def _reset(exc: at_errors.AtProtocolError) -> datetime:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return _epoch(headers.get("ratelimit-reset")) or datetime.now(timezone.utc) + DEFAULT_RATE_LIMIT_WINDOW


class BlueskyApi:
    """The brand's account on its PDS. ``app_password``: the password, or how to read it (read again at each
    sign-in, so a password replaced in SSM is used without a new container). ``transport`` replaces the HTTP
    transport (tests intercept HTTP there)."""

    def __init__(self, handle: str, app_password: str | Callable[[], str], *,
                 service_url: str = "https://bsky.social",
                 transport: httpx.BaseTransport | None = None, timeout: float = 10.0):
        request = Request(transport=transport, timeout=timeout) if transport else Request(timeout=timeout)
        self.client = Client(base_url=service_url, request=request)
        self._handle = handle
        self._password: Callable[[], str] = app_password if callable(app_password) else lambda: app_password
        self._did = ""
        self.client.on_session_change(self._on_session)

    def _on_session(self, event: Any, session: Any) -> None:
        self._did = str(getattr(session, "did", "") or "")

    # -- session ------------------------------------------------------------------------------

    def _sign_in(self) -> None:
        try:
            self.client.login(self._handle, self._password(), fetch_bsky_profile=False)
        except at_errors.RateLimitExceededError as exc:
            raise RateLimited(_reset(exc), f"Bluesky sign-in rate limited: {_describe(exc)}") from exc
        except (at_errors.UnauthorizedError, at_errors.BadRequestError) as exc:
            raise PlatformAuthError(f"Bluesky refused the sign-in of {self._handle} with the app password "
                                    f"({_describe(exc)})", status=_status(exc)) from exc
        except at_errors.AtProtocolError as exc:
            raise PlatformError(f"Bluesky sign-in failed: {_describe(exc)}", status=_status(exc)) from exc

    def _call(self, fn: Any) -> Any:
        """Sign in if needed, run one call, translate failures; an expired session signs in again once."""
        for attempt in (1, 2):
            if not self._did:
                self._sign_in()
            try:
                return fn()
            except at_errors.RateLimitExceededError as exc:
                raise RateLimited(_reset(exc), _describe(exc)) from exc
            except (at_errors.UnauthorizedError, at_errors.BadRequestError) as exc:
                if attempt == 1 and (_error_name(exc) in _SESSION_ERRORS or _status(exc) == 401):
                    self._did = ""  # the session lapsed or was revoked: sign in again, once
                    continue
                if isinstance(exc, at_errors.UnauthorizedError):
                    raise PlatformAuthError(_describe(exc), status=_status(exc)) from exc
                raise PlatformError(_describe(exc), status=_status(exc)) from exc
            except at_errors.AtProtocolError as exc:
                raise PlatformError(_describe(exc), status=_status(exc)) from exc
        raise PlatformAuthError("Bluesky refused the session twice")

    def own_ids(self) -> frozenset[str]:
        return frozenset(i for i in (self._did, self._handle.lower()) if i)

    # -- notifications ----------------------------------------------------------------------

    def fetch_notifications(self, *, cursor: str | None, limit: int = 50) -> NotificationsPage:
        params = models.AppBskyNotificationListNotifications.Params(
            limit=max(1, min(int(limit), 100)), cursor=cursor or None, reasons=list(REASONS))
        return self._page(LIST_NOTIFICATIONS, params, "notifications", NotificationsPage)

    def _page(self, method: str, params: Any, key: str, page: type[P]) -> P:
        """One page of a list query: its ``key`` list, its next cursor and the rate-limit budget from the headers; an
        answer without that list is a platform error."""
        response = self._call(lambda: self.client.invoke_query(method, params=params))
        content = response.content
        if not isinstance(content, dict) or not isinstance(content.get(key), list):
            raise PlatformError(f"Bluesky answered {method.rsplit('.', 1)[-1]} without a {key} list",
                                status=response.status_code)
        next_cursor = content.get("cursor")
        headers = response.headers or {}
        return page(items=list(content[key]),
                    cursor=next_cursor if isinstance(next_cursor, str) and next_cursor else None,
                    rate_limit_remaining=_int(headers.get("ratelimit-remaining")),
                    rate_limit_reset=_epoch(headers.get("ratelimit-reset")))

    # -- listening ------------------------------------------------------------------------------

    def search_posts(self, query: str, *, since: datetime, cursor: str | None, limit: int = 50) -> SearchPage:
        """One page of the posts matching ``query`` written since ``since``, newest first (``sort=latest``), as
        raw post views (the poller reads them one by one)."""
        params = models.AppBskyFeedSearchPosts.Params(
            q=query, sort="latest", since=since.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            cursor=cursor or None, limit=max(1, min(int(limit), 100)))
        return self._page(SEARCH_POSTS, params, "posts", SearchPage)


class BlueskySender(BlueskyApi):
    """``Sender`` for channel ``bluesky``: a reply post under the customer's post (reply reference to the thread's
    root and to the post answered), with a link facet for every URL so links are clickable."""

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel != "bluesky":
            raise SendError(f"BlueskySender cannot send on channel {message.channel!r}", retryable=False)
        if message.private:
            raise SendError("Bluesky replies are public posts: there is no private reply", retryable=False)
        extra = message.extra
        parent_uri, parent_cid = message.in_reply_to, str(extra.get("cid") or "")
        if not parent_uri or not parent_cid:
            raise SendError("a Bluesky reply needs the post's uri and cid", retryable=False)
        root_uri = str(extra.get("root_uri") or parent_uri)
        root_cid = str(extra.get("root_cid") or parent_cid)
        reply_to = models.AppBskyFeedPost.ReplyRef(
            root=models.ComAtprotoRepoStrongRef.Main(uri=root_uri, cid=root_cid),
            parent=models.ComAtprotoRepoStrongRef.Main(uri=parent_uri, cid=parent_cid))
        facets = [models.AppBskyRichtextFacet.Main(
            index=models.AppBskyRichtextFacet.ByteSlice(byte_start=f["index"]["byteStart"],
                                                        byte_end=f["index"]["byteEnd"]),
            features=[models.AppBskyRichtextFacet.Link(uri=f["features"][0]["uri"])])
            for f in link_facets(message.text)]
        try:
            created = self._call(lambda: self.client.send_post(message.text, profile_identify=self._did,
                                                               reply_to=reply_to, facets=facets or None))
        except RateLimited as exc:
            wait = max(0.0, (exc.reset_at - datetime.now(timezone.utc)).total_seconds())
            raise SendError(f"Bluesky rate limit: {exc}", retryable=True, retry_after=wait) from exc
        except PlatformAuthError as exc:
            raise SendError(f"Bluesky refused the account's credentials: {exc}", retryable=False) from exc
        except PlatformError as exc:
            retryable = exc.status is None or exc.status >= 500
            raise SendError(f"Bluesky rejected the post: {exc}", retryable=retryable) from exc
        return SendResult(external_id=str(created.uri))
