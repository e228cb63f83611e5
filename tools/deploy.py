"""One deploy path for a stage: ``make deploy STAGE=dev`` (or ``prod``).

    python -m tools.deploy deploy dev                   infra stack -> secrets -> policy -> chalice deploy -> checks
    python -m tools.deploy deploy dev --secrets-file dev.env   channel secrets from a file (NAME=value lines)
    python -m tools.deploy secret dev X_BEARER_TOKEN    set or rotate one secret (value read from the terminal)
    python -m tools.deploy show-secret dev ADMIN_TOKEN  print one (for RESPONDER_ADMIN_TOKEN)
    python -m tools.deploy package dev out/             the pipeline path: ``chalice package --merge-template``
    python -m tools.deploy check dev                    what is deployed: functions, queue mappings, schedules
    python -m tools.deploy agent dev amira --email a@brand.example --name "Amira Shah" --team customer_service

Steps of ``deploy``, each safe to run again:
1. the stage is ``dev`` or ``prod``; the AWS region and credentials are found (or a sentence says how to set them);
2. the infra stack ``responder-<stage>`` (``infra/template.yaml``) is created or updated through the
   CloudFormation API (no ``aws`` CLI needed), and its outputs read;
3. every secret exists as an SSM **SecureString** under ``/responder/<stage>/`` (CloudFormation cannot create
   SecureString): values from ``--secrets-file`` are written, the status-link key and the admin token are
   generated when absent, an existing value is kept, and the names still missing are listed with the command that
   sets them. No value is ever printed;
4. the stage's IAM policy is rendered from ``infra/policy.json`` for this account and region
   (``.chalice/policy-<stage>.json``, least privilege, checked by ``tools.check_policy``);
5. the stack's outputs the app needs (``AGENT_POOL_ID``, ``AGENT_CLIENT_ID``, the queue URLs) are written into the
   stage's environment in ``.chalice/config.json``, and the stage's settings validated as the Lambda will read them;
6. ``chalice deploy --stage <stage>`` (the real CLI), then unknown paths answer a JSON 404 (API Gateway
   gateway response), then ``check``.

``AWS_ENDPOINT_URL`` points every step at another AWS endpoint (the tests deploy into the embedded local AWS).
"""
from __future__ import annotations

import json
import os
import re
import secrets as random_secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "infra" / "template.yaml"
POLICY_TEMPLATE = PROJECT / "infra" / "policy.json"
STAGES = ("dev", "prod")
#: Secrets the deploy tool creates when absent: random, never shown, rotated with ``secret``.
GENERATED = {"STATUS_LINK_KEY", "ADMIN_TOKEN"}
#: Outputs of the infra stack that become the stage's environment variables.
OUTPUT_ENVIRONMENT = {"AgentPoolId": "AGENT_POOL_ID", "AgentPoolClientId": "AGENT_CLIENT_ID",
                      "InboundQueueUrl": "INBOUND_QUEUE_URL", "OutboxQueueUrl": "OUTBOX_QUEUE_URL"}

app = typer.Typer(help="Deploy a stage (dev or prod) to AWS", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)


class DeployError(Exception):
    """Something a person must fix before the deploy can go on; the message says what and how."""


def stack_name(stage: str) -> str:
    return f"responder-{stage}"


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        hint = " (stage local runs on this machine: make run)" if stage == "local" else ""
        raise DeployError(f"unknown stage {stage!r}: choose one of {', '.join(STAGES)}{hint}, "
                          f"e.g. make deploy STAGE=dev")
    return stage


def session_for(region: str | None = None) -> Any:
    """A boto3 session with a region, or a DeployError saying how to give one."""
    import boto3

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    session = boto3.Session(region_name=region) if region else boto3.Session()
    if not session.region_name:
        raise DeployError("no AWS region configured: export AWS_REGION=eu-west-2 (or the region of the stage's "
                          "account), or pass --region, or set `region` in ~/.aws/config")
    return session


