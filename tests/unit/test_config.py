"""Brand configuration: the shipped file is valid, and every kind of mistake is reported with its line."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.configfile import ConfigError, load_config, parse_config
from chalicelib.domain.ack import compose, x_length
from chalicelib.domain.config import BrandConfig
from chalicelib.domain.rota import Calendar

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "chalicelib" / "brand.yaml"

# A minimal valid file; tests change one thing at a time. Keep line numbers in mind when editing:
# tests below assert exact lines.
BASE = """\
version: 1
brand:
  name: Test Rail
  timezone: Europe/London
teams:
  day:
    timezone: Europe/London
    slots:
      - days: [mon, tue, wed, thu, fri]
        start: "07:00"
        end: "20:00"
    holidays: {country: GB, subdiv: ENG}
desks:
  complaints:
    covered_by: [day]
  journeys:
    covered_by: [day]
routing:
  default_desk: journeys
  escalation_desk: complaints
sla:
  default:
    urgent: {first_response: 15, next_response: 30}
    normal: {first_response: 60, next_response: 120, business_hours: true}
templates:
  ack:
    default:
      en: "Hi {{ name }}, ref {{ reference }}"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="brand.yaml")
    return str(info.value).splitlines()


def only_problem(text: str) -> str:
    lines = problems_of(text)
    assert len(lines) == 1, lines
    return lines[0]


def test_base_is_valid():
    config = parse_config(BASE)
    assert config.desk_ids == ["complaints", "journeys"]


# -- the shipped sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> BrandConfig:
    return load_config(SAMPLE)


def test_sample_loads(sample):
    assert sample.version == 1
    assert sample.brand.timezone == "Europe/London"
    assert sample.brand.x_handle == "MeridianRail"
    assert {"complaints", "journeys", "press", "oncall", "escalations"} <= set(sample.desk_ids)
    assert sample.routing.oncall_desk == "oncall"
    assert sample.routing.escalation_desk == "escalations"


def test_sample_queue_names(sample):
    assert sample.queue_name("complaints") == "responder-desk-complaints"
    assert sample.queue_names()["press"] == "responder-desk-press"


def test_sample_coverage(sample):
    assert sample.teams_covering("press") == ["comms"]
    assert set(sample.desks_covered_by("customer_service")) == {"complaints", "journeys"}


def test_sample_times_are_strings_not_sexagesimal(sample):
    slot = sample.teams["customer_service"].slots[0]
    assert (slot.start, slot.end) == (7 * 60, 20 * 60)


@pytest.mark.parametrize("kind", ["ack", "closing", "incident_followup", "dm_invite"])
def test_sample_has_every_template_kind(sample, kind):
    assert sample.template(kind, "x", "en")


def test_template_fallbacks(sample):
    assert sample.template("ack", "x", "en") == sample.templates["ack"]["x"]["en"]
    # channel without its own template → default
    assert sample.template("ack", "email", "en") == sample.templates["ack"]["default"]["en"]
    # language missing for the channel → same language on default before the brand language
    assert sample.template("ack", "x", "fr") == sample.templates["ack"]["default"]["fr"]
    # unknown language → brand default (en)
    assert sample.template("ack", "email", "pt") == sample.templates["ack"]["default"]["en"]
    assert sample.template("closing", "facebook", "") == sample.templates["closing"]["default"]["en"]
    with pytest.raises(KeyError):
        sample.template("nonexistent", "x", "en")


def test_sample_ack_as_the_customer_receives_it(sample):
    # Friday 21:00 BST, after closing: rendered the way every acknowledgement is (domain.ack.compose).
    now = datetime(2026, 6, 12, 20, 0, tzinfo=timezone.utc)
    back_at = Calendar(sample).next_opening("complaints", now)
    assert back_at == now + timedelta(hours=12)  # Saturday 09:00 BST
    url = "https://help.example.test/s/R7Q2K0000-abcdefghijklmnop"
    text = compose(sample.template("ack", "x", "en"), channel="x", name="Sam", reference="R7Q2K0000",
                   status_url=url, now=now, back_at=back_at, tz=sample.brand.timezone, desk="complaints")
    assert "R7Q2K0000" in text and url in text
    assert "back at 09:00 tomorrow BST (in about 12 hours)" in text
    assert x_length(text) <= 280
    assert "  " not in text and "{" not in text and "%" not in text


