"""Observability through the real app on moto: the EMF metrics the use cases emit (names, dimensions, units,
values), the ticket reference as correlation id on every later log line of a record or request (and never on the
next record's), the alarms and dashboard of the template, and unknown routes answered with a JSON 404 by the
local server and, deployed, by the API Gateway gateway response (tools.gateway_responses on moto's apigateway)."""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path

import boto3
import pytest
import requests

from tests.conftest import LambdaContext, drain, lambda_sqs_event, receive_all, run_pipeline, utc
from tests.helpers import tweet_event, x_body, x_headers
from tools.local_stack import scheduled_event

PROJECT = Path(__file__).resolve().parents[2]
WEDNESDAY = utc(2026, 11, 25, 10, 0)
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def emf(monkeypatch, capsys):
    """EMF on (stage local turns it off, and chalice's test client sets the stage's environment for each request);
    returns a reader of the metrics printed since the last read: ``[(name, unit, dimensions, values)]``."""
    monkeypatch.setattr("chalicelib.telemetry.is_metrics_disabled", lambda: False)
    monkeypatch.setattr("aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch.is_metrics_disabled",
                        lambda: False)
    from chalicelib.telemetry import metrics

    metrics.clear_metrics()

    def read() -> list[tuple[str, str, dict[str, str], list[float]]]:
        metrics.flush_metrics(raise_on_empty_metrics=False)
        found = []
        for line in capsys.readouterr().out.splitlines():
            if not line.startswith('{"_aws"'):
                continue
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == "Responder"
                dimensions = {name: blob[name] for name in directive["Dimensions"][0]}
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    found.append((metric["Name"], metric["Unit"], dimensions,
                                  value if isinstance(value, list) else [value]))
        return found

    yield read
    metrics.clear_metrics()


def named(found, name: str, **dimensions: str) -> list[float]:
    """Values of ``name`` emitted with exactly these dimensions (besides service=responder)."""
    want = {"service": "responder", **dimensions}
    return [v for n, _, dims, values in found if n == name and dims == want for v in values]


def post_tweet(client, tweet_id: str, text: str, at, user_id: str = "555") -> None:
    body = x_body(tweet_event(tweet_id, text, at=at, user_id=user_id))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def sign_in(client, username: str, password: str) -> dict:
    response = client.http.post("/agent/sign-in", body=json.dumps({"username": username, "password": password}),
                                headers=JSON)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['token']}", **JSON}


# ------------------------------------------------------------------------------------------------ metrics
def test_mentions_per_channel_acks_sent_and_ack_latency(client, svc, clock, emf):
    post_tweet(client, "7001", "@MeridianRail my train was cancelled and nobody told us", clock.now())
    clock.advance(seconds=3)  # processed 3 s after the customer wrote: the acknowledgement goes out then
    drain("process_inbound", "responder-inbound")
    assert drain("deliver_outbox", "responder-outbox") == 0  # nothing left for the outbox
    found = emf()
    assert named(found, "MentionsReceived", channel="x") == [1]
    assert named(found, "AcksSent", kind="ack") == [1]
    assert named(found, "AckLatency", kind="ack") == [3000]
    assert {unit for name, unit, _, _ in found if name == "AckLatency"} == {"Milliseconds"}
    assert named(found, "OutboundSent", channel="x") == [1]
    # no ticket, customer or message id is ever a dimension (every dimension value is one of a few)
    for name, _, dims, _ in found:
        assert set(dims) <= {"service", "channel", "kind", "desk", "priority", "action", "queue", "reason"}, name
        assert not any(re.fullmatch(r"R[0-9A-Z]{8}", value) for value in dims.values()), (name, dims)


def test_a_duplicate_is_no_new_mention(client, svc, clock, emf):
    post_tweet(client, "7002", "@MeridianRail where is my refund", clock.now())
    post_tweet(client, "7002", "@MeridianRail where is my refund", clock.now())
    drain("process_inbound", "responder-inbound")
    found = emf()
    assert named(found, "MentionsReceived", channel="x") == [1]
    assert sum(named(found, "MentionsDuplicate")) == 1


