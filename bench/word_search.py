"""What the word search (docs/adr/0026-word-search.md) costs, measured on moto through the real routes and handlers:

- per processed message: AWS calls and DynamoDB write units of the ``bench.scenarios`` scenarios (a new complaint
  out of hours and in hours, a chase), without the word index and with it;
- a two-word search (``GET /agent/search?q=…``) over ``TICKETS`` tickets whose customers wrote one or both words:
  AWS calls by operation and read units.

    python -m bench.word_search            # prints the figures as JSON
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from unittest import mock

TICKETS = 150
MORNING = datetime(2027, 2, 8, 10, 0, tzinfo=timezone.utc)


@contextmanager
def no_word_index() -> Any:
    """Processing as it was before the word index: no words, so nothing is written."""
    with mock.patch("chalicelib.usecases.process.message_words", lambda text, language: []):
        yield


def per_message(rounds: int = 2) -> dict[str, Any]:
    from bench import scenarios

    figures: dict[str, Any] = {}
    for label, patch in (("before", no_word_index), ("after", contextmanager(lambda: (yield)))):
        with patch():
            summary = scenarios.run(rounds=rounds)["scenarios"]
        figures[label] = {name: {"aws_calls": summary[name]["aws_calls"], "dynamodb_wru": summary[name]["dynamodb_wru"],
                                 "batch_writes": summary[name]["calls_by_operation"].get("dynamodb.BatchWriteItem", 0)}
                          for name in ("new_out_of_hours_complaint", "new_in_hours_complaint", "chase")}
    return figures


def two_word_search() -> dict[str, Any]:
    from bench.meter import Meter
    from bench.scenarios import JSON_HEADERS, Harness, tweet
    from tests.reliability.scenario import local_aws

    meter = Meter()
    with local_aws() as (svc, client, clock), meter.installed():
        h = Harness(svc, client, clock, meter)
        with h.outside():
            clock.set(MORNING)
            for n in range(TICKETS):  # a third wrote both words, the others one of them
                text = ("@MeridianRail refund please, stuck at Didcot" if n % 3 == 0 else
                        "@MeridianRail I want a refund" if n % 3 == 1 else "@MeridianRail Didcot lifts broken")
                h.post("/webhooks/x", *tweet(f"95{n:05d}", text, f"73{n:05d}", clock.now()))
                clock.advance(minutes=1)
            h.drain("process_inbound", svc.settings.inbound_queue)
            signed = client.http.post("/agent/sign-in", headers=JSON_HEADERS,
                                      body=json.dumps({"username": "amira", "password": "Amira-local-1"}))
            auth = {"Authorization": f"Bearer {signed.json_body['token']}", **JSON_HEADERS}
        meter.usage()
        found = client.http.get("/agent/search?q=refund%20didcot", headers=auth).json_body
        usage = meter.usage()
    return {"tickets": TICKETS, "matches_shown": len(found["matches"]), "partial": found["partial"],
            "best": [m["matched"] for m in found["matches"][:3]], "aws_calls": usage.total_calls(),
            "calls_by_operation": dict(sorted(usage.calls.items())), "dynamodb_rru": round(usage.rru, 2)}


if __name__ == "__main__":
    print(json.dumps({"per_message": per_message(), "two_word_search": two_word_search()}, indent=2, default=str))
