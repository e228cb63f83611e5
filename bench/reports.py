"""What the leads' reports (docs/adr/0027-reports.md) cost, measured on moto through the real routes and handlers:

- per piece of work: AWS calls and DynamoDB write and read units of the ``bench.scenarios`` scenarios (a new
  complaint out of hours and in hours, a chase, an agent's reply), without the reports' recording and with it;
- per ticket: the added calls and write units of a ticket's usual life (created out of hours and acknowledged, then
  answered by an agent, then resolved: the resolution's cost is the reply's, one write);
- a report read (``GET /agent/reports`` over one day of ``TICKETS`` tickets): AWS calls by operation and read units.

    python -m bench.reports            # prints the figures as JSON
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from unittest import mock

TICKETS = 150
MORNING = datetime(2027, 2, 10, 6, 0, tzinfo=timezone.utc)  # a Wednesday, before customer service starts at 07:00
SCENARIOS = ("new_out_of_hours_complaint", "new_in_hours_complaint", "chase", "agent_reply")


@contextmanager
def no_reports() -> Any:
    """Processing, delivery and the desk as they were before the reports: nothing recorded."""
    with mock.patch("chalicelib.usecases.reports.record_ticket", lambda svc, ticket: None), \
            mock.patch("chalicelib.usecases.reports.note_busy_estimate", lambda svc, ticket, wait: None):
        yield


def per_work(rounds: int = 2) -> dict[str, Any]:
    from bench import scenarios

    figures: dict[str, Any] = {}
    for label, patch in (("before", no_reports), ("after", contextmanager(lambda: (yield)))):
        with patch():
            summary = scenarios.run(rounds=rounds)["scenarios"]
        figures[label] = {name: {"aws_calls": summary[name]["aws_calls"], "dynamodb_wru": summary[name]["dynamodb_wru"],
                                 "dynamodb_rru": summary[name]["dynamodb_rru"]} for name in SCENARIOS}
    added = {name: {key: round(figures["after"][name][key] - figures["before"][name][key], 2)
                    for key in ("aws_calls", "dynamodb_wru", "dynamodb_rru")} for name in SCENARIOS}
    life = ("new_out_of_hours_complaint", "agent_reply", "agent_reply")  # created, answered, resolved
    figures["added"] = added
    figures["added_per_ticket_life"] = {key: round(sum(added[name][key] for name in life), 2)
                                        for key in ("aws_calls", "dynamodb_wru", "dynamodb_rru")}
    return figures


def report_read(tickets: int = TICKETS) -> dict[str, Any]:
    from bench.meter import Meter
    from bench.scenarios import JSON_HEADERS, Harness, tweet
    from tests.reliability.scenario import local_aws

    meter = Meter()
    with local_aws() as (svc, client, clock), meter.installed():
        h = Harness(svc, client, clock, meter)
        with h.outside():
            clock.set(MORNING)
            for n in range(tickets):
                h.post("/webhooks/x", *tweet(f"96{n:05d}", f"@MeridianRail my train was cancelled, awful ({n})",
                                             f"74{n:05d}", clock.now()))
                clock.advance(minutes=4)
            h.drain("process_inbound", svc.settings.inbound_queue)
            h.drain("deliver_outbox", svc.settings.outbox_queue)
            signed = client.http.post("/agent/sign-in", headers=JSON_HEADERS,
                                      body=json.dumps({"username": "chloe", "password": "Chloe-local-1"}))
            auth = {"Authorization": f"Bearer {signed.json_body['token']}", **JSON_HEADERS}
        meter.usage()
        got = client.http.get("/agent/reports?from=2027-02-10&to=2027-02-10", headers=auth).json_body
        usage = meter.usage()
        week = client.http.get("/agent/reports?from=2027-02-04&to=2027-02-10&by=week", headers=auth).json_body
        week_usage = meter.usage()
    created = sum(r["tickets"] for t in got["tables"] if t["name"] == "response" for r in t["rows"])
    return {"tickets": tickets, "tickets_in_report": created, "aws_calls": usage.total_calls(),
            "calls_by_operation": dict(sorted(usage.calls.items())), "dynamodb_rru": round(usage.rru, 2),
            "week_aws_calls": week_usage.total_calls(), "week_dynamodb_rru": round(week_usage.rru, 2),
            "week_tickets_in_report": sum(r["tickets"] for t in week["tables"] if t["name"] == "response"
                                          for r in t["rows"])}


def run(rounds: int = 2, tickets: int = TICKETS) -> dict[str, Any]:
    return {"per_work": per_work(rounds), "report_read": report_read(tickets)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
