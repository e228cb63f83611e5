"""Which posts listening's searches turn into mentions, and that each is the mention the mention route would give the
same post (same key, thread, author and reply fields), with what listening adds in ``extra``."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.channels import bluesky, mastodon
from chalicelib.channels.x_api import XApi, search_page
from chalicelib.domain.config.listening import Listening
from chalicelib.domain.listening import listened as is_listened
from chalicelib.usecases.listening import ReadBudget, bluesky_answered, listened

WATCH = Listening(terms=("Meridian Rail", "#MeridianRail"), exclude=("Meridian Rail Museum",))
BRAND_X = frozenset({"1000000001", "meridianrail"})
AT = "2026-11-29T02:55:00.000Z"
INSTANCE = "https://mastodon.example"
BRAND_DID = "did:plc:brand0000000000000000"
PAT_DID = "did:plc:pat00000000000000000000"


def tweet(text: str, *, tweet_id: str = "1860000000000000001", author: str = "42", mentions: list | None = None,
          refs: list | None = None) -> dict:
    data = {"id": tweet_id, "text": text, "author_id": author, "conversation_id": "1860000000000000000",
            "created_at": AT, "lang": "en", "entities": {"mentions": mentions or []}}
    if refs:
        data["referenced_tweets"] = refs
    return data


USERS = {"42": {"id": "42", "username": "pat", "name": "Pat", "public_metrics": {"followers_count": 12}},
         "1000000001": {"id": "1000000001", "username": "MeridianRail", "name": "Meridian Rail"}}


def x_listened(data: dict):
    found = search_page([data], USERS, next_token=None, newest_id=None).found[0]
    return listened(WATCH, found.mention, channel="x", brand=BRAND_X, handles=["MeridianRail"],
                    repost=found.repost, tags=found.tags)


def test_an_x_post_naming_the_brand_is_the_mention_the_mention_route_gives_it_with_listening_in_extra():
    data = tweet("Meridian Rail cancelled my 07:10 again",
                 refs=[{"type": "replied_to", "id": "1860000000000000000"}])
    mention = x_listened(data)
    route = XApi._to_mention(data, USERS)  # what the mention poller builds from the same post
    assert mention is not None
    assert (mention.key, mention.conversation_id, mention.author_id, mention.author_handle, mention.reply_to,
            mention.followers) == (route.key, route.conversation_id, route.author_id, route.author_handle,
                                   route.reply_to, 12)
    assert mention.extra["listening"] == {"terms": ["Meridian Rail"], "source": "x-search"}
    assert mention.extra["tagged"] is False and is_listened(mention.extra)


@pytest.mark.parametrize(("why", "data"), [
    ("tags the brand in its text", tweet("@MeridianRail Meridian Rail where is my train")),
    ("its mention entities name the brand's account",
     tweet("Meridian Rail again", mentions=[{"username": "someone", "id": "1000000001"}])),
    ("names an exclusion", tweet("Lovely day at the Meridian Rail Museum")),
    ("names no term (the search matched loosely)", tweet("meridian is a line on a map; rail fares are up")),
    ("is a retweet", tweet("RT Meridian Rail late", refs=[{"type": "retweeted", "id": "1"}])),
    ("is the brand's own post", tweet("Meridian Rail: all lines running", author="1000000001")),
])
def test_an_x_post_is_left_alone_when_it(why, data):
    assert x_listened(data) is None, why


def test_an_x_post_that_cannot_be_read_is_skipped_without_its_page():
    page = search_page([{"text": "Meridian Rail", "author_id": "42"}, tweet("Meridian Rail late")], USERS,
                       next_token="N", newest_id="9")
    assert len(page.found) == 1 and len(page.skipped) == 1
    assert (page.reads, page.users, page.cursor) == (2, 2, "N")


def bsky_post(text: str, *, did: str = PAT_DID, handle: str = "pat.bsky.social", facets: list | None = None,
              reply: dict | None = None) -> dict:
    record: dict = {"$type": "app.bsky.feed.post", "text": text, "createdAt": AT, "langs": ["en"]}
    if facets:
        record["facets"] = facets
    if reply:
        record["reply"] = reply
    return {"uri": f"at://{did}/app.bsky.feed.post/3kabc", "cid": "bafyreiabcdefgh", "indexedAt": AT,
            "author": {"did": did, "handle": handle, "displayName": "Pat"}, "record": record}


BRAND_BSKY = frozenset({"meridianrail.bsky.social", BRAND_DID})


def bsky_listened(item: dict):
    mention = bluesky.parse_post(item, reason="search", brand=BRAND_BSKY, source="listening")
    return None if mention is None else listened(WATCH, mention, channel="bluesky", brand=BRAND_BSKY,
                                                 handles=["meridianrail.bsky.social"], tags=bluesky_answered(item))


def test_a_bluesky_post_carries_the_reply_references_the_notification_route_gives_it():
    root = {"uri": "at://did:plc:sam00000000000000000000/app.bsky.feed.post/3root", "cid": "bafyreiroot0001"}
    item = bsky_post("#MeridianRail signal failure at Reading", reply={"root": root, "parent": root})
    mention = bsky_listened(item)
    route = bluesky.parse_notification({**item, "reason": "reply"}, brand=BRAND_BSKY)
    assert mention is not None and route is not None
    assert (mention.key, mention.conversation_id, mention.reply_to) == (route.key, route.conversation_id,
                                                                        route.reply_to)
    assert {k: mention.extra[k] for k in ("cid", "root_uri", "root_cid")} == \
        {k: route.extra[k] for k in ("cid", "root_uri", "root_cid")}
    assert mention.extra["listening"] == {"terms": ["Meridian Rail", "#MeridianRail"],
                                          "source": "bluesky-search"}


def test_a_reply_under_the_brands_post_or_a_quote_of_it_is_left_to_the_notification_route():
    """Bluesky notifies the brand of both (reasons reply and quote) though neither names its handle: a listened copy
    processed first would take the addressed message's key, and with it its acknowledgement."""
    brand_post = {"uri": f"at://{BRAND_DID}/app.bsky.feed.post/3root", "cid": "bafyreiroot0001"}
    other = {"uri": "at://did:plc:sam00000000000000000000/app.bsky.feed.post/3sam", "cid": "bafyreisam0001"}
    assert bsky_listened(bsky_post("Meridian Rail cancelled again", reply={"root": brand_post,
                                                                           "parent": brand_post})) is None
    assert bsky_listened(bsky_post("Meridian Rail cancelled again", reply={"root": brand_post, "parent": other})) \
        is None  # deeper in the brand's thread
    quoting = bsky_post("Meridian Rail says this with a straight face")
    quoting["record"]["embed"] = {"$type": "app.bsky.embed.record", "record": brand_post}
    assert bsky_listened(quoting) is None
    with_media = bsky_post("Meridian Rail, look at this")
    with_media["record"]["embed"] = {"$type": "app.bsky.embed.recordWithMedia", "record": {"record": brand_post}}
    assert bsky_listened(with_media) is None
    elsewhere = bsky_post("Meridian Rail cancelled again", reply={"root": other, "parent": other})
    assert bsky_listened(elsewhere) is not None  # a thread that is not the brand's