def client(session: Any, service: str) -> Any:
    return session.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def account_of(session: Any) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return str(client(session, "sts").get_caller_identity()["Account"])
    except NoCredentialsError:
        raise DeployError("no AWS credentials: export AWS_PROFILE=<profile> (see ~/.aws/credentials) or "
                          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the stage's account") from None
    except (ClientError, BotoCoreError) as exc:
        raise DeployError(f"AWS refused the credentials: {exc}") from None


# ---------------------------------------------------------------- 2. the infra stack

def template_parameters(cfn: Any, given: dict[str, str]) -> list[dict[str, str]]:
    """The template's parameters we have values for (a parameter the template doesn't declare is ignored)."""
    declared = {p["ParameterKey"] for p in cfn.get_template_summary(TemplateBody=TEMPLATE.read_text())["Parameters"]}
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in given.items() if key in declared]


def deploy_infra(session: Any, stage: str, *, alarm_email: str = "") -> dict[str, str]:
    """Create or update the stack; wait; return its outputs. Fails with the stack's own reason."""
    from botocore.exceptions import ClientError, WaiterError

    cfn = client(session, "cloudformation")
    name = stack_name(stage)
    parameters = template_parameters(cfn, {"Stage": stage, "AlarmEmail": alarm_email})
    arguments = {"StackName": name, "TemplateBody": TEMPLATE.read_text(), "Parameters": parameters,
                 "Capabilities": ["CAPABILITY_IAM"], "Tags": [{"Key": "stage", "Value": stage}]}
    try:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError:
        status = None
    if status == "ROLLBACK_COMPLETE":  # a first create that failed: it cannot be updated, only replaced
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name)
        status = None
    try:
        if status is None:
            console.print(f"creating stack {name} …")
            cfn.create_stack(**arguments)
            waiter = "stack_create_complete"
        else:
            console.print(f"updating stack {name} …")
            cfn.update_stack(**arguments)
            waiter = "stack_update_complete"
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 900})
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise DeployError(f"stack {name}: {exc}") from None
        console.print(f"stack {name}: no changes")
    except WaiterError:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        raise DeployError(f"stack {name} ended {stack['StackStatus']}: {stack.get('StackStatusReason', '')} "
                          f"(see its events in the CloudFormation console)") from None
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# ---------------------------------------------------------------- 3. secrets

def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments, blank lines); names are the app's secret names (and the ``NOTIFY_*``
    secrets the brand file's notification destinations name)."""
    from chalicelib.settings import SECRET_PARAMETERS, secret_parameter

    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or secret_parameter(name) is None:
            raise DeployError(f"{path}:{number}: expected NAME=value with NAME one of {', '.join(SECRET_PARAMETERS)} "
                              "or NOTIFY_<DESTINATION>")
        if value.strip():
            values[name] = value.strip()
    return values


def check_secret_name(name: str) -> str:
    from chalicelib.settings import SECRET_PARAMETERS, secret_parameter

    if secret_parameter(name) is None:
        raise DeployError(f"unknown secret {name!r}: one of {', '.join(SECRET_PARAMETERS)} or NOTIFY_<DESTINATION>")
    return name


def parameter_name(stage: str, name: str) -> str:
    from chalicelib.settings import secret_parameter

    return f"/responder/{stage}/{secret_parameter(name)}"


def existing_secrets(ssm: Any, stage: str) -> dict[str, tuple[str, str]]:
    """Secret name -> (type, value) of those that exist (values stay in memory, never printed)."""
    from chalicelib.settings import SECRET_PARAMETERS

    by_parameter = {parameter_name(stage, name): name for name in SECRET_PARAMETERS}
    found: dict[str, tuple[str, str]] = {}
    names = list(by_parameter)
    for start in range(0, len(names), 10):
        reply = ssm.get_parameters(Names=names[start:start + 10], WithDecryption=True)
        for parameter in reply["Parameters"]:
            found[by_parameter[parameter["Name"]]] = (parameter["Type"], parameter["Value"])
    return found


