"""Benchmarks: `make bench` writes bench/results.json and bench/results.md.

    python -m bench.run [--latency-samples 100] [--storm-n 2000] [--storm-per-minute 120] [--rounds 5]
                        [--mentions 200] [--skip-package] [--out-dir bench]

Figures that do not drift (AWS calls and DynamoDB units per scenario, bytes, imports) and timings as ratios
against bare AWS calls measured in the same run, medians over repeated rounds; the acknowledgement latency on the
local stack; a storm of mentions; the deployment package; the cost per million mentions; what listening costs a
day and per listened post (bench.listening). Real tweets from ../shared/data/twcs_sample.csv; AWS is moto (the same
template), so absolute times mean little on their own and ratios are what to compare between runs."""
from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SAMPLE = int(os.environ.get("BENCH_MENTIONS", "200"))
STORM_N = int(os.environ.get("BENCH_STORM_N", "2000"))  # the storm of make bench (bench/storm.py: --n 10000 by hand)


@contextmanager
def counting_aws_calls(record: list | None = None):
    """Count every AWS API call made through botocore (boto3 and pynamodb alike), by operation; with ``record``,
    also append each call to it as ``(service, operation, params)`` (what the policy test checks against IAM)."""
    import botocore.client

    counts: collections.Counter = collections.Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        service = self.meta.service_model.service_name
        counts[f"{service}.{operation_name}"] += 1
        if record is not None:
            record.append((service, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counted
    try:
        yield counts
    finally:
        botocore.client.BaseClient._make_api_call = original


def median_time(fn, rounds=ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def top_imports(count: int = 10) -> list[dict]:
    """The slowest imports under `import app` (`python -X importtime`, fresh interpreter): the modules `app` and
    its own modules import directly, by cumulative time, the app's own modules left out."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "STAGE": "local"})
    rows = []
    for line in out.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[1].strip().isdigit():
            name = fields[2].rstrip()
            rows.append(((len(name) - len(name.lstrip())) // 2, name.strip(), int(fields[1])))
    # children are listed before their parent: what `import app` loaded lies between the interpreter's own
    # start-up imports (the depth-0 line before it) and the line of `app`
    end = max(i for i, row in enumerate(rows) if row[:2] == (0, "app"))
    begin = max([i for i, row in enumerate(rows[:end]) if row[0] == 0], default=-1) + 1
    found: dict[str, int] = {}
    for depth, module, cumulative in rows[begin:end]:
        top = module.split(".")[0]
        if top not in ("app", "chalicelib") and depth <= 2:
            found[top] = max(found.get(top, 0), cumulative)
    ranked = sorted(found.items(), key=lambda item: -item[1])[:count]
    return [{"package": name, "cumulative_ms": round(us / 1000, 1)} for name, us in ranked]


def import_figures(rounds: int = 5) -> dict:
    """Modules loaded by `import app` in a fresh interpreter (cold start reads no AWS and builds nothing), and its
    median time against `import boto3` measured in the same run (the ratio is what to compare across machines)."""
    def fresh(code: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "STAGE": "local"})
        return out.stdout.split()

    timed = "import sys, time; t=time.perf_counter(); before=set(sys.modules); import {0}; " \
            "print(len(set(sys.modules)-before), time.perf_counter()-t)"
    app_runs = [fresh(timed.format("app")) for _ in range(rounds)]
    boto_runs = [fresh(timed.format("boto3")) for _ in range(rounds)]
    app_seconds = statistics.median(float(run[1]) for run in app_runs)
    boto_seconds = statistics.median(float(run[1]) for run in boto_runs)
    return {"modules_imported_by_app": int(app_runs[0][0]), "import_app_seconds": round(app_seconds, 3),
            "import_boto3_seconds": round(boto_seconds, 3),
            "import_app_over_import_boto3": round(app_seconds / boto_seconds, 2)}


def pipeline_figures() -> dict:
    """Ingest, processing and delivery use cases called directly, against bare moto calls in the same run."""
    saved = dict(os.environ)
    try:
        return _pipeline_figures()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _pipeline_figures() -> dict:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="eu-west-2",
                      POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_TRACE_DISABLED="true",
                      POWERTOOLS_LOG_LEVEL="ERROR")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from bench.scenarios import empty_queue
    from chalicelib import bootstrap
    from chalicelib.channels.x import parse as x_parse
    from chalicelib.channels.x import sign
    from chalicelib.clock import FixedClock
    from chalicelib.domain.outbound import OutboxItem
    from chalicelib.domain.rota import Calendar
    from chalicelib.domain.triage import triage
    from chalicelib.settings import Secrets, Settings
    from chalicelib.usecases.deliver import deliver
    from chalicelib.usecases.ingest import pack
    from chalicelib.usecases.process import process_envelope
    from chalicelib.usecases.webhooks import receive_x
    from tools.replay import inbound, read_rows, webhook_payload

    local_env = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
    rows = [r for r in inbound(read_rows()) if not r.in_reply_to][:SAMPLE]
    results: dict = {"mentions": len(rows)}

    with mock_aws():
        try:
            from tools.local_aws import fast_retention_check, partition_queries

            fast_retention_check()  # moto's receive is otherwise O(n²) in queue length: figures would drift
            partition_queries()  # and its query reads the whole table: the state table's many partitions
        except ImportError:
            pass
        boto3.client("cloudformation").create_stack(
            StackName="bench", TemplateBody=(ROOT / "infra" / "template.yaml").read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "local"}])
        from datetime import datetime, timezone
        clock = FixedClock(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))  # every desk but on-call closed
        svc = bootstrap.build(Settings.from_env(local_env), clock=clock, secrets=Secrets(Settings.from_env(local_env),
                                                                                        env=local_env))
        secret = local_env["X_CONSUMER_SECRET"]
        shift = clock.now() - rows[0].created_at
        bodies = []
        for row in rows:
            body = json.dumps(webhook_payload(row, brand_id="1000000001", shift=shift - timedelta(minutes=1))).encode()
            bodies.append((body, sign(secret, body)))

        # 1. ingest: webhook use case (verify, validate, one SendMessage) vs a bare SendMessage of the same body
        sqs = boto3.client("sqs")
        webhook_times, bare_times = [], []
        calls: collections.Counter = collections.Counter()
        receive_x(svc, *bodies[0])  # warm: the queue URL is looked up once per container
        for n in range(ROUNDS):  # interleaved, each side on a new empty queue
            svc.queues._names["inbound"] = name = f"bench-inbound-{n}"
            svc.queues._urls[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
            with counting_aws_calls() as round_calls:
                webhook_times.append(median_time(lambda: [receive_x(svc, b, s) for b, s in bodies], rounds=1))
            calls.update(round_calls)
            fresh = sqs.create_queue(QueueName=f"bench-bare-{n}")["QueueUrl"]
            bare_times.append(median_time(
                lambda fresh=fresh: [sqs.send_message(QueueUrl=fresh, MessageBody=b.decode()) for b, _ in bodies],
                rounds=1))
        svc.queues._names["inbound"] = "responder-inbound"
        results["ingest_aws_calls_per_mention"] = round(calls["sqs.SendMessage"] / (len(bodies) * ROUNDS), 3)
        results["ingest_other_aws_calls"] = sum(calls.values()) - calls["sqs.SendMessage"]
        results["ingest_vs_bare_sendmessage"] = round(
            statistics.median(webhook_times) / statistics.median(bare_times), 2)
        results["webhook_body_bytes_median"] = statistics.median(len(b) for b, _ in bodies)

        # 2. processing: one envelope per mention, as the webhook queues it (the mention it parsed, envelope version
        # 2), through the process use case, then the outbox
        envelopes = [e.to_dict() for b, _ in bodies
                     for e in pack(x_parse(json.loads(b), brand_id="1000000001"), source="x", received_at=clock.now())]
        for desk in svc.config.desk_ids:  # empty queues before each measured step: nothing grows across runs
            empty_queue(sqs, sqs.get_queue_url(QueueName=svc.config.queue_name(desk))["QueueUrl"])
        # what processing hands to the outbox (the acknowledgements the rate did not let go at once), recorded as it
        # is sent: the outbox queue holds them for the rate's wait in real seconds, which a slow run may or may not
        # have passed when it reads the queue
        handed: list[dict] = []
        send_outbox = svc.queues.send_outbox

        def recording_send_outbox(message: dict, *, delay: int = 0) -> str:
            handed.append(message)
            return send_outbox(message, delay=delay)

        svc.queues.send_outbox = recording_send_outbox  # type: ignore[method-assign]
        try:
            with counting_aws_calls() as calls:
                started = time.perf_counter()
                for envelope in envelopes:
                    process_envelope(svc, envelope)
                process_seconds = time.perf_counter() - started
        finally:
            svc.queues.send_outbox = send_outbox  # type: ignore[method-assign]
        process_calls = sum(calls.values())
        acks = [OutboxItem.from_dict(message) for message in handed]
        clock.advance(hours=1)  # the outbox sends them later: the channel's rate has refilled by then
        svc.settings = svc.settings.model_copy(update={"outbound_per_minute": 100_000})  # not measured here
        with counting_aws_calls() as deliver_calls, contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            for message in acks:
                deliver(svc, message)
            deliver_seconds = time.perf_counter() - started
        ddb = boto3.client("dynamodb")
        started = time.perf_counter()
        for i in range(process_calls):
            ddb.put_item(TableName="responder-state", Item={"pk": {"S": f"bench#{i}"}, "sk": {"S": "x"}})
        bare_seconds = time.perf_counter() - started
        results.update({
            "process_aws_calls_per_mention": round(process_calls / len(envelopes), 2),
            "process_aws_calls_by_operation": dict(sorted(calls.items())),
            "acks_queued": len(acks),
            "deliver_aws_calls_per_ack": round(sum(deliver_calls.values()) / max(1, len(acks)), 2),
            "process_vs_same_number_of_bare_putitem": round(process_seconds / bare_seconds, 2),
            "deliver_seconds_per_ack_vs_bare_putitem": round(
                (deliver_seconds / max(1, len(acks))) / (bare_seconds / process_calls), 2),
        })

        # 3. pure domain: triage and the calendar, per call, vs json.loads of the same tweet (a floor)
        config = svc.config
        texts = [r.text for r in rows]
        triage_t = median_time(lambda: [triage(t, channel="x", config=config) for t in texts])
        parse_t = median_time(lambda: [json.loads(b) for b, _ in bodies])
        calendar = Calendar(config)
        times = [r.created_at for r in rows]
        cal_t = median_time(lambda: [calendar.next_opening("complaints", t) for t in times])
        results.update({
            "triage_microseconds_per_message": round(triage_t / len(texts) * 1e6, 1),
            "triage_vs_json_parse_of_the_webhook": round(triage_t / parse_t, 1),
            "next_opening_microseconds_per_call": round(cal_t / len(times) * 1e6, 1),
        })
        for desk in svc.config.desk_ids:
            empty_queue(sqs, sqs.get_queue_url(QueueName=svc.config.queue_name(desk))["QueueUrl"])
    return results


def main(argv: list[str] | None = None) -> int:
    global SAMPLE, ROUNDS
    import argparse
    import platform
    from datetime import datetime, timezone

    from bench import costs, latency, listening, package, report, reports, scenarios, storm, team_feed

    parser = argparse.ArgumentParser(description="make bench: bench/results.json and bench/results.md")
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--storm-n", type=int, default=STORM_N, help="storm mentions (python -m bench.storm --n 10000: "
                        "the issue's full storm, too slow for make bench on moto in-process)")
    parser.add_argument("--storm-per-minute", type=int, default=120, help="storm outbound rate (0: each channel's own)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of each scenario")
    parser.add_argument("--mentions", type=int, default=SAMPLE, help="mentions through the use cases (ratios)")
    parser.add_argument("--skip-package", action="store_true", help="do not build the deployment package")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)
    SAMPLE, ROUNDS = args.mentions, args.rounds
    started = time.perf_counter()
    quiet_moto()
    out: dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    sections = [
        ("ack_latency_local_stack", lambda: latency.run(samples=args.latency_samples)),
        ("scenarios", lambda: scenarios.run(rounds=args.rounds)),
        ("pipeline_ratios", pipeline_figures),
        ("cold_start", lambda: {**import_figures(), "top_imports": top_imports()}),
        ("package", (lambda: {"skipped": True}) if args.skip_package else package.measure),
        # docs/adr/0027 and 0024: python -m bench.reports or python -m bench.team_feed alone
        ("reports", lambda: reports.run(rounds=args.rounds, tickets=min(reports.TICKETS, args.mentions))),
        ("team_feed", lambda: team_feed.run(night_tickets=min(team_feed.NIGHT_TICKETS, args.mentions))),
        ("listening", lambda: listening.run(rounds=args.rounds)),  # docs/adr/0032: python -m bench.listening
        ("storm", lambda: storm.run(n=args.storm_n, minutes=10.0, per_minute=args.storm_per_minute or None,
                                    plot=args.out_dir / "storm.png")),
    ]
    for name, section in sections:
        mark = time.perf_counter()
        print(f"bench: {name}...", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(io.StringIO()):
            out[name] = section()
        out.setdefault("seconds", {})[name] = round(time.perf_counter() - mark, 1)
    out["prices"] = costs.PRICES
    out["cost_assumptions"] = costs.ASSUMPTIONS
    out["whatsapp_per_million"] = costs.whatsapp_per_million()
    out["seconds"]["total"] = round(time.perf_counter() - started, 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "results.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    markdown = report.markdown(out)
    (args.out_dir / "results.md").write_text(markdown)
    print(markdown)
    return 0


def quiet_moto() -> None:
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS", category=UserWarning)
    warnings.filterwarnings("ignore", message="No Moto CloudFormation support", category=UserWarning)
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


if __name__ == "__main__":
    sys.exit(main())
