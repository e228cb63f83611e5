"""X Account Activity webhook: CRC challenge, signature check and event parsing (pure, no network)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.domain.mention import Mention, Unstorable

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _digest(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    """Answer to ``GET ?crc_token=``: proves to X that we hold the consumer secret."""
    return {"response_token": _digest(consumer_secret, crc_token.encode())}


def sign(consumer_secret: str, raw_body: bytes) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends for this body (used by tests and the replay tool)."""
    return _digest(consumer_secret, raw_body)


def verify_signature(consumer_secret: str, raw_body: bytes, header_value: str | None) -> bool:
    if not header_value or not header_value.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(consumer_secret, raw_body).encode(), header_value.strip().encode())


def _object(value: object, name: str) -> JsonObject:
    """An object the event must carry where it has one (an absent or empty value reads as an empty object)."""
    if not value:
        return {}
    if not is_object(value):
        raise ValueError(f"{name} is not an object")
    return value


def _string(value: object, name: str) -> str:
    """Text the event must carry where it has some (an absent or empty value reads as no text)."""
    if not value:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _field(user: JsonObject, key: str) -> str:
    """A user's name or handle: text when present (``Mention`` refuses anything else), "" when absent."""
    value = user.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _whole(value: object, name: str) -> int:
    """A timestamp or a count, given as a number or as digits."""
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} is not a number")
    return int(value)


def _tweet_time(value: object) -> datetime:
    return parsedate_to_datetime(_string(value, "created_at")).astimezone(timezone.utc)


def _tweet_text(tweet: JsonObject) -> str:
    extended = _object(tweet.get("extended_tweet"), "extended_tweet")
    return _string(extended.get("full_text") or tweet.get("full_text") or tweet.get("text"), "the tweet's text").strip()


def _https(value: object) -> str:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else ""


def _links_and_media(tweet: JsonObject) -> dict[str, list[dict[str, str]]]:
    """What a tweet's t.co links stand for (``links``: the short link and where it goes) and what it carries
    (``media``: a photo, video or GIF and the address that shows it): for the agent's eyes, never fetched here."""
    extended = _object(tweet.get("extended_tweet"), "extended_tweet")
    entities = jv.obj(extended, "entities") or jv.obj(tweet, "entities")
    links = [{"url": jv.text(u, "url"), "expanded": _https(u.get("expanded_url"))}
             for u in jv.items(entities, "urls") if _https(u.get("expanded_url"))]
    carried = jv.obj(extended, "extended_entities") or jv.obj(tweet, "extended_entities") or entities
    media = [{"type": jv.text(m, "type") or "photo",
              "url": _https(m.get("media_url_https")) or _https(m.get("expanded_url"))}
             for m in jv.items(carried, "media") if _https(m.get("media_url_https")) or _https(m.get("expanded_url"))]
    return {key: found for key, found in (("links", links), ("media", media)) if found}


def _parse_tweet(tweet: JsonObject, brand_id: str) -> Mention | None:
    missing = [key for key in ("id_str", "created_at", "user") if not tweet.get(key)]
    if missing:
        raise ValueError(f"tweet event without {', '.join(missing)}")
    user = _object(tweet["user"], "user")
    author_id = str(user.get("id_str") or user.get("id") or "")
    if not author_id or author_id == brand_id or "retweeted_status" in tweet:
        return None
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    reply_to = str(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id") or "")
    return Mention(
        channel="x",
        external_id=tweet_id,
        conversation_id=str(tweet.get("conversation_id_str") or tweet_id),
        author_id=author_id,
        author_handle=_field(user, "screen_name"),
        author_name=_field(user, "name"),
        text=_tweet_text(tweet),
        created_at=_tweet_time(tweet["created_at"]),
        visibility="public",
        language=_string(tweet.get("lang"), "lang"),
        reply_to=reply_to if reply_to not in ("", "None") else "",
        followers=_whole(user.get("followers_count") or 0, "followers_count"),
        extra={"source": "webhook", **_links_and_media(tweet)},
    )


def _parse_dm(event: JsonObject, users: object, brand_id: str) -> Mention | None:
    if event.get("type") != "message_create":
        return None
    create = _object(event.get("message_create"), "message_create")
    sender = str(create.get("sender_id") or "")
    if not sender or sender == brand_id:
        return None
    user = _object(_object(users, "users").get(sender), f"users.{sender}")
    created = datetime.fromtimestamp(_whole(event["created_timestamp"], "created_timestamp") / 1000, tz=timezone.utc)
    return Mention(
        channel="x",
        external_id=f"dm-{event['id']}",
        conversation_id=f"dm-{sender}",
        author_id=sender,
        author_handle=_field(user, "screen_name"),
        author_name=_field(user, "name"),
        text=_string(_object(create.get("message_data"), "message_data").get("text"), "the message's text").strip(),
        created_at=created,
        visibility="private",
        followers=_whole(user.get("followers_count") or 0, "followers_count"),
        extra={"source": "webhook", "dm_event_id": str(event["id"])},
    )


def _refuse(refused: list[str] | None, path: str, reason: Unstorable) -> None:
    if refused is not None:
        refused.append(f"{path}: {reason}")


def parse(payload: object, *, brand_id: str = "", refused: list[str] | None = None) -> list[Mention]:
    """Mentions, replies and DMs from one Account Activity delivery; the brand's own events are skipped. An event
    the store cannot hold (``Unstorable``) is left out and its reason added to ``refused``: its neighbours are
    read all the same, by the webhook (and by ``usecases.legacy_envelope``, for a payload an older version queued).
    Any other malformed event refuses the delivery."""
    if not is_object(payload):
        raise ValueError("an X webhook body must be a JSON object")
    brand_id = str(payload.get("for_user_id") or brand_id)
    mentions: list[Mention] = []
    tweets = payload.get("tweet_create_events") or []
    dms = payload.get("direct_message_events") or []
    if not isinstance(tweets, list) or not isinstance(dms, list):
        raise ValueError("tweet_create_events and direct_message_events must be lists")
    for index, tweet in enumerate(tweets):
        if not is_object(tweet):
            raise ValueError("each tweet event must be an object")
        try:
            mention = _parse_tweet(tweet, brand_id)
        except Unstorable as exc:
            _refuse(refused, f"tweet_create_events[{index}]", exc)
            continue
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise ValueError(f"malformed tweet event: {exc}") from exc
        if mention and mention.text:
            mentions.append(mention)
    users = payload.get("users")
    for index, event in enumerate(dms):
        if not is_object(event):
            raise ValueError("each direct message event must be an object")
        try:
            mention = _parse_dm(event, users, brand_id)
        except Unstorable as exc:
            _refuse(refused, f"direct_message_events[{index}]", exc)
            continue
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise ValueError(f"malformed direct message event: {exc}") from exc
        if mention and mention.text:
            mentions.append(mention)
    return mentions