def put_secret(ssm: Any, stage: str, name: str, value: str) -> None:
    ssm.put_parameter(Name=parameter_name(stage, name), Value=value, Type="SecureString", Overwrite=True,
                      Description=f"responder {stage}: {name}")


def ensure_secrets(session: Any, stage: str, given: dict[str, str],
                   before: dict[str, tuple[str, str]] | None = None) -> dict[str, list[str]]:
    """Make every secret a SecureString. ``before`` is what existed before the stack update (a stack created by an
    older template owned String placeholders; updating it deletes them, and their values are put back here)."""
    from chalicelib.settings import SECRET_PARAMETERS

    ssm = client(session, "ssm")
    now = existing_secrets(ssm, stage)
    report: dict[str, list[str]] = {"written": [], "generated": [], "kept": [], "converted": [], "missing": []}
    for name in [*SECRET_PARAMETERS, *(n for n in given if n not in SECRET_PARAMETERS)]:  # + NOTIFY_* given
        kind, value = now.get(name) or (before or {}).get(name) or ("", "")
        if value == "change-me":  # the old template's placeholder is no secret
            kind, value = "", ""
        if name in given:
            put_secret(ssm, stage, name, given[name])
            report["written"].append(name)
        elif value and (kind != "SecureString" or name not in now):
            put_secret(ssm, stage, name, value)
            report["converted"].append(name)
        elif value:
            report["kept"].append(name)
        elif name in GENERATED:
            put_secret(ssm, stage, name, random_secrets.token_urlsafe(48))
            report["generated"].append(name)
        else:
            report["missing"].append(name)
    return report


# ---------------------------------------------------------------- 4. the IAM policy

def render_policy(stage: str, *, account: str, region: str, partition: str = "aws",
                  email_identity: str = "") -> dict[str, Any]:
    """``infra/policy.json`` for one account and region: every ARN names this stack's resources."""
    text = POLICY_TEMPLATE.read_text()
    values = {"Partition": partition, "Region": region, "AccountId": account, "Stage": stage,
              "EmailIdentity": email_identity or "*"}
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
    policy: dict[str, Any] = json.loads(rendered)
    if not email_identity:  # no e-mail replies configured: the SES statement goes
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "SendReplyEmail"]
    return policy


def email_identity_of(address: str) -> str:
    """The SES identity replies are sent from: the sender address's domain."""
    return address.rpartition("@")[2] if "@" in address else ""


def write_policy(project: Path, stage: str, *, account: str, region: str, environment: dict[str, str]) -> Path:
    """``.chalice/policy-<stage>.json``: the policy for this account and region, SES scoped to the stage's sender."""
    policy = render_policy(stage, account=account, region=region,
                           email_identity=email_identity_of(environment.get("REPLY_FROM_ADDRESS", "")))
    path = project / ".chalice" / f"policy-{stage}.json"
    path.write_text(json.dumps(policy, indent=2) + "\n")
    return path


# ---------------------------------------------------------------- 5. the stage's environment

