"""The deployed IAM policy grants every AWS call the code makes. moto checks no policy, so a call the policy does not
grant (a ``Scan`` the erasure once made) passes every local test and fails with AccessDenied in dev and prod.

The main flows run through the real Chalice routes and SQS handlers against moto: ingest on a webhook, process (an
acknowledgement sent at once, one handed to the outbox), outbox delivery, the desk queues, every scheduled function
(closing time, the SLA watch, the pollers, and any added later), an agent's claim, reply and resolve, incidents with
follow-ups, customer links, erasure, the X poller's cursor, a DLQ redrive with ``tools.admin``, the secrets each
stage reads from SSM and an e-mail reply through SES.
Every call is recorded at botocore (``bench.run.counting_aws_calls``, the one counter of the calls) with its
parameters; its IAM action and resource ARN are derived from them and evaluated against the policy ``tools.deploy``
renders for each stage (``Action`` and ``Resource`` with IAM's ``*`` and ``?`` wildcards)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any

import boto3
import pytest
import responses

from bench.run import counting_aws_calls
from tests.conftest import LambdaContext, drain, queue_url, run_pipeline, utc
from tests.helpers import BRAND_X_ID, ticket_of, tweet_event, x_body, x_headers
from tools.deploy import STAGES, render_policy
from tools.local_stack import scheduled_event

ACCOUNT, REGION = "123456789012", "eu-west-2"  # moto's account; the test region
ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}
JSON = {"Content-Type": "application/json"}
EMAIL_FROM = "Meridian Rail <care@brand.example>"
#: Calls IAM does not authorize: the user pool's sign-in is a public API (Cognito evaluates no IAM policy for it).
NOT_AUTHORIZED_BY_IAM = {("cognito-idp", "InitiateAuth")}
#: botocore's service name -> the IAM service prefix, where they differ.
IAM_PREFIX = {"sesv2": "ses"}
#: Batch and transaction APIs are authorized as the single actions they are made of.
SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
             "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem"}

Call = tuple[str, str, dict[str, Any]]


# ------------------------------------------------------------------------------------------------ IAM, evaluated
def _table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _queue_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rstrip('/').rsplit('/', 1)[-1]}"


def _parameter_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def authorizations(service: str, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs IAM checks for one API call, built from its parameters. An operation
    without a rule here fails the test: a new kind of call needs its rule (and, probably, its grant)."""
    prefix = IAM_PREFIX.get(service, service)
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            for table in params["RequestItems"]:
                yield f"dynamodb:{operation}", _table_arn(table)
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            for item in params["TransactItems"]:
                [(kind, request)] = item.items()
                yield f"dynamodb:{TRANSACT[kind]}", _table_arn(request["TableName"])
        else:
            yield f"dynamodb:{operation}", _table_arn(params["TableName"], params.get("IndexName"))
    elif service == "sqs":
        queue = (f"arn:aws:sqs:{REGION}:{ACCOUNT}:{params['QueueName']}" if operation == "GetQueueUrl"
                 else _queue_arn(params["QueueUrl"]))
        yield f"sqs:{SQS_BATCH.get(operation, operation)}", queue
    elif service == "ssm":
        names = params.get("Names") or [params.get("Name") or params.get("Path")]
        for name in names:
            yield f"ssm:{operation}", _parameter_arn(name)
    elif service == "sesv2" and operation == "SendEmail":
        domain = parseaddr(params["FromEmailAddress"])[1].rpartition("@")[2]
        yield "ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}"
    else:
        raise AssertionError(f"no rule for the IAM authorization of {service}.{operation} ({prefix}:{operation}): "
                             f"add one to this test")


def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM's matching: ``*`` any run of characters, ``?`` one character, the rest literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """An explicit Allow (without conditions: those grant only in the context they name) and no explicit Deny."""
    def matches(statement: dict[str, Any]) -> bool:
        return (any(_wildcard(a.lower()).fullmatch(action.lower()) for a in _as_list(statement.get("Action", [])))
                and any(_wildcard(r).fullmatch(resource) for r in _as_list(statement.get("Resource", []))))

    statements = _as_list(policy["Statement"])
    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and "Condition" not in s and matches(s) for s in statements)


