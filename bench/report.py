"""bench/results.md from the figures of one run (bench/results.json)."""
from __future__ import annotations

from typing import Any

NAMES = {"new_out_of_hours_complaint": "new complaint, out of hours",
         "new_in_hours_complaint": "new complaint, in hours", "duplicate": "duplicate webhook",
         "chase": "chase (open ticket)", "agent_reply": "agent reply"}


def _money(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def _listening(lis: dict[str, Any]) -> list[str]:
    """Listening's section (docs/adr/0032-listening.md, ``bench.listening``): a day's searches, then one post."""
    d = lis.get("per_day")
    if not d:
        return []
    p = d["x_prices"]
    lines = ["", f"Listening (docs/adr/0032): a day of `poll_listening` ({d['runs_per_day']} runs) for the brand "
             f"file's terms ({', '.join(d['terms'])}). X recent search bills ${p['per_read_usd']:g} a post read and "
             f"${p['per_user_read_usd']:g} an author (an empty answer costs nothing); the reads stop for the day at "
             f"`spend.x.read_daily_usd` (${p['read_daily_usd']:g}), which buys {d['x_posts_the_budget_buys']:,} "
             f"posts each by a different author ({d['x_posts_the_budget_buys_if_authors_were_free']:,} if the "
             "authors cost nothing), spread evenly over the day:", "",
             "| matching posts a day on X | posts read | X reads a day | search requests | not read that day | "
             "budget spent (after the brand's midnight) |", "|---|---|---|---|---|---|"]
    for row in d["x"]:
        lines.append(f"| {row['matching_posts']:,} | {row['posts_read']:,} | {_money(row['read_usd'])} | "
                     f"{row['search_requests']} | {row['not_read_that_day']:,} | {row['budget_spent_at'] or '-'} |")
    bsky, masto = d["bluesky"], d["mastodon"]
    lines += ["", f"Bluesky post search: {len(bsky['queries'])} queries × {d['runs_per_day']} runs = "
              f"{bsky['requests_per_day']} requests a day; Mastodon hashtag timelines: {len(masto['hashtags'])} tags "
              f"({', '.join(masto['hashtags'])}) × {d['runs_per_day']} = {masto['requests_per_day']} requests a day; "
              f"both free (one page a run while fewer than {bsky['page']} / {masto['page']} posts a term arrive in "
              "5 minutes)."]
    sc = lis.get("per_post", {}).get("scenarios", {})
    if sc:
        out = lis["per_post"]["outcome"]
        lines += ["", "One post on moto, Sunday 03:00, queued as a poller queues it, then `process_inbound` and "
                  "`deliver_outbox` (the poll run's own invocation, shared by its posts, left out):", "",
                  "| post | AWS calls (queue / process / deliver) | WRU | RRU | acks sent | AWS $/M | X $/M | "
                  "total $/M |", "|---|---|---|---|---|---|---|---|"]
        names = {"listened_post": "listened (names the brand, no tag): a flagged ticket",
                 "tagged_post": "the same post tagging the brand: a ticket and its ack"}
        x_read = lis["listened_post_x_read_usd_per_million"]
        for name, s in sc.items():
            ph, cost = s["phases"], s["cost_per_million"]
            split = " / ".join(f"{ph[q]['aws_calls']:g}" for q in ("webhook", "process", "deliver"))
            platform = x_read if name == "listened_post" else cost["platform_total"]
            acks = out["acks_per_post"].get(name, 0)
            lines.append(f"| {names.get(name, name)} | {s['aws_calls']:g} ({split}) | {s['dynamodb_wru']:g} | "
                         f"{s['dynamodb_rru']:g} | {acks:g} | {_money(cost['aws_total'])} | "
                         f"{_money(platform)} | {_money(cost['aws_total'] + platform)} |")
        lines += ["", f"X $/M: the listened post's read and its author's; the tagged post's acknowledgement. "
                  f"Listened tickets flagged \"not addressed to us\": {out['flagged_listening']} of "
                  f"{out['tickets']}."]
    runs = lis.get("per_post", {}).get("poll_runs")
    if runs:
        quiet, busy, day = runs["quiet_run"], runs["run_with_posts"], runs["quiet_day"]
        lines += ["", f"The `poll_listening` run itself on the local stand-ins: {quiet['aws_calls']} AWS calls "
                  f"({', '.join(f'{op} {n}' for op, n in quiet['calls_by_operation'].items())}; "
                  f"{quiet['dynamodb_wru']:g} WRU, {quiet['dynamodb_rru']:g} RRU) when nothing is new; "
                  f"{busy['aws_calls']} when it queues {busy['queued']} posts ({busy['posts_injected_per_platform']} "
                  f"per platform). A quiet day, {day['runs']} runs of {day['platform_requests_per_run']} platform "
                  f"requests each (assumed {day['platform_request_ms']} ms each): ${day['usd']:.3f} of AWS a day, "
                  f"{_money(day['usd_per_month'])} a month."]
    return lines


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"Measured {r['date']} on `{m['platform']}`, {m['cpus']} CPUs, Python {m['python']} "
             f"(`make bench`, {r['seconds']['total']:.0f} s).", ""]
    lines += ["| figure | value |", "|---|---|"]
    lat = r.get("ack_latency_local_stack", {})
    if lat.get("acknowledged"):
        lines.append(f"| ack latency, local stack (signed X webhook → ack in the sandbox outbox; Sunday 03:00; "
                     f"{lat['samples']} real complaints one at a time) | p50 {lat['p50_ms']} ms · p95 {lat['p95_ms']} "
                     f"ms · p99 {lat['p99_ms']} ms ({lat['not_acknowledged']} not acknowledged) |")
    st = r.get("storm", {})
    if st:
        from bench.storm import report_row

        lines.append(report_row(st))
    pkg = r.get("package", {})
    if pkg and not pkg.get("skipped"):
        largest = ", ".join(f"{k} {v / 2**20:.1f}" for k, v in list(pkg["largest_zipped"].items())[:4])
        lines.append(f"| deployment package (`chalice package`, PIP_NO_DEPS=1; boto3, botocore, s3transfer, jmespath, "
                     f"urllib3 from the runtime) | {pkg['zipped_mb']} MiB zipped ({pkg['zipped_bytes']:,} bytes), "
                     f"{pkg['unzipped_mb']} MiB unzipped; target ≤ {pkg['target_zipped_bytes']:,} bytes (10 MB): "
                     f"{'met' if pkg['within_target'] else 'not met'}; largest (MiB zipped): {largest}; "
                     f"imports with the runtime's packages only: "
                     f"{'yes' if pkg['imports_with_runtime_only'] else 'NO'} |")
    cold = r.get("cold_start", {})
    if cold:
        top = ", ".join(f"{t['package']} {t['cumulative_ms']} ms" for t in cold["top_imports"][:5])
        lines.append(f"| cold start: `import app` ÷ `import boto3` | {cold['import_app_over_import_boto3']} "
                     f"({cold['import_app_seconds']} s ÷ {cold['import_boto3_seconds']} s; "
                     f"{cold['modules_imported_by_app']} modules); slowest imports: {top} |")
    pipe = r.get("pipeline_ratios", {})
    if pipe:
        lines.append(f"| processing ÷ the same number of bare `PutItem`s ({pipe['mentions']} mentions) | "
                     f"{pipe['process_vs_same_number_of_bare_putitem']} (webhook ÷ bare `SendMessage`: "
                     f"{pipe['ingest_vs_bare_sendmessage']}; triage {pipe['triage_microseconds_per_message']} µs a "
                     f"message) |")
    sc = r.get("scenarios", {}).get("scenarios", {})
    if sc:
        lines += ["", "Per mention, end to end (webhook + process + deliver), warm, on moto; DynamoDB units computed "
                  "from item sizes; cost per million mentions at the list prices below:", "",
                  "| scenario | AWS calls (webhook / process / deliver) | WRU | RRU | Lambda invocations | "
                  "AWS $/M | X API $/M | total $/M |", "|---|---|---|---|---|---|---|---|"]
        for name, s in sc.items():
            ph = s["phases"]
            cost = s["cost_per_million"]
            split = " / ".join(f"{ph[p]['aws_calls']:g}" for p in ("webhook", "process", "deliver"))
            lines.append(f"| {NAMES.get(name, name)} | {s['aws_calls']:g} ({split}) | {s['dynamodb_wru']:g} | "
                         f"{s['dynamodb_rru']:g} | {s['lambda_invocations']:g} | {_money(cost['aws_total'])} | "
                         f"{_money(cost['platform_total'])} | {_money(cost['total'])} |")
        lines += ["", "AWS cost per million by component:", "",
                  "| scenario | Lambda | DynamoDB | SQS | API Gateway | CloudWatch Logs |", "|---|---|---|---|---|---|"]
        for name, s in sc.items():
            a = s["cost_per_million"]["aws"]
            lines.append(f"| {NAMES.get(name, name)} | {_money(a['lambda_compute'] + a['lambda_requests'])} | "
                         f"{_money(a['dynamodb_writes'] + a['dynamodb_reads'])} | {_money(a['sqs'])} | "
                         f"{_money(a['api_gateway'])} | {_money(a['cloudwatch_logs'])} |")
    whatsapp = r.get("whatsapp_per_million")
    if whatsapp is None and sc:  # a run recorded before WhatsApp: the prices the code charges today
        from bench.costs import whatsapp_per_million

        whatsapp = whatsapp_per_million()
    if whatsapp:
        markets = list(whatsapp[0]["per_million"])
        lines += ["", "WhatsApp's charge per million messages (Meta's USD rate card from 1 July 2025, by the "
                  "customer's market; free-form messages charged at the utility rate since 1 October 2026; the AWS "
                  "side is that of the rows above):", "",
                  "| message | category | " + " | ".join(markets) + " |", "|---|---|" + "---|" * len(markets)]
        for row in whatsapp:
            lines.append(f"| {row['case']} | {row['category']} | "
                         + " | ".join(_money(row["per_million"][m]) for m in markets) + " |")
    lines += _listening(r.get("listening", {}))
    rep = r.get("reports", {})
    if rep.get("per_work"):  # docs/adr/0027-reports.md
        added, life, read = rep["per_work"]["added"], rep["per_work"]["added_per_ticket_life"], rep["report_read"]
        lines += ["", "The leads' reports (docs/adr/0027): what recording each ticket's figures adds, on moto:", "",
                  "| work | added AWS calls | added WRU | added RRU |", "|---|---|---|---|"]
        for name, s in added.items():
            lines.append(f"| {NAMES.get(name, name)} | {s['aws_calls']:g} | {s['dynamodb_wru']:g} | "
                         f"{s['dynamodb_rru']:g} |")
        lines += [f"| a ticket's life (created out of hours, answered, resolved) | {life['aws_calls']:g} | "
                  f"{life['dynamodb_wru']:g} | {life['dynamodb_rru']:g} |", "",
                  f"A report over a day of {read['tickets']} tickets: {read['aws_calls']} calls "
                  f"({', '.join(f'{op} {n}' for op, n in read['calls_by_operation'].items())}), "
                  f"{read['dynamodb_rru']:g} RRU; never a read of the tickets table."]
    feed = r.get("team_feed", {})
    if feed.get("desk_messages_consumed"):  # docs/adr/0024-desk-queues-consumed-by-the-rota.md
        start, on = feed["shift_start"], feed["on_shift_ticket"]
        lines += ["", "The team feed (docs/adr/0024): what consuming the desk queues adds, on moto "
                  "(the posts to Slack, Teams and webhooks are HTTPS, not AWS calls):", "",
                  f"- a rota run with nothing to switch: {feed['rota_run_at_night']['aws_calls']} calls (one "
                  "consumer state read per desk; deployed, a Lambda `GetEventSourceMapping`, free)",
                  f"- a shift start with {feed['night_tickets']} tickets waiting: {start['aws_calls']} calls "
                  f"({', '.join(f'{op} {n}' for op, n in start['calls_by_operation'].items())}), "
                  f"{start['dynamodb_rru']:g} RRU: the digest",
                  f"- per desk message consumed: {feed['consume_aws_calls_per_desk_message']:g} calls "
                  "(handed over already? the digest mark; one SendMessageBatch of its deliveries; handed over)",
                  f"- per delivery: {feed['deliver_aws_calls_per_delivery']:g} calls; a ticket on shift: "
                  f"{on['consume_aws_calls']} to consume, {on['deliveries']} deliveries, {on['deliver_aws_calls']} "
                  f"calls and {on['deliver_dynamodb_wru']:g} WRU to post them (a Slack thread remembered)"]
    p = r.get("prices", {})
    if p:
        lines += ["", f"Prices ({p['region']}, USD, on-demand, no free tier): "
                  f"Lambda ${p['lambda_gb_second']} per GB-s "
                  f"and ${p['lambda_per_million_requests']} per million requests (512 MB); DynamoDB "
                  f"${p['dynamodb_per_million_wru']} per million WRU, "
                  f"${p['dynamodb_per_million_rru']} per million RRU; "
                  f"SQS ${p['sqs_per_million_requests']} per million requests; API Gateway (REST) "
                  f"${p['api_gateway_per_million_requests']} per million; CloudWatch Logs "
                  f"${p['cloudwatch_logs_per_gb_ingested']} per GB ingested; X ${p['x_per_post']} a post, "
                  f"${p['x_per_post_with_url']} a post with a URL (acks on X carry none), ${p['x_per_owned_read']} an "
                  f"owned read (a polled mention: +$1,000 per million); Meta Graph API, Bluesky and Mastodon free. "
                  f"Assumptions and every figure: `bench/results.json`."]
    return "\n".join(lines) + "\n"