def stage_environment(project: Path, stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """Write the stack's outputs into the stage's environment in .chalice/config.json and validate the result."""
    from chalicelib.settings import Settings, SettingsError, secret_parameter

    path = project / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    environment = {**config.get("environment_variables", {}),
                   **config["stages"][stage].setdefault("environment_variables", {})}
    stage_env = config["stages"][stage]["environment_variables"]
    changed = False
    for output, variable in OUTPUT_ENVIRONMENT.items():
        if outputs.get(output) and stage_env.get(variable) != outputs[output]:
            stage_env[variable] = environment[variable] = outputs[output]
            changed = True
    leaked = sorted(name for name in environment if secret_parameter(name) is not None)
    if leaked:
        raise DeployError(f"secrets must not be environment variables in stage {stage}: remove "
                          f"{', '.join(leaked)} from .chalice/config.json (they live in SSM)")
    try:
        Settings.from_env(environment)
    except SettingsError as exc:
        raise DeployError(f"stage {stage} in .chalice/config.json: {exc}") from None
    if changed:  # untouched otherwise (the file is kept by hand)
        path.write_text(json.dumps(config, indent=2) + "\n")
    return environment


def unset_settings(environment: dict[str, str]) -> list[str]:
    """Settings a brand normally sets per stage that are still empty or the example's (a warning, not an error:
    a brand may not use every channel)."""
    wanted = ("PUBLIC_BASE_URL", "X_ACCOUNT_ID", "META_PAGE_IDS", "REPLY_FROM_ADDRESS", "AGENT_POOL_ID")
    return [name for name in wanted
            if not environment.get(name) or "example" in environment.get(name, "")]


# ---------------------------------------------------------------- 6. chalice and checks

def chalice_command() -> str:
    return str(Path(sys.executable).with_name("chalice"))


def run_chalice(project: Path, arguments: list[str], region: str) -> None:
    import shutil

    for cache in (project / "chalicelib").rglob("__pycache__"):  # chalice would ship them
        shutil.rmtree(cache, ignore_errors=True)
    # requirements.txt is the Lambda's exact list (ADR 0014): without dependencies, pip adds nothing the runtime
    # already provides (boto3, botocore, ...) to the package
    env = {**os.environ, "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "PIP_NO_DEPS": "1"}
    completed = subprocess.run([chalice_command(), *arguments], cwd=project, env=env)
    if completed.returncode != 0:
        raise DeployError(f"chalice {' '.join(arguments)} failed (exit {completed.returncode}); its output is above")


def deployed_resources(project: Path, stage: str) -> dict[str, dict[str, Any]]:
    path = project / ".chalice" / "deployed" / f"{stage}.json"
    if not path.exists():
        raise DeployError(f"nothing deployed for stage {stage} from {project} ({path} is missing)")
    return {r["name"]: r for r in json.loads(path.read_text())["resources"]}


def check_deployment(session: Any, project: Path, stage: str) -> dict[str, Any]:
    """Read back what the stage runs: every function, each queue handler's mapping, each schedule, the API."""
    from chalice.cli.factory import CLIFactory

    resources = deployed_resources(project, stage)
    lam, events = client(session, "lambda"), client(session, "events")
    app = CLIFactory(str(project)).load_chalice_app()
    found: dict[str, Any] = {"functions": {}, "queues": {}, "schedules": {}, "rest_api": None, "problems": []}
    for resource in resources.values():
        if resource["resource_type"] == "lambda_function":
            config = lam.get_function_configuration(FunctionName=resource["lambda_arn"])
            found["functions"][config["FunctionName"]] = config.get("Runtime")
        elif resource["resource_type"] == "rest_api":
            found["rest_api"] = resource["rest_api_url"]
    for source in app.event_sources:
        function = f"{app.app_name}-{stage}-{source.name}"
        if hasattr(source, "queue"):
            deployed = resources.get(f"{source.name}-sqs-event-source")
            if deployed is None:
                found["problems"].append(f"{function}: no mapping from queue {source.queue}")
                continue
            _found_mapping(found, function, source, lam.get_event_source_mapping(UUID=deployed["event_uuid"]))
        elif hasattr(source, "schedule_expression") and not _found_schedule(
                found, function, source, events, resources[source.name]["lambda_arn"]):
            continue  # no schedule: noted
        if function not in found["functions"]:
            found["problems"].append(f"{function}: not deployed")
    if found["rest_api"] is None:
        found["problems"].append("no REST API deployed")
    return found


def _found_mapping(found: dict[str, Any], function: str, source: Any, mapping: Mapping[str, Any]) -> None:
    """Note a queue handler's event source mapping, and a problem unless it is on (a desk consumer may be off: the
    rota switches those, ADR 0024)."""
    found["queues"][source.queue] = {"function": function, "batch_size": mapping["BatchSize"],
                                     "state": mapping.get("State", "")}
    off_shift_ok = source.name.startswith("consume_desk_")
    if mapping.get("State") not in ("Enabled", "Enabling", "Creating", "Updating") and not (
            off_shift_ok and mapping.get("State") in ("Disabled", "Disabling")):
        found["problems"].append(f"{function}: mapping from {source.queue} is {mapping.get('State')}")


def _found_schedule(found: dict[str, Any], function: str, source: Any, events: Any, arn: str) -> bool:
    """Note a scheduled handler's schedule; False (and a problem) when no rule targets it."""
    rules = events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
    if not rules:
        found["problems"].append(f"{function}: no schedule")
        return False
    found["schedules"][source.name] = events.describe_rule(Name=rules[0])["ScheduleExpression"]
    return True


def check_live(session: Any, project: Path, stage: str, *, get: Any = None) -> dict[str, Any]:
    """What the stage runs, read from AWS and the live API alone (a fresh clone has no
    ``.chalice/deployed/<stage>.json``): the infra stack and its outputs, every function by the name Chalice gives
    it (``<app>-<stage>`` for the API, ``<app>-<stage>-<handler>``), each queue handler's mapping, each schedule, the
    REST API by the app's name, and its health route (``GET <api>/health``; ``get``: the HTTP GET, default
    ``requests.get``)."""
    from botocore.exceptions import ClientError
    from chalice.cli.factory import CLIFactory

    app = CLIFactory(str(project)).load_chalice_app()
    cfn, lam, events = client(session, "cloudformation"), client(session, "lambda"), client(session, "events")
    found: dict[str, Any] = {"functions": {}, "queues": {}, "schedules": {}, "rest_api": None, "outputs": {},
                             "health": None, "problems": []}
    try:
        stack = cfn.describe_stacks(StackName=stack_name(stage))["Stacks"][0]
        found["outputs"] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if not str(stack["StackStatus"]).endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
            found["problems"].append(f"stack {stack_name(stage)} is {stack['StackStatus']}")
    except ClientError:
        found["problems"].append(f"no infra stack {stack_name(stage)} (deploy the stage: make deploy STAGE={stage})")
    arns: dict[str, str] = {}
    for function in [f"{app.app_name}-{stage}"] + [f"{app.app_name}-{stage}-{s.name}" for s in app.event_sources]:
        try:
            config = lam.get_function_configuration(FunctionName=function)
        except ClientError:
            found["problems"].append(f"{function}: not deployed")
            continue
        found["functions"][config["FunctionName"]] = config.get("Runtime")
        arns[function] = config["FunctionArn"]
    mappings = [m for page in lam.get_paginator("list_event_source_mappings").paginate()
                for m in page.get("EventSourceMappings", [])]
    for source in app.event_sources:
        function = f"{app.app_name}-{stage}-{source.name}"
        if function not in arns:
            continue
        if hasattr(source, "queue"):
            mapping = next((m for m in mappings if m.get("FunctionArn") == arns[function]
                            and m["EventSourceArn"].rsplit(":", 1)[-1] == source.queue), None)
            if mapping is None:
                found["problems"].append(f"{function}: no mapping from queue {source.queue}")
                continue
            _found_mapping(found, function, source, mapping)
        elif hasattr(source, "schedule_expression"):
            _found_schedule(found, function, source, events, arns[function])
    apis = [api for page in client(session, "apigateway").get_paginator("get_rest_apis").paginate()
            for api in page.get("items", []) if api.get("name") == app.app_name]
    if not apis:
        found["problems"].append(f"no REST API named {app.app_name} deployed")
        return found
    config = json.loads((project / ".chalice" / "config.json").read_text())
    api_stage = (config.get("stages", {}).get(stage, {}).get("api_gateway_stage")
                 or config.get("api_gateway_stage") or "api")
    found["rest_api"] = f"https://{apis[0]['id']}.execute-api.{session.region_name}.amazonaws.com/{api_stage}/"
    if get is None:
        import requests

        get = requests.get
    try:
        answer = get(found["rest_api"] + "health", timeout=10)
        found["health"] = answer.status_code
        if answer.status_code != 200:
            found["problems"].append(f"GET {found['rest_api']}health answered {answer.status_code}")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the API is the finding, said in one line
        found["problems"].append(f"GET {found['rest_api']}health failed: {type(exc).__name__}: {exc}")
    return found


def record_desk_consumers(session: Any, project: Path, stage: str) -> dict[str, str]:
    """Record each desk consumer's mapping (``/responder/<stage>/desk-consumers``: ``{desk: uuid}``) for
    ``follow_rota``, and switch them off: the rota's next minute turns on those whose team is on shift (ADR 0024)."""
    resources = deployed_resources(project, stage)
    prefix, suffix = "consume_desk_", "-sqs-event-source"
    mappings = {name[len(prefix):-len(suffix)]: str(r["event_uuid"]) for name, r in resources.items()
                if name.startswith(prefix) and name.endswith(suffix)}
    lam = client(session, "lambda")
    for uuid in mappings.values():
        if lam.get_event_source_mapping(UUID=uuid).get("State") in ("Enabled", "Enabling"):
            lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    client(session, "ssm").put_parameter(
        Name=f"/responder/{stage}/desk-consumers", Value=json.dumps(mappings, sort_keys=True), Type="String",
        Overwrite=True, Description=f"responder {stage}: each desk queue's consumer mapping, switched by the rota")
    return mappings


def print_check(found: dict[str, Any]) -> None:
    console.print(f"API        {found['rest_api']}")
    if found.get("health") is not None:
        console.print(f"health     {found['health']}")
    if found.get("outputs"):
        console.print(f"stack      {len(found['outputs'])} outputs: {', '.join(sorted(found['outputs']))}")
    console.print(f"functions  {len(found['functions'])}: {', '.join(sorted(found['functions']))}")
    for queue, info in sorted(found["queues"].items()):
        console.print(f"queue      {queue} -> {info['function']} (batch {info['batch_size']}, {info['state']})")
    for name, expression in sorted(found["schedules"].items()):
        console.print(f"schedule   {name}: {expression}")
    for problem in found["problems"]:
        console.print(f"[red]problem[/red]    {problem}")


def apply_gateway_responses(session: Any, project: Path, stage: str) -> None:
    """Unknown paths answer a JSON 404 instead of API Gateway's 403 "Missing Authentication Token"."""
    from tools import gateway_responses

    rest_api = deployed_resources(project, stage).get("rest_api")
    if rest_api:
        config = json.loads((project / ".chalice" / "config.json").read_text())
        api_stage = config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))
        gateway_responses.apply(client(session, "apigateway"), rest_api["rest_api_id"], api_stage)