def test_sla_target_fallback(sample):
    # the sample sets one target per priority for every channel: no channel's customers wait longer
    assert set(sample.sla) == {"default"}
    assert sample.sla_target("x", "normal") == sample.sla["default"]["normal"]
    assert sample.sla_target("x", "urgent") == sample.sla["default"]["urgent"]
    assert sample.sla_target("facebook", "normal") == sample.sla["default"]["normal"]
    for channel in ("email", "form"):
        assert sample.sla_target(channel, "normal") == sample.sla_target("x", "normal")


def test_sla_target_per_channel_override_is_still_honoured():
    config = parse_config(BASE.replace("sla:\n", "sla:\n  x:\n    normal: {first_response: 30, next_response: 60}\n"))
    assert config.sla_target("x", "normal").first_response == 30
    assert config.sla_target("x", "urgent") == config.sla["default"]["urgent"]
    assert config.sla_target("email", "normal") == config.sla["default"]["normal"]


def test_load_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_load_reports_the_path(tmp_path):
    path = tmp_path / "brand.yaml"
    path.write_text(BASE.replace("Europe/London\nteams", "Europe/Londn\nteams"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: brand.timezone: unknown IANA time zone 'Europe/Londn'")


# -- each mistake, with its line ------------------------------------------------------------------


def test_unknown_timezone_line():
    text = BASE.replace("  day:\n    timezone: Europe/London", "  day:\n    timezone: Europe/Lundon")
    assert only_problem(text) == "brand.yaml:7: teams.day.timezone: unknown IANA time zone 'Europe/Lundon'"


def test_unknown_holiday_country():
    text = BASE.replace("{country: GB, subdiv: ENG}", "{country: XX}")
    problem = only_problem(text)
    assert problem.startswith("brand.yaml:12: teams.day.holidays: unknown holiday country 'XX'")


def test_unknown_holiday_subdivision():
    text = BASE.replace("subdiv: ENG", "subdiv: YORKS")
    problem = only_problem(text)
    assert problem.startswith("brand.yaml:12: teams.day.holidays: unknown holiday subdivision 'YORKS' for GB")


def test_country_no_is_not_a_boolean():
    config = parse_config(BASE.replace("{country: GB, subdiv: ENG}", "{country: NO}"))
    assert config.teams["day"].holidays.country == "NO"


@pytest.mark.parametrize("bad", ["7am", "25:00", "12:60", "1200", "07-00"])
def test_malformed_time(bad):
    text = BASE.replace('start: "07:00"', f'start: "{bad}"')
    problem = only_problem(text)
    assert problem.startswith("brand.yaml:10: teams.day.slots[0].start: malformed time"), problem


def test_unquoted_times_are_read_as_times():
    config = parse_config(BASE.replace('"07:00"', "07:00").replace('"20:00"', "20:00"))
    assert (config.teams["day"].slots[0].start, config.teams["day"].slots[0].end) == (420, 1200)


def test_zero_length_slot():
    text = BASE.replace('end: "20:00"', 'end: "07:00"')
    assert only_problem(text).startswith("brand.yaml:9: teams.day.slots[0]: zero-length slot 07:00-07:00")


def test_empty_slot_days():
    text = BASE.replace("days: [mon, tue, wed, thu, fri]", "days: []")
    assert only_problem(text) == "brand.yaml:9: teams.day.slots[0].days: must not be empty"


def test_unknown_day():
    text = BASE.replace("days: [mon, tue, wed, thu, fri]", "days: [mon, funday]")
    problem = only_problem(text)
    assert problem.startswith("brand.yaml:9: teams.day.slots[0].days[1]:"), problem


def test_overlapping_slots_named_with_line():
    text = BASE.replace(
        '        end: "20:00"\n',
        '        end: "12:00"\n      - days: [mon]\n        start: "11:00"\n        end: "15:00"\n',
    )
    assert only_problem(text) == (
        "brand.yaml:12: teams.day.slots[1]: overlapping slots mon 07:00-12:00 and mon 11:00-15:00"
    )


def test_overnight_slot_overlapping_next_morning():
    text = BASE.replace(
        '        end: "20:00"\n',
        '        end: "20:00"\n      - days: [sun]\n        start: "22:00"\n        end: "08:00"\n',
    )
    assert only_problem(text) == (
        "brand.yaml:12: teams.day.slots[1]: overlapping slots mon 07:00-20:00 and sun 22:00-08:00"
    )


def test_touching_and_overnight_slots_are_fine():
    text = BASE.replace(
        '        end: "20:00"\n',
        '        end: "20:00"\n      - days: [fri]\n        start: "20:00"\n        end: "06:00"\n',
    )
    config = parse_config(text)
    assert config.teams["day"].slots[1].overnight


def test_whole_day_slot():
    text = BASE.replace('start: "07:00"', 'start: "00:00"').replace('end: "20:00"', 'end: "24:00"')
    assert parse_config(text).teams["day"].slots[0].length == 24 * 60


def test_desk_nobody_covers():
    text = BASE.replace("  journeys:\n    covered_by: [day]", "  journeys:\n    covered_by: []")
    assert only_problem(text) == "brand.yaml:17: desks.journeys.covered_by: desk 'journeys' is covered by no team"


def test_desk_without_covered_by_key():
    text = BASE.replace("  journeys:\n    covered_by: [day]", "  journeys:\n    description: x")
    # no covered_by line: the desk's own line
    assert only_problem(text) == "brand.yaml:16: desks.journeys.covered_by: desk 'journeys' is covered by no team"


def test_desk_references_unknown_team():
    text = BASE.replace("  journeys:\n    covered_by: [day]", "  journeys:\n    covered_by: [day, night]")
    assert only_problem(text) == (
        "brand.yaml:17: desks.journeys.covered_by[1]: desk 'journeys' references unknown team 'night'"
    )


def test_invalid_desk_id():
    text = BASE.replace("  journeys:", "  Journeys-Desk:").replace("default_desk: journeys", "default_desk: complaints")
    assert only_problem(text).startswith("brand.yaml:16: desks.Journeys-Desk: invalid desk id 'Journeys-Desk'")


def test_routing_to_unknown_desk():
    text = BASE.replace("escalation_desk: complaints", "escalation_desk: leads")
    assert only_problem(text) == "brand.yaml:20: routing.escalation_desk: unknown desk 'leads'"


def test_triage_rule_naming_unknown_desk():
    text = BASE + "triage:\n  desks:\n    - desk: refunds\n      keywords: [refund]\n"
    assert only_problem(text) == "brand.yaml:31: triage.desks[0].desk: triage rule names unknown desk 'refunds'"


def test_triage_invalid_regex():
    text = BASE + "triage:\n  urgent:\n    - patterns: ['(unclosed']\n"
    assert only_problem(text).startswith("brand.yaml:31: triage.urgent[0].patterns: invalid regular expression")


def test_triage_rule_needs_something_to_match():
    text = BASE + "triage:\n  urgent:\n    - name: empty\n"
    assert only_problem(text) == "brand.yaml:31: triage.urgent[0]: a rule needs keywords or patterns"


def test_unknown_intent():
    text = BASE + "triage:\n  intents:\n    grumble:\n      - keywords: [meh]\n"
    assert only_problem(text).startswith("brand.yaml:31: triage.intents.grumble:")


@pytest.mark.parametrize(
    "old,new,line,where",
    [
        ("  name: Test Rail\n", "  name: Test Rail\n  colour: red\n", 4, "brand.colour"),
        ("        end: \"20:00\"\n", "        end: \"20:00\"\n        ends: \"21:00\"\n", 12,
         "teams.day.slots[0].ends"),
        ("routing:\n", "routing:\n  fallback: journeys\n", 19, "routing.fallback"),
    ],
)
def test_unknown_keys(old, new, line, where):
    problem = only_problem(BASE.replace(old, new))
    key = where.rsplit(".", 1)[-1]
    assert problem == f"brand.yaml:{line}: {where}: unknown key '{key}'"


def test_unknown_top_level_key():
    assert only_problem(BASE + "extras: 1\n") == "brand.yaml:29: extras: unknown key 'extras'"


def test_missing_version():
    problem = only_problem(BASE.replace("version: 1\n", ""))
    assert re.match(r"brand\.yaml:\d+: version: missing required key 'version'", problem), problem


def test_unsupported_version():
    problem = only_problem(BASE.replace("version: 1", "version: 7"))
    assert problem.startswith("brand.yaml:1: version: unsupported version 7")


def test_missing_default_ack_template():
    text = BASE.replace("    default:\n      en:", "    default:\n      fr:")
    assert only_problem(text).startswith("brand.yaml:25: templates: templates.ack.default.en is required")


def test_template_syntax_error():
    text = BASE.replace('"Hi {{ name }}, ref {{ reference }}"', '"Hi {{ name }, ref"')
    assert only_problem(text).startswith("brand.yaml:28: templates.ack.default.en: template does not parse")


def test_template_unknown_filter_is_a_problem_not_a_crash():
    text = BASE.replace("{{ name }}", "{{ name | shout }}")
    assert only_problem(text) == (
        "brand.yaml:28: templates.ack.default.en: template does not parse: No filter named 'shout'. (template line 1)"
    )


def test_template_unknown_variable():
    text = BASE.replace("{{ name }}", "{{ customer_name }}")
    assert only_problem(text).startswith(
        "brand.yaml:28: templates.ack.default.en: unknown template variable(s) customer_name"
    )


def test_sla_default_needs_both_priorities():
    text = BASE.replace("    urgent: {first_response: 15, next_response: 30}\n", "")
    assert only_problem(text).startswith("brand.yaml:21: sla: sla.default needs targets for urgent")


def test_sla_unknown_channel():
    text = BASE.replace("sla:\n", "sla:\n  pigeon:\n    normal: {first_response: 1, next_response: 1}\n")
    assert "unknown channel 'pigeon'" in only_problem(text)


def test_override_shapes():
    ok = BASE.replace(
        "    holidays:", "    overrides:\n      - {date: 2026-12-24, closed: true}\n"
        "      - {date: 2026-12-27, start: \"10:00\", end: \"14:00\"}\n    holidays:"
    )
    config = parse_config(ok)
    assert [o.closed for o in config.teams["day"].overrides] == [True, False]
    both = BASE.replace(
        "    holidays:",
        "    overrides:\n      - {date: 2026-12-24, closed: true, start: \"10:00\", end: \"11:00\"}\n    holidays:",
    )
    assert only_problem(both).startswith("brand.yaml:13: teams.day.overrides[0]: an override is either closed")
    neither = BASE.replace("    holidays:", "    overrides:\n      - {date: 2026-12-24}\n    holidays:")
    assert only_problem(neither).startswith("brand.yaml:13: teams.day.overrides[0]: an override needs closed")
    bad_date = BASE.replace("    holidays:", "    overrides:\n      - {date: 2026-02-30, closed: true}\n    holidays:")
    assert only_problem(bad_date).startswith("brand.yaml:13: teams.day.overrides[0]")


def test_override_closing_and_opening_the_same_day():
    text = BASE.replace(
        "    holidays:",
        "    overrides:\n      - {date: 2026-12-24, closed: true}\n"
        "      - {date: 2026-12-24, start: \"10:00\", end: \"14:00\"}\n    holidays:",
    )
    assert only_problem(text) == (
        "brand.yaml:14: teams.day.overrides[1]: override 2026-12-24 both closes the day and adds hours"
    )


def test_every_problem_is_reported_at_once():
    text = (
        BASE.replace("timezone: Europe/London\nteams", "timezone: Nowhere/City\nteams")
        .replace('start: "07:00"', 'start: "7 o\'clock"')
        .replace("  journeys:\n    covered_by: [day]", "  journeys:\n    covered_by: [ghost]")
        .replace("escalation_desk: complaints", "escalation_desk: leads")
    )
    lines = problems_of(text)
    assert [line.split(":")[1] for line in lines] == ["4", "10", "17", "20"]


def test_invalid_yaml_has_a_line():
    text = BASE.replace("  name: Test Rail", "  name: [Test Rail")
    problem = only_problem(text)
    assert problem.startswith("brand.yaml:") and "invalid YAML" in problem


def test_not_a_mapping():
    assert only_problem("- 1\n- 2\n") == "brand.yaml:1: the file must be a YAML mapping"


def test_problems_are_structured():
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.replace("escalation_desk: complaints", "escalation_desk: leads"), source="x.yaml")
    (problem,) = info.value.problems
    assert (problem.source, problem.line, problem.location) == ("x.yaml", 20, "routing.escalation_desk")


# ------------------------------------------------------------------------------------------------ outbound rates
def test_every_channel_has_a_documented_default_rate_a_whole_number_a_minute_or_a_daily_cap():
    from chalicelib.domain.config import DEFAULT_OUTBOUND_PER_MINUTE
    from chalicelib.domain.mention import CHANNELS

    config = parse_config(BASE, source="brand.yaml")
    assert set(DEFAULT_OUTBOUND_PER_MINUTE) == set(CHANNELS)
    assert {channel: config.outbound.rate(channel) for channel in CHANNELS} == DEFAULT_OUTBOUND_PER_MINUTE
    assert all(isinstance(rate, int) and rate >= 1 for channel, rate in DEFAULT_OUTBOUND_PER_MINUTE.items()
               if channel != "threads")
    # Threads' 1,000 replies a day as a rate: one every 86,400 / 999 s, never more than 1,000 in any 24 hours
    assert DEFAULT_OUTBOUND_PER_MINUTE["threads"] * 1440 == pytest.approx(999)
    # e-mail and the form reply through one SES account: together within its sandbox rate of 1 message a second
    assert DEFAULT_OUTBOUND_PER_MINUTE["email"] + DEFAULT_OUTBOUND_PER_MINUTE["form"] <= 60


def test_a_channel_named_in_the_file_gets_its_own_rate_and_the_others_keep_theirs():
    config = parse_config(BASE + "outbound:\n  per_minute: {email: 420, mastodon: 2}\n", source="brand.yaml")
    assert (config.outbound.rate("email"), config.outbound.rate("mastodon"), config.outbound.rate("x")) == (420, 2, 6)


@pytest.mark.parametrize("rates, problem", [
    ("{telegram: 10}", "unknown channel 'telegram'"),
    ("{x: 0}", "x: the rate must be at least 1 send a minute, not 0"),
    ("{x: -5}", "x: the rate must be at least 1 send a minute, not -5"),
    ("{x: 2.5}", "x: the rate must be a whole number of sends a minute, not 2.5"),
    ("{x: true}", "x: the rate must be a whole number of sends a minute, not True"),
])
def test_an_unknown_channel_or_a_rate_below_one_is_refused_with_its_line(rates, problem):
    message = only_problem(BASE + f"outbound:\n  per_minute: {rates}\n")
    assert message.startswith("brand.yaml:30: outbound.per_minute: ") and problem in message, message


def test_outbound_takes_no_other_key():
    assert only_problem(BASE + "outbound:\n  per_hour: {x: 400}\n") == \
        "brand.yaml:30: outbound.per_hour: unknown key 'per_hour'"


# ------------------------------------------------------------------------------------------------ acknowledgements
def test_bluesky_acknowledges_only_posts_that_tag_the_brand_unless_the_brand_says_otherwise():
    default = parse_config(BASE, source="brand.yaml").triage.acknowledge
    assert default.on("bluesky") and default.tagged_only("bluesky")
    assert all(default.on(c) and not default.tagged_only(c) for c in ("x", "mastodon", "facebook", "email", "form"))
    chosen = parse_config(BASE + "triage:\n  acknowledge:\n    channels: {bluesky: true, x: false, mastodon: tagged}\n",
                          source="brand.yaml").triage.acknowledge
    assert chosen.on("bluesky") and not chosen.tagged_only("bluesky") and not chosen.on("x")
    assert chosen.tagged_only("mastodon")
    off = parse_config(BASE + "triage:\n  acknowledge:\n    channels: {bluesky: false}\n",
                       source="brand.yaml").triage.acknowledge
    assert not off.on("bluesky")


@pytest.mark.parametrize("channels, problem", [
    ("{myspace: false}", "unknown channel 'myspace'"),
    ("{bluesky: sometimes}", "bluesky: true, false or tagged, not 'sometimes'"),
])
def test_acknowledgement_channels_are_checked(channels, problem):
    message = only_problem(BASE + f"triage:\n  acknowledge:\n    channels: {channels}\n")
    assert "triage.acknowledge.channels" in message and problem in message, message


# -- saved replies ----------------------------------------------------------------------------------


def test_sample_saved_replies_are_read_only_entries_for_known_desks(sample):
    ids = [entry.id for entry in sample.saved_replies]
    assert {"delay_repay", "cancellation_incident", "lost_property", "thanks_praise", "booking_reference_private",
            "passing_to_oncall"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert all(desk in sample.desks for entry in sample.saved_replies for desk in entry.desks)
    assert sample.saved_reply("thanks_praise").desks == ()  # every desk
    assert sample.saved_reply("thanks_praise").in_language(sample.brand.language) == "en"


def test_saved_reply_naming_an_unknown_desk_has_its_line():
    text = BASE + "saved_replies:\n  - id: refund\n    title: Refund\n    desks: [journeys, refunds]\n    text: Hi\n"
    assert only_problem(text) == (
        "brand.yaml:32: saved_replies[0].desks[1]: saved reply 'refund' names unknown desk 'refunds'"
    )


def test_saved_reply_template_that_does_not_parse_names_the_entry():
    text = BASE + "saved_replies:\n  - id: refund\n    title: Refund\n    text: 'Hi {{ name }'\n"
    assert only_problem(text).startswith(
        "brand.yaml:32: saved_replies[0].text: saved reply 'refund': template does not parse"
    )


def test_saved_reply_unknown_variable_names_the_entry():
    text = BASE + "saved_replies:\n  - id: refund\n    title: Refund\n    text: 'Hi {{ back_at }}'\n"
    assert only_problem(text).startswith(
        "brand.yaml:32: saved_replies[0].text: saved reply 'refund': unknown template variable(s) back_at"
    )


def test_saved_reply_ids_are_checked_and_given_once():
    entry = "  - id: refund\n    title: Refund\n    text: Hi\n"
    assert only_problem(BASE + "saved_replies:\n" + entry + entry) == (
        "brand.yaml:33: saved_replies[1].id: saved reply 'refund' is defined twice"
    )
    assert only_problem(BASE + "saved_replies:\n" + entry.replace("refund", "Refund")).startswith(
        "brand.yaml:30: saved_replies[0].id: invalid saved reply id 'Refund'"
    )


def test_saved_reply_incident_block_renders_with_and_without_an_incident(sample):
    from chalicelib.domain.templates import render

    source = sample.saved_reply("cancellation_incident").text
    given = {"name": "Pat", "reference": "R1", "status_url": "", "eta": "", "incident_title": "",
             "incident_url": ""}
    assert "valid on the next service" in render(source, **given, incident_text="")
    with_incident = render(source, **given, incident_text="Lines are blocked at Reading.")
    assert "Lines are blocked at Reading." in with_incident and "valid on the next service" not in with_incident
