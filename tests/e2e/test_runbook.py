"""docs/runbook.md, command by command: every line of its `sh` blocks is run in bash, as ops would type it (the
virtualenv's `python` first on PATH), against the embedded local AWS (deploy, secrets, agents) and the local stack
(rota, incidents, dead letters, data deletion). The last test checks that no runbook command went unrun."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import PROJECT, LocalStack
from tests.e2e.test_deploy import aws, project  # noqa: F401 - module fixtures: the embedded AWS, a project copy
from tests.e2e.test_local_stack import acks_for, app_now, send_tweet

RUNBOOK = PROJECT / "docs" / "runbook.md"
EXECUTED: set[tuple[str, ...]] = set()


def runbook_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", RUNBOOK.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                commands.append(line.strip())
    return commands


def form(command: str) -> tuple[str, ...]:
    """What a command is, without its arguments: ("make", "deploy"), ("tools.admin", "incident", "resolve")..."""
    words = shlex.split(command, comments=True)
    if words[0] == "export":
        return ("export", words[1].split("=", 1)[0])
    if words[0] == "make":
        return ("make", words[1])
    assert words[:2] == ["python", "-m"], command
    if words[3] == "incident":
        return (words[2], words[3], words[4])
    return (words[2], words[3])


def commands_of(*wanted: tuple[str, ...]) -> list[str]:
    found = [c for c in runbook_commands() if form(c) in wanted]
    assert found, f"the runbook has no {wanted}"
    return found


def shell(command: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    EXECUTED.add(form(command))
    return subprocess.run(["bash", "-c", command], cwd=PROJECT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=600)


def ops_env(base: dict) -> dict:
    return {**base, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}


# ------------------------------------------------------------------------------------------------ deploy side
def test_deploy_agents_and_secrets_as_the_runbook_says(aws, project, tmp_path):  # noqa: F811
    env = ops_env(aws)
    secrets = tmp_path / "prod.env"
    secrets.write_text("X_CONSUMER_SECRET=prod-consumer\nMETA_APP_SECRET=prod-meta\n")
    with_project = f'--project {project} '
    for command in commands_of(("make", "deploy")):
        command = command.replace("~/prod.env", str(secrets))
        command = (command.replace('DEPLOY_ARGS="', f'DEPLOY_ARGS="{with_project}') if "DEPLOY_ARGS" in command
                   else f'{command} DEPLOY_ARGS="{with_project.strip()}"')
        result = shell(command, env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "deployed stage prod" in result.stdout
    ssm = boto3.client("ssm", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="eu-west-2")
    assert ssm.get_parameter(Name="/responder/prod/x/consumer-secret", WithDecryption=True)["Parameter"][
        "Value"] == "prod-consumer"
    [check] = commands_of(("tools.deploy", "check"))
    result = shell(f"{check} --project {project}", env)
    assert result.returncode == 0 and "responder-inbound -> responder-prod-process_inbound" in result.stdout

    # the stage's agents' pool (moto's CloudFormation makes none; in AWS `make deploy` wrote its id)
    cognito = boto3.client("cognito-idp", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="eu-west-2")
    pool = cognito.create_user_pool(PoolName="responder-prod-agents")["UserPool"]["Id"]
    for group in ("customer_service", "comms", "oncall", "team_leads", "leads"):
        cognito.create_group(UserPoolId=pool, GroupName=group)
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["prod"]["environment_variables"]["AGENT_POOL_ID"] = pool
    config_path.write_text(json.dumps(config, indent=2))
    add_amira, add_chloe, remove_amira = commands_of(("tools.deploy", "agent"))
    for command in (add_amira, add_chloe):
        result = shell(f"{command} --project {project}", env)
        assert result.returncode == 0, result.stdout + result.stderr
    groups = {g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=pool, Username="chloe")["Groups"]}
    assert groups == {"team_leads", "leads"}
    assert cognito.admin_get_user(UserPoolId=pool, Username="amira")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    result = shell(f"{remove_amira} --project {project}", env)
    assert result.returncode == 0, result.stdout + result.stderr
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool, Username="amira")

    rotate, generate = commands_of(("tools.deploy", "secret"))
    result = shell(rotate, env, stdin="rotated-bearer-token\n")
    assert result.returncode == 0 and "rotated-bearer-token" not in result.stdout + result.stderr
    before = ssm.get_parameter(Name="/responder/prod/admin-token", WithDecryption=True)["Parameter"]["Value"]
    assert shell(generate, env).returncode == 0
    after = ssm.get_parameter(Name="/responder/prod/admin-token", WithDecryption=True)["Parameter"]["Value"]
    assert after != before and len(after) >= 48
    assert ssm.get_parameter(Name="/responder/prod/x/bearer-token", WithDecryption=True)["Parameter"][
        "Value"] == "rotated-bearer-token"

    # the admin token for the HTTP commands comes from SSM, straight into the environment
    exports = commands_of(("export", "RESPONDER_ADMIN_TOKEN"))
    shown = shell(f"{exports[0]}; printf %s \"$RESPONDER_ADMIN_TOKEN\"", env)
    EXECUTED.add(("tools.deploy", "show-secret"))
    assert shown.returncode == 0 and shown.stdout == after

    for command in commands_of(("make", "check-config")):
        result = shell(command, env)
        assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------------------------------ operating side
@pytest.fixture(scope="module")
def stack():
    (PROJECT / ".pytest_cache").mkdir(exist_ok=True)
    running = LocalStack("2026-11-29T03:00:00+00:00")
    yield running
    running.stop_in_background()


def stack_env(stack) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return ops_env({**base, "RESPONDER_URL": stack.base, "RESPONDER_ADMIN_TOKEN": "local-admin-token",
                    "AWS_ENDPOINT_URL": stack.endpoint, "AWS_REGION": "eu-west-2",
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})


def test_rota_and_incidents_as_the_runbook_says(stack):
    env = stack_env(stack)
    # the API's address comes from the export line (the stage's URL; here the local stack's)
    [export_url] = commands_of(("export", "RESPONDER_URL"))
    [rota] = commands_of(("tools.admin", "rota"))
    without_url = {k: v for k, v in env.items() if k != "RESPONDER_URL"}
    result = shell(f"{re.sub(r'https://[^ ]+', stack.base, export_url)}\n{rota}", without_url)
    assert result.returncode == 0 and "complaints" in result.stdout, result.stdout + result.stderr
    EXECUTED.add(form(rota))
    [declare] = commands_of(("tools.admin", "incident", "declare"))
    result = shell(declare, env)
    assert result.returncode == 0, result.stdout + result.stderr
    incident_id = json.loads(result.stdout)["incident_id"]
    send_tweet(stack, "770001", "@ExampleRail no trains from Reading to Oxford at all?", user_id="7701")
    assert stack.wait_for(lambda: acks_for(stack, "770001"), timeout=15)
    [listed] = commands_of(("tools.admin", "incident", "list"))
    result = shell(listed, env)
    assert result.returncode == 0 and incident_id in result.stdout
    [update] = commands_of(("tools.admin", "incident", "update"))
    result = shell(update.replace("INC-1A2B3C4D", incident_id), env)
    assert result.returncode == 0, result.stdout + result.stderr
    [resolve] = commands_of(("tools.admin", "incident", "resolve"))
    result = shell(resolve.replace("INC-1A2B3C4D", incident_id), env)
    assert result.returncode == 0, result.stdout + result.stderr
    follow_ups = stack.wait_for(lambda: len(acks_for(stack, "770001")) >= 3 and acks_for(stack, "770001"), timeout=15)
    assert follow_ups and "Buses replace trains until 18:00" in follow_ups[1]["text"]
    again = shell(resolve.replace("INC-1A2B3C4D", incident_id), env)
    assert again.returncode == 1 and "409" in again.stdout


def test_a_dead_letter_is_inspected_and_redriven_as_the_runbook_says(stack):
    from chalicelib.usecases.legacy_envelope import legacy_envelope as envelope  # what a queue held before v2
    from tests.helpers import tweet_event

    env = stack_env(stack)
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint, region_name="eu-west-2", aws_access_key_id="t",
                       aws_secret_access_key="t")
    dead = envelope("x", tweet_event("770100", "@ExampleRail my train was cancelled, refund?", user_id="7702",
                                     at=app_now(stack)), received_at=app_now(stack))
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="responder-inbound-dlq")["QueueUrl"],
                     MessageBody=json.dumps(dead))
    inspect, redrive, backlog = commands_of(("tools.admin", "dlq"), ("tools.admin", "redrive"),
                                            ("tools.admin", "backlog"))
    result = shell(inspect, env)
    assert result.returncode == 0 and "1 message(s) in responder-inbound-dlq" in result.stdout, result.stdout
    assert dead["id"] in result.stdout and "refund" not in result.stdout  # the key, never the text
    result = shell(redrive, env)
    assert result.returncode == 0 and "moved 1 message(s)" in result.stdout
    assert stack.wait_for(lambda: acks_for(stack, "770100"), timeout=15), "the redriven mention was not answered"
    result = shell(backlog, env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_customers_data_is_deleted_as_the_runbook_says(stack):
    env = stack_env(stack)
    send_tweet(stack, "770200", "@ExampleRail delete me after this: my train was cancelled", user_id="12345")
    [ack] = stack.wait_for(lambda: acks_for(stack, "770200"), timeout=15)
    reference = ack["idempotency_key"].split("#")[1]
    show, forget = commands_of(("tools.admin", "ticket"), ("tools.admin", "forget"))
    result = shell(show.replace("R7K2M9QPX", reference), env)
    assert result.returncode == 0 and "x#12345" in result.stdout, result.stdout + result.stderr
    result = shell(forget, env)
    assert result.returncode == 0, result.stdout + result.stderr
    gone = shell(show.replace("R7K2M9QPX", reference), env)
    assert gone.returncode == 1 and "404" in gone.stdout


def test_triage_is_measured_on_the_inbox_labels_as_the_runbook_says(stack, tmp_path):
    env = {**stack_env(stack), "RESPONDER_PASSWORD": "Chloe-local-1", "RESPONDER_TOKEN_FILE": str(tmp_path / "t")}
    login, download, report = commands_of(("tools.inbox", "login"), ("tools.inbox", "labels"),
                                          ("make", "triage-report"))
    labels = tmp_path / "labels.csv"
    assert shell(login, env).returncode == 0
    result = shell(download.replace("labels.csv", str(labels)), env)
    assert result.returncode == 0 and "0 labels written" in result.stdout, result.stdout + result.stderr
    result = shell(report.replace("labels.csv", str(labels)), env)  # nobody has labelled yet: said, exit 1
    assert result.returncode != 0 and "no labelled row (agents label tickets" in result.stderr, result.stderr

    # Sunday 03:00: an urgent complaint goes to the on-call desk, and Omar, on call, labels it
    send_tweet(stack, "770300", "@ExampleRail stranded at Reading with two small kids, last train cancelled and no "
               "replacement bus", user_id="7703")
    tickets = stack.wait_for(lambda: stack.get("/admin/backlog/oncall", headers={
        "Authorization": "Bearer local-admin-token"}).json()["tickets"], timeout=15)
    assert tickets, stack.output()[-3000:]
    omar = stack.post("/agent/sign-in", json={"username": "omar", "password": "Omar-local-1"}).json()["token"]
    labelled = stack.post(f"/agent/tickets/{tickets[0]['ticket_id']}/label", json={"intent": "complaint"},
                          headers={"Authorization": f"Bearer {omar}"})
    assert labelled.status_code == 200, labelled.text

    result = shell(download.replace("labels.csv", str(labels)), env)
    assert result.returncode == 0 and "1 label written" in result.stdout, result.stdout + result.stderr
    result = shell(report.replace("labels.csv", str(labels)), env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== whole set: 1 labelled inbound tweets ==" in result.stdout
    assert re.search(r"complaints acknowledged\s+100\.0%\s+\(1 of 1\)", result.stdout), result.stdout


def test_every_runbook_command_was_run():
    missing = sorted({form(c) for c in runbook_commands()} - EXECUTED)
    assert not missing, f"runbook commands no test ran: {missing}"


def test_the_dead_letter_commands_find_the_running_local_stack_by_themselves(stack):
    """No AWS_* variable set: ``dlq`` and ``redrive`` talk to the local stack's own AWS (its port, its dummies)."""
    from urllib.parse import urlparse

    env = {k: v for k, v in stack_env(stack).items() if not k.startswith("AWS_")}
    env["LOCAL_AWS_PORT"] = str(urlparse(stack.endpoint).port)
    for command in ("dlq", "redrive"):
        result = subprocess.run([sys.executable, "-m", "tools.admin", command, "responder-outbox"], cwd=PROJECT,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "responder-outbox-dlq" in result.stdout and "Traceback" not in result.stderr