def test_desk_wait_and_agent_actions(client, svc, clock, emf):
    clock.set(WEDNESDAY)
    post_tweet(client, "7101", "@MeridianRail my train was cancelled, no replacement bus, awful", WEDNESDAY)
    run_pipeline()
    clock.advance(minutes=7)
    amira = sign_in(client, "amira", "Amira-local-1")
    emf()  # what came before
    ticket_id = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]["ticket_id"]
    assert client.http.post(f"/agent/tickets/{ticket_id}/note", body=json.dumps({"text": "checking"}),
                            headers=amira).status_code == 200
    assert client.http.post(f"/agent/tickets/{ticket_id}/release", body="{}", headers=amira).status_code == 200
    assert client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira).status_code == 200
    assert client.http.post(f"/agent/tickets/{ticket_id}/resolve", body="{}", headers=amira).status_code == 200
    found = emf()
    assert named(found, "DeskWait", desk="complaints") == [420]  # the first claim only: not the second
    assert {unit for name, unit, _, _ in found if name == "DeskWait"} == {"Seconds"}
    actions = [dims["action"] for name, _, dims, _ in found if name == "AgentActions"]
    assert actions == ["next", "note", "release", "claim", "resolve"]
    refused = client.http.post(f"/agent/tickets/{ticket_id}/note", body="{}", headers=amira)
    assert refused.status_code == 422 and not named(emf(), "AgentActions", action="note")  # refused: not done


def test_sla_breaches_are_counted_per_desk_and_in_total(client, svc, clock, emf):
    import app as application

    clock.set(WEDNESDAY)
    post_tweet(client, "7201", "@MeridianRail my train was cancelled, no replacement bus, awful", WEDNESDAY)
    run_pipeline()
    clock.advance(hours=3)
    emf()
    assert application.app.handler_map["sla_watch"](scheduled_event("sla_watch"), LambdaContext()) == {"breached": 1}
    found = emf()
    assert named(found, "SlaBreached") == [1]  # the total the alarm reads
    assert sum(v for n, _, dims, values in found if n == "SlaBreached" and "desk" in dims for v in values) == 1


def test_x_rate_limit_headroom_from_the_pollers_headers(mem, emf, monkeypatch):
    from chalicelib.channels.base import MentionsPage, RateLimited
    from chalicelib.usecases.poll_x import poll_mentions

    pages = [MentionsPage(result_count=0, newest_id="5", rate_limit_remaining=37),
             RateLimited(reset_at=mem.now().replace(hour=4))]

    class Api:
        def fetch_mentions(self, user_id, since_id=None, pagination_token=None):
            page = pages.pop(0)
            if isinstance(page, Exception):
                raise page
            return page

    mem.x_api_factory = Api
    poll_mentions(mem)
    assert named(emf(), "XRateLimitRemaining") == [37]
    poll_mentions(mem)
    assert named(emf(), "XRateLimitRemaining") == [0]


def test_listening_counts_what_its_dashboard_widget_and_read_budget_alarm_read(client, svc, clock, emf):
    """poll_listening through its real handler on stage local's search stand-ins: ListeningPostsQueued per channel
    and XSearchReads (the dashboard's Listening widget); once the day's X read budget ($5 at $0.005 a post and
    $0.010 its author) is spent, XSearchBudgetReached with the one dimension the x-search-budget-reached alarm
    reads, on every later run of the day."""
    import app as application

    posts = [{"channel": "x", "text": f"Meridian Rail cancelled train {n} again", "handle": f"rider{n}"}
             for n in range(340)] + [{"channel": "bluesky", "text": "Meridian Rail cancelled my train again"},
                                     {"channel": "mastodon", "text": "#MeridianRail cancelled my train again"}]
    for start in range(0, len(posts), 100):
        injected = client.http.post("/local/listening/posts", body=json.dumps(posts[start:start + 100]), headers=JSON)
        assert injected.status_code == 202, injected.body

    def run() -> dict:
        return application.app.handler_map["poll_listening"](scheduled_event("poll_listening"), LambdaContext())

    emf()
    first = run()
    found = emf()
    assert first["x"]["queued"] == 333, first  # what $5 buys, each post by a different author
    assert sum(named(found, "XSearchReads")) == 333
    assert named(found, "ListeningPostsQueued", channel="x") == [333]
    assert named(found, "ListeningPostsQueued", channel="bluesky") == [1]
    assert named(found, "ListeningPostsQueued", channel="mastodon") == [1]
    assert named(found, "XSearchBudgetReached") == []

    for _ in range(2):  # the day's later runs: no X request, one count each
        clock.advance(minutes=5)
        later = run()
        assert later["x"]["skipped"].startswith("X read budget spent for today"), later
        found = emf()
        assert named(found, "XSearchBudgetReached") == [1] and named(found, "XSearchReads") == []


