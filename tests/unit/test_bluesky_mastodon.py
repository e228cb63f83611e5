"""Bluesky and Mastodon, pure parts: notifications → Mention (facets, threads, visibility, HTML), identities, how
each platform counts a reply, acknowledgements sized for them, and both channels through the whole pipeline on the
in-memory stores (channel-blind: triage, one ticket per customer, one acknowledgement, status page)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import bluesky, mastodon
from chalicelib.domain import ack, agent
from chalicelib.domain.identity import InvalidIdentity, identities_of, parse_identity
from chalicelib.domain.textlength import graphemes, mastodon_length
from chalicelib.usecases.customers import link
from chalicelib.usecases.errors import Invalid, NotFound
from chalicelib.usecases.local_mentions import inject
from chalicelib.usecases.status import status_view
from tests.conftest import run_memory_pipeline
from tests.helpers import ticket_of

PAT_DID = "did:plc:pat4abcdefghijklmnop"
POST = f"at://{PAT_DID}/app.bsky.feed.post/3lbqk2xyzabcd"
ROOT = "at://did:plc:brand000000000000/app.bsky.feed.post/3lbqjrootrootr"


def bsky(text: str = "@meridianrail.bsky.social my train was cancelled and nobody told us", *,
         at: str = "2026-11-29T02:59:00.000Z", **changes) -> dict:
    item = {"uri": POST, "cid": "bafyreipatpost0001", "reason": "mention", "indexedAt": at, "isRead": False,
            "author": {"did": PAT_DID, "handle": "pat.bsky.social", "displayName": "Pat"},
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at, "langs": ["en"]}}
    item.update(changes)
    return item


def masto(content: str = "<p>@meridianrail my train was cancelled and nobody told us</p>", *,
          visibility: str = "public", **status_changes) -> dict:
    account = {"id": "7001", "acct": "pat@fedi.example", "username": "pat", "display_name": "Pat",
               "followers_count": 12}
    status = {"id": "110001", "created_at": "2026-11-29T02:59:00.000Z", "in_reply_to_id": None,
              "visibility": visibility, "language": "en", "content": content, "spoiler_text": "",
              "url": "https://fedi.example/@pat/110001", "account": account}
    status.update(status_changes)
    return {"id": "5001", "type": "mention", "created_at": "2026-11-29T02:59:01.000Z", "account": account,
            "status": status}


# ------------------------------------------------------------------------------------------------ Bluesky
def test_a_bluesky_mention_becomes_the_common_mention():
    m = bluesky.parse_notification(bsky())
    assert (m.channel, m.external_id, m.author_id, m.author_handle, m.author_name) == (
        "bluesky", POST, PAT_DID, "pat.bsky.social", "Pat")
    assert m.visibility == "public" and m.conversation_id == POST and m.reply_to == ""
    assert m.created_at == datetime(2026, 11, 29, 2, 59, tzinfo=timezone.utc)
    assert m.extra["permalink"] == "https://bsky.app/profile/pat.bsky.social/post/3lbqk2xyzabcd"
    assert m.extra["cid"] == m.extra["root_cid"] == "bafyreipatpost0001" and m.extra["root_uri"] == POST
    assert identities_of(m) == [f"bluesky#{PAT_DID}", "bluesky@pat.bsky.social"]


def test_a_bluesky_reply_keeps_its_thread():
    reply = {"root": {"uri": ROOT, "cid": "bafyreiroot000001"},
             "parent": {"uri": ROOT.replace("rootr", "paren"), "cid": "bafyreiparent0001"}}
    m = bluesky.parse_notification(bsky(reason="reply", record={"text": "still waiting", "reply": reply}))
    assert m.reply_to == ROOT.replace("rootr", "paren") and m.conversation_id == ROOT
    assert m.extra["root_uri"] == ROOT and m.extra["root_cid"] == "bafyreiroot000001"


def test_link_facets_are_resolved_to_their_full_address_and_hostile_facets_change_nothing():
    text = "see example.com/abc… and ünïcode then bad"
    start = len(b"see ")
    end = start + len("example.com/abc…".encode())
    facets = [{"index": {"byteStart": start, "byteEnd": end},
               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/abcdef"}]},
              {"index": {"byteStart": start + 1, "byteEnd": end + 2},  # overlaps
               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example"}]},
              {"index": {"byteStart": 10**9, "byteEnd": 10**9 + 5},
               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example"}]},
              {"index": {"byteStart": len(text.encode()) - 3, "byteEnd": len(text.encode())},
               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}]},
              {"index": {"byteStart": True, "byteEnd": 3}, "features": []}, "junk", None]
    assert bluesky.resolve_facets(text, facets) == "see https://example.com/abcdef and ünïcode then bad"
    # a slice in the middle of a multi-byte character is left alone
    cut = len("see example.com/abc… and ü".encode()) - 1
    assert bluesky.resolve_facets(text, [{"index": {"byteStart": cut, "byteEnd": cut + 2}, "features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example"}]}]) == text


@pytest.mark.parametrize("change, reason", [
    ({"uri": "https://bsky.app/profile/x/post/1"}, "uri"),
    ({"cid": None}, "cid"),
    ({"author": {"did": "did:plc:someoneelse000000", "handle": "pat.bsky.social"}}, "does not match"),
    ({"author": "pat"}, "author"),
    ({"record": {"$type": "app.bsky.graph.follow"}}, "not a post"),
    ({"record": {"text": 42}}, "text"),
    ({"record": {"text": "hi", "reply": {"parent": "nope"}}}, "reply"),
    ({"indexedAt": "yesterday", "record": {"text": "hi"}}, "time"),
    ({"record": {"text": "bad \ud800 surrogate"}}, "Unicode"),
])
def test_a_bluesky_notification_that_cannot_be_read_says_why(change, reason):
    with pytest.raises(bluesky.NotAMention, match=reason):
        bluesky.parse_notification(bsky(**change))


def test_likes_follows_and_the_brands_own_posts_are_not_mentions():
    assert bluesky.parse_notification(bsky(reason="like")) is None
    assert bluesky.parse_notification(bsky(reason="follow")) is None
    assert bluesky.parse_notification(bsky(), brand=frozenset({PAT_DID})) is None
    assert bluesky.parse_notification(bsky(), brand=frozenset({"pat.bsky.social"})) is None


def test_link_facets_index_utf8_bytes():
    text = "Réf R1 — suivez: https://help.example/s/R1-abc. Merci"
    [facet] = bluesky.link_facets(text)
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == "https://help.example/s/R1-abc"
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://help.example/s/R1-abc"}]


def test_permalink_uses_the_did_when_the_handle_is_invalid():
    assert bluesky.permalink("handle.invalid", POST) == f"https://bsky.app/profile/{PAT_DID}/post/3lbqk2xyzabcd"


# ------------------------------------------------------------------------------------------------ Mastodon
def test_a_mastodon_mention_becomes_the_common_mention():
    m = mastodon.parse_notification(masto(), instance_url="https://mastodon.example")
    assert (m.channel, m.external_id, m.author_id, m.author_handle) == ("mastodon", "110001", "7001",
                                                                         "pat@fedi.example")
    assert m.text == "@meridianrail my train was cancelled and nobody told us"
    assert m.visibility == "public" and m.extra["visibility"] == "public" and m.followers == 12
    assert m.extra["acct"] == "pat@fedi.example" and m.extra["permalink"] == "https://fedi.example/@pat/110001"
    assert identities_of(m) == ["mastodon#7001", "mastodon@pat@fedi.example"]


def test_a_direct_mastodon_mention_is_private_and_a_local_account_gets_the_instance():
    item = masto(visibility="direct", in_reply_to_id="109999")
    item["status"]["account"] = {"id": "7002", "acct": "sam", "username": "sam"}
    m = mastodon.parse_notification(item, instance_url="https://mastodon.example")
    assert m.visibility == "private" and m.extra["visibility"] == "direct" and m.reply_to == "109999"
    assert m.author_handle == "sam@mastodon.example"


def test_mastodon_html_becomes_plain_text_and_markup_stays_text():
    content = ('<p>Hello <span class="h-card"><a href="https://m.example/@brand" class="u-url mention">@<span>brand'
               '</span></a></span> &lt;script&gt;alert(1)&lt;/script&gt;</p><script>steal()</script>'
               '<p>line one<br>line two <a href="https://example.com/long/path"><span class="invisible">https://'
               '</span><span class="ellipsis">example.com/lo</span><span class="invisible">ng/path</span></a></p>')
    assert mastodon.html_to_text(content) == ("Hello @brand <script>alert(1)</script>\n\nline one\nline two "
                                              "https://example.com/long/path")


def test_a_mastodon_direct_message_never_links_the_brand_or_fediverse_handles_as_e_mail_or_x():
    m = mastodon.parse_notification(masto("<p>@meridianrail@mastodon.example @friend@fedi.example my card "
                                          "ending 1234, write to pat@mail.example</p>", visibility="direct"),
                                    instance_url="https://mastodon.example")
    assert identities_of(m) == ["mastodon#7001", "mastodon@pat@fedi.example", "email#pat@mail.example"]


@pytest.mark.parametrize("change, reason", [
    ({"status": None}, "status"),
    ({"status": {"id": "x y"}}, "status id"),
    ({"status": {"id": "1", "account": {"id": "2", "acct": "not a handle!"}}}, "acct"),
])
def test_a_mastodon_notification_that_cannot_be_read_says_why(change, reason):
    item = masto()
    item.update(change)
    if isinstance(change.get("status"), dict):
        item["account"] = {"id": "2", "acct": "not a handle!"}
    with pytest.raises(mastodon.NotAMention, match=reason):
        mastodon.parse_notification(item, instance_url="https://mastodon.example")


@pytest.mark.parametrize("change, reason", [({"visibility": "everyone"}, "visibility"),
                                            ({"content": None}, "content")])
def test_a_mastodon_status_that_cannot_be_read_says_why(change, reason):
    with pytest.raises(mastodon.NotAMention, match=reason):
        mastodon.parse_notification(masto(**change), instance_url="https://mastodon.example")


def test_favourites_and_the_brands_own_statuses_are_not_mentions():
    assert mastodon.parse_notification({**masto(), "type": "favourite"}, instance_url="https://m.example") is None
    assert mastodon.parse_notification(masto(), instance_url="https://m.example",
                                       brand=frozenset({"pat@fedi.example"})) is None


# ------------------------------------------------------------------------------------------------ identities
@pytest.mark.parametrize("text, stored", [
    ("bluesky@Pat.BSKY.social", "bluesky@pat.bsky.social"),
    ("bluesky#did:plc:abc123", "bluesky#did:plc:abc123"),
    ("mastodon@Pat@Fedi.example", "mastodon@pat@fedi.example"),
    ("mastodon#7001", "mastodon#7001"),
])
def test_bluesky_and_mastodon_identities(text, stored):
    assert parse_identity(text) == stored


@pytest.mark.parametrize("text", ["bluesky@pat", "bluesky@-bad-.example", "mastodon@pat", "mastodon@@x.example",
                                  "mastodon@pat@", "bluesky#has space"])
def test_malformed_bluesky_and_mastodon_identities_are_refused(text):
    with pytest.raises(InvalidIdentity):
        parse_identity(text)


# ------------------------------------------------------------------------------------------------ lengths
@pytest.mark.parametrize("text, count", [("hello", 5), ("e\u0301", 1), ("👩\u200d👩\u200d👧", 1), ("🇬🇧🇫🇷", 2),
                                         ("👍🏽", 1), ("\r\n", 1), ("한국어", 3), ("1️⃣", 1), ("नमस्ते", 3),
                                         ("क्षत्रिय", 3), ("தமிழ்", 3), ("🏳️\u200d🌈", 1), ("a\u200db", 2),
                                         ("\u200d👧", 2), ("ก่", 1)])
def test_graphemes_count_what_a_reader_sees(text, count):
    assert graphemes(text) == count


#: What clusters are made of: combining marks, joiners, emoji and their modifiers, Hangul jamo, controls.
_PIECES = [chr(c) for c in (0x65, 0x301, 0x308, 0x200D, 0x200C, 0xFE0F, 0x1F3FB, 0x1F469, 0x1F466, 0x2764, 0x1F3F4,
                            0xE0067, 0xE007F, 0x20E3, 0x31, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0x0D, 0x0A,
                            0x0915, 0x093F, 0x0E01, 0x0E48, 0x00AD, 0x2028, 0x09, 0x1F600)]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                  st.sampled_from(_PIECES)), max_size=40))
def test_graphemes_agree_with_the_unicode_segmentation_of_the_regex_module(text):
    regex = pytest.importorskip("regex")
    if any(0x1F1E6 <= ord(c) <= 0x1F1FF or c in "\u094d\u09cd\u0acd\u0b4d\u0c4d\u0d4d" for c in text) or any(
            __import__("unicodedata").category(c) in ("Cn", "Co") for c in text):
        return  # unassigned code points, flag runs and viramas out of words: implementations of Unicode differ
    assert graphemes(text) == len(regex.findall(r"\X", text))


def test_mastodon_counts_links_as_23_and_mentions_without_their_instance():
    assert mastodon_length("@pat@fedi.example see https://example.com/" + "a" * 80) == len("@pat see ") + 23


def test_reply_limits_per_channel():
    assert agent.reply_limit("bluesky", False) == 300 and agent.reply_limit("mastodon", False) == 500
    assert agent.reply_limit("mastodon", True) == 500
    assert agent.reply_problem("bluesky", False, "e\u0301" * 300) is None  # e + combining accent: 300 graphemes
    assert "301 graphemes" in agent.reply_problem("bluesky", False, "👩\u200d👩\u200d👧" * 301)
    link = "https://example.com/" + "a" * 281  # a link counts in full on Bluesky
    assert "Bluesky post allows 300" in agent.reply_problem("bluesky", False, link)
    assert agent.reply_problem("mastodon", True, "x" * 468) is None  # 500 less the customer's @mention
    assert "Mastodon post allows 500" in agent.reply_problem("mastodon", True, "x" * 469)
    assert agent.reply_problem("mastodon", False, "see " + "https://example.com/" + "a" * 900) is None


def test_acknowledgements_fit_bluesky_and_mastodon_with_the_link_kept():
    now = datetime(2026, 11, 29, 3, tzinfo=timezone.utc)
    url = "https://help.example-rail.test/s/R7K2M9QPX-zxvuycbb4vsjjhd3"
    long = "Hi {{ name }}, " + "we are very sorry " * 40 + "Ref {{ reference }}: {{ status_url }}"
    for channel in ("bluesky", "mastodon"):
        text = ack.compose(long, channel=channel, name="Pat", reference="R7K2M9QPX", status_url=url, now=now,
                           back_at=now + timedelta(hours=4), tz="Europe/London", desk="complaints")
        assert ack.fits(channel, text) and text.endswith(url), channel
    assert ack.length("bluesky", url) == len(url)  # no shortener: the link counts in full


# ------------------------------------------------------------------------------------------------ pipeline
def _outbox(mem) -> list[dict]:
    return mem.sandbox.recent(limit=50)


def test_both_channels_are_acknowledged_on_their_own_platform_out_of_hours(mem, clock):
    inject(mem, "bluesky", b'{"handle": "pat.bsky.social", "text": "@meridianrail.bsky.social my train was '
                           b'cancelled and nobody told us"}')
    inject(mem, "mastodon", b'{"acct": "sam@fedi.example", "text": "@meridianrail my train was cancelled, '
                            b'card ending 1234", "visibility": "direct"}')
    run_memory_pipeline(mem)
    sent = {m["channel"]: m for m in _outbox(mem)}
    assert set(sent) == {"bluesky", "mastodon"}
    assert sent["bluesky"]["in_reply_to"].startswith("at://did:plc:") and not sent["bluesky"]["private"]
    assert sent["mastodon"]["private"] is True  # a direct mention is answered privately
    for message in sent.values():
        assert "/s/R" in message["text"] and ack.fits(message["channel"], message["text"])
    ticket = mem.tickets.get(ticket_of(mem, f"bluesky#{sent['bluesky']['in_reply_to']}"))
    token = mem.links.url(ticket.ticket_id).rsplit("/", 1)[1]
    timeline = status_view(mem, token)["timeline"]
    assert any("Bluesky" in entry["text"] for entry in timeline)


def test_a_linked_customer_chasing_on_the_other_platform_joins_the_ticket(mem, clock):
    inject(mem, "bluesky", b'{"handle": "pat.bsky.social", "did": "did:plc:pat0000000000000000", '
                           b'"text": "my train was cancelled and nobody told us"}')
    run_memory_pipeline(mem)
    inject(mem, "mastodon", b'{"acct": "pat@fedi.example", "text": "my train was cancelled, awful service"}')
    run_memory_pipeline(mem)
    assert len(list(mem.tickets.open_tickets())) == 2  # two identities nobody has linked yet: two customers
    result = link(mem, "bluesky@pat.bsky.social", "mastodon@pat@fedi.example")
    assert result.changed and result.merged_ticket_id
    inject(mem, "mastodon", b'{"acct": "pat@fedi.example", "text": "hello? anyone?"}')
    run_memory_pipeline(mem)
    [ticket] = list(mem.tickets.open_tickets())
    assert ticket.ticket_id == result.ticket_id and len(ticket.mention_keys) == 3
    assert {c.split("#")[0] for c in ticket.conversations} == {"bluesky", "mastodon"}
    acks = [m for m in _outbox(mem) if m["idempotency_key"].startswith("ack#")]
    assert sorted(m["channel"] for m in acks) == ["bluesky", "mastodon"]  # one each before the link, none after


def test_local_injection_refuses_bad_input_and_other_stages(mem):
    with pytest.raises(Invalid, match="handle"):
        inject(mem, "bluesky", b'{"handle": "not a handle", "text": "hi"}')
    with pytest.raises(Invalid, match="visibility"):
        inject(mem, "mastodon", b'{"acct": "pat@fedi.example", "text": "hi", "visibility": "secret"}')
    with pytest.raises(Invalid, match="not a mention"):
        inject(mem, "mastodon", b'{"type": "favourite", "id": "1"}')
    prod = mem.settings.model_copy(update={"stage": "prod", "sandbox_outbound": False})
    mem.settings = prod
    with pytest.raises(NotFound):
        inject(mem, "bluesky", b'{"handle": "pat.bsky.social", "text": "hi"}')
