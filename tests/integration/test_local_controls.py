"""Stage local's controls through the real routes: move the app's clock forward and run a schedule now."""
from __future__ import annotations

import json

import pytest

from tests.conftest import drain, run_pipeline, utc
from tests.helpers import tweet_event, x_body, x_headers


def test_closing_time_demo_in_seconds(client, svc, clock):
    clock.set(utc(2026, 11, 25, 19, 50))  # ten minutes before customer service closes
    body = x_body(tweet_event("9101", "@MeridianRail my train was cancelled, awful", at=clock.now()))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()
    assert client.http.get("/local/outbox").json_body["messages"] == []  # open: no automated message
    moved = client.http.post("/local/clock", body=json.dumps({"minutes": 15}),
                             headers={"Content-Type": "application/json"})
    assert moved.status_code == 200 and moved.json_body["now"] == "2026-11-25T20:05:00+00:00"
    ran = client.http.post("/local/schedules/closing_time")
    assert ran.status_code == 200 and ran.json_body["result"]["acknowledged"] == 1
    drain("deliver_outbox", "responder-outbox")
    sent = client.http.get("/local/outbox").json_body["messages"]
    assert len(sent) == 1 and sent[0]["in_reply_to"] == "9101" and "07:00" in sent[0]["text"]


@pytest.mark.parametrize("body", ['{"minutes": 0}', '{"minutes": "5"}', '{"minutes": true}', '{}', '[1]',
                                  '{"minutes": 99999999}'])
def test_bad_clock_moves_are_refused(client, body):
    response = client.http.post("/local/clock", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422) and response.json_body["error"]


def test_unknown_schedule_is_404(client):
    response = client.http.post("/local/schedules/make_coffee")
    assert response.status_code == 404 and "closing_time" in response.json_body["error"]


def test_the_controls_do_not_exist_outside_stage_local(mem):
    from dataclasses import replace

    from chalicelib.usecases.errors import NotFound
    from chalicelib.usecases.local import advance_clock, run_schedule

    deployed = replace(mem, settings=mem.settings.model_copy(update={"stage": "prod", "sandbox_outbound": False}))
    before = deployed.now()
    with pytest.raises(NotFound):
        advance_clock(deployed, {"minutes": 60})
    with pytest.raises(NotFound):
        run_schedule(deployed, "closing_time")
    assert deployed.now() == before


def test_a_running_clock_jumps_forward_and_runs_on():
    from datetime import timedelta

    from chalicelib.clock import Clock

    ticks = iter([0.0, 10.0, 10.0, 20.0])
    clock = Clock(utc(2026, 11, 25, 19, 50), monotonic=lambda: next(ticks))
    assert clock.now() == utc(2026, 11, 25, 19, 50, 10)
    clock.advance(minutes=15)
    assert clock.now() == utc(2026, 11, 25, 20, 5, 10)
    assert clock.now() - utc(2026, 11, 25, 20, 5, 10) == timedelta(seconds=10)


def test_an_email_injected_locally_is_parsed_by_the_email_channel_and_acknowledged_once(client, svc):
    sent = client.http.post("/local/email/mentions", headers={"Content-Type": "application/json"},
                            body=json.dumps({"from": "cara@example.org", "name": "Cara Jones", "subject": "Refund",
                                             "text": "My refund for booking ABC123 never arrived"}))
    assert sent.status_code == 202, sent.body
    assert sent.json_body["queued"].startswith("email#") and sent.json_body["message_id"].startswith("<")
    run_pipeline()
    drain("deliver_outbox", "responder-outbox")
    acks = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["channel"] == "email"]
    assert len(acks) == 1 and acks[0]["recipient"] == "cara@example.org"
    assert f"<{acks[0]['in_reply_to']}>" == sent.json_body["message_id"]  # threaded under the e-mail


@pytest.mark.parametrize("body, field", [('{"text": "hello"}', "from"), ('{"from": "a@b.org"}', "text"),
                                         ('{"from": "a@b.org", "text": "x", "subject": 5}', "subject"),
                                         ('{"from": "J\u00e3\u00e7\u2026", "text": "x"}', "from"),
                                         ('{"from": "j\u00e3@b\u00e7.org", "text": "x"}', "from"),
                                         ('{"from": "not an address", "text": "x"}', "from")])
def test_a_local_email_without_what_it_needs_is_422_naming_the_field(client, body, field):
    response = client.http.post("/local/email/mentions", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and field in response.json_body["details"], response.json_body


def test_only_deployed_stages_fetch_sns_certificates(settings):
    from chalicelib.bootstrap import _sns
    from chalicelib.channels.sandbox import LocalSns
    from chalicelib.channels.sns_http import SnsHttp

    assert isinstance(_sns(settings), LocalSns) and settings.stage == "local"
    assert LocalSns().certificate("https://sns.eu-west-2.amazonaws.com/cert.pem") == b""
    assert isinstance(_sns(settings.model_copy(update={"stage": "prod"})), SnsHttp)