# ------------------------------------------------------------------------------------------------ correlation
@pytest.fixture
def app_log():
    """The app's log lines as it writes them (Powertools JSON), at INFO."""
    from chalicelib.telemetry import logger

    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Lines()
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("INFO")
    yield lambda: [json.loads(line) for line in lines]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_ticket_reference_is_on_every_later_log_line_of_its_record_only(client, svc, clock, app_log):
    post_tweet(client, "7301", "@MeridianRail my train was cancelled and nobody told us", clock.now(), user_id="31")
    post_tweet(client, "7302", "@MeridianRail my refund never arrived, awful service", clock.now(), user_id="32")
    messages = receive_all("responder-inbound")
    bad = {"MessageId": "not-an-envelope", "ReceiptHandle": "rh-bad", "Body": json.dumps({"v": 99})}
    event = lambda_sqs_event([messages[0], bad, messages[1]], "responder-inbound")
    with pytest.raises(Exception, match="1 of 3 records failed"):
        client.lambda_.invoke("process_inbound", event)

    lines = app_log()
    created = [line for line in lines if line["message"] == "ticket created"]
    assert len(created) == 2 and all(line["correlation_id"] == line["ticket_id"] for line in created)
    first, second = (line["ticket_id"] for line in created)
    assert first != second
    failed = [n for n, line in enumerate(lines) if line["message"] == "record failed"]
    assert len(failed) == 1 and "correlation_id" not in lines[failed[0]]  # the first record's reference stayed
    assert {line.get("correlation_id") for line in lines[:failed[0]]} <= {None, first}
    assert {line.get("correlation_id") for line in lines[failed[0]:]} <= {None, second}
    known = lines.index(created[0])
    assert all(line["correlation_id"] == first for line in lines[known:failed[0]])  # every later line
    partial = [line for line in lines if line["message"] == "batch partially failed"]
    assert len(partial) == 1 and "correlation_id" not in partial[0]

    drain("deliver_outbox", "responder-outbox")
    sent = [line for line in app_log() if line["message"] == "message sent"]
    assert {line["correlation_id"] for line in sent} == {first, second}
    assert all(line["correlation_id"] == line["ticket_id"] for line in sent)

    # the next invocation starts without one
    client.http.get("/health")
    from chalicelib.telemetry import CORRELATION_KEY, logger

    assert CORRELATION_KEY not in logger.thread_safe_get_current_keys()


def test_an_agent_action_logs_with_its_ticket_and_the_next_request_does_not(client, svc, clock, app_log):
    clock.set(WEDNESDAY)
    post_tweet(client, "7401", "@MeridianRail my train was cancelled, no replacement bus, awful", WEDNESDAY)
    run_pipeline()
    amira = sign_in(client, "amira", "Amira-local-1")
    ticket_id = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]["ticket_id"]
    client.http.post(f"/agent/tickets/{ticket_id}/reply", body=json.dumps({"text": "Sorry, on it"}), headers=amira)
    client.http.post("/agent/sign-in", body=json.dumps({"username": "ben", "password": "Ben-local-1"}), headers=JSON)
    lines = app_log()
    claimed = next(line for line in lines if line["message"] == "ticket claimed")
    queued = next(line for line in lines if line["message"] == "agent reply queued")
    assert claimed["correlation_id"] == queued["correlation_id"] == ticket_id
    signed_in = [line for line in lines if line["message"] == "agent signed in"]
    assert len(signed_in) == 2 and all("correlation_id" not in line for line in signed_in)


# ------------------------------------------------------------------------------------------------ template
def _template() -> dict:
    from tests.integration.test_contracts import template

    return template()


ALARMS = {  # logical id -> alarm name (stage prod); docs/runbook.md refers to these
    "InboundDLQAlarm": "responder-prod-inbound-dlq", "OutboxDLQAlarm": "responder-prod-outbox-dlq",
    "DeskDLQAlarm": "responder-prod-desk-dlq", "NotifyDLQAlarm": "responder-prod-notify-dlq",
    "SlaBreachesAlarm": "responder-prod-sla-breaches",
    "AckLatencyAlarm": "responder-prod-ack-latency-p95", "ProcessingErrorsAlarm": "responder-prod-processing-errors",
    "XRateLimitHeadroomAlarm": "responder-prod-x-rate-limit-headroom",
    "OutboxRetriesAlarm": "responder-prod-outbox-retries", "DeskErrorsAlarm": "responder-prod-desk-errors",
    "DeskConsumerSwitchAlarm": "responder-prod-desk-consumer-switch",
    "WhatsAppFailedAlarm": "responder-prod-whatsapp-failed",
    "ListeningErrorsAlarm": "responder-prod-listening-errors",
    "XSearchBudgetAlarm": "responder-prod-x-search-budget-reached",
}


