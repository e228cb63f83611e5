"""Bluesky: the brand account's notifications (``app.bsky.notification.listNotifications``) become ``Mention``s, and
replies get their link facets. Pure functions on the platform's JSON; the SDK calls are in ``bluesky_api``.

A post is identified by its ``at://<did>/app.bsky.feed.post/<rkey>`` URI (``Mention.external_id``); the author by
DID (``Mention.author_id``, identity ``bluesky#did:plc:…``) and handle (``bluesky@pat.bsky.social``). A reply keeps
its thread: ``reply_to`` is the parent post's URI, ``conversation_id`` the root's, and ``extra`` carries the content
ids (``cid``, ``root_uri``, ``root_cid``) a reply post needs for its reply reference. Time is the network's
``indexedAt``, not the ``createdAt`` the author's app wrote (which any client can set to anything).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone
from typing import TypedDict

from chalicelib.channels.base import parse_post_time
from chalicelib.domain.identity import valid_bluesky_handle
from chalicelib.domain.jsonvalue import JsonObject, elements, is_object
from chalicelib.domain.mention import Mention

CHANNEL = "bluesky"
#: The notification reasons that are somebody writing to the brand.
REASONS = ("mention", "reply", "quote")
MAX_TEXT = 10_000  # a post is at most 3,000 bytes; anything longer is not a post as the network serves it

_POST_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]{1,2000})/app\.bsky\.feed\.post/([A-Za-z0-9._~:-]{1,512})$")
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}$")
_CID = re.compile(r"^[A-Za-z0-9]{8,200}$")
_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?'\""
_LINK_TYPE = "app.bsky.richtext.facet#link"


class NotAMention(ValueError):
    """The notification cannot be read as a post written to the brand; the message says why."""


class BlueskyExtra(TypedDict):
    """``Mention.extra`` of a Bluesky post: what a reply's reference needs (the post's ``cid``, the thread root's
    ``root_uri``/``root_cid``), why the brand was notified (``reason``, and whether the post ``tagged`` the brand),
    the post's address on bsky.app, and where it was read (``source``)."""

    source: str
    cid: str
    reason: str
    tagged: bool
    root_uri: str
    root_cid: str
    permalink: str


class ByteSlice(TypedDict):
    byteStart: int
    byteEnd: int


# "$type" is not an identifier: the functional form names it.
LinkFeature = TypedDict("LinkFeature", {"$type": str, "uri": str})


class LinkFacet(TypedDict):
    """A rich-text facet making the text at ``index`` (UTF-8 bytes) a link."""

    index: ByteSlice
    features: list[LinkFeature]


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise NotAMention(f"{name} is not text")
    return value


def _strong_ref(value: object, name: str) -> tuple[str, str]:
    if not is_object(value):
        raise NotAMention(f"{name} is not a post reference")
    uri, cid = value.get("uri"), value.get("cid")
    if not isinstance(uri, str) or not _POST_URI.match(uri) or not isinstance(cid, str) or not _CID.match(cid):
        raise NotAMention(f"{name} is not a post reference")
    return uri, cid


def parse_time(value: object) -> datetime | None:
    return parse_post_time(value)


def rkey(uri: str) -> str:
    match = _POST_URI.match(uri)
    return match.group(2) if match else ""


def permalink(handle: str, uri: str) -> str:
    """``https://bsky.app/profile/<handle>/post/<rkey>`` (the DID where the handle is not valid)."""
    match = _POST_URI.match(uri)
    if not match:
        return ""
    who = handle if valid_bluesky_handle(handle) and handle != "handle.invalid" else match.group(1)
    return f"https://bsky.app/profile/{who}/post/{match.group(2)}"


def resolve_facets(text: str, facets: object) -> str:
    """The post's text with each link facet's display text (often shortened, "example.com/abc…") replaced by the
    link's full address. Facets index UTF-8 bytes; one out of range, overlapping another, or not a link is left
    alone, so a hostile facet can only leave the text as written."""
    if not isinstance(facets, list) or not facets:
        return text
    data = text.encode("utf-8", "surrogatepass")
    links: list[tuple[int, int, str]] = []
    for facet in facets[:100]:
        if not is_object(facet):
            continue
        index = facet.get("index")
        if not is_object(index):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or \
                isinstance(end, bool) or not 0 <= start < end <= len(data):
            continue
        uris = [f.get("uri") for f in elements(facet.get("features") or [])
                if is_object(f) and f.get("$type") == _LINK_TYPE]
        uri = next((u for u in uris if isinstance(u, str)), None)
        if uri is not None and uri.startswith(("https://", "http://")) and not any(c.isspace() for c in uri):
            links.append((start, end, uri))
    out, last = [], 0
    for start, end, uri in sorted(links):
        if start < last:
            continue  # overlaps the previous facet
        try:
            shown = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # not on character boundaries
        out.append(data[last:start])
        out.append((shown if shown == uri else uri).encode("utf-8"))
        last = end
    out.append(data[last:])
    return b"".join(out).decode("utf-8", "replace")


def _tags(facets: object, brand: frozenset[str]) -> bool:
    """Whether a post's facets mention the brand's account (a reply or quote that also tags it)."""
    if not isinstance(facets, list):
        return False
    for facet in facets:
        features = facet.get("features") if is_object(facet) else None
        for feature in features if isinstance(features, list) else []:
            if is_object(feature) and feature.get("$type") == "app.bsky.richtext.facet#mention" \
                    and feature.get("did") in brand:
                return True
    return False


