"""Posting notices to a team's tools: Slack (an incoming webhook, or a bot token with ``chat.postMessage``), a
Microsoft Teams Workflows webhook, and a signed webhook (HMAC-SHA256 over timestamp and body). One port,
:class:`Notifier`; :class:`HttpNotifier` posts with ``requests`` (already shipped: no SDK in the package, ADR 0025);
stage local's :class:`LocalNotifier` records what would have been posted (``GET /local/notifications``) and posts
nothing.

Webhook URLs and tokens are credentials: they are read through ``secret`` when posting, and never logged, never
put in an exception's message (``requests`` names the URL in its own: those are replaced). Logs name the
destination.

A signed webhook's request::

    POST <url>
    Content-Type: application/json
    X-Responder-Event: ticket.created            (desk.digest for a shift-start digest)
    X-Responder-Delivery: 5b0c…                  (the same for every attempt of one notice to one destination)
    X-Responder-Timestamp: 1764990000            (Unix seconds when sent)
    X-Responder-Signature: v1=<hex HMAC-SHA256(key, "<timestamp>." + body)>

Receivers check it with :func:`verify` (or its few lines, README), refuse a timestamp more than five minutes
away, and drop a delivery id they have seen.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from chalicelib.domain.config.notify import LOCAL_HTTP, Destination
from chalicelib.domain.notice import (
    DIGEST_EVENT,
    Notice,
    TicketNotice,
    digest_headline,
    slack_message,
    teams_message,
    ticket_summary,
    webhook_body,
    with_zone,
)

if TYPE_CHECKING:
    import requests

    from chalicelib.services import Stores
    from chalicelib.settings import Secrets, Settings
    from chalicelib.store.ports import NotifyLog

logger = Logger(child=True)

SLACK_POST_MESSAGE = "https://slack.com/api/chat.postMessage"
#: Slack's ``ok: false`` errors worth trying again; any other one will not change by waiting.
SLACK_RETRYABLE = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
                             "request_timeout", "team_added_to_org"})
SIGNATURE_VERSION = "v1"
HEADER_TIMESTAMP = "X-Responder-Timestamp"
HEADER_SIGNATURE = "X-Responder-Signature"
HEADER_EVENT = "X-Responder-Event"
HEADER_DELIVERY = "X-Responder-Delivery"
#: How far a receiver accepts a timestamp from its own clock (either way), in seconds.
TOLERANCE = 300


class NotifyFailed(Exception):
    """A post failed. ``retryable``: 429, 5xx, time-outs and network errors (``retry_after``: seconds the platform
    asked for, if it said); not for a refusal that waiting will not change (4xx, a revoked token, a removed
    channel). ``reason`` never holds a secret or a webhook URL."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Notifier(Protocol):
    def post(self, destination: Destination, notice: Notice, *, thread: str | None = None) -> str | None:
        """Post ``notice`` to ``destination`` (under ``thread`` where given and the platform threads). Returns the
        id to thread later events of the same ticket under (a Slack bot's message ``ts``), None where the platform
        cannot thread. Raises :class:`NotifyFailed`."""
        ...


# --------------------------------------------------------------------------------------------------
# signing
# --------------------------------------------------------------------------------------------------