def test_every_alarm_notifies_the_stacks_topic_and_says_what_to_do():
    resources = _template()["Resources"]
    runbook = (PROJECT / "docs" / "runbook.md").read_text()
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for logical_id, name in ALARMS.items():
        alarm = resources[logical_id]["Properties"]
        assert alarm["AlarmName"].replace("${Stage}", "prod") == name
        assert len(alarm["AlarmDescription"]) > 120, logical_id  # what it means and what to do
        assert f"`responder-<stage>-{name.removeprefix('responder-prod-')}`" in runbook, name  # its row there
    source = "\n".join(p.read_text() for p in (PROJECT / "chalicelib").rglob("*.py"))
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            alarm = resource["Properties"]
            stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
            for metric in stats:  # the app really emits what an alarm watches
                if metric["Namespace"] == "Responder":
                    assert f'"{metric["MetricName"]}"' in source, metric["MetricName"]
                    assert {"Name": "service", "Value": "responder"} in metric["Dimensions"]


def test_every_function_s_errors_reach_an_alarm_within_cloudwatch_s_ten_metrics():
    import app as application

    resources = _template()["Resources"]
    watched: set[str] = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        queries = resource["Properties"].get("Metrics", [])
        assert len(queries) <= 10, resource["Properties"]["AlarmName"]  # CloudWatch's limit for a metric math alarm
        for query in queries:
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("MetricName") == "Errors":
                watched.add(metric["Dimensions"][0]["Value"].replace("${Stage}", "prod"))
    functions = {f"responder-prod-{source.name}" for source in application.app.event_sources}
    assert watched == functions | {"responder-prod"}


def test_the_dashboard_shows_every_alarm_and_the_handlers_by_their_chalice_names(aws):
    import app as application

    cfn = boto3.client("cloudformation", region_name="eu-west-2")
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cfn.describe_stacks(StackName="responder-test")["Stacks"][0]["Outputs"]}
    assert outputs["DashboardName"] == "responder-local"
    assert outputs["AlarmTopicArn"].endswith(":responder-local-alarms")
    body = json.loads(boto3.client("cloudwatch", region_name="eu-west-2")
                      .get_dashboard(DashboardName="responder-local")["DashboardBody"])
    text = json.dumps(body)
    for name in ALARMS.values():
        assert f"alarm:{name.replace('-prod-', '-local-')}" in text
    functions = {f"responder-local-{source.name}" for source in application.app.event_sources}
    assert "responder-local-process_inbound" in functions and "responder-local-sla_watch" in functions
    lambda_widget = next(w for w in body["widgets"] if w["properties"].get("title") == "Lambda errors per function")
    shown = {m[3] for m in lambda_widget["properties"]["metrics"] if m[0] == "AWS/Lambda"}
    assert functions | {"responder-local"} == shown


