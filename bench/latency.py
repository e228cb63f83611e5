"""Acknowledgement latency on the local stack (``python -m tools.local_stack``, as ``make run`` starts it), its
clock started at Sunday 03:00 (every desk but on-call closed): a signed X webhook POST of a real out-of-hours
complaint from the twcs sample, timed until its acknowledgement is recorded in the outbound sandbox
(``GET /local/outbox``, polled every 20 ms). One mention at a time, each from a customer of its own; the stack's
SQS handlers drain the queues as Lambda's event source mappings would. Times are the client's, HTTP included.
"""
from __future__ import annotations

import json
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

CLOCK = "2026-11-29T03:00:00+00:00"
POLL = 0.02


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def complaint_rows(limit: int) -> list[Any]:
    """First contacts of the twcs sample that triage acknowledges as complaints, one per customer."""
    from chalicelib.configfile import load_config
    from chalicelib.domain.triage import triage
    from tools.replay import inbound, read_rows

    config = load_config("chalicelib/brand.yaml")
    rows, authors = [], set()
    for row in inbound(read_rows()):
        if row.in_reply_to or row.author_id in authors:
            continue
        result = triage(row.text, channel="x", config=config)
        if result.intent == "complaint" and result.acknowledge:
            rows.append(row)
            authors.add(row.author_id)
        if len(rows) >= limit:
            break
    return rows


def run(samples: int = 100, timeout: float = 10.0) -> dict[str, Any]:
    import requests

    from tests.e2e.conftest import PROJECT, LocalStack
    from tools.replay import LOCAL_BRAND_ID, LOCAL_SECRET, author_number, signed, webhook_payload

    (PROJECT / ".pytest_cache").mkdir(exist_ok=True)
    rows = complaint_rows(samples)
    started = time.perf_counter()
    stack = LocalStack(CLOCK)
    startup = time.perf_counter() - started
    latencies: list[float] = []
    missing = 0
    session = requests.Session()
    try:
        app_start = datetime.fromisoformat(session.get(stack.base + "/health", timeout=10).json()["time"])
        mark = time.monotonic()
        for row in rows:
            at = app_start + timedelta(seconds=time.monotonic() - mark)
            payload = webhook_payload(row, brand_id=LOCAL_BRAND_ID, shift=at - row.created_at)
            body, headers = signed(payload, LOCAL_SECRET)
            customer = author_number(row.author_id)
            sent = time.perf_counter()
            response = session.post(stack.base + "/webhooks/x", data=body, headers=headers, timeout=10)
            if response.status_code != 200:
                missing += 1
                continue
            while time.perf_counter() - sent < timeout:
                messages = session.get(stack.base + "/local/outbox", params={"limit": 20}, timeout=10)
                if any(m.get("recipient") == customer and str(m.get("idempotency_key", "")).startswith("ack#")
                       for m in messages.json()["messages"]):
                    latencies.append(time.perf_counter() - sent)
                    break
                time.sleep(POLL)
            else:
                missing += 1
    finally:
        stack.stop()
    figures: dict[str, Any] = {"samples": len(rows), "acknowledged": len(latencies), "not_acknowledged": missing,
                               "stack_startup_seconds": round(startup, 1), "clock": CLOCK}
    if latencies:
        figures.update({f"p{p}_ms": round(percentile(latencies, p) * 1000) for p in (50, 95, 99)})
        figures["mean_ms"] = round(statistics.mean(latencies) * 1000)
        figures["max_ms"] = round(max(latencies) * 1000)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