def not_granted(policy: dict[str, Any], calls: list[Call]) -> list[str]:
    missing = []
    for service, operation, params in calls:
        if (service, operation) in NOT_AUTHORIZED_BY_IAM:
            continue
        for action, resource in authorizations(service, operation, params):
            if not allows(policy, action, resource):
                missing.append(f"{action} on {resource} ({service}.{operation})")
    return sorted(set(missing))


def test_the_evaluation_refuses_what_the_policy_does_not_grant():
    """The checker itself: a scan of the mentions table and a query of another index are refused, the index the
    erasure reads and a desk queue are granted."""
    policy = render_policy("prod", account=ACCOUNT, region=REGION)
    scan = ("dynamodb", "Scan", {"TableName": "responder-mentions"})
    other_index = ("dynamodb", "Query", {"TableName": "responder-mentions", "IndexName": "by_text"})
    by_author = ("dynamodb", "Query", {"TableName": "responder-mentions", "IndexName": "by_author"})
    desk = ("sqs", "SendMessageBatch", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/responder-desk-x"})
    other_stage = ("ssm", "GetParameter", {"Name": "/responder/dev/x-bearer-token"})
    assert not_granted(policy, [scan, other_index, by_author, desk, other_stage]) == [
        f"dynamodb:Query on {_table_arn('responder-mentions', 'by_text')} (dynamodb.Query)",
        f"dynamodb:Scan on {_table_arn('responder-mentions')} (dynamodb.Scan)",
        f"ssm:GetParameter on {_parameter_arn('/responder/dev/x-bearer-token')} (ssm.GetParameter)",
    ]
    with pytest.raises(AssertionError, match="no rule .* s3.GetObject"):
        not_granted(policy, [("s3", "GetObject", {"Bucket": "b", "Key": "k"})])


# ------------------------------------------------------------------------------------------------ the flows
def post_tweet(client, tweet_id: str, text: str, at, user_id: str, **kwargs) -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, user_id=user_id, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def run_schedule(name: str) -> Any:
    import app as application

    return application.app.handler_map[name](scheduled_event(name), LambdaContext())


def every_schedule() -> list[str]:
    """Run every scheduled function of the app (closing time, the SLA watch, the pollers, and any added later), the
    X poller apart: it reaches X's API, answered in ``poll_x``."""
    from chalice.app import ScheduledEventConfig

    import app as application

    names = [source.name for source in application.app.event_sources
             if isinstance(source, ScheduledEventConfig) and source.name != "poll_x"]
    for name in names:
        run_schedule(name)
    return names


def admin(client, method: str, path: str, body: dict | None = None) -> Any:
    response = getattr(client.http, method)(path, headers=ADMIN, **({"body": json.dumps(body)} if body else {}))
    assert response.status_code < 300, (path, response.body)
    return response.json_body


def out_of_hours(client, svc, clock, monkeypatch) -> None:
    """Sunday 03:00: complaints acknowledged at once, one handed to the outbox, an incident, a follow-up."""
    post_tweet(client, "7101", "@MeridianRail my train was cancelled and nobody told us", clock.now(), "42")
    run_pipeline()  # webhook -> inbound queue -> process: stored, acknowledged at once, on the desk queue
    with monkeypatch.context() as m:  # an invocation with little time left hands acknowledgements to the outbox
        m.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 1_000)
        post_tweet(client, "7102", "@MeridianRail my train was cancelled, no replacement bus", clock.now(), "43")
        drain("process_inbound", "responder-inbound")
    handed_over = svc.tickets.get(ticket_of(svc, "x#7102"))
    every_schedule()
    drain("deliver_outbox", "responder-outbox")
    assert svc.tickets.get(handed_over.ticket_id).sent_keys == [f"ack#{handed_over.ticket_id}"]
    incident = admin(client, "post", "/admin/incidents", {
        "title": "No trains between Reading and Oxford", "keywords": ["reading", "oxford"]})
    post_tweet(client, "7103", "@MeridianRail no trains from Reading at all??", clock.now(), "44")
    run_pipeline()
    admin(client, "get", "/admin/incidents")
    admin(client, "post", f"/admin/incidents/{incident['incident_id']}/resolve", {"follow_up": True})
    drain("deliver_outbox", "responder-outbox")
    admin(client, "get", "/admin/rota")
    admin(client, "get", "/admin/backlog/complaints")


