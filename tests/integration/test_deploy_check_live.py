"""``python -m tools.deploy check <stage>`` from a fresh clone (no ``.chalice/deployed/<stage>.json``): the stage is
read from AWS (moto, with the real infra template and what ``chalice deploy`` creates: the functions under their
Chalice names, the queue mappings, the schedules, the REST API) and from the live API's health route (HTTP
intercepted). The command runs through its real CLI entry point."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import boto3
import pytest
import responses
from typer.testing import CliRunner

PROJECT = Path(__file__).resolve().parents[2]
REGION = "eu-west-2"


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    """What a clone holds: the app and its config, and no record of any deploy."""
    for name in ("app.py", "requirements.txt"):
        shutil.copy(PROJECT / name, tmp_path / name)
    (tmp_path / "chalicelib").symlink_to(PROJECT / "chalicelib")
    (tmp_path / ".chalice").mkdir()
    shutil.copy(PROJECT / ".chalice" / "config.json", tmp_path / ".chalice" / "config.json")
    assert not (tmp_path / ".chalice" / "deployed").exists()
    return tmp_path


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def deploy_like_chalice(stage: str, *, skip: str = "") -> str:
    """The infra stack, then what ``chalice deploy`` makes of the app: its functions, mappings, schedules and API.
    ``skip``: a handler left undeployed. The REST API's id."""
    from chalice.app import SQSEventConfig

    from tools.local_stack import load_app

    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=f"responder-{stage}", TemplateBody=(PROJECT / "infra" / "template.yaml").read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"responder-{stage}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam, events, sqs = (boto3.client(s, region_name=REGION) for s in ("lambda", "events", "sqs"))
    app = load_app()

    def function(name: str) -> str:
        return lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                                   Code={"ZipFile": _zip()})["FunctionArn"]

    function(f"responder-{stage}")
    for source in app.event_sources:
        if source.name == skip:
            continue
        arn = function(f"responder-{stage}-{source.name}")
        if isinstance(source, SQSEventConfig):
            url = sqs.create_queue(QueueName=source.queue)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=arn, BatchSize=source.batch_size)
        else:
            expression = source.schedule_expression
            expression = expression.to_string() if hasattr(expression, "to_string") else str(expression)
            rule = f"responder-{stage}-{source.name}-event"
            events.put_rule(Name=rule, ScheduleExpression=expression)
            events.put_targets(Rule=rule, Targets=[{"Id": "1", "Arn": arn}])
    return boto3.client("apigateway", region_name=REGION).create_rest_api(name="responder")["id"]


def check(clone: Path, stage: str = "dev"):
    from tools.deploy import app

    return CliRunner().invoke(app, ["check", stage, "--region", REGION, "--project", str(clone)])


@pytest.fixture
def aws_only(monkeypatch):
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_check_reads_a_deployed_stage_from_aws_and_its_live_health_route(aws_only, fresh_clone):
    api = deploy_like_chalice("dev")
    health = f"https://{api}.execute-api.{REGION}.amazonaws.com/api/health"
    with responses.RequestsMock() as http:
        http.get(health, json={"ok": True}, status=200)
        result = check(fresh_clone)
        assert [call.request.url for call in http.calls] == [health]
    assert result.exit_code == 0, result.output
    assert f"API        https://{api}.execute-api.{REGION}.amazonaws.com/api/" in result.output
    assert "health     200" in result.output and "InboundQueueUrl" in result.output
    assert "queue      responder-inbound -> responder-dev-process_inbound" in result.output
    assert "schedule   closing_time:" in result.output and "problem" not in result.output


def test_check_names_what_is_missing_and_an_unhealthy_api(aws_only, fresh_clone):
    api = deploy_like_chalice("dev", skip="closing_time")
    with responses.RequestsMock() as http:
        http.get(f"https://{api}.execute-api.{REGION}.amazonaws.com/api/health", json={"ok": False}, status=503)
        result = check(fresh_clone)
    assert result.exit_code != 0
    assert "responder-dev-closing_time: not deployed" in result.output
    assert "health answered 503" in result.output
    assert "Traceback" not in result.output


def test_check_of_a_stage_never_deployed_says_so_in_sentences(aws_only, fresh_clone):
    result = check(fresh_clone, "prod")
    assert result.exit_code != 0
    assert "no infra stack responder-prod" in result.output and "no REST API named responder" in result.output
    assert "Traceback" not in result.output and ".chalice/deployed" not in result.output
