"""Keys of messages, conversations and customers: built and read in one place, the stored text unchanged."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.keys import ChannelKey, InvalidKey, channel_of


@pytest.mark.parametrize(("text", "key"), [
    ("x#1234", ChannelKey("x", "1234")),
    ("x@pat", ChannelKey("x", "pat", by_handle=True)),
    ("email#ada@example.org", ChannelKey("email", "ada@example.org")),
    ("mastodon@pat@mastodon.social", ChannelKey("mastodon", "pat@mastodon.social", by_handle=True)),
    ("bluesky#did:plc:abc#x", ChannelKey("bluesky", "did:plc:abc#x")),
])
def test_a_stored_key_reads_as_its_channel_and_value_and_writes_back_the_same(text, key):
    assert ChannelKey.parse(text) == key and str(key) == text and channel_of(text) == key.channel


@pytest.mark.parametrize("text", ["", "x", "#1", "@pat"])
def test_text_without_a_channel_is_no_key(text):
    with pytest.raises(InvalidKey):
        ChannelKey.parse(text)
    assert channel_of(text) == ""


@given(st.sampled_from(["x", "email", "form", "bluesky", "mastodon", "facebook"]), st.text(min_size=1),
       st.booleans())
def test_every_key_round_trips(channel, value, by_handle):
    key = ChannelKey(channel, value, by_handle)
    assert ChannelKey.parse(str(key)) == key
