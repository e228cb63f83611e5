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
- The ``dispatch_outbox`` schedule runs every app minute while anything waits in the waiting room (a run with the
  room empty does nothing), through ``app.handler_map`` as Lambda calls it, faults and deaths included; what waits
  there counts as pending, so time passes until the room is empty too. Each run is checked against the room's
  order: no message left waiting ahead of one the run took.
- After the sample, the fault cases one at a time (``fault_cases``): an inline send that reached the platform and
  timed out, then a redrive of the outbox dead-letter queue; taking the allowance failing and releasing the ticket's
  lease failing too; an inline send cut off mid-call, resumed; a customer's message joining their unacknowledged
  case out of hours; a post whose key is too long for the store.
- Then a burst (``burst``): a few hundred first contacts written within ten minutes before 03:00 and posted at once
  through the webhook route, complaints naming a declared incident and a few urgent ones, the outbound rate low
  (``burst_rate`` a minute), faults on: most acknowledgements wait for a slot of the rate.
- At the end, faults off, the dead-letter queues are redriven (``tools.admin.redrive_queue``) and drained; no key
  may be sent again by the redrive (``invariants.check_redrive``).
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
OWN_IDS = 9_100_000_000_000_000_000  # the harness's own posts (fault cases, the burst): ids no sample tweet has
COMPLAINT = ("@MeridianRail signal failure at Reading again: my {hhmm} to Paddington is cancelled and there is no "
             "replacement bus, awful #{n}")
