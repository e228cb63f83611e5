"""The scheduled X poller: real tweepy with its HTTP intercepted (responses), real SQS/DynamoDB in moto."""
from __future__ import annotations

import time

import pytest
import responses

from tests.conftest import LambdaContext, receive_all, run_pipeline
from tests.helpers import BRAND_X_ID, ticket_of, tweet_event, x_body, x_headers
from tools.local_stack import scheduled_event

MENTIONS_URL = f"https://api.twitter.com/2/users/{BRAND_X_ID}/mentions"


def tweet(tweet_id: str, text: str, author: str = "42") -> dict:
    return {"id": tweet_id, "text": text, "author_id": author, "conversation_id": tweet_id,
            "created_at": "2026-11-29T02:55:00.000Z", "lang": "en", "edit_history_tweet_ids": [tweet_id]}


def page(tweets: list[dict], next_token: str | None = None) -> dict:
    meta = {"result_count": len(tweets)}
    if tweets:
        meta.update(newest_id=tweets[0]["id"], oldest_id=tweets[-1]["id"])
    if next_token:
        meta["next_token"] = next_token
    return {"data": tweets, "includes": {"users": [{"id": "42", "name": "Pat", "username": "pat"}]}, "meta": meta}


def rate(remaining: int, reset: float) -> dict:
    return {"x-rate-limit-limit": "10", "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(int(reset))}


@pytest.fixture
def x_http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def poll():
    import app as application

    return application.app.handler_map["poll_x"](scheduled_event("poll_x"), LambdaContext())


def test_paginated_poll_enqueues_every_page_then_moves_the_cursor(svc, x_http):
    x_http.get(MENTIONS_URL, json=page([tweet("503", "@ExampleRail refund please"), tweet("502", "@ExampleRail hi")],
                                       next_token="NEXT1"), headers=rate(9, time.time() + 900))
    x_http.get(MENTIONS_URL, json=page([tweet("501", "@ExampleRail my train is late")]),
               headers=rate(8, time.time() + 900))
    result = poll()
    assert result == {"pages": 2, "fetched": 3, "skipped": 0, "since_id": "503"}
    assert "pagination_token=NEXT1" in x_http.calls[1].request.url
    assert "since_id" not in x_http.calls[0].request.url
    assert len(receive_all("responder-inbound")) == 2  # one message per page
    assert svc.cursors.get("x-mentions") == {"since_id": "503"}


def test_next_poll_asks_only_for_newer_mentions(svc, x_http):
    svc.cursors.put("x-mentions", {"since_id": "503"})
    x_http.get(MENTIONS_URL, json=page([]), headers=rate(9, time.time() + 900))
    poll()
    assert "since_id=503" in x_http.calls[0].request.url


def test_429_records_the_reset_and_skips_until_then_without_sleeping(svc, clock, x_http):
    reset = int(clock.now().timestamp()) + 600
    x_http.get(MENTIONS_URL, status=429, json={"title": "Too Many Requests"}, headers=rate(0, reset))
    started = time.monotonic()
    result = poll()
    assert time.monotonic() - started < 5
    assert result["rate_limited_until"].startswith("2026-11-29T03:10")
    assert poll() == {"skipped": f"rate limited until {result['rate_limited_until']}"}  # no HTTP call made
    assert len(x_http.calls) == 1
    clock.advance(minutes=11)
    x_http.get(MENTIONS_URL, json=page([tweet("600", "@ExampleRail hello")]), headers=rate(9, reset + 900))
    assert poll()["fetched"] == 1


def test_same_mention_by_webhook_and_by_poll_is_stored_once(client, svc, clock, x_http):
    body = x_body(tweet_event("700", "@ExampleRail my train was cancelled", at=clock.now(), user_id="42"))
    client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    x_http.get(MENTIONS_URL, json=page([tweet("700", "@ExampleRail my train was cancelled")]),
               headers=rate(9, time.time() + 900))
    poll()
    run_pipeline()
    assert len(list(svc.tickets.open_tickets())) == 1
    assert ticket_of(svc, "x#700")
