"""Listening's searches through the real clients — tweepy and Mastodon.py with their HTTP intercepted by
``responses``, atproto on an ``httpx.MockTransport`` — run by the app's own ``poll_listening`` schedule, with the
inbound queue, the cursors and the X read budget on moto: the query sent, paging, since_id / since / min_id,
429 → a pause, 401 → one clear error, and the day's read budget lowering ``max_results`` then holding the search."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import responses

from chalicelib.channels.bluesky_api import BlueskyApi
from chalicelib.channels.mastodon_api import MastodonApi
from chalicelib.channels.x_api import XApi
from chalicelib.domain.config.delivery import ChannelSpend
from chalicelib.services import Searches
from tests.conftest import LambdaContext, receive_all
from tests.integration.test_bluesky import BRAND_DID, HANDLE, FakePds
from tools.local_stack import scheduled_event

SEARCH_URL = "https://api.twitter.com/2/tweets/search/recent"
INSTANCE = "https://mastodon.example"
DAY = "2026-11-29"  # the fixed clock's day in London


def poll() -> dict:
    import app as application

    return application.app.handler_map["poll_listening"](scheduled_event("poll_listening"), LambdaContext())


def listening_on(svc, *channels: str, **spend) -> None:
    """The brand file's listening section, searching only ``channels``; ``spend``: the X budget's fields."""
    config = svc.config.model_copy(update={"listening": svc.config.listening.model_copy(
        update={"channels": channels})})
    if spend:
        config = config.model_copy(update={"spend": {**config.spend, "x": ChannelSpend(daily_usd=50, **spend)}})
    svc.config = config


def inbound() -> list[tuple[str, dict]]:
    return [(body["source"], m) for message in receive_all("responder-inbound")
            for body in [json.loads(message["Body"])] for m in body["mentions"]]


def params(call) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(call.request.url).query).items()}


# ---------------------------------------------------------------------------------------------------------------- X
def tweet(tweet_id: str, text: str, *, author: str = "42", mentions: list | None = None) -> dict:
    return {"id": tweet_id, "text": text, "author_id": author, "conversation_id": tweet_id, "lang": "en",
            "created_at": "2026-11-29T02:55:00.000Z", "edit_history_tweet_ids": [tweet_id],
            "entities": {"mentions": mentions or []}}


def x_page(tweets: list[dict], *, users: int = 1, next_token: str | None = None) -> dict:
    meta: dict = {"result_count": len(tweets)}
    if tweets:
        meta.update(newest_id=tweets[0]["id"], oldest_id=tweets[-1]["id"])
    if next_token:
        meta["next_token"] = next_token
    people = [{"id": str(42 + n), "name": f"Rider {n}", "username": f"rider{n}"} for n in range(users)]
    return {"data": tweets, "includes": {"users": people}, "meta": meta}


def rate(remaining: int = 449, reset: float | None = None) -> dict:
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset or time.time() + 900))}


@pytest.fixture
def x_http(svc):
    listening_on(svc, "x")
    svc.searches = Searches(x=lambda: XApi(bearer_token="local-x-bearer-token"),
                            bluesky=lambda: pytest.fail("no Bluesky search here"),
                            mastodon=lambda: pytest.fail("no Mastodon search here"))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_x_recent_search_pages_down_queues_the_posts_listening_takes_and_counts_their_reads(svc, x_http):
    x_http.get(SEARCH_URL, json=x_page([tweet("903", "Meridian Rail cancelled the 07:10 again"),
                                        tweet("902", "@MeridianRail Meridian Rail where is my train",
                                              mentions=[{"username": "MeridianRail", "id": "1000000001"}])],
                                       users=2, next_token="NEXT1"), headers=rate())
    x_http.get(SEARCH_URL, json=x_page([tweet("901", "Lovely afternoon at the Meridian Rail Museum"),
                                        tweet("900", "Meridian trains are packed today")]), headers=rate())
    result = poll()
    assert result == {"x": {"pages": 2, "fetched": 4, "queued": 2, "skipped": 0, "since_id": "903"}}
    first, second = (params(call) for call in x_http.calls)
    assert first["query"] == ('("Meridian Rail" OR #MeridianRail OR "Meridian trains") -"Meridian Rail Museum" '
                              '-"model railway" -is:retweet -from:MeridianRail -@MeridianRail')
    assert first["start_time"] == "2026-11-28T03:00:00Z" and "since_id" not in first  # the first run: a day back
    assert first["max_results"] == "100" and first["expansions"] == "author_id"
    assert set(first["tweet.fields"].split(",")) == {"created_at", "author_id", "conversation_id", "lang",
                                                     "entities", "referenced_tweets"}
    assert second["next_token"] == "NEXT1" and "start_time" not in second
    queued = inbound()
    assert [(source, m["external_id"]) for source, m in queued] == [("listening", "903"), ("listening", "900")]
    assert queued[0][1]["extra"]["listening"] == {"terms": ["Meridian Rail"], "source": "x-search"}
    assert svc.cursors.get("listening-x") == {"since_id": "903", "query": first["query"]}
    # 4 posts at $0.005 and 3 users at $0.010
    assert svc.allowance.spent("x-reads", DAY) == 4 * 5_000 + 3 * 10_000

    x_http.get(SEARCH_URL, json=x_page([]), headers=rate())
    assert poll()["x"]["fetched"] == 0
    assert params(x_http.calls[2])["since_id"] == "903" and "start_time" not in params(x_http.calls[2])


def test_x_429_pauses_the_search_until_the_reset_without_sleeping(svc, clock, x_http):
    reset = int(clock.now().timestamp()) + 600
    x_http.get(SEARCH_URL, status=429, json={"title": "Too Many Requests"}, headers=rate(0, reset))
    started = time.monotonic()
    until = poll()["x"]["rate_limited_until"]
    assert time.monotonic() - started < 5 and until.startswith("2026-11-29T03:10")
    assert poll() == {"x": {"skipped": f"rate limited until {until}"}}
    assert len(x_http.calls) == 1


def test_a_refused_x_token_is_one_clear_error_and_the_cursor_stays(svc, x_http):
    svc.cursors.put("listening-x", {"since_id": "700"})
    x_http.get(SEARCH_URL, status=401, json={"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
    answer = poll()["x"]
    assert "x/bearer-token" in answer["error"] and answer["pages"] == 0
    assert svc.cursors.get("listening-x") == {"since_id": "700"}


def test_a_cursor_older_than_x_s_seven_days_starts_again_from_as_far_back_as_x_reaches(svc, clock, x_http):
    """X refuses a since_id older than its recent search reaches: after a quiet week the search would fail every
    run. It starts again from 7 days back (less an hour) instead."""
    from chalicelib.usecases.listening import x_id_time

    week_old = str((int((clock.now().timestamp() - 8 * 86400) * 1000) - 1288834974657) << 22)
    assert x_id_time(week_old) is not None and (clock.now() - x_id_time(week_old)).days == 8
    svc.cursors.put("listening-x", {"since_id": week_old})
    x_http.get(SEARCH_URL, json=x_page([tweet("904", "Meridian Rail cancelled the 07:10 again")]), headers=rate())
    assert poll()["x"]["queued"] == 1
    sent = params(x_http.calls[0])
    assert "since_id" not in sent and sent["start_time"] == "2026-11-22T04:00:00Z"
    assert svc.cursors.get("listening-x")["since_id"] == "904"


def test_new_terms_drop_the_old_query_s_page_token_and_keep_the_since_id(svc, x_http):
    svc.cursors.put("listening-x", {"since_id": "800", "pagination_token": "OLD", "newest_pending": "850",
                                    "fetched_pending": 10, "query": "(Old Rail) -is:retweet"})
    x_http.get(SEARCH_URL, json=x_page([]), headers=rate())
    poll()
    sent = params(x_http.calls[0])
    assert sent["since_id"] == "800" and "next_token" not in sent and "pagination_token" not in sent


def test_the_read_budget_lowers_max_results_then_holds_the_search_without_a_call(svc, clock, x_http):
    listening_on(svc, "x", read_daily_usd=1.0)
    svc.allowance.charge("x-reads", DAY, 700_000)  # $0.70 of $1.00 spent: $0.30 pays for 20 posts and their users
    x_http.get(SEARCH_URL, json=x_page([tweet(str(990 - n), f"Meridian Rail delay {n}") for n in range(20)],
                                       users=20, next_token="MORE"), headers=rate())
    answer = poll()["x"]
    assert params(x_http.calls[0])["max_results"] == "20"
    assert answer["pages"] == 1 and answer["queued"] == 20  # the sweep stopped: no budget for another page
    assert svc.allowance.spent("x-reads", DAY) == 1_000_000
    assert svc.cursors.get("listening-x")["pagination_token"] == "MORE"  # the sweep goes on from here tomorrow

    assert poll() == {"x": {"skipped": "X read budget spent for today ($1.00 of $1.00)"}}
    assert len(x_http.calls) == 1  # no HTTP call once the day's budget is spent

    clock.advance(hours=22)  # 01:00 the next day in London: a new day's budget
    x_http.get(SEARCH_URL, json=x_page([]), headers=rate())
    assert poll()["x"]["pages"] == 1
    assert params(x_http.calls[1])["next_token"] == "MORE" and params(x_http.calls[1])["max_results"] == "66"


def test_the_default_read_budget_is_five_dollars_a_day(svc, x_http):
    svc.allowance.charge("x-reads", DAY, 4_900_000)
    assert poll() == {"x": {"skipped": "X read budget spent for today ($4.90 of $5.00)"}}
    assert not x_http.calls


# ---------------------------------------------------------------------------------------------------------- Bluesky
class SearchPds(FakePds):
    """The fake PDS, also answering ``app.bsky.feed.searchPosts`` from pages queued per query."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: dict[str, list[httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("app.bsky.feed.searchPosts"):
            self.requests.append(request)
            assert request.headers["Authorization"].startswith("Bearer ")
            queued = self.hits.get(request.url.params["q"], [])
            return queued.pop(0) if queued else httpx.Response(200, json={"posts": []})
        return super().__call__(request)

    def found(self, query: str, posts: list[dict], cursor: str | None = None, *, status: int = 200,
              headers: dict | None = None) -> None:
        body: dict = {"posts": posts, **({"cursor": cursor} if cursor else {})}
        self.hits.setdefault(query, []).append(httpx.Response(status, json=body, headers=headers or {}))


