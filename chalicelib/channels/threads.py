"""Threads: replies to the brand's posts and posts that mention the brand become ``Mention``s. Pure functions on the
platform's JSON, shared by the webhook (``POST /webhooks/threads``) and the poller (``usecases.poll_threads``); the
HTTP calls are in ``threads_api``.

A post is identified by its Threads media id (``Mention.external_id``), so the same reply read by the webhook and
by the poller is one mention (its key is ``threads#<id>``). The Threads API gives no user id for another account's
post, only its ``username``: the author is that username (``Mention.author_id``, identity ``threads#<username>``,
alias ``threads@<username>``). Threads usernames are the accounts' Instagram usernames (1 to 30 letters, digits,
``.`` and ``_``), and like them can be changed by their owner. ``reply_to`` is the post replied to
(``replied_to.id``), ``conversation_id`` the thread's root post (``root_post.id``); ``extra`` keeps what a reply
and an agent need (the username, the permalink, the root post and its owner, the webhook field).

Webhooks are Meta's: the subscribe handshake (``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``) and
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`` with the Threads app's secret; the checks are
``channels.meta``'s own. A delivery is ``{"app_id", "topic", "target_id", "time", "values": {"field": "replies" |
"mentions", "value": <a Threads media object>}}`` (``values`` may also be a list of such objects; Meta's usual
``entry[].changes[]`` is read too). Other fields (``publish``, ``delete``) are ignored. The brand's own posts are
skipped (their username is the brand's, or ``is_reply_owned_by_me``).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Protocol, TypedDict

from chalicelib.channels import meta
from chalicelib.channels.base import NotificationsPage, parse_post_time
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.domain.mention import Mention, Unstorable

CHANNEL = "threads"
SIGNATURE_HEADER = "X-Hub-Signature-256"
#: The webhook fields that are somebody writing to the brand.
FIELDS = ("replies", "mentions")
MAX_TEXT = 10_000  # a post is 500 characters; a text attachment up to 10,000

_ID = re.compile(r"^[0-9A-Za-z_]{1,64}$")
_USERNAME = re.compile(r"^[a-z0-9._]{1,30}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

#: Meta's handshake and signature, the same for Threads (with the Threads app's secret and verify token).
verify_signature = meta.verify_signature
subscribe_challenge = meta.subscribe_challenge


class NotAMention(ValueError):
    """The object cannot be read as a Threads post written to the brand; the message says why."""


class ThreadsExtra(TypedDict):
    """``Mention.extra`` of a Threads post: where it was read (``source``: webhook, poll, local), the webhook field
    or feed it came from (``field``: replies, mentions), the author's username, the post's address, the thread's
    root post and the root's owner (the brand, for a reply to one of its posts), and the media type."""

    source: str
    field: str
    username: str
    permalink: str
    root_id: str
    root_owner: str
    media_type: str


class ThreadsSource(Protocol):
    """What the Threads poller reads (``channels.threads_api.ThreadsApi``; on the local stack an empty stand-in):
    pages of Threads media objects, newest first, each as the API's JSON, with the next page's ``after`` cursor."""

    def own_ids(self) -> frozenset[str]:
        """The brand's username and user id: its own posts are skipped."""

    def fetch_mentions(self, *, since: datetime | None, after: str | None, limit: int) -> NotificationsPage:
        """Public posts that mention the brand (``GET /{user-id}/mentions``), written at or after ``since``."""

    def fetch_posts(self, *, limit: int) -> NotificationsPage:
        """The brand's own recent posts (``GET /{user-id}/threads``), newest first: the poller reads their replies."""

    def fetch_replies(self, media_id: str, *, after: str | None, limit: int) -> NotificationsPage:
        """Every reply under one of the brand's posts, nested ones too (``GET /{media-id}/conversation``), newest
        first."""


def valid_username(username: str) -> bool:
    """A Threads username: the account's Instagram username, 1 to 30 of ``a-z 0-9 . _`` (compared in lower case)."""
    return bool(_USERNAME.match(username.strip().lstrip("@").lower()))