def parse_notification(item: object, *, brand: frozenset[str] = frozenset(), source: str = "poll") -> Mention | None:
    """The mention a notification carries, None for a notification that is not someone writing to the brand (a
    like, a follow, the brand's own post), or ``NotAMention`` with the reason for one that cannot be read."""
    if not is_object(item):
        raise NotAMention("not an object")
    reason = item.get("reason")
    if not isinstance(reason, str):
        raise NotAMention("reason is missing")
    if reason not in REASONS:
        return None
    return parse_post(item, reason=reason, brand=brand, source=source)


def parse_post(item: JsonObject, *, reason: str, brand: frozenset[str] = frozenset(),
               source: str = "poll") -> Mention | None:
    """The mention a post view (``uri``, ``cid``, ``author``, ``record``, ``indexedAt``: a notification, or a post
    search's hit) carries, None for the brand's own post, or ``NotAMention`` with the reason for one that cannot be
    read. ``reason``: why it reached the brand (a notification's reason; ``search`` for listening)."""
    uri = item.get("uri")
    match = _POST_URI.match(uri) if isinstance(uri, str) else None
    if match is None or not isinstance(uri, str):
        raise NotAMention("uri is not a post's at:// address")
    cid = item.get("cid")
    if not isinstance(cid, str) or not _CID.match(cid):
        raise NotAMention("cid is missing")
    author = item.get("author")
    if not is_object(author):
        raise NotAMention("author is missing")
    did = author.get("did")
    if not isinstance(did, str) or not _DID.match(did) or did != match.group(1):
        raise NotAMention("author did does not match the post's repository")
    handle = author.get("handle")
    handle = handle.lower() if isinstance(handle, str) and valid_bluesky_handle(handle) else ""
    if did in brand or (handle and handle in brand):
        return None
    record = item.get("record")
    if not is_object(record) or record.get("$type", "app.bsky.feed.post") != "app.bsky.feed.post":
        raise NotAMention("record is not a post")
    text = resolve_facets(_text(record.get("text", ""), "record.text"), record.get("facets"))[:MAX_TEXT]
    at = parse_time(item.get("indexedAt")) or parse_time(record.get("createdAt"))
    if at is None:
        raise NotAMention("indexedAt is not a time")
    reply_to = root_uri = root_cid = ""
    if record.get("reply") is not None:
        reply = record["reply"]
        if not is_object(reply):
            raise NotAMention("record.reply is not a reply reference")
        reply_to, _ = _strong_ref(reply.get("parent"), "record.reply.parent")
        root_uri, root_cid = _strong_ref(reply.get("root"), "record.reply.root")
    langs = record.get("langs")
    language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else ""
    name = author.get("displayName")
    extra: BlueskyExtra = {"source": source, "cid": cid, "reason": reason,
                           "tagged": reason == "mention" or _tags(record.get("facets"), brand),
                           "root_uri": root_uri or uri, "root_cid": root_cid or cid,
                           "permalink": permalink(handle, uri)}
    try:
        return Mention(channel=CHANNEL, external_id=uri, conversation_id=root_uri or uri, author_id=did, text=text,
                       created_at=at, visibility="public", author_handle=handle,
                       author_name=name[:200] if isinstance(name, str) else "", language=language[:35],
                       reply_to=reply_to, extra=dict(extra))
    except ValueError as exc:  # e.g. a lone surrogate in the text
        raise NotAMention(str(exc)) from None


def link_facets(text: str) -> list[LinkFacet]:
    """A link facet for every http(s) address in ``text``, indexed in UTF-8 bytes as Bluesky requires (without
    them a link in a post is plain, unclickable text)."""
    facets: list[LinkFacet] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        start = len(text[: match.start()].encode("utf-8"))
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(url.encode("utf-8"))},
                       "features": [{"$type": _LINK_TYPE, "uri": url}]})
    return facets


# ------------------------------------------------------------------------------------------------ local stack
def _tid() -> str:
    """A record key shaped like Bluesky's (13 characters of base32-sortable)."""
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    return "3" + "".join(secrets.choice(alphabet) for _ in range(12))


def local_notification(data: JsonObject, *, now: datetime) -> JsonObject:
    """Stage local: a notification as ``listNotifications`` returns it, from ``{"handle", "text", "did"?,
    "display_name"?, "reply_to"?: {"uri", "cid"}, "root"?: {"uri", "cid"}}`` (the poller's own parser then reads
    it). A full notification object (with ``uri``) is passed through as it is."""
    if "uri" in data:
        return data
    handle, text = data.get("handle"), data.get("text")
    if not isinstance(handle, str) or not valid_bluesky_handle(handle):
        raise NotAMention("handle must be a Bluesky handle such as pat.bsky.social")
    if not isinstance(text, str) or not text.strip():
        raise NotAMention("text is required")
    did = data.get("did") or "did:plc:" + hashlib.sha256(handle.lower().encode()).hexdigest()[:24]
    if not isinstance(did, str) or not _DID.match(did):
        raise NotAMention("did must be a DID such as did:plc:abc123")
    at = now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    record: dict[str, object] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at, "langs": ["en"],
                                 "facets": link_facets(text)}
    reason = "mention"
    parent = data.get("reply_to")
    if parent:
        record["reply"] = {"parent": parent, "root": data.get("root") or parent}
        reason = "reply"
    return {"uri": f"at://{did}/app.bsky.feed.post/{_tid()}", "cid": "bafyrei" + secrets.token_hex(26),
            "author": {"did": did, "handle": handle.lower(), "displayName": str(data.get("display_name") or "")},
            "reason": reason, "record": record, "isRead": False, "indexedAt": at, "labels": []}
