"""Meta (Facebook Page feed, Messenger, Instagram) webhook verification and parsing."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import meta
from chalicelib.domain.mention import Mention

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "meta"
PAGE_ID = "106203948271543"
IG_ID = "17841405822304914"
SECRET = "0123456789abcdef0123456789abcdef"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------------
# signature
# --------------------------------------------------------------------------------------------------


class TestVerifySignature:
    body = (FIXTURES / "feed_comment.json").read_bytes()

    def test_valid_signature(self):
        assert meta.verify_signature(SECRET, self.body, sign(self.body)) is True

    def test_uppercase_hex_and_surrounding_spaces_accepted(self):
        header = "sha256=" + hmac.new(SECRET.encode(), self.body, hashlib.sha256).hexdigest().upper()
        assert meta.verify_signature(SECRET, self.body, f"  {header} ") is True

    def test_tampered_body(self):
        assert meta.verify_signature(SECRET, self.body + b" ", sign(self.body)) is False

    def test_wrong_secret(self):
        assert meta.verify_signature("other-secret", self.body, sign(self.body)) is False

    def test_base64_digest_is_rejected(self):
        import base64

        digest = hmac.new(SECRET.encode(), self.body, hashlib.sha256).digest()
        assert meta.verify_signature(SECRET, self.body, "sha256=" + base64.b64encode(digest).decode()) is False

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "sha256=",
            "sha1=" + "a" * 40,
            "sha256=" + "z" * 64,
            "sha256=" + "a" * 63,
            "sha256=" + "a" * 65,
            "a" * 64,
            "sha256 = " + "a" * 64,
            "sha256=ééé",
        ],
    )
    def test_malformed_header(self, header):
        assert meta.verify_signature(SECRET, self.body, header) is False

    def test_non_string_header(self):
        assert meta.verify_signature(SECRET, self.body, 12345) is False  # type: ignore[arg-type]

    def test_empty_secret_never_verifies(self):
        assert meta.verify_signature("", self.body, sign(self.body, "")) is False

    def test_empty_body_with_matching_signature(self):
        assert meta.verify_signature(SECRET, b"", sign(b"")) is True

    def test_body_must_be_bytes(self):
        assert meta.verify_signature(SECRET, self.body.decode(), sign(self.body)) is False  # type: ignore[arg-type]

    def test_uses_constant_time_compare(self, monkeypatch):
        calls = []
        real = hmac.compare_digest

        def spy(a, b):
            calls.append((a, b))
            return real(a, b)

        monkeypatch.setattr(meta.hmac, "compare_digest", spy)
        assert meta.verify_signature(SECRET, self.body, sign(self.body))
        assert calls

    @settings(max_examples=50, deadline=None)
    @given(st.binary(max_size=2048), st.text(min_size=1, max_size=40))
    def test_roundtrip_any_body_and_secret(self, body, secret):
        assert meta.verify_signature(secret, body, sign(body, secret))
        assert not meta.verify_signature(secret, body + b"x", sign(body, secret))


class TestSubscribeChallenge:
    def test_echoes_challenge(self):
        params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
        assert meta.subscribe_challenge(params, "tok") == "1158201444"

    @pytest.mark.parametrize(
        "params",
        [
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"},
            {"hub.verify_token": "tok", "hub.challenge": "1"},
            {"hub.mode": "subscribe", "hub.challenge": "1"},
            {"hub.mode": "subscribe", "hub.verify_token": "tok"},
            {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": ""},
            {"hub.mode": "subscribe", "hub.verify_token": "TOK", "hub.challenge": "1"},
            {},
        ],
    )
    def test_rejected(self, params):
        assert meta.subscribe_challenge(params, "tok") is None

    def test_no_query_string_at_all(self):
        assert meta.subscribe_challenge(None, "tok") is None  # type: ignore[arg-type]  # Chalice gives None

    def test_unconfigured_token_never_verifies(self):
        params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
        assert meta.subscribe_challenge(params, "") is None

    def test_unicode_token(self):
        params = {"hub.mode": "subscribe", "hub.verify_token": "clé✓", "hub.challenge": "abc"}
        assert meta.subscribe_challenge(params, "clé✓") == "abc"
        assert meta.subscribe_challenge(params, "cle✓") is None


# --------------------------------------------------------------------------------------------------
# parse: documented shapes
# --------------------------------------------------------------------------------------------------


def test_feed_comment():
    [m] = meta.parse(load("feed_comment.json"), page_ids={PAGE_ID})
    assert isinstance(m, Mention)
    assert m.channel == "facebook"
    assert m.visibility == "public"
    assert m.external_id == "842211330098123_1187765201237788"
    assert m.conversation_id == "106203948271543_842211330098123"
    assert m.reply_to == ""  # a top-level comment: its parent is the post
    assert m.author_id == "7412908823411902"
    assert m.author_name == "Jane Rider"
    assert m.text == "The 23:10 from Leeds was cancelled and nobody told us. How do I get a refund?"
    assert m.created_at == datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)
    assert m.created_at.tzinfo is timezone.utc
    assert m.extra["page_id"] == PAGE_ID
    assert m.extra["comment_id"] == m.external_id
    assert m.extra["post_id"] == m.conversation_id
    assert m.extra["permalink_url"].startswith("https://www.facebook.com/")
    assert m.key == "facebook#842211330098123_1187765201237788"


def test_messenger_message():
    [m] = meta.parse(load("messenger_message.json"), page_ids={PAGE_ID})
    assert m.channel == "messenger"
    assert m.visibility == "private"
    assert m.external_id == "m_1457764197618:41d102a3e1ae206a38"
    assert m.conversation_id == "6543219876543210"
    assert m.author_id == "6543219876543210"
    assert m.text.startswith("Hi, my booking reference is ABC123")
    assert m.created_at == datetime(2024, 6, 1, 22, 29, 59, 876000, tzinfo=timezone.utc)
    assert m.extra["page_id"] == PAGE_ID
    assert m.extra["psid"] == "6543219876543210"
    assert m.extra["attachments"] == [
        {"type": "image", "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/receipt.jpg"}
    ]


def test_instagram_comment():
    [m] = meta.parse(load("instagram_comment.json"), ig_ids={IG_ID})
    assert m.channel == "instagram"
    assert m.visibility == "public"
    assert m.external_id == "17865799348089039"
    assert m.conversation_id == "18023345678901234"
    assert m.author_id == "17841401234567890"
    assert m.author_handle == "sam.travels"
    assert m.text == "Still waiting for my refund 😤 three weeks now"
    assert m.created_at == datetime(2024, 6, 1, 23, 0, tzinfo=timezone.utc)  # entry.time: IG sends no created_time
    assert m.extra["ig_id"] == IG_ID
    assert m.extra["page_id"] == IG_ID
    assert m.extra["media_id"] == "18023345678901234"
    assert m.extra["comment_id"] == m.external_id
    assert m.extra["media_product_type"] == "FEED"


def test_instagram_reply_to_a_comment_sets_reply_to():
    payload = load("instagram_comment.json")
    payload["entry"][0]["changes"][0]["value"]["parent_id"] = "17860000000000001"
    [m] = meta.parse(payload)
    assert m.reply_to == "17860000000000001"


def test_instagram_message():
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ID,
                "time": 1717282900123,
                "messaging": [
                    {
                        "sender": {"id": "5566778899001122"},
                        "recipient": {"id": IG_ID},
                        "timestamp": 1717282900000,
                        "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx",
                                    "text": "can you DM me the form?"},
                    },
                    {
                        "sender": {"id": IG_ID},
                        "recipient": {"id": "5566778899001122"},
                        "timestamp": 1717282901000,
                        "message": {"mid": "echo1", "text": "sure", "is_echo": True},
                    },
                ],
            }
        ],
    }
    [m] = meta.parse(payload, ig_ids={IG_ID})
    assert m.channel == "instagram"
    assert m.visibility == "private"
    assert m.external_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx"
    assert m.conversation_id == "5566778899001122"
    assert m.extra["ig_id"] == IG_ID
    assert m.extra["igsid"] == "5566778899001122"
    assert m.created_at == datetime(2024, 6, 1, 23, 1, 40, tzinfo=timezone.utc)


def test_echo_delivery_and_read_are_skipped():
    assert meta.parse(load("echo.json"), page_ids={PAGE_ID}) == []


def test_echo_flag_alone_is_enough():
    payload = load("echo.json")
    payload["entry"][0]["messaging"][0]["sender"]["id"] = "999"  # even from an unknown sender
    assert meta.parse(payload) == []


def test_batch():
    mentions = meta.parse(load("batch.json"), page_ids={PAGE_ID, "222203948271999"})
    assert [(m.channel, m.external_id) for m in mentions] == [
        ("facebook", "842211330098123_1187765201230001"),
        ("facebook", "842211330098123_1187765201230002"),
        ("messenger", "m_AAAA1"),
        ("facebook", "900000000000001_1000000000000001"),
    ]
    reply = mentions[1]
    assert reply.reply_to == "842211330098123_1187765201230001"  # a reply to Jane's comment
    assert reply.conversation_id == "106203948271543_842211330098123"
    assert mentions[3].extra["page_id"] == "222203948271999"


def test_page_own_comment_skipped_even_without_page_ids():
    # the entry id is the page itself
    mentions = meta.parse(load("batch.json"))
    assert "842211330098123_1187765201230003" not in {m.external_id for m in mentions}


def test_page_ids_skip_another_owned_page():
    payload = load("feed_comment.json")
    payload["entry"][0]["changes"][0]["value"]["from"]["id"] = "555"
    assert meta.parse(payload, page_ids={"555"}) == []
    assert len(meta.parse(payload)) == 1


def test_ig_own_comment_skipped():
    payload = load("instagram_comment.json")
    payload["entry"][0]["changes"][0]["value"]["from"]["id"] = "424242"
    assert meta.parse(payload, ig_ids={"424242"}) == []
    assert meta.parse(payload, page_ids={"424242"}) != []  # page ids do not apply to Instagram


# --------------------------------------------------------------------------------------------------
# parse: things to ignore
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v.update(verb="edited"),
        lambda v: v.update(verb="remove"),
        lambda v: v.update(verb="hide"),
        lambda v: v.update(item="reaction"),
        lambda v: v.update(item="status"),
        lambda v: v.update(item="like"),
        lambda v: v.pop("message"),
        lambda v: v.update(message="   \n\t "),
    ],
    ids=["edited", "removed", "hidden", "reaction", "status", "like", "no-message", "blank-message"],
)
def test_feed_changes_that_are_not_new_comments_are_ignored(mutate):
    payload = load("feed_comment.json")
    mutate(payload["entry"][0]["changes"][0]["value"])
    assert meta.parse(payload) == []


def test_other_fields_and_objects_are_ignored():
    payload = load("feed_comment.json")
    payload["entry"][0]["changes"][0]["field"] = "ratings"
    assert meta.parse(payload) == []
    assert meta.parse({"object": "user", "entry": [{"id": "1", "changes": [{"field": "email"}]}]}) == []
    assert meta.parse({"object": "whatsapp_business_account", "entry": []}) == []
    # a Page feed change inside an Instagram object (and vice versa) is not ours either
    ig = load("instagram_comment.json")
    ig["entry"][0]["changes"][0]["field"] = "feed"
    assert meta.parse(ig) == []


def test_unknown_fields_are_ignored():
    payload = load("messenger_message.json")
    payload["entry"][0]["brand_new_field"] = {"x": 1}
    payload["entry"][0]["messaging"][0]["message"]["nlp"] = {"entities": {}}
    payload["entry"][0]["messaging"][0]["future"] = [1, 2]
    assert len(meta.parse(payload)) == 1


def test_attachment_only_message_skipped():
    payload = load("messenger_message.json")
    del payload["entry"][0]["messaging"][0]["message"]["text"]
    assert meta.parse(payload) == []


def test_postback_reaction_and_standby_ignored():
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1717284100000,
                "messaging": [
                    {"sender": {"id": "1"}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "postback": {"payload": "X"}},
                    {"sender": {"id": "1"}, "recipient": {"id": PAGE_ID}, "timestamp": 1,
                     "reaction": {"mid": "m", "action": "react"}},
                ],
                "standby": [{"sender": {"id": "1"}, "message": {"mid": "s1", "text": "standby"}}],
            }
        ],
    }
    assert meta.parse(payload) == []


def test_quick_reply_and_reply_to_captured():
    payload = load("messenger_message.json")
    message = payload["entry"][0]["messaging"][0]["message"]
    message["quick_reply"] = {"payload": "REFUND"}
    message["reply_to"] = {"mid": "m_previous"}
    [m] = meta.parse(payload)
    assert m.extra["quick_reply_payload"] == "REFUND"
    assert m.reply_to == "m_previous"


def test_empty_entry_list():
    assert meta.parse({"object": "page", "entry": []}) == []


def test_entry_without_changes_or_messaging():
    assert meta.parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1}]}) == []


# --------------------------------------------------------------------------------------------------
# parse: timestamps, ids, unicode
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (1717280459, datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)),
        (1717280459123, datetime(2024, 6, 1, 22, 20, 59, 123000, tzinfo=timezone.utc)),
        ("1717280459", datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)),
        ("2024-06-01T22:20:59+0000", datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)),
        ("2024-06-01T23:20:59+01:00", datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)),
        ("2024-06-01T22:20:59Z", datetime(2024, 6, 1, 22, 20, 59, tzinfo=timezone.utc)),
    ],
)
def test_created_time_formats(value, expected):
    payload = load("feed_comment.json")
    payload["entry"][0]["changes"][0]["value"]["created_time"] = value
    [m] = meta.parse(payload)
    assert m.created_at == expected
    assert m.created_at.utcoffset().total_seconds() == 0


def test_missing_created_time_falls_back_to_entry_time():
    payload = load("feed_comment.json")
    del payload["entry"][0]["changes"][0]["value"]["created_time"]
    [m] = meta.parse(payload)
    assert m.created_at == datetime.fromtimestamp(1717280460, tz=timezone.utc)


@pytest.mark.parametrize("bad", ["yesterday", -5, True, float("nan"), 10**30])
def test_unusable_created_time_falls_back_to_entry_time(bad):
    payload = load("feed_comment.json")
    payload["entry"][0]["changes"][0]["value"]["created_time"] = bad
    [m] = meta.parse(payload)
    assert m.created_at == datetime.fromtimestamp(1717280460, tz=timezone.utc)


def test_no_usable_time_at_all_raises():
    payload = load("feed_comment.json")
    payload["entry"][0]["changes"][0]["value"]["created_time"] = "soon"
    del payload["entry"][0]["time"]
    with pytest.raises(ValueError, match="created_time"):
        meta.parse(payload)
    del payload["entry"][0]["changes"][0]["value"]["created_time"]
    with pytest.raises(ValueError, match="missing"):
        meta.parse(payload)


def test_integer_ids_are_converted_to_strings():
    payload = load("messenger_message.json")
    payload["entry"][0]["id"] = int(PAGE_ID)
    payload["entry"][0]["messaging"][0]["sender"]["id"] = 6543219876543210
    [m] = meta.parse(payload)
    assert m.author_id == "6543219876543210"
    assert m.extra["page_id"] == PAGE_ID


def test_comment_without_from_is_kept_with_empty_author():
    payload = load("feed_comment.json")
    del payload["entry"][0]["changes"][0]["value"]["from"]
    [m] = meta.parse(payload)
    assert m.author_id == "" and m.author_name == ""


def test_unicode_text_is_preserved():
    payload = load("feed_comment.json")
    text = "Zug fällt aus 🚆 — 列车取消了 — القطار ألغي"
    payload["entry"][0]["changes"][0]["value"]["message"] = f"\n {text} \n"
    payload["entry"][0]["changes"][0]["value"]["from"]["name"] = "Zoë 🦊"
    [m] = meta.parse(payload)
    assert m.text == text
    assert m.author_name == "Zoë 🦊"


def test_mentions_round_trip_through_dict():
    for m in meta.parse(load("batch.json")):
        assert Mention.from_dict(json.loads(json.dumps(m.to_dict()))) == m


# --------------------------------------------------------------------------------------------------
# parse: malformed structures
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "JSON object"),
        ("page", "JSON object"),
        (None, "JSON object"),
        ({}, "'object'"),
        ({"object": 1, "entry": []}, "'object' must be a string"),
        ({"object": "page"}, "'entry'"),
        ({"object": "page", "entry": {"id": "1"}}, "'entry' must be a list"),
        ({"object": "page", "entry": "x"}, "'entry' must be a list"),
        ({"object": "page", "entry": [None]}, r"entry\[0\] must be an object"),
        ({"object": "page", "entry": [{"time": 1}]}, r"entry\[0\]\.id is missing"),
        ({"object": "page", "entry": [{"id": ["1"]}]}, r"entry\[0\]\.id must be a string"),
        ({"object": "page", "entry": [{"id": True}]}, r"entry\[0\]\.id must be a string"),
        ({"object": "page", "entry": [{"id": "1", "changes": {"field": "feed"}}]},
         r"entry\[0\]\.changes must be a list"),
        ({"object": "page", "entry": [{"id": "1", "changes": ["feed"]}]},
         r"entry\[0\]\.changes\[0\] must be an object"),
        ({"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": "x"}]}]},
         r"changes\[0\]\.value must be an object"),
        ({"object": "page", "entry": [{"id": "1", "messaging": "x"}]}, r"entry\[0\]\.messaging must be a list"),
        ({"object": "page", "entry": [{"id": "1", "messaging": [42]}]}, r"messaging\[0\] must be an object"),
        ({"object": "page", "entry": [{"id": "1", "messaging": [{"message": "hi"}]}]},
         r"messaging\[0\]\.message must be an object"),
    ],
)
def test_malformed_structures_raise_value_error(payload, message):
    with pytest.raises(ValueError, match=message):
        meta.parse(payload)


def test_comment_without_comment_id_raises():
    payload = load("feed_comment.json")
    del payload["entry"][0]["changes"][0]["value"]["comment_id"]
    with pytest.raises(ValueError, match=r"entry\[0\]\.changes\[0\]\.value\.comment_id is missing"):
        meta.parse(payload)


def test_message_with_non_string_text_raises():
    payload = load("messenger_message.json")
    payload["entry"][0]["messaging"][0]["message"]["text"] = {"body": "hi"}
    with pytest.raises(ValueError, match=r"message\.text must be a string"):
        meta.parse(payload)


def test_message_without_mid_raises():
    payload = load("messenger_message.json")
    del payload["entry"][0]["messaging"][0]["message"]["mid"]
    with pytest.raises(ValueError, match=r"message\.mid is missing"):
        meta.parse(payload)


def test_message_without_sender_raises():
    payload = load("messenger_message.json")
    del payload["entry"][0]["messaging"][0]["sender"]
    with pytest.raises(ValueError, match=r"sender\.id is missing"):
        meta.parse(payload)


def test_malformed_attachments_raise():
    payload = load("messenger_message.json")
    payload["entry"][0]["messaging"][0]["message"]["attachments"] = "image"
    with pytest.raises(ValueError, match="attachments must be a list"):
        meta.parse(payload)


def test_parse_does_not_mutate_payload():
    payload = load("batch.json")
    before = copy.deepcopy(payload)
    meta.parse(payload, page_ids={PAGE_ID})
    assert payload == before


def test_large_batch():
    template = load("feed_comment.json")["entry"][0]["changes"][0]
    changes = []
    for i in range(1000):
        change = copy.deepcopy(template)
        change["value"]["comment_id"] = f"c_{i}"
        change["value"]["message"] = f"comment {i}"
        changes.append(change)
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1717280460, "changes": changes}]}
    mentions = meta.parse(payload)
    assert len(mentions) == 1000
    assert len({m.key for m in mentions}) == 1000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    obj=st.sampled_from(["page", "instagram"]),
    entries=st.lists(
        st.fixed_dictionaries(
            {"id": st.sampled_from(["1", "2"])},
            optional={
                "time": json_values,
                "changes": st.lists(
                    st.fixed_dictionaries(
                        {"field": st.sampled_from(["feed", "comments", "other"])},
                        optional={"value": json_values},
                    ),
                    max_size=3,
                )
                | json_values,
                "messaging": st.lists(json_values, max_size=3) | json_values,
            },
        ),
        max_size=3,
    ),
)
def test_arbitrary_input_yields_mentions_or_value_error(obj, entries):
    try:
        mentions = meta.parse({"object": obj, "entry": entries})
    except ValueError:
        return
    for m in mentions:
        assert isinstance(m, Mention)
        assert m.text == m.text.strip() and m.text
        assert m.created_at.utcoffset().total_seconds() == 0