def bsky_post(rkey: str, text: str, at: datetime, *, did: str = "did:plc:pat00000000000000000000",
              handle: str = "pat.bsky.social") -> dict:
    iso = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}cid", "indexedAt": iso,
            "author": {"did": did, "handle": handle, "displayName": "Pat"},
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso, "langs": ["en"]}}


@pytest.fixture
def pds(svc):
    fake = SearchPds()
    listening_on(svc, "bluesky")
    svc.searches = Searches(x=lambda: pytest.fail("no X search here"), mastodon=lambda: pytest.fail("no Mastodon"),
                            bluesky=lambda: BlueskyApi(HANDLE, "app-pass-word-1234",
                                                       transport=httpx.MockTransport(fake)))
    return fake


def test_bluesky_post_search_asks_each_term_for_the_latest_since_the_watermark(svc, clock, pds):
    now = clock.now()
    pds.found('"Meridian Rail"', [bsky_post("3c", "Meridian Rail, 40 minutes late", now - timedelta(minutes=1)),
                                  bsky_post("3b", "Meridian Rail news", now - timedelta(minutes=2), did=BRAND_DID,
                                            handle=HANDLE)], cursor="P2")
    pds.found('"Meridian Rail"', [bsky_post("3a", "Meridian Rail Museum trip", now - timedelta(minutes=3))])
    result = poll()["bluesky"]
    assert result["queued"] == 1 and result["pages"] == 4 and result["skipped"] == 0  # 2 + 1 + 1 pages
    calls = pds.calls("searchPosts")
    assert [c.url.params["q"] for c in calls] == ['"Meridian Rail"', '"Meridian Rail"', "#MeridianRail",
                                                  '"Meridian trains"']
    assert calls[0].url.params["sort"] == "latest" and calls[0].url.params["since"] == "2026-11-28T03:00:00Z"
    assert calls[1].url.params["cursor"] == "P2"
    [(source, mention)] = inbound()
    assert source == "listening" and mention["external_id"].endswith("/3c")
    assert mention["extra"]["cid"] == "bafyrei3ccid" and mention["extra"]["listening"]["source"] == "bluesky-search"
    watermark = svc.cursors.get('listening-bluesky#"Meridian Rail"')
    assert watermark["seen_at"] == (now - timedelta(minutes=1)).isoformat()

    clock.advance(minutes=5)
    poll()
    assert pds.calls("searchPosts")[4].url.params["since"] == watermark["seen_at"].replace("+00:00", "Z")
    assert pds.sign_ins == 1


