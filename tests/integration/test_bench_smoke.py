"""`make bench` in miniature: every section of bench/results.json is there with sane values (counts, not timings:
timings are never asserted). The storm runs 30 mentions (within 10 app minutes), the latency 3, the scenarios one
round; the deployment package is left out (it needs pip and chalice; `make bench` builds it)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from tools.replay import DEFAULT_CSV

SCENARIOS = {"new_out_of_hours_complaint", "new_in_hours_complaint", "duplicate", "chase", "agent_reply"}


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="../shared/data/twcs_sample.csv is not beside the project")
def test_the_bench_writes_every_figure(tmp_path: Path) -> None:
    assert run.main(["--latency-samples", "3", "--storm-n", "30", "--rounds", "1", "--mentions", "10",
                     "--skip-package", "--out-dir", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) >= {"date", "machine", "ack_latency_local_stack", "scenarios", "pipeline_ratios", "cold_start",
                            "package", "storm", "listening", "prices", "cost_assumptions", "seconds"}
    assert set(results["machine"]) == {"platform", "cpus", "python"}

    latency = results["ack_latency_local_stack"]
    assert latency["samples"] == 3 and latency["acknowledged"] == 3
    assert {"p50_ms", "p95_ms", "p99_ms"} <= set(latency)

    scenarios = results["scenarios"]["scenarios"]
    assert set(scenarios) == SCENARIOS
    for name, figures in scenarios.items():
        assert figures["aws_calls"] > 0 and figures["phases"]["webhook"]["aws_calls"] >= 1, name
        assert figures["dynamodb_wru"] + figures["dynamodb_rru"] > 0, name
        cost = figures["cost_per_million"]
        assert set(cost["aws"]) == {"lambda_compute", "lambda_requests", "dynamodb_writes", "dynamodb_reads", "sqs",
                                    "api_gateway", "cloudwatch_logs"}
        assert cost["aws_total"] > 0 and cost["total"] >= cost["aws_total"], name
    assert scenarios["duplicate"]["aws_calls"] < scenarios["new_out_of_hours_complaint"]["aws_calls"]
    assert scenarios["agent_reply"]["sent"]["x_posts"] == 1  # the reply is one plain post on X

    cold = results["cold_start"]
    assert cold["modules_imported_by_app"] > 0 and cold["top_imports"]
    assert results["pipeline_ratios"]["process_aws_calls_per_mention"] > 0
    assert results["package"] == {"skipped": True}

    storm = results["storm"]
    assert storm["mentions"] == 30 and storm["accepted"] > 0 and storm["incident"]
    assert storm["lost"] == 0 and storm["customers_with_more_than_one_open_ticket"] == 0
    assert storm["invariant_violations"] == 0, storm["violations"]
    assert storm["stored_and_processed"] == storm["accepted"] and storm["sends_within_rate"]
    assert storm["sent_twice"] == 0 and storm["on_any_dlq"] == 0 and storm["acks_sent"] > 0
    accounting = storm["accounting"]
    assert accounting["adds_up"] and accounting["parked"] == 0 and accounting["decided"] == accounting["sent"]
    assert storm["priority_order"]["pairs_out_of_order_beyond_window"] == 0
    assert (tmp_path / "storm.png").stat().st_size > 0

    listening = results["listening"]  # docs/adr/0032: a day of searches, then one listened post on moto
    day = listening["per_day"]
    assert day["x_posts_the_budget_buys"] == 333  # $5 at $0.005 a post + $0.010 its author
    assert [row["posts_read"] for row in day["x"]] == [200, 333, 333]
    assert day["bluesky"]["requests_per_day"] == len(day["bluesky"]["queries"]) * 288
    assert day["mastodon"]["requests_per_day"] == len(day["mastodon"]["hashtags"]) * 288
    per_post = listening["per_post"]
    assert per_post["outcome"]["acks_per_post"] == {"listened_post": 0, "tagged_post": 1}
    assert per_post["outcome"]["flagged_listening"] == per_post["outcome"]["tickets"] == 1
    listened, tagged = per_post["scenarios"]["listened_post"], per_post["scenarios"]["tagged_post"]
    assert 0 < listened["aws_calls"] < tagged["aws_calls"] and listened["phases"]["deliver"]["aws_calls"] == 0
    runs = per_post["poll_runs"]
    assert runs["run_with_posts"]["queued"] == 3 * runs["run_with_posts"]["posts_injected_per_platform"]
    assert runs["quiet_run"]["aws_calls"] > 0 and "sqs.SendMessage" not in runs["quiet_run"]["calls_by_operation"]

    markdown = (tmp_path / "results.md").read_text()
    assert "Listening (docs/adr/0032)" in markdown and "| 5,000 | 333 | $5.00 |" in markdown
    assert results["machine"]["platform"] in markdown and "| figure | value |" in markdown
    assert all(f"${results['prices'][key]}" in markdown for key in ("x_per_post", "x_per_post_with_url"))
