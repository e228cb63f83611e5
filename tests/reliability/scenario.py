"""The reliability scenario: the twcs sample replayed through the real webhook route and the real SQS handlers on
moto, with duplicates, concurrency, injected faults, process deaths, redeliveries and a final dead-letter redrive;
then every guarantee checked (``tests.reliability.invariants``) and the app's logs searched for secrets and
status-link tokens.

    python -m tests.reliability.scenario                       # the whole sample (make reliability)
    python -m tests.reliability.scenario --events 150 --fault-rate 0.1

How it runs:
- The tweets are shifted by whole weeks (weekdays and hours kept) to autumn 2026 and sent in time order, the app's
  clock (``FixedClock``) following them; moto's SQS lives in the same time (``faults.SqsTime``), so a visibility
  timeout or a retry delay passes as the clock moves. Between two tweets, time moves in 30-second steps while
  anything waits to be redelivered, and the ``closing_time`` schedule runs after each desk closes.
- A share of the tweets is delivered again: at the same moment from another thread, or later (webhook retries and
  overlap). Webhook deliveries run in two threads (the in-process gateway takes them one at a time) while two
  "Lambda" threads take batches of 10 from the inbound and outbox queues and call the app's handlers, as the event
  source mapping does: a batch is deleted when the handler returns, left on the queue when it raises.
- Faults (``faults.FaultPlan``) at the app's AWS calls and outbound sends, at ``--fault-rate`` each; process deaths
  in ``--death-rate`` of handler invocations; a webhook answered 5xx because of an injected fault is retried.
- At the end, faults off, the dead-letter queues are redriven (``tools.admin.redrive_queue``) and drained.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.reliability import invariants
from tests.reliability.faults import (
    FaultPlan,
    LogCapture,
    MetricsRecorder,
    ProcessDeath,
    SqsTime,
    faulty_senders,
    hook_app_clients,
    serialized_moto,
)

PROJECT = Path(__file__).resolve().parents[2]
REGION = "eu-west-2"
STEP = timedelta(seconds=30)  # how far time moves at once while something waits to be redelivered
CHUNK_SPAN = timedelta(seconds=60)  # deliveries sent together, with the consumers running
CHUNK_SIZE = 20
WEBHOOK_TRIES = 10
START = datetime(2026, 10, 1, tzinfo=timezone.utc)  # the sample's first percentile lands in the week after this
SECRET_NAMES = ("X_CONSUMER_SECRET", "X_BEARER_TOKEN", "X_USER_TOKENS", "META_APP_SECRET", "META_VERIFY_TOKEN",
                "META_PAGE_TOKEN", "STATUS_LINK_KEY", "ADMIN_TOKEN")


@dataclass
class Options:
    events: int = 0  # inbound tweets of the sample, oldest first (0: all)
    first: int = 0  # from this one on (in time order)
    fault_rate: float = float(os.environ.get("RELIABILITY_FAULT_RATE", "0.05"))
    death_rate: float = float(os.environ.get("RELIABILITY_DEATH_RATE", "0.05"))
    duplicate_share: float = 0.15
    seed: int = int(os.environ.get("RELIABILITY_SEED", "20261129"))
    senders: int = 2
    consumers: int = 2
    csv: Path | None = None


@dataclass(frozen=True)
class Delivery:
    at: datetime
    row: Any  # tools.replay.Row
    copy: str  # original | concurrent | late


@dataclass
class Result:
    figures: dict[str, Any] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        f = self.figures
        lines = [
            f"events: {f['tweets']} tweets, {f['deliveries']} webhook deliveries ({f['duplicates']} duplicates: "
            f"{f['duplicates_concurrent']} concurrent, {f['duplicates_late']} later), {f['webhook_retries']} "
            f"retried after a 5xx caused by an injected fault",
            f"webhook answers: {f['answers_200']} x 200, {f['answers_5xx_injected']} x 5xx from injected faults, "
            f"{f['answers_5xx_other']} x 5xx otherwise, {f['answers_4xx']} x 4xx",
            f"faults injected: {sum(v for k, v in self.faults.items() if not k.startswith('death'))}",
        ]
        lines += [f"  {kind:58} {n}" for kind, n in sorted(self.faults.items()) if not kind.startswith("death")]
        lines += [f"process deaths: {f['deaths']}"]
        lines += [f"  {kind:58} {n}" for kind, n in sorted(self.faults.items()) if kind.startswith("death")]
        lines += [
            f"handler invocations: {f['invocations']} ({f['handler_errors']} raised after a partial failure, "
            f"{f['deaths']} died); records redelivered: {f['redeliveries']}",
            f"closing-time runs: {f['closing_runs']} ({f['closing_failed']} failed and ran again)",
            f"dead-letter redrive: {f['redriven_inbound']} from responder-inbound-dlq, {f['redriven_outbox']} from "
            f"responder-outbox-dlq",
            f"stored: {f['stored_and_processed']} of {f['accepted']} accepted mentions; tickets: {f['tickets']} "
            f"({f['tickets_merged']} merged), {f['customers_with_tickets']} customers; announced to desks: "
            f"{f['tickets_announced']} ({f['tickets_announced_again']} more than once: at least once, consumers "
            f"dedupe on (ticket_id, event, at))",
            f"acknowledgements: {f['acknowledgements']} ({f['customers_acknowledged']} customers); sends reaching a "
            f"platform: {f['platform_sends']}; parked for a person (outcome unknown): {f['outbox_dlq_outcome_unknown']}"
            f" ({f['outcome_unknown_had_reached']} of them had reached the platform); outbox DLQ left: "
            f"{f['outbox_dlq']}, inbound DLQ left: {f['inbound_dlq']}",
            f"logs checked: {f['log_records']} records, {f['stdout_lines']} stdout lines; {f['status_tokens']} "
            f"status tokens and {len(SECRET_NAMES)} secrets searched",
            f"simulated time: {f['simulated_days']:.1f} days; wall time {f['seconds']:.0f} s ("
            + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in self.seconds.items()) + ")",
            f"invariant violations: {len(self.violations)}",
        ]
        lines += [f"  VIOLATION {v}" for v in self.violations[:50]]
        if len(self.violations) > 50:
            lines.append(f"  ... and {len(self.violations) - 50} more")
        return "\n".join(lines)


def lambda_sqs_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    from tests.conftest import lambda_sqs_event as event

    return event(messages, queue)


class Scenario:
    def __init__(self, svc: Any, client: Any, clock: Any, options: Options,
                 progress: Callable[[str], None] = lambda line: None):
        import boto3

        from tools.replay import DEFAULT_CSV, inbound, read_rows

        self.svc, self.client, self.clock, self.options = svc, client, clock, options
        self.progress = progress
        self.sqs = boto3.client("sqs", region_name=REGION)  # the event source mapping's and the operator's client
        rows = inbound(read_rows(options.csv or DEFAULT_CSV))
        self.rows = rows[options.first:options.first + options.events] if options.events else rows[options.first:]
        # anchored on the whole sample's first percentile (as tools.replay does): its few 2011 and 2016 tweets
        # arrive late, at the start, instead of pushing the 2017 traffic years ahead
        anchor = sorted(r.created_at for r in rows)[len(rows) // 100]
        self.plan = FaultPlan(options.fault_rate, options.death_rate, seed=options.seed)
        self.rng = random.Random(options.seed + 1)
        self.metrics = MetricsRecorder()
        self.logs = LogCapture()
        self.shift = timedelta(weeks=math.ceil((START - anchor) / timedelta(weeks=1)))
        self.start = max(anchor, min(r.created_at for r in self.rows)) + self.shift - timedelta(seconds=1)
        self.sqs_time = SqsTime(self.start)
        self.stats: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)  # wall time per phase
        self.handler_errors: Counter[str] = Counter()
        self.accepted: set[str] = set()
        self.violations: list[str] = []
        self._time_lock = threading.Lock()
        self._route_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._closing_at: datetime | None = None
        self._closing_retries = 0
        self._urls: dict[str, str] = {}
        import app as application

        self.handlers = application.app.handler_map

    # ------------------------------------------------------------------ time
    def move_to(self, t: datetime) -> None:
        with self._time_lock:
            now = self.clock.now()
            if t > now:
                self.clock.set(t)
                self.sqs_time.advance((t - now).total_seconds())

    def now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    def _note(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    def _violation(self, message: str) -> None:
        with self._stats_lock:
            self.violations.append(message)

    # ------------------------------------------------------------------ queues
    def url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def consume_once(self, handler_name: str, queue: str) -> int:
        """One receive and one handler invocation, as the event source mapping does."""
        from tests.conftest import LambdaContext

        batch = self.sqs.receive_message(QueueUrl=self.url(queue), MaxNumberOfMessages=10,
                                         AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return 0
        self._note("invocations")
        self._note("redeliveries", sum(1 for m in batch if int(m["Attributes"]["ApproximateReceiveCount"]) > 1))
        try:
            with self.plan.invocation():
                self.handlers[handler_name](lambda_sqs_event(batch, queue), LambdaContext())
        except ProcessDeath:
            self._note("deaths")
            return len(batch)  # nothing more is deleted: the batch comes back after its visibility timeout
        except Exception:
            with self._stats_lock:
                self.handler_errors[queue] += 1  # the successful records were deleted by the handler
            return len(batch)
        self.sqs.delete_message_batch(QueueUrl=self.url(queue), Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])
        return len(batch)

    def drain_round(self) -> int:
        return (self.consume_once("process_inbound", self.svc.settings.inbound_queue)
                + self.consume_once("deliver_outbox", self.svc.settings.outbox_queue))

    def drain(self) -> None:
        while self.drain_round():
            pass

    def pending(self) -> int:
        """Messages on the inbound and outbox queues, visible or not yet."""
        total = 0
        for queue in (self.svc.settings.inbound_queue, self.svc.settings.outbox_queue):
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.url(queue), AttributeNames=["All"])["Attributes"]
            total += sum(int(attributes.get(name, 0)) for name in (
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"))
        return total

    # ------------------------------------------------------------------ the closing-time schedule
    def _next_closing_run(self, now: datetime) -> datetime | None:
        calendar, closings = self.svc.calendar, []
        for desk in self.svc.config.desk_ids:
            opening = calendar.next_opening(desk, now)
            closing = calendar.next_closing(desk, opening) if opening is not None else None
            if closing is not None:
                closings.append(closing)
        if not closings:
            return None
        first: datetime = min(closings)
        return first + timedelta(minutes=5 - first.minute % 5, seconds=-first.second,
                                 microseconds=-first.microsecond)

    def run_closing_time(self) -> None:
        from tests.conftest import LambdaContext
        from tools.local_stack import scheduled_event

        self._note("closing_runs")
        started = time.monotonic()
        try:
            with self.plan.invocation():
                self.handlers["closing_time"](scheduled_event("closing_time"), LambdaContext())
        except (ProcessDeath, Exception) as exc:
            if isinstance(exc, ProcessDeath):
                self._note("deaths")
            self._note("closing_failed")
            if self._closing_retries < 5 and self._closing_at is not None:  # the schedule runs again in 5 minutes
                self._closing_retries += 1
                self._closing_at += timedelta(minutes=5)
                self.seconds["closing time"] += time.monotonic() - started
                return
        self.seconds["closing time"] += time.monotonic() - started
        self._closing_retries = 0
        self._closing_at = self._next_closing_run(self.now() + timedelta(seconds=1))

    # ------------------------------------------------------------------ moving on
    def advance_to(self, target: datetime) -> None:
        """Let time pass until ``target``: consumers poll all along, redeliveries and retries come due, the
        closing-time schedule runs after each desk closes."""
        while True:
            self.drain()
            now = self.now()
            if self._closing_at is not None and now >= self._closing_at:
                self.run_closing_time()
                continue
            if now >= target:
                return
            step = target
            if self.pending():
                step = min(step, now + STEP)
            if self._closing_at is not None:
                step = min(step, self._closing_at)
            self.move_to(step)

    def settle(self, limit: timedelta = timedelta(days=2)) -> None:
        """Time passes until nothing waits on the inbound and outbox queues."""
        deadline = self.now() + limit
        while True:
            self.advance_to(self.now())
            if not self.pending():
                return
            if self.now() >= deadline:
                self._violation(f"queues still busy {limit} after the last event: {self.pending()} messages")
                return
            self.move_to(self.now() + STEP)

    # ------------------------------------------------------------------ webhooks
    def post(self, delivery: Delivery) -> None:
        from chalicelib.channels import x as x_channel
        from tools.replay import LOCAL_BRAND_ID, LOCAL_SECRET, signed, webhook_payload

        self.move_to(delivery.at)
        payload = webhook_payload(delivery.row, brand_id=LOCAL_BRAND_ID, shift=self.shift)
        keys = {m.key for m in x_channel.parse(payload, brand_id=LOCAL_BRAND_ID)}
        body, headers = signed(payload, LOCAL_SECRET)
        for attempt in range(WEBHOOK_TRIES):
            faults_before = self.plan.faults_in_this_thread()
            with self._route_lock:  # the in-process gateway serves one request at a time
                response = self.client.http.post("/webhooks/x", body=body, headers=headers)
            status = response.status_code
            self._note("deliveries")
            if attempt:
                self._note("webhook_retries")
            if status == 200 and response.json_body.get("accepted") == len(keys):
                self._note("answers_200")
                with self._stats_lock:
                    self.accepted |= keys
                return
            if status >= 500 and self.plan.faults_in_this_thread() > faults_before:
                self._note("answers_5xx_injected")
                continue  # X delivers again
            self._note("answers_5xx_other" if status >= 500 else "answers_4xx")
            self._violation(f"tweet {delivery.row.tweet_id}: webhook answered {status} without an injected fault: "
                            f"{response.body[:200]!r}")
            return
        self._violation(f"tweet {delivery.row.tweet_id}: not accepted after {WEBHOOK_TRIES} deliveries")

    def deliveries(self) -> list[Delivery]:
        out: list[Delivery] = []
        for row in self.rows:
            at = max(self.start, row.created_at + self.shift)
            out.append(Delivery(at, row, "original"))
            if self.rng.random() < self.options.duplicate_share:
                for _ in range(self.rng.randint(1, 3)):
                    if self.rng.random() < 0.5:
                        out.append(Delivery(at, row, "concurrent"))
                    else:
                        out.append(Delivery(at + timedelta(seconds=self.rng.uniform(1, 1800)), row, "late"))
        return sorted(out, key=lambda d: (d.at, d.copy != "original"))

    def chunks(self, deliveries: list[Delivery]) -> Iterator[list[Delivery]]:
        chunk: list[Delivery] = []
        for delivery in deliveries:
            if chunk and (delivery.at - chunk[0].at > CHUNK_SPAN or len(chunk) >= CHUNK_SIZE):
                yield chunk
                chunk = []
            chunk.append(delivery)
        if chunk:
            yield chunk

    def run_chunk(self, pool: ThreadPoolExecutor, chunk: list[Delivery]) -> None:
        """Send the chunk's deliveries from ``senders`` threads while ``consumers`` threads process."""
        sent = threading.Event()

        def consumer() -> None:
            idle = 0
            while idle < 2:
                if self.drain_round():
                    idle = 0
                elif sent.is_set():
                    idle += 1
                else:
                    time.sleep(0.002)

        def senders() -> None:
            try:
                list(inner.map(self.post, chunk))
            finally:
                sent.set()

        with ThreadPoolExecutor(self.options.senders) as inner:
            futures = [pool.submit(consumer) for _ in range(self.options.consumers)]
            senders()
            for future in futures:
                future.result()

    # ------------------------------------------------------------------ the run
    def run(self) -> Result:
        started = time.monotonic()
        self.clock.set(self.start)
        self._closing_at = self._next_closing_run(self.start)
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.sqs_time.installed())
            stack.enter_context(serialized_moto())
            stack.enter_context(self.metrics.installed())
            stack.enter_context(self.logs.installed())
            stack.callback(hook_app_clients(self.svc, self.plan))
            reached, undo_senders = faulty_senders(self.svc, self.plan)
            stack.callback(undo_senders)
            deliveries = self.deliveries()
            copies = Counter(d.copy for d in deliveries)
            self.stats.update({"tweets": len(self.rows), "duplicates": len(deliveries) - copies["original"],
                               "duplicates_concurrent": copies["concurrent"], "duplicates_late": copies["late"]})
            with ThreadPoolExecutor(max(1, self.options.consumers)) as pool:
                for n, chunk in enumerate(self.chunks(deliveries)):
                    mark = time.monotonic()
                    self.advance_to(chunk[0].at)
                    self.seconds["time passing (redeliveries, retries, schedules)"] += time.monotonic() - mark
                    mark = time.monotonic()
                    try:
                        self.run_chunk(pool, chunk)
                        self.seconds["webhooks with concurrent processing"] += time.monotonic() - mark
                    except Exception:  # a harness failure is reported, never mistaken for a pass
                        self._violation(f"the scenario itself failed: {traceback.format_exc(limit=5)}")
                        break
                    if n % 25 == 0:
                        self.progress(f"{self.now():%Y-%m-%d %H:%M} {self.stats['answers_200']} of "
                                      f"{len(deliveries)} deliveries accepted, {self.stats['deaths']} deaths, "
                                      f"{sum(self.plan.counts.values())} faults, {time.monotonic() - started:.0f}s")
            mark = time.monotonic()
            self.settle()
            self.plan.enabled = False  # the cause is fixed: the operator redrives the dead-letter queues
            self.progress(f"faults off; redriving the dead-letter queues at {self.now():%Y-%m-%d %H:%M}")
            from tools.admin import redrive_queue

            settings = self.svc.settings
            self.stats["redriven_inbound"] = redrive_queue(self.sqs, settings.inbound_queue)
            self.stats["redriven_outbox"] = redrive_queue(self.sqs, settings.outbox_queue)
            self.settle()
            self.seconds["settling and the redrive"] += time.monotonic() - mark
            mark = time.monotonic()
            findings = invariants.check(self.svc, self.sqs, invariants.Observed(
                accepted=set(self.accepted), sends=reached, metrics=self.metrics.counts,
                handler_errors=self.handler_errors))
        self.seconds["invariant checks"] += time.monotonic() - mark
        return self._result(findings, reached, started)

    def _result(self, findings: invariants.Findings, reached: Counter[str], started: float) -> Result:
        from tests.conftest import LOCAL_ENV

        tokens = invariants.status_tokens(self.svc, findings.ticket_ids)
        secrets = {name: LOCAL_ENV[name] for name in SECRET_NAMES if LOCAL_ENV.get(name)}
        log_violations = invariants.check_logs(self.logs.text, secrets=secrets, tokens=tokens,
                                               where="the app's logs")
        stdout = self.logs.stdout.getvalue().splitlines()
        console = [line for line in stdout if line.startswith("[outbox] ")]  # the sandbox's console (stage local)
        other = [line for line in stdout if not line.startswith("[outbox] ")]
        log_violations += invariants.check_logs("\n".join(other), secrets=secrets, tokens=tokens,
                                                where="the app's standard output")
        log_violations += invariants.check_logs("\n".join(console), secrets=secrets, tokens=None,
                                                where="the sandbox console")  # it shows the status link by design
        result = Result(faults=Counter(self.plan.counts), seconds=dict(self.seconds),
                        violations=self.violations + findings.violations + log_violations)
        result.figures.update(findings.figures)
        result.figures.update(self.stats)
        result.figures.update({
            "deaths": sum(n for kind, n in self.plan.counts.items() if kind.startswith("death")),
            "handler_errors": sum(self.handler_errors.values()),
            "platform_sends": sum(reached.values()), "log_records": self.logs.records, "stdout_lines": len(stdout),
            "status_tokens": len(tokens), "seconds": time.monotonic() - started,
            "simulated_days": (self.now() - self.start).total_seconds() / 86400,
        })
        for key in ("answers_200", "answers_5xx_injected", "answers_5xx_other", "answers_4xx", "webhook_retries",
                    "redeliveries", "closing_runs", "closing_failed", "invocations"):
            result.figures.setdefault(key, 0)
        return result