def test_a_bluesky_post_whose_facets_mention_the_brand_or_the_brands_own_post_is_left_alone():
    tagging = bsky_post("Meridian Rail help", facets=[{"index": {"byteStart": 0, "byteEnd": 4}, "features": [
        {"$type": "app.bsky.richtext.facet#mention", "did": BRAND_DID}]}])
    assert bsky_listened(tagging) is None
    assert bsky_listened(bsky_post("Meridian Rail news", did=BRAND_DID, handle="meridianrail.bsky.social")) is None
    assert bsky_listened(bsky_post("@meridianrail.bsky.social Meridian Rail?")) is None
    assert bsky_listened(bsky_post("Meridian Rail Museum opens")) is None


def status(text: str, *, acct: str = "pat@other.example", account_id: str = "77", mentions: list | None = None,
           reblog: dict | None = None, visibility: str = "public") -> dict:
    return {"id": "113000000000000001", "created_at": AT, "in_reply_to_id": None, "visibility": visibility,
            "language": "en", "content": f"<p>{text}</p>", "spoiler_text": "", "reblog": reblog,
            "url": "https://other.example/@pat/113000000000000001", "mentions": mentions or [],
            "tags": [{"name": "meridianrail"}],
            "account": {"id": account_id, "acct": acct, "display_name": "Pat", "followers_count": 3}}


BRAND_MASTODON = frozenset({"meridianrail@mastodon.example"})


def masto_listened(item: dict):
    mention = mastodon.parse_status(item, instance_url=INSTANCE, brand=BRAND_MASTODON, source="listening")
    named = {mastodon.full_acct(m["acct"], INSTANCE) for m in item["mentions"]}
    return None if mention is None else listened(WATCH, mention, channel="mastodon", brand=BRAND_MASTODON,
                                                 handles=["meridianrail", *BRAND_MASTODON],
                                                 repost=item["reblog"] is not None, tags=named)


def test_a_mastodon_status_keeps_the_visibility_and_acct_a_reply_needs():
    item = status("Stuck outside Swindon #MeridianRail")
    mention = masto_listened(item)
    route = mastodon.parse_notification({"id": "9", "type": "mention", "created_at": AT, "status": item},
                                        instance_url=INSTANCE, brand=BRAND_MASTODON)
    assert mention is not None and route is not None
    assert (mention.key, mention.author_handle, mention.extra["acct"], mention.extra["visibility"]) == \
        (route.key, route.author_handle, route.extra["acct"], "public")
    assert mention.extra["listening"] == {"terms": ["Meridian Rail", "#MeridianRail"],
                                          "source": "mastodon-tag"}


def test_a_mastodon_status_that_mentions_the_brand_is_a_reblog_or_the_brands_own_is_left_alone():
    assert masto_listened(status("#MeridianRail help", mentions=[{"acct": "meridianrail", "id": "1"}])) is None
    assert masto_listened(status("#MeridianRail", reblog={"id": "1"})) is None
    assert masto_listened(status("#MeridianRail update", acct="meridianrail")) is None


def test_the_read_budget_asks_for_what_the_rest_of_the_day_pays_for():
    budget = ReadBudget(day="2026-11-29", limit=5_000_000, per_read=5_000, per_user=10_000)
    assert budget.affordable(0) == 100  # X's most per request
    assert budget.affordable(4_700_000) == 20  # $0.30 left: 20 posts, each with a user of its own
    assert budget.affordable(4_860_000) == 9  # fewer than X's 10: no request
    assert budget.cost(search_page([tweet("Meridian Rail")], USERS, next_token=None, newest_id=None)) == 25_000
    assert budget.spent_text(5_000_000) == "$5.00 of $5.00"


def test_created_at_keeps_the_posts_own_time():
    mention = x_listened(tweet("Meridian Rail"))
    assert mention is not None and mention.created_at == datetime(2026, 11, 29, 2, 55, tzinfo=timezone.utc)