def the_team_is_back(client, clock) -> None:
    """Wednesday 10:00: the schedules run, an agent claims, replies and resolves."""
    clock.set(utc(2026, 11, 25, 10, 0))
    assert {"closing_time", "sla_watch", "poll_bluesky", "poll_mastodon", "poll_threads",
            "poll_listening"} <= set(every_schedule())
    signed_in = client.http.post("/agent/sign-in", headers=JSON,
                                 body=json.dumps({"username": "amira", "password": "Amira-local-1"}))
    assert signed_in.status_code == 200, signed_in.body
    amira = {"Authorization": f"Bearer {signed_in.json_body['token']}", **JSON}
    assert client.http.get("/agent/me", headers=amira).status_code == 200
    # the words customers wrote: one query of the index per word, the driver's tickets checked by key, then read
    assert client.http.get("/agent/search?q=cancelled%20replacement", headers=amira).json_body["matches"]
    taken = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    path = f"/agent/tickets/{taken['ticket_id']}"
    assert client.http.post(f"{path}/reply", headers=amira, body=json.dumps({"text": "Sorry - which train?"})
                            ).status_code == 200
    drain("deliver_outbox", "responder-outbox")
    assert client.http.get(path, headers=amira).status_code == 200
    assert client.http.post(f"{path}/resolve", body="{}", headers=amira).json_body["ticket"]["status"] == "resolved"


def customers(client, svc) -> None:
    """Links between identities, a ticket shown, then one customer's data erased."""
    form = client.http.post("/contact", headers=JSON, body=json.dumps(
        {"name": "Pat", "email": "pat@example.org", "message": "Cancelled train this evening, want a refund"}))
    assert form.status_code == 202, form.body
    run_pipeline()
    linked = admin(client, "post", "/admin/customer-links",
                   {"identity": "x@traveller43", "with": "email#pat@example.org"})
    assert linked["changed"] is True
    admin(client, "get", f"/admin/tickets/{ticket_of(svc, 'x#7102')}")
    admin(client, "delete", "/admin/customer-links/email%23pat%40example.org")
    removed = admin(client, "delete", "/admin/customers/x%2342")
    assert removed["mentions"] == 1 and svc.mentions.get("x#7101") is None
    assert removed["words"] == 4 and svc.words.tickets("nobody", 10).hits == []  # train, cancelled, nobody, told


def poll_x() -> None:
    """The X poller reads its cursor, enqueues what it found and moves the cursor."""
    mentions = f"https://api.twitter.com/2/users/{BRAND_X_ID}/mentions"
    found = {"data": [{"id": "7201", "text": "@MeridianRail refund please", "author_id": "45",
                       "conversation_id": "7201", "created_at": "2026-11-25T09:55:00.000Z", "lang": "en",
                       "edit_history_tweet_ids": ["7201"]}],
             "includes": {"users": [{"id": "45", "name": "Sam", "username": "sam"}]},
             "meta": {"result_count": 1, "newest_id": "7201", "oldest_id": "7201"}}
    with responses.RequestsMock(assert_all_requests_are_fired=True) as x_http:
        x_http.get(mentions, json=found)
        assert run_schedule("poll_x")["fetched"] == 1
    run_pipeline()