def media_id(value: object) -> str:
    """A Threads id as text ("" for anything that is not one)."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if _ID.match(text) else ""


def _ref(item: JsonObject, key: str) -> JsonObject:
    value = item.get(key)
    return value if is_object(value) else {}


def parse_media(item: object, *, brand: frozenset[str] = frozenset(), field: str = "replies",
                source: str = "poll") -> Mention | None:
    """The mention a Threads media object carries (a reply or a post naming the brand), None for the brand's own
    post, or ``NotAMention`` with the reason for one that cannot be read. ``brand``: the brand's username and user
    id (lower case)."""
    if not is_object(item):
        raise NotAMention("not an object")
    post_id = media_id(item.get("id"))
    if not post_id:
        raise NotAMention("id is missing or is not a Threads id")
    username = item.get("username")
    if not isinstance(username, str) or not valid_username(username):
        raise NotAMention("username is missing or is not a Threads username")
    username = username.strip().lstrip("@").lower()
    if username in brand or item.get("is_reply_owned_by_me") is True:
        return None
    text = item.get("text", "")
    if text is None:
        text = ""  # an image or video post without a caption
    if not isinstance(text, str):
        raise NotAMention("text is not text")
    at = parse_post_time(item.get("timestamp"))
    if at is None:
        raise NotAMention("timestamp is not a time")
    replied_to, root = _ref(item, "replied_to"), _ref(item, "root_post")
    reply_to, root_id = media_id(replied_to.get("id")), media_id(root.get("id"))
    owner = root.get("username")
    permalink = item.get("permalink")
    kind = item.get("media_type")
    extra: ThreadsExtra = {
        "source": source, "field": field, "username": username,
        "permalink": permalink if isinstance(permalink, str) and permalink.startswith("https://") else "",
        "root_id": root_id, "root_owner": owner.lower() if isinstance(owner, str) and valid_username(owner) else "",
        "media_type": kind[:40] if isinstance(kind, str) else ""}
    try:
        return Mention(channel=CHANNEL, external_id=post_id, conversation_id=root_id or reply_to or post_id,
                       author_id=username, text=_CONTROL.sub("", text.replace("\r", ""))[:MAX_TEXT].strip(),
                       created_at=at, visibility="public", author_handle=username, reply_to=reply_to,
                       extra=dict(extra))
    except Unstorable:
        raise
    except ValueError as exc:  # e.g. a lone surrogate in the text
        raise NotAMention(str(exc)) from None


def _changes(payload: JsonObject) -> Iterator[tuple[str, object, object]]:
    """(path, field, value) of every change in a delivery, in order. A container of the wrong shape raises
    ``ValueError`` naming it: the delivery is refused whole (400)."""
    values = payload.get("values")
    if values is not None:
        if is_object(values):
            yield "values", values.get("field"), values.get("value")
        elif isinstance(values, list):
            for i, change in enumerate(values):
                if not is_object(change):
                    raise ValueError(f"values[{i}] is not an object")
                yield f"values[{i}]", change.get("field"), change.get("value")
        else:
            raise ValueError("values is neither an object nor a list")
    entries = payload.get("entry")
    if entries is None:
        if values is None:
            raise ValueError("a Threads webhook delivery has values (or entry)")
        return
    if not isinstance(entries, list):
        raise ValueError("entry is not a list")
    for i, entry in enumerate(entries):
        changes = entry.get("changes") if is_object(entry) else None
        if not isinstance(changes, list):
            raise ValueError(f"entry[{i}].changes is not a list")
        for j, change in enumerate(changes):
            if not is_object(change):
                raise ValueError(f"entry[{i}].changes[{j}] is not an object")
            yield f"entry[{i}].changes[{j}]", change.get("field"), change.get("value")


def parse_webhook(payload: object, *, brand: frozenset[str] = frozenset(),
                  refused: list[str] | None = None) -> list[Mention]:
    """Mentions in one webhook delivery, in order: its ``replies`` and ``mentions`` changes, without the brand's
    own posts. A change that cannot be read as a post (no id, no username, no time) or that the store cannot hold is
    left out and named in ``refused`` with the reason; its neighbours are kept. A delivery of the wrong shape raises
    ``ValueError`` (the sender's malformed input: 400)."""
    if not is_object(payload):
        raise ValueError("the delivery is not a JSON object")
    found: list[Mention] = []
    for path, field, value in _changes(payload):
        if field not in FIELDS:
            continue  # publish, delete and whatever Meta adds: nobody writing to the brand
        try:
            mention = parse_media(value, brand=brand, field=str(field), source="webhook")
        except (NotAMention, Unstorable) as exc:
            if refused is not None:
                refused.append(f"{path}: {exc}")
            continue
        if mention is not None:
            found.append(mention)
    return found


# ------------------------------------------------------------------------------------------------ local stack
def local_media(data: JsonObject, *, now: datetime) -> JsonObject:
    """Stage local: a Threads media object as the API and the webhook carry it, from ``{"username", "text",
    "reply_to"?, "root"?, "root_owner"?}`` (``reply_to`` and ``root``: the ids of the post answered and of the
    thread's first post; the poller's and the webhook's own parser then reads it). A full media object (with
    ``id``) is passed through as it is."""
    if "id" in data:
        return data
    username, text = data.get("username"), data.get("text")
    if not isinstance(username, str) or not valid_username(username):
        raise NotAMention("username must be a Threads username such as pat.rides (letters, digits, . and _)")
    if not isinstance(text, str) or not text.strip():
        raise NotAMention("text is required")
    reply_to, root = media_id(data.get("reply_to")), media_id(data.get("root"))
    post_id = str(int(now.timestamp() * 1000) << 16 | secrets.randbelow(1 << 16))
    name = username.strip().lstrip("@").lower()
    item: dict[str, object] = {
        "id": post_id, "username": name, "text": text, "media_type": "TEXT_POST", "shortcode": post_id[-11:],
        "permalink": f"https://www.threads.net/@{name}/post/{post_id[-11:]}",
        "timestamp": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")}
    if reply_to:
        owner = data.get("root_owner")
        item["replied_to"] = {"id": reply_to}
        item["root_post"] = {"id": root or reply_to, "username": owner if isinstance(owner, str) else ""}
    return item
