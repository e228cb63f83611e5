"""WhatsApp Cloud API webhooks: parse one ``messages`` delivery into ``Mention``s and message statuses.

Pure functions, no network. The delivery is signed, and the subscription handshake answered, exactly as for the other
Meta webhooks (``channels.meta.verify_signature`` / ``subscribe_challenge``: same app, same app secret, same route).

Shape (Meta, "messages webhook reference", developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
reference/messages, updated May 21, 2026)::

    {"object": "whatsapp_business_account",
     "entry": [{"id": "<WABA id>", "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
         "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234", "user_id": "US.1349…"}],
         "messages": [{"from": "16505551234", "id": "wamid.…", "timestamp": "1749416383", "type": "text",
                       "text": {"body": "Does it come in another color?"}, "context": {"id": "wamid.…"}}],
         "statuses": [{"id": "wamid.…", "status": "failed", "timestamp": "…", "recipient_id": "16505551234",
                       "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}}]}]}

What becomes a message for the agents (``text``):

* ``text``: its body.
* ``image`` / ``video`` / ``document`` / ``audio`` / ``sticker``: the caption; without one "[image]", "[video]",
  "[document: <file name>]", "[voice message]", "[audio]", "[sticker]". A photo of a ticket or a receipt sent without
  a word still asks something of the brand: silence would be the worst answer, so it becomes a message the agent
  sees (and the customer gets the neutral acknowledgement). The media id, type and MIME type are kept in
  ``extra["media"]`` so that an agent's tool can fetch it with the Cloud API's media endpoint (the webhook carries no
  public address).
* ``interactive``: the title of the ``button_reply`` or ``list_reply`` the customer tapped.
* ``button`` (a template's quick reply): its text.
* ``location``: "Location: <name>, <address> (<latitude>, <longitude>)".
* ``contacts`` (a contact card the customer shared): "Shared contact: <name>" — never its phone numbers or addresses,
  which are a third person's personal data.
* ``reaction``, ``unsupported``, ``system``, ``request_welcome``, ``order`` and any type not listed: nothing to answer.

``context.id`` (the customer quoting one of our messages) becomes ``Mention.reply_to``.

One customer per WhatsApp account: ``author_id`` and ``conversation_id`` are the ``wa_id`` (the phone number in E.164
digits, personal data) or, for a user who hides their number behind a username, the business-scoped user id
(``contacts[].user_id``, "BSUID", Meta, "Business-scoped user IDs", updated Nov 5, 2026). ``extra`` holds
``phone_number_id`` (the brand's number the reply is sent from), ``display_phone_number``, ``wa_id`` and
``user_id`` when known, the message ``type`` and what came with it.

Only messages to the brand's own numbers are taken: ``phone_number_ids`` (setting ``WHATSAPP_PHONE_NUMBER_IDS``);
when it is empty, every number the entry's changes name (one WhatsApp Business Account's numbers). A message whose
sender is the receiving number itself (an echo of the business's own message) is skipped.

``value.statuses[]`` (sent / delivered / read / failed, with ``errors[]``) are returned separately
(``Delivery.statuses``): never a mention, never acknowledged.

A structure that is not what Meta documents raises ``ValueError`` naming the offending path. Inside ``messages`` and
``statuses`` a malformed item, or one the store cannot hold (``Unstorable``), is left out and its path and reason
added to ``refused`` when the caller passes that list, so that its neighbours in the batch are read all the same;
without the list, the first one raises.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.domain.mention import Mention

OBJECT = "whatsapp_business_account"
#: Statuses a business message goes through (a status not listed is kept as Meta names it).
STATUSES = ("sent", "delivered", "read", "failed")
#: Media message types, and what an agent reads for one without a caption.
_MEDIA = {"image": "[image]", "video": "[video]", "document": "[document]", "audio": "[audio]",
          "sticker": "[sticker]"}
#: Message types whose content is read (besides ``contacts``); any other type asks nothing of the brand.
_READ_TYPES = frozenset({"text", *_MEDIA, "interactive", "button", "location"})
#: Message types that ask nothing of the brand.
IGNORED_TYPES = frozenset({"reaction", "unsupported", "system", "request_welcome", "order", "ephemeral", "unknown"})


@dataclass(frozen=True)
class StatusError:
    """One of a failed status's ``errors[]``: Meta's code, title and (when given) details."""

    code: int | None
    title: str
    details: str = ""

    @property
    def reason(self) -> str:
        """How an agent reads it: "131026 Message undeliverable"."""
        words = self.details or self.title or "no reason given"
        return f"{self.code} {words}" if self.code is not None else words


@dataclass(frozen=True)
class Status:
    """What became of a message the brand sent (``message_id``: the ``wamid`` the messages endpoint answered)."""

    message_id: str
    status: str
    at: datetime
    phone_number_id: str
    #: The customer's wa_id (personal data: kept for the reply's ticket, never logged).
    recipient_id: str = ""
    errors: tuple[StatusError, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def summary(self) -> str:
        """"delivered", "read", "failed: 131026 Message undeliverable"."""
        if self.failed:
            return "failed: " + ("; ".join(e.reason for e in self.errors) or "no reason given")
        return self.status


@dataclass(frozen=True)
class Delivery:
    """What one webhook POST carries: customers' messages, and statuses of the brand's own messages."""

    mentions: list[Mention] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)


def is_whatsapp(payload: object) -> bool:
    """Whether a Meta webhook body is a WhatsApp Business Account delivery (``object: whatsapp_business_account``)."""
    return is_object(payload) and payload.get("object") == OBJECT


def parse(payload: object, *, phone_number_ids: set[str] | frozenset[str] = frozenset(),
          refused: list[str] | None = None) -> Delivery:
    """The messages and statuses of one webhook body, in delivery order (see the module's docstring)."""
    if not is_object(payload):
        raise ValueError(f"WhatsApp webhook payload must be a JSON object, got {type(payload).__name__}")
    if payload.get("object") != OBJECT:
        raise ValueError(f"WhatsApp webhook 'object' must be {OBJECT!r}, got {payload.get('object')!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValueError("WhatsApp webhook 'entry' must be a list"
                         + ("" if entries is None else f", got {type(entries).__name__}"))
    own = {str(n) for n in phone_number_ids}
    delivery = Delivery()
    for index, raw_entry in enumerate(entries):
        path = f"entry[{index}]"
        entry = _obj(raw_entry, path)
        for c_index, raw_change in enumerate(_list(entry.get("changes"), f"{path}.changes")):
            c_path = f"{path}.changes[{c_index}]"
            change = _obj(raw_change, c_path)
            if change.get("field") != "messages":
                continue  # account updates, template reviews, message echoes… are not customers' messages
            _change(change.get("value"), f"{c_path}.value", own, delivery, refused)
    return delivery


def _change(raw: object, path: str, own: set[str], delivery: Delivery, refused: list[str] | None) -> None:
    value = _obj(raw, path)
    metadata = _obj(value.get("metadata"), f"{path}.metadata")
    phone_number_id = _id(metadata.get("phone_number_id"), f"{path}.metadata.phone_number_id", required=True)
    if own and phone_number_id not in own:
        return  # another number of the same WhatsApp Business Account (not one this brand answers on)
    display = _digits(_str(metadata.get("display_phone_number")))
    contacts = _contacts(value.get("contacts"), f"{path}.contacts")
    for index, raw_message in enumerate(_list(value.get("messages"), f"{path}.messages")):
        m_path = f"{path}.messages[{index}]"
        try:
            mention = _message(raw_message, m_path, phone_number_id, display, contacts)
        except ValueError as exc:  # Unstorable too: an id longer than a key may be
            if refused is None:
                raise
            refused.append(f"{m_path}: {exc}")
            continue
        if mention is not None:
            delivery.mentions.append(mention)
    for index, raw_status in enumerate(_list(value.get("statuses"), f"{path}.statuses")):
        s_path = f"{path}.statuses[{index}]"
        try:
            delivery.statuses.append(_status(raw_status, s_path, phone_number_id))
        except ValueError as exc:
            if refused is None:
                raise
            refused.append(f"{s_path}: {exc}")


def _contacts(raw: object, path: str) -> dict[str, tuple[str, str, str]]:
    """Sender → (wa_id, user_id, profile name), by both ids (a message's ``from`` is one or the other)."""
    found: dict[str, tuple[str, str, str]] = {}
    for index, item in enumerate(_list(raw, path)):
        contact = _obj(item, f"{path}[{index}]")
        wa_id = _id(contact.get("wa_id"), f"{path}[{index}].wa_id")
        user_id = _id(contact.get("user_id"), f"{path}[{index}].user_id")
        profile = _obj(contact.get("profile"), f"{path}[{index}].profile", required=False)
        name = _str(profile.get("name")) or _str(profile.get("username"))
        for key in (wa_id, user_id):
            if key:
                found[key] = (wa_id, user_id, name)
    return found


def _message(raw: object, path: str, phone_number_id: str, display: str,
             contacts: dict[str, tuple[str, str, str]]) -> Mention | None:
    message = _obj(raw, path)
    kind = _str(message.get("type"))
    if not kind:
        raise ValueError(f"WhatsApp webhook {path}.type is missing")
    if kind in IGNORED_TYPES:
        return None
    sender = _id(message.get("from"), f"{path}.from") or _id(message.get("from_user_id"), f"{path}.from_user_id")
    if not sender:
        raise ValueError(f"WhatsApp webhook {path}.from is missing")
    if display and sender == display:
        return None  # the business's own number: an echo, not a customer
    message_id = _id(message.get("id"), f"{path}.id", required=True)
    extra: dict[str, Any] = {"phone_number_id": phone_number_id, "type": kind}
    if display:
        extra["display_phone_number"] = display
    text = _content(message, kind, path, extra)
    if text is None:
        return None
    wa_id, user_id, name = contacts.get(sender, ("", "", ""))
    if not wa_id and not user_id:
        wa_id = sender if _digits(sender) == sender else ""
        user_id = "" if wa_id else sender
    if wa_id:
        extra["wa_id"] = wa_id
    if user_id:
        extra["user_id"] = user_id
    customer = wa_id or user_id
    context = _obj(message.get("context"), f"{path}.context", required=False)
    reply_to = _id(context.get("id"), f"{path}.context.id")
    if context.get("forwarded") is True or context.get("frequently_forwarded") is True:
        extra["forwarded"] = True
    return Mention(channel="whatsapp", external_id=message_id, conversation_id=customer, author_id=customer,
                   author_name=name, text=text, created_at=_when(message.get("timestamp"), f"{path}.timestamp"),
                   visibility="private", reply_to=reply_to, extra=extra)


def _content(message: JsonObject, kind: str, path: str, extra: dict[str, Any]) -> str | None:
    """The words an agent reads for a message of ``kind``, or None for a kind that asks nothing."""
    if kind == "contacts":  # a list of contact cards, not an object
        return _shared_contacts(message.get("contacts"), f"{path}.contacts")
    if kind not in _READ_TYPES:
        return None  # a type this version does not know: nothing of it is read, so nothing of it can be malformed
    body = _obj(message.get(kind), f"{path}.{kind}", required=kind in ("text", *_MEDIA, "location", "button"))
    if kind == "text":
        return _text(body.get("body"), f"{path}.text.body") or None
    if kind in _MEDIA:
        media: dict[str, Any] = {"type": kind}
        media_id = _id(body.get("id"), f"{path}.{kind}.id")
        if media_id:
            media["id"] = media_id
        for key in ("mime_type", "filename"):
            value = _str(body.get(key))
            if value:
                media[key] = value
        if kind == "audio" and body.get("voice") is True:
            media["voice"] = True
        extra["media"] = media
        caption = _text(body.get("caption"), f"{path}.{kind}.caption")
        if caption:
            return caption
        if kind == "document" and media.get("filename"):
            return f"[document: {media['filename']}]"
        return "[voice message]" if media.get("voice") else _MEDIA[kind]
    if kind == "interactive":
        sub = _str(body.get("type"))
        reply = _obj(body.get(sub), f"{path}.interactive.{sub}", required=False) if sub else {}
        title = _text(reply.get("title"), f"{path}.interactive.{sub}.title")
        if sub not in ("button_reply", "list_reply") or not title:
            return None  # a flow's answer (nfm_reply) or an unknown kind: data for a flow, not words to answer
        extra["reply_id"] = _str(reply.get("id"))
        return title
    if kind == "button":
        text = _text(body.get("text"), f"{path}.button.text")
        payload = _str(body.get("payload"))
        if payload:
            extra["button_payload"] = payload
        return text or None
    if kind == "location":
        return _location(body, f"{path}.location")
    return None


def _location(body: JsonObject, path: str) -> str | None:
    words = [w for w in (_text(body.get("name"), f"{path}.name"), _text(body.get("address"), f"{path}.address")) if w]
    latitude, longitude = body.get("latitude"), body.get("longitude")
    for key, value in (("latitude", latitude), ("longitude", longitude)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"WhatsApp webhook {path}.{key} must be a number, got {type(value).__name__}")
    where = ", ".join(words)
    if isinstance(latitude, (int, float)) and isinstance(longitude, (int, float)):
        where = f"{where} ({latitude}, {longitude})".strip()
    return f"Location: {where}" if where else None


def _shared_contacts(raw: object, path: str) -> str | None:
    names: list[str] = []
    for index, item in enumerate(_list(raw, path)):
        card = _obj(item, f"{path}[{index}]")
        name = _obj(card.get("name"), f"{path}[{index}].name", required=False)
        formatted = _str(name.get("formatted_name")) or " ".join(
            w for w in (_str(name.get("first_name")), _str(name.get("last_name"))) if w)
        names.append(formatted or "(no name)")
    return f"Shared contact: {', '.join(names)}" if names else None


def _status(raw: object, path: str, phone_number_id: str) -> Status:
    item = _obj(raw, path)
    status = _str(item.get("status")).lower()
    if not status:
        raise ValueError(f"WhatsApp webhook {path}.status is missing")
    errors: list[StatusError] = []
    for index, raw_error in enumerate(_list(item.get("errors"), f"{path}.errors")):
        error = _obj(raw_error, f"{path}.errors[{index}]")
        code = error.get("code")
        data = error.get("error_data")
        details = _str(data.get("details")) if is_object(data) else ""
        errors.append(StatusError(code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                                  title=_str(error.get("title")) or _str(error.get("message")), details=details))
    return Status(message_id=_id(item.get("id"), f"{path}.id", required=True), status=status,
                  at=_when(item.get("timestamp"), f"{path}.timestamp"), phone_number_id=phone_number_id,
                  recipient_id=_id(item.get("recipient_id"), f"{path}.recipient_id"), errors=tuple(errors))


# --------------------------------------------------------------------------------------------------
# Checked reads: a wrong shape is a ValueError naming its path
# --------------------------------------------------------------------------------------------------


_CHECKED = jv.Checked("WhatsApp webhook")
_obj, _list, _id, _text, _str = _CHECKED.obj, _CHECKED.list, _CHECKED.id, _CHECKED.text, jv.stripped


def _digits(value: str) -> str:
    return "".join(c for c in value if c in "0123456789")


def _when(value: object, path: str) -> datetime:
    """Epoch seconds, as a string (Meta's form) or a number."""
    if isinstance(value, str):
        text = value
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"WhatsApp webhook {path} is not a time in epoch seconds: {text[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"WhatsApp webhook {path} must be a time in epoch seconds")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"WhatsApp webhook {path} is not a valid time: {value!r}") from None


# --------------------------------------------------------------------------------------------------
# Stage local: the webhook body Meta would post for one customer's text message
# --------------------------------------------------------------------------------------------------

#: A WhatsApp id as the local stand-in takes it: a phone number in E.164 digits, without "+" (at most 15 digits).
_WA_ID_DIGITS = (6, 15)


def local_webhook(data: JsonObject, *, now: datetime, phone_number_id: str,
                  display_phone_number: str = "15550000000") -> dict[str, Any]:
    """``{"wa_id", "name"?, "text", "at"?, "reply_to"?}`` → the ``whatsapp_business_account`` body Meta posts for that
    text message, which ``parse`` reads like any other. ValueError (its message names the field) for a short form
    that is not one."""
    wa_id, text, name = data.get("wa_id"), data.get("text"), data.get("name", "")
    low, high = _WA_ID_DIGITS
    if not isinstance(wa_id, str) or not (low <= len(wa_id.lstrip("+")) <= high) or not wa_id.lstrip("+").isascii() \
            or not wa_id.lstrip("+").isdigit():
        raise ValueError(f"wa_id: the customer's WhatsApp number in E.164 digits, {low} to {high} of them "
                         "(447700900123)")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text: required, a non-empty string")
    if not isinstance(name, str):
        raise ValueError("name: must be a string")
    at = now
    if data.get("at") is not None:
        raw_at = data.get("at")
        try:
            at = datetime.fromisoformat(raw_at) if isinstance(raw_at, str) else datetime.min
        except ValueError:
            at = datetime.min
        if at == datetime.min or at.tzinfo is None:
            raise ValueError("at: an ISO-8601 time with its offset (2026-12-06T03:00:00+00:00)")
    reply_to = data.get("reply_to")
    if reply_to is not None and not isinstance(reply_to, str):
        raise ValueError("reply_to: must be a string (the wamid of our message the customer quotes)")
    digits = wa_id.lstrip("+")
    message: dict[str, Any] = {"from": digits, "id": f"wamid.local-{uuid.uuid4().hex}",
                               "timestamp": str(int(at.timestamp())), "type": "text", "text": {"body": text}}
    if reply_to:
        message["context"] = {"from": display_phone_number, "id": reply_to}
    return {"object": OBJECT, "entry": [{"id": "local-waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name.strip()}, "wa_id": digits}],
        "messages": [message]}}]}]}