URGENT = "@MeridianRail we are stranded at Didcot after the signal failure, no trains and no staff #{n}"
PASSED_ON = "RT @railfan: the sunrise over the viaduct this morning @MeridianRail #{n}"
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
    burst: int = 300  # first contacts posted at once at 03:00 after the sample (0: no burst)
    burst_rate: int = 30  # the outbound rate (sends a minute) from the burst on
    fault_cases: bool = True  # the targeted fault cases after the sample


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
            f"closing-time runs: {f['closing_runs']} ({f['closing_failed']} failed and ran again); dispatch_outbox "
            f"runs: {f['dispatch_runs']} ({f['dispatch_failed']} failed or died), {f['dispatch_checked']} checked "
            f"against the waiting room's order",
            f"dead-letter redrive: {f['redriven_inbound']} from responder-inbound-dlq, {f['redriven_outbox']} from "
            f"responder-outbox-dlq",
            f"stored: {f['stored_and_processed']} of {f['accepted']} accepted mentions; tickets: {f['tickets']} "
            f"({f['tickets_merged']} merged), {f['customers_with_tickets']} customers; announced to desks: "
            f"{f['tickets_announced']} ({f['tickets_announced_again']} more than once: at least once, consumers "
            f"dedupe on (ticket_id, event, at))",
            f"acknowledgements: {f['acknowledgements']} ({f['customers_acknowledged']} customers); sends reaching a "
            f"platform: {f['platform_sends']}; outbox DLQ left: {f['outbox_dlq']} ({f['outbox_dlq_outcome_unknown']} "
            f"of unknown outcome, {f['outcome_unknown_had_reached']} of them had reached the platform), inbound DLQ "
            f"left: {f['inbound_dlq']}",
            f"decided acknowledgements: {f['acks_decided']} = {f['acks_sent']} sent + {f['acks_expired']} expired + "
            f"{f['acks_parked']} parked for a person + {f['acks_left_waiting']} still waiting or queued; "
            f"{f['acks_that_waited']} of them waited for a slot of the rate",
        ]
        lines += [f"  parked because {key.split(': ', 1)[1]}: {n}" for key, n in sorted(f.items())
                  if key.startswith("acks_parked: ")]
        if f.get("burst"):
            lines.append(
                f"burst at {f['burst_at']}: {f['burst']} first contacts ({f['burst_urgent']} urgent) posted at once "
                f"at {f['burst_rate']} sends a minute; their acknowledgements: {f['burst_decided']} decided, "
                f"{f['burst_sent_inline']} sent at once, {f['burst_waited']} waited, {f['burst_sent']} sent (the "
                f"last {f['burst_last_sent_after']} s after the burst), {f['burst_expired']} expired when the team "
                f"was back, {f['burst_parked']} parked; order: {f.get('burst_order_pairs', 0)} pairs of waiting "
                f"acknowledgements checked, {f.get('burst_order_wrong', 0)} sent out of the waiting room's order "
                f"({f.get('burst_order_left_out', 0)} acknowledgements left out: a fault met their send, or their "
                f"outbox message came back)")
        lines += [f"fault case: {case}: {outcome}" for case, outcome in f.get("fault_cases", {}).items()]
        lines += [
            f"redrive: {f['sent_after_the_redrive']} sends after it, none of a key sent before it",
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


def parked_detail(state: tuple[str, str] | None) -> str:
    return state[1][:60] if state and state[0] == "parked" else ""


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
        self.dispatch_faulted: set[str] = set()  # keys whose hand-over by the dispatcher met a fault
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
        # the dispatch_outbox schedule: due every whole minute while the waiting room may hold anything
        self._room_busy = False
        self._dispatch_at: datetime | None = None
        self._room_lock = threading.Lock()
        self.reached: Counter[str] = Counter()  # what reached a platform, per idempotency key (faulty_senders)
        self.cases: dict[str, str] = {}  # fault case -> what became of it
        self.figures: dict[str, Any] = {}
        self.burst_rows: list[Any] = []
        self.burst_at = START
        self.redelivered_keys: set[str] = set()  # outbox messages received more than once
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
        again = [m for m in batch if int(m["Attributes"]["ApproximateReceiveCount"]) > 1]
        self._note("redeliveries", len(again))
        if queue == self.svc.settings.outbox_queue:
            for message in again:
                with contextlib.suppress(ValueError, AttributeError):
                    self.redelivered_keys.add(str(json.loads(message["Body"]).get("idempotency_key", "")))
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
        """Messages on the inbound and outbox queues, visible or not yet, and 1 while the waiting room may hold
        any (the dispatcher's last run found it empty, and nothing was put in since)."""
        total = 1 if self._room_busy else 0
        for queue in (self.svc.settings.inbound_queue, self.svc.settings.outbox_queue):
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.url(queue), AttributeNames=["All"])["Attributes"]
            total += sum(int(attributes.get(name, 0)) for name in (
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"))
        return total

    # ------------------------------------------------------------------ the waiting room and its dispatcher
    def watch_waiting_room(self) -> Callable[[], None]:
        """Note every message put in the waiting room (the dispatcher is then due at the next whole minute).
        Returns the undo."""
        room = self.svc.stores.waiting
        add = room.add

        def noted_add(channel: str, order: str, message: dict[str, Any]) -> None:
            with self._room_lock:
                if not self._room_busy:
                    self._room_busy = True
                    self._dispatch_at = self._next_minute(self.now())
            add(channel, order, message)

        setattr(room, "add", noted_add)  # noqa: B010 (an instance's method, replaced for the run)

        def undo() -> None:
            delattr(room, "add")

        return undo

    @staticmethod
    def _next_minute(t: datetime) -> datetime:
        return t.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def room(self) -> dict[str, list[str]]:
        """What waits in the waiting room, per channel, in order (read as the operator reads it: no fault)."""
        from chalicelib.domain.mention import CHANNELS

        with self.plan.quiet():
            return {channel: [entry.order for entry in self.svc.waiting.first(channel, 100_000)]
                    for channel in CHANNELS}

    def run_dispatch(self) -> None:
        """One ``dispatch_outbox`` run, as the schedule invokes it; then its order checked: a run takes the first
        messages of each channel's room, so none it left there may rank ahead of one it took (a message it took
        and put back, its slot refused, stays ahead of the rest), except one whose hand-over a fault met: it stays
        in its place for the next run, logged, and the run goes on with the rest)."""
        from tests.conftest import LambdaContext
        from tools.local_stack import scheduled_event

        started = time.monotonic()
        now = self.now()
        with self._room_lock:
            self._dispatch_at = self._next_minute(now)
        before = self.room()
        mark = self.logs.mark()
        self._note("dispatch_runs")
        try:
            with self.plan.invocation():
                self.handlers["dispatch_outbox"](scheduled_event("dispatch_outbox"), LambdaContext())
        except (ProcessDeath, Exception) as exc:
            if isinstance(exc, ProcessDeath):
                self._note("deaths")
            self._note("dispatch_failed")
        after = self.room()
        self._note("dispatch_checked")
        met_a_fault = {json.loads(line).get("order") for line in self.logs.since(mark)
                       if "a waiting message was not handed over" in line}
        # the order ends with the message's key ("<rank>#<since>#ack#R..."): its hand-over met a fault
        self.dispatch_faulted.update(str(order).split("#", 2)[-1] for order in met_a_fault)
        for channel, orders in before.items():
            left = set(after[channel])
            taken = [order for order in orders if order not in left]
            kept = [order for order in orders if order in left and order not in met_a_fault]
            if taken and kept and min(kept) < max(taken):
                self._violation(f"dispatch_outbox at {now:%Y-%m-%d %H:%M} took {max(taken)} from the {channel} "
                                f"waiting room while {min(kept)}, ahead of it, stayed")
        with self._room_lock:
            if not any(after.values()):
                self._room_busy = False
        self.seconds["dispatch_outbox"] += time.monotonic() - started

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
            dispatch_at = self._dispatch_at if self._room_busy else None
            if dispatch_at is not None and now >= dispatch_at:
                self.run_dispatch()
                continue
            if now >= target:
                return
            step = target
            if self.pending():
                step = min(step, now + STEP)
            if self._closing_at is not None:
                step = min(step, self._closing_at)
            if dispatch_at is not None:
                step = min(step, dispatch_at)
            self.move_to(step)

    def settle(self, limit: timedelta = timedelta(days=2)) -> None:
        """Time passes until nothing waits on the inbound and outbox queues, nor in the waiting room."""
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

    # ------------------------------------------------------------------ the harness's own posts
    def own_row(self, n: int, text: str, written: datetime, post: int | None = None) -> Any:
        """A customer's post of the harness (customer ``n``: one author each; post ``post``, else ``n``), written
        at ``written``."""
        from tools.replay import Row

        return Row(tweet_id=str(OWN_IDS + (n if post is None else post)), author_id=f"8{n:07d}", inbound=True,
                   created_at=written - self.shift, text=text.format(n=n, hhmm=f"{written:%H:%M}"), in_reply_to="")

    def ticket_of(self, row: Any) -> Any:
        """The ticket holding the post (through its author's customer, as an agent finds it), or None."""
        from chalicelib.channels import x as x_channel
        from tools.replay import LOCAL_BRAND_ID, webhook_payload

        with self.plan.quiet():
            for mention in x_channel.parse(webhook_payload(row, brand_id=LOCAL_BRAND_ID, shift=self.shift),
                                           brand_id=LOCAL_BRAND_ID):
                stored = self.svc.mentions.get(mention.key)
                holder = invariants._holder(self.svc, mention.key, stored.mention.identity_key, {}) \
                    if stored is not None else None
                ticket = self.svc.tickets.get(holder) if holder is not None else None
                for _ in range(10):  # the ticket that carries it on
                    if ticket is None or not ticket.merged_into:
                        return ticket
                    ticket = self.svc.tickets.get(ticket.merged_into)
        return None

    def next_local(self, hour: int) -> datetime:
        """The next ``hour``:00 in the brand's time zone, at least an hour from now (UTC)."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.svc.config.brand.timezone)
        local = (self.now() + timedelta(hours=1)).astimezone(zone)
        moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        if moment <= local:
            moment = (moment + timedelta(days=1)).replace(hour=hour)
        return moment.astimezone(timezone.utc)

    def sandbox_counts(self) -> Counter[str]:
        with self.plan.quiet():
            return Counter(str(m.get("idempotency_key", "")) for m in self.svc.sandbox.recent(limit=1_000_000))

    def redrive(self, queues: list[str]) -> tuple[dict[str, int], invariants.Observed]:
        """The runbook's redrive of these queues' dead-letter queues (faults as they are), then time passes until
        all is quiet; what was sent before it (for ``invariants.check_redrive``)."""
        from tools.admin import redrive_queue

        before = invariants.Observed(sends_before_redrive=Counter(self.reached),
                                     sandbox_before_redrive=self.sandbox_counts(), redrive_at=self.now())
        with self.plan.quiet():
            moved = {queue: redrive_queue(self.sqs, queue) for queue in queues}
        self.settle()
        return moved, before

    # ------------------------------------------------------------------ the fault cases
    def run_fault_cases(self) -> None:
        """Each case alone at 01:00 (out of hours), random faults off, its one fault injected where it bites."""
        self.advance_to(self.next_local(1))
        self.plan.enabled = False
        try:
            self.cases["an inline send reached the platform, then no answer; the outbox DLQ redriven"] = \
                self._case_unknown(1)
            self.cases["taking the allowance failed, then releasing the ticket's lease failed"] = \
                self._case_allowance_and_release(2)
            self.cases["an inline send cut off mid-call (the process died), the attempt resumed"] = \
                self._case_cut_off(3)
            self.cases["a retweet out of hours (not acknowledged), then a complaint joining that case"] = \
                self._case_joining(4)
            self.cases["a post whose id is 5,000 characters"] = self._case_unstorable()
        finally:
            self.plan.enabled = True

    def _ack_of(self, row: Any, case: str) -> tuple[Any, str, tuple[str, str] | None]:
        from chalicelib.usecases.acknowledge import ack_key

        ticket = self.ticket_of(row)
        if ticket is None:
            self._violation(f"fault case {case}: the post is on no ticket")
            return None, "", None
        return ticket, ack_key(ticket.ack_key), ticket.ack_state()

    def _post_one(self, row: Any) -> None:
        self.post(Delivery(self.now(), row, "original"))

    def _case_unknown(self, n: int) -> str:
        case = "inline send without an answer"
        row = self.own_row(n, COMPLAINT, self.now())
        self.plan.force_send(row.tweet_id, "unknown")
        self._post_one(row)
        self.settle()
        _, key, state = self._ack_of(row, case)
        reached = self.reached[key]
        if state is None or state[0] != "parked" or "without a result" not in state[1] or reached != 1:
            self._violation(f"fault case {case}: acknowledgement {state}, reached the platform {reached} time(s); "
                            f"expected parked without a result, reached once")
        moved, before = self.redrive([self.svc.settings.outbox_queue])
        again = self.reached[key] - reached
        if again:
            self._violation(f"fault case {case}: the redrive sent {key} again")
        self._redrive_checks(before, "the fault case's redrive")
        return (f"ack {state[0] if state else None} ({parked_detail(state)}), reached the platform {reached} time; "
                f"{sum(moved.values())} redriven from the outbox DLQ, {again} sent again")

    def _case_allowance_and_release(self, n: int) -> str:
        from botocore.exceptions import ClientError

        case = "allowance and release failing"
        allowance, tickets = self.svc.stores.allowance, self.svc.stores.tickets
        armed = {"take": 1, "release": 1}
        take, release = allowance.take, tickets.release_ack_lease

        def failure(operation: str) -> ClientError:
            return ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"},
                                "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)

        def failing_take(*args: Any, **kwargs: Any) -> Any:
            if armed["take"]:
                armed["take"] -= 1
                raise failure("UpdateItem")
            return take(*args, **kwargs)

        def failing_release(ticket_id: str) -> None:
            if armed["release"]:
                armed["release"] -= 1
                raise failure("UpdateItem")
            release(ticket_id)

        row = self.own_row(n, COMPLAINT, self.now())
        self._post_one(row)
        setattr(allowance, "take", failing_take)  # noqa: B010
        setattr(tickets, "release_ack_lease", failing_release)  # noqa: B010
        try:
            self.settle()
        finally:
            delattr(allowance, "take")
            delattr(tickets, "release_ack_lease")
        _, key, state = self._ack_of(row, case)
        if any(armed.values()):
            self._violation(f"fault case {case}: the faults were not met ({armed})")
        if state is None or state[0] != "sent" or self.reached[key] != 1:
            self._violation(f"fault case {case}: acknowledgement {state}, reached the platform "
                            f"{self.reached[key]} time(s); expected sent once")
        return f"ack {state[0] if state else None}, reached the platform {self.reached[key]} time"

    def _case_cut_off(self, n: int) -> str:
        case = "inline send cut off"
        row = self.own_row(n, COMPLAINT, self.now())
        self.plan.force_send(row.tweet_id, "die")
        self._post_one(row)
        self.settle()
        _, key, state = self._ack_of(row, case)
        reached = self.reached[key]
        if state is None or state[0] != "parked" or "cut off" not in state[1] or reached != 1:
            self._violation(f"fault case {case}: acknowledgement {state}, reached the platform {reached} time(s); "
                            f"expected parked as cut off, reached once")
        return f"ack {state[0] if state else None} ({parked_detail(state)}), reached the platform {reached} time"

    def _case_joining(self, n: int) -> str:
        case = "joining an unacknowledged case"
        first = self.own_row(n, PASSED_ON, self.now())
        self._post_one(first)
        self.settle()
        ticket, _, state = self._ack_of(first, case)
        if state is not None:
            self._violation(f"fault case {case}: the retweet was acknowledged ({state})")
        self.move_to(self.now() + timedelta(minutes=2))
        second = self.own_row(n, COMPLAINT, self.now(), post=10_000 + n)
        self._post_one(second)
        self.settle()
        joined, key, state = self._ack_of(second, case)
        same = ticket is not None and joined is not None and joined.ticket_id == ticket.ticket_id
        if not same or state is None or state[0] != "sent" or self.reached[key] != 1:
            self._violation(f"fault case {case}: same ticket {same}, acknowledgement {state}, reached the platform "
                            f"{self.reached[key]} time(s); expected the one case acknowledged once")
        return f"one case: {same}; ack {state[0] if state else None}, reached the platform {self.reached[key]} time"

    def _case_unstorable(self) -> str:
        from tools.replay import LOCAL_BRAND_ID, LOCAL_SECRET, signed, webhook_payload

        row = self.own_row(5, COMPLAINT, self.now())
        payload = webhook_payload(row, brand_id=LOCAL_BRAND_ID, shift=self.shift)
        payload["tweet_create_events"][0]["id_str"] = "9" * 5000
        body, headers = signed(payload, LOCAL_SECRET)
        dlq = f"{self.svc.settings.inbound_queue}-dlq"

        def depth() -> int:
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.url(dlq), AttributeNames=["All"])["Attributes"]
            return sum(int(attributes.get(name, 0)) for name in (
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))

        parked_before = depth()
        with self._route_lock:
            response = self.client.http.post("/webhooks/x", body=body, headers=headers)
        self.settle()
        parked = depth() - parked_before
        accepted = response.json_body.get("accepted") if isinstance(response.json_body, dict) else None
        if response.status_code >= 500 or accepted or parked:
            self._violation(f"fault case unstorable post: answered {response.status_code} (accepted {accepted}), "
                            f"{parked} more on {dlq}")
        return f"answered {response.status_code}, accepted {accepted or 0}, {parked} on the inbound DLQ"

    def _redrive_checks(self, before: invariants.Observed, where: str) -> None:
        findings = invariants.Findings()
        with self.plan.quiet():
            tickets = invariants.all_tickets(self.svc, [])
            observed = invariants.Observed(sends=self.reached, sends_before_redrive=before.sends_before_redrive,
                                           sandbox_before_redrive=before.sandbox_before_redrive,
                                           redrive_at=before.redrive_at)
            invariants.check_redrive(tickets, observed, self.sandbox_counts(), findings)
        for violation in findings.violations:
            self._violation(f"{where}: {violation}")

    # ------------------------------------------------------------------ the burst
    def run_burst(self, pool: ThreadPoolExecutor) -> None:
        """``burst`` first contacts written over the ten minutes before 03:00, delivered at once (a webhook
        backlog), about one in twenty-five urgent, most naming the incident declared at 02:45; the outbound rate
        ``burst_rate`` a minute from here on; faults on."""
        from chalicelib.domain.incident import Incident

        options = self.options
        at = self.next_local(3)
        self.advance_to(at - timedelta(minutes=15))
        with self.plan.quiet():
            self.svc.incidents.put(Incident(
                incident_id="INC-SIGNALS", title="Signal failure at Reading",
                text="trains through Reading are cancelled or delayed", url="https://help.example.test/incidents/1",
                keywords=("signal failure",), declared_at=self.now(), declared_by="control"))
        self.svc.settings = self.svc.settings.model_copy(update={"outbound_per_minute": options.burst_rate})
        rows = []
        for n in range(options.burst):
            written = at - timedelta(seconds=self.rng.uniform(0, 600))
            rows.append(self.own_row(100 + n, URGENT if n % 25 == 7 else COMPLAINT, written))
        deliveries = [Delivery(at, row, "original") for row in rows]
        deliveries += [Delivery(at, row, "concurrent") for row in rows if self.rng.random() < 0.03]
        self.rng.shuffle(deliveries)
        self.stats.update({"duplicates": len(deliveries) - len(rows),
                           "duplicates_concurrent": len(deliveries) - len(rows)})
        mark = time.monotonic()
        for chunk in self.chunks(deliveries):
            self.advance_to(chunk[0].at)
            self.run_chunk(pool, chunk)
        self.settle()
        self.seconds["the burst"] += time.monotonic() - mark
        self.burst_rows, self.burst_at = rows, at

    def burst_figures(self, rows: list[Any], at: datetime) -> None:
        from chalicelib.domain.history import WaitingForRate

        states: Counter[str] = Counter()
        inline = waited = 0
        last: datetime | None = None
        for row in rows:
            ticket = self.ticket_of(row)
            state = ticket.ack_state() if ticket is not None else None
            if state is None:
                continue
            states[state[0]] += 1
            if any(isinstance(e, WaitingForRate) and e.of_ack for e in ticket.timeline):
                waited += 1
            elif state[0] == "sent":
                inline += 1
            if state[0] == "sent":
                sent_at = datetime.fromisoformat(state[1])
                last = sent_at if last is None else max(last, sent_at)
        self.figures.update({
            "burst": len(rows), "burst_at": f"{at:%Y-%m-%d %H:%M} UTC", "burst_rate": self.options.burst_rate,
            "burst_urgent": sum(1 for r in rows if "stranded" in r.text), "burst_decided": sum(states.values()),
            "burst_sent": states["sent"], "burst_sent_inline": inline, "burst_waited": waited,
            "burst_expired": states["expired"], "burst_parked": states["parked"],
            "burst_last_sent_after": round((last - at).total_seconds()) if last else 0,
        })

    def check_burst_order(self, ticket_ids: set[str]) -> None:
        """The burst's waiting acknowledgements go out in the waiting room's order: of two that both waited, the one
        ranking ahead (urgent first, then the customer who wrote first) that was in the room when the other was
        dispatched is sent no later than it. The dispatcher orders per run, so a message that arrives after a run
        may go out after messages that run reserved; a message whose send or hand-over met a fault or whose outbox
        message was delivered again (a retry) is left out."""
        from chalicelib.domain.history import Scheduled, WaitingForRate
        from chalicelib.usecases.acknowledge import ack_key

        waited: list[tuple[tuple[int, datetime], datetime, datetime | None, datetime, str]] = []
        left_out = 0
        for row in self.burst_rows:
            ticket = self.ticket_of(row)
            state = ticket.ack_state() if ticket is not None else None
            if state is None or state[0] != "sent":
                continue
            waiting = [e.at for e in ticket.timeline if isinstance(e, WaitingForRate) and e.of_ack]
            scheduled = [e.at for e in ticket.timeline if isinstance(e, Scheduled) and e.of_ack]
            if not waiting:
                continue
            key = ack_key(ticket.ack_key)
            if key in self.plan.troubled or key in self.redelivered_keys or key in self.dispatch_faulted:
                left_out += 1
                continue
            rank = (0 if ticket.priority == "urgent" else 1, ticket.last_customer_at)
            sent = datetime.fromisoformat(state[1])
            first_slot = scheduled[0] if scheduled and scheduled[0] <= sent else None  # sent from its slot
            waited.append((rank, waiting[0], first_slot, sent, key))
        pairs = wrong = 0
        for a_rank, a_waiting, _, a_sent, a_key in waited:
            for b_rank, _, b_scheduled, b_sent, b_key in waited:
                if a_rank >= b_rank or b_scheduled is None or not a_waiting < b_scheduled:
                    continue
                pairs += 1
                if a_sent > b_sent:
                    wrong += 1
                    if wrong <= 5:
                        self._violation(f"burst: {a_key} (waiting since {a_waiting:%H:%M:%S}) was sent at "
                                        f"{a_sent:%H:%M:%S}, after {b_key}, behind it in the waiting room's order "
                                        f"and dispatched at {b_scheduled:%H:%M:%S}, sent at {b_sent:%H:%M:%S}")
        if wrong > 5:
            self._violation(f"burst: {wrong} pairs of waiting acknowledgements sent out of order in all")
        self.figures.update({"burst_order_pairs": pairs, "burst_order_wrong": wrong,
                             "burst_order_left_out": left_out})

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
            self.reached = reached
            stack.callback(undo_senders)
            stack.callback(self.watch_waiting_room())
            settings_before = self.svc.settings
            stack.callback(lambda: setattr(self.svc, "settings", settings_before))
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
                self.seconds["settling"] += time.monotonic() - mark
                try:
                    if self.options.fault_cases:
                        self.progress(f"the fault cases at {self.next_local(1):%Y-%m-%d %H:%M} UTC")
                        mark = time.monotonic()
                        self.run_fault_cases()
                        self.seconds["the fault cases"] += time.monotonic() - mark
                    if self.options.burst:
                        self.progress(f"the burst at {self.next_local(3):%Y-%m-%d %H:%M} UTC: "
                                      f"{self.options.burst} first contacts, {self.options.burst_rate} sends a minute")
                        self.run_burst(pool)
                except Exception:  # a harness failure is reported, never mistaken for a pass
                    self._violation(f"the scenario itself failed: {traceback.format_exc(limit=5)}")
            mark = time.monotonic()
            self.plan.enabled = False  # the cause is fixed: the operator redrives the dead-letter queues
            self.progress(f"faults off; redriving the dead-letter queues at {self.now():%Y-%m-%d %H:%M}")
            settings = self.svc.settings
            moved, before = self.redrive([settings.inbound_queue, settings.outbox_queue])
            self.stats["redriven_inbound"] = moved[settings.inbound_queue]
            self.stats["redriven_outbox"] = moved[settings.outbox_queue]
            self.seconds["the final redrive"] += time.monotonic() - mark
            mark = time.monotonic()
            findings = invariants.check(self.svc, self.sqs, invariants.Observed(
                accepted=set(self.accepted), sends=reached, metrics=self.metrics.counts,
                handler_errors=self.handler_errors, sends_before_redrive=before.sends_before_redrive,
                sandbox_before_redrive=before.sandbox_before_redrive, redrive_at=before.redrive_at))
            if self.burst_rows:
                self.burst_figures(self.burst_rows, self.burst_at)
                self.check_burst_order(findings.ticket_ids)
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
        result.figures.update(self.figures)
        result.figures["fault_cases"] = dict(self.cases)
        result.figures.update(self.stats)
        result.figures.update({
            "deaths": sum(n for kind, n in self.plan.counts.items() if kind.startswith("death")),
            "handler_errors": sum(self.handler_errors.values()),
            "platform_sends": sum(reached.values()), "log_records": self.logs.records, "stdout_lines": len(stdout),
            "status_tokens": len(tokens), "seconds": time.monotonic() - started,
            "simulated_days": (self.now() - self.start).total_seconds() / 86400,
        })
        for key in ("answers_200", "answers_5xx_injected", "answers_5xx_other", "answers_4xx", "webhook_retries",
                    "redeliveries", "closing_runs", "closing_failed", "invocations", "dispatch_runs",
                    "dispatch_failed", "dispatch_checked"):
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
    from tools.local_aws import partition_queries

    partition_queries()  # each query reads its partition, as DynamoDB does (moto reads the whole table)
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
    parser.add_argument("--burst", type=int, default=defaults.burst,
                        help="first contacts posted at once at 03:00 after the sample (0: none)")
    parser.add_argument("--burst-rate", type=int, default=defaults.burst_rate,
                        help="the outbound rate, sends a minute, from the burst on")
    parser.add_argument("--no-fault-cases", action="store_true", help="leave out the targeted fault cases")
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = Options(events=args.events, first=args.first, fault_rate=args.fault_rate, death_rate=args.death_rate,
                      duplicate_share=args.duplicates, seed=args.seed, csv=args.csv, burst=args.burst,
                      burst_rate=args.burst_rate, fault_cases=not args.no_fault_cases)
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
