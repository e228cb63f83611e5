"""X Account Activity webhook: CRC challenge, signature check and event parsing (pure, no network)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

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


def _tweet_time(value: str) -> datetime:
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def _tweet_text(tweet: dict[str, Any]) -> str:
    extended = tweet.get("extended_tweet") or {}
    return (extended.get("full_text") or tweet.get("full_text") or tweet.get("text") or "").strip()


def _parse_tweet(tweet: dict[str, Any], brand_id: str) -> Mention | None:
    missing = [key for key in ("id_str", "created_at", "user") if not tweet.get(key)]
    if missing:
        raise ValueError(f"tweet event without {', '.join(missing)}")
    user = tweet["user"]
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
        author_handle=user.get("screen_name", ""),
        author_name=user.get("name", ""),
        text=_tweet_text(tweet),
        created_at=_tweet_time(tweet["created_at"]),
        visibility="public",
        language=tweet.get("lang") or "",
        reply_to=reply_to if reply_to not in ("", "None") else "",
        followers=int(user.get("followers_count") or 0),
        extra={"source": "webhook"},
    )


def _parse_dm(event: dict[str, Any], users: dict[str, Any], brand_id: str) -> Mention | None:
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create") or {}
    sender = str(create.get("sender_id") or "")
    if not sender or sender == brand_id:
        return None
    user = users.get(sender) or {}
    created = datetime.fromtimestamp(int(event["created_timestamp"]) / 1000, tz=timezone.utc)
    return Mention(
        channel="x",
        external_id=f"dm-{event['id']}",
        conversation_id=f"dm-{sender}",
        author_id=sender,
        author_handle=user.get("screen_name", ""),
        author_name=user.get("name", ""),
        text=((create.get("message_data") or {}).get("text") or "").strip(),
        created_at=created,
        visibility="private",
        followers=int(user.get("followers_count") or 0),
        extra={"source": "webhook", "dm_event_id": str(event["id"])},
    )


def _refuse(refused: list[str] | None, path: str, reason: Unstorable) -> None:
    if refused is not None:
        refused.append(f"{path}: {reason}")


def parse(payload: dict[str, Any], *, brand_id: str = "", refused: list[str] | None = None) -> list[Mention]:
    """Mentions, replies and DMs from one Account Activity delivery; the brand's own events are skipped. An event
    the store cannot hold (``Unstorable``) is left out and its reason added to ``refused``: its neighbours are
    read all the same, by the webhook (and by ``usecases.legacy_envelope``, for a payload an older version queued).
    Any other malformed event refuses the delivery."""
    if not isinstance(payload, dict):
        raise ValueError("an X webhook body must be a JSON object")
    brand_id = str(payload.get("for_user_id") or brand_id)
    mentions: list[Mention] = []
    tweets = payload.get("tweet_create_events") or []
    dms = payload.get("direct_message_events") or []
    if not isinstance(tweets, list) or not isinstance(dms, list):
        raise ValueError("tweet_create_events and direct_message_events must be lists")
    for index, tweet in enumerate(tweets):
        if not isinstance(tweet, dict):
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
    users = payload.get("users") or {}
    for index, event in enumerate(dms):
        if not isinstance(event, dict):
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