def test_listening_runs_every_five_minutes_with_an_errors_alarm_of_its_own_and_a_read_budget_warning(aws):
    """poll_listening is a schedule of its own; its errors, and a search that crashed without stopping the others
    (ListeningSearchFailed), reach an alarm that wants a failure in each of three runs (errors per 5 minutes never
    reach ProcessingErrorsMax on a 5-minute schedule); a spent X read budget raises a warning that says what to
    change, for a day; the dashboard CloudFormation creates (moto) shows what listening queued and read."""
    from chalice.app import ScheduledEventConfig

    import app as application

    [schedule] = [s for s in application.app.event_sources
                  if isinstance(s, ScheduledEventConfig) and s.name == "poll_listening"]
    assert schedule.schedule_expression.to_string() == "rate(5 minutes)"

    resources = _template()["Resources"]  # moto's CloudFormation creates no alarms: the template as deployed
    topic = ["AlarmTopic"]
    errors = resources["ListeningErrorsAlarm"]["Properties"]
    watched = [q["MetricStat"]["Metric"] for q in errors["Metrics"] if "MetricStat" in q]
    assert [(m["MetricName"], m["Dimensions"][-1]["Value"]) for m in watched] == [
        ("Errors", "responder-${Stage}-poll_listening"), ("ListeningSearchFailed", "x"),
        ("ListeningSearchFailed", "bluesky"), ("ListeningSearchFailed", "mastodon")]
    assert {q["MetricStat"]["Period"] for q in errors["Metrics"] if "MetricStat" in q} == {300}
    assert (errors["EvaluationPeriods"], errors["DatapointsToAlarm"], errors["Threshold"]) == (3, 3, 0)
    assert errors["AlarmActions"] == topic and errors["OKActions"] == topic
    assert "/aws/lambda/responder-${Stage}-poll_listening" in errors["AlarmDescription"]

    budget = resources["XSearchBudgetAlarm"]["Properties"]
    assert (budget["Namespace"], budget["MetricName"]) == ("Responder", "XSearchBudgetReached")
    assert budget["Dimensions"] == [{"Name": "service", "Value": "responder"}]
    assert (budget["Statistic"], budget["Period"], budget["EvaluationPeriods"]) == ("Sum", 86400, 1)
    assert (budget["Threshold"], budget["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert budget["AlarmActions"] == topic and "OKActions" not in budget  # a warning: no all-clear page
    for advice in ("spend.x.read_daily_usd", "listening.terms", "listening.exclude"):
        assert advice in budget["AlarmDescription"], advice

    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-2")
    body = json.loads(cloudwatch.get_dashboard(DashboardName="responder-local")["DashboardBody"])
    [widget] = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Listening")]
    metrics = widget["properties"]["metrics"]
    assert any("ListeningPostsQueued" in m[0].get("expression", "") and "channel" in m[0]["expression"]
               for m in metrics if isinstance(m[0], dict))
    assert {m[1] for m in metrics if m[0] == "Responder"} == {"XSearchReads", "XSearchBudgetReached"}
    assert any("ListeningSearchFailed" in m[0].get("expression", "") for m in metrics if isinstance(m[0], dict))


# ------------------------------------------------------------------------------------------------ unknown routes
def test_the_gateway_response_turns_api_gateways_403_into_a_json_404(aws):
    from tools import gateway_responses

    apigw = boto3.client("apigateway", region_name="eu-west-2")
    api = apigw.create_rest_api(name="responder")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="api")

    deployment = gateway_responses.apply(apigw, api, "api")

    response = apigw.get_gateway_response(restApiId=api, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert response["statusCode"] == "404"
    assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    template = response["responseTemplates"]["application/json"]
    rendered = template.replace("$context.httpMethod", "GET").replace("$context.path", "/api/foo")
    assert json.loads(rendered) == {"error": "not_found", "message": "No such endpoint: GET /api/foo"}
    assert json.loads(rendered) == gateway_responses.not_found_body("GET", "/api/foo")
    deployments = apigw.get_deployments(restApiId=api)["items"]
    assert deployment["id"] in {d["id"] for d in deployments} and len(deployments) == 2
    assert apigw.get_stage(restApiId=api, stageName="api")["deploymentId"] == deployment["id"]


@pytest.fixture
def local_server(svc):
    """Chalice's local server as the local stack builds it, in this process, on a free port."""
    from tools.local_stack import chalice_config, create_http_server, load_app

    app = load_app()
    kind = app.__class__
    http = create_http_server(app, chalice_config("local"), "127.0.0.1", 0)
    thread = threading.Thread(target=http.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server.server_address[1]}"
    http.server.shutdown()
    http.server.server_close()
    thread.join(timeout=5)
    app.__class__ = kind  # the other tests of this process call the app as Lambda does


def test_the_local_server_answers_unknown_routes_with_the_json_404_and_logs_requests_at_debug(local_server, caplog):
    from tools.local_stack import LOG

    caplog.set_level(logging.DEBUG, logger=LOG.name)
    with requests.Session() as session:  # one connection: a refused body is read, the next request still works
        missing = session.post(local_server + "/agent/nope?x=1", json={"a": 1},
                               headers={"Authorization": "Bearer whatever"})
        assert missing.status_code == 404
        assert missing.headers["Content-Type"] == "application/json"
        assert missing.json() == {"error": "not_found", "message": "No such endpoint: POST /agent/nope"}
        assert session.get(local_server + "/foo").json()["message"] == "No such endpoint: GET /foo"
        assert session.get(local_server + "/inbox/assets/inbox.css").status_code == 200
    requests_logged = [r.getMessage() for r in caplog.records if r.name == LOG.name]
    assert any('"GET /foo HTTP/1.1" 404' in line for line in requests_logged), requests_logged
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == LOG.name)


def test_responder_log_level_sets_the_local_stacks_and_the_apps_level(monkeypatch):
    from tools.local_stack import LOG, configure_logging

    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    level, handlers, propagate = LOG.level, list(LOG.handlers), LOG.propagate
    try:
        assert configure_logging({}) == logging.INFO
        assert "POWERTOOLS_LOG_LEVEL" not in os.environ  # the app keeps the level of .chalice/config.json
        assert configure_logging({"RESPONDER_LOG_LEVEL": "debug"}) == logging.DEBUG
        assert os.environ["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        with pytest.raises(SystemExit, match="RESPONDER_LOG_LEVEL=LOUD"):
            configure_logging({"RESPONDER_LOG_LEVEL": "loud"})
    finally:
        LOG.setLevel(level)
        LOG.handlers[:] = handlers
        LOG.propagate = propagate