# ---------------------------------------------------------------- commands

def fail(exc: DeployError) -> typer.Exit:
    console.print(f"[red]deploy:[/red] {exc}")
    return typer.Exit(2)


@app.command()
def deploy(stage: str = typer.Argument(..., help="dev or prod"),
           region: str = typer.Option(None, help="AWS region (default: AWS_REGION / your AWS config)"),
           secrets_file: Path = typer.Option(None, help="NAME=value lines for the stage's secrets"),
           alarm_email: str = typer.Option("", help="subscribe this address to the stack's alarm topic"),
           project: Path = typer.Option(PROJECT, hidden=True),
           skip_chalice: bool = typer.Option(False, help="infra, secrets, policy and environment only")) -> None:
    """Deploy a stage end to end; safe to run again."""
    try:
        check_stage(stage)
        given = read_secrets_file(secrets_file) if secrets_file else {}
        session = session_for(region)
        account = account_of(session)
        console.print(f"stage {stage} → account {account}, region {session.region_name}")
        before = existing_secrets(client(session, "ssm"), stage)
        outputs = deploy_infra(session, stage, alarm_email=alarm_email)
        report = ensure_secrets(session, stage, given, before)
        for kind in ("written", "converted", "generated", "kept"):
            if report[kind]:
                console.print(f"secrets {kind}: {', '.join(report[kind])}")
        environment = stage_environment(project, stage, outputs)
        policy = write_policy(project, stage, account=account, region=session.region_name, environment=environment)
        console.print(f"policy     {policy.relative_to(project)}")
        if report["missing"]:
            console.print("[yellow]not set yet[/yellow] (the channel stays off until set): "
                          + ", ".join(report["missing"])
                          + f" — python -m tools.deploy secret {stage} NAME")
        for name in unset_settings(environment):
            console.print(f"[yellow]setting[/yellow] {name} is unset or the example's: set it for stage {stage} "
                          f"in .chalice/config.json")
        if skip_chalice:
            return
        run_chalice(project, ["deploy", "--stage", stage], session.region_name)
        apply_gateway_responses(session, project, stage)
        consumers = record_desk_consumers(session, project, stage)
        console.print(f"consumers  {len(consumers)} desk queues, switched by the rota: {', '.join(sorted(consumers))}")
        found = check_deployment(session, project, stage)
        print_check(found)
        if found["problems"]:
            raise DeployError(f"{len(found['problems'])} problem(s) in what was deployed (listed above)")
        console.print(f"[green]deployed[/green] stage {stage}: {found['rest_api']}")
    except DeployError as exc:
        raise fail(exc) from None


