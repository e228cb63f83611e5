"""Threads API adapter (``graph.threads.net``): the brand's mentions and the replies under its recent posts, for the
poller, and replies, for the outbox.

The access token never appears in a URL, so never in an exception's text or an access log: reads send it as
``Authorization: Bearer`` (OAuth 2.0, as Graph APIs take it), writes as the ``access_token`` form field of the POST
(as Meta's Threads pages show it), and any error text is scrubbed of it. A reply is two calls: ``POST
/{user-id}/threads`` (``media_type=TEXT``, ``text``, ``reply_to_id``) creates a container, ``POST
/{user-id}/threads_publish`` (``creation_id``) publishes it. A container that is never published expires by itself
within 24 hours, so a retry after a failed publish creates a new one and posts once.

Nothing waits on a limit: a 429, or a Graph error code meaning "too many calls" (4, 17, 32, 613, 80000-80014),
raises ``RateLimited`` with the time to resume (``Retry-After``, else the estimated time to regain access Meta puts in
``X-Business-Use-Case-Usage`` / ``X-App-Usage``, else 15 minutes); a refused token (401, Graph code 190, a missing
permission: codes 10, 200-299) raises ``PlatformAuthError``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import requests

from chalicelib.channels.base import (
    NotificationsPage,
    OutboundMessage,
    PlatformAuthError,
    PlatformError,
    RateLimited,
    SendError,
    SendResult,
    XApiError,
    sending_on,
)
from chalicelib.channels.threads import media_id
from chalicelib.domain.jsonvalue import JsonObject, is_object

BASE_URL = "https://graph.threads.net/v1.0"
#: The fields of a post the parser reads (``channels.threads.parse_media``).
MEDIA_FIELDS = ("id,username,text,timestamp,permalink,shortcode,media_type,is_reply,replied_to,root_post,"
                "is_reply_owned_by_me")
#: Graph error codes meaning "too many calls": app (4), user (17), page (32), action (613), business use case.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80000, 80015))
#: Graph error codes meaning the token or its permissions were refused.
AUTH_CODES = frozenset({102, 190, 10}) | frozenset(range(200, 300))
DEFAULT_RATE_LIMIT_WINDOW = timedelta(minutes=15)
#: ``since`` must be at or after this instant (5 July 2023), the API refuses earlier ones.
EARLIEST_SINCE = 1688540400


def _reset_after(response: requests.Response) -> timedelta:
    """How long until the API takes calls again: ``Retry-After`` (seconds), else the largest
    ``estimated_time_to_regain_access`` (minutes) of Meta's usage headers, else 15 minutes."""
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return timedelta(seconds=int(retry_after.strip()))
    minutes = 0
    for header in ("X-Business-Use-Case-Usage", "X-App-Usage"):
        try:
            usage = json.loads(response.headers.get(header) or "null")
        except ValueError:
            continue
        rows = [r for v in usage.values() for r in (v if isinstance(v, list) else [v])] if isinstance(usage, dict) \
            else []
        for row in [usage, *rows]:
            wait = row.get("estimated_time_to_regain_access") if isinstance(row, dict) else None
            if isinstance(wait, int) and not isinstance(wait, bool) and wait > minutes:
                minutes = wait
    return timedelta(minutes=minutes) if minutes else DEFAULT_RATE_LIMIT_WINDOW


