"""AWS calls, DynamoDB units, log bytes and time per scenario, end to end (webhook + process + deliver), through
the real Chalice routes and SQS handlers on moto in-process with the stack created from infra/template.yaml.

Scenarios, each for a customer of its own, repeated ``rounds`` times after one warm-up round (a warm Lambda:
queue URLs looked up, the brand config loaded, the agents' JWKS fetched):
- ``new_out_of_hours_complaint``: Sunday 03:00, a first complaint: stored, ticket, desk message, one
  acknowledgement, delivered;
- ``duplicate``: X delivers that webhook again (same tweet);
- ``chase``: the same customer writes again while the ticket is open (joins it, no second acknowledgement);
- ``new_in_hours_complaint``: Monday 10:00, desks open: ticket and desk message, nothing sent;
- ``agent_reply``: an agent's reply to that ticket through ``POST /agent/tickets/{id}/reply``, then delivered.
The Lambda event source mapping's own ReceiveMessage and DeleteMessageBatch are not counted as the app's calls
(the cost model adds them), nor is the sandbox sender's record of what it "sent": it stands in for the platform's
API, an HTTPS call in production.
"""
from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from bench import costs
from bench.meter import Meter, Usage

# Round n runs n weeks after these (no bank holiday in those weeks): the app's clock only moves forward, as a real
# one does, so the outbound rate (GCRA, ADR 0015) and the spend budget see time as production does.
SUNDAY_NIGHT = datetime(2027, 2, 7, 3, 0, tzinfo=timezone.utc)
MONDAY_MORNING = datetime(2027, 2, 8, 10, 0, tzinfo=timezone.utc)
SCENARIOS = ("new_out_of_hours_complaint", "new_in_hours_complaint", "duplicate", "chase", "agent_reply")
PHASES = ("webhook", "process", "deliver")
JSON_HEADERS = {"Content-Type": "application/json"}


def complaints(config: Any, limit: int) -> list[str]:
    """Texts of first contacts of the twcs sample that triage takes for acknowledged complaints."""
    from chalicelib.domain.triage import triage
    from tools.replay import inbound, read_rows

    texts = []
    for row in inbound(read_rows()):
        if row.in_reply_to:
            continue
        result = triage(row.text, channel="x", config=config)
        if result.intent == "complaint" and result.acknowledge and not result.urgent:
            texts.append(row.text)
        if len(texts) >= limit:
            break
    return texts


class Harness:
    """The real routes and handlers, the meter around the app's own work only."""

    def __init__(self, svc: Any, client: Any, clock: Any, meter: Meter):
        import boto3

        import app as application

        self.svc, self.client, self.clock, self.meter = svc, client, clock, meter
        self.handlers = application.app.handler_map
        self.sqs = boto3.client("sqs", region_name=costs.REGION)
        self.urls: dict[str, str] = {}
        self.errors: list[str] = []
        # the sandbox sender stands in for the platform's API (an HTTPS call in production, no AWS call): what it
        # stores to show what was "sent" is the platform's side, not the app's
        record = svc.sandbox.record

        def record_as_the_platform(*args: Any, **kwargs: Any) -> None:
            with self.outside():
                record(*args, **kwargs)

        svc.sandbox.record = record_as_the_platform

    @contextlib.contextmanager
    def outside(self) -> Iterator[None]:
        """Calls the harness makes (the event source mapping's, the test's) are not the app's."""
        usage = self.meter.usage()
        try:
            yield
        finally:
            self.meter.usage()
            self.meter._usage = usage

    def url(self, queue: str) -> str:
        if queue not in self.urls:
            self.urls[queue] = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return self.urls[queue]

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[Any, float]:
        started = time.perf_counter()
        response = self.client.http.post(path, body=body, headers=headers)
        return response, time.perf_counter() - started

    def drain(self, handler: str, queue: str) -> tuple[int, float]:
        """Feed the queue to the handler in batches of one (one Lambda invocation per message); returns
        (invocations, seconds inside the handler)."""
        from tests.conftest import LambdaContext, lambda_sqs_event

        invocations, seconds = 0, 0.0
        while True:
            with self.outside():
                batch = self.sqs.receive_message(QueueUrl=self.url(queue), MaxNumberOfMessages=1,
                                                 AttributeNames=["All"]).get("Messages", [])
            if not batch:
                return invocations, seconds
            started = time.perf_counter()
            try:
                self.handlers[handler](lambda_sqs_event(batch, queue), LambdaContext())
            except Exception as exc:  # as Lambda: the message comes back after its visibility timeout
                self.errors.append(f"{handler}: {type(exc).__name__}: {str(exc)[:200]}")
                seconds += time.perf_counter() - started
                invocations += 1
                continue
            seconds += time.perf_counter() - started
            invocations += 1
            with self.outside():
                self.sqs.delete_message_batch(QueueUrl=self.url(queue), Entries=[
                    {"Id": "0", "ReceiptHandle": batch[0]["ReceiptHandle"]}])

    def purge_desks(self) -> None:
        """Desk queues are the teams' to consume: emptied between rounds so that no queue grows (and whatever a
        failed handler left on the inbound or outbox queue)."""
        settings = self.svc.settings
        with self.outside():
            for queue in [self.svc.config.queue_name(d) for d in self.svc.config.desk_ids] + [
                    settings.inbound_queue, settings.outbox_queue]:
                empty_queue(self.sqs, self.url(queue))


