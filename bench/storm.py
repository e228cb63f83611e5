"""A mention storm: ``python -m bench.storm [--n 2000] [--rate 50] [--plot bench/storm.png] [--json FILE]``.

``n`` mentions at 03:00 on a Sunday (every desk but on-call closed), offered at ``rate`` a second through the real
X webhook route (``chalice.test.Client``), processed and delivered by the real SQS handlers in batches of 10, on
moto in-process with the stack created from infra/template.yaml. The customers are the twcs sample's, with
repeats: a quarter of the mentions come from a customer who already wrote (their next real tweet, or a chase),
one in twenty is X delivering an earlier webhook again; the rest are new customers (the sample's authors in time
order, then again under new ids once they run out).

One thread, as one Lambda of each queue: it posts what is due, then runs one batch of the inbound queue and one
of the outbox, and so on; the app's clock and moto's SQS follow the wall clock while there is work, and jump ahead
while only acknowledgements held back by the outbound budget wait (``OUTBOUND_PER_MINUTE``, a token bucket).

Figures: throughput (mentions processed a second, wall time), the queues' depth over time (plotted), and then the
guarantees read back from the stores (``tests.reliability.invariants``): every accepted mention stored and
processed (0 lost), one open ticket per customer (0 duplicates), no acknowledgement twice, and the sends within the
outbound budget (the token bucket's capacity and refill, checked on the sandbox's send times).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
CHASES = ("@{brand} still waiting, any update?", "@{brand} hello?? nobody has answered me",
          "@{brand} this is the second time I'm asking")
IDLE_JUMP = 5.0  # seconds the clock jumps while only held-back acknowledgements wait
GIVE_UP_AFTER = 4 * 3600.0  # app seconds after the last arrival: a storm that has not drained by then never will


def plan(n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """The storm's mentions in order: customer, text, tweet id, and whether it repeats an earlier delivery."""
    from tools.replay import author_number, inbound, read_rows

    rng = random.Random(seed)
    by_author: dict[str, list[str]] = {}
    for row in inbound(read_rows()):
        by_author.setdefault(row.author_id, []).append(row.text)
    authors = list(by_author)
    written: dict[str, int] = Counter()  # customer -> tweets of theirs used so far
    customers: list[tuple[str, str]] = []  # (customer id, author)
    out: list[dict[str, Any]] = []
    fresh = 0
    while len(out) < n:
        roll = rng.random()
        if out and roll < 0.05:
            out.append({**rng.choice(out[-100:]), "repeat": True})
            continue
        if customers and roll < 0.30:
            user, author = rng.choice(customers)
            texts = by_author[author]
            used = written[user]
            text = texts[used] if used < len(texts) else rng.choice(CHASES).format(brand="MeridianRail")
        else:
            author = authors[fresh % len(authors)]
            cycle = fresh // len(authors)
            user = author_number(author) + (f"{cycle:03d}" if cycle else "")
            fresh += 1
            customers.append((user, author))
            text = by_author[author][0]
        written[user] += 1
        out.append({"user": user, "text": text, "tweet_id": str(8_000_000_000 + len(out)), "repeat": False})
    return out


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


def run(n: int = 2000, rate: float = 50.0, seed: int = 2026, plot: Path | None = None) -> dict[str, Any]:
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS", category=UserWarning)
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    from tests.reliability import invariants
    from tests.reliability.faults import LogCapture, SqsTime
    from tests.reliability.scenario import local_aws

    mentions = plan(n, seed)
    with local_aws() as (svc, client, clock):
        try:
            from tools.local_aws import fast_retention_check

            fast_retention_check()  # moto's receive is otherwise O(n²) in queue length
        except ImportError:
            pass
        storm = _Storm(svc, client, clock, SqsTime(START, cap=timedelta(days=1)))
        with storm.sqs_time.installed(), LogCapture().installed():
            figures = storm.run(mentions, rate)
            findings = invariants.check(svc, storm.sqs, invariants.Observed(accepted=storm.accepted))
        sends = svc.sandbox.recent(limit=1_000_000)
        budget = svc.settings.outbound_per_minute
    ack_times = [datetime.fromisoformat(m["at"]) for m in sends if str(m.get("idempotency_key", "")).startswith("ack#")]
    ok, most = within_budget([datetime.fromisoformat(m["at"]) for m in sends], budget)
    f = findings.figures
    figures.update({
        "accepted": f["accepted"], "stored_and_processed": f["stored_and_processed"],
        "lost": f["accepted"] - f["stored_and_processed"] - f["accepted_in_inbound_dlq"],
        "inbound_dlq": f["inbound_dlq"], "tickets": f["tickets"], "customers_with_tickets": f["customers_with_tickets"],
        "customers_with_more_than_one_open_ticket": sum(1 for v in findings.violations if "open tickets" in v),
        "acknowledgements": f["acknowledgements"], "customers_acknowledged": f["customers_acknowledged"],
        "invariant_violations": len(findings.violations), "violations": findings.violations[:10],
        "outbound_budget_per_minute": budget, "sends_within_budget": ok, "most_sends_in_60s": most,
        "last_ack_after_seconds": round(max((t - START).total_seconds() for t in ack_times), 1) if ack_times else None,
    })
    if plot is not None:
        draw(figures.pop("depth_samples"), plot, figures)
        figures["plot"] = str(plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot)
    else:
        figures.pop("depth_samples")
    return figures


