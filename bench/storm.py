"""A storm: ``python -m bench.storm [--n 10000] [--minutes 10] [--per-minute 120] [--plot bench/storm.png] [--json F]``.

Trains cancelled overnight: ``n`` mentions from about ``0.8 n`` customers within ``minutes`` app minutes from 03:00
on a Sunday (every desk but on-call closed until 09:00), most of them naming a declared incident's keywords (the
incident is declared first through ``POST /admin/incidents``, so acknowledgements carry it), one in twenty-five
urgent (stranded, stuck on a train: triage's ``urgent`` rules), the rest real tweets of the twcs sample. Arrivals
are front-loaded (twice the mean rate at the start, falling to nothing at the end). About one mention in six is a
customer writing again (a chase, or another word about the incident) and one in fifty is X delivering an earlier
webhook again.

Everything goes through the real app on moto in-process, the stack created from infra/template.yaml: the signed
X webhook route (``chalice.test.Client``), then the real SQS handlers ``process_inbound`` and ``deliver_outbox`` as
Lambda's event source mapping runs them (``ReceiveMessage`` of up to 10 with the queue's visibility timeout and
``ApproximateReceiveCount``; the batch deleted when the handler returns, left when it raises; the template's
``maxReceiveCount`` redrive to the dead-letter queues done by moto's receive), and the ``dispatch_outbox`` schedule
every app minute. As many batches as are visible run at each instant (Lambda scales out), one after another.

Time. The app's clock (``FixedClock``) and moto's SQS clock (``moto.sqs.models.unix_time`` and
``unix_time_millis``, which every delay, visibility timeout, receive count and retention check in moto's SQS reads)
are replaced by one simulated clock, set together. The run is a discrete-event simulation: at each instant the
harness does all the work due then (posts the mentions whose arrival time has come, runs every visible batch, runs
the schedule on the minute), then jumps both clocks straight to the next instant anything can happen — the next
arrival, the next minute's schedule, or the earliest moment a message on the inbound or outbox queue becomes
visible again (read from moto's queue: ``delayed_until``, ``visible_at``). A handler takes no app time. So a drain
of many app hours costs only the wall time of the work itself; nothing waits in wall time.

The rate: ``--per-minute`` overrides every channel's outbound rate (``OUTBOUND_PER_MINUTE``); the default, 120 a
minute, is stage local's setting, so that the whole drain (a few thousand acknowledgements, about an hour of app
time) ends before the team is back at 09:00. ``--per-minute 0`` uses each channel's own documented rate (X: 6 a
minute); at that rate most acknowledgements of a storm this size expire at 09:00 (reported as ``expired``).

Figures: 0 lost (every accepted mention stored and processed: ``tests.reliability.invariants``), 0 sent twice,
0 on any dead-letter queue; the acknowledgements' send order against the priority order (urgent first, then first
contacts oldest first): the share of pairs and of adjacent sends out of order, and the pairs out of order by more
than one dispatch window (the schedule's minute plus the dispatcher's horizon: within it, slots already reserved are
not taken back from a later, more urgent arrival); the time from the first mention to the last acknowledgement sent
against the rate's floor (acknowledgements sent ÷ rate); the accounting of ``GET /admin/acknowledgements`` (decided
= sent + waiting + queued + expired + parked, parked 0) at the end of the arrivals and at the end; the queues' and
the waiting room's depths over time, plotted.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # a Sunday: customer service is back at 09:00
BRAND = "@MeridianRail"
GIVE_UP_AFTER = 24 * 3600.0  # app seconds: a storm that has not drained by then never will
SAMPLE_EVERY = 15.0  # app seconds between two samples of the depths
ACCOUNT, REGION = "123456789012", "eu-west-2"

INCIDENT = {"title": "Signal failure between Leeds and York",
            "text": "A signal failure between Leeds and York is cancelling trains; tickets are valid on buses.",
            "keywords": ["signal failure", "leeds", "york"]}
STATIONS = ("Leeds", "York", "Garforth", "Church Fenton", "Ulleskelf", "Micklefield")
INCIDENT_TEXTS = (
    "{b} my {t} from {s} to York is cancelled again. absolutely ridiculous, how am I meant to get to work?",
    "{b} is there any update on the signal failure at {s}? when will trains run to Leeds again?",
    "{b} third cancellation this month on the Leeds line, the {t} just vanished from the board. terrible service",
    "{b} signal failure AGAIN?? been standing at {s} for an hour with no information, this is a joke",
    "{b} can I use my ticket on another route? the {t} {s} to York is cancelled",
    "{b} how long will the signal failure last? I need to be in York by 9",
    "{b} waiting at {s} for the {t}, nothing on the app, no announcements. is anything running to Leeds?",
    "{b} will I get a refund for the cancelled {t} from {s}? had to pay for a taxi to York",
)
URGENT_TEXTS = (
    "{b} stranded at {s} with my kids, the last train to York is cancelled and there is no way home",
    "{b} we have been stuck on the train outside Leeds for 2 hours, no water, no toilet, please help",
    "{b} stranded at {s}, station locked, it's freezing and I have no way to get home to York",
)
CHASES = ("{b} still waiting, any update on the trains to York?", "{b} hello?? nobody has answered me",
          "{b} this is the second time I'm asking, is the Leeds line running or not")


def plan(n: int, minutes: float = 10.0, seed: int = 2026) -> list[dict[str, Any]]:
    """The storm's mentions in arrival order: app second, customer, text, kind (incident, urgent, sample, chase),
    tweet id, and whether it repeats an earlier delivery."""
    rng = random.Random(seed)
    samples = _sample_texts()
    span = minutes * 60.0
    out: list[dict[str, Any]] = []
    customers: list[str] = []
    for i in range(n):
        at = span * (1 - math.sqrt(1 - (i + 0.5) / n))  # density falls linearly from twice the mean to 0
        roll = rng.random()
        if out and roll < 0.02:  # X delivers an earlier webhook again
            out.append({**rng.choice(out[-200:]), "repeat": True, "at": at})
            continue
        if customers and roll < 0.18:  # a customer writing again
            user = rng.choice(customers)
            kind = "chase" if rng.random() < 0.5 else "incident"
            text = rng.choice(CHASES if kind == "chase" else INCIDENT_TEXTS)
        else:
            user = str(700_000_000 + len(customers))
            customers.append(user)
            kind = "urgent" if roll > 0.96 else "sample" if roll > 0.76 and samples else "incident"
            text = rng.choice(URGENT_TEXTS if kind == "urgent" else INCIDENT_TEXTS) if kind != "sample" else \
                samples[len(customers) % len(samples)]
        hour, minute = rng.choice((5, 6, 6, 7)), rng.choice((2, 14, 28, 40, 52))
        text = text.format(b=BRAND, s=rng.choice(STATIONS), t=f"{hour:02d}:{minute:02d}")
        out.append({"user": user, "text": text, "kind": kind, "tweet_id": str(9_000_000_000 + i), "at": at,
                    "repeat": False})
    return out


def _sample_texts() -> list[str]:
    """First tweets of the sample's customers, the brand's handle in front (real wording, any company)."""
    try:
        from tools.replay import inbound, read_rows

        rows = inbound(read_rows())
    except OSError:
        return []
    seen: set[str] = set()
    texts = []
    for row in rows:
        if row.author_id not in seen and not row.in_reply_to:
            seen.add(row.author_id)
            texts.append(f"{BRAND} {row.text}")
    return texts


def within_budget(times: list[datetime], per_minute: int) -> tuple[bool, int]:
    """Do these send times fit a token bucket of ``per_minute`` tokens refilled at ``per_minute`` a minute
    (starting full)? Also the most sends in any 60 seconds."""
    rate, tokens, last, ok = per_minute / 60.0, float(per_minute), None, True
    for at in sorted(times):
        if last is not None:
            tokens = min(float(per_minute), tokens + (at - last).total_seconds() * rate)
        if tokens < 1 - 1e-6:
            ok = False
        tokens -= 1
        last = at
    ordered, most, first = sorted(times), 0, 0
    for i, at in enumerate(ordered):
        while at - ordered[first] >= timedelta(seconds=60):
            first += 1
        most = max(most, i - first + 1)
    return ok, most


def inversions(sends: list[tuple[float, tuple[Any, ...], float]], window: float,
               first_dispatch: float = 60.0) -> dict[str, Any]:
    """How far the send order is from the priority order. ``sends``: (sent at, place in the priority order, decided
    at), in app seconds. A pair is out of order when one was sent before another that should have gone first and
    was already waiting then (decided before the first was sent): only those pairs could have been sent the other
    way round. Counted over all such pairs and over adjacent sends; and the pairs out of order by more than
    ``window`` seconds (the later one had been waiting longer than one dispatch window when the other went), and
    those whose first send went out before ``first_dispatch`` (the schedule's first run)."""
    import numpy as np

    sends = sorted(sends, key=lambda s: s[0])
    n = len(sends)
    ranks = {key: i for i, key in enumerate(sorted({s[1] for s in sends}))}
    t = np.array([s[0] for s in sends], dtype=float)
    k = np.array([ranks[s[1]] for s in sends], dtype=np.int64)
    d = np.array([min(s[2], s[0]) for s in sends], dtype=float)
    pairs = out_of_order = beyond = early = 0
    for j in range(1, n):
        both_waiting = (t[:j] < t[j]) & (t[:j] > d[j])  # i went out while j was waiting
        wrong = both_waiting & (k[:j] > k[j])
        pairs += int(both_waiting.sum())
        out_of_order += int(wrong.sum())
        beyond += int((wrong & (t[:j] > d[j] + window)).sum())
        early += int((wrong & (t[:j] < first_dispatch)).sum())
    adjacent = [(i, i + 1) for i in range(n - 1) if t[i] < t[i + 1] and t[i] > d[i + 1]]
    adjacent_bad = sum(1 for i, j in adjacent if k[i] > k[j])
    return {"sends": n, "pairs_both_waiting": pairs, "pairs_out_of_order": out_of_order,
            "share_of_pairs": round(out_of_order / pairs, 5) if pairs else 0.0,
            "adjacent_pairs": len(adjacent), "adjacent_out_of_order": adjacent_bad,
            "share_of_adjacent": round(adjacent_bad / len(adjacent), 5) if adjacent else 0.0,
            "pairs_out_of_order_beyond_window": beyond, "window_seconds": window,
            "pairs_out_of_order_sent_before_first_dispatch": early}


class StormTime:
    """One simulated clock for the app and moto's SQS (see the module's docstring)."""

    def __init__(self, clock: Any):
        self.clock = clock
        self.seconds = 0.0  # app seconds since START

    @property
    def epoch(self) -> float:
        return START.timestamp() + self.seconds

    def set(self, seconds: float) -> None:
        self.seconds = max(self.seconds, seconds)
        self.clock.set(START + timedelta(seconds=self.seconds))

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        import importlib

        sqs_models: Any = importlib.import_module("moto.sqs.models")
        saved = sqs_models.unix_time, sqs_models.unix_time_millis
        sqs_models.unix_time = lambda dt=None: self.epoch
        sqs_models.unix_time_millis = lambda dt=None: self.epoch * 1000.0
        try:
            yield
        finally:
            sqs_models.unix_time, sqs_models.unix_time_millis = saved


def run(n: int = 10_000, minutes: float = 10.0, per_minute: int | None = 120, seed: int = 2026,
        plot: Path | None = None) -> dict[str, Any]:
    """The storm and its figures. ``per_minute``: the outbound rate of every channel (None: each channel's own)."""
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS", category=UserWarning)
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    warnings.filterwarnings("ignore", message="No Moto CloudFormation support", category=UserWarning)
    from tests.reliability import invariants
    from tests.reliability.faults import LogCapture
    from tests.reliability.scenario import local_aws

    mentions = plan(n, minutes, seed)
    started = time.perf_counter()
    with local_aws() as (svc, client, clock):
        try:
            from tools.local_aws import fast_retention_check

            fast_retention_check()  # moto's receive is otherwise O(n²) in queue length
        except ImportError:
            pass
        svc.settings = svc.settings.model_copy(update={"outbound_per_minute": per_minute})
        storm = _Storm(svc, client, StormTime(clock))
        with storm.time.installed(), LogCapture().installed():
            figures = storm.run(mentions, minutes * 60.0)
            findings = invariants.check(svc, storm.sqs, invariants.Observed(accepted=storm.accepted))
            dead_letters = {name.rsplit("/", 1)[1]: storm.depth(name) for name in storm.all_queues()
                            if name.endswith("-dlq")}
        sends = svc.sandbox.recent(limit=1_000_000)
        rate = svc.rate_per_minute("x")
        order = storm.send_order(sends)
        incident_acks = sum(1 for t in storm.acked_tickets(sends) if t.incident_id)
    figures["wall_seconds_total"] = round(time.perf_counter() - started, 1)
    ack_times = sorted(datetime.fromisoformat(m["at"]) for m in sends
                       if str(m.get("idempotency_key", "")).startswith("ack#"))
    ok, most = within_budget([datetime.fromisoformat(m["at"]) for m in sends], rate)
    f = findings.figures
    sent_twice = sum(1 for c in Counter(str(m.get("idempotency_key", "")) for m in sends).values() if c > 1)
    last = (ack_times[-1] - START).total_seconds() if ack_times else 0.0
    floor = len(ack_times) / rate * 60.0
    figures.update({
        "accepted": f["accepted"], "stored_and_processed": f["stored_and_processed"],
        "lost": f["accepted"] - f["stored_and_processed"],
        "tickets": f["tickets"], "customers_with_tickets": f["customers_with_tickets"],
        "customers_with_more_than_one_open_ticket": sum(1 for v in findings.violations if "open tickets" in v),
        "acks_sent": len(ack_times), "acks_carrying_the_incident": incident_acks, "sent_twice": sent_twice,
        "dead_letter_queues": dead_letters, "on_any_dlq": sum(dead_letters.values()),
        "invariant_violations": len(findings.violations), "violations": findings.violations[:10],
        "rate_per_minute": rate, "rate_source": "OUTBOUND_PER_MINUTE (stage local's setting)" if per_minute
        else "the channel's own rate (brand file / platform default)",
        "sends_within_rate": ok, "most_sends_in_60s": most,
        "last_ack_after_seconds": round(last, 1), "rate_floor_seconds": round(floor, 1),
        "time_to_send_all_over_floor": round(last / floor, 3) if floor else None,
        # a full bucket sends ``rate`` at once: the rest take (N - rate) / rate
        "strict_floor_seconds": round(max(0, len(ack_times) - rate) / rate * 60.0, 1),
        "time_to_send_all_over_strict_floor": round(last / (max(1, len(ack_times) - rate) / rate * 60.0), 3)
        if ack_times else None,
        "priority_order": order,
    })
    if plot is not None:
        draw(figures["depth_samples"], plot, figures)
        figures["plot"] = str(plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot)
    figures.pop("depth_samples")
    return figures


class _Storm:
    def __init__(self, svc: Any, client: Any, storm_time: StormTime):
        import boto3

        import app as application

        self.svc, self.client, self.time = svc, client, storm_time
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.handlers = application.app.handler_map
        self.accepted: set[str] = set()
        self.inbound, self.outbox = svc.settings.inbound_queue, svc.settings.outbox_queue
        self.urls = {q: self.sqs.get_queue_url(QueueName=q)["QueueUrl"] for q in (self.inbound, self.outbox)}
        self.desks = [self.sqs.get_queue_url(QueueName=svc.config.queue_name(d))["QueueUrl"]
                      for d in svc.config.desk_ids]
        self.handler_errors: Counter[str] = Counter()
        self.batches: Counter[str] = Counter()
        # ack key -> (its place in the priority order as the waiting room was given it, when it was first put there)
        self.decided: dict[str, tuple[tuple[int, str], float]] = {}
        add = svc.waiting.add

        def recording_add(channel: str, order: str, message: dict[str, Any]) -> None:
            key = str(message.get("idempotency_key", ""))
            if key.startswith("ack#"):
                self.decided.setdefault(key, (_place(message), self.time.seconds))
            add(channel, order, message)

        svc.waiting.add = recording_add

    # ------------------------------------------------------------------ queues
    def all_queues(self) -> list[str]:
        return self.sqs.list_queues().get("QueueUrls", [])

    def depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return sum(int(attributes.get(k, 0)) for k in ("ApproximateNumberOfMessages",
                                                         "ApproximateNumberOfMessagesNotVisible",
                                                         "ApproximateNumberOfMessagesDelayed"))

    def next_visible(self, queue: str) -> float | None:
        """The earliest epoch second a message of this queue becomes receivable (now, if one is), from moto's
        queue; None when the queue is empty."""
        from moto.sqs.models import sqs_backends

        messages = sqs_backends[ACCOUNT][REGION].queues[queue]._messages
        if not messages:
            return None
        # moto: visible once now > visible_at, receivable once now >= delayed_until (milliseconds)
        return min(max(m.visible_at + 1.0, m.delayed_until) for m in messages) / 1000.0

    def batch(self, handler: str, queue: str) -> int:
        """One invocation as the event source mapping makes it: up to 10 messages received with the queue's
        visibility timeout; deleted if the handler returns, left to come back if it raises."""
        from tests.conftest import LambdaContext, lambda_sqs_event

        url = self.urls[queue]
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        self.batches[queue] += 1
        try:
            self.handlers[handler](lambda_sqs_event(messages, queue), LambdaContext())
        except Exception:  # a partial failure: the handler deleted what succeeded; the rest comes back
            self.handler_errors[queue] += 1
            return len(messages)
        self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return len(messages)

    def drain(self, handler: str, queue: str) -> int:
        done = 0
        while (got := self.batch(handler, queue)):
            done += got
        return done

    def dispatch(self) -> Any:
        from tests.conftest import LambdaContext

        event = {"version": "0", "id": "storm", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": ACCOUNT, "time": self.svc.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
                 "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/dispatch_outbox"], "detail": {}}
        return self.handlers["dispatch_outbox"](event, LambdaContext())

    # ------------------------------------------------------------------ the webhook and the admin routes
    def post(self, mention: dict[str, Any], bodies: dict[str, tuple[bytes, dict[str, str]]]) -> None:
        from tests.helpers import tweet_event, x_body, x_headers

        key = mention["tweet_id"]
        if key not in bodies:
            body = x_body(tweet_event(key, mention["text"], user_id=mention["user"], at=self.svc.now()))
            bodies[key] = (body, x_headers(body))
        body, headers = bodies[key]
        response = self.client.http.post("/webhooks/x", body=body, headers=headers)
        if response.status_code == 200 and response.json_body.get("accepted") == 1:
            self.accepted.add(f"x#{key}")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"authorization": f"Bearer {self.svc.secrets.get('ADMIN_TOKEN')}",
                   "content-type": "application/json"}
        call = getattr(self.client.http, method)
        response = call(path, headers=headers, **({"body": json.dumps(body)} if body is not None else {}))
        if response.status_code >= 300:
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.body[:200]!r}")
        return response.json_body

    # ------------------------------------------------------------------ the storm
    def run(self, mentions: list[dict[str, Any]], arrivals: float) -> dict[str, Any]:
        bodies: dict[str, tuple[bytes, dict[str, str]]] = {}
        samples: list[dict[str, float]] = []
        incident = self.admin("post", "/admin/incidents", INCIDENT)
        posted = processed = 0
        next_dispatch = 60.0
        next_sample = 0.0
        snapshot_at_arrivals_end: dict[str, Any] | None = None
        wall = time.perf_counter()
        wall_arrivals = None
        room_may_hold = False  # whether the waiting room may hold a message (known exactly after a dispatch)
        while True:
            now = self.time.seconds
            while posted < len(mentions) and mentions[posted]["at"] <= now:
                self.post(mentions[posted], bodies)
                posted += 1
            done = self.drain("process_inbound", self.inbound)
            processed += done
            if now >= next_dispatch:
                summary = self.dispatch() or {}
                room_may_hold = any(row.get("waiting") for row in summary.values())
                next_dispatch += 60.0
            done += self.drain("deliver_outbox", self.outbox)
            room_may_hold = room_may_hold or bool(done)
            if now >= next_sample:
                samples.append(self.sample())
                next_sample = now + SAMPLE_EVERY
            if posted == len(mentions) and snapshot_at_arrivals_end is None and now >= arrivals:
                snapshot_at_arrivals_end = self.admin("get", "/admin/acknowledgements")
                wall_arrivals = time.perf_counter() - wall
            upcoming = [t - START.timestamp() for t in (self.next_visible(self.inbound),
                                                          self.next_visible(self.outbox)) if t is not None]
            if posted < len(mentions):  # Lambda's poller: what arrived within the second, in batches
                upcoming.append(float(math.ceil(mentions[posted]["at"] + 1e-9)))
            if room_may_hold or upcoming:
                upcoming.append(next_dispatch)
            if not upcoming or now > arrivals + GIVE_UP_AFTER:
                break  # quiet: nothing posted, queued or waiting (or given up: reported as what is left)
            self.time.set(max(now + 0.001, min(upcoming)))
        samples.append(self.sample())
        final = self.admin("get", "/admin/acknowledgements")
        return {"mentions": len(mentions), "arrival_minutes": arrivals / 60.0,
                "incident": incident.get("incident_id"),
                "repeat_deliveries": sum(1 for m in mentions if m["repeat"]),
                "customers": len({m["user"] for m in mentions}),
                "by_kind": dict(Counter(m["kind"] for m in mentions if not m["repeat"])),
                "processed_records": processed, "inbound_batches": self.batches[self.inbound],
                "outbox_batches": self.batches[self.outbox], "handler_errors": dict(self.handler_errors),
                "wall_seconds_arrivals": round(wall_arrivals or 0.0, 1),
                "app_seconds_total": round(self.time.seconds, 1),
                "max_inbound_depth": max(s["inbound"] for s in samples),
                "max_outbox_depth": max(s["outbox"] for s in samples),
                "max_waiting_room": max(s["waiting"] for s in samples),
                "left_on_inbound": samples[-1]["inbound"], "left_on_outbox": samples[-1]["outbox"],
                "left_waiting": samples[-1]["waiting"],
                "accounting_at_end_of_arrivals": _accounting(snapshot_at_arrivals_end),
                "accounting": _accounting(final),
                "depth_samples": samples}

    def _channels(self) -> tuple[str, ...]:
        from chalicelib.domain.mention import CHANNELS

        return tuple(CHANNELS)

    def sample(self) -> dict[str, float]:
        dlq = self.sqs.get_queue_url(QueueName=f"{self.outbox}-dlq")["QueueUrl"]
        inbound_dlq = self.sqs.get_queue_url(QueueName=f"{self.inbound}-dlq")["QueueUrl"]
        return {"t": self.time.seconds, "inbound": self.depth(self.urls[self.inbound]),
                "outbox": self.depth(self.urls[self.outbox]),
                "waiting": sum(self.svc.waiting.count(c) for c in self._channels()),
                "desks": sum(self.depth(u) for u in self.desks),
                "dlq": self.depth(dlq) + self.depth(inbound_dlq)}

    # ------------------------------------------------------------------ the figures
    def acked_tickets(self, sends: list[dict[str, Any]]) -> list[Any]:
        ids = {str(m["idempotency_key"]).split("#")[1] for m in sends
               if str(m.get("idempotency_key", "")).startswith("ack#")}
        return [t for t in (self.svc.tickets.get(i) for i in sorted(ids)) if t is not None]

    def send_order(self, sends: list[dict[str, Any]]) -> dict[str, Any]:
        """The acknowledgements' sends against their priority order (urgent first, then the customer who wrote
        first): for one that waited, its place as the waiting room was given it; for one sent at once, its ticket's
        (priority, first contact)."""
        from chalicelib.usecases.waiting import HORIZON

        tickets = {t.ticket_id: t for t in self.acked_tickets(sends)}
        rows = []
        urgent_times, normal_times = [], []
        for m in sends:
            key = str(m.get("idempotency_key", ""))
            if not key.startswith("ack#"):
                continue
            at = (datetime.fromisoformat(m["at"]) - START).total_seconds()
            place, decided = self.decided.get(key, (None, at))
            if place is None:
                ticket = tickets.get(key.split("#")[1])
                if ticket is None:
                    continue
                place = (0 if ticket.priority == "urgent" else 1,
                         ticket.first_contact_at.astimezone(timezone.utc).isoformat())
            rows.append((at, place, decided))
            (urgent_times if place[0] == 0 else normal_times).append(at)
        figures = inversions(rows, window=60.0 + HORIZON)
        figures.update({"urgent_acks": len(urgent_times), "urgent_last_sent_after_seconds":
                        round(max(urgent_times), 1) if urgent_times else None,
                        "normal_sent_before_last_urgent": sum(1 for t in normal_times
                                                              if urgent_times and t < max(urgent_times))})
        return figures