def sign(key: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``"<timestamp>."`` followed by the body, keyed with ``key``."""
    digest = hmac.new(key.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(key: str, headers: Mapping[str, str], body: bytes, *, now: int, tolerance: int = TOLERANCE) -> bool:
    """For a receiver: whether ``body`` was signed with ``key`` less than ``tolerance`` seconds from ``now`` (either
    way: a stale or a future timestamp is refused). Header names in any case; the signature header may carry
    several comma-separated signatures (while a key is rotated); compared in constant time."""
    lower = {name.lower(): value for name, value in headers.items()}
    stamp = lower.get(HEADER_TIMESTAMP.lower(), "").strip()
    if not stamp.isdigit() or len(stamp) > 12:
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(key, timestamp, body)
    given = [part.strip() for part in lower.get(HEADER_SIGNATURE.lower(), "").split(",")]
    return any(hmac.compare_digest(expected.encode(), part.encode()) for part in given if part)


def delivery_id(destination: Destination, notice: Notice) -> str:
    """Stable for one notice to one destination (every retry carries the same): the receiver's idempotency key."""
    return hashlib.sha256(f"{destination.name}|{notice.delivery_key}".encode()).hexdigest()[:32]


def event_of(notice: Notice) -> str:
    return notice.event if isinstance(notice, TicketNotice) else DIGEST_EVENT


# --------------------------------------------------------------------------------------------------
# the requests each kind makes (shared by the real adapter and the local stand-in)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``url`` may be a credential (Slack and Teams webhooks), ``headers`` may hold one (the bot
    token); ``shown_headers`` are those safe to record."""

    url: str
    headers: dict[str, str]
    body: bytes
    shown_headers: dict[str, str]


def build_request(destination: Destination, notice: Notice, *, thread: str | None, credential: str,
                  now: datetime) -> Request:
    """The request that posts ``notice`` to ``destination``; ``credential`` is the secret the destination names."""
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    if destination.kind == "slack":
        message = slack_message(notice, include_customer_text=destination.include_customer_text)
        if destination.channel:
            payload: dict[str, Any] = {"channel": destination.channel, **message, "unfurl_links": False,
                                       "unfurl_media": False}
            if thread:
                payload["thread_ts"] = thread
            body = _json(payload)
            return Request(SLACK_POST_MESSAGE, {**json_type, "Authorization": f"Bearer {credential}"}, body,
                           dict(json_type))
        _check_address(destination, credential, "its incoming-webhook URL")
        return Request(credential, dict(json_type), _json({**message, "unfurl_links": False}), dict(json_type))
    if destination.kind == "teams":
        _check_address(destination, credential, "its Workflows webhook URL")
        body = _json(teams_message(notice, include_customer_text=destination.include_customer_text))
        return Request(credential, dict(json_type), body, dict(json_type))
    body = webhook_body(notice, include_customer_text=destination.include_customer_text)
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", HEADER_EVENT: event_of(notice),
               HEADER_DELIVERY: delivery_id(destination, notice), HEADER_TIMESTAMP: str(timestamp),
               HEADER_SIGNATURE: sign(credential, timestamp, body)}
    return Request(destination.url or "", headers, body, dict(headers))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _check_address(destination: Destination, credential: str, what: str) -> None:
    local = credential.startswith(tuple(base + suffix for base in LOCAL_HTTP for suffix in ("/", ":")))
    if not credential.startswith("https://") and not local:
        raise NotifyFailed(f"{destination.name}: its secret {destination.secret} must hold {what} (https://)",
                           retryable=False)


# --------------------------------------------------------------------------------------------------
# the real adapter
# --------------------------------------------------------------------------------------------------


class HttpNotifier:
    """Posts with ``requests``. ``secret(name)`` reads a destination's secret (``Secrets.get``) when posting, so
    a rotated one is used without a redeploy. ``tz``: the zone messages show times in (the brand's)."""

    def __init__(self, secret: Callable[[str], str], *, clock: Callable[[], datetime], timeout: float = 5.0,
                 session: requests.Session | None = None, tz: tzinfo | None = None):
        self._secret = secret
        self._clock = clock
        self._timeout = timeout
        self._session = session
        self._tz = tz

    def __repr__(self) -> str:
        return f"HttpNotifier(timeout={self._timeout})"

    def _http(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def post(self, destination: Destination, notice: Notice, *, thread: str | None = None) -> str | None:
        import requests

        if self._tz is not None:
            notice = with_zone(notice, self._tz)
        request = build_request(destination, notice, thread=thread, credential=self._secret(destination.secret),
                                now=self._clock())
        try:
            response = self._http().post(request.url, data=request.body, headers=request.headers,
                                         timeout=self._timeout, allow_redirects=False)
        except requests.Timeout:
            raise self._failed(destination, "no answer in time", retryable=True) from None
        except requests.RequestException as exc:  # its message names the URL: a credential for Slack and Teams
            raise self._failed(destination, f"network error ({type(exc).__name__})", retryable=True) from None
        status = response.status_code
        if status == 429 or status >= 500:
            reason = "rate limited (429)" if status == 429 else f"HTTP {status}"
            raise self._failed(destination, reason, retryable=True, retry_after=_retry_after(response))
        if not 200 <= status < 300:
            raise self._failed(destination, f"refused: HTTP {status} {_short(response.text)}".rstrip(),
                               retryable=False)
        if destination.kind == "slack" and destination.channel:
            return self._slack_answer(destination, response)
        logger.info("notice posted", extra={"destination": destination.name, "kind": destination.kind,
                                            "status": status, "event": event_of(notice)})
        return None

    def _slack_answer(self, destination: Destination, response: requests.Response) -> str:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._failed(destination, "Slack answered without JSON", retryable=True)
        if answer.get("ok") is not True:
            error = str(answer.get("error") or "unknown_error")
            raise self._failed(destination, f"Slack: {_short(error)}", retryable=error in SLACK_RETRYABLE,
                               retry_after=_retry_after(response))
        ts = answer.get("ts")
        if not isinstance(ts, str) or not ts:
            raise self._failed(destination, "Slack answered ok without the message's ts", retryable=False)
        logger.info("notice posted", extra={"destination": destination.name, "kind": "slack", "threaded": True})
        return ts

    @staticmethod
    def _failed(destination: Destination, reason: str, *, retryable: bool,
                retry_after: float | None = None) -> NotifyFailed:
        logger.warning("notice not posted", extra={"destination": destination.name, "kind": destination.kind,
                                                   "reason": reason, "retryable": retryable})
        return NotifyFailed(f"{destination.name}: {reason}", retryable=retryable, retry_after=retry_after)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 24 * 3600 else None


def _short(text: str, limit: int = 120) -> str:
    """A platform's answer, short and on one line (Slack's and Teams' error bodies name no secret)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------
# stage local's stand-in
# --------------------------------------------------------------------------------------------------


class LocalNotifier:
    """Stage local: every post is rendered exactly as :class:`HttpNotifier` would send it and recorded in the
    notification log (``GET /local/notifications``), nothing leaves the machine. A Slack destination with a bot
    channel answers a made-up ``ts`` (so later events thread, as with Slack); a webhook's request is signed with
    the destination's (dummy) key and checked with :func:`verify`, the result recorded as ``verified``."""

    def __init__(self, log: NotifyLog, *, secret: Callable[[str], str], clock: Callable[[], datetime],
                 tz: tzinfo | None = None):
        self._log = log
        self._secret = secret
        self._clock = clock
        self._tz = tz

    def post(self, destination: Destination, notice: Notice, *, thread: str | None = None) -> str | None:
        if self._tz is not None:
            notice = with_zone(notice, self._tz)
        now = self._clock()
        credential = self._secret(destination.secret)
        request = build_request(destination, notice, thread=thread, credential=credential, now=now)
        key = delivery_id(destination, notice)
        bot = destination.kind == "slack" and bool(destination.channel)
        ts = f"{int(now.timestamp())}.{int(key[:8], 16) % 1_000_000:06d}" if bot else None
        entry: dict[str, object] = {
            "id": key, "at": now.isoformat(), "destination": destination.name, "kind": destination.kind,
            "desk": notice.desk, "event": event_of(notice),
            "reference": notice.reference if isinstance(notice, TicketNotice) else None,
            "thread": thread, "ts": ts, "body": json.loads(request.body),
        }
        if destination.kind == "webhook":
            entry.update(url=request.url, headers=request.shown_headers, raw_body=request.body.decode("utf-8"),
                         verified=verify(credential, request.headers, request.body, now=int(now.timestamp())))
        elif bot:
            entry.update(channel=destination.channel)
        self._log.record(now, key, entry)
        line = ticket_summary(notice) if isinstance(notice, TicketNotice) else digest_headline(notice)
        print(f"[notify] {destination.name} ({destination.kind}){' in thread ' + thread if thread else ''}: {line}",
              flush=True)
        logger.info("notice recorded, not posted", extra={"destination": destination.name, "kind": destination.kind,
                                                          "event": entry["event"]})
        return ts


def notifier(settings: Settings, secrets: Secrets, stores: Stores, clock: Any, *,
             tz: tzinfo | None = None) -> Notifier:
    """The stage's notifier: the recording stand-in on stage local, the HTTP adapter everywhere else. ``clock`` is
    the app's clock (``chalicelib.clock.Clock``); ``tz`` the brand's zone for the times messages show."""
    if settings.stage == "local":
        return LocalNotifier(stores.notify_log, secret=secrets.get, clock=clock.now, tz=tz)
    return HttpNotifier(secrets.get, clock=clock.now, tz=tz)