class ThreadsApi:
    """The brand's Threads profile. ``access_token``: the token, or how to read it (read again after a refusal, so
    a token replaced in SSM is used without a new container). ``session``: the ``requests.Session`` (tests intercept
    it)."""

    def __init__(self, user_id: str, access_token: str | Callable[[], str], *, username: str = "",
                 session: requests.Session | None = None, base_url: str = BASE_URL, timeout: float = 10.0):
        if not media_id(user_id):
            raise ValueError("THREADS_USER_ID must be the brand's Threads user id")
        self._user_id = user_id
        self._read_token: Callable[[], str] = access_token if callable(access_token) else lambda: access_token
        self._token = ""
        self._username = username.strip().lstrip("@").lower()
        self.session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user_id={self._user_id!r}, base_url={self._base_url!r})"

    def own_ids(self) -> frozenset[str]:
        return frozenset(v for v in (self._username, self._user_id) if v)

    # -- HTTP -------------------------------------------------------------------------------------------
    def _current_token(self) -> str:
        if not self._token:
            self._token = self._read_token()
        return self._token

    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
              form: dict[str, str] | None = None) -> JsonObject:
        """One call; after a refused token, once more with the token read again if it was replaced."""
        try:
            return self._once(method, path, params=params, form=form)
        except PlatformAuthError:
            token = self._read_token()
            if token == self._token:
                raise
            self._token = token
            return self._once(method, path, params=params, form=form)

    def _once(self, method: str, path: str, *, params: dict[str, str] | None,
              form: dict[str, str] | None) -> JsonObject:
        token = self._current_token()
        url = f"{self._base_url}/{path}"
        try:
            if method == "GET":
                response = self.session.get(url, params=params, headers={"Authorization": f"Bearer {token}"},
                                            timeout=self._timeout)
            else:
                response = self.session.post(url, data={**(form or {}), "access_token": token},
                                             timeout=self._timeout)
        except requests.RequestException as exc:
            raise PlatformError(self._scrub(f"Threads API unreachable: {type(exc).__name__}: {exc}")) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if is_object(body) else {}
        if response.status_code < 400 and "error" not in body:
            return body
        raise self._error(response, body)

    def _error(self, response: requests.Response, body: JsonObject) -> XApiError:
        error = body.get("error") if is_object(body.get("error")) else {}
        assert is_object(error)
        code = error.get("code") if isinstance(error.get("code"), int) else None
        said = str(error.get("message") or response.reason or "")[:300]
        what = self._scrub(f"Threads API {response.status_code}: {said}" + (f" (code {code})" if code else ""))
        if response.status_code == 429 or code in RATE_LIMIT_CODES:
            return RateLimited(datetime.now(timezone.utc) + _reset_after(response), what)
        if response.status_code == 401 or code in AUTH_CODES:
            return PlatformAuthError(what, status=response.status_code)
        return PlatformError(what, status=response.status_code)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    # -- reading ----------------------------------------------------------------------------------------
    def fetch_mentions(self, *, since: datetime | None, after: str | None, limit: int = 50) -> NotificationsPage:
        params = {"fields": MEDIA_FIELDS, "limit": str(max(1, min(int(limit), 100)))}
        if since is not None:
            params["since"] = str(max(EARLIEST_SINCE, int(since.timestamp())))
        if after:
            params["after"] = after
        return self._read(f"{self._user_id}/mentions", params)

    def fetch_posts(self, *, limit: int = 10) -> NotificationsPage:
        return self._read(f"{self._user_id}/threads",
                          {"fields": "id,timestamp", "limit": str(max(1, min(int(limit), 100)))})

    def fetch_replies(self, media: str, *, after: str | None, limit: int = 50) -> NotificationsPage:
        if not media_id(media):
            raise PlatformError(f"not a Threads media id: {media[:80]!r}")
        params = {"fields": MEDIA_FIELDS, "reverse": "true", "limit": str(max(1, min(int(limit), 100)))}
        if after:
            params["after"] = after
        return self._read(f"{media}/conversation", params)

    def _read(self, path: str, params: dict[str, str]) -> NotificationsPage:
        body = self._call("GET", path, params=params)
        data = body.get("data")
        if not isinstance(data, list):
            raise PlatformError(f"Threads answered GET /{path.split('/', 1)[-1]} without a data list")
        paging = body.get("paging")
        cursors = paging.get("cursors") if is_object(paging) else None
        after = cursors.get("after") if is_object(cursors) else None
        more = is_object(paging) and bool(paging.get("next"))
        return NotificationsPage(items=list(data), cursor=after if isinstance(after, str) and after and more else None)

    def reply_quota(self) -> tuple[int, int] | None:
        """(replies published in the last 24 hours, the profile's quota) from ``GET
        /{user-id}/threads_publishing_limit``; None when the answer does not say."""
        body = self._call("GET", f"{self._user_id}/threads_publishing_limit",
                          params={"fields": "reply_quota_usage,reply_config"})
        rows = body.get("data")
        row = rows[0] if isinstance(rows, list) and rows and is_object(rows[0]) else {}
        assert is_object(row)
        used, config = row.get("reply_quota_usage"), row.get("reply_config")
        total = config.get("quota_total") if is_object(config) else None
        if isinstance(used, int) and isinstance(total, int):
            return used, total
        return None


class ThreadsSender(ThreadsApi):
    """``Sender`` for channel ``threads``: a public reply to the customer's post (``in_reply_to``), created as a
    container and then published. Threads has no private reply."""

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel != "threads":
            raise SendError(f"ThreadsSender cannot send on channel {message.channel!r}", retryable=False)
        if message.private:
            raise SendError("Threads has no private reply", retryable=False)
        reply_to = media_id(message.in_reply_to)
        if not reply_to:
            raise SendError("a Threads reply needs the id of the post it answers (in_reply_to)", retryable=False)
        with sending_on("Threads", "refused the reply"):
            container = self._call("POST", f"{self._user_id}/threads",
                                   form={"media_type": "TEXT", "text": message.text, "reply_to_id": reply_to})
            creation_id = media_id(container.get("id"))
            if not creation_id:
                raise PlatformError("Threads created no container (no id in the answer)")
            published = self._call("POST", f"{self._user_id}/threads_publish", form={"creation_id": creation_id})
        return SendResult(external_id=media_id(published.get("id")))
