"""The product's one vocabulary (domain.vocabulary) and its channel profiles (domain.channel_profiles): the words
are their strings, every channel is described in full, and tickets keep their words typed across the store."""
from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import get_args

import pytest

from chalicelib.domain import config, mention, outbound, ticket, triage
from chalicelib.domain.channel_profiles import PROFILES, ChannelProfile, ReplyForm, post_length, profile
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.vocabulary import AckKind, Channel, Counting, Intent, Priority, TicketStatus, Tone, maybe_tone

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
WORDS = (Channel, TicketStatus, Priority, Intent, Tone, AckKind, Counting)


@pytest.mark.parametrize("vocabulary", WORDS, ids=lambda e: e.__name__)
def test_every_word_is_its_string(vocabulary):
    for member in vocabulary:
        assert member == member.value and isinstance(member, str)
        assert str(member) == f"{member}" == member.value
        assert json.dumps(member) == json.dumps(member.value)
        assert vocabulary(member.value) is member
        assert hash(member) == hash(member.value)  # a member finds the plain string's entry in a dict, and back


def test_the_old_constants_are_the_vocabulary_in_its_order():
    assert mention.CHANNELS == ("x", "facebook", "instagram", "messenger", "email", "form", "bluesky", "mastodon",
                                "whatsapp", "threads")
    assert tuple(Channel) == mention.CHANNELS
    assert ticket.STATUSES == ("waiting", "claimed", "replied", "resolved", "merged") == tuple(TicketStatus)
    assert ticket.OPEN_STATUSES == ("waiting", "claimed", "replied")
    assert config.PRIORITIES == ("urgent", "normal") == tuple(Priority)
    assert config.INTENTS == ("complaint", "question", "praise", "spam", "abuse", "other") == tuple(Intent)
    assert triage.TONES == ("apology", "question", "thanks", "neutral") == tuple(Tone)
    assert outbound.ACK_KINDS == ("ack", "busy", "closing") == tuple(AckKind)
    assert ticket.WAITING is TicketStatus.WAITING and ticket.MERGED == "merged"
    assert {"praise", "spam", "abuse"} == config.NEVER_ACKNOWLEDGED
    # the brand file's words are the vocabulary's text (Literals, so that its validation messages stay the same)
    assert get_args(config.IntentName) == tuple(i.value for i in Intent)
    assert get_args(config.PriorityName) == tuple(p.value for p in Priority)
    assert set(config.DEFAULT_INTENT_ORDER) <= set(Intent) and set(config.DEFAULT_ACKNOWLEDGED) <= set(Intent)


def test_a_word_that_is_none_is_refused():
    with pytest.raises(ValueError):
        Intent("complain")
    with pytest.raises(ValueError):
        Channel("twitter")
    assert maybe_tone("") == "" and maybe_tone(None) == "" and maybe_tone("thanks") is Tone.THANKS


# ------------------------------------------------------------------------------------------------ channel profiles
@pytest.mark.parametrize("channel", list(Channel), ids=str)
def test_every_channel_has_a_complete_profile(channel):
    found = PROFILES[channel]
    assert isinstance(found, ChannelProfile) and found.channel is channel and profile(channel.value) is found
    for name in ("customer_name", "agent_name", "id_is"):
        assert getattr(found, name).strip(), f"{channel}: {name} is empty"
    assert found.customer_via.startswith(("on ", "by ", "through ")) and found.customer_name in found.customer_via
    for form in (found.public, found.private):
        assert isinstance(form, ReplyForm) and form.limit > 0 and form.what
        assert form.counting in Counting and form.unit in ("characters", "graphemes")
        assert form.length("abc") == 3 or form.counting is Counting.MASTODON  # Mastodon adds the @mention
        if form.counting is not Counting.CHARACTERS:
            assert form.hint and form.counted, f"{channel}: say how {form.what} is counted"
    assert found.ack_limit > 0
    assert found.has_handles == found.handle_example.startswith(f"{channel}@")
    assert found.address_id == (found.id_is == "e-mail address")


def test_profiles_cover_exactly_the_channels_and_agree_with_what_they_replaced():
    assert list(PROFILES) == list(Channel)
    assert profile("twitter") is None and post_length("twitter", "abc") == 3
    assert [c for c, p in PROFILES.items() if p.can_reply_privately] == ["x", "facebook", "instagram", "mastodon"]
    assert [c for c, p in PROFILES.items() if p.has_handles] == ["x", "bluesky", "mastodon", "threads"]
    assert [c for c, p in PROFILES.items() if p.address_id] == ["email", "form"]
    limits = {(c, private): p.reply(private).limit for c, p in PROFILES.items() for private in (False, True)}
    assert limits == {("x", False): 280, ("x", True): 10_000, ("facebook", False): 8_000, ("facebook", True): 2_000,
                      ("messenger", False): 2_000, ("messenger", True): 2_000, ("instagram", False): 2_200,
                      ("instagram", True): 1_000, ("email", False): 20_000, ("email", True): 20_000,
                      ("form", False): 20_000, ("form", True): 20_000, ("bluesky", False): 300,
                      ("bluesky", True): 300, ("mastodon", False): 500, ("mastodon", True): 500,
                      ("whatsapp", False): 4_096, ("whatsapp", True): 4_096, ("threads", False): 500,
                      ("threads", True): 500}
    assert {c: p.ack_limit for c, p in PROFILES.items() if p.ack_limit != 8000} == {
        "x": 280, "bluesky": 300, "mastodon": 500, "whatsapp": 4_096, "threads": 500}


