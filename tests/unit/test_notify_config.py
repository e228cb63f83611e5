"""The brand file's ``notify`` section: destinations per desk and team, every mistake named where it is, and the
secrets destinations name read like the others (the environment in stage local, SSM ``notify/<name>`` deployed)."""
from __future__ import annotations

import pytest

from chalicelib.configfile import load_config, parse_config
from chalicelib.settings import SECRET_PARAMETERS, Secrets, Settings, SettingsError, secret_parameter
from tests.conftest import LOCAL_ENV
from tests.unit.test_config import BASE, SAMPLE, only_problem, problems_of

VALID = BASE + """\
notify:
  destinations:
    care-slack: {kind: slack, secret: NOTIFY_CARE_SLACK, channel: "#care"}
    care-teams: {kind: teams, secret: NOTIFY_CARE_TEAMS}
    helpdesk: {kind: webhook, url: "https://helpdesk.example/hooks/responder", secret: NOTIFY_HELPDESK}
    leads: {kind: slack, secret: NOTIFY_LEADS, include_customer_text: true}
  desks:
    complaints: [care-slack, helpdesk]
    journeys: care-teams
  teams:
    day: [helpdesk, leads, care-slack]
"""
NOTIFY_LINE = BASE.count("\n") + 1  # the line of ``notify:``


def with_notify(section: str) -> str:
    return BASE + "notify:\n" + section


def test_a_file_without_notify_posts_nowhere():
    config = parse_config(BASE)
    assert config.notify.destinations == {} and not config.notify.enabled
    assert config.notify.destinations_for("complaints", ["day"]) == ()


def test_destinations_are_named_by_their_key_with_their_settings():
    notify = parse_config(VALID).notify
    slack, teams, webhook, leads = (notify.destinations[n] for n in ("care-slack", "care-teams", "helpdesk", "leads"))
    assert (slack.name, slack.kind, slack.secret, slack.channel, slack.url) == (
        "care-slack", "slack", "NOTIFY_CARE_SLACK", "#care", None)
    assert (teams.kind, teams.channel, teams.url) == ("teams", None, None)
    assert (webhook.kind, webhook.url) == ("webhook", "https://helpdesk.example/hooks/responder")
    assert not slack.include_customer_text and leads.include_customer_text
    assert notify.desks["journeys"] == ("care-teams",)  # one name alone is a list of one


def test_destinations_for_a_desk_and_its_teams_on_shift_are_a_union_in_a_stable_order():
    notify = parse_config(VALID).notify
    names = [d.name for d in notify.destinations_for("complaints", ["day"])]
    assert names == ["care-slack", "helpdesk", "leads"]  # the desk's first, then the team's; each once
    assert [d.name for d in notify.destinations_for("complaints", [])] == ["care-slack", "helpdesk"]
    assert [d.name for d in notify.destinations_for("journeys", ["day"])] == ["care-teams", "helpdesk", "leads",
                                                                             "care-slack"]
    assert notify.destinations_for("nowhere", ["night"]) == ()


def test_an_unknown_destination_name_is_named_with_the_known_ones():
    problem = only_problem(with_notify("""\
  destinations:
    care-slack: {kind: slack, secret: NOTIFY_CARE_SLACK}
  desks:
    complaints: [care-slack, care-sms]
"""))
    assert problem == (f"brand.yaml:{NOTIFY_LINE + 4}: notify.desks.complaints[1]: desk 'complaints' names unknown "
                       "destination 'care-sms' (destinations: care-slack)")


def test_a_team_naming_a_destination_when_none_is_defined():
    problem = only_problem(with_notify("""\
  teams:
    day: [care-slack]
"""))
    assert problem.endswith("notify.teams.day[0]: team 'day' names unknown destination 'care-slack' "
                            "(destinations: none defined under notify.destinations)")


def test_an_unknown_desk_and_an_unknown_team():
    problems = problems_of(with_notify("""\
  destinations:
    care-slack: {kind: slack, secret: NOTIFY_CARE_SLACK}
  desks:
    refunds: [care-slack]
  teams:
    night: [care-slack]
"""))
    assert problems == [
        f"brand.yaml:{NOTIFY_LINE + 4}: notify.desks.refunds: unknown desk 'refunds' (the file's desks: complaints, "
        "journeys)",
        f"brand.yaml:{NOTIFY_LINE + 6}: notify.teams.night: unknown team 'night' (the file's teams: day)",
    ]


def test_an_unknown_kind():
    problem = only_problem(with_notify("""\
  destinations:
    care: {kind: discord, secret: NOTIFY_CARE}
"""))
    assert problem == (f"brand.yaml:{NOTIFY_LINE + 2}: notify.destinations.care.kind: 'discord' is not allowed: "
                       "expected 'slack', 'teams' or 'webhook'")


@pytest.mark.parametrize("url", ["http://helpdesk.example/hooks", "ftp://helpdesk.example/", "https://",
                                 "http://127.0.0.1.evil.example/"])
def test_a_webhook_url_must_be_https(url):
    problem = only_problem(with_notify(f"""\
  destinations:
    helpdesk: {{kind: webhook, url: "{url}", secret: NOTIFY_HELPDESK}}
"""))
    assert problem == (f"brand.yaml:{NOTIFY_LINE + 2}: notify.destinations.helpdesk.url: url {url!r} must be an "
                       "https:// address (http:// only to 127.0.0.1 or localhost)")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hooks", "http://localhost/hooks", "http://localhost:81"])
