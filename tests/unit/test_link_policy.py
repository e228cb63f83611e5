"""The X link policy (``links.no_url_in_public``) and the status lookup use case, on the in-memory services."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.configfile import ConfigError, load_config, parse_config
from chalicelib.domain.ack import x_length
from chalicelib.domain.config import LinkPolicy
from chalicelib.domain.mention import Mention
from chalicelib.usecases import incidents
from chalicelib.usecases.errors import NotFound, TooManyRequests
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.status import lookup
from tests.helpers import ticket_of, to_customers
from tests.unit.test_config import SAMPLE

COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful"
URL = re.compile(r"https?://|\b[a-z0-9-]+\.(?:com|org|net|co|uk|test|example)\b", re.IGNORECASE)


def message(external_id: str, *, at, channel: str = "x", visibility: str = "public", author: str = "555",
            handle: str = "pat_rail", text: str = COMPLAINT) -> Mention:
    return Mention(channel=channel, external_id=external_id, conversation_id=external_id, author_id=author,
                   text=text, created_at=at, visibility=visibility, author_handle=handle, author_name="Pat")


def ack_of(mem, external_id: str, channel: str = "x") -> dict:
    ticket_id = ticket_of(mem, f"{channel}#{external_id}")
    [ack] = [m for m in to_customers(mem) if m["idempotency_key"] == f"ack#{ticket_id}"]
    return ack


def with_policy(mem, channels: list[str]):
    mem.config = mem.config.model_copy(update={"links": LinkPolicy(no_url_in_public=channels)})
    return mem


# ------------------------------------------------------------------------------------------------ config
def test_the_policy_defaults_to_x_and_is_in_the_sample():
    assert load_config(SAMPLE).links.no_url_in_public == ["x"]
    assert LinkPolicy().no_url_in_public == ["x"]


def test_an_absent_section_means_x(tmp_path):
    text = re.sub(r"\nlinks:\n  no_url_in_public: \[x\][^\n]*\n", "\n", (SAMPLE).read_text(encoding="utf-8"))
    assert "\nlinks:" not in text
    config = parse_config(text, "brand.yaml")
    assert config.links.no_url_in_public == ["x"]
    assert not config.url_allowed("x", private=False) and config.url_allowed("x", private=True)
    assert config.url_allowed("email", private=False) and config.url_allowed("facebook", private=False)


@pytest.mark.parametrize("section, problem", [
    ("links:\n  no_url_in_public: [twitter]\n", "unknown channel 'twitter'"),
    ("links:\n  no_url_in_public: [x]\n  everywhere: true\n", "everywhere"),
    ("links:\n  no_url_in_public: [x, x]\n", "listed twice"),
])
def test_the_section_is_validated(section, problem):
    text = re.sub(r"\nlinks:\n  no_url_in_public: \[x\][^\n]*\n", "\n" + section, SAMPLE.read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "brand.yaml")
    assert problem in str(raised.value)


# ------------------------------------------------------------------------------------------------ acknowledgements
def test_a_public_x_ack_has_no_url_and_still_the_reference(mem, clock):
    outcome = process_mention(mem, message("1", at=clock.now()))
    text = ack_of(mem, "1")["text"]
    assert outcome.ticket_id in text and not URL.search(text)
    assert "status page of our website" in text and "DM us" in text
    assert x_length(text) <= 280


def test_a_public_x_ack_drops_the_incidents_link_and_keeps_its_title(mem, clock):
    incidents.declare(mem, {"title": "No trains from Leeds", "keywords": ["leeds"],
                            "text": "Signal failure, see https://status.example.test/detail for more",
                            "url": "https://status.example.test/1"})
    outcome = process_mention(mem, message("1", text="@MeridianRail no trains from leeds tonight, awful service",
                                           at=clock.now()))
    text = ack_of(mem, "1")["text"]
    assert "No trains from Leeds" in text and outcome.ticket_id in text
    assert "status.example.test" not in text and not URL.search(text)


def test_an_x_dm_ack_keeps_the_link(mem, clock):
    outcome = process_mention(mem, message("1", visibility="private", at=clock.now()))
    ack = ack_of(mem, "1")
    assert ack["private"] is True and mem.links.url(outcome.ticket_id) in ack["text"]


@pytest.mark.parametrize("channel, visibility, author", [("email", "private", "pat@example.org"),
                                                         ("facebook", "public", "9001"),
                                                         ("messenger", "private", "9002")])
def test_email_and_meta_acks_keep_the_link(mem, clock, channel, visibility, author):
    outcome = process_mention(mem, message("m1", channel=channel, visibility=visibility, author=author,
                                           handle="", at=clock.now()))
    assert mem.links.url(outcome.ticket_id) in ack_of(mem, "m1", channel)["text"]


def test_with_no_channel_listed_a_public_x_ack_keeps_the_link(mem, clock):
    with_policy(mem, [])
    outcome = process_mention(mem, message("1", at=clock.now()))
    assert mem.links.url(outcome.ticket_id) in ack_of(mem, "1")["text"]


def test_closing_and_busy_x_texts_without_a_link_fit_and_name_no_domain():
    from chalicelib.domain.ack import compose
    from tests.conftest import utc

    sample = load_config(SAMPLE)
    now = utc(2026, 11, 25, 20, 5)
    for kind in ("ack", "closing", "busy"):
        text = compose(sample.template(kind, "x", "en"), channel="x", name="Bartholomew-Fitzgerald",
                       reference="R7Q2K0000", status_url="", now=now, back_at=now + timedelta(hours=13),
                       tz=sample.brand.timezone, desk="complaints", expected_wait="about 40–60 minutes",
                       ask_for=sample.ask_for("complaints", "en"))
        assert "R7Q2K0000" in text and not URL.search(text), (kind, text)
        assert "status page" in text and x_length(text) <= 280 and "{" not in text and "  " not in text


# ------------------------------------------------------------------------------------------------ lookup
def test_lookup_with_the_reference_and_the_handle_gives_the_signed_link(mem, clock):
    outcome = process_mention(mem, message("1", at=clock.now()))
    url = mem.links.url(outcome.ticket_id)
    assert lookup(mem, outcome.ticket_id, "@pat_rail", client_key="c1") == url
    assert lookup(mem, outcome.ticket_id.lower(), " PAT_RAIL ", client_key="c1") == url


def test_lookup_with_the_email_address_written_from(mem, clock):
    outcome = process_mention(mem, message("m1", channel="email", visibility="private", author="pat@example.org",
                                           handle="", at=clock.now()))
    assert lookup(mem, outcome.ticket_id, "Pat@Example.org", client_key="c1") == mem.links.url(outcome.ticket_id)


@pytest.mark.parametrize("reference, who", [
    (None, "@pat_rail"), ("R00000000", "@pat_rail"), ("", ""), ("not a reference", "@pat_rail"),
    ("REF", "@someone_else"), ("REF", ""), ("REF", "x#555"), ("REF", "@" * 400), ("REF", "pat_rail\x00"),
])
def test_anything_that_does_not_match_is_the_same_not_found(mem, clock, reference, who):
    outcome = process_mention(mem, message("1", at=clock.now()))
    process_mention(mem, message("2", author="777", handle="someone_else", at=clock.now()))
    with pytest.raises(NotFound) as raised:
        lookup(mem, outcome.ticket_id if reference == "REF" else reference, who, client_key="c1")
    assert raised.value.message == "status lookup"


def test_lookups_that_find_nothing_are_limited_per_client_and_hour(mem, clock):
    outcome = process_mention(mem, message("1", at=clock.now()))
    for _ in range(3 * mem.settings.status_lookup_misses_per_hour):  # a customer finding theirs is never held back
        assert lookup(mem, outcome.ticket_id, "@pat_rail", client_key="c1") == mem.links.url(outcome.ticket_id)
    for _ in range(mem.settings.status_lookup_misses_per_hour):
        with pytest.raises(NotFound):
            lookup(mem, outcome.ticket_id, "@nobody", client_key="c1")
    with pytest.raises(TooManyRequests):
        lookup(mem, outcome.ticket_id, "@pat_rail", client_key="c1")  # even the right answer, once over
    assert lookup(mem, outcome.ticket_id, "@pat_rail", client_key="c2") == mem.links.url(outcome.ticket_id)
    clock.advance(minutes=60)
    assert lookup(mem, outcome.ticket_id, "@pat_rail", client_key="c1") == mem.links.url(outcome.ticket_id)
