"""Meta webhooks (Facebook Page feed, Messenger, Instagram): verify and parse inbound events.

Pure functions, no network:

* ``subscribe_challenge`` answers the ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``
  handshake Meta sends when the webhook is registered.
* ``verify_signature`` checks ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``
  (hex, not base64 as on X).
* ``parse`` turns one webhook POST body into ``Mention``s.

Shapes handled (Graph API webhooks):

``object: "page"``
    ``entry[].changes[]`` with ``field == "feed"``, ``value.item == "comment"``, ``value.verb == "add"``
    → a public ``facebook`` comment. ``entry[].messaging[]`` with a ``message`` → a private ``messenger`` message.
``object: "instagram"``
    ``entry[].changes[]`` with ``field == "comments"`` → a public ``instagram`` comment;
    ``entry[].messaging[]`` with a ``message`` → a private ``instagram`` message.

Everything else (edits, removals, reactions, likes, delivery and read receipts, postbacks, other objects
and fields) is ignored. The account's own posts, comments and echoed messages are skipped. A structure
that is not what Meta documents (``entry`` not a list, an id that is not a string…) raises ``ValueError``
naming the offending path, so the raw event ends up in the dead-letter queue instead of being lost.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import NotRequired, TypedDict

from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import is_object
from chalicelib.domain.mention import Mention, Unstorable

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

#: Epoch values above this are milliseconds (Messenger timestamps), below are seconds (feed created_time).
_MILLISECONDS_THRESHOLD = 100_000_000_000


class FacebookCommentExtra(TypedDict):
    """``Mention.extra`` of a Facebook comment: the Page (``page_id``, ``account_id``), the comment and its post."""

    page_id: str
    account_id: str
    comment_id: str
    post_id: str
    permalink_url: NotRequired[str]


class InstagramCommentExtra(TypedDict):
    """``Mention.extra`` of an Instagram comment: the account (as Meta delivers its id), the comment and its media."""

    page_id: str
    account_id: str
    ig_id: str
    comment_id: str
    media_id: str
    media_product_type: NotRequired[str]


class Attachment(TypedDict):
    """An attachment of a private message, noted by type (and address, when it has one)."""

    type: str
    url: NotRequired[str]


class MessageExtra(TypedDict):
    """``Mention.extra`` of a Messenger or Instagram message: the Page or account, who it was sent to, the sender's
    page-scoped id (``psid`` on Messenger, ``igsid`` on Instagram), and what came with the text."""

    page_id: str
    account_id: str
    recipient_id: str
    ig_id: NotRequired[str]
    igsid: NotRequired[str]
    psid: NotRequired[str]
    attachments: NotRequired[list[Attachment]]
    quick_reply_payload: NotRequired[str]


# --------------------------------------------------------------------------------------------------
# Handshake and signature
# --------------------------------------------------------------------------------------------------


def verify_signature(app_secret: str, raw_body: bytes, header_value: str | None) -> bool:
    """True when ``header_value`` is ``sha256=<hex HMAC-SHA256(app_secret, raw_body)>``.

    False for a missing, empty or malformed header, an empty secret, or a mismatch. The comparison is
    constant time. The hex digest is compared case-insensitively.
    """
    if not app_secret or not isinstance(header_value, str) or not isinstance(raw_body, (bytes, bytearray)):
        return False
    value = header_value.strip()
    if value[: len(_SIGNATURE_PREFIX)].lower() != _SIGNATURE_PREFIX:
        return False
    received = value[len(_SIGNATURE_PREFIX):]
    if len(received) != 64 or not set(received) <= _HEX_DIGITS:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("ascii"))


def subscribe_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo back when Meta's subscribe handshake carries our verify token.

    None when the mode is not ``subscribe``, the token is missing or wrong, the challenge is missing,
    or our own ``verify_token`` is empty (an unconfigured endpoint never verifies).
    """
    if not verify_token or params is None:
        return None
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str) or not challenge:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


