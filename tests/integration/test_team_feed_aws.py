"""The team feed's AWS side: the rota switches real Lambda event source mappings (boto3 against moto), every desk of
the brand file has its consumer, and the handlers run through the real Chalice app on the real queues (ADR 0024)."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from chalicelib.configfile import load_config
from chalicelib.store.consumers import LambdaDeskConsumers, UnknownConsumer
from tests.conftest import PROJECT

REGION = "eu-west-2"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def mapping_of(desk: str, *, enabled: bool) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"responder-desk-{desk}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"r-{desk}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("app.py", "")
    lam = boto3.client("lambda", region_name=REGION)
    lam.create_function(FunctionName=f"responder-dev-consume_desk_{desk}", Runtime="python3.11", Role=role,
                        Handler=f"app.consume_desk_{desk}", Code={"ZipFile": package.getvalue()})
    return lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=f"responder-dev-consume_desk_{desk}",
                                           BatchSize=10, Enabled=enabled)["UUID"]


def test_the_rota_switches_the_desks_lambda_mapping_and_reads_its_state(aws):
    uuid = mapping_of("complaints", enabled=False)
    consumers = LambdaDeskConsumers(lambda: boto3.client("lambda", region_name=REGION), lambda: {"complaints": uuid})
    lam = boto3.client("lambda", region_name=REGION)
    assert consumers.enabled("complaints") is False
    assert consumers.switch("complaints", True) is True
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled" and consumers.enabled("complaints")
    assert consumers.switch("complaints", True) is False  # no second update of an enabled mapping
    assert consumers.switch("complaints", False) is True
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    with pytest.raises(UnknownConsumer, match="make deploy"):
        consumers.enabled("press")


def test_the_recorded_mappings_are_read_from_the_stages_parameter(aws):
    from chalicelib.store.consumers import recorded_mappings

    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/responder/dev/desk-consumers", Value=json.dumps({"complaints": "u-1"}), Type="String")
    assert recorded_mappings("/responder/dev/desk-consumers")() == {"complaints": "u-1"}


def test_every_desk_of_the_brand_file_has_a_consumer_on_its_queue():
    import app
    from chalicelib.api.events import DESK_CONSUMERS

    config = load_config(str(PROJECT / "chalicelib" / "brand.yaml"))
    assert sorted(DESK_CONSUMERS) == sorted(config.desk_ids)
    queues = {s.name: s.queue for s in app.app.event_sources if hasattr(s, "queue")}
    for desk, handler in DESK_CONSUMERS.items():
        assert queues[handler] == config.queue_name(desk)
        assert handler in app.__all__
    assert queues["deliver_notice"] == "responder-notify"


def test_the_policy_lets_the_rota_switch_only_the_desk_consumers_mappings():
    policy = json.loads((PROJECT / "infra" / "policy.json").read_text())
    update = next(s for s in policy["Statement"] if "lambda:UpdateEventSourceMapping" in s["Action"])
    assert update["Resource"].endswith(":event-source-mapping:*")
    function = update["Condition"]["StringLike"]["lambda:FunctionArn"]
    assert function.endswith("function:responder-${Stage}-consume_desk_*")


def test_every_desk_queue_outlasts_its_consumers_timeout():
    """Lambda refuses a queue mapping whose queue's visibility timeout is shorter than the function's timeout."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((PROJECT / "infra" / "template.yaml").read_text(), Loader=Loader)  # noqa: S506
    timeout = max(stage.get("lambda_timeout", 60) for stage in json.loads(
        (PROJECT / ".chalice" / "config.json").read_text())["stages"].values())
    queues = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"
              and str(r["Properties"]["QueueName"]).startswith(("responder-desk-", "responder-notify"))
              and not str(r["Properties"]["QueueName"]).endswith("-dlq")]
    assert len(queues) == 6
    assert all(q.get("VisibilityTimeout", 30) >= timeout for q in queues)