@app.command()
def secret(stage: str = typer.Argument(..., help="dev or prod"),
           name: str = typer.Argument(..., help="e.g. X_BEARER_TOKEN"),
           region: str = typer.Option(None),
           generate: bool = typer.Option(False, help="a new random value (STATUS_LINK_KEY, ADMIN_TOKEN)")) -> None:
    """Set or rotate one secret as a SecureString; the app reads it within 5 minutes, no redeploy."""
    try:
        check_stage(stage)
        check_secret_name(name)
        if generate:
            value = random_secrets.token_urlsafe(48)
        elif sys.stdin.isatty():
            value = typer.prompt(f"{name} for {stage}", hide_input=True)
        else:
            value = sys.stdin.readline().strip()
        if not value:
            raise DeployError("empty value: nothing written")
        session = session_for(region)
        put_secret(client(session, "ssm"), stage, name, value)
        console.print(f"{parameter_name(stage, name)} written (SecureString); running functions read it within "
                      f"5 minutes")
    except DeployError as exc:
        raise fail(exc) from None


@app.command("show-secret")
def show_secret(stage: str = typer.Argument(..., help="dev or prod"),
                name: str = typer.Argument(..., help="e.g. ADMIN_TOKEN"), region: str = typer.Option(None)) -> None:
    """Print one secret's value on standard output and nothing else, for
    ``export RESPONDER_ADMIN_TOKEN="$(python -m tools.deploy show-secret prod ADMIN_TOKEN)"``."""
    from botocore.exceptions import ClientError

    try:
        check_stage(stage)
        check_secret_name(name)
        ssm = client(session_for(region), "ssm")
        try:
            value = ssm.get_parameter(Name=parameter_name(stage, name), WithDecryption=True)["Parameter"]["Value"]
        except ClientError:
            raise DeployError(f"{parameter_name(stage, name)} is not set: python -m tools.deploy secret {stage} "
                              f"{name}") from None
        sys.stdout.write(value + "\n")
    except DeployError as exc:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[red]deploy:[/red] {exc}")
        raise typer.Exit(2) from None


