"""Shared fixtures: moto in-process with the real infra template, services built against it, the real
Chalice app through chalice.test.Client, and helpers to drain real SQS queues into the real handlers."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest

PROJECT = Path(__file__).resolve().parent.parent
LOCAL_ENV = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch):
    """No test ever reaches real AWS: dummy credentials, a fixed region, no endpoint override."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Responder")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")


def pytest_configure(config) -> None:
    share_botocore_models()
    validate_each_config_once()


def validate_each_config_once() -> None:
    """``parse_config`` remembers what it returned for a text it already validated (the brand file, read by every
    test's ``svc`` and ``mem`` twice: about 0.07 s each time). ``BrandConfig`` is frozen, so one object serves them
    all; a text that fails is validated again each time, so every test of a bad file sees its own ``ConfigError``."""
    from chalicelib import configfile

    if getattr(configfile.parse_config, "remembers", False):
        return
    validate = configfile.parse_config
    validated: dict[tuple[str, str], object] = {}

    def parse_config(text: str, source: str = "<config>"):
        key = (text, source)
        if key not in validated:
            validated[key] = validate(text, source)
        return validated[key]

    parse_config.remembers = True
    configfile.parse_config = parse_config


def share_botocore_models() -> None:
    """One reader of botocore's service models for every botocore session of the test process. Each test builds its
    services afresh (a boto3 session, pynamodb's sessions, moto's clients), and each new session would otherwise read
    and parse the same JSON models again (about 0.03 s a client, several clients a test); the models are read-only
    data, so the clients built are the same. A session given its own ``data_path`` keeps a loader of its own."""
    import botocore.session
    from botocore.loaders import create_loader

    class SearchPaths(list):  # boto3 adds its own data directory to the loader of every session it makes: once here
        def append(self, path) -> None:
            if path not in self:
                super().append(path)

    session_class = botocore.session.Session
    if getattr(session_class, "_shared_models", False):
        return
    shared = create_loader()
    shared._search_paths = SearchPaths(shared.search_paths)

    def register_data_loader(self) -> None:
        def loader():
            data_path = self.get_config_variable("data_path")
            return create_loader(data_path) if data_path else shared

        self._components.lazy_register_component("data_loader", loader)

    session_class._register_data_loader = register_data_loader
    session_class._shared_models = True


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def aws():
    """moto in-process, with the stack created from infra/template.yaml through CloudFormation; each DynamoDB item
    write atomic and each query read from its partition, as in DynamoDB (tools.local_aws)."""
    from moto import mock_aws

    from tools.local_aws import atomic_dynamodb_writes, partition_queries

    atomic_dynamodb_writes()
    partition_queries()

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="eu-west-2")
        cfn.create_stack(StackName="responder-test", TemplateBody=(PROJECT / "infra" / "template.yaml").read_text(),
                         Parameters=[{"ParameterKey": "Stage", "ParameterValue": "local"}])
        yield


@pytest.fixture
def clock():
    from chalicelib.clock import FixedClock

    # a Sunday, 03:00 in London: every customer-service desk is closed
    return FixedClock(utc(2026, 11, 29, 3, 0))


@pytest.fixture
def settings():
    from chalicelib.settings import Settings

    env = {**LOCAL_ENV, "PUBLIC_BASE_URL": "https://help.example.test"}
    return Settings.from_env(env)


@pytest.fixture
def svc(aws, settings, clock, monkeypatch):
    """Services wired exactly as in production, against moto (the agents' Cognito pool of tools.local_agents
    included), with the local sandbox sender."""
    from chalicelib import bootstrap
    from chalicelib.configfile import load_config
    from chalicelib.settings import Secrets
    from tools.local_agents import create_pool

    for key, value in LOCAL_ENV.items():
        monkeypatch.setenv(key, value)
    pool = create_pool(boto3.client("cognito-idp", region_name="eu-west-2"), load_config(settings.config_path).team_ids)
    settings = settings.model_copy(update={"agent_pool_id": pool["AGENT_POOL_ID"],
                                           "agent_client_id": pool["AGENT_CLIENT_ID"]})
    from chalicelib.channels.sns_http import SnsHttp
    from chalicelib.channels.x_api import XApi

    # the real X client and SNS certificate fetcher, their HTTP intercepted by the tests (stage local itself polls
    # an empty local stand-in and fetches no certificate)
    services = bootstrap.build(settings, clock=clock, secrets=Secrets(settings, env=LOCAL_ENV),
                               x_api_factory=lambda: XApi(bearer_token=LOCAL_ENV["X_BEARER_TOKEN"]), sns=SnsHttp())
    bootstrap.use(services)
    yield services
    bootstrap.use(None)