def test_an_unreadable_bluesky_hit_is_skipped_and_the_rest_of_its_page_queued(svc, clock, pds):
    now = clock.now()
    pds.found('"Meridian Rail"', [{"uri": "at://nope", "indexedAt": now.isoformat()}, "not an object",
                                  bsky_post("3d", "Meridian Rail strike on Friday?", now - timedelta(minutes=1))])
    result = poll()["bluesky"]
    assert (result["queued"], result["skipped"]) == (1, 2)
    assert [m["external_id"][-2:] for _, m in inbound()] == ["3d"]


def test_a_bluesky_post_two_queries_find_is_queued_once(svc, clock, pds):
    post = bsky_post("3f", "#MeridianRail: Meridian Rail strike on Friday", clock.now() - timedelta(minutes=1))
    pds.found('"Meridian Rail"', [post])
    pds.found("#MeridianRail", [post])
    assert poll()["bluesky"]["queued"] == 1
    assert len(inbound()) == 1


def test_a_bluesky_429_pauses_every_query_until_the_reset(svc, clock, pds):
    reset = int(clock.now().timestamp()) + 300
    pds.found('"Meridian Rail"', [], status=429, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(reset)})
    until = poll()["bluesky"]["rate_limited_until"]
    assert until.startswith("2026-11-29T03:05") and len(pds.calls("searchPosts")) == 1
    assert "rate limited until" in poll()["bluesky"]["skipped"]
    assert len(pds.calls("searchPosts")) == 1


