"""WhatsApp's customer-service window as the domain computes it from a ticket's timeline (``domain.service_window``),
and the brand file's approved templates (``domain.config.whatsapp``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from chalicelib.domain.channel_profiles import PROFILES
from chalicelib.domain.config.whatsapp import WhatsAppConfig, WhatsAppTemplate
from chalicelib.domain.history import Received
from chalicelib.domain.service_window import last_customer_message, service_window, span, window_problem
from chalicelib.domain.vocabulary import Channel
from tests.helpers import a_ticket

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)


def whatsapp_ticket(at: datetime = T0, **changes):
    ticket = a_ticket("RWA000001", at, **{"channel": "whatsapp", "conversation_key": "whatsapp#447700900123",
                                          "mention_keys": ["whatsapp#wamid.1"], **changes})
    ticket.record(Received(at, "whatsapp"))
    return ticket


def test_only_whatsapp_has_a_window_of_24_hours():
    windows = {channel: p.service_window for channel, p in PROFILES.items() if p.service_window is not None}
    assert windows == {Channel.WHATSAPP: DAY}
    assert service_window(a_ticket("RX1", T0), "x") is None
    assert window_problem(a_ticket("RX1", T0), "x", T0 + 10 * DAY) is None


def test_the_window_closes_24_hours_after_the_customer_last_wrote_and_is_closed_at_exactly_24_hours():
    window = service_window(whatsapp_ticket(), "whatsapp")
    assert window is not None and window.closes_at == T0 + DAY
    assert window.is_open(T0 + DAY - timedelta(microseconds=1))
    assert not window.is_open(T0 + DAY)  # "within 24 hours": the 24th hour's end is outside
    assert window.remaining(T0 + timedelta(hours=20, minutes=48)) == timedelta(hours=3, minutes=12)
    assert window.describe(T0 + timedelta(hours=20, minutes=48)) == "WhatsApp window open for 3 h 12 min"
    assert window.describe(T0 + timedelta(hours=25)) == "WhatsApp window closed 1 h ago"
    assert window.remaining(T0 + timedelta(hours=25)) == timedelta(0)


def test_the_refusal_says_how_long_ago_the_customer_wrote_and_what_whatsapp_allows():
    ticket = whatsapp_ticket()
    assert window_problem(ticket, "whatsapp", T0 + timedelta(hours=23, minutes=59)) is None
    assert window_problem(ticket, "whatsapp", T0 + timedelta(hours=25)) == (
        "The customer last wrote on WhatsApp 25 hours ago; WhatsApp only allows an approved template after 24 hours")
    assert "3 days ago" in (window_problem(ticket, "whatsapp", T0 + 3 * DAY) or "")


def test_every_whatsapp_message_of_the_customer_opens_the_window_again():
    ticket = whatsapp_ticket()
    ticket.customer_wrote("whatsapp#wamid.2", T0 + timedelta(hours=20))
    ticket.customer_wrote("whatsapp#wamid.3", T0 + timedelta(hours=22))
    assert last_customer_message(ticket, "whatsapp") == T0 + timedelta(hours=22)
    window = service_window(ticket, "whatsapp")
    assert window is not None and window.is_open(T0 + timedelta(hours=45))
    assert not window.is_open(T0 + timedelta(hours=46))


def test_a_merged_ticket_counts_only_the_whatsapp_messages_not_the_x_ones():
    ticket = whatsapp_ticket()
    other = a_ticket("RX2", T0 + timedelta(hours=10), mention_keys=["x#9001"])
    other.record(Received(T0 + timedelta(hours=10), "x"))
    ticket.absorb(other, T0 + timedelta(hours=11))
    ticket.customer_wrote("x#9002", T0 + timedelta(hours=30))  # the customer chases on X: no WhatsApp window
    assert ticket.channels == ["whatsapp", "x"]
    assert last_customer_message(ticket, "whatsapp") == T0
    assert ticket.last_customer_at == T0 + timedelta(hours=30)
    assert window_problem(ticket, "whatsapp", T0 + timedelta(hours=31)) is not None
    ticket.customer_wrote("whatsapp#wamid.4", T0 + timedelta(hours=32))
    assert window_problem(ticket, "whatsapp", T0 + timedelta(hours=33)) is None


def test_a_follow_up_without_its_channel_counts_only_on_a_ticket_of_one_channel():
    single = whatsapp_ticket()
    single.record(Received(T0 + timedelta(hours=5), follow_up=True))  # a row written before follow-ups said where
    assert last_customer_message(single, "whatsapp") == T0 + timedelta(hours=5)
    mixed = whatsapp_ticket(mention_keys=["whatsapp#wamid.1", "x#1"])
    mixed.record(Received(T0 + timedelta(hours=5), follow_up=True))
    assert last_customer_message(mixed, "whatsapp") == T0


def test_a_customer_who_never_wrote_on_whatsapp_has_a_closed_window():
    ticket = a_ticket("RX3", T0, mention_keys=["x#1"])
    window = service_window(ticket, "whatsapp")
    assert window is not None and window.last_message is None and not window.is_open(T0)
    assert "has not written on WhatsApp" in window.refusal(T0)


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(seconds=30), "under a minute"), (timedelta(minutes=45), "45 min"), (timedelta(hours=2), "2 h"),
    (timedelta(hours=3, minutes=12), "3 h 12 min"), (timedelta(days=3, hours=1), "3 days")])
def test_durations_read_as_an_agent_reads_them(delta, words):
    assert span(delta) == words


# ------------------------------------------------------------------------------------------------ templates
def test_a_template_renders_its_values_in_its_variables():
    template = WhatsAppTemplate(name="case_update", body="Hello {{1}}, about your case {{2}}: {{3}}.",
                                parameters=("customer_name", "reference", "agent"))
    assert template.render(["Ada", "R12345678", "your refund was sent"]) == \
        "Hello Ada, about your case R12345678: your refund was sent."


@pytest.mark.parametrize(("fields", "problem"), [
    ({"name": "Case Update"}, "lowercase letters, digits and _"),
    ({"parameters": ("customer_name", "phone")}, "unknown parameter(s) 'phone'"),
    ({"parameters": ("customer_name",)}, "must be 1 to 1"),
    ({"body": "Hello {{1}} and {{3}}"}, "numbers: 1, 3"),
    ({"category": "service"}, "'utility', 'marketing' or 'authentication'"),
    ({"language": "english"}, "en or en_GB"),
])
def test_a_template_that_whatsapp_would_not_match_is_refused_with_why(fields, problem):
    given = {"name": "case_update", "body": "Hello {{1}}, case {{2}}", "parameters": ("customer_name", "reference"),
             **fields}
    with pytest.raises(ValidationError) as refused:
        WhatsAppTemplate(**given)
    assert problem in str(refused.value)


def test_a_template_is_named_once_per_language_and_found_by_language():
    en = {"name": "case_update", "language": "en", "body": "Case {{1}}", "parameters": ["reference"]}
    fr = {**en, "language": "fr", "body": "Dossier {{1}}"}
    config = WhatsAppConfig.model_validate({"templates": [en, fr]})
    assert config.template("case_update", "fr").body == "Dossier {{1}}"  # type: ignore[union-attr]
    assert config.template("case_update", "de").body == "Case {{1}}"  # type: ignore[union-attr]
    assert config.template("nothing") is None
    with pytest.raises(ValidationError, match="defined twice"):
        WhatsAppConfig.model_validate({"templates": [en, en]})