def _place(message: dict[str, Any]) -> tuple[int, str]:
    wrote = message.get("customer_wrote_at") or message.get("queued_at") or ""
    since = datetime.fromisoformat(wrote).astimezone(timezone.utc).isoformat() if wrote else ""
    return (0 if message.get("priority") == "urgent" else 1, since)


def _accounting(view: dict[str, Any] | None) -> dict[str, Any]:
    if view is None:
        return {}
    states = {k: view.get(k, 0) for k in ("decided", "sent", "waiting", "queued", "expired", "parked")}
    return {**states, "adds_up": states["decided"] == sum(v for k, v in states.items() if k != "decided"),
            "per_channel": view.get("per_channel", {}), "waiting_room": view.get("waiting_room", {}),
            "dead_letter_queues": view.get("dead_letter_queues", {})}


def draw(samples: list[dict[str, float]], path: Path, figures: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60.0 for s in samples]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    ax.plot(t, [s["waiting"] for s in samples], label="waiting room (acks waiting for a slot of the rate)")
    ax.plot(t, [s["outbox"] for s in samples], label="responder-outbox (slots reserved, delayed until due)")
    ax.plot(t, [s["inbound"] for s in samples], label="responder-inbound (waiting + in flight)")
    ax.plot(t, [s["desks"] for s in samples], label="desk queues (for the teams)", linestyle="--")
    ax.plot(t, [s["dlq"] for s in samples], label="dead-letter queues (inbound + outbox)", linestyle=":")
    ax.axvline(figures["arrival_minutes"], color="grey", linewidth=0.8)
    ax.set_xlabel("app minutes since 03:00 Sunday (the first mention); the line: the last mention")
    ax.set_ylabel("messages")
    order = figures["priority_order"]
    ax.set_title(f"Storm: {figures['mentions']:,} mentions, {figures['customers']:,} customers in "
                 f"{figures['arrival_minutes']:g} min; {figures['acks_sent']:,} acks at {figures['rate_per_minute']}"
                 f"/min, last after {figures['last_ack_after_seconds'] / 60:.1f} min "
                 f"({figures['time_to_send_all_over_floor']}× the floor); lost {figures['lost']}, twice "
                 f"{figures['sent_twice']}, DLQ {figures['on_any_dlq']}; out of order {order['share_of_pairs']:.2%}",
                 fontsize=8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def report_row(st: dict[str, Any]) -> str:
    """The storm's row of bench/results.md (and the README)."""
    order, acc = st["priority_order"], st["accounting"]
    kinds = st["by_kind"]
    return (
        f"| storm: {st['mentions']:,} mentions from {st['customers']:,} customers within {st['arrival_minutes']:g} "
        f"min at 03:00 on a Sunday ({kinds.get('incident', 0):,} naming the declared incident, "
        f"{kinds.get('urgent', 0)} urgent, {kinds.get('chase', 0)} chases, {st['repeat_deliveries']} repeated "
        f"deliveries), through the X webhook route, the SQS handlers as Lambda runs them and `dispatch_outbox` every "
        f"minute (moto; simulated clock) | {st['lost']} lost; {st['sent_twice']} sent twice; {st['on_any_dlq']} on "
        f"any DLQ; {st['acks_sent']:,} acks at {st['rate_per_minute']}/min ({st['acks_carrying_the_incident']:,} "
        f"naming the incident), the last {st['last_ack_after_seconds'] / 60:.1f} min after the first mention: "
        f"{st['time_to_send_all_over_floor']}× N ÷ rate ({st['time_to_send_all_over_strict_floor']}× (N − the "
        f"full bucket) ÷ rate); order: {order['share_of_pairs']:.1%} of the pairs that waited together sent out of "
        f"priority order, {order['share_of_adjacent']:.1%} of adjacent sends, "
        f"{order['pairs_out_of_order_beyond_window']} pairs beyond one dispatch window "
        f"({order['window_seconds']:g} s); "
        f"accounting at the end of the arrivals: {_accounting_text(st['accounting_at_end_of_arrivals'])}, at the end: "
        f"{_accounting_text(acc)}; max waiting room {st['max_waiting_room']:,}, outbox {st['max_outbox_depth']}, "
        f"inbound {st['max_inbound_depth']}; invariant violations {st['invariant_violations']}; "
        f"{st['wall_seconds_total']:.0f} s wall for {st['app_seconds_total'] / 60:.0f} app min ([plot](storm.png)) |")


def _accounting_text(acc: dict[str, Any]) -> str:
    if not acc:
        return "-"
    return (f"decided {acc['decided']:,} = sent {acc['sent']:,} + waiting {acc['waiting']:,} + queued {acc['queued']} "
            f"+ expired {acc['expired']} + parked {acc['parked']}{'' if acc['adds_up'] else ' (does NOT add up)'}")


def passed(figures: dict[str, Any]) -> bool:
    """The storm's guarantees: nothing lost, nothing twice, nothing parked, every decided acknowledgement
    accounted for."""
    accounting = figures["accounting"]
    return (figures["lost"] == 0 and figures["sent_twice"] == 0 and figures["on_any_dlq"] == 0
            and figures["invariant_violations"] == 0 and accounting.get("adds_up", False)
            and accounting.get("parked", 1) == 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="mentions (default 10,000)")
    parser.add_argument("--minutes", type=float, default=10.0, help="app minutes the mentions arrive within")
    parser.add_argument("--per-minute", type=int, default=120,
                        help="outbound rate of every channel (default 120, stage local's; 0: each channel's own)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "storm.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.n, args.minutes, args.per_minute or None, args.seed, args.plot)
    for key, value in figures.items():
        print(f"{key:42} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
