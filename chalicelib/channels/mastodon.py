"""Mastodon: the brand account's mention notifications become ``Mention``s. Pure functions on the API's JSON; the
SDK calls are in ``mastodon_api``.

A status is identified by its id on the brand's instance (``Mention.external_id``); the author by their account id
there (``Mention.author_id``, identity ``mastodon#<id>``) and their full handle ``user@instance`` (identity
``mastodon@user@instance``; a local account's ``acct`` has no instance, so the brand's is added). The status's
HTML ``content`` becomes plain text here (tags dropped, entities decoded, nothing marked safe): every page that
shows it escapes it like any other customer text. A ``direct`` status is private (``visibility``), and the reply
keeps the status's own visibility (``extra["visibility"]``).
"""
from __future__ import annotations

import hashlib
import html
import re
import secrets
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import TypedDict

from chalicelib.channels.base import parse_post_time
from chalicelib.domain.identity import valid_mastodon_handle
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.domain.mention import Mention

CHANNEL = "mastodon"
VISIBILITIES = ("public", "unlisted", "private", "direct")
MAX_CONTENT = 100_000  # characters of HTML read; a status is 500 characters on most instances
MAX_TEXT = 10_000

_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "template", "head", "title"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class NotAMention(ValueError):
    """The notification cannot be read as a status written to the brand; the message says why."""


class MastodonExtra(TypedDict):
    """``Mention.extra`` of a Mastodon status: the author's full handle (``acct``), the status's visibility (the
    reply keeps it), the notification's id, the status's address, and where it was read (``source``)."""

    source: str
    acct: str
    visibility: str
    notification_id: str
    permalink: str


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    """Plain text of a status's HTML: paragraphs and line breaks kept, tags and scripts dropped, entities decoded.
    The result is text, not markup: "&lt;b&gt;" becomes the five characters "<b>", which a page escapes again."""
    parser = _Text()
    parser.feed(content[:MAX_CONTENT])
    parser.close()
    text = _CONTROL.sub("", "".join(parser.parts)).replace("\r", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_TEXT]


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        value = value.isoformat()
    return parse_post_time(value)


def _id(value: object) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if _ID.match(text) else ""


def full_acct(acct: str, instance_url: str) -> str:
    """``user@instance``: a local account's ``acct`` is only ``user``."""
    acct = acct.strip().lstrip("@").lower()
    if "@" not in acct and instance_url:
        acct = f"{acct}@{instance_url.split('://', 1)[-1].split('/', 1)[0].lower()}"
    return acct


def parse_notification(item: object, *, instance_url: str, brand: frozenset[str] = frozenset(),
                       source: str = "poll") -> Mention | None:
    """The mention a notification carries, None for one that is not someone writing to the brand (a favourite, a
    follow, the brand's own status), or ``NotAMention`` with the reason for one that cannot be read."""
    if not is_object(item):
        raise NotAMention("not an object")
    kind = item.get("type")
    if not isinstance(kind, str):
        raise NotAMention("type is missing")
    if kind != "mention":
        return None
    status = item.get("status")
    if not is_object(status):
        raise NotAMention("status is missing")
    return parse_status(status, instance_url=instance_url, brand=brand, source=source, account=item.get("account"),
                        notification_id=_id(item.get("id")), created_at=item.get("created_at"))