def empty_queue(sqs: Any, url: str) -> int:
    """Receive and delete until nothing is visible (PurgeQueue may run only once a minute)."""
    removed = 0
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return removed
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        removed += len(batch)


def tweet(tweet_id: str, text: str, user_id: str, at: datetime) -> tuple[bytes, dict[str, str]]:
    from tests.helpers import tweet_event, x_body, x_headers

    body = x_body(tweet_event(tweet_id, text, user_id=user_id, at=at))
    return body, x_headers(body)


def run(rounds: int = 5) -> dict[str, Any]:
    from tests.reliability.faults import LogCapture
    from tests.reliability.scenario import local_aws

    meter = Meter()
    with local_aws() as (svc, client, clock), meter.installed():
        harness = Harness(svc, client, clock, meter)
        texts = complaints(svc.config, rounds + 1)
        logs = LogCapture()
        with logs.installed():
            with harness.outside():
                amira = client.http.post("/agent/sign-in", headers=JSON_HEADERS,
                                         body=json.dumps({"username": "amira", "password": "Amira-local-1"}))
                auth = {"Authorization": f"Bearer {amira.json_body['token']}", **JSON_HEADERS}
            samples: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
            for n in range(rounds + 1):
                one = _round(harness, logs, texts[n % len(texts)], n, auth)
                if n:  # round 0 warms the container
                    for name, figures in one.items():
                        samples[name].append(figures)
                harness.purge_desks()
        bare = _bare_call_seconds(harness)
    summary = summarise(samples, bare)
    summary["handler_errors"] = len(harness.errors)
    summary["handler_error_examples"] = sorted(set(harness.errors))[:3]
    return summary


def _round(h: Harness, logs: Any, text: str, n: int, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    night_user, day_user = f"71{n:04d}", f"72{n:04d}"

    def measured(name: str, webhook: Callable[[], tuple[Any, float]] | None, api_requests: int = 1) -> None:
        phases: dict[str, dict[str, Any]] = {}
        sent_before = len(h.svc.sandbox.recent(limit=100_000))
        h.meter.usage()
        log_start = len(logs.text)
        response, seconds = webhook() if webhook else (None, 0.0)
        assert response is None or response.status_code in (200, 202), response.body
        phases["webhook"] = _phase(h.meter.usage(), seconds, 1)
        invocations, seconds = h.drain("process_inbound", h.svc.settings.inbound_queue)
        phases["process"] = _phase(h.meter.usage(), seconds, invocations)
        invocations, seconds = h.drain("deliver_outbox", h.svc.settings.outbox_queue)
        phases["deliver"] = _phase(h.meter.usage(), seconds, invocations)
        with h.outside():
            sent = h.svc.sandbox.recent(limit=100_000)[: max(0, len(h.svc.sandbox.recent(limit=100_000))
                                                            - sent_before)]
        out[name] = {"phases": phases, "api_requests": api_requests,
                     "log_bytes": len(logs.text.encode()) - len(logs.text[:log_start].encode()),
                     "sent": [{"channel": m.get("channel"), "kind": str(m.get("idempotency_key", "")).split("#")[0],
                               "has_url": "http" in str(m.get("text", ""))} for m in sent]}

    # Sunday 03:00: a new complaint, the same webhook again, a chase
    h.clock.set(SUNDAY_NIGHT + timedelta(weeks=n))
    first = tweet(f"90{n:04d}1", text, night_user, h.clock.now())
    measured("new_out_of_hours_complaint", lambda: h.post("/webhooks/x", *first))
    measured("duplicate", lambda: h.post("/webhooks/x", *first))
    h.clock.advance(seconds=30)
    chase = tweet(f"90{n:04d}2", "@MeridianRail still waiting for an answer, any update?", night_user, h.clock.now())
    measured("chase", lambda: h.post("/webhooks/x", *chase))
    # Monday 10:00: a new complaint while the desk is open, then an agent's reply to it
    h.clock.set(MONDAY_MORNING + timedelta(weeks=n))
    day = tweet(f"90{n:04d}3", text, day_user, h.clock.now())
    measured("new_in_hours_complaint", lambda: h.post("/webhooks/x", *day))
    with h.outside():
        customer_id = h.svc.customers.lookup(f"x#{day_user}")
        [ticket] = h.svc.tickets.for_customer(customer_id)
        ticket_id = ticket.ticket_id
        claimed = h.client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=auth)
        assert claimed.status_code == 200, claimed.body
    reply = json.dumps({"text": "Sorry to hear that - which service were you on?", "request_id": f"bench-{n}"})
    measured("agent_reply", lambda: h.post(f"/agent/tickets/{ticket_id}/reply", reply.encode(), auth))
    with h.outside():
        h.client.http.post(f"/agent/tickets/{ticket_id}/resolve", body="{}", headers=auth)
    return out


