"""The Threads parser (``channels.threads``): webhook deliveries and polled media objects become the same mention,
the brand's own posts are skipped, a change that cannot be read is named and its neighbours kept, and no input,
however odd, makes the parser fail other than with a reason."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import threads
from chalicelib.domain.identity import identities_of, parse_identity
from chalicelib.domain.mention import Mention

BRAND = frozenset({"meridianrail", "5000000001"})


def reply(post_id: str = "18050000000000001", *, username: str = "pat.rides", text: str = "@meridianrail no train",
          replied_to: str = "18040000000000001", root: str = "18040000000000001", **more: object) -> dict:
    """A reply as the ``replies`` webhook and ``GET /{media-id}/conversation`` carry it (Meta's documented shape)."""
    return {"id": post_id, "username": username, "text": text, "media_type": "TEXT_POST",
            "permalink": f"https://www.threads.net/@{username}/post/Pp", "shortcode": "Pp",
            "timestamp": "2026-12-06T02:59:10+0000", "replied_to": {"id": replied_to},
            "root_post": {"id": root, "owner_id": "5000000001", "username": "meridianrail"}, **more}


def delivery(*values: dict, field: str = "replies") -> dict:
    changes: object = [{"field": field, "value": v} for v in values]
    if len(values) == 1:
        changes = changes[0]  # type: ignore[index]  # Meta's example delivers one change as an object
    return {"app_id": "123456", "topic": "moderate", "target_id": "5000000001", "time": 1733453950,
            "subscription_id": "234567", "has_uid_field": False, "values": changes}


def test_a_reply_to_the_brands_post_is_a_public_mention_in_that_thread():
    [mention] = threads.parse_webhook(delivery(reply()), brand=BRAND)
    assert mention.channel == "threads" and mention.visibility == "public"
    assert mention.external_id == "18050000000000001" and mention.key == "threads#18050000000000001"
    assert mention.reply_to == "18040000000000001" and mention.conversation_id == "18040000000000001"
    assert mention.author_id == mention.author_handle == "pat.rides"
    assert mention.created_at == datetime(2026, 12, 6, 2, 59, 10, tzinfo=timezone.utc)
    assert mention.text == "@meridianrail no train"
    assert mention.extra == {"source": "webhook", "field": "replies", "username": "pat.rides",
                             "permalink": "https://www.threads.net/@pat.rides/post/Pp", "root_id": "18040000000000001",
                             "root_owner": "meridianrail", "media_type": "TEXT_POST"}
    assert identities_of(mention) == ["threads#pat.rides", "threads@pat.rides"]


def test_the_webhook_and_the_poller_make_the_same_mention_so_one_reply_is_one_key():
    [hooked] = threads.parse_webhook(delivery(reply()), brand=BRAND)
    polled = threads.parse_media(reply(is_reply=True, is_reply_owned_by_me=False), brand=BRAND, source="poll")
    assert isinstance(polled, Mention) and polled.key == hooked.key
    assert {**polled.to_dict(), "extra": None} == {**hooked.to_dict(), "extra": None}


def test_a_mention_outside_the_brands_threads_is_its_own_conversation():
    post = {k: v for k, v in reply(text="Is @meridianrail running today?").items()
            if k not in ("replied_to", "root_post")}
    [mention] = threads.parse_webhook(delivery(post, field="mentions"), brand=BRAND)
    assert mention.reply_to == "" and mention.conversation_id == mention.external_id
    assert mention.extra["field"] == "mentions"


def test_the_brands_own_posts_and_other_fields_are_not_mentions():
    own = reply(username="MeridianRail")
    owned = reply(post_id="18050000000000002", is_reply_owned_by_me=True)
    publish = {"field": "publish", "value": {"id": "1"}}
    body = {"values": [{"field": "replies", "value": own}, {"field": "replies", "value": owned}, publish,
                       {"field": "delete", "value": {"id": "2"}}]}
    refused: list[str] = []
    assert threads.parse_webhook(body, brand=BRAND, refused=refused) == [] and refused == []


def test_an_unreadable_change_is_named_and_its_neighbours_are_kept():
    body = {"values": [{"field": "replies", "value": reply(post_id="not an id!")},
                       {"field": "replies", "value": reply(username="")},
                       {"field": "replies", "value": reply(timestamp="yesterday")},
                       {"field": "replies", "value": reply(text=7)},
                       {"field": "replies", "value": reply(post_id="18050000000000009")}]}
    refused: list[str] = []
    mentions = threads.parse_webhook(body, brand=BRAND, refused=refused)
    assert [m.external_id for m in mentions] == ["18050000000000009"]
    assert refused == ["values[0]: id is missing or is not a Threads id",
                       "values[1]: username is missing or is not a Threads username",
                       "values[2]: timestamp is not a time", "values[3]: text is not text"]


def test_metas_usual_entry_changes_shape_is_read_too():
    body = {"object": "threads", "entry": [{"id": "5000000001", "time": 1,
                                            "changes": [{"field": "replies", "value": reply()}]}]}
    assert [m.external_id for m in threads.parse_webhook(body, brand=BRAND)] == ["18050000000000001"]


def test_a_delivery_of_the_wrong_shape_is_malformed_naming_what_is_wrong():
    for body, reason in (([], "not a JSON object"), ({}, "has values (or entry)"), ({"values": 3}, "neither"),
                         ({"values": [1]}, "values[0] is not an object"), ({"entry": {}}, "entry is not a list"),
                         ({"entry": [{"changes": 1}]}, "entry[0].changes is not a list")):
        try:
            threads.parse_webhook(body)
        except ValueError as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"{body!r} was read")


