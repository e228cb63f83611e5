"""`make deploy STAGE=dev` for real: `python -m tools.deploy` (which runs the real `chalice deploy`) against the
embedded local AWS (`python -m tools.local_aws`, moto's server), then everything it created is read back with boto3:
the infra stack, SecureString secrets, the scoped IAM policy, the functions and their environment, the queue
mappings, the schedules, the API and its JSON 404 for unknown paths."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from tests.e2e.conftest import PROJECT, free_port

REGION = "eu-west-2"
ACCOUNT = "123456789012"  # moto's account


@pytest.fixture(scope="module")
def aws():
    """The embedded local AWS, started as `make run` starts it (tools.local_stack.start_moto)."""
    from tools.local_stack import start_moto

    moto = start_moto(free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    yield {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto.port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
           "PYTHONUNBUFFERED": "1"}
    moto.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of what `chalice deploy` reads (it writes .chalice/deployed/ and the stage's policy next to it)."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("app.py", "requirements.txt"):
        shutil.copy(PROJECT / name, copy / name)
    shutil.copytree(PROJECT / "chalicelib", copy / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    if (PROJECT / "vendor").is_dir():
        shutil.copytree(PROJECT / "vendor", copy / "vendor")
    (copy / ".chalice").mkdir()
    shutil.copy(PROJECT / ".chalice" / "config.json", copy / ".chalice" / "config.json")
    cached = PROJECT / ".chalice" / "deployments"
    if cached.is_dir():  # chalice reuses a package built for the same requirements (saves the pip download)
        shutil.copytree(cached, copy / ".chalice" / "deployments")
    return copy


def deploy_cli(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.deploy", *args], cwd=PROJECT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


def aws_client(env: dict, service: str):
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def deployed(aws, project, tmp_path_factory):
    ssm = aws_client(aws, "ssm")
    # a stack from before SecureString: the old template's plain String parameter, with a real value in it
    ssm.put_parameter(Name="/responder/dev/meta/page-token", Value="page-token-set-by-hand", Type="String")
    secrets_file = tmp_path_factory.mktemp("secrets") / "dev.env"
    secrets_file.write_text("# the stage's channel secrets\nX_CONSUMER_SECRET=x-consumer-from-file\n"
                            "META_APP_SECRET=meta-app-from-file\n")
    result = deploy_cli(aws, "deploy", "dev", "--project", str(project), "--secrets-file", str(secrets_file))
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_deploy_creates_the_infra_stack_and_writes_its_outputs_into_the_stage(aws, project, deployed):
    stack = aws_client(aws, "cloudformation").describe_stacks(StackName="responder-dev")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    stage_env = json.loads((project / ".chalice" / "config.json").read_text())["stages"]["dev"][
        "environment_variables"]
    assert outputs["ParameterPrefix"] == "/responder/dev/"
    assert stage_env["INBOUND_QUEUE_URL"] == outputs["InboundQueueUrl"] and "responder-inbound" in outputs[
        "InboundQueueUrl"]
    assert stage_env["OUTBOX_QUEUE_URL"] == outputs["OutboxQueueUrl"]
    # moto's CloudFormation creates no Cognito pool (the local stack makes its own): in AWS these are set
    assert stage_env["AGENT_POOL_ID"] == outputs.get("AgentPoolId", "")
    assert stage_env["AGENT_CLIENT_ID"] == outputs.get("AgentPoolClientId", "")
    if "AgentPoolId" not in outputs:
        assert "AGENT_POOL_ID is unset" in deployed.stdout
    tables = aws_client(aws, "dynamodb").list_tables()["TableNames"]
    assert {"responder-mentions", "responder-tickets", "responder-customers", "responder-state"} <= set(tables)


def test_the_stacks_outputs_become_the_stages_environment(project, tmp_path):
    from tools.deploy import stage_environment

    shutil.copytree(project / ".chalice", tmp_path / ".chalice", ignore=shutil.ignore_patterns("deploy*"))
    environment = stage_environment(tmp_path, "prod", {"AgentPoolId": "eu-west-2_Pool1", "AgentPoolClientId": "c1"})
    written = json.loads((tmp_path / ".chalice" / "config.json").read_text())["stages"]["prod"]
    assert environment["AGENT_POOL_ID"] == written["environment_variables"]["AGENT_POOL_ID"] == "eu-west-2_Pool1"
    assert written["environment_variables"]["AGENT_CLIENT_ID"] == "c1"


def test_every_secret_is_a_securestring_and_none_is_printed(aws, deployed):
    ssm = aws_client(aws, "ssm")
    parameters = {p["Name"]: p for p in ssm.get_parameters_by_path(Path="/responder/dev/", Recursive=True,
                                                                     WithDecryption=True)["Parameters"]}
    consumers = parameters.pop("/responder/dev/desk-consumers")  # not a secret: the desk consumers' mapping ids
    assert consumers["Type"] == "String"
    assert {p["Type"] for p in parameters.values()} == {"SecureString"}
    assert parameters["/responder/dev/x/consumer-secret"]["Value"] == "x-consumer-from-file"
    assert parameters["/responder/dev/meta/app-secret"]["Value"] == "meta-app-from-file"
    # the hand-set String parameter became a SecureString with the same value
    assert parameters["/responder/dev/meta/page-token"]["Value"] == "page-token-set-by-hand"
    generated = [parameters[f"/responder/dev/{name}"]["Value"] for name in ("status-link-key", "admin-token")]
    assert all(len(value) >= 48 for value in generated) and generated[0] != generated[1]
    output = deployed.stdout + deployed.stderr
    for value in ("x-consumer-from-file", "meta-app-from-file", "page-token-set-by-hand", *generated):
        assert value not in output
    # what is still missing is named, with the command that sets it
    assert "X_BEARER_TOKEN" in output and "python -m tools.deploy secret dev NAME" in output


def test_the_desk_consumers_are_recorded_for_the_rota_and_left_off_until_it_runs(aws, deployed):
    """ADR 0024: each desk queue's consumer mapping is recorded in SSM and switched off; follow_rota's first
    minute turns on those whose team is on shift."""
    ssm, lam = aws_client(aws, "ssm"), aws_client(aws, "lambda")
    recorded = json.loads(ssm.get_parameter(Name="/responder/dev/desk-consumers")["Parameter"]["Value"])
    assert sorted(recorded) == ["complaints", "escalations", "journeys", "oncall", "press"]
    for desk, uuid in recorded.items():
        mapping = lam.get_event_source_mapping(UUID=uuid)
        assert mapping["State"] == "Disabled"
        assert mapping["FunctionArn"].endswith(f":function:responder-dev-consume_desk_{desk}")
        assert mapping["EventSourceArn"].endswith(f":responder-desk-{desk}")
    assert "consumers  5 desk queues, switched by the rota" in deployed.stdout


def test_functions_carry_no_secret_and_run_under_the_scoped_policy(aws, deployed):
    lam, iam = aws_client(aws, "lambda"), aws_client(aws, "iam")
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert {"responder-dev", "responder-dev-process_inbound", "responder-dev-deliver_outbox", "responder-dev-poll_x",
            "responder-dev-poll_bluesky", "responder-dev-poll_mastodon", "responder-dev-poll_threads",
            "responder-dev-poll_listening", "responder-dev-closing_time",
            "responder-dev-sla_watch"} <= set(functions)
    from chalicelib.settings import SECRET_PARAMETERS

    for function in functions.values():
        variables = function.get("Environment", {}).get("Variables", {})
        assert variables["STAGE"] == "dev" and variables["PARAMETER_PREFIX"] == "/responder/dev/"
        assert not set(variables) & set(SECRET_PARAMETERS)
        role = function["Role"].rsplit("/", 1)[1]
        policy_names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_names[0])["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        resources = [r for s in document["Statement"] for r in
                     (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
        assert f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/responder/dev/*" in resources
        assert all(r == "*" or f":{REGION}:{ACCOUNT}:" in r for r in resources)
        star = [s["Action"] for s in document["Statement"] if s["Resource"] == "*"]
        assert star == [["xray:PutTraceSegments", "xray:PutTelemetryRecords"]]


def test_queue_handlers_and_schedules_are_wired_as_the_app_declares(aws, project, deployed):
    from chalice.app import SQSEventConfig

    from tools.local_stack import load_app

    app = load_app()
    lam, events = aws_client(aws, "lambda"), aws_client(aws, "events")
    mappings = {m["EventSourceArn"].rsplit(":", 1)[1]: m for m in lam.list_event_source_mappings()[
        "EventSourceMappings"]}
    for source in app.event_sources:
        function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:responder-dev-{source.name}"
        if isinstance(source, SQSEventConfig):
            assert mappings[source.queue]["FunctionArn"] == function_arn
            assert mappings[source.queue]["BatchSize"] == source.batch_size
        else:
            rules = events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
            assert events.describe_rule(Name=rules[0])["ScheduleExpression"] == str(
                source.schedule_expression.to_string() if hasattr(source.schedule_expression, "to_string")
                else source.schedule_expression)
    output = deployed.stdout
    assert "deployed stage dev: https://" in output and "problem" not in output


def test_the_api_is_deployed_with_every_route_and_a_json_404(aws, project, deployed):
    from tools.local_stack import load_app

    apigateway = aws_client(aws, "apigateway")
    rest_api_id = json.loads((project / ".chalice" / "deployed" / "dev.json").read_text())
    rest_api_id = next(r["rest_api_id"] for r in rest_api_id["resources"] if r["resource_type"] == "rest_api")
    paths = {r["path"] for r in apigateway.get_resources(restApiId=rest_api_id, limit=500)["items"]}
    assert set(load_app().routes) <= paths
    response = apigateway.get_gateway_response(restApiId=rest_api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    assert "not_found" in response["responseTemplates"]["application/json"]


def test_deploying_again_changes_nothing_and_keeps_every_secret(aws, project, deployed):
    ssm = aws_client(aws, "ssm")
    before = {p["Name"]: p["Value"] for p in ssm.get_parameters_by_path(
        Path="/responder/dev/", Recursive=True, WithDecryption=True)["Parameters"]}
    again = deploy_cli(aws, "deploy", "dev", "--project", str(project))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "secrets kept" in again.stdout and "secrets written" not in again.stdout
    after = {p["Name"]: p["Value"] for p in ssm.get_parameters_by_path(
        Path="/responder/dev/", Recursive=True, WithDecryption=True)["Parameters"]}
    assert after == before
    check = deploy_cli(aws, "check", "dev", "--project", str(project))
    assert check.returncode == 0 and "queue      responder-inbound -> responder-dev-process_inbound" in check.stdout


def test_a_secret_is_rotated_without_a_redeploy_and_never_echoed(aws, deployed):
    rotated = deploy_cli(aws, "secret", "dev", "X_BEARER_TOKEN", stdin="new-bearer-token-value\n")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "new-bearer-token-value" not in rotated.stdout + rotated.stderr
    value = aws_client(aws, "ssm").get_parameter(Name="/responder/dev/x/bearer-token", WithDecryption=True)
    assert value["Parameter"]["Value"] == "new-bearer-token-value" and value["Parameter"]["Type"] == "SecureString"


def test_the_pipeline_package_merges_the_infra_template(aws, project, tmp_path):
    result = deploy_cli(aws, "package", "dev", str(tmp_path / "out"), "--account", ACCOUNT, "--region", REGION,
                        "--project", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    sam = (tmp_path / "out" / "sam.yaml").read_text()

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    resources = yaml.load(sam, Loader=Loader)["Resources"]  # noqa: S506 - SafeLoader subclass
    types = [r["Type"] for r in resources.values()]
    # one function for the API, one per queue handler and schedule that app.py or a blueprint it registers wires
    root = Path(__file__).resolve().parents[2]
    wired = [decorator for source in [root / "app.py", *sorted((root / "chalicelib" / "api").glob("*.py"))]
             for decorator in re.findall(r"^@(?:app|bp)\.(?:schedule|on_sqs_message|on_sns_message|lambda_function)\(",
                                         source.read_text(), re.MULTILINE)]
    assert types.count("AWS::Serverless::Function") == len(wired) + 1 >= 16
    assert {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Cognito::UserPool"} <= set(types)
    lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(tmp_path / "out" / "sam.yaml")],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


@pytest.mark.parametrize("args, env_change, message", [
    (["deploy", "local"], {}, "stage local runs on this machine: make run"),
    (["deploy", "staging"], {}, "choose one of dev, prod"),
    (["deploy", "dev"], {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}, "no AWS region configured"),
    (["deploy", "dev"], {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}, "no AWS credentials"),
])
def test_deploy_refuses_with_a_sentence_not_a_traceback(aws, tmp_path, args, env_change, message):
    env = {**aws, "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    for key, value in env_change.items():
        env.pop(key, None) if value is None else env.__setitem__(key, value)
    result = deploy_cli(env, *args)
    assert result.returncode == 2
    assert message in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_make_deploy_without_a_stage_explains_itself():
    result = subprocess.run(["make", "--no-print-directory", "deploy"], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode != 0 and "make deploy needs STAGE=dev or STAGE=prod" in result.stdout
