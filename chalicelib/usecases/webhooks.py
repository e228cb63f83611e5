"""Inbound endpoints' use cases: verify, validate, parse, enqueue the mentions (parsed here, once: the queue carries
``domain.inbound.InboundEnvelope``, never the platform's payload). A refusal raises one of ``usecases.errors`` with a
message a person understands; nothing that is refused reaches the queue. An event the store cannot hold
(``domain.mention.Unstorable``: an id longer than a DynamoDB key may be) is refused here rather than accepted and
retried onto the dead-letter queue; in a batch (Meta's changes, X's events) only that event is, and the answer names
it (``refused``), its valid neighbours are accepted."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NotRequired, TypedDict

from chalicelib import json_input
from chalicelib.channels import email as email_channel
from chalicelib.channels import form as form_channel
from chalicelib.channels import meta as meta_channel
from chalicelib.channels import threads as threads_channel
from chalicelib.channels import whatsapp as whatsapp_channel
from chalicelib.channels import x as x_channel
from chalicelib.domain.jsonvalue import is_object
from chalicelib.domain.mention import Mention, Unstorable
from chalicelib.domain.ticket import new_reference
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases import whatsapp_statuses
from chalicelib.usecases.errors import (
    Forbidden,
    Invalid,
    Malformed,
    NotAuthenticated,
    NotFound,
    Refused,
    TooLarge,
    TooManyRequests,
    Unsupported,
)
from chalicelib.usecases.ingest import MAX_ENVELOPE_BYTES, TooLargeToQueue, pack, send

MAX_WEBHOOK_BYTES = 1024 * 1024
#: What a parser meeting a payload of the wrong shape can raise: all of it is the sender's malformed input (400),
#: never our 500, and nothing of it reaches the queue.
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError)


class Accepted(TypedDict):
    """The answer to a delivery: how many of its mentions were queued, and the events refused as unstorable."""

    accepted: int
    refused: NotRequired[list[str]]
    statuses: NotRequired[int]  # WhatsApp: statuses of the brand's own messages recorded (never tickets)


class Subscribed(TypedDict):
    """The answer to SNS's subscription confirmation, once confirmed."""

    subscribed: bool


class FormReceipt(TypedDict):
    """The answer to a form submission: its reference and the status page's address (None for a honeypot hit)."""

    reference: str
    status_url: str | None


def _reject(error: type[Refused], message: str, *, channel: str, details: Any = None) -> Refused:
    count("WebhooksRejected", channel=channel, reason=error.__name__)
    logger.warning("inbound rejected", extra={"channel": channel, "refusal": error.__name__, "reason": message})
    return error(message, details)


def _body_json(raw_body: bytes | None, *, channel: str) -> object:
    if not raw_body:
        raise _reject(Malformed, "the request body is empty", channel=channel)
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise _reject(TooLarge, f"the request body is larger than {MAX_WEBHOOK_BYTES} bytes", channel=channel)
    try:
        return json_input.load(raw_body)
    except json_input.BadJson as exc:
        raise _reject(Malformed, str(exc), channel=channel) from None


def _enqueue(svc: Services, mentions: list[Mention], *, channel: str) -> None:
    """The delivery's mentions onto the inbound queue, in as few messages as hold them. Nothing is queued when one
    mention is larger than a queue message holds (an event of more than 250 KB): a clear 413 rather than a failure
    after a part was accepted."""
    try:
        envelopes = pack(mentions, source=channel, received_at=svc.now())
    except TooLargeToQueue:
        raise _reject(TooLarge, f"an event in this delivery is larger than the {MAX_ENVELOPE_BYTES} bytes the "
                                "inbound queue holds", channel=channel) from None
    send(svc, envelopes)


def _accepted(mentions: list[Mention], refused: list[str], *, channel: str) -> Accepted:
    """The answer to a delivery whose unstorable events were left out: refused whole (422) when nothing is left."""
    if not refused:
        return {"accepted": len(mentions)}
    count("WebhookEventsRefused", len(refused), channel=channel)
    if not mentions:
        raise _reject(Invalid, f"nothing in this delivery can be stored: {'; '.join(refused)[:1000]}",
                      channel=channel, details={"refused": refused[:100]})
    logger.warning("inbound events refused", extra={"channel": channel, "refused": refused[:20]})
    return {"accepted": len(mentions), "refused": refused[:100]}


# ---------------------------------------------------------------------------------------------------- X
def x_crc(svc: Services, crc_token: str | None) -> dict[str, str]:
    if not crc_token:
        raise _reject(Malformed, "crc_token query parameter is required", channel="x")
    return x_channel.crc_response(svc.secrets.get("X_CONSUMER_SECRET"), crc_token)