def redrive(sqs) -> None:
    """An operator looks at the inbound dead-letter queue and redrives it (tools.admin), then it is processed."""
    from tools.admin import describe_dead_letters, redrive_queue

    assert describe_dead_letters(sqs, "responder-inbound")["waiting"] == 1
    assert redrive_queue(sqs, "responder-inbound") == 1
    run_pipeline()


def secrets_of(stage: str, settings) -> None:
    """A deployed stage's secrets: SSM SecureStrings under its own prefix, read through Lambda Powertools."""
    from chalicelib.settings import SECRET_PARAMETERS, Secrets

    stage_settings = settings.model_copy(update={"stage": stage, "parameter_prefix": f"/responder/{stage}/"})
    secrets = Secrets(stage_settings)
    for name in SECRET_PARAMETERS:
        assert secrets.get(name) == f"{stage}-{name}"


def email_reply() -> None:
    from chalicelib.channels.base import OutboundMessage
    from chalicelib.channels.ses import SesSender

    SesSender(EMAIL_FROM, client=boto3.session.Session(region_name=REGION).client("sesv2")).send(OutboundMessage(
        channel="email", recipient="pat@example.org", text="Hello Pat, we are on it.", subject="Refund"))


def test_every_call_of_the_main_flows_is_granted_by_the_policy_of_dev_and_prod(client, svc, clock, settings,
                                                                              monkeypatch):
    # what the flows need that no flow of the app creates: a message on a dead-letter queue, the stages' secrets,
    # the verified sender domain
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName="responder-inbound-dlq")["QueueUrl"]
    ssm = boto3.client("ssm", region_name=REGION)
    from chalicelib.settings import SECRET_PARAMETERS

    for stage in STAGES:
        for name, suffix in SECRET_PARAMETERS.items():
            ssm.put_parameter(Name=f"/responder/{stage}/{suffix}", Value=f"{stage}-{name}", Type="SecureString")
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="brand.example")

    # a message that failed its tries (moved there by hand): the operator redrives it below
    body = x_body(tweet_event("7301", "@MeridianRail my refund never came", at=clock.now(), user_id="46"))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    [parked] = sqs.receive_message(QueueUrl=queue_url("responder-inbound")).get("Messages", [])
    sqs.send_message(QueueUrl=dlq, MessageBody=parked["Body"])
    sqs.delete_message(QueueUrl=queue_url("responder-inbound"), ReceiptHandle=parked["ReceiptHandle"])

    calls: list[Call] = []
    with counting_aws_calls(record=calls):
        out_of_hours(client, svc, clock, monkeypatch)
        redrive(sqs)
        the_team_is_back(client, clock)
        customers(client, svc)
        poll_x()
        email_reply()
    by_stage: dict[str, list[Call]] = {}
    for stage in STAGES:
        with counting_aws_calls(record=by_stage.setdefault(stage, [])):
            secrets_of(stage, settings)

    operations = {(service, operation) for service, operation, _ in calls}
    # the flows did run: the erasure's index query, the outbox, the desk queues, the poller's cursor, the redrive
    assert {("dynamodb", "Query"), ("dynamodb", "PutItem"), ("dynamodb", "UpdateItem"), ("dynamodb", "DeleteItem"),
            ("dynamodb", "GetItem"), ("dynamodb", "BatchWriteItem"), ("sqs", "SendMessage"), ("sqs", "ReceiveMessage"),
            ("sesv2", "SendEmail")} <= operations
    assert any(p.get("IndexName") == "by_author" for _, _, p in calls)
    assert not any(op == "Scan" for _, op, _ in calls)
    for stage in STAGES:
        policy = render_policy(stage, account=ACCOUNT, region=REGION, email_identity="brand.example")
        assert by_stage[stage] and not_granted(policy, calls + by_stage[stage]) == [], (
            f"the {stage} policy (infra/policy.json) does not grant these calls")