def parse_status(status: JsonObject, *, instance_url: str, brand: frozenset[str] = frozenset(), source: str = "poll",
                 account: object = None, notification_id: str = "", created_at: object = None) -> Mention | None:
    """The mention a status (a notification's, or a hashtag timeline's) carries, None for the brand's own status, or
    ``NotAMention`` with the reason for one that cannot be read. ``account``, ``notification_id``, ``created_at``:
    the notification's, where the status came in one."""
    status_id = _id(status.get("id"))
    if not status_id:
        raise NotAMention("status id is missing")
    account = status.get("account") if is_object(status.get("account")) else account
    if not is_object(account):
        raise NotAMention("account is missing")
    account_id = _id(account.get("id"))
    acct = account.get("acct")
    if not account_id or not isinstance(acct, str):
        raise NotAMention("account id or acct is missing")
    acct = full_acct(acct, instance_url)
    if not valid_mastodon_handle(acct):
        raise NotAMention("acct is not user@instance")
    if acct in brand or account_id in brand:
        return None
    visibility = status.get("visibility")
    if not isinstance(visibility, str) or visibility not in VISIBILITIES:
        raise NotAMention("visibility is not one of public, unlisted, private, direct")
    content = status.get("content")
    if not isinstance(content, str):
        raise NotAMention("content is not text")
    text = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{_CONTROL.sub('', ' '.join(spoiler.split()))[:500]}\n\n{text}"  # the content warning is said too
    at = _when(created_at) or _when(status.get("created_at"))
    if at is None:
        raise NotAMention("created_at is not a time")
    url = status.get("url")
    language = status.get("language")
    followers = account.get("followers_count")
    name = account.get("display_name")
    extra: MastodonExtra = {"source": source, "acct": acct, "visibility": visibility,
                            "notification_id": notification_id,
                            "permalink": url if isinstance(url, str) and url.startswith("https://") else ""}
    reply_to = _id(status.get("in_reply_to_id"))
    try:
        return Mention(channel=CHANNEL, external_id=status_id, conversation_id=reply_to or status_id,
                       author_id=account_id, text=text, created_at=at,
                       visibility="private" if visibility == "direct" else "public", author_handle=acct,
                       author_name=name[:200] if isinstance(name, str) else "",
                       language=language[:35] if isinstance(language, str) else "", reply_to=reply_to,
                       followers=followers if isinstance(followers, int) and not isinstance(followers, bool)
                       and followers >= 0 else 0, extra=dict(extra))
    except ValueError as exc:  # e.g. a lone surrogate in the text
        raise NotAMention(str(exc)) from None


# ------------------------------------------------------------------------------------------------ local stack
def local_notification(data: JsonObject, *, now: datetime, instance_url: str) -> JsonObject:
    """Stage local: a mention notification as ``GET /api/v1/notifications`` returns it, from ``{"acct", "text",
    "visibility"?: public|unlisted|private|direct, "in_reply_to_id"?, "display_name"?, "account_id"?}`` (the text is
    HTML-escaped into ``<p>`` as Mastodon renders plain text; the poller's own parser then reads it). A full
    notification object (with ``type``) is passed through as it is."""
    if "type" in data:
        return data
    acct, text = data.get("acct"), data.get("text")
    if not isinstance(acct, str) or not valid_mastodon_handle(full_acct(acct, instance_url)):
        raise NotAMention("acct must be a Mastodon handle such as pat@mastodon.example")
    if not isinstance(text, str) or not text.strip():
        raise NotAMention("text is required")
    visibility = data.get("visibility") or "public"
    if not isinstance(visibility, str) or visibility not in VISIBILITIES:
        raise NotAMention("visibility must be public, unlisted, private or direct")
    status_id = str(int(now.timestamp() * 1000) << 16 | secrets.randbelow(1 << 16))
    account_id = _id(data.get("account_id")) or str(
        int(hashlib.sha256(full_acct(acct, instance_url).encode()).hexdigest()[:14], 16))
    at = now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    username = full_acct(acct, instance_url).split("@")[0]
    account = {"id": account_id, "username": username, "acct": acct.lstrip("@"),
               "display_name": str(data.get("display_name") or ""), "followers_count": 0,
               "url": f"https://{full_acct(acct, instance_url).split('@')[1]}/@{username}"}
    content = "".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n"))
    return {"id": status_id, "type": "mention", "created_at": at, "account": account,
            "status": {"id": status_id, "created_at": at, "in_reply_to_id": _id(data.get("in_reply_to_id")) or None,
                       "visibility": visibility, "language": "en", "content": content, "spoiler_text": "",
                       "url": f"{account['url']}/{status_id}", "account": account}}
