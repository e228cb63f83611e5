"""XApi / XSender against a fake X API v2: tweepy runs for real, its HTTP is intercepted by ``responses``."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from responses import matchers

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.x_api import MentionsPage, RateLimited, XApi, XApiError, XAuthError, XSender

BRAND_ID = "1500000000000000001"
MENTIONS_URL = f"https://api.twitter.com/2/users/{BRAND_ID}/mentions"
TWEETS_URL = "https://api.twitter.com/2/tweets"

USER_CREDS = dict(
    consumer_key="ck-test",
    consumer_secret="cs-test",
    access_token="at-test",
    access_token_secret="ats-test",
)

# Shaped like the documented GET /2/users/:id/mentions response with expansions=author_id,referenced_tweets.id.
PAGE_ONE = {
    "data": [
        {
            "id": "1800000000000000003",
            "text": "@brand no trains from Leeds this morning, what is going on?",
            "author_id": "2244994945",
            "conversation_id": "1800000000000000001",
            "created_at": "2024-06-10T22:40:11.000Z",
            "in_reply_to_user_id": BRAND_ID,
            "lang": "en",
            "referenced_tweets": [{"type": "replied_to", "id": "1800000000000000001"}],
            "edit_history_tweet_ids": ["1800000000000000003"],
        },
        {
            "id": "1800000000000000002",
            "text": "@customer thanks, we are looking into it",
            "author_id": BRAND_ID,
            "conversation_id": "1800000000000000001",
            "created_at": "2024-06-10T22:39:00.000Z",
            "lang": "en",
            "edit_history_tweet_ids": ["1800000000000000002"],
        },
        {
            "id": "1800000000000000001",
            "text": "@brand mi tren no ha llegado",
            "author_id": "783214",
            "conversation_id": "1800000000000000001",
            "created_at": "2024-06-10T22:30:00.000Z",
            "lang": "es",
            "referenced_tweets": [{"type": "quoted", "id": "1700000000000000000"}],
            "edit_history_tweet_ids": ["1800000000000000001"],
        },
    ],
    "includes": {
        "users": [
            {
                "id": "2244994945",
                "name": "Commuter Carla",
                "username": "carla_commutes",
                "public_metrics": {
                    "followers_count": 5321,
                    "following_count": 10,
                    "tweet_count": 99,
                    "listed_count": 1,
                },
            },
            {
                "id": BRAND_ID,
                "name": "Brand",
                "username": "brand",
                "public_metrics": {"followers_count": 100000, "following_count": 1, "tweet_count": 1,
                                   "listed_count": 1},
            },
            {"id": "783214", "name": "Pablo", "username": "pablo"},
        ],
        "tweets": [
            {
                "id": "1700000000000000000",
                "text": "an older tweet",
                "author_id": "783214",
                "edit_history_tweet_ids": ["1700000000000000000"],
            }
        ],
    },
    "meta": {
        "result_count": 3,
        "newest_id": "1800000000000000003",
        "oldest_id": "1800000000000000001",
        "next_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i",
    },
}

PAGE_TWO = {
    "data": [
        {
            "id": "1799999999999999999",
            "text": "@brand is the 07:10 running?",
            "author_id": "99",
            "conversation_id": "1799999999999999999",
            "created_at": "2024-06-10T21:00:00.000Z",
            "lang": "en",
            "edit_history_tweet_ids": ["1799999999999999999"],
        }
    ],
    "includes": {"users": [{"id": "99", "name": "Ann", "username": "ann"}]},
    "meta": {"result_count": 1, "newest_id": "1799999999999999999", "oldest_id": "1799999999999999999"},
}


def rate_headers(remaining: int, reset: int, limit: int = 10) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def api() -> XApi:
    return XApi(bearer_token="bearer-test")


@pytest.fixture
def sender() -> XSender:
    return XSender(**USER_CREDS)


# -- polling ---------------------------------------------------------------------------------


def test_first_page_maps_tweets_to_mentions_and_skips_own(rsps, api):
    reset = int(time.time()) + 600
    rsps.get(MENTIONS_URL, json=PAGE_ONE, headers=rate_headers(7, reset))

    page = api.fetch_mentions(BRAND_ID, since_id=None)

    assert isinstance(page, MentionsPage)
    assert page.result_count == 3
    assert page.next_token == PAGE_ONE["meta"]["next_token"]
    assert page.newest_id == "1800000000000000003"
    assert [m.external_id for m in page.mentions] == ["1800000000000000003", "1800000000000000001"]

    first = page.mentions[0]
    assert first.channel == "x"
    assert first.visibility == "public"
    assert first.conversation_id == "1800000000000000001"
    assert first.author_id == "2244994945"
    assert first.author_handle == "carla_commutes"
    assert first.author_name == "Commuter Carla"
    assert first.followers == 5321
    assert first.language == "en"
    assert first.reply_to == "1800000000000000001"
    assert first.text.startswith("@brand no trains from Leeds")
    assert first.created_at == datetime(2024, 6, 10, 22, 40, 11, tzinfo=timezone.utc)
    assert first.extra == {"source": "poll"}

    second = page.mentions[1]
    assert second.reply_to == ""  # a quote is not a reply
    assert second.language == "es"
    assert second.followers == 0  # no public_metrics returned

    # The request carried the documented fields and app-only auth.
    sent = rsps.calls[0].request
    params = query(rsps.calls[0])
    assert sent.headers["Authorization"] == "Bearer bearer-test"
    assert params["max_results"] == ["100"]
    assert params["expansions"] == ["author_id,referenced_tweets.id"]
    assert params["tweet.fields"] == [
        "created_at,conversation_id,in_reply_to_user_id,lang,referenced_tweets,author_id"
    ]
    assert params["user.fields"] == ["username,name,public_metrics"]
    assert "since_id" not in params
    assert "pagination_token" not in params


def test_pagination_follows_next_token(rsps, api):
    token = PAGE_ONE["meta"]["next_token"]
    rsps.get(
        MENTIONS_URL,
        json=PAGE_TWO,
        match=[matchers.query_param_matcher({"pagination_token": token}, strict_match=False)],
    )
    rsps.get(MENTIONS_URL, json=PAGE_ONE)

    first = api.fetch_mentions(BRAND_ID, since_id="1790000000000000000")
    assert first.next_token == token
    second = api.fetch_mentions(BRAND_ID, since_id="1790000000000000000", pagination_token=first.next_token)

    assert second.next_token is None
    assert [m.external_id for m in second.mentions] == ["1799999999999999999"]
    assert second.mentions[0].author_handle == "ann"
    assert query(rsps.calls[1])["pagination_token"] == [token]
    assert "pagination_token" not in query(rsps.calls[0])


def test_since_id_is_passed_through(rsps, api):
    rsps.get(MENTIONS_URL, json=PAGE_TWO)

    api.fetch_mentions(BRAND_ID, since_id="1799999999999999000", max_results=25)

    params = query(rsps.calls[0])
    assert params["since_id"] == ["1799999999999999000"]
    assert params["max_results"] == ["25"]


def test_rate_limit_headers_are_parsed(rsps, api):
    reset = 1718060400  # 2024-06-10T23:00:00Z
    rsps.get(MENTIONS_URL, json=PAGE_TWO, headers=rate_headers(3, reset))

    page = api.fetch_mentions(BRAND_ID, since_id=None)

    assert page.rate_limit_remaining == 3
    assert page.rate_limit_reset == datetime(2024, 6, 10, 23, 0, 0, tzinfo=timezone.utc)


def test_missing_rate_limit_headers_give_none(rsps, api):
    rsps.get(MENTIONS_URL, json=PAGE_TWO)

    page = api.fetch_mentions(BRAND_ID, since_id=None)

    assert page.rate_limit_remaining is None
    assert page.rate_limit_reset is None


def test_empty_page(rsps, api):
    rsps.get(MENTIONS_URL, json={"meta": {"result_count": 0}})

    page = api.fetch_mentions(BRAND_ID, since_id="1800000000000000003")

    assert page.mentions == []
    assert page.result_count == 0
    assert page.newest_id is None
    assert page.next_token is None


def test_429_raises_rate_limited_with_reset(rsps, api):
    reset = int(time.time()) + 420
    rsps.get(
        MENTIONS_URL,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        headers=rate_headers(0, reset),
    )

    with pytest.raises(RateLimited) as info:
        api.fetch_mentions(BRAND_ID, since_id=None)

    assert info.value.reset_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert info.value.status == 429
    assert len(rsps.calls) == 1  # no waiting, no retry loop


def test_429_without_reset_header_falls_back_to_fifteen_minutes(rsps, api):
    rsps.get(MENTIONS_URL, status=429, json={"title": "Too Many Requests", "status": 429})

    before = datetime.now(timezone.utc)
    with pytest.raises(RateLimited) as info:
        api.fetch_mentions(BRAND_ID, since_id=None)
    after = datetime.now(timezone.utc)

    assert before + timedelta(minutes=15) <= info.value.reset_at <= after + timedelta(minutes=15)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_raise_x_auth_error(rsps, api, status):
    rsps.get(
        MENTIONS_URL,
        status=status,
        json={"title": "Unauthorized", "type": "about:blank", "status": status, "detail": "Unauthorized"},
    )

    with pytest.raises(XAuthError) as info:
        api.fetch_mentions(BRAND_ID, since_id=None)
    assert info.value.status == status
    assert "bearer-test" not in str(info.value)


def test_other_errors_raise_x_api_error(rsps, api):
    rsps.get(MENTIONS_URL, status=503, body="Service Unavailable")
    with pytest.raises(XApiError) as info:
        api.fetch_mentions(BRAND_ID, since_id=None)
    assert not isinstance(info.value, (XAuthError, RateLimited))
    assert info.value.status == 503


def test_network_error_raises_x_api_error(rsps, api):
    rsps.get(MENTIONS_URL, body=requests.ConnectionError("connection reset"))
    with pytest.raises(XApiError) as info:
        api.fetch_mentions(BRAND_ID, since_id=None)
    assert info.value.status is None


def test_user_context_is_used_without_bearer_token(rsps):
    rsps.get(MENTIONS_URL, json=PAGE_TWO)

    XApi(**USER_CREDS).fetch_mentions(BRAND_ID, since_id=None)

    assert rsps.calls[0].request.headers["Authorization"].startswith("OAuth ")


# -- sending ---------------------------------------------------------------------------------


def test_public_reply_posts_tweet_with_reply_body(rsps, sender):
    rsps.post(
        TWEETS_URL,
        status=201,
        json={
            "data": {
                "id": "1800000000000000099",
                "text": "@carla_commutes We're offline until 07:00.",
                "edit_history_tweet_ids": ["1800000000000000099"],
            }
        },
    )

    result = sender.send(
        OutboundMessage(
            channel="x",
            recipient="2244994945",
            text="@carla_commutes We're offline until 07:00. Ref T-1",
            in_reply_to="1800000000000000003",
        )
    )

    assert result.external_id == "1800000000000000099"
    request = rsps.calls[0].request
    assert json.loads(request.body) == {
        "text": "@carla_commutes We're offline until 07:00. Ref T-1",
        "reply": {"in_reply_to_tweet_id": "1800000000000000003"},
    }
    assert request.headers["Authorization"].startswith("OAuth ")  # user context


def test_private_reply_sends_direct_message(rsps, sender):
    url = "https://api.twitter.com/2/dm_conversations/with/2244994945/messages"
    rsps.post(
        url,
        status=201,
        json={"data": {"dm_conversation_id": "1500000000000000001-2244994945", "dm_event_id": "1800000000000000777"}},
    )

    result = sender.send(
        OutboundMessage(channel="x", recipient="2244994945", text="Please send us your booking ref here.", private=True)
    )

    assert result.external_id == "1800000000000000777"
    assert json.loads(rsps.calls[0].request.body) == {"text": "Please send us your booking ref here."}


def test_duplicate_content_is_not_retryable(rsps, sender):
    rsps.post(
        TWEETS_URL,
        status=403,
        json={
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="x", recipient="1", text="same text", in_reply_to="5"))

    assert info.value.retryable is False
    assert "duplicate" in str(info.value)
    assert "same text" not in str(info.value)


def test_server_error_is_retryable(rsps, sender):
    rsps.post(TWEETS_URL, status=503, json={"title": "Service Unavailable", "status": 503})

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="x", recipient="1", text="hello", in_reply_to="5"))

    assert info.value.retryable is True


def test_rate_limited_send_is_retryable_with_retry_after(rsps, sender):
    reset = int(time.time()) + 300
    rsps.post(TWEETS_URL, status=429, json={"title": "Too Many Requests", "status": 429},
              headers=rate_headers(0, reset))

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="x", recipient="1", text="hello", in_reply_to="5"))

    assert info.value.retryable is True
    assert 290 <= info.value.retry_after <= 300


def test_other_client_error_is_not_retryable(rsps, sender):
    rsps.post(
        TWEETS_URL,
        status=400,
        json={"errors": [{"message": "text too long"}], "title": "Invalid Request", "status": 400},
    )

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="x", recipient="1", text="x" * 400, in_reply_to="5"))

    assert info.value.retryable is False


def test_connection_error_is_retryable(rsps, sender):
    rsps.post(TWEETS_URL, body=requests.ConnectionError("connection reset"))

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="x", recipient="1", text="hello", in_reply_to="5"))

    assert info.value.retryable is True


def test_wrong_channel_is_rejected_without_a_call(rsps, sender):
    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="email", recipient="a@example.com", text="hello"))
    assert info.value.retryable is False
    assert len(rsps.calls) == 0


def test_client_never_waits_on_rate_limit():
    assert XApi(bearer_token="b").client.wait_on_rate_limit is False


def test_every_call_has_a_timeout_and_a_post_without_an_answer_is_never_retried(rsps, sender):
    """tweepy sets none; a hanging call would hold the Lambda (and, for an acknowledgement sent while processing,
    the whole inbound batch) until its own timeout. A post that timed out waiting for X's answer may have been
    posted: its outcome is unknown (never sent again automatically); one that could not connect is retried."""
    message = OutboundMessage(channel="x", recipient="42", text="Thanks, Ref R1", in_reply_to="5")
    rsps.post(TWEETS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(SendError) as failed:
        sender.send(message)
    assert failed.value.outcome_unknown and not failed.value.retryable
    assert rsps.calls[0].request.req_kwargs["timeout"] == 10.0
    rsps.replace(responses.POST, TWEETS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(SendError) as refused:
        sender.send(message)
    assert refused.value.retryable and not refused.value.outcome_unknown
