"""Meta Graph API sender: Facebook comment replies, private replies, Messenger and Instagram.

Every request is a form POST with the page access token in the ``access_token`` form field, so the
token never appears in a URL (and so never in an exception message or an access log). Nested
objects (``recipient``, ``message``) are JSON-encoded form fields, as the Graph API accepts.
"""
from __future__ import annotations

import json

import requests

from chalicelib.channels.base import OutboundMessage, SendError, SendResult
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject, is_object

#: Graph error codes meaning "too many calls": app (4), user (17), page (32), action (613)
#: and the business-use-case range (80000-80014).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80000, 80015))
#: Graph error codes meaning "temporary problem on Meta's side".
TRANSIENT_CODES = frozenset({1, 2})

DEFAULT_TIMEOUT = 10.0


class MetaSender:
    """``Sender`` for channels ``facebook``, ``messenger`` and ``instagram``.

    Ids come from ``message.extra`` (``page_id``, ``comment_id``, ``ig_id``), ``message.in_reply_to``
    (the comment being answered) and ``message.recipient`` (PSID / IGSID).
    """

    CHANNELS = ("facebook", "messenger", "instagram")

    def __init__(
        self,
        page_access_token: str,
        *,
        graph_version: str = "v21.0",
        session: requests.Session | None = None,
        base_url: str = "https://graph.facebook.com",
        timeout: float = DEFAULT_TIMEOUT,
    ):
        if not page_access_token:
            raise ValueError("a page access token is required")
        self._token = page_access_token
        self._graph_version = graph_version.strip("/")
        self._session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"MetaSender(graph_version={self._graph_version!r}, base_url={self._base_url!r})"

    # -- routing --------------------------------------------------------------------------------

    def _route(self, message: OutboundMessage) -> tuple[str, dict[str, str]]:
        """(object path, form fields) for one message, without the token."""
        extra = message.extra or {}
        channel = message.channel
        if channel == "facebook":
            comment_id = message.in_reply_to or str(extra.get("comment_id") or "")
            if not message.private:
                _require(comment_id, "a public Facebook reply needs the comment id (in_reply_to)")
                return f"{comment_id}/comments", {"message": message.text}
            # A private reply to a comment opens a Messenger conversation with its author.
            _require(comment_id, "a Facebook private reply needs the comment id")
            page_id = str(extra.get("page_id") or "me")
            return f"{page_id}/messages", {
                "recipient": json.dumps({"comment_id": comment_id}),
                "message": json.dumps({"text": message.text}),
            }
        if channel == "messenger":
            _require(message.recipient, "a Messenger reply needs the recipient PSID")
            page_id = str(extra.get("page_id") or "me")
            return f"{page_id}/messages", {
                "recipient": json.dumps({"id": message.recipient}),
                "messaging_type": "RESPONSE",
                "message": json.dumps({"text": message.text}),
            }
        if channel == "instagram":
            if not message.private:
                comment_id = message.in_reply_to or str(extra.get("comment_id") or "")
                _require(comment_id, "a public Instagram reply needs the comment id (in_reply_to)")
                return f"{comment_id}/replies", {"message": message.text}
            _require(message.recipient, "an Instagram message needs the recipient IGSID")
            account = str(extra.get("ig_id") or extra.get("page_id") or "me")
            return f"{account}/messages", {
                "recipient": json.dumps({"id": message.recipient}),
                "message": json.dumps({"text": message.text}),
            }
        raise SendError(f"MetaSender cannot send on channel {channel!r}", retryable=False)

    # -- sending --------------------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> SendResult:
        path, fields = self._route(message)
        url = f"{self._base_url}/{self._graph_version}/{path}"
        try:
            response = self._session.post(
                url, data={**fields, "access_token": self._token}, timeout=self._timeout
            )
        except requests.exceptions.ReadTimeout as exc:  # sent, and no answer: Meta may have posted it
            raise SendError("no answer from the Graph API in time", retryable=False, outcome_unknown=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"Graph API network error: {type(exc).__name__}", retryable=True) from exc

        body = _json_or_empty(response)
        if 200 <= response.status_code < 300 and "error" not in body:
            external_id = body.get("message_id") or body.get("id") or ""
            return SendResult(external_id=str(external_id))
        raise self._error(response, body)

    def _error(self, response: requests.Response, body: JsonObject) -> SendError:
        error = jv.obj(body, "error")
        code = _int_or_none(error.get("code"))
        subcode = _int_or_none(error.get("error_subcode"))
        status = response.status_code
        rate_limited = status == 429 or code in RATE_LIMIT_CODES
        retryable = (
            rate_limited
            or status >= 500
            or code in TRANSIENT_CODES
            or error.get("is_transient") is True
        )
        detail = f"HTTP {status}"
        if code is not None:
            detail += f" code {code}"
        if subcode is not None:
            detail += f"/{subcode}"
        if error.get("type"):
            detail += f" {error['type']}"
        if error.get("message"):
            detail += f": {error['message']}"
        detail = self._redact(detail)
        retry_after = _retry_after(response) if retryable else None
        kind = "rate limited" if rate_limited else "rejected"
        return SendError(f"Graph API {kind}: {detail}", retryable=retryable, retry_after=retry_after)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[redacted]")


def _require(value: str, reason: str) -> None:
    if not value:
        raise SendError(reason, retryable=False)


def _json_or_empty(response: requests.Response) -> JsonObject:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if is_object(body) else {}


def _int_or_none(value: object) -> int | None:
    if not isinstance(value, (str, int, float)):
        return None  # what int() refuses with a TypeError: null, a list, an object
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait, from ``Retry-After`` or the business-use-case usage header, if present."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    usage = response.headers.get("X-Business-Use-Case-Usage")
    if usage:
        try:
            parsed = json.loads(usage)
            minutes = [
                float(entry.get("estimated_time_to_regain_access") or 0)
                for entries in parsed.values()
                for entry in entries
            ]
        except (ValueError, AttributeError, TypeError):
            minutes = []
        if minutes and max(minutes) > 0:
            return max(minutes) * 60.0
    return None