# ---------------------------------------------------------------------- as a command
@contextlib.contextmanager
def local_aws() -> Iterator[tuple[Any, Any, Any]]:
    """What tests/conftest.py's ``aws``, ``svc`` and ``client`` fixtures set up: moto in-process with the stack
    created from infra/template.yaml through CloudFormation, the services of stage local against it, the real app
    through chalice.test.Client. Yields (services, client, clock)."""
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.clock import FixedClock
    from chalicelib.configfile import load_config
    from chalicelib.settings import Secrets, Settings
    from tests.conftest import LOCAL_ENV
    from tools.local_agents import create_pool

    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Responder",
                       "POWERTOOLS_LOG_LEVEL": "WARNING", **LOCAL_ENV})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            cfn = boto3.client("cloudformation", region_name=REGION)
            cfn.create_stack(StackName="responder-test", TemplateBody=(PROJECT / "infra" / "template.yaml").read_text(),
                             Parameters=[{"ParameterKey": "Stage", "ParameterValue": "local"}])
            settings = Settings.from_env({**LOCAL_ENV, "PUBLIC_BASE_URL": "https://help.example.test"})
            pool = create_pool(boto3.client("cognito-idp", region_name=REGION),
                               load_config(settings.config_path).team_ids)
            settings = settings.model_copy(update={"agent_pool_id": pool["AGENT_POOL_ID"],
                                                   "agent_client_id": pool["AGENT_CLIENT_ID"]})
            clock = FixedClock(START)
            services = bootstrap.build(settings, clock=clock, secrets=Secrets(settings, env=LOCAL_ENV))
            bootstrap.use(services)
            import app as application

            try:
                with Client(application.app, stage_name="local", project_dir=str(PROJECT)) as client:
                    yield services, client, clock
            finally:
                bootstrap.use(None)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--events", type=int, default=0, help="inbound tweets, oldest first (0: the whole sample)")
    parser.add_argument("--first", type=int, default=0, help="start at this inbound tweet (in time order)")
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate,
                        help="chance that one AWS call or send fails (RELIABILITY_FAULT_RATE)")
    parser.add_argument("--death-rate", type=float, default=defaults.death_rate,
                        help="chance that one handler invocation dies (RELIABILITY_DEATH_RATE)")
    parser.add_argument("--duplicates", type=float, default=defaults.duplicate_share,
                        help="share of tweets delivered more than once")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = Options(events=args.events, first=args.first, fault_rate=args.fault_rate, death_rate=args.death_rate,
                      duplicate_share=args.duplicates, seed=args.seed, csv=args.csv)
    out = sys.stdout

    def progress(line: str) -> None:
        print(line, file=out, flush=True)

    import logging
    import warnings

    # what pytest.ini filters for the tests: moto's notes on template resources it does not model (Cognito, alarms)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS", category=UserWarning)
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    with local_aws() as (svc, client, clock):
        result = Scenario(svc, client, clock, options, progress=progress).run()
    print(result.summary(), file=out, flush=True)
    if args.json:
        args.json.write_text(json.dumps({"figures": result.figures, "faults": dict(result.faults),
                                         "violations": result.violations}, indent=2, default=str))
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
