"""WhatsApp Cloud API sender: text replies (in context of the customer's message), approved template messages, and
read receipts.

Every call is ``POST https://graph.facebook.com/<version>/<phone_number_id>/messages`` with a JSON body and the
system-user token in the ``Authorization: Bearer`` header: never in a URL, and redacted from every error text. Plain
``requests`` (already a dependency) rather than a client library: see ``docs/adr/0029-whatsapp-replies-and-prices.md``.

The error codes and what each means for a retry come from the Cloud API's error-code reference
(https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from chalicelib.channels.base import OutboundMessage, SendError, SendResult
from chalicelib.channels.meta_api import DEFAULT_TIMEOUT, _int_or_none, _json_or_empty, _retry_after
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.outbound import READ_RECEIPT

#: The outbox kind of a read receipt (``usecases.read_receipts``): the customer's message is marked read, nothing is
#: sent to the customer.
READ_KIND = READ_RECEIPT

#: More than 24 hours since the customer's last message: only an approved template may be sent now.
REENGAGEMENT = 131047
#: Too many calls or messages: the phone number's throughput (130429), spam rate limit (131048), the pair rate limit
#: to one customer (131056), the WhatsApp Business Account's rate limit (80007) and the app's call limit (4).
RATE_LIMIT_CODES = frozenset({130429, 131048, 131056, 80007, 4})
#: Temporary problems on Meta's side: unknown (1), service (2), something went wrong (131000).
TRANSIENT_CODES = frozenset({1, 2, 131000})
#: Refused for good: undeliverable (131026), unsupported message type (131051), template problems (132000-132015),
#: invalid parameter (100), access token (190), a message type a business-scoped user id cannot receive (131062).
PERMANENT_CODES = frozenset({131026, 131051, 100, 190, 131062}) | frozenset(range(132000, 132016))

#: What a person reads on the ticket when the platform refuses, by code.
REASONS: dict[int, str] = {
    REENGAGEMENT: "more than 24 hours have passed since the customer's last WhatsApp message: only an approved "
                  "template message can reach them now",
    131026: "WhatsApp could not deliver the message (the number may not use WhatsApp, or has not accepted the "
            "latest terms)",
    131051: "WhatsApp does not accept this kind of message",
    190: "the WhatsApp access token is invalid or expired: renew the system-user token",
    100: "WhatsApp refused a parameter of the message",
    131062: "WhatsApp cannot send this message to a customer known only by their username (no phone number)",
}

TEMPLATE_CATEGORIES = ("utility", "marketing", "authentication")


class WhatsAppSender:
    """``Sender`` for channel ``whatsapp``.

    ``message.recipient`` is the customer's ``wa_id``; ``message.in_reply_to`` the ``wamid`` of the message answered
    (sent as ``context``); ``message.extra`` may carry ``phone_number_id`` (the business number the customer wrote
    to, from the webhook's ``metadata``) and ``whatsapp_template`` (send that approved template instead of the text).
    A message of kind ``read`` marks ``in_reply_to`` read instead of sending anything.
    """

    CHANNELS = ("whatsapp",)

    def __init__(
        self,
        access_token: str,
        *,
        phone_number_id: str = "",
        graph_version: str = "v21.0",
        session: requests.Session | None = None,
        base_url: str = "https://graph.facebook.com",
        timeout: float = DEFAULT_TIMEOUT,
    ):
        if not access_token:
            raise ValueError("a WhatsApp access token is required")
        self._token = access_token
        self._phone_number_id = phone_number_id
        self._graph_version = graph_version.strip("/")
        self._session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return (f"WhatsAppSender(phone_number_id={self._phone_number_id!r}, graph_version={self._graph_version!r}, "
                f"base_url={self._base_url!r})")

    # -- what is sent ---------------------------------------------------------------------------

    def body(self, message: OutboundMessage) -> dict[str, Any]:
        """The JSON body of one message (without the token)."""
        if message.channel != "whatsapp":
            raise SendError(f"WhatsAppSender cannot send on channel {message.channel!r}", retryable=False)
        if message.kind == READ_KIND:
            _require(message.in_reply_to, "a read receipt needs the id of the customer's message")
            return {"messaging_product": "whatsapp", "status": "read", "message_id": message.in_reply_to}
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                **addressee(message.recipient, message.extra or {})}
        template = (message.extra or {}).get("whatsapp_template")
        if template:
            body.update(type="template", template=template_object(template))
        else:
            _require(message.text.strip(), "a WhatsApp message needs text")
            body.update(type="text", text={"body": message.text, "preview_url": False})
        if message.in_reply_to:
            body["context"] = {"message_id": message.in_reply_to}
        return body

    def url(self, message: OutboundMessage) -> str:
        phone_number_id = str((message.extra or {}).get("phone_number_id") or self._phone_number_id)
        _require(phone_number_id, "no WhatsApp phone number id: set WHATSAPP_PHONE_NUMBER_IDS")
        if not phone_number_id.isdigit():
            raise SendError("the WhatsApp phone number id must be digits", retryable=False)
        return f"{self._base_url}/{self._graph_version}/{phone_number_id}/messages"

    # -- sending --------------------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> SendResult:
        body, url = self.body(message), self.url(message)
        try:
            response = self._session.post(url, json=body, timeout=self._timeout,
                                          headers={"Authorization": f"Bearer {self._token}"})
        except requests.exceptions.ReadTimeout as exc:  # sent, and no answer: WhatsApp may have delivered it
            raise SendError("no answer from the WhatsApp Cloud API in time", retryable=False,
                            outcome_unknown=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"WhatsApp Cloud API network error: {type(exc).__name__}", retryable=True) from exc

        answer = _json_or_empty(response)
        if 200 <= response.status_code < 300 and "error" not in answer:
            if message.kind == READ_KIND:
                return SendResult(external_id=message.in_reply_to)
            messages = answer.get("messages")
            first = messages[0] if isinstance(messages, list) and messages else None
            external_id = first.get("id") if isinstance(first, dict) else None
            return SendResult(external_id=str(external_id or ""))
        raise self._error(response, answer)

    def _error(self, response: requests.Response, answer: JsonObject) -> SendError:
        error = jv.obj(answer, "error")
        code = _int_or_none(error.get("code"))
        status = response.status_code
        rate_limited = status == 429 or code in RATE_LIMIT_CODES
        retryable = code not in PERMANENT_CODES and code != REENGAGEMENT and (
            rate_limited or status >= 500 or code in TRANSIENT_CODES)
        detail = f"HTTP {status}" + (f" code {code}" if code is not None else "")
        data = jv.obj(error, "error_data")
        said = str(data.get("details") or error.get("message") or "")
        if said:
            detail += f": {said[:300]}"
        detail = self._redact(detail)
        if code is not None and code in REASONS:
            return SendError(f"WhatsApp refused the message: {REASONS[code]} ({detail})", retryable=False)
        if code is not None and 132000 <= code <= 132015:
            return SendError(f"WhatsApp refused the template (check its name, language and parameters against "
                             f"the approved template) ({detail})", retryable=False)
        retry_after = _retry_after(response) if retryable else None
        if rate_limited and retry_after is None:
            retry_after = 6.0 if code == 131056 else 60.0  # the pair rate: one message every 6 seconds
        kind = "rate limited" if rate_limited else "rejected"
        return SendError(f"WhatsApp Cloud API {kind}: {detail}", retryable=retryable, retry_after=retry_after)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[redacted]")


def addressee(recipient: str, extra: Mapping[str, Any]) -> dict[str, str]:
    """Whom to send to: ``to`` with the customer's phone number (``wa_id``, digits) when known, which Meta prefers;
    else ``recipient`` with their business-scoped user id (BSUID, ``US.1349…``), for a customer who hides their
    number behind a username."""
    for number in (str(extra.get("wa_id") or ""), recipient):
        if number.isdigit():
            return {"to": number}
    user_id = str(extra.get("user_id") or "") or recipient
    _require(user_id, "a WhatsApp message needs the customer's WhatsApp id (wa_id) or business-scoped user id")
    return {"recipient": user_id}


def template_object(template: Mapping[str, Any]) -> dict[str, Any]:
    """The Cloud API's ``template`` object from the brand's template choice (``{"name", "language", "category",
    "parameters"}``): the body's parameters as text, in order."""
    name = str(template.get("name") or "")
    language = str(template.get("language") or "")
    _require(name, "a WhatsApp template needs its name")
    _require(language, "a WhatsApp template needs its language code")
    parameters = template.get("parameters") or []
    if not isinstance(parameters, (list, tuple)):
        raise SendError("a WhatsApp template's parameters must be a list of texts", retryable=False)
    result: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        result["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(value)}
                                                                 for value in parameters]}]
    return result


def _require(value: str, reason: str) -> None:
    if not value:
        raise SendError(reason, retryable=False)
