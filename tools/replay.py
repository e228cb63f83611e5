"""Replay real customer-service tweets (../shared/data/twcs_sample.csv) into a running stack as signed X
Account Activity webhooks.

    python -m tools.replay                      # every inbound tweet, all at once (4 in flight)
    python -m tools.replay --speed 600          # in real time order, 10 minutes of 2017 per second
    python -m tools.replay --limit 50 --keep-time
    python -m tools.replay --rate 8                 # 8 webhooks a second (what the local stack sustains)

Each tweet is written when it is sent, on the app's clock (from /health): the replay's order and spacing, anchored
at the app's now — all at once, every tweet is written now; with --speed, 2017's spacing divided by it. --keep-time
sends the tweets' own 2017 times instead. No tweet carries a language: the sample does not say.
"""
from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests
import typer

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs_sample.csv"
LOCAL_SECRET = "local-x-consumer-secret"  # stage local's documented dummy (.chalice/config.json)
LOCAL_BRAND_ID = "1000000001"


@dataclass(frozen=True)
class Row:
    tweet_id: str
    author_id: str
    inbound: bool
    created_at: datetime
    text: str
    in_reply_to: str


def read_rows(path: Path = DEFAULT_CSV) -> list[Row]:
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            if not raw.get("created_at") or raw.get("inbound") not in ("True", "False"):
                continue  # a broken line of the export (an unquoted line break): not a tweet
            reply = raw.get("in_response_to_tweet_id") or ""
            rows.append(Row(
                tweet_id=raw["tweet_id"], author_id=raw["author_id"], inbound=raw["inbound"] == "True",
                created_at=parsedate_to_datetime(raw["created_at"]).astimezone(timezone.utc), text=raw["text"],
                in_reply_to=str(int(float(reply))) if reply else ""))
    return rows


def inbound(rows: Iterable[Row]) -> list[Row]:
    """Customers' tweets, oldest first."""
    return sorted((r for r in rows if r.inbound), key=lambda r: (r.created_at, int(r.tweet_id)))


def author_number(author_id: str) -> str:
    digits = "".join(ch for ch in author_id if ch.isdigit())
    return digits or str(abs(hash(author_id)) % 10**9)


def webhook_payload(row: Row, *, brand_id: str, shift: timedelta = timedelta(0), at: datetime | None = None) -> dict:
    """The tweet as X's webhook delivers it, written at ``at`` (default: its own time, moved by ``shift``). No
    ``lang``: the sample does not say which language a tweet is in, and X's guess is not ours to make up."""
    at = at or row.created_at + shift
    return {"for_user_id": brand_id, "tweet_create_events": [{
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"), "id": int(row.tweet_id), "id_str": row.tweet_id,
        "text": row.text, "truncated": False,
        "in_reply_to_status_id_str": row.in_reply_to or None,
        "user": {"id_str": author_number(row.author_id), "screen_name": f"customer{author_number(row.author_id)}",
                 "name": f"Customer {author_number(row.author_id)}", "followers_count": 100},
    }]}


def signed(payload: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    from chalicelib.channels.x import sign

    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "x-twitter-webhooks-signature": sign(secret, body)}


def schedule(rows: list[Row], speed: float | None, rate: float | None = None) -> Iterator[tuple[float, Row]]:
    """(seconds from start, row): real spacing divided by ``speed``, evenly at ``rate`` per second, or all at once."""
    if not rows:
        return
    first = rows[0].created_at
    for n, row in enumerate(rows):
        if speed:
            yield (row.created_at - first).total_seconds() / speed, row
        else:
            yield (n / rate if rate else 0.0), row


def replay(base_url: str, rows: list[Row], *, secret: str = LOCAL_SECRET, brand_id: str = LOCAL_BRAND_ID,
           speed: float | None = None, rate: float | None = None, keep_time: bool = False, workers: int = 4,
           session: requests.Session | None = None) -> dict[str, int]:
    session = session or requests.Session()
    # each tweet is written when it is sent, on the app's clock: the replay's order and spacing, anchored at the
    # app's now (never years ahead for the sample's few 2011 tweets, never in the past for the old ones)
    app_now = None if keep_time or not rows else \
        datetime.fromisoformat(session.get(base_url + "/health", timeout=10).json()["time"])
    counts = {"sent": 0, "accepted": 0, "rejected": 0}
    counting = threading.Lock()

    def send(row: Row, at: datetime | None) -> None:
        body, headers = signed(webhook_payload(row, brand_id=brand_id, at=at), secret)
        response = session.post(base_url + "/webhooks/x", data=body, headers=headers, timeout=30)
        accepted = response.json().get("accepted", 0) if response.status_code == 200 else 0
        with counting:  # several sending threads: `+=` on a shared dict can lose an update
            counts["sent"] += 1
            counts["accepted" if response.status_code == 200 else "rejected"] += \
                accepted if response.status_code == 200 else 1
        if response.status_code != 200:
            print(f"tweet {row.tweet_id}: HTTP {response.status_code} {response.text[:200]}", file=sys.stderr)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for offset, row in schedule(rows, speed, rate):
            delay = start + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, row, app_now + timedelta(seconds=offset) if app_now else None)
    return counts