def _signed_json(raw_body: bytes | None, *, valid: Callable[[bytes], bool], header: str, channel: str) -> object:
    """Size first (cheap), then the signature over the raw bytes, then JSON: in that order, for every webhook."""
    if raw_body and len(raw_body) > MAX_WEBHOOK_BYTES:
        raise _reject(TooLarge, f"the request body is larger than {MAX_WEBHOOK_BYTES} bytes", channel=channel)
    if not valid(raw_body or b""):
        raise _reject(NotAuthenticated, f"missing or invalid {header}", channel=channel)
    return _body_json(raw_body, channel=channel)


def receive_x(svc: Services, raw_body: bytes | None, signature: str | None) -> Accepted:
    secret = svc.secrets.get("X_CONSUMER_SECRET")
    payload = _signed_json(raw_body, valid=lambda body: x_channel.verify_signature(secret, body, signature),
                           header=x_channel.SIGNATURE_HEADER, channel="x")
    refused: list[str] = []
    try:
        mentions = x_channel.parse(payload, brand_id=svc.settings.x_account_id, refused=refused)
    except _UNREADABLE as exc:
        raise _reject(Malformed, f"malformed Account Activity event: {exc}", channel="x") from None
    answer = _accepted(mentions, refused, channel="x")
    if mentions:
        _enqueue(svc, mentions, channel="x")
    return answer


# ---------------------------------------------------------------------------------------------------- Meta
def meta_subscribe(svc: Services, params: Mapping[str, str]) -> str:
    challenge = meta_channel.subscribe_challenge(params, svc.secrets.get("META_VERIFY_TOKEN"))
    if challenge is None:
        raise _reject(Forbidden, "hub.mode must be subscribe and hub.verify_token must match", channel="meta")
    return challenge


def receive_meta(svc: Services, raw_body: bytes | None, signature: str | None) -> Accepted:
    secret = svc.secrets.get("META_APP_SECRET")
    payload = _signed_json(raw_body, valid=lambda body: meta_channel.verify_signature(secret, body, signature),
                           header="X-Hub-Signature-256", channel="meta")
    if whatsapp_channel.is_whatsapp(payload):
        return receive_whatsapp(svc, payload)
    refused: list[str] = []
    try:
        mentions = meta_channel.parse(payload, page_ids=set(svc.settings.meta_page_ids),
                                      ig_ids=set(svc.settings.instagram_account_ids), refused=refused)
    except _UNREADABLE as exc:
        raise _reject(Malformed, f"malformed Meta webhook event: {exc}", channel="meta") from None
    answer = _accepted(mentions, refused, channel="meta")
    if mentions:
        _enqueue(svc, mentions, channel="meta")
    return answer


def receive_whatsapp(svc: Services, payload: object) -> Accepted:
    """A WhatsApp Cloud API delivery (already verified: same app secret and route as the other Meta webhooks, ADR
    0028): customers' messages onto the inbound queue, statuses of the brand's own messages recorded. A malformed
    message or status is refused by itself (``refused``) and its neighbours taken."""
    refused: list[str] = []
    try:
        delivery = whatsapp_channel.parse(payload, phone_number_ids=set(svc.settings.whatsapp_phone_number_ids),
                                          refused=refused)
    except _UNREADABLE as exc:
        raise _reject(Malformed, f"malformed WhatsApp webhook event: {exc}", channel="whatsapp") from None
    if refused and not delivery.mentions and not delivery.statuses:
        raise _reject(Invalid, f"nothing in this delivery can be read: {'; '.join(refused)[:1000]}",
                      channel="whatsapp", details={"refused": refused[:100]})
    if delivery.mentions:
        _enqueue(svc, delivery.mentions, channel="meta")  # the entry point: the Meta webhook
    answer: Accepted = {"accepted": len(delivery.mentions)}
    if delivery.statuses:
        answer["statuses"] = whatsapp_statuses.record(svc, delivery.statuses)
    if refused:
        count("WebhookEventsRefused", len(refused), channel="whatsapp")
        logger.warning("inbound events refused", extra={"channel": "whatsapp", "refused": refused[:20]})
        answer["refused"] = refused[:100]
    return answer


# ---------------------------------------------------------------------------------------------------- Threads
def _threads_configured(svc: Services) -> None:
    """A stage without a Threads profile has no Threads webhook (and no secrets to check one with): 404."""
    if not svc.settings.threads_user_id:
        raise _reject(NotFound, "Threads is not configured here (THREADS_USER_ID)", channel="threads")


