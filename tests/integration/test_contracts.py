"""What ties the pieces together: the template, the brand config, the stage config and the desk-queue contract."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from chalicelib.configfile import load_config
from chalicelib.settings import ROOT as CHALICELIB
from chalicelib.settings import Settings
from tests.conftest import LOCAL_ENV, receive_all, run_pipeline, utc
from tests.helpers import tweet_event, x_body, x_headers

PROJECT = Path(__file__).resolve().parents[2]


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor(  # !Sub "text" -> "text"; other intrinsic functions are not needed here
    "!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)


def template() -> dict:
    return yaml.load((PROJECT / "infra" / "template.yaml").read_text(), Loader=_CfnLoader)


def test_every_desk_of_the_brand_config_has_a_queue_and_a_dead_letter_queue_in_the_template():
    resources = template()["Resources"].values()
    names = {r["Properties"].get("QueueName") for r in resources if r["Type"] == "AWS::SQS::Queue"}
    config = load_config(CHALICELIB / "brand.yaml")
    for desk in config.desk_ids:
        assert config.queue_name(desk) in names and f"{config.queue_name(desk)}-dlq" in names


def test_stage_config_names_what_the_template_creates():
    resources = template()["Resources"]
    tables = {r["Properties"]["TableName"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"}
    queues = {r["Properties"]["QueueName"] for r in resources.values() if r["Type"] == "AWS::SQS::Queue"}
    settings = Settings.from_env(LOCAL_ENV)
    assert {settings.mentions_table, settings.tickets_table, settings.customers_table, settings.state_table} == tables
    assert {settings.inbound_queue, settings.outbox_queue} <= queues
    from chalicelib.api import events

    assert {events.INBOUND_QUEUE, events.OUTBOX_QUEUE} <= queues
    # secrets are SecureString parameters the deploy tool creates (CloudFormation can only make plain Strings)
    assert not [r for r in resources.values() if r["Type"] == "AWS::SSM::Parameter"]
    from chalicelib.settings import SECRET_PARAMETERS
    from tools.deploy import parameter_name

    assert {parameter_name("prod", name) for name in SECRET_PARAMETERS} == {
        "/responder/prod/" + suffix for suffix in SECRET_PARAMETERS.values()}


def test_local_stage_documents_a_dummy_for_every_secret():
    from chalicelib.settings import SECRET_PARAMETERS

    assert set(SECRET_PARAMETERS) <= set(LOCAL_ENV)


def test_template_passes_cfn_lint():
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(PROJECT / "infra" / "template.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desk_messages_follow_the_published_schema(client, clock, svc):
    schema = json.loads((PROJECT / "docs" / "desk-message.schema.json").read_text())
    clock.set(utc(2026, 11, 24, 10, 0))
    body = x_body(tweet_event("4242", "@ExampleRail my train was cancelled, refund please", at=clock.now()))
    client.http.post("/webhooks/x", body=body, headers=x_headers(body))
    run_pipeline()
    messages = [json.loads(m["Body"]) for desk in svc.config.desk_ids
                for m in receive_all(svc.config.queue_name(desk))]
    assert len(messages) == 1
    for message in messages:
        jsonschema.validate(message, schema)


def test_importing_the_app_has_no_side_effects(monkeypatch):
    """A fresh interpreter imports app.py with no AWS credentials, no settings and no network."""
    code = "import app; from chalicelib import bootstrap; assert bootstrap._services is None; print('ok')"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_desk_message_type_names_the_published_schema_field_for_field():
    """``routing.DeskMessage`` is the schema in code: the same fields, the same required ones (mypy then refuses a
    field the schema does not have)."""
    from chalicelib.domain.routing import DeskMessage

    schema = json.loads((PROJECT / "docs" / "desk-message.schema.json").read_text())
    assert DeskMessage.__required_keys__ | DeskMessage.__optional_keys__ == set(schema["properties"])
    assert DeskMessage.__required_keys__ == set(schema["required"])
