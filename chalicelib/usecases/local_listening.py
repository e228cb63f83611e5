"""Stage local: posts for listening's search stand-ins (``POST /local/listening/posts``). The local stack never
calls X, Bluesky or Mastodon: a post injected here is kept a day in the state table, in the platform's own shape
(an X post and its author as recent search returns them, a Bluesky post view, a Mastodon status with its tags),
and the stand-ins answer it to the searches, so ``poll_listening`` runs its real path and spends the local X read
budget."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import TypedDict

from chalicelib import json_input
from chalicelib.channels import bluesky, mastodon
from chalicelib.channels.base import parse_post_time
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.identity import valid_bluesky_handle, valid_mastodon_handle
from chalicelib.services import Services
from chalicelib.usecases.errors import Invalid, Malformed, NotFound, TooLarge

MAX_BODY = 256 * 1024
MAX_POSTS = 100
MAX_TEXT = 3000
CHANNELS = ("x", "bluesky", "mastodon")
#: X's recent search reaches the last 7 days.
OLDEST_DAYS = 7
_X_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,15}$")
_X_NAMED = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})(?!\w)")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_SNOWFLAKE_EPOCH_MS = 1288834974657
DEFAULT_HANDLES = {"x": "local_rider", "bluesky": "rider.bsky.social", "mastodon": "rider@mastodon.example"}


class InjectedPost(TypedDict):
    channel: str
    id: str


class InjectedPosts(TypedDict):
    posts: list[InjectedPost]


def inject_posts(svc: Services, raw_body: bytes | None) -> InjectedPosts:
    """``{"channel": "x"|"bluesky"|"mastodon", "text", "handle"?, "name"?, "created_at"?}`` or a list of up to 100
    → 202 ``{"posts": [{"channel", "id"}]}``. Every post is checked before any is kept: a bad one keeps none."""
    if svc.settings.stage != "local":
        raise NotFound("/local/listening/posts exists only in stage local")
    body = raw_body or b""
    if len(body) > MAX_BODY:
        raise TooLarge(f"at most {MAX_BODY} bytes of posts")
    try:
        data = json_input.load(body)
    except json_input.BadJson as exc:
        raise Malformed(f"not JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_POSTS:
        raise Invalid(f"give one post, or a list of 1 to {MAX_POSTS}")
    now = svc.now()
    built: list[tuple[str, str, jv.JsonObject]] = []
    for index, item in enumerate(items):
        where = f"post {index + 1}: " if isinstance(data, list) else ""
        if not jv.is_object(item):
            raise Malformed(f"{where}a post is a JSON object with channel and text")
        try:
            built.append(_post(svc, item, now))
        except ValueError as exc:
            raise Invalid(f"{where}{exc}", details={"post": index}) from None
    for channel, post_id, post in built:
        svc.stores.local_posts.add(channel, now, post_id, post)
    return {"posts": [{"channel": channel, "id": post_id} for channel, post_id, _ in built]}


def _post(svc: Services, item: jv.JsonObject, now: datetime) -> tuple[str, str, jv.JsonObject]:
    channel, text = item.get("channel"), item.get("text")
    if channel not in CHANNELS or not isinstance(channel, str):
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text is required, a non-empty string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is at most {MAX_TEXT} characters")
    handle, name = item.get("handle", DEFAULT_HANDLES[channel]), item.get("name", "")
    if not isinstance(handle, str) or not isinstance(name, str) or len(name) > 200:
        raise ValueError("handle and name must be strings (a name at most 200 characters)")
    at = now
    if "created_at" in item:
        parsed = parse_post_time(item.get("created_at"))
        if parsed is None:
            raise ValueError("created_at must be an ISO 8601 time, such as 2026-12-07T23:40:00Z")
        if parsed > now + timedelta(minutes=5) or parsed < now - timedelta(days=OLDEST_DAYS):
            raise ValueError(f"created_at must be within the last {OLDEST_DAYS} days, and not in the future")
        at = parsed
    if channel == "x":
        return _x_post(svc, text, handle, name, at)
    if channel == "bluesky":
        if not valid_bluesky_handle(handle.lstrip("@")):
            raise ValueError("handle must be a Bluesky handle such as rider.bsky.social")
        post = dict(bluesky.local_notification({"handle": handle.lstrip("@"), "text": text, "display_name": name},
                                               now=at))
        for key in ("reason", "isRead"):
            post.pop(key, None)
        return channel, str(post["uri"]), post
    acct = mastodon.full_acct(handle, svc.settings.mastodon_instance_url or "https://mastodon.example")
    if not valid_mastodon_handle(acct):
        raise ValueError("handle must be a Mastodon handle such as rider@mastodon.example")
    notification = mastodon.local_notification({"acct": acct, "text": text, "display_name": name}, now=at,
                                               instance_url=svc.settings.mastodon_instance_url)
    status = dict(jv.obj(notification, "status"))
    status["tags"] = [{"name": tag.lower()} for tag in dict.fromkeys(_HASHTAG.findall(text))]
    status["mentions"] = []
    status["reblog"] = None
    return channel, str(status["id"]), status


def _x_post(svc: Services, text: str, handle: str, name: str, at: datetime) -> tuple[str, str, jv.JsonObject]:
    if not _X_HANDLE.match(handle):
        raise ValueError("handle must be an X username such as local_rider (letters, digits, _; 15 at most)")
    username = handle.lstrip("@")
    millis = int(at.astimezone(timezone.utc).timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS
    tweet_id = str((millis << 22) | secrets.randbelow(1 << 22))
    brand = svc.config.brand.x_handle.lstrip("@").lower()
    mentions = [{"username": named, "id": svc.settings.x_account_id if named.lower() == brand and
                 svc.settings.x_account_id else _user_id(named)} for named in _X_NAMED.findall(text)]
    tweet: jv.JsonObject = {
        "id": tweet_id, "text": text, "author_id": _user_id(username), "conversation_id": tweet_id, "lang": "en",
        "created_at": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "entities": {"mentions": mentions} if mentions else {}}
    user: jv.JsonObject = {"id": _user_id(username), "username": username, "name": name or username,
                           "public_metrics": {"followers_count": 0}}
    return "x", tweet_id, {"tweet": tweet, "user": user}


def _user_id(username: str) -> str:
    return str(int(hashlib.sha256(username.lower().encode()).hexdigest()[:15], 16))