def stage_pool_id(project: Path, stage: str) -> str:
    config = json.loads((project / ".chalice" / "config.json").read_text())
    pool = config["stages"][stage].get("environment_variables", {}).get("AGENT_POOL_ID", "")
    if not pool:
        raise DeployError(f"stage {stage} has no AGENT_POOL_ID yet: run make deploy STAGE={stage} first "
                          f"(or pass --pool-id)")
    return str(pool)


@app.command()
def agent(stage: str = typer.Argument(..., help="dev or prod"),
          username: str = typer.Argument(..., help="the agent's sign-in name, e.g. amira"),
          email: str = typer.Option("", help="where Cognito sends the temporary password"),
          name: str = typer.Option("", help="the agent's name as colleagues see it"),
          team: list[str] = typer.Option([], help="a team of the brand file (repeat for several)"),
          lead: bool = typer.Option(False, help="also a lead (oversight)"),
          remove: bool = typer.Option(False, help="remove the agent instead (their claims return to the desk)"),
          region: str = typer.Option(None), pool_id: str = typer.Option("", help="default: the stage's AGENT_POOL_ID"),
          project: Path = typer.Option(PROJECT, hidden=True)) -> None:
    """Add an agent to the stage's pool, in their teams' groups; Cognito e-mails a temporary password that the
    first sign-in replaces. ``--remove`` deletes the agent."""
    from chalicelib.configfile import load_config

    try:
        check_stage(stage)
        if not remove and not (email and name and team):
            raise DeployError("a new agent needs --email, --name and at least one --team")
        teams = set(load_config(str(project / "chalicelib" / "brand.yaml")).teams)
        unknown = sorted(set(team) - teams)
        if unknown:
            raise DeployError(f"unknown team(s) {', '.join(unknown)}: the brand file has {', '.join(sorted(teams))}")
        pool = pool_id or stage_pool_id(project, stage)
        cognito = client(session_for(region), "cognito-idp")
        groups = [*team, *(["leads"] if lead else [])]
        _add_or_remove_agent(cognito, pool, username, email=email, name=name, groups=groups, remove=remove)
    except DeployError as exc:
        raise fail(exc) from None