def parse(
    payload: object,
    *,
    page_ids: set[str] | frozenset[str] = frozenset(),
    ig_ids: set[str] | frozenset[str] = frozenset(),
    refused: list[str] | None = None,
) -> list[Mention]:
    """Mentions in one webhook body, in delivery order. A change or message the store cannot hold (``Unstorable``:
    an id longer than a key may be) is left out and its path and reason added to ``refused``; its neighbours in the
    batch are read all the same, by the webhook (and by ``usecases.legacy_envelope``, for a payload an older
    version queued).

    ``page_ids`` / ``ig_ids`` are the brand's own Facebook Page ids and Instagram account ids: anything
    authored by them is skipped (the entry's own id is always treated as the brand's).

    ``extra`` always holds ``page_id`` (the entry id: the Page id, or for Instagram the account id as Meta
    delivers it) and ``account_id``; Facebook comments add ``comment_id``/``post_id``, Instagram adds
    ``ig_id``, comments add ``media_id``, messages add ``attachments`` when present.
    """
    if not is_object(payload):
        raise ValueError(f"Meta webhook payload must be a JSON object, got {type(payload).__name__}")
    obj = payload.get("object")
    if obj is None:
        raise ValueError("Meta webhook payload has no 'object' field")
    if not isinstance(obj, str):
        raise ValueError(f"Meta webhook 'object' must be a string, got {type(obj).__name__}")
    entries = payload.get("entry")
    if entries is None:
        raise ValueError("Meta webhook payload has no 'entry' list")
    if not isinstance(entries, list):
        raise ValueError(f"Meta webhook 'entry' must be a list, got {type(entries).__name__}")
    if obj not in ("page", "instagram"):
        return []  # other subscriptions (user, permissions, whatsapp_business_account…) are not ours

    own_pages = {str(i) for i in page_ids}
    own_ig = {str(i) for i in ig_ids}
    mentions: list[Mention] = []
    for index, entry in enumerate(entries):
        path = f"entry[{index}]"
        entry = _obj(entry, path)
        entry_id = _id(entry.get("id"), f"{path}.id", required=True)
        entry_time = entry.get("time")
        own = {entry_id} | (own_pages if obj == "page" else own_ig)

        changes = _list(entry.get("changes"), f"{path}.changes")
        for c_index, change in enumerate(changes):
            c_path = f"{path}.changes[{c_index}]"
            change = _obj(change, c_path)
            field_name = change.get("field")
            try:
                if obj == "page" and field_name == "feed":
                    mention = _feed_comment(change.get("value"), entry_id, entry_time, own, f"{c_path}.value")
                elif obj == "instagram" and field_name == "comments":
                    mention = _ig_comment(change.get("value"), entry_id, entry_time, own, f"{c_path}.value")
                else:
                    continue
            except Unstorable as exc:
                _refuse(refused, c_path, exc)
                continue
            if mention is not None:
                mentions.append(mention)

        messaging = _list(entry.get("messaging"), f"{path}.messaging")
        for m_index, event in enumerate(messaging):
            m_path = f"{path}.messaging[{m_index}]"
            try:
                mention = _message(event, obj, entry_id, entry_time, own, m_path)
            except Unstorable as exc:
                _refuse(refused, m_path, exc)
                continue
            if mention is not None:
                mentions.append(mention)
    return mentions


def _refuse(refused: list[str] | None, path: str, reason: Unstorable) -> None:
    if refused is not None:
        refused.append(f"{path}: {reason}")


def _feed_comment(raw: object, entry_id: str, entry_time: object, own: set[str], path: str) -> Mention | None:
    value = _obj(raw, path)
    if value.get("item") != "comment" or value.get("verb") != "add":
        return None  # posts, reactions, likes, edits and removals are not new customer messages
    author = _obj(value.get("from"), f"{path}.from", required=False)
    author_id = _id(author.get("id"), f"{path}.from.id")
    if author_id in own:
        return None  # the page's own comment (including its replies to customers)
    text = _text(value.get("message"), f"{path}.message")
    if not text:
        return None  # a photo/sticker-only comment carries nothing to answer
    comment_id = _id(value.get("comment_id"), f"{path}.comment_id", required=True)
    post_id = _id(value.get("post_id"), f"{path}.post_id")
    parent_id = _id(value.get("parent_id"), f"{path}.parent_id")
    post = jv.obj(value, "post")
    extra: FacebookCommentExtra = {
        "page_id": entry_id,
        "account_id": entry_id,
        "comment_id": comment_id,
        "post_id": post_id,
    }
    permalink_url = post.get("permalink_url")
    if isinstance(permalink_url, str):
        extra["permalink_url"] = permalink_url
    return Mention(
        channel="facebook",
        external_id=comment_id,
        conversation_id=post_id or comment_id,
        author_id=author_id,
        author_name=_str(author.get("name")),
        text=text,
        created_at=_when(value.get("created_time"), entry_time, f"{path}.created_time"),
        visibility="public",
        reply_to=parent_id if parent_id and parent_id != post_id else "",
        extra=dict(extra),
    )