def threads_subscribe(svc: Services, params: Mapping[str, str]) -> str:
    _threads_configured(svc)
    challenge = threads_channel.subscribe_challenge(params, svc.secrets.get("THREADS_VERIFY_TOKEN"))
    if challenge is None:
        raise _reject(Forbidden, "hub.mode must be subscribe and hub.verify_token must match", channel="threads")
    return challenge


def receive_threads(svc: Services, raw_body: bytes | None, signature: str | None) -> Accepted:
    """A Threads webhook delivery (signed with the Threads app's secret): its replies and mentions onto the inbound
    queue. A change that cannot be read is refused by itself (``refused``) and its neighbours taken."""
    _threads_configured(svc)
    secret = svc.secrets.get("THREADS_APP_SECRET")
    payload = _signed_json(raw_body, valid=lambda body: threads_channel.verify_signature(secret, body, signature),
                           header=threads_channel.SIGNATURE_HEADER, channel="threads")
    settings = svc.settings
    brand = frozenset(v for v in (settings.threads_username, settings.threads_user_id) if v)
    refused: list[str] = []
    try:
        mentions = threads_channel.parse_webhook(payload, brand=brand, refused=refused)
    except _UNREADABLE as exc:
        raise _reject(Malformed, f"malformed Threads webhook event: {exc}", channel="threads") from None
    answer = _accepted(mentions, refused, channel="threads")
    if mentions:
        _enqueue(svc, mentions, channel="threads")
    return answer


# ---------------------------------------------------------------------------------------------------- e-mail
def receive_email(svc: Services, raw_body: bytes | None) -> Accepted | Subscribed:
    message = _body_json(raw_body, channel="email")
    if not is_object(message) or not email_channel.verify_sns_message(message, svc.sns.certificate):
        raise _reject(NotAuthenticated, "the SNS message signature is missing or invalid", channel="email")
    if email_channel.is_subscription_confirmation(message):
        try:
            url = email_channel.subscribe_url(message)
        except ValueError as exc:
            raise _reject(Malformed, str(exc), channel="email") from None
        svc.sns.confirm(url)
        return {"subscribed": True}
    if message.get("Type") != "Notification":
        return {"accepted": 0}
    try:
        mentions = email_channel.parse_sns_notification(message)
    except Unstorable as exc:
        raise _reject(Invalid, f"this e-mail cannot be stored: {exc}", channel="email") from None
    except _UNREADABLE as exc:
        raise _reject(Malformed, f"malformed SES notification: {exc}", channel="email") from None
    if mentions:
        _enqueue(svc, mentions, channel="email")
    return {"accepted": len(mentions)}


# ---------------------------------------------------------------------------------------------------- web form
_FORM_REFUSALS: dict[str, type[Refused]] = {
    "malformed": Malformed, "too_large": TooLarge, "unsupported": Unsupported, "invalid": Invalid}


def receive_form(svc: Services, raw_body: bytes | None, *, client_key: str,
                 content_type: str | None = None) -> FormReceipt:
    """One contact-form submission: a JSON object, or an HTML form's post (``content_type`` URL-encoded or
    multipart; none means JSON). Any other content type is ``Unsupported`` (415), with the same JSON error as every
    refusal: the route accepts every content type so that this answer, not Chalice's, is the one given."""
    submission_id = "F" + uuid.uuid4().hex[:16]
    try:
        mention = form_channel.parse_form(raw_body or b"", submission_id=submission_id, received_at=svc.now(),
                                          content_type=content_type)
    except form_channel.FormError as exc:
        raise _reject(_FORM_REFUSALS[exc.kind], str(exc), channel="form", details=exc.errors) from None
    except Unstorable as exc:  # the form's own limits keep every key field short; this is the last word
        raise _reject(Invalid, f"this message cannot be stored: {exc}", channel="form") from None
    # at most FORM_PER_ADDRESS_PER_HOUR submissions per client (source address) per clock hour
    if not svc.form_limit.try_take(client_key, svc.now().strftime("%Y%m%d%H"),
                                   svc.settings.form_per_address_per_hour):
        raise _reject(TooManyRequests, "too many messages from this address; please try again in an hour",
                      channel="form")
    reference = new_reference()
    # the reference is fixed now so the customer gets it at once; processing creates the ticket under it
    mention = replace(mention, extra={**mention.extra, "reserved_reference": reference})
    if mention.extra.get("honeypot"):
        return {"reference": reference, "status_url": None}
    _enqueue(svc, [mention], channel="form")
    return {"reference": reference, "status_url": svc.links.url(reference)}
