"""Every text sent without a person says so (``brand.automated_notice``, per language) and still fits its channel:
each template the acknowledgements are composed from, in each language and on each channel, at its longest."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.configfile import load_config, parse_config
from chalicelib.domain.ack import compose, fits
from chalicelib.domain.config.brand import DEFAULT_AUTOMATED_NOTICE
from chalicelib.domain.incident import Incident

BRAND_FILE = Path(__file__).resolve().parents[2] / "chalicelib" / "brand.yaml"
SAMPLE = load_config(BRAND_FILE)
NOW = datetime(2026, 11, 29, 3, tzinfo=timezone.utc)
#: The kinds composed by ``domain.ack.compose`` and sent without a person
AUTOMATIC = sorted(kind for kind in SAMPLE.templates
                   if kind.split("_")[0] in ("ack", "closing", "busy", "receipt", "oncall"))
CHANNELS = ("x", "bluesky", "mastodon", "facebook", "instagram", "messenger", "email", "form")


def test_the_sample_names_its_notice_in_each_language_it_writes():
    languages = {lang for by_channel in SAMPLE.templates.values() for by_lang in by_channel.values()
                 for lang in by_lang}
    assert languages <= set(SAMPLE.brand.automated_notice)
    assert SAMPLE.brand.notice("fr") == "(réponse automatique)" and SAMPLE.brand.notice("de") == "(automated reply)"


def test_a_brand_file_without_a_notice_gets_the_default_and_can_turn_it_off():
    text = BRAND_FILE.read_text()
    without = parse_config(text.replace("  automated_notice:", "  # automated_notice:"))
    assert without.brand.automated_notice == DEFAULT_AUTOMATED_NOTICE
    off = parse_config(text.replace("  automated_notice: {", "  automated_notice: {xx: '', ").replace(
        'en: "(automated reply)"', 'en: ""'))
    assert off.brand.notice("en") == ""


@pytest.mark.parametrize("kind", AUTOMATIC)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_automatic_template_ends_with_the_notice_and_fits_at_its_longest(kind, channel):
    incident = Incident(incident_id="I1", title="Disruption between Reading and Oxford " * 2,
                        text="Signalling problems mean trains are delayed by up to 60 minutes. " * 4,
                        url="https://status.example-rail.test/incidents/2026-11-29-reading-oxford",
                        desks=("complaints",), declared_at=NOW)
    languages = {lang for by_lang in SAMPLE.templates[kind].values() for lang in by_lang}
    for language in sorted(languages):
        template = SAMPLE.template(kind, channel, language)
        written = SAMPLE.language_of(template)
        url = "" if channel == "x" else "https://help.example-rail.test/s/R7K2M9QPX-zxvuycbb4vsjjhd3"
        text = compose(template, channel=channel, name="Bartholomew Fitzgerald-Montgomery", reference="R7K2M9QPX",
                       status_url=url, now=NOW, back_at=NOW + timedelta(days=8), tz="Europe/London",
                       desk="complaints", incident=incident, dm_invite="Please keep card details out of posts.",
                       expected_wait="about 40–60 minutes", ask_for=SAMPLE.ask_for("complaints", written),
                       language=written, notice=SAMPLE.brand.notice(written))
        assert text.endswith(SAMPLE.brand.notice(written)), (kind, channel, language, text)
        assert fits(channel, text) and "R7K2M9QPX" in text, text
        assert url in text or not url or "status_url" not in template, text


def test_the_notice_is_never_cut_even_when_a_template_is_too_long_for_x():
    long = "Sorry " * 80 + "Ref {{ reference }}"
    text = compose(long, channel="x", name="", reference="R7K2M9QPX", status_url="https://h.test/s/R7K2M9QPX-a",
                   now=NOW, back_at=None, tz="Europe/London", desk="complaints", notice="(automated reply)")
    assert fits("x", text) and text.endswith("(automated reply)") and "https://h.test/s/R7K2M9QPX-a" in text