def _ig_comment(raw: object, entry_id: str, entry_time: object, own: set[str], path: str) -> Mention | None:
    value = _obj(raw, path)
    author = _obj(value.get("from"), f"{path}.from", required=False)
    author_id = _id(author.get("id"), f"{path}.from.id")
    if author_id in own:
        return None  # the account's own comment (including its replies to customers)
    text = _text(value.get("text"), f"{path}.text")
    if not text:
        return None
    comment_id = _id(value.get("id"), f"{path}.id", required=True)
    media = _obj(value.get("media"), f"{path}.media", required=False)
    media_id = _id(media.get("id"), f"{path}.media.id")
    parent_id = _id(value.get("parent_id"), f"{path}.parent_id")
    extra: InstagramCommentExtra = {
        "page_id": entry_id,
        "account_id": entry_id,
        "ig_id": entry_id,
        "comment_id": comment_id,
        "media_id": media_id,
    }
    media_product_type = media.get("media_product_type")
    if isinstance(media_product_type, str):
        extra["media_product_type"] = media_product_type
    return Mention(
        channel="instagram",
        external_id=comment_id,
        conversation_id=media_id or comment_id,
        author_id=author_id,
        author_handle=_str(author.get("username")).lstrip("@"),
        text=text,
        created_at=_when(value.get("timestamp", value.get("created_time")), entry_time, f"{path}.timestamp"),
        visibility="public",
        reply_to=parent_id if parent_id and parent_id != media_id else "",
        extra=dict(extra),
    )


def _message(
    raw: object, obj: str, entry_id: str, entry_time: object, own: set[str], path: str
) -> Mention | None:
    event = _obj(raw, path)
    if event.get("message") is None:
        return None  # delivery, read, postback, reaction, referral, optin… events
    message = _obj(event.get("message"), f"{path}.message")
    if message.get("is_echo") or message.get("is_deleted") or message.get("is_unsupported"):
        return None
    sender = _obj(event.get("sender"), f"{path}.sender", required=False)
    sender_id = _id(sender.get("id"), f"{path}.sender.id", required=True)
    if sender_id in own:
        return None  # sent by the page / account itself
    text = _text(message.get("text"), f"{path}.message.text")
    if not text:
        return None  # attachment-only messages (stickers, images, likes) are not turned into mentions
    mid = _id(message.get("mid"), f"{path}.message.mid", required=True)
    recipient = _obj(event.get("recipient"), f"{path}.recipient", required=False)
    extra: MessageExtra = {
        "page_id": entry_id,
        "account_id": entry_id,
        "recipient_id": _id(recipient.get("id"), f"{path}.recipient.id") or entry_id,
    }
    channel = "messenger"
    if obj == "instagram":
        channel = "instagram"
        extra["ig_id"] = entry_id
        extra["igsid"] = sender_id
    else:
        extra["psid"] = sender_id
    attachments = _attachments(message.get("attachments"), f"{path}.message.attachments")
    if attachments:
        extra["attachments"] = attachments
    quick_reply_payload = jv.obj(message, "quick_reply").get("payload")
    if isinstance(quick_reply_payload, str):
        extra["quick_reply_payload"] = quick_reply_payload
    reply_to = message.get("reply_to")
    reply_mid = ""
    if is_object(reply_to):
        reply_mid = _id(reply_to.get("mid"), f"{path}.message.reply_to.mid")
    return Mention(
        channel=channel,
        external_id=mid,
        conversation_id=sender_id,
        author_id=sender_id,
        text=text,
        created_at=_when(event.get("timestamp"), entry_time, f"{path}.timestamp"),
        visibility="private",
        reply_to=reply_mid,
        extra=dict(extra),
    )


def _attachments(value: object, path: str) -> list[Attachment]:
    noted: list[Attachment] = []
    for index, raw in enumerate(_list(value, path)):
        item = _obj(raw, f"{path}[{index}]")
        note: Attachment = {"type": _str(item.get("type")) or "unknown"}
        url = jv.obj(item, "payload").get("url")
        if isinstance(url, str) and url:
            note["url"] = url
        noted.append(note)
    return noted


# --------------------------------------------------------------------------------------------------
# Small validators: each raises ValueError naming the path
# --------------------------------------------------------------------------------------------------


_CHECKED = jv.Checked("Meta webhook")
_obj, _list, _id, _text, _str = _CHECKED.obj, _CHECKED.list, _CHECKED.id, _CHECKED.text, jv.stripped


def _when(value: object, fallback: object, path: str) -> datetime:
    """An aware UTC datetime from epoch seconds/milliseconds or an ISO-8601 string; else the entry time."""
    for candidate in (value, fallback):
        parsed = _parse_time(candidate)
        if parsed is not None:
            return parsed
    if value is not None:
        raise ValueError(f"Meta webhook {path} is not a valid time: {value!r}")
    raise ValueError(f"Meta webhook {path} is missing and the entry has no usable 'time'")


def _parse_time(value: object) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            value = float(stripped)
        except ValueError:
            try:
                # Graph sometimes renders times as "2024-03-01T22:10:00+0000"
                iso = stripped.replace("Z", "+00:00")
                if len(iso) > 5 and iso[-5] in "+-" and iso[-3] != ":":
                    iso = f"{iso[:-2]}:{iso[-2:]}"
                parsed = datetime.fromisoformat(iso)
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
    if not isinstance(value, (int, float)) or value != value or value < 0:
        return None
    seconds = value / 1000 if value >= _MILLISECONDS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