# --------------------------------------------------------------------------------------------------------- Mastodon
def status(status_id: int, text: str, *, acct: str = "pat@fedi.example", mentions: list | None = None) -> dict:
    account = {"id": "7001", "username": acct.split("@")[0], "acct": acct, "display_name": "Pat",
               "followers_count": 40}
    return {"id": str(status_id), "created_at": "2026-11-29T02:50:00.000Z", "in_reply_to_id": None,
            "visibility": "public", "language": "en", "content": f"<p>{text}</p>", "spoiler_text": "",
            "url": f"https://fedi.example/@pat/{status_id}", "account": account, "reblog": None,
            "mentions": mentions or [], "tags": [{"name": "meridianrail"}]}


@pytest.fixture
def instance(svc):
    listening_on(svc, "mastodon")
    svc.searches = Searches(x=lambda: pytest.fail("no X search here"), bluesky=lambda: pytest.fail("no Bluesky"),
                            mastodon=lambda: MastodonApi(INSTANCE, "token-1",
                                                         own_acct="meridianrail@mastodon.example"))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        # Mastodon.py asks once per client whether the instance serves hashtag timelines (Mastodon 4.5's
        # timelines_access), then keeps the answer
        mock.get(f"{INSTANCE}/api/v2/instance/", json={"uri": "mastodon.example", "configuration": {
            "timelines_access": {"hashtag_feeds": {"local": "public", "remote": "public"}}}})
        yield mock


def tag_calls(instance) -> list:
    return [call for call in instance.calls if "/timelines/tag/" in call.request.url]


def test_mastodon_hashtag_timelines_walk_forward_by_min_id(svc, instance):
    tag_url = f"{INSTANCE}/api/v1/timelines/tag/meridianrail"
    instance.get(tag_url, json=[status(1103, "Stuck at Swindon #MeridianRail"),
                                status(1102, "@meridianrail help #MeridianRail",
                                       mentions=[{"id": "1", "acct": "meridianrail"}])])
    instance.get(f"{INSTANCE}/api/v1/timelines/tag/meridiantrains", json=[])
    result = poll()["mastodon"]
    assert result["queued"] == 1 and result["fetched"] == 2
    first = params(tag_calls(instance)[0])
    assert "min_id" not in first and first["limit"] == "40"
    assert tag_calls(instance)[0].request.headers["Authorization"] == "Bearer token-1"
    [(source, mention)] = inbound()
    assert (source, mention["external_id"], mention["extra"]["acct"]) == ("listening", "1103", "pat@fedi.example")
    assert svc.cursors.get("listening-mastodon#meridianrail") == {"since_id": "1103"}

    instance.get(tag_url, json=[])
    instance.get(f"{INSTANCE}/api/v1/timelines/tag/meridiantrains", json=[])
    poll()
    assert params(tag_calls(instance)[2])["min_id"] == "1103"
    assert len([c for c in instance.calls if c.request.url.endswith("/api/v2/instance/")]) == 1  # kept


def test_a_revoked_mastodon_token_is_one_clear_error(svc, instance):
    instance.get(f"{INSTANCE}/api/v1/timelines/tag/meridianrail", status=401,
                 json={"error": "The access token is invalid"})
    answer = poll()["mastodon"]
    assert "mastodon/access-token" in answer["error"] and "meridianrail" in answer["error"]
    assert answer["queued"] == 0
