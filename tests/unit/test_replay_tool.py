"""tools.replay writes each tweet when it is sent, on the app's clock, and says nothing of a language the sample does
not give: 40 tweets are not dated years ahead (the sample opens with a 2011 tweet), 400 are not spread weeks into the
future, and old tweets are not sent in the past."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import responses

from tools.replay import DEFAULT_CSV, inbound, read_rows, replay

BASE = "http://replay.test"
APP_NOW = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)


def sent_tweets(rows, **options) -> list[dict]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/health", json={"time": APP_NOW.isoformat()})
        mock.post(f"{BASE}/webhooks/x", json={"accepted": 1})
        counts = replay(BASE, rows, workers=1, **options)
        bodies = [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]
    assert counts["accepted"] == len(rows)
    return [event for body in bodies for event in body["tweet_create_events"]]


def written(tweet: dict) -> datetime:
    return parsedate_to_datetime(tweet["created_at"])


def test_all_at_once_every_tweet_is_written_now_and_none_says_a_language():
    rows = inbound(read_rows(DEFAULT_CSV))[:40]
    assert min(r.created_at for r in rows).year < 2017  # the sample opens with older tweets
    tweets = sent_tweets(rows)
    assert {written(t) for t in tweets} == {APP_NOW}
    assert all("lang" not in t for t in tweets)


def test_paced_the_spacing_is_kept_from_the_apps_now():
    rows = inbound(read_rows(DEFAULT_CSV))[100:106]
    tweets = sent_tweets(rows, speed=1_000_000.0)
    first = rows[0].created_at
    assert [written(t) for t in tweets] == [
        APP_NOW + timedelta(seconds=int((r.created_at - first).total_seconds() / 1_000_000)) for r in rows]


def test_keep_time_sends_the_tweets_own_times():
    rows = inbound(read_rows(DEFAULT_CSV))[200:203]
    assert [written(t) for t in sent_tweets(rows, keep_time=True)] == [
        r.created_at.replace(microsecond=0) for r in rows]