class _Storm:
    def __init__(self, svc: Any, client: Any, clock: Any, sqs_time: Any):
        import boto3

        import app as application

        self.svc, self.client, self.clock, self.sqs_time = svc, client, clock, sqs_time
        self.sqs = boto3.client("sqs", region_name="eu-west-2")
        self.handlers = application.app.handler_map
        self.accepted: set[str] = set()
        self.urls = {q: self.sqs.get_queue_url(QueueName=q)["QueueUrl"]
                     for q in (svc.settings.inbound_queue, svc.settings.outbox_queue)}
        self.desks = [self.sqs.get_queue_url(QueueName=svc.config.queue_name(d))["QueueUrl"]
                      for d in svc.config.desk_ids]
        self.app_seconds = 0.0

    def move(self, seconds: float) -> None:
        if seconds > 0:
            self.app_seconds += seconds
            self.clock.set(START + timedelta(seconds=self.app_seconds))
            self.sqs_time.advance(seconds, capped=False)

    def depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return sum(int(attributes.get(k, 0)) for k in ("ApproximateNumberOfMessages",
                                                         "ApproximateNumberOfMessagesNotVisible",
                                                         "ApproximateNumberOfMessagesDelayed"))

    def batch(self, handler: str, queue: str) -> int:
        from tests.conftest import LambdaContext, lambda_sqs_event

        url = self.urls[queue]
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        try:
            self.handlers[handler](lambda_sqs_event(messages, queue), LambdaContext())
        except Exception:  # a partial failure: the handler deleted what succeeded; the rest comes back
            return len(messages)
        self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return len(messages)

    def post(self, mention: dict[str, Any], bodies: dict[str, tuple[bytes, dict[str, str]]]) -> None:
        from tests.helpers import tweet_event, x_body, x_headers

        key = mention["tweet_id"]
        if key not in bodies:
            body = x_body(tweet_event(key, mention["text"], user_id=mention["user"], at=self.clock.now()))
            bodies[key] = (body, x_headers(body))
        body, headers = bodies[key]
        response = self.client.http.post("/webhooks/x", body=body, headers=headers)
        if response.status_code == 200 and response.json_body.get("accepted") == 1:
            self.accepted.add(f"x#{key}")

    def run(self, mentions: list[dict[str, Any]], rate: float) -> dict[str, Any]:
        inbound, outbox = self.svc.settings.inbound_queue, self.svc.settings.outbox_queue
        bodies: dict[str, tuple[bytes, dict[str, str]]] = {}
        samples: list[tuple[float, float, int, int, int]] = []
        processed = posted = 0
        started = time.perf_counter()
        wall_mark = started
        next_sample = 0.0
        drained_at = None
        arrivals = len(mentions) / rate
        while True:
            now = time.perf_counter()
            self.move(now - wall_mark)  # the clock follows the wall clock while there is work
            wall_mark = now
            due = min(len(mentions), int((now - started) * rate) + 1)
            while posted < due:
                self.post(mentions[posted], bodies)
                posted += 1
            done_inbound = self.batch("process_inbound", inbound)
            processed += done_inbound
            done_outbox = self.batch("deliver_outbox", outbox)
            if self.app_seconds >= next_sample or (not done_inbound and not done_outbox):
                waiting_in, waiting_out = self.depth(self.urls[inbound]), self.depth(self.urls[outbox])
                samples.append((self.app_seconds, time.perf_counter() - started, waiting_in, waiting_out,
                                sum(self.depth(u) for u in self.desks)))
                next_sample = self.app_seconds + 0.5
                if posted == len(mentions) and not waiting_in:
                    drained_at = drained_at or time.perf_counter() - started
                    if not waiting_out:
                        break
                if posted == len(mentions) and self.app_seconds > arrivals + GIVE_UP_AFTER:
                    break  # what is still waiting then is reported (and fails the invariants)
                if posted == len(mentions) and not done_inbound and not done_outbox:
                    self.move(IDLE_JUMP)  # only held-back acknowledgements wait: let time pass
                    wall_mark = time.perf_counter()
        wall = time.perf_counter() - started
        drained = drained_at or wall
        return {"mentions": len(mentions), "repeat_deliveries": sum(1 for m in mentions if m["repeat"]),
                "customers": len({m["user"] for m in mentions}),
                "offered_per_second": rate, "processed_records": processed,
                "wall_seconds_until_inbound_empty": round(drained, 1),
                "throughput_mentions_per_second": round(len(mentions) / drained, 1),
                "wall_seconds_total": round(wall, 1), "app_seconds_total": round(self.app_seconds, 1),
                "max_inbound_depth": max(s[2] for s in samples), "max_outbox_depth": max(s[3] for s in samples),
                "left_on_inbound": samples[-1][2], "left_on_outbox": samples[-1][3],
                "depth_samples": samples}


def draw(samples: list[tuple[float, float, int, int, int]], path: Path, figures: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s[0] for s in samples]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    ax.plot(t, [s[2] for s in samples], label="responder-inbound (waiting + in flight)")
    ax.plot(t, [s[3] for s in samples], label="responder-outbox (incl. held back by the budget)")
    ax.plot(t, [s[4] for s in samples], label="desk queues (for the teams)", linestyle="--")
    ax.set_xlabel("app time since the first mention (s); the clock jumps ahead while only held-back acks wait")
    ax.set_ylabel("messages")
    ax.set_title(f"Storm: {figures['mentions']:,} mentions at {figures['offered_per_second']:g}/s, Sunday 03:00 "
                 f"({figures['throughput_mentions_per_second']} processed/s; outbound budget "
                 f"{figures['outbound_budget_per_minute']}/min)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="mentions (default 2,000)")
    parser.add_argument("--rate", type=float, default=50.0, help="mentions offered a second (wall time)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "storm.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.n, args.rate, args.seed, args.plot)
    for key, value in figures.items():
        print(f"{key:42} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if figures["lost"] == 0 and figures["invariant_violations"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
