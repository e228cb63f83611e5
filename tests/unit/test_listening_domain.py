"""Listening's pure rules: what a post must name to be listened to, the places it names, the searches each platform
is asked, and when posts about one place make a burst (``domain.listening``); the brand file's ``listening``
section and its mistakes, reported with their line (``domain.config.listening``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.configfile import ConfigError, parse_config
from chalicelib.domain import listening
from chalicelib.domain.config.listening import Listening
from tests.unit.test_config import BASE

WATCH = Listening(terms=["Meridian Rail", "#MeridianRail", "Meridian trains"],
                  exclude=["Meridian Rail Museum", "model railway"],
                  places=["Reading", "Didcot Parkway", "Bath Spa"])
T0 = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, terms", [
    ("no trains from Reading again, Meridian Rail", ("Meridian Rail",)),
    ("MERIDIAN RAIL strikes again", ("Meridian Rail",)),
    ("meridianrail never on time", ("Meridian Rail",)),
    ("Meridian-Rail has cancelled my train", ("Meridian Rail",)),
    ("stuck again #MeridianRail", ("Meridian Rail", "#MeridianRail")),
    ("the Meridian trains are late", ("Meridian trains",)),
])
def test_a_post_naming_the_brand_matches(text, terms):
    assert listening.matched_terms(WATCH, text) == terms


@pytest.mark.parametrize("text", [
    "a lovely day at the Meridian Rail Museum",  # an exclusion
    "my model railway has Meridian Rail livery",  # another one, anywhere in the text
    "meridianrailway fans unite",  # a longer word is not the term
    "Meridian Railcard",  # nor a word that starts with it
    "#MeridianRailFans meet-up",  # nor a longer hashtag
    "the trains are late again",  # names nothing
    "",
])
def test_a_post_not_about_the_brand_does_not(text):
    assert listening.matched_terms(WATCH, text) == ()


def test_a_hashtag_term_matches_the_hashtag_only():
    watch = Listening(terms=["#trainfail"])
    assert listening.matched_terms(watch, "again #TrainFail") == ("#trainfail",)
    assert listening.matched_terms(watch, "trainfail again") == ()


def test_listening_is_off_without_terms():
    off = Listening()
    assert not off.enabled and not off.searches("x")
    assert listening.matched_terms(off, "Meridian Rail") == ()


def test_places_named_in_the_files_order():
    assert listening.places_named(WATCH.places, "from Bath Spa to Didcot Parkway via Reading") == (
        "Reading", "Didcot Parkway", "Bath Spa")
    assert listening.places_named(WATCH.places, "Readings are fine; Bath is not Bath Spa-ish") == ("Bath Spa",)


@pytest.mark.parametrize("text, places", [
    ("I'm reading the timetable", ()),  # written with capitals: a lower-case "reading" is the verb
    ("Reading the timetable, no trains from Reading", ("Reading",)),
    ("no trains from reading again", ("Reading",)),  # all lower case: taken at its word
    ("NO TRAINS FROM READING", ("Reading",)),
    ("Stuck at didcot parkway", ()),
])
def test_a_place_that_is_also_a_word(text, places):
    assert listening.places_named(WATCH.places, text) == places


def test_any_case_for_an_incident_s_keywords():
    assert listening.places_named(WATCH.places, "Signal failure reading", any_case=True) == ("Reading",)


def test_x_query_leaves_out_the_brand_its_tags_and_retweets():
    query = listening.x_query(WATCH, "@MeridianRail")
    assert query == ('("Meridian Rail" OR #MeridianRail OR "Meridian trains") -"Meridian Rail Museum" '
                     '-"model railway" -is:retweet -from:MeridianRail -@MeridianRail')


def test_x_query_fits_x_s_512_characters_dropping_exclusions_first():
    many = Listening(terms=[f"term{i} words" for i in range(20)], exclude=[f"exclusion{i} here" for i in range(20)])
    query = listening.x_query(many, "MeridianRail")
    assert len(query) <= listening.X_QUERY_MAX
    assert '"term0 words"' in query and query.endswith("-@MeridianRail")
    assert "exclusion19" not in query
    assert len(listening.x_query(Listening(terms=["a" * 60] * 1), "b")) <= listening.X_QUERY_MAX


def test_hashtags_and_search_terms():
    assert listening.hashtags(WATCH) == ("meridianrail", "meridiantrains")
    assert listening.search_terms(WATCH) == ('"Meridian Rail"', "#MeridianRail", '"Meridian trains"')


@pytest.mark.parametrize("text, tags", [
    ("hey @MeridianRail the 07:15 is late", True),
    ("cc @meridianrail", True),
    ("@MeridianRail: why?", True),
    ("@MeridianRailFans is a fan club", False),
    ("email me at x@MeridianRail.example", False),
    ("Meridian Rail is late", False),
])
def test_tags_brand(text, tags):
    assert listening.tags_brand(text, ["@MeridianRail"]) is tags


def test_a_listened_mention_says_so_and_is_not_tagged():
    extra = listening.listening_extra(["Meridian Rail"], "x-search")
    assert listening.listened(extra) and extra["tagged"] is False
    assert not listening.listened({"tagged": False})
    assert not listening.listened({"listening": "yes"})


def test_five_posts_within_ten_minutes_are_a_burst_four_are_not():
    times = [T0 + timedelta(minutes=2 * i) for i in range(5)]  # 03:00 .. 03:08
    assert listening.burst_at(times, times[-1], posts=5, minutes=10)
    assert not listening.burst_at(times[:4], times[3], posts=5, minutes=10)
    spread = [T0 + timedelta(minutes=2.75 * i) for i in range(5)]  # 03:00 .. 03:11
    assert not listening.burst_at(spread, spread[-1], posts=5, minutes=10)
    assert not listening.burst_at(times, times[-1] + timedelta(minutes=5), posts=5, minutes=10)


@given(st.text(max_size=300))
def test_matching_never_raises_and_an_exclusion_always_wins(text):
    found = listening.matched_terms(WATCH, text + " Meridian Rail Museum")
    assert found == ()
    assert isinstance(listening.places_named(WATCH.places, text), tuple)


def _file(section: str) -> str:
    return BASE + section


def test_the_section_is_read():
    config = parse_config(_file('listening:\n  terms: ["Test Rail", "#TestRail"]\n  places: [Reading]\n'
                                '  desk: complaints\n  burst: {posts: 4, minutes: 15}\n'))
    assert config.listening.terms == ("Test Rail", "#TestRail")
    assert config.listening.desk == "complaints" and config.listening.burst.posts == 4
    assert config.listening.searches("bluesky")


def test_a_file_without_the_section_does_not_listen():
    assert not parse_config(BASE).listening.enabled


@pytest.mark.parametrize("section, message", [
    ('listening:\n  terms: ["Test Rail"]\n  desk: nowhere\n', "listening names unknown desk 'nowhere'"),
    ('listening:\n  terms: ["say \\"hi\\""]\n', "may not hold quotes"),
    ('listening:\n  terms: ["#"]\n', "is not a hashtag"),
    ('listening:\n  terms: [""]\n', "non-empty"),
    ('listening:\n  terms: [Test]\n  burst: {posts: 1}\n', "greater than or equal to 2"),
    ('listening:\n  terms: [Test]\n  channels: [x, myspace]\n', "myspace"),
])
def test_mistakes_are_reported(section, message):
    with pytest.raises(ConfigError) as error:
        parse_config(_file(section))
    assert message in str(error.value)


def test_duplicate_terms_are_kept_once():
    assert Listening(terms=["Test", "test", "TEST "]).terms == ("Test",)
