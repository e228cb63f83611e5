"""The local AWS's one change to moto keeps moto's behaviour: expired messages are never received."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import SQSBackend


@pytest.fixture(params=["moto as released", "moto as the local stack runs it"])
def retention_check(request):
    original = SQSBackend.is_message_valid_based_on_retention_period
    if request.param.endswith("runs it"):
        from tools.local_aws import fast_retention_check

        fast_retention_check()
    yield
    SQSBackend.is_message_valid_based_on_retention_period = original


def test_fresh_messages_are_received_and_expired_ones_are_not(retention_check, monkeypatch):
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-2")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=str(n))
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
        assert sorted(m["Body"] for m in got) == ["0", "1", "2"]

        import moto.sqs.models as models

        later = models.unix_time() + 61
        monkeypatch.setattr(models, "unix_time", lambda *a: later)
        assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