def _phase(usage: Usage, seconds: float, invocations: int) -> dict[str, Any]:
    return {"usage": usage, "seconds": seconds, "invocations": invocations}


def _bare_call_seconds(h: Harness, n: int = 200) -> float:
    """One bare moto call (PutItem and SendMessage alternately) in this process: the floor under each AWS call."""
    import boto3

    ddb = boto3.client("dynamodb", region_name=costs.REGION)
    url = h.sqs.create_queue(QueueName="bench-bare")["QueueUrl"]
    samples = []
    for i in range(n):
        started = time.perf_counter()
        if i % 2:
            h.sqs.send_message(QueueUrl=url, MessageBody="x" * 600)
        else:
            ddb.put_item(TableName=h.svc.settings.state_table, Item={"pk": {"S": f"bench#{i}"}, "sk": {"S": "x"}})
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def summarise(samples: dict[str, list[dict[str, Any]]], bare_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, runs in samples.items():
        if not runs:
            continue
        usage = Usage()
        per_phase: dict[str, Any] = {}
        seconds = invocations = 0.0
        app_seconds = 0.0
        for phase in PHASES:
            phase_usage = Usage()
            phase_seconds = phase_invocations = 0.0
            for run in runs:
                phase_usage.add(run["phases"][phase]["usage"])
                phase_seconds += run["phases"][phase]["seconds"]
                phase_invocations += run["phases"][phase]["invocations"]
            k = len(runs)
            calls = phase_usage.total_calls() / k
            per_phase[phase] = {"aws_calls": round(calls, 2), "wru": round(phase_usage.wru / k, 2),
                                "rru": round(phase_usage.rru / k, 2),
                                "calls_by_operation": {op: round(c / k, 2) for op, c in
                                                       sorted(phase_usage.calls.items())}}
            usage.add(phase_usage)
            seconds += phase_seconds / k
            invocations += phase_invocations / k
            app_seconds += max(0.0, phase_seconds / k - calls * bare_seconds)
        k = len(runs)
        calls = usage.total_calls() / k
        sqs_app = usage.total_calls("sqs") / k
        consumed = (sum(r["phases"]["process"]["invocations"] + r["phases"]["deliver"]["invocations"] for r in runs)
                    / k)
        sent = [m for r in runs for m in r["sent"]]
        x_posts = sum(1 for m in sent if m["channel"] == "x" and not m["has_url"]) / k
        x_url_posts = sum(1 for m in sent if m["channel"] == "x" and m["has_url"]) / k
        measured = {
            "lambda_invocations": invocations, "lambda_seconds": costs.lambda_seconds(app_seconds, round(calls)),
            "wru": usage.wru / k, "rru": usage.rru / k,
            "sqs_requests": sqs_app + consumed * costs.ASSUMPTIONS["sqs_consumer_requests_per_message"],
            "api_requests": runs[0]["api_requests"],
            "log_bytes": statistics.mean(r["log_bytes"] for r in runs)
            + invocations * costs.ASSUMPTIONS["lambda_platform_log_bytes_per_invocation"],
            "x_posts": x_posts, "x_posts_with_url": x_url_posts,
        }
        out[name] = {
            "aws_calls": round(calls, 2), "dynamodb_wru": round(usage.wru / k, 2),
            "dynamodb_rru": round(usage.rru / k, 2),
            "moto_reported_capacity_units": round(usage.moto_reported_capacity / k, 2),
            "calls_by_operation": {op: round(c / k, 2) for op, c in sorted(usage.calls.items())},
            "phases": per_phase, "lambda_invocations": round(invocations, 2),
            "in_process_seconds": round(seconds, 4),
            "in_process_over_bare_calls": round(seconds / max(1e-9, calls * bare_seconds), 2) if calls else None,
            "log_bytes": round(measured["log_bytes"]), "sent": {"x_posts": x_posts, "x_posts_with_url": x_url_posts},
            "cost_per_million": costs.per_million(measured),
        }
    return {"rounds": len(next(iter(samples.values()))), "bare_call_ms": round(bare_seconds * 1000, 3),
            "scenarios": out}
