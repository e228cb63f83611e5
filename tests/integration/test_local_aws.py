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


def _racing_conditional_puts(rounds: int) -> int:
    """Rounds in which more than one of four threads won the same conditional put (``version = 1`` -> 2)."""
    import sys
    import threading

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-2")
        dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        doubled = 0
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible: the widest window for a race
        try:
            for n in range(rounds):
                key = {"S": f"ticket-{n}"}
                dynamodb.put_item(TableName="t", Item={"pk": key, "version": {"N": "1"}})
                wins: list[int] = []
                start = threading.Barrier(4)

                def claim(agent: int, key=key, wins=wins, start=start) -> None:
                    start.wait()
                    try:
                        dynamodb.put_item(TableName="t", Item={"pk": key, "version": {"N": "2"},
                                                               "agent": {"N": str(agent)}},
                                          ConditionExpression="version = :v",
                                          ExpressionAttributeValues={":v": {"N": "1"}})
                        wins.append(agent)
                    except dynamodb.exceptions.ConditionalCheckFailedException:
                        pass

                threads = [threading.Thread(target=claim, args=(agent,)) for agent in range(4)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                doubled += len(wins) > 1
        finally:
            sys.setswitchinterval(interval)
    return doubled


def test_a_conditional_write_has_one_winner_however_the_threads_interleave():
    from tools.local_aws import atomic_dynamodb_writes

    atomic_dynamodb_writes()  # what the local stack's moto server and the tests' moto run with
    assert _racing_conditional_puts(150) == 0


def test_a_query_reads_its_partition_only_and_answers_as_before():
    """moto reads and sorts every item of a table for each query; the local stack and the tests read the partition
    (tools.local_aws.partition_queries): the same items in the same order, pages and all."""
    import time

    from moto.dynamodb.models.table import Table

    from tools.local_aws import partition_queries

    def pages(client) -> list:
        found = []
        for partition in ("p1", "p7", "absent"):
            for forward in (True, False):
                start, pages_of = None, []
                while True:
                    kwargs = {"ExclusiveStartKey": start} if start else {}
                    page = client.query(TableName="t", KeyConditionExpression="pk = :p AND sk > :s",
                                        ExpressionAttributeValues={":p": {"S": partition}, ":s": {"S": "00100"}},
                                        ScanIndexForward=forward, Limit=7, **kwargs)
                    pages_of.append([item["sk"]["S"] for item in page["Items"]])
                    start = page.get("LastEvaluatedKey")
                    if not start:
                        break
                found.append(pages_of)
        return found

    def measured() -> tuple[list, float]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="eu-west-2")
            client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}])
            for i in range(1500):
                client.put_item(TableName="t", Item={"pk": {"S": f"p{i % 50}"}, "sk": {"S": f"{i:05d}"}})
            started = time.perf_counter()
            return pages(client), time.perf_counter() - started

    patched = getattr(Table, "_responder_partitions", False)
    if not patched:
        before, _ = measured()
    partition_queries()
    after, _ = measured()
    if not patched:
        assert after == before
    # p1 holds items 1, 51 … 1451: 28 of them after "00100", in pages of 7; an absent partition has none
    assert [len(p) for p in after[0]] == [7, 7, 7, 7] and after[0] == [sorted(p) for p in after[0]]
    assert after[1] == [sorted(p, reverse=True) for p in after[1]] and after[4] == after[5] == [[]]