def test_a_caption_less_image_reply_is_still_someone_writing_to_the_brand():
    mention = threads.parse_media(reply(text=None, media_type="IMAGE"), brand=BRAND)
    assert mention is not None and mention.text == "" and mention.extra["media_type"] == "IMAGE"


def test_threads_handles_are_identities_agents_can_type():
    assert parse_identity("threads@Pat.Rides") == "threads@pat.rides"
    for bad in ("threads@", "threads@pat rides", "threads@" + "a" * 31, "threads@pat@x"):
        try:
            parse_identity(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_the_signature_is_metas_hex_hmac_of_the_raw_body_with_the_threads_app_secret():
    raw = json.dumps(delivery(reply())).encode()
    good = "sha256=" + hmac.new(b"threads-secret", raw, hashlib.sha256).hexdigest()
    assert threads.verify_signature("threads-secret", raw, good)
    assert not threads.verify_signature("meta-secret", raw, good)
    assert not threads.verify_signature("threads-secret", raw + b" ", good)
    assert threads.subscribe_challenge({"hub.mode": "subscribe", "hub.verify_token": "v", "hub.challenge": "42"},
                                       "v") == "42"
    assert threads.subscribe_challenge({"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "42"},
                                       "v") is None


def test_the_local_short_form_is_read_by_the_same_parser():
    now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    item = threads.local_media({"username": "pat.rides", "text": "refund?", "reply_to": "180400"}, now=now)
    mention = threads.parse_media(item, brand=BRAND, source="local")
    assert mention is not None and mention.reply_to == "180400" and mention.created_at == now


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                  max_size=5), max_leaves=20)
_media = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.text(max_size=70), st.integers(), st.just("18050000000000001")),
    "username": st.one_of(st.text(max_size=35), st.just("pat.rides"), st.just("meridianrail")),
    "text": st.one_of(st.text(max_size=200), st.none(), st.integers()),
    "timestamp": st.one_of(st.text(max_size=30), st.just("2026-12-06T02:59:10+0000"), st.just("0001-01-01T00:00:00")),
    "replied_to": st.one_of(_json, st.fixed_dictionaries({"id": st.text(max_size=70)})),
    "root_post": _json, "is_reply_owned_by_me": _json, "permalink": _json, "media_type": _json})


@settings(max_examples=int(os.environ.get("RELIABILITY_EXAMPLES", "150")), deadline=None, database=None)
@given(st.one_of(_json, st.fixed_dictionaries({"values": st.one_of(
    _json, st.lists(st.fixed_dictionaries({"field": st.sampled_from(["replies", "mentions", "publish"]),
                                           "value": st.one_of(_media, _json)}), max_size=4))})))
def test_no_delivery_makes_the_parser_fail_other_than_with_a_reason(body):
    refused: list[str] = []
    try:
        mentions = threads.parse_webhook(body, brand=BRAND, refused=refused)
    except ValueError as exc:  # the whole delivery refused (400), with the reason
        assert str(exc)
        return
    for mention in mentions:
        assert mention.channel == "threads" and mention.author_handle not in BRAND and mention.external_id
    assert all(isinstance(reason, str) and reason.startswith("values[") for reason in refused)
