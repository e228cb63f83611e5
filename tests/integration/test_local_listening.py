"""Stage local's listening: posts injected with ``POST /local/listening/posts`` (the real route, through
``chalice.test.Client``), found by the search stand-ins when ``POST /local/schedules/poll_listening`` runs the real
poller on moto, queued as listened mentions; the local X read budget spent and the search held; bad input refused
with a sentence; the route absent outside stage local; the stand-ins' store the same on DynamoDB and in memory."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.config.delivery import ChannelSpend
from tests.conftest import receive_all, utc

JSON = {"Content-Type": "application/json"}


def post(client, body) -> object:
    return client.http.post("/local/listening/posts", headers=JSON,
                            body=body if isinstance(body, str) else json.dumps(body))


def run(client) -> dict:
    response = client.http.post("/local/schedules/poll_listening")
    assert response.status_code == 200, response.body
    return response.json_body["result"]


def listened() -> list[dict]:
    return [m for message in receive_all("responder-inbound") for body in [json.loads(message["Body"])]
            if body["source"] == "listening" for m in body["mentions"]]


def test_injected_posts_are_found_by_the_next_run_and_queued_as_listened_mentions(client, svc):
    response = post(client, [
        {"channel": "x", "text": "Meridian Rail cancelled the 07:10 again", "handle": "commuter_kate"},
        {"channel": "x", "text": "@MeridianRail where is my train, Meridian Rail?"},
        {"channel": "x", "text": "Off to the Meridian Rail Museum"},
        {"channel": "bluesky", "text": "Meridian trains are packed", "handle": "sam.bsky.social", "name": "Sam"},
        {"channel": "mastodon", "text": "Stuck outside Swindon #MeridianRail", "handle": "pat@fedi.example"},
    ])
    assert response.status_code == 202
    posts = response.json_body["posts"]
    assert [p["channel"] for p in posts] == ["x", "x", "x", "bluesky", "mastodon"] and all(p["id"] for p in posts)

    result = run(client)
    assert (result["x"]["fetched"], result["x"]["queued"]) == (3, 1)
    assert result["bluesky"]["queued"] == 1 and result["mastodon"]["queued"] == 1
    mentions = {m["channel"]: m for m in listened()}
    assert mentions["x"]["external_id"] == posts[0]["id"] and mentions["x"]["author_handle"] == "commuter_kate"
    assert mentions["bluesky"]["external_id"] == posts[3]["id"] and mentions["bluesky"]["author_name"] == "Sam"
    assert mentions["mastodon"]["extra"]["acct"] == "pat@fedi.example"
    assert {m["extra"]["listening"]["source"] for m in mentions.values()} == {"x-search", "bluesky-search",
                                                                              "mastodon-tag"}
    assert svc.allowance.spent("x-reads", "2026-11-29") == 3 * 5_000 + 2 * 10_000  # 3 posts, 2 authors

    again = run(client)  # nothing new: every search answers an empty page
    assert again["x"]["fetched"] == 0 and again["bluesky"]["queued"] == 0 and again["mastodon"]["queued"] == 0


def test_the_local_x_search_stops_when_the_days_read_budget_is_spent(client, svc):
    svc.config = svc.config.model_copy(update={"spend": {**svc.config.spend, "x": ChannelSpend(
        daily_usd=50, read_daily_usd=0.25)}})
    assert post(client, [{"channel": "x", "text": f"Meridian Rail delay number {n}", "handle": f"rider{n}"}
                         for n in range(12)]).status_code == 202
    first = run(client)["x"]
    assert first["queued"] == 12  # $0.25 paid for 16 posts with their users: one page of 12 ($0.18)
    assert post(client, [{"channel": "x", "text": "Meridian Rail again"}]).status_code == 202
    assert run(client)["x"] == {"skipped": "X read budget spent for today ($0.18 of $0.25)"}


@pytest.mark.parametrize(("body", "status", "says"), [
    ("not json", 400, "not JSON"),
    ({"channel": "threads", "text": "Meridian Rail"}, 422, "channel must be one of x, bluesky, mastodon"),
    ({"channel": "x", "text": "  "}, 422, "text is required"),
    ({"channel": "x", "text": "Meridian Rail", "handle": "not a handle!"}, 422, "X username"),
    ({"channel": "bluesky", "text": "Meridian Rail", "handle": "nope"}, 422, "Bluesky handle"),
    ({"channel": "mastodon", "text": "Meridian Rail", "handle": "@@"}, 422, "Mastodon handle"),
    ({"channel": "x", "text": "Meridian Rail", "created_at": "yesterday"}, 422, "ISO 8601"),
    ({"channel": "x", "text": "Meridian Rail", "created_at": "2026-11-01T00:00:00Z"}, 422, "last 7 days"),
    ([], 422, "1 to 100"),
    ([{"channel": "x", "text": "Meridian Rail"}] * 101, 422, "1 to 100"),
    ([{"channel": "x", "text": "Meridian Rail"}, "text"], 400, "post 2: a post is a JSON object"),
])
def test_bad_input_is_refused_with_a_sentence_and_keeps_nothing(client, svc, body, status, says):
    response = post(client, body)
    assert response.status_code == status and says in response.json_body["error"]
    assert svc.stores.local_posts.recent("x", since=utc(2026, 11, 1)) == []


def test_a_post_with_its_own_time_is_found_from_that_time(client, svc, clock):
    at = clock.now() - timedelta(hours=2)
    assert post(client, {"channel": "bluesky", "text": "Meridian Rail strike news",
                         "created_at": at.isoformat()}).status_code == 202
    run(client)
    [mention] = listened()
    assert mention["created_at"].startswith("2026-11-29T01:00")


def test_the_route_exists_only_in_stage_local(client, svc):
    svc.settings = svc.settings.model_copy(update={"stage": "test", "sandbox_outbound": False})
    response = post(client, {"channel": "x", "text": "Meridian Rail"})
    assert response.status_code == 404 and "stage local" in response.json_body["error"]


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_the_local_posts_store_keeps_a_channels_posts_newest_first(request, kind):
    if kind == "memory":
        from chalicelib.store.memory import MemoryLocalPosts

        store = MemoryLocalPosts()
    else:
        request.getfixturevalue("aws")
        from chalicelib.bootstrap import dynamo_stores
        from chalicelib.settings import Settings
        from tests.conftest import LOCAL_ENV

        store = dynamo_stores(Settings.from_env(LOCAL_ENV)).local_posts
    now = utc(2026, 11, 29, 3, 0)
    store.add("x", now - timedelta(minutes=2), "1", {"n": 1})
    store.add("x", now - timedelta(minutes=1), "2", {"n": 2})
    store.add("bluesky", now, "3", {"n": 3})
    assert store.recent("x", since=now - timedelta(days=1)) == [{"n": 2}, {"n": 1}]
    assert store.recent("x", since=now - timedelta(seconds=90)) == [{"n": 2}]
    assert store.recent("mastodon", since=now - timedelta(days=1)) == []


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_a_charge_adds_to_the_days_spend_and_a_new_day_starts_again(request, kind):
    if kind == "memory":
        from chalicelib.store.memory import MemoryAllowance

        allowance = MemoryAllowance()
    else:
        request.getfixturevalue("aws")
        from chalicelib.bootstrap import dynamo_stores
        from chalicelib.settings import Settings
        from tests.conftest import LOCAL_ENV

        allowance = dynamo_stores(Settings.from_env(LOCAL_ENV)).allowance
    assert allowance.charge("x-reads", "2026-11-29", 25_000) == 25_000
    assert allowance.charge("x-reads", "2026-11-29", 5_000) == 30_000
    assert allowance.spent("x-reads", "2026-11-29") == 30_000
    assert allowance.charge("x-reads", "2026-11-30", 1_000) == 1_000
    assert allowance.spent("x-reads", "2026-11-29") == 0 and allowance.spent("x-reads", "2026-11-30") == 1_000


fields = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(
    ["x", "bluesky", "mastodon", "Meridian Rail", "2026-11-29T02:00:00Z", "pat@fedi.example", "pat.bsky.social"])
one = st.dictionaries(st.sampled_from(["channel", "text", "handle", "name", "created_at"]), fields, max_size=5)
bodies = st.one_of(st.binary(max_size=200), one.map(json.dumps), st.lists(one, max_size=3).map(json.dumps))


@given(body=bodies)
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_whatever_arrives_the_answer_is_2xx_or_4xx(client, body):
    response = client.http.post("/local/listening/posts", headers=JSON, body=body)
    assert response.status_code in (202, 400, 413, 422), response.body