def report(base_url: str, rows: list[Row], *, session: requests.Session | None = None) -> dict[str, int]:
    """What the customers of ``rows`` received from a local stack (its ``/local/outbox``): who wrote, who was
    acknowledged, who more than once (the product promises never), and the references they were given."""
    session = session or requests.Session()
    sent = session.get(base_url + "/local/outbox", params={"limit": 20_000}, timeout=60).json()["messages"]
    wrote = {author_number(r.author_id) for r in rows}
    acks: dict[str, set[str]] = {}
    for message in sent:
        if message["idempotency_key"].startswith("ack#") and message["recipient"] in wrote:
            acks.setdefault(message["recipient"], set()).add(message["idempotency_key"])
    return {"customers_wrote": len(wrote), "customers_acknowledged": len(acks),
            "acknowledged_more_than_once": sum(1 for keys in acks.values() if len(keys) > 1),
            "acknowledgements": sum(len(keys) for keys in acks.values()),
            "references_given": len({key.split("#")[1] for keys in acks.values() for key in keys})}


ADMIN_TOKEN = "local-admin-token"  # stage local's documented dummy (README: local secrets)


def accounts(base_url: str, *, session: requests.Session | None = None) -> dict[str, Any]:
    """The stack's account of every decided acknowledgement (``GET /admin/acknowledgements``)."""
    session = session or requests.Session()
    token = os.environ.get("RESPONDER_ADMIN_TOKEN", ADMIN_TOKEN)
    answer = session.get(base_url + "/admin/acknowledgements", headers={"Authorization": f"Bearer {token}"},
                         timeout=120)
    answer.raise_for_status()
    return dict(answer.json())


def drained(base_url: str, limit: float, *, poll: float = 5.0) -> dict[str, Any]:
    """Wait (at most ``limit`` seconds) until no acknowledgement waits for its channel's rate or is on its way;
    the account then (or at the limit)."""
    deadline = time.monotonic() + limit
    while True:
        current = accounts(base_url)
        if not (current["waiting"] or current["queued"]) or time.monotonic() >= deadline:
            return current
        print(f"draining: {current['waiting']} waiting, {current['queued']} on their way, {current['sent']} sent",
              flush=True)
        time.sleep(poll)


def print_accounts(data: dict[str, Any]) -> None:
    """Decided = sent + waiting + queued + expired + parked, and the dead-letter queues' depths."""
    states = ("sent", "waiting", "queued", "expired", "parked")
    print(f"{'acknowledgements decided':32} {data['decided']} = " + " + ".join(f"{data[s]} {s}" for s in states))
    for queue, depth in data["dead_letter_queues"].items():
        print(f"{'on ' + queue:32} {depth}")


def main(
    base_url: str = typer.Option("", help="the running stack (default: RESPONDER_URL, else "
                                           "http://127.0.0.1:$PORT, else port 8000)"),
    csv_path: Path = typer.Option(DEFAULT_CSV, "--csv", help="twcs-format CSV"),
    speed: float = typer.Option(0.0, help="replay in time order, N times faster than real time (0: all at once)"),
    rate: float = typer.Option(0.0, help="instead, N webhooks a second, evenly (0: as fast as possible)"),
    limit: int = typer.Option(0, help="only the first N inbound tweets (0: all)"),
    keep_time: bool = typer.Option(False, help="keep the tweets' own 2017 times instead of writing each when it is "
                                              "sent, on the app's clock"),
    secret: str = typer.Option(LOCAL_SECRET, help="X consumer secret the stack verifies with"),
    show_report: bool = typer.Option(False, "--report", help="then wait and print what customers received"),
    settle: float = typer.Option(60.0, help="with --report: seconds to let the stack finish processing"),
    drain: float = typer.Option(1800.0, help="with --report: then at most this many seconds for the acknowledgements "
                                             "waiting for the channel's rate to go out"),
) -> None:
    if not base_url:
        from tools.stack_url import base_url as configured

        base_url = configured()
    rows = inbound(read_rows(csv_path))
    if limit:
        rows = rows[:limit]
    started = time.monotonic()
    counts = replay(base_url, rows, secret=secret, speed=speed or None, rate=rate or None, keep_time=keep_time)
    print(f"replayed {counts['sent']} inbound tweets in {time.monotonic() - started:.1f}s: "
          f"{counts['accepted']} accepted, {counts['rejected']} rejected")
    if show_report:
        time.sleep(settle)
        accounts = drained(base_url, drain)
        for name, value in report(base_url, rows).items():
            print(f"{name.replace('_', ' '):32} {value}")
        print_accounts(accounts)


if __name__ == "__main__":
    typer.run(main)