def _add_or_remove_agent(cognito: Any, pool: str, username: str, *, email: str, name: str, groups: list[str],
                         remove: bool) -> None:
    from botocore.exceptions import ClientError

    try:
        if remove:
            cognito.admin_delete_user(UserPoolId=pool, Username=username)
            console.print(f"agent {username} removed from {pool}")
            return
        cognito.admin_create_user(UserPoolId=pool, Username=username, DesiredDeliveryMediums=["EMAIL"],
                                  UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name},
                                                  {"Name": "email_verified", "Value": "true"}])
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    except ClientError as exc:
        raise DeployError(f"Cognito refused: {exc.response['Error'].get('Message', exc)}") from None
    console.print(f"agent {username} (groups {', '.join(groups)}) added to {pool}; "
                  f"Cognito e-mails {email} a temporary password")


@app.command()
def check(stage: str = typer.Argument(..., help="dev or prod"), region: str = typer.Option(None),
          project: Path = typer.Option(PROJECT, hidden=True)) -> None:
    """What the stage runs: functions, queue mappings, schedules, the API (from this clone's record of its last
    deploy, else from AWS and the live API's health route)."""
    try:
        check_stage(stage)
        session = session_for(region)
        if (project / ".chalice" / "deployed" / f"{stage}.json").exists():
            found = check_deployment(session, project, stage)
        else:  # a fresh clone: what AWS and the live API say
            found = check_live(session, project, stage)
        print_check(found)
        if found["problems"]:
            raise DeployError(f"{len(found['problems'])} problem(s) (listed above)")
    except DeployError as exc:
        raise fail(exc) from None


@app.command()
def package(stage: str = typer.Argument(..., help="dev or prod"),
            out: Path = typer.Argument(..., help="directory for sam.json and deployment.zip"),
            account: str = typer.Option(..., help="the stage's AWS account id (for the policy's ARNs)"),
            region: str = typer.Option(..., help="the stage's AWS region"),
            project: Path = typer.Option(PROJECT, hidden=True)) -> None:
    """For pipelines: ``chalice package --merge-template infra/template.yaml`` — one SAM template with the infra
    stack's resources and the functions. The queue handlers need no ReportBatchItemFailures: each batch deletes
    what succeeded itself and raises for the rest (ADR 0002)."""
    try:
        check_stage(stage)
        environment = stage_environment(project, stage, {})
        write_policy(project, stage, account=account, region=region, environment=environment)
        run_chalice(project, ["package", "--stage", stage, "--merge-template", str(TEMPLATE), str(out)], region)
        console.print(f"packaged stage {stage} into {out}")
    except DeployError as exc:
        raise fail(exc) from None


if __name__ == "__main__":
    app()
