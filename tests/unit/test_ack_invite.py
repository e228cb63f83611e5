"""What the acknowledgement says: the invitation to continue in private with the reference the desk needs
(``desks.<desk>.ask_for``), and a matching incident's explanation, sized for X (280 characters, links 23)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.configfile import ConfigError, load_config, parse_config
from chalicelib.domain.ack import X_LIMIT, compose, x_length
from chalicelib.domain.incident import Incident

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # Sunday 03:00: every desk but on-call closed
BACK = NOW + timedelta(hours=6)
URL = "https://help.example-rail.test/s/R7Q2K0000-abcdefghijklmnop"
INCIDENT = Incident("INC-1", "No trains between Leeds and York", url="https://status.example-rail.test/inc-1",
                    text="A signalling fault at Church Fenton has closed the line; replacement buses run every "
                         "20 minutes from the station forecourt and tickets are accepted on local buses.")


@pytest.fixture(scope="module")
def sample():
    return load_config(ROOT / "chalicelib" / "brand.yaml")


def ack(sample, channel="x", language="en", desk="complaints", name="Sam", incident=None, dm_invite="",
        ask_for=None):
    return compose(sample.template("ack", channel, language), channel=channel, name=name, reference="R7Q2K0000",
                   status_url=URL, now=NOW, back_at=BACK, tz=sample.brand.timezone, desk=desk, incident=incident,
                   dm_invite=dm_invite,
                   ask_for=sample.ask_for(desk, language) if ask_for is None else ask_for)


def test_each_desk_says_what_it_needs(sample):
    assert sample.ask_for("complaints") == "your booking reference and train (date, time, stations)"
    assert sample.ask_for("journeys", "fr").startswith("votre référence de réservation")
    assert sample.ask_for("press", "fr") == "your publication and your deadline"  # no fr: the brand's language
    assert sample.ask_for("escalations") == "" and sample.ask_for("nowhere") == ""


@pytest.mark.parametrize("channel,language", [("x", "en"), ("email", "en"), ("facebook", "en"), ("form", "en"),
                                              ("email", "fr"), ("email", "cy")])
def test_every_ack_template_invites_the_customer_to_continue_in_private(sample, channel, language):
    text = ack(sample, channel=channel, language=language)
    assert sample.ask_for("complaints", language) in text
    assert "R7Q2K0000" in text and URL in text
    assert "{" not in text and "  " not in text
    without = ack(sample, channel=channel, language=language, ask_for="")
    assert sample.ask_for("complaints", language) not in without and "R7Q2K0000" in without


def test_the_x_ack_with_the_invitation_fits(sample):
    text = ack(sample, name="Maximilian Featherstonehaugh")
    assert "DM us your booking reference and train (date, time, stations), never in public." in text
    assert x_length(text) <= X_LIMIT


def test_an_incidents_explanation_fits_in_the_x_ack_cut_at_a_word(sample):
    text = ack(sample, incident=INCIDENT)
    assert x_length(text) <= X_LIMIT and text.endswith(URL) and "R7Q2K0000" in text
    assert "No trains between Leeds and York: A signalling fault at Church Fenton" in text
    assert INCIDENT.url in text
    assert "…" in text and INCIDENT.text not in text  # the explanation is cut at a word
    cut = text.split("No trains between Leeds and York: ")[1].split("… ")[0]
    assert INCIDENT.text.startswith(cut) and INCIDENT.text[len(cut)] == " "
    # the invitation gave way first: the explanation is what the customer needs during an incident
    assert "DM us" not in text


def test_a_short_explanation_fits_whole_beside_the_invitation(sample):
    short = Incident("INC-2", "Disruption at York", url="https://status.example-rail.test/inc-2",
                     text="Trains are delayed by up to 30 minutes.")
    text = ack(sample, incident=short)
    assert "Disruption at York: Trains are delayed by up to 30 minutes." in text
    assert "DM us your booking reference" in text and x_length(text) <= X_LIMIT


def test_the_email_ack_keeps_everything(sample):
    text = ack(sample, channel="email", incident=INCIDENT, dm_invite="Please keep card details private.")
    assert INCIDENT.text in text and "Please keep card details private." in text
    assert "send us your booking reference and train (date, time, stations) in private" in text


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=50), title=st.text(min_size=1, max_size=120), explanation=st.text(max_size=400),
       ask_for=st.text(max_size=120), dm_invite=st.text(max_size=200))
def test_the_x_ack_always_fits_and_keeps_the_reference_and_link(sample, name, title, explanation, ask_for,
                                                                dm_invite):
    incident = Incident("INC-9", title, url="https://status.example-rail.test/" + "a" * 60, text=explanation)
    text = ack(sample, name=name, incident=incident, ask_for=ask_for, dm_invite=dm_invite)
    assert x_length(text) <= X_LIMIT
    assert URL in text and "R7Q2K0000" in text


BASE = (ROOT / "chalicelib" / "brand.yaml").read_text()


@pytest.mark.parametrize("ask", ["your phone number", "the e-mail address on the booking", "your card's last 4 digits",
                                 "your date of birth", "your account number"])
def test_a_desk_may_never_ask_for_personal_data(ask):
    broken = BASE.replace("      en: your booking reference and train (date, time, stations)",
                          f"      en: {ask}")
    with pytest.raises(ConfigError, match="asks for personal data"):
        parse_config(broken, source="brand.yaml")


def test_ask_for_is_a_known_template_variable_and_languages_are_checked():
    with pytest.raises(ConfigError, match="ISO 639"):
        parse_config(BASE.replace("      fr: votre référence de réservation et le train",
                                  "      French: votre référence de réservation et le train"))