@pytest.fixture
def mem(settings, clock):
    """Services on the in-memory twins of every store and queue (the same contract as DynamoDB and SQS, proven by
    tests/contract), with the local sandbox sender: for fast use-case tests."""
    from chalicelib import bootstrap
    from chalicelib.settings import Secrets

    return bootstrap.build(settings, clock=clock, secrets=Secrets(settings, env=LOCAL_ENV), memory=True)


def run_memory_pipeline(svc) -> dict:
    """Inbound -> process -> outbox -> deliver, on memory queues; what the desk queues received."""
    from chalicelib.sqs_batch import Record
    from chalicelib.usecases.deliver import deliver_record
    from chalicelib.usecases.process import process_envelope

    queues = svc.queues
    for n, envelope in enumerate(queues.take(svc.settings.inbound_queue)):
        process_envelope(svc, envelope, raw_ref=f"inbound#m{n}")
    for n, message in enumerate(queues.take(svc.settings.outbox_queue)):
        deliver_record(svc, Record(f"o{n}", f"r{n}", json.dumps(message), 1))
    return {name: list(msgs) for name, msgs in queues.messages.items() if name.startswith("responder-desk-")}


@pytest.fixture
def client(svc):
    """The real Chalice app, its routes called through chalice.test.Client."""
    from chalice.test import Client

    import app as application

    with Client(application.app, stage_name="local", project_dir=str(PROJECT)) as test_client:
        yield test_client


def queue_url(name: str) -> str:
    return boto3.client("sqs", region_name="eu-west-2").get_queue_url(QueueName=name)["QueueUrl"]


def receive_all(name: str, max_rounds: int = 20) -> list[dict]:
    """Everything visible on a queue (messages stay in flight afterwards)."""
    sqs = boto3.client("sqs", region_name="eu-west-2")
    url, out = queue_url(name), []
    for _ in range(max_rounds):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        out.extend(batch)
    return out


def lambda_sqs_event(messages: list[dict], queue: str) -> dict:
    """The event Lambda's SQS event source mapping builds (one record per message, its own id and receipt)."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {"ApproximateReceiveCount": "1"}), "messageAttributes": {},
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-west-2:123456789012:{queue}", "awsRegion": "eu-west-2"}
        for m in messages]}


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:test"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def drain(handler_name: str, queue: str, max_batches: int = 50) -> int:
    """Feed a queue's messages to the app's real SQS handler, as the event source mapping does."""
    import app as application

    sqs = boto3.client("sqs", region_name="eu-west-2")
    url, handled = queue_url(queue), 0
    handler = application.app.handler_map[handler_name]
    for _ in range(max_batches):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        handler(lambda_sqs_event(batch, queue), LambdaContext())
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        handled += len(batch)
    return handled


def run_pipeline() -> None:
    """Inbound queue -> process handler -> outbox queue -> deliver handler."""
    drain("process_inbound", "responder-inbound")
    drain("deliver_outbox", "responder-outbox")


#: the two longest files (one to two minutes each): started first, one on each of make test's two workers
#: (``-n 2 --dist loadfile --no-loadscope-reorder``: xdist would otherwise start the files with the most tests first,
#: and these, one test each, last), so that the other files fill in beside them instead of after them
SLOW_FIRST = ("tests/integration/test_replay_rota.py", "tests/e2e/test_replay.py")


def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=lambda item: 0 if item.nodeid.split("::")[0] in SLOW_FIRST else 1)  # stable: the rest keep order
