"""The reliability scenario, small: 150 tweets of the twcs sample (a Tuesday from 17:10 to 21:00, London: the
customer-service desks close at 20:00) through the real webhook route and SQS handlers on
moto, with duplicates, concurrency, faults at AWS calls and sends, process deaths, redeliveries, the dispatch_outbox
schedule every minute, the fault cases one by one, a small burst at 10 sends a minute (most acknowledgements wait for
a slot) and a final dead-letter redrive that sends no key again; every guarantee holds and the logs hold no secret
and no status-link token.
`make reliability` runs the whole sample (``python -m tests.reliability.scenario``)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.scenario import Options, Scenario
from tools.replay import DEFAULT_CSV

EVENTS, FIRST, BURST = 150, 350, 40


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="../shared/data/twcs_sample.csv is not beside the project")
def test_the_guarantees_hold_through_faults_deaths_duplicates_and_a_redrive(svc: Any, client: Any, clock: Any) -> None:
    # faults a little denser than the full run's so that a small run still meets every kind
    result = Scenario(svc, client, clock, Options(events=EVENTS, first=FIRST, fault_rate=0.08, death_rate=0.15,
                                                  burst=BURST, burst_rate=10)).run()
    print("\n" + result.summary())
    figures = result.figures
    assert result.violations == []
    own = BURST + 5  # the burst's posts and the fault cases' (one customer writes twice; one post is refused)
    assert figures["tweets"] == EVENTS and figures["stored_and_processed"] == figures["accepted"] == EVENTS + own
    assert figures["duplicates"] > 0 and figures["answers_5xx_other"] == 0 and figures["answers_4xx"] == 0
    assert figures["deaths"] > 0 and figures["redeliveries"] > 0 and figures["acknowledgements"] > 0
    assert any(kind.startswith("aws ") for kind in result.faults)
    assert figures["inbound_dlq"] == 0  # redriven, then processed
    assert figures["dispatch_runs"] > 0 and figures["acks_that_waited"] > 0 and figures["acks_left_waiting"] == 0
    assert figures["acks_decided"] == figures["acks_sent"] + figures["acks_expired"] + figures["acks_parked"]
    assert figures["burst"] == BURST and figures["burst_waited"] > 0
    assert len(figures["fault_cases"]) == 5
