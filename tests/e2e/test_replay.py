"""Replaying the whole twcs sample into the real local stack stores every inbound tweet exactly once."""
from __future__ import annotations

import time

import boto3
import pytest

from tools.replay import DEFAULT_CSV, inbound, read_rows, replay


def count_items(ddb, table: str) -> int:
    total, kwargs = 0, {"TableName": table, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="../shared/data/twcs_sample.csv is not beside the project")
def test_whole_sample_replayed_twice_stores_every_inbound_tweet_once(sunday_night_stack):
    stack = sunday_night_stack
    rows = inbound(read_rows())
    distinct = {r.tweet_id for r in rows}
    assert len(rows) == 2778
    ddb = boto3.client("dynamodb", endpoint_url=stack.endpoint, region_name="eu-west-2",
                       aws_access_key_id="local", aws_secret_access_key="local")
    before = count_items(ddb, "responder-mentions")
    started = time.monotonic()
    # paced at what the local stack sustains (~8-9 mentions/s on 2 cores); all at once works too, but moto's SQS
    # slows down with thousands waiting, so the whole run takes longer
    first = replay(stack.base, rows, workers=4, rate=8)
    assert first == {"sent": 2778, "accepted": 2778, "rejected": 0}
    again = replay(stack.base, rows[:300], workers=4, rate=8)  # webhook retries / overlap: no new mentions
    assert again["rejected"] == 0
    assert stack.wait_for(lambda: _inbound_empty(stack), timeout=900, interval=5)
    assert count_items(ddb, "responder-mentions") - before == len(distinct)
    dead = _queue_attributes(stack, "responder-inbound-dlq")["ApproximateNumberOfMessages"]
    assert dead == "0"
    print(f"\nreplayed {len(rows)} + 300 duplicate webhooks; all stored once in {time.monotonic() - started:.0f}s")


def _queue_attributes(stack, name: str) -> dict:
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint, region_name="eu-west-2",
                       aws_access_key_id="local", aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _inbound_empty(stack) -> bool:
    attrs = _queue_attributes(stack, "responder-inbound")
    return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