def test_one_wording_per_audience():
    names = {c: (p.customer_name, p.agent_name) for c, p in PROFILES.items()}
    assert names["email"] == ("e-mail", "e-mail")
    assert names["form"] == ("our web form", "the web form")
    assert all(customer == agent for c, (customer, agent) in names.items() if c != "form")
    from chalicelib.web.inbox_page import CHANNELS as INBOX_NAMES

    assert {c: INBOX_NAMES[c] for c in Channel} == {c: p.agent_name for c, p in PROFILES.items()}


# ------------------------------------------------------------------------------------------------ the store's codec
def a_ticket(**changes) -> Ticket:
    made = Ticket(ticket_id="RK7T0DWJ6", desk="complaints", priority=Priority.URGENT, intent=Intent.COMPLAINT,
                  channel=Channel.X, conversation_key="x#1", customer_id="C1", first_contact_at=T0,
                  last_customer_at=T0, status=TicketStatus.CLAIMED, tone=Tone.APOLOGY, mention_keys=["x#1"],
                  reply_target=ReplyTarget(channel="x", recipient="555", in_reply_to="1"), claimed_by="ann",
                  claim_expires_at=T0 + timedelta(hours=1))
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def typed(t: Ticket) -> bool:
    return (type(t.status) is TicketStatus and type(t.priority) is Priority and type(t.intent) is Intent
            and (type(t.tone) is Tone or t.tone == ""))


def test_a_ticket_given_plain_strings_holds_members():
    made = Ticket(ticket_id="R1", desk="d", priority="normal", intent="praise", channel="email",
                  conversation_key="email#1", customer_id="C", first_contact_at=T0, last_customer_at=T0,
                  status="resolved", tone="thanks")
    assert typed(made) and made.status is TicketStatus.RESOLVED and made.tone is Tone.THANKS
    with pytest.raises(ValueError):
        Ticket(ticket_id="R1", desk="d", priority="high", intent="praise", channel="email",
               conversation_key="email#1", customer_id="C", first_contact_at=T0, last_customer_at=T0)


def test_the_dynamodb_codec_round_trips_a_ticket_and_stores_plain_text():
    from chalicelib.store.models import TicketModel
    from chalicelib.store.repositories import ticket_from_item, ticket_to_item

    original = a_ticket()
    row = ticket_to_item(original, None).serialize()
    assert {name: row[name] for name in ("status", "priority", "intent", "tone", "open_status")} == {
        "status": {"S": "claimed"}, "priority": {"S": "urgent"}, "intent": {"S": "complaint"},
        "tone": {"S": "apology"}, "open_status": {"S": "claimed"}}
    assert all(type(row[name]["S"]) is str for name in ("status", "priority", "intent", "tone", "open_status"))
    back = ticket_from_item(TicketModel.from_raw_data(row))
    assert back == original and typed(back)
    assert {f.name: getattr(back, f.name) for f in fields(Ticket)} == {f.name: getattr(original, f.name)
                                                                       for f in fields(Ticket)}
    untoned = ticket_to_item(a_ticket(tone=""), None).serialize()
    assert "tone" not in untoned  # no tone decided: no attribute, as before
    assert ticket_from_item(TicketModel.from_raw_data(untoned)).tone == ""


def test_the_dynamodb_codec_reads_an_old_row_of_plain_strings():
    from chalicelib.store.models import TicketModel
    from chalicelib.store.repositories import ticket_from_item, ticket_to_item

    row = ticket_to_item(a_ticket(), None).serialize()
    # a row written before the fields were typed, or before tones: the same text, and no tone at all
    row.update(status={"S": "resolved"}, priority={"S": "normal"}, intent={"S": "question"})
    del row["tone"]
    old = ticket_from_item(TicketModel.from_raw_data(row))
    assert typed(old) and (old.status, old.priority, old.intent, old.tone) == ("resolved", "normal", "question", "")
    assert old.status is TicketStatus.RESOLVED and not old.open and not old.urgent


def test_the_memory_twin_keeps_members_as_the_dynamodb_store_reads_them():
    from chalicelib.store.memory import MemoryTickets

    tickets = MemoryTickets()
    stored = a_ticket()
    stored.intent = "praise"  # type: ignore[assignment]  # plain text set by code that knows no better
    tickets.add(stored)
    got = tickets.get(stored.ticket_id)
    assert got is not None and typed(got) and got.intent is Intent.PRAISE
    got.status = "waiting"  # type: ignore[assignment]
    tickets.save(got)
    again = tickets.get(stored.ticket_id)
    assert again is not None and typed(again) and again.status is TicketStatus.WAITING
