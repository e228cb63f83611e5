"""X API v2 adapter: poll mentions and send replies / direct messages through tweepy.

The client never waits on a rate limit (``wait_on_rate_limit=False``): a Lambda must not sleep.
A 429 raises ``RateLimited`` with the reset time, and the caller resumes after it.
Rate-limit headers are read from the last HTTP response seen by the client's ``requests.Session``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
import tweepy

from chalicelib.channels.base import (  # noqa: F401 - the X errors and page type are part of this module's API
    FoundPost,
    MentionsPage,
    OutboundMessage,
    RateLimited,
    SearchPage,
    SendError,
    SendResult,
    XApiError,
    XAuthError,
)
from chalicelib.domain.listening import X_REPLY_RULE
from chalicelib.domain.mention import Mention

#: When a 429 carries no usable reset header, assume the standard 15-minute window.
DEFAULT_RATE_LIMIT_WINDOW = timedelta(minutes=15)

#: X snowflake ids encode their creation time (milliseconds since this epoch) in the high bits.
_SNOWFLAKE_EPOCH_MS = 1288834974657

MENTION_EXPANSIONS = ["author_id", "referenced_tweets.id"]
MENTION_TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "referenced_tweets",
    "author_id",
]
MENTION_USER_FIELDS = ["username", "name", "public_metrics"]
#: Listening's recent search: what a post's mention needs, and its mention entities (a post that tags the brand is
#: left to the mention route) and references (a retweet is skipped).
SEARCH_EXPANSIONS = ["author_id"]
SEARCH_TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "lang", "entities", "referenced_tweets"]


def _epoch_to_datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _to_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _parse_created_at(value: Any, tweet_id: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    # Fall back to the time encoded in the snowflake id.
    try:
        millis = (int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS
        return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(timezone.utc)


class XApi:
    """Thin wrapper over ``tweepy.Client`` for the calls the service makes."""

    def __init__(
        self,
        bearer_token: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        timeout: float = 10.0,
    ):
        self.client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            wait_on_rate_limit=False,
        )
        self._last_headers: Mapping[str, str] = {}
        self.client.session.hooks["response"].append(self._record_response)
        # tweepy sets no timeout: a call that hangs would hold the Lambda (and, for an acknowledgement sent while
        # processing, the inbound batch) until its own timeout
        request: Callable[..., requests.Response] = self.client.session.request

        def request_with_timeout(method: str, url: str, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", timeout)
            return request(method, url, **kwargs)

        self.client.session.request = request_with_timeout

    # -- rate-limit bookkeeping -------------------------------------------------------------

    def _record_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._last_headers = response.headers
        return response

    @property
    def rate_limit_remaining(self) -> int | None:
        """``x-rate-limit-remaining`` of the last response, if it had one."""
        return _to_int(self._last_headers.get("x-rate-limit-remaining"))

    @property
    def rate_limit_reset(self) -> datetime | None:
        """``x-rate-limit-reset`` (epoch seconds) of the last response, as an aware UTC datetime."""
        return _epoch_to_datetime(self._last_headers.get("x-rate-limit-reset"))

    def _reset_from(self, exc: tweepy.TooManyRequests) -> datetime:
        reset_at = _epoch_to_datetime(exc.reset_time) if exc.reset_time is not None else None
        if reset_at is None:
            reset_at = _epoch_to_datetime(exc.response.headers.get("x-rate-limit-reset"))
        return reset_at or datetime.now(timezone.utc) + DEFAULT_RATE_LIMIT_WINDOW

    # -- calls --------------------------------------------------------------------------------

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        """Run one tweepy call and translate its failures into this module's exceptions."""
        self._last_headers = {}
        try:
            return fn(**kwargs)
        except tweepy.TooManyRequests as exc:
            raise RateLimited(self._reset_from(exc), str(exc)) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise XAuthError(str(exc), status=exc.response.status_code) from exc
        except tweepy.HTTPException as exc:
            raise XApiError(str(exc), status=exc.response.status_code) from exc
        except requests.RequestException as exc:
            raise XApiError(f"network error: {type(exc).__name__}") from exc
        except tweepy.TweepyException as exc:
            raise XApiError(str(exc)) from exc

    def fetch_mentions(
        self,
        user_id: str,
        *,
        since_id: str | None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> MentionsPage:
        """One page of mentions of ``user_id``, newest first; the account's own tweets are skipped, and so is a tweet
        that cannot be a mention (an id the store cannot hold), named in ``skipped`` with the reason.

        Raises ``RateLimited`` on 429, ``XAuthError`` on 401/403, ``XApiError`` otherwise.
        """
        response = self._call(
            self.client.get_users_mentions,
            id=user_id,
            since_id=since_id,
            pagination_token=pagination_token,
            max_results=max(5, min(int(max_results), 100)),
            expansions=MENTION_EXPANSIONS,
            tweet_fields=MENTION_TWEET_FIELDS,
            user_fields=MENTION_USER_FIELDS,
            user_auth=self.client.bearer_token is None,
        )
        users = {str(user.id): user.data for user in (response.includes or {}).get("users", [])}
        tweets = response.data or []
        mentions: list[Mention] = []
        skipped: list[str] = []
        for tweet in tweets:
            if str(tweet.data.get("author_id", "")) == str(user_id):
                continue
            try:
                mentions.append(self._to_mention(tweet.data, users))
            except ValueError as exc:  # one the store cannot hold (``Unstorable``) or cannot read: not the page
                skipped.append(f"{str(tweet.data.get('id', ''))[:40]}: {exc}")
        meta = response.meta or {}
        return MentionsPage(
            mentions=mentions,
            skipped=skipped,
            next_token=meta.get("next_token"),
            newest_id=meta.get("newest_id"),
            result_count=_to_int(meta.get("result_count")) or len(tweets),
            rate_limit_remaining=self.rate_limit_remaining,
            rate_limit_reset=self.rate_limit_reset,
        )

    def search_recent(self, query: str, *, since_id: str | None, next_token: str | None, max_results: int,
                      start_time: datetime | None = None) -> SearchPage:
        """One page of X's recent search (the last 7 days), newest first: each post read as the mention the mention
        route would give it, with whether it is a retweet and whom its mention entities name; a post that cannot
        be read is named in ``skipped``. ``reads`` and ``users`` are what X bills for the page.

        Raises ``RateLimited`` on 429, ``XAuthError`` on 401/403, ``XApiError`` otherwise."""
        response = self._call(
            self.client.search_recent_tweets,
            query=query,
            since_id=since_id or None,
            next_token=next_token or None,
            start_time=start_time if since_id is None and next_token is None else None,
            max_results=max(10, min(int(max_results), 100)),
            expansions=SEARCH_EXPANSIONS,
            tweet_fields=SEARCH_TWEET_FIELDS,
            user_fields=MENTION_USER_FIELDS,
            user_auth=self.client.bearer_token is None,
        )
        users = {str(user.id): user.data for user in (response.includes or {}).get("users", [])}
        meta = response.meta or {}
        page = search_page([tweet.data for tweet in response.data or []], users, next_token=meta.get("next_token"),
                           newest_id=meta.get("newest_id"))
        return replace(page, reads=_to_int(meta.get("result_count")) or page.reads,
                       rate_limit_remaining=self.rate_limit_remaining, rate_limit_reset=self.rate_limit_reset)

    @staticmethod
    def _to_mention(data: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> Mention:
        tweet_id = str(data["id"])
        author_id = str(data.get("author_id", ""))
        author = users.get(author_id, {})
        metrics = author.get("public_metrics") or {}
        reply_to = ""
        for ref in data.get("referenced_tweets") or []:
            if ref.get("type") == "replied_to":
                reply_to = str(ref.get("id", ""))
                break
        note = data.get("note_tweet") or {}
        return Mention(
            channel="x",
            external_id=tweet_id,
            conversation_id=str(data.get("conversation_id") or tweet_id),
            author_id=author_id,
            text=note.get("text") or data.get("text", ""),
            created_at=_parse_created_at(data.get("created_at"), tweet_id),
            visibility="public",
            author_handle=str(author.get("username", "")),
            author_name=str(author.get("name", "")),
            language=str(data.get("lang") or ""),
            reply_to=reply_to,
            followers=_to_int(metrics.get("followers_count")) or 0,
            extra={"source": "poll"},
        )


def search_page(tweets: list[Mapping[str, Any]], users: Mapping[str, Mapping[str, Any]], *, next_token: str | None,
                newest_id: str | None) -> SearchPage:
    """A recent search's page from its posts (``data``) and users (``includes.users`` by id): each post read as the
    mention the mention route would give it (``XApi._to_mention``), whether it is a retweet, and whom its mention
    entities name (ids and lowercase usernames); a post that cannot be read is named in ``skipped``. X bills the
    page's posts and distinct users (``reads``, ``users``)."""
    found: list[FoundPost] = []
    skipped: list[str] = []
    for data in tweets:
        try:
            mention = XApi._to_mention(data, users)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # the store cannot hold it, or unreadable
            skipped.append(f"{str(data.get('id', ''))[:40]}: {exc}")
            continue
        entities = data.get("entities") or {}
        named = entities.get("mentions") if isinstance(entities, Mapping) else None
        tags = {str(m.get(k) or "").lower() for m in named or [] if isinstance(m, Mapping)
                for k in ("id", "username")} - {""}
        repost = any(isinstance(ref, Mapping) and ref.get("type") == "retweeted"
                     for ref in data.get("referenced_tweets") or [])
        found.append(FoundPost(mention, repost=repost, tags=frozenset(tags)))
    return SearchPage(found=found, skipped=skipped, cursor=next_token or None, newest_id=newest_id or None,
                      reads=len(tweets), users=len({str(u) for u in users}))


def _api_messages(exc: tweepy.HTTPException) -> str:
    return " ".join(str(m) for m in exc.api_messages).lower()


def _reply_not_allowed(said: str) -> bool:
    """X refused a reply because its author did not mention or quote the account ("Reply to this conversation is
    not allowed because you have not been mentioned or otherwise engaged by the author of the post ...")."""
    return "not allowed" in said and ("mentioned" in said or "engaged" in said or "quoted" in said)


class XSender(XApi):
    """``Sender`` for channel ``x``: a public reply tweet, or a one-to-one direct message."""

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel != "x":
            raise SendError(f"XSender cannot send on channel {message.channel!r}", retryable=False)
        try:
            if message.private:
                if not message.recipient:
                    raise SendError("a direct message needs a recipient user id", retryable=False)
                response = self.client.create_direct_message(
                    participant_id=message.recipient, text=message.text, user_auth=True
                )
                data = response.data or {}
                external_id = data.get("dm_event_id") or data.get("id") or ""
            else:
                response = self.client.create_tweet(
                    text=message.text,
                    in_reply_to_tweet_id=message.in_reply_to or None,
                    user_auth=True,
                )
                data = response.data or {}
                external_id = data.get("id") or ""
        except tweepy.TooManyRequests as exc:
            reset_at = self._reset_from(exc)
            wait = max(0.0, (reset_at - datetime.now(timezone.utc)).total_seconds())
            raise SendError(f"X rate limit: {exc}", retryable=True, retry_after=wait) from exc
        except tweepy.TwitterServerError as exc:
            raise SendError(f"X server error: {exc}", retryable=True) from exc
        except tweepy.Forbidden as exc:
            said = _api_messages(exc)
            if not message.private and message.in_reply_to and _reply_not_allowed(said):
                # a post that neither mentioned nor quoted the brand (listening): final, worded for the agent
                raise SendError(f"{X_REPLY_RULE} (X: {exc})", retryable=False) from exc
            reason = "duplicate content" if "duplicate" in said else "forbidden"
            raise SendError(f"X rejected the message ({reason}): {exc}", retryable=False) from exc
        except tweepy.HTTPException as exc:
            raise SendError(f"X rejected the message: {exc}", retryable=False) from exc
        except requests.exceptions.ReadTimeout as exc:  # sent, and no answer: X may have posted it
            raise SendError("no answer from X in time", retryable=False, outcome_unknown=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"network error: {type(exc).__name__}", retryable=True) from exc
        except tweepy.TweepyException as exc:
            raise SendError(f"X client error: {exc}", retryable=False) from exc
        return SendResult(external_id=str(external_id))
