"""tools.replay writes each tweet when it is sent, on the app's clock, and says nothing of a language the sample does
not give: 40 tweets are not dated years ahead (the sample opens with a 2011 tweet), 400 are not spread weeks into the
future, and old tweets are not sent in the past."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
import responses

from tools.replay import inbound, read_rows, replay

BASE = "http://replay.test"
#: Rows as the sample (twcs) has them: it opens with a tweet of 2011, then 2017's traffic, weeks apart
SAMPLE = """tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,115701,True,Tue Mar 08 09:00:00 +0000 2011,@sprintcare hello from 2011,,
2,115702,True,Tue Oct 31 21:45:10 +0000 2017,@AppleSupport my phone keeps crashing,,
3,AppleSupport,False,Tue Oct 31 21:50:00 +0000 2017,@115702 sorry to hear that,,2.0
4,115703,True,Tue Oct 31 21:46:40 +0000 2017,@AmazonHelp where is my parcel,,
5,115704,True,Mon Nov 27 10:00:00 +0000 2017,@VirginTrains train cancelled again,,
6,115705,True,Mon Dec 04 08:30:15 +0000 2017,@SouthwestAir bags lost,,
"""


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE, encoding="utf-8")
    return inbound(read_rows(path))
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


def test_all_at_once_every_tweet_is_written_now_and_none_says_a_language(rows):
    assert len(rows) == 5 and min(r.created_at for r in rows).year < 2017  # the sample opens with older tweets
    tweets = sent_tweets(rows)
    assert {written(t) for t in tweets} == {APP_NOW}
    assert all("lang" not in t for t in tweets)


def test_paced_the_spacing_is_kept_from_the_apps_now(rows):
    rows = rows[1:]  # 2017's traffic, a month apart at most
    tweets = sent_tweets(rows, speed=1_000_000.0)
    first = rows[0].created_at
    assert [written(t) for t in tweets] == [
        APP_NOW + timedelta(seconds=int((r.created_at - first).total_seconds() / 1_000_000)) for r in rows]


def test_keep_time_sends_the_tweets_own_times(rows):
    assert [written(t) for t in sent_tweets(rows, keep_time=True)] == [
        r.created_at.replace(microsecond=0) for r in rows]