def test_a_webhook_may_post_over_http_to_this_machine(url):
    config = parse_config(with_notify(f"""\
  destinations:
    receiver: {{kind: webhook, url: "{url}", secret: NOTIFY_RECEIVER}}
"""))
    assert config.notify.destinations["receiver"].url == url


def test_a_webhook_needs_its_url_and_slack_and_teams_take_none():
    problems = problems_of(with_notify("""\
  destinations:
    helpdesk: {kind: webhook, secret: NOTIFY_HELPDESK}
    care-slack: {kind: slack, secret: NOTIFY_CARE_SLACK, url: "https://hooks.slack.com/services/T/B/X"}
    care-teams: {kind: teams, secret: NOTIFY_CARE_TEAMS, channel: "#care"}
"""))
    assert len(problems) == 3
    assert "notify.destinations.helpdesk: a webhook destination needs url" in problems[0]
    assert ("notify.destinations.care-slack: a slack destination takes no url: the incoming-webhook URL is a "
            "credential, kept in its secret NOTIFY_CARE_SLACK") in problems[1]
    assert "notify.destinations.care-teams: channel is for a slack destination with a bot token" in problems[2]


def test_a_secret_is_a_name_never_the_credential_itself():
    problem = only_problem(with_notify("""\
  destinations:
    care-slack: {kind: slack, secret: "https://hooks.slack.com/services/T000/B000/XXXX"}
"""))
    assert "notify.destinations.care-slack.secret: secret 'https://hooks.slack.com/services/T000/B000/XXXX' must " \
           "be a secret's name such as NOTIFY_CARE_SLACK" in problem


def test_a_destination_name_and_an_unknown_key():
    problems = problems_of(with_notify("""\
  destinations:
    Care Slack: {kind: slack, secret: NOTIFY_CARE_SLACK}
"""))
    assert any("invalid destination name 'Care Slack'" in p for p in problems), problems
    problem = only_problem(with_notify("""\
  destinations:
    care-slack: {kind: slack, secret: NOTIFY_CARE_SLACK, webhook: yes}
"""))
    assert problem.endswith("notify.destinations.care-slack.webhook: unknown key 'webhook'")


def test_the_shipped_brand_file_has_one_destination_of_each_kind_with_local_dummies():
    notify = load_config(SAMPLE).notify
    assert sorted(d.kind for d in notify.destinations.values()) == ["slack", "teams", "webhook"]
    for destination in notify.destinations.values():
        assert LOCAL_ENV.get(destination.secret), f"{destination.secret} needs a dummy in the local stage"
    assert notify.destinations_for("complaints", ["customer_service"])


# -- secrets -----------------------------------------------------------------------------------------------------


def test_a_notify_secret_lives_under_the_stage_prefix_in_lower_kebab_case():
    assert secret_parameter("NOTIFY_CARE_SLACK") == "notify/care-slack"
    assert secret_parameter("NOTIFY_HELPDESK") == "notify/helpdesk"
    assert secret_parameter("X_BEARER_TOKEN") == SECRET_PARAMETERS["X_BEARER_TOKEN"]
    for name in ("NOTIFY_", "NOTIFY_care", "NOTIFY__X", "SLACK_TOKEN", "notify_x"):
        assert secret_parameter(name) is None, name


def test_deployed_stages_read_a_notify_secret_from_ssm_and_local_from_the_environment():
    asked: list[str] = []
    deployed = Settings.from_env({"STAGE": "prod", "PARAMETER_PREFIX": "/responder/prod/"})
    secrets = Secrets(deployed, env={"NOTIFY_CARE_SLACK": "ignored in a deployed stage"},
                      fetch=lambda name: asked.append(name) or "xoxb-from-ssm")
    assert secrets.get("NOTIFY_CARE_SLACK") == "xoxb-from-ssm"
    assert asked == ["/responder/prod/notify/care-slack"]
    local = Secrets(Settings.from_env(LOCAL_ENV), env=LOCAL_ENV)
    assert local.get("NOTIFY_HELPDESK") == LOCAL_ENV["NOTIFY_HELPDESK"]
    with pytest.raises(SettingsError, match="NOTIFY_ELSEWHERE is not set"):
        local.get("NOTIFY_ELSEWHERE")
    with pytest.raises(KeyError):
        local.get("SLACK_TOKEN")


def test_the_deploy_tool_accepts_notify_secrets(tmp_path):
    from tools.deploy import DeployError, check_secret_name, parameter_name, read_secrets_file

    path = tmp_path / "dev.env"
    path.write_text("X_BEARER_TOKEN=abc\nNOTIFY_CARE_SLACK=xoxb-1\n")
    assert read_secrets_file(path) == {"X_BEARER_TOKEN": "abc", "NOTIFY_CARE_SLACK": "xoxb-1"}
    assert check_secret_name("NOTIFY_HELPDESK") == "NOTIFY_HELPDESK"
    assert parameter_name("dev", "NOTIFY_HELPDESK") == "/responder/dev/notify/helpdesk"
    with pytest.raises(DeployError, match="NOTIFY_<DESTINATION>"):
        check_secret_name("SLACK_TOKEN")


def test_the_deploy_tool_refuses_a_notify_secret_left_in_a_deployed_stages_environment(tmp_path):
    import json

    from tests.conftest import PROJECT
    from tools.deploy import DeployError, stage_environment

    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["environment_variables"]["NOTIFY_CARE_SLACK"] = "https://hooks.slack.com/services/T/B/X"
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    with pytest.raises(DeployError, match="remove NOTIFY_CARE_SLACK from .chalice/config.json"):
        stage_environment(tmp_path, "dev", {})
