"""The reports' JSON and CSV routes through the real Chalice app: tickets made by the X webhook and the pipeline,
answered through the agents' API, DynamoDB, SQS and the Cognito pool on moto; a lead and the comms team read the
report, an agent of another team is refused."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import drain, run_pipeline, utc
from tests.integration.test_agent_api import JSON, post_tweet, sign_in

NIGHT = utc(2026, 11, 25, 3, 0)  # a Wednesday; customer service is back at 07:00 London


@pytest.fixture
def answered_day(client, svc, clock):
    """Two tweets at night (acknowledged), one in the morning; Amira answers and resolves one of them."""
    clock.set(NIGHT)
    post_tweet(client, "8101", "@MeridianRail my train was cancelled, no replacement bus, awful", NIGHT, "601")
    post_tweet(client, "8102", "@MeridianRail can I change my booking to a later train?", NIGHT, "602")
    run_pipeline()
    clock.set(utc(2026, 11, 25, 7, 10))
    amira = sign_in(client, "amira", "Amira-local-1")
    taken = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    clock.set(utc(2026, 11, 25, 7, 30))
    done = client.http.post(f"/agent/tickets/{taken['ticket_id']}/reply_resolve", headers=amira,
                            body=json.dumps({"text": "Sorry about that: a refund is on its way."}))
    assert done.status_code == 200, done.body
    drain("deliver_outbox", "responder-outbox")
    clock.set(utc(2026, 11, 25, 9, 0))
    post_tweet(client, "8103", "@MeridianRail the lift at platform 2 is broken again", clock.now(), "603")
    run_pipeline()
    clock.set(utc(2026, 11, 25, 12, 0))
    return taken["ticket_id"]


def test_a_lead_reads_the_report_as_json(client, answered_day):
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    got = client.http.get("/agent/reports?from=2026-11-25&to=2026-11-25&by=day", headers=chloe)
    assert got.status_code == 200, got.body
    body = got.json_body
    assert (body["from"], body["to"], body["by"], body["timezone"]) == ("2026-11-25", "2026-11-25", "day",
                                                                         "Europe/London")
    tables = {t["name"]: t for t in body["tables"]}
    assert list(tables) == ["response", "parity", "acknowledgements", "volume", "backlog", "busy", "triage",
                            "listening"]
    response = tables["response"]["rows"]
    assert sum(r["tickets"] for r in response) == 3 and sum(r["answered"] for r in response) == 1
    answered = next(r for r in response if r["answered"])
    assert answered["first_response_median"] == 270.0  # 03:00 to 07:30
    assert answered["first_response_open_median"] == 30.0  # the desk opened at 07:00
    acks = tables["acknowledgements"]["rows"]
    assert [(r["channel"], r["wrote_while_closed"], r["acknowledged"]) for r in acks] == [("x", 2, 2)]
    volume = {r["desk"]: r for r in tables["volume"]["rows"]}
    assert sum(r["created"] for r in volume.values()) == 3 and sum(r["resolved"] for r in volume.values()) == 1
    backlog = {(r["hour"], r["desk"]): r["waiting"] for r in tables["backlog"]["rows"]}
    assert sum(v for (hour, _), v in backlog.items() if hour == "2026-11-25 04:00") == 2
    assert sum(v for (hour, _), v in backlog.items() if hour == "2026-11-25 11:00") == 2
    filtered = client.http.get("/agent/reports?from=2026-11-25&to=2026-11-25&channel=email", headers=chloe).json_body
    assert filtered["filters"] == {"channel": "email", "desk": None}
    assert next(t for t in filtered["tables"] if t["name"] == "response")["rows"] == []


def test_the_comms_team_downloads_a_table_as_csv(client, answered_day):
    priya = sign_in(client, "priya", "Priya-local-1")
    got = client.http.get("/agent/reports.csv?table=volume&from=2026-11-25&to=2026-11-25", headers=priya)
    assert got.status_code == 200, got.body
    assert got.headers["Content-Type"].startswith("text/csv")
    assert got.headers["Content-Disposition"] == 'attachment; filename="report-volume-2026-11-25-2026-11-25.csv"'
    rows = list(csv.reader(io.StringIO(got.body.decode())))
    assert rows[0] == ["Period", "Desk", "Created (count)", "Resolved (count)", "Reopened (count)"]
    assert sum(int(r[2]) for r in rows[1:]) == 3 and sum(int(r[3]) for r in rows[1:]) == 1


def test_an_agent_of_another_team_is_refused_and_bad_queries_are_explained(client, answered_day):
    amira = sign_in(client, "amira", "Amira-local-1")
    refused = client.http.get("/agent/reports", headers=amira)
    assert refused.status_code == 403 and "leads and the comms team" in refused.json_body["error"]
    assert client.http.get("/agent/reports.csv?table=volume", headers=amira).status_code == 403
    assert client.http.get("/agent/reports").status_code == 401
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    bad = client.http.get("/agent/reports?from=2026-11-30&to=2026-11-01", headers=chloe)
    assert bad.status_code == 422 and bad.json_body["error"] == "to must be on or after from"
    far = client.http.get("/agent/reports?from=2026-01-01&to=2026-11-01", headers=chloe)
    assert far.status_code == 422 and "at most 92 days" in far.json_body["error"]
    unknown = client.http.get("/agent/reports.csv?table=nope", headers=chloe)
    assert unknown.status_code == 422 and unknown.json_body["error"].startswith("table must be one of response")
    assert client.http.get("/agent/reports?desk=nowhere", headers={**chloe, **JSON}).status_code == 422
