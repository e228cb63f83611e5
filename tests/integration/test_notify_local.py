"""Stage local's notification stand-in: what Slack, Teams and a signed webhook would have been sent, recorded on
DynamoDB (moto) and listed at ``GET /local/notifications`` through the real route; nothing leaves the machine."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.channels.notify import HttpNotifier, LocalNotifier, notifier, verify
from chalicelib.configfile import load_config
from chalicelib.domain.notice import digest_notice, slack_message, ticket_notice, webhook_body
from tests.conftest import utc
from tests.unit.test_notify_render import LINK, desk_message


@pytest.fixture
def local(svc) -> LocalNotifier:
    made = notifier(svc.settings, svc.secrets, svc.stores, svc.clock)
    assert isinstance(made, LocalNotifier)
    return made


def destinations(svc):
    """The shipped brand file's three: a Slack bot channel, a Teams workflow, a signed webhook."""
    return load_config(svc.settings.config_path).notify.destinations


def test_every_post_is_recorded_as_it_would_have_been_sent_and_listed_newest_first(client, svc, clock, local):
    d = destinations(svc)
    clock.set(utc(2026, 12, 7, 7, 0))
    new = ticket_notice(desk_message(priority="urgent"), link=LINK)
    ts = local.post(d["care-slack"], new)
    assert ts and ts.split(".")[0] == str(int(clock.now().timestamp()))  # a Slack-shaped ts to thread under
    clock.advance(seconds=30)
    chase = ticket_notice(desk_message(event="ticket.updated", change="chase"), link=LINK)
    assert local.post(d["care-slack"], chase, thread=ts) is not None
    clock.advance(seconds=1)
    assert local.post(d["oncall-teams"], new) is None  # Teams cannot thread
    clock.advance(seconds=1)
    assert local.post(d["helpdesk"], new) is None

    response = client.http.get("/local/notifications")
    assert response.status_code == 200
    helpdesk, teams, threaded, first = response.json_body["notifications"]
    assert [e["destination"] for e in (first, threaded, teams, helpdesk)] == [
        "care-slack", "care-slack", "oncall-teams", "helpdesk"]
    assert first["body"] == {"channel": "#customer-care", **slack_message(new, include_customer_text=False),
                             "unfurl_links": False, "unfurl_media": False}
    assert first["ts"] == ts and first["thread"] is None and first["reference"] == "R7K2M9QXA"
    assert threaded["thread"] == ts and threaded["body"]["thread_ts"] == ts
    assert teams["kind"] == "teams" and teams["body"]["attachments"][0]["content"]["version"] == "1.4"
    assert helpdesk["verified"] is True and helpdesk["url"] == "https://helpdesk.example-rail.test/hooks/responder"
    assert helpdesk["raw_body"].encode() == webhook_body(new)
    assert helpdesk["headers"]["X-Responder-Event"] == "ticket.created"
    assert verify("local-helpdesk-signing-key-not-secret", helpdesk["headers"], helpdesk["raw_body"].encode(),
                  now=int(clock.now().timestamp()))
    said = json.dumps(response.json_body)
    assert "Lovelace" not in said and "cancelled" not in said  # no destination includes customer text
    assert "xoxb" not in said and "teams.local.invalid" not in said  # the credentials are not recorded


def test_the_list_filters_by_desk_and_limits(client, svc, clock, local):
    d = destinations(svc)
    for n in range(3):
        clock.advance(seconds=1)
        local.post(d["oncall-teams"], ticket_notice(desk_message(f"R0000000{n}"), link=LINK))
    clock.advance(seconds=1)
    local.post(d["oncall-teams"], digest_notice(desk="oncall", team="oncall", at=clock.now(), tickets=[],
                                                link="https://help.example.test/inbox/desks/oncall"))
    everything = client.http.get("/local/notifications").json_body["notifications"]
    assert [e["desk"] for e in everything] == ["oncall", "complaints", "complaints", "complaints"]
    assert everything[0]["event"] == "desk.digest" and everything[0]["reference"] is None
    complaints = client.http.get("/local/notifications?desk=complaints&limit=2").json_body["notifications"]
    assert [e["reference"] for e in complaints] == ["R00000002", "R00000001"]
    assert client.http.get("/local/notifications?desk=journeys").json_body["notifications"] == []
    assert client.http.get("/local/notifications?limit=0").status_code == 400
    assert client.http.get("/local/notifications?desk=../x").status_code == 400


def test_other_stages_post_over_http_and_have_no_notifications_route(client, svc):
    deployed = svc.settings.model_copy(update={"stage": "test", "sandbox_outbound": False})
    assert isinstance(notifier(deployed, svc.secrets, svc.stores, svc.clock), HttpNotifier)
    svc.settings = deployed
    response = client.http.get("/local/notifications")
    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_the_notify_log_contract(request, kind):
    """The memory twin and the DynamoDB store keep the same log: newest first, a desk's only, a limit."""
    if kind == "memory":
        from chalicelib.store.memory import MemoryNotifyLog

        log = MemoryNotifyLog()
    else:
        request.getfixturevalue("aws")
        from chalicelib.bootstrap import dynamo_stores
        from chalicelib.settings import Settings
        from tests.conftest import LOCAL_ENV

        log = dynamo_stores(Settings.from_env(LOCAL_ENV)).notify_log
    t0 = utc(2026, 12, 7, 7, 0)
    for n, desk in enumerate(["complaints", "press", "complaints", "complaints"]):
        log.record(t0 + timedelta(seconds=n), f"k{n}", {"desk": desk, "n": n, "body": {"nested": [n]}})
    assert [e["n"] for e in log.recent()] == [3, 2, 1, 0]
    assert [e["n"] for e in log.recent(desk="complaints", limit=2)] == [3, 2]
    assert [e["n"] for e in log.recent(desk="press")] == [1]
    assert log.recent(desk="journeys") == [] and log.recent(limit=1)[0]["body"] == {"nested": [3]}
    log.record(t0 + timedelta(seconds=3), "k3", {"desk": "complaints", "n": 33})  # the same key again: replaced
    assert [e["n"] for e in log.recent(desk="complaints")] == [33, 2, 0]
