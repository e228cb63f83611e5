"""Stage local: inject a Bluesky, Mastodon or Threads mention as if the poller had read it, or an e-mail as if SES
had received it (the local stack never calls these platforms, nor SNS). The body is a notification as the platform's
API returns it, or a short form the platform's shape is built from; either way it goes through the channel's own
parser, and its mentions onto the same inbound queue."""
from __future__ import annotations

import base64
import json
import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TypedDict

from chalicelib import json_input
from chalicelib.channels import bluesky, mastodon, threads, whatsapp
from chalicelib.channels import email as email_channel
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.mention import Unstorable
from chalicelib.services import Services
from chalicelib.usecases.errors import Invalid, Malformed, NotFound, TooLarge
from chalicelib.usecases.ingest import enqueue_mentions

MAX_BODY = 64 * 1024
CHANNELS = ("bluesky", "mastodon", "email", "whatsapp", "threads")


class Injected(TypedDict):
    """A queued Bluesky or Mastodon mention: its key, its id on the platform, and the notification it was read from."""

    queued: str
    external_id: str
    notification: jv.JsonObject


class InjectedEmail(TypedDict):
    """A queued e-mail: its mention's key, its id (the Message-ID), and the Message-ID header it was sent with."""

    queued: str
    external_id: str
    message_id: str


class InjectedWhatsApp(TypedDict):
    """A queued WhatsApp message: its mention's key, its id (the wamid) and the webhook body it was read from."""

    queued: str
    external_id: str
    webhook: jv.JsonObject


def inject(svc: Services, channel: str, raw_body: bytes | None) -> Injected | InjectedEmail | InjectedWhatsApp:
    """``{"handle", "text", ...}`` (Bluesky) or ``{"acct", "text", "visibility"?, ...}`` (Mastodon), or the
    platform's own notification object → 202 ``{"queued": "<channel>#<id>", "notification": {...}}``."""
    settings = svc.settings
    if settings.stage != "local":
        raise NotFound(f"/local/{channel}/{'messages' if channel == 'whatsapp' else 'mentions'} exists only in "
                       "stage local")
    if channel not in CHANNELS:
        raise NotFound(f"no local injection for {channel!r} (use {', '.join(CHANNELS)})")
    body = raw_body or b""
    if len(body) > MAX_BODY:
        raise TooLarge(f"a local mention is at most {MAX_BODY} bytes")
    try:
        data = json_input.load(body)
    except json_input.BadJson as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not jv.is_object(data):
        raise Malformed("the body must be a JSON object")
    now = svc.now()
    if channel == "email":
        return _inject_email(svc, data)
    if channel == "whatsapp":
        return _inject_whatsapp(svc, data)
    try:
        if channel == "bluesky":
            notification = bluesky.local_notification(data, now=now)
            mention = bluesky.parse_notification(notification, brand=frozenset({settings.bluesky_handle}),
                                                 source="local")
        elif channel == "threads":  # a reply to the brand's post (reply_to) or a post naming the brand
            notification = threads.local_media(data, now=now)
            brand = frozenset(v for v in (settings.threads_username, settings.threads_user_id) if v)
            field = "replies" if jv.is_object(notification.get("replied_to")) else "mentions"
            mention = threads.parse_media(notification, brand=brand, field=field, source="local")
        else:
            notification = mastodon.local_notification(data, now=now, instance_url=settings.mastodon_instance_url)
            brand = frozenset({settings.mastodon_account} if settings.mastodon_account else set())
            mention = mastodon.parse_notification(notification, instance_url=settings.mastodon_instance_url,
                                                  brand=brand, source="local")
    except (bluesky.NotAMention, mastodon.NotAMention, threads.NotAMention, Unstorable) as exc:
        raise Invalid(str(exc), details={"body": str(exc)}) from None
    if mention is None:
        raise Invalid("not a mention of the brand (another kind of notification, or the brand's own post)")
    enqueue_mentions(svc, [mention], source="local")
    return {"queued": mention.key, "external_id": mention.external_id, "notification": notification}


#: An address the local SES stand-in can put in a From header (SES's own receipt rules take the same)
_ADDRESS = re.compile(r"[!-~]+@[!-~]+\.[!-~]+", re.ASCII)


def _inject_email(svc: Services, data: jv.JsonObject) -> InjectedEmail:
    """``{"from": "pat@example.org", "name"?, "subject"?, "text", "in_reply_to"?}`` -> the SES "Received"
    notification SNS would deliver, parsed by the e-mail channel and queued like ``POST /webhooks/email``."""
    sender, text = data.get("from"), data.get("text")
    problems = {key: "required, a non-empty string" for key, value in (("from", sender), ("text", text))
                if not isinstance(value, str) or not value.strip()}
    for key in ("name", "subject", "in_reply_to"):
        if key in data and not isinstance(data[key], str):
            problems[key] = "must be a string"
    if "from" not in problems and isinstance(sender, str) and not _ADDRESS.fullmatch(sender.strip()):
        problems["from"] = "an e-mail address in plain ASCII, such as pat@example.org"
    if problems or not isinstance(sender, str) or not isinstance(text, str):
        raise Invalid("an e-mail needs from and text", details=problems)
    now = svc.now()
    message = EmailMessage()
    message["From"] = formataddr((jv.text(data, "name"), sender))
    message["To"] = svc.settings.reply_from_address or "help@localhost"
    message["Subject"] = jv.text(data, "subject") or "Customer e-mail"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="local.test")
    in_reply_to = jv.text(data, "in_reply_to")
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(text)
    notification = {"notificationType": "Received",
                    "mail": {"timestamp": now.isoformat(), "messageId": uuid.uuid4().hex, "source": sender,
                             "destination": [message["To"]]},
                    "receipt": {"timestamp": now.isoformat(), "recipients": [message["To"]],
                                "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"},
                                "action": {"type": "SNS", "encoding": "BASE64"}},
                    "content": base64.b64encode(message.as_bytes()).decode()}
    envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": json.dumps(notification)}
    try:
        mentions = email_channel.parse_sns_notification(envelope)
    except ValueError as exc:
        raise Invalid(f"not a readable e-mail: {exc}") from None
    if not mentions:
        raise Invalid("an automatic or bounced e-mail is not answered")
    enqueue_mentions(svc, mentions, source="local")
    return {"queued": mentions[0].key, "external_id": mentions[0].external_id, "message_id": message["Message-ID"]}



def _inject_whatsapp(svc: Services, data: jv.JsonObject) -> InjectedWhatsApp:
    """``{"wa_id": "447700900123", "name"?, "text", "at"?, "reply_to"?}`` -> the Cloud API webhook body Meta would post
    to ``POST /webhooks/meta`` for that text message, read by the WhatsApp parser (to the brand's first number,
    ``WHATSAPP_PHONE_NUMBER_IDS``) and queued like the webhook's messages."""
    numbers = svc.settings.whatsapp_phone_number_ids
    try:
        body = whatsapp.local_webhook(data, now=svc.now(), phone_number_id=numbers[0] if numbers else "local-number")
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise Invalid(f"not a WhatsApp message: {exc}", details={field: reason}) from None
    try:
        delivery = whatsapp.parse(body, phone_number_ids=frozenset(numbers))
    except ValueError as exc:
        raise Invalid(f"not a WhatsApp message: {exc}") from None
    if not delivery.mentions:
        raise Invalid("not a customer's message to one of the brand's numbers")
    enqueue_mentions(svc, delivery.mentions, source="local")
    mention = delivery.mentions[0]
    return {"queued": mention.key, "external_id": mention.external_id, "webhook": body}
