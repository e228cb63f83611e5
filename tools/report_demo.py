"""The leads' reports on a running local stack: the sample replayed in time order while an agent answers part of it
through the agents' API, then the report a lead reads.

    make run                                             # in one terminal (RESPONDER_CLOCK=... to start at a time)
    python -m tools.report_demo [--day 2017-10-31] [--speed 600] [--pace 2] [--settle 20]

The replay (``tools.replay``) sends the customers' tweets of one day of the sample (``--day``; ``all``: the whole
sample) as signed X webhooks, in time order, ``--speed`` times faster than they were written; meanwhile Amira (a
documented local agent, ``tools.local_agents``) takes the next ticket every ``--pace`` seconds while her desk is open,
answers it, and resolves every other one. Then Chloe, a lead, reads ``GET /agent/reports`` for the app's today and the
tables are printed as ``python -m tools.inbox report`` prints them. Local stack only: it signs in with the local
agents' documented passwords.
"""
from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
import typer

from tools.local_agents import LOCAL_AGENTS

REPLIES = ("Sorry to hear that: we're on it, and we'll come back to you here.",
           "Thanks for telling us. Could you send us your booking reference by DM?",
           "That's not the service we want you to have: a refund is on its way.")


def _password(username: str) -> str:
    return next(a.password for a in LOCAL_AGENTS if a.username == username)


def sign_in(session: requests.Session, base: str, username: str) -> dict[str, str]:
    got = session.post(f"{base}/agent/sign-in", json={"username": username, "password": _password(username)},
                       timeout=10)
    got.raise_for_status()
    return {"Authorization": f"Bearer {got.json()['token']}"}


class Agent(threading.Thread):
    """One agent at the desk: the next ticket every ``pace`` seconds, answered, every other one resolved."""

    def __init__(self, base: str, username: str, pace: float):
        super().__init__(daemon=True)
        self.base, self.username, self.pace = base, username, pace
        self.session = requests.Session()
        self.stop = threading.Event()
        self.answered = self.resolved = self.idle = 0
        self.refusals: dict[str, int] = {}

    def run(self) -> None:
        auth = sign_in(self.session, self.base, self.username)
        n = 0
        while not self.stop.wait(self.pace):
            got = self.session.post(f"{self.base}/agent/next", json={}, headers=auth, timeout=30)
            ticket = got.json().get("ticket") if got.status_code == 200 else None
            if not ticket:
                reason = got.json().get("error") or got.json().get("message") or "nothing waiting"
                self.refusals[str(reason)[:60]] = self.refusals.get(str(reason)[:60], 0) + 1
                self.idle += 1
                continue
            n += 1
            action = "reply_resolve" if n % 2 == 0 else "reply"
            done = self.session.post(f"{self.base}/agent/tickets/{ticket['ticket_id']}/{action}", headers=auth,
                                     json={"text": REPLIES[n % len(REPLIES)], "request_id": f"demo-{n}"}, timeout=30)
            if done.status_code == 200:
                self.answered += 1
                self.resolved += action == "reply_resolve"
            else:
                reason = str(done.json().get("error"))[:60]
                self.refusals[reason] = self.refusals.get(reason, 0) + 1


def main(
    base_url: str = typer.Option("", help="the running stack (default: RESPONDER_URL, else http://127.0.0.1:$PORT)"),
    day: str = typer.Option("2017-10-31", help="the sample's day to replay (YYYY-MM-DD), or all"),
    speed: float = typer.Option(600.0, help="N times faster than the tweets were written"),
    pace: float = typer.Option(2.0, help="seconds between the agent's tickets"),
    settle: float = typer.Option(20.0, help="seconds to let the stack finish after the replay"),
    agent: str = typer.Option("amira", help="the local agent who answers"),
    lead: str = typer.Option("chloe", help="the local lead who reads the report"),
) -> None:
    from tools.inbox import _print_report_table, console
    from tools.replay import inbound, read_rows, replay
    from tools.stack_url import base_url as configured

    base = (base_url or configured()).rstrip("/")
    rows = inbound(read_rows())
    if day != "all":
        wanted = date.fromisoformat(day)
        rows = [r for r in rows if r.created_at.date() == wanted]
    if not rows:
        raise typer.BadParameter(f"the sample has no customer tweet on {day}")
    worker = Agent(base, agent, pace)
    worker.start()
    started = time.monotonic()
    counts = replay(base, rows, speed=speed)
    console.print(f"replayed {counts['sent']} tweets of {day} at {speed:g}x in {time.monotonic() - started:.0f} s: "
                  f"{counts['accepted']} accepted, {counts['rejected']} rejected")
    time.sleep(settle)
    worker.stop.set()
    worker.join(timeout=60)
    console.print(f"{agent} answered {worker.answered} tickets and resolved {worker.resolved} of them; "
                  f"{worker.idle} times nothing to take"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in worker.refusals.items())})" if worker.refusals else ""))
    session = requests.Session()
    health: dict[str, Any] = session.get(f"{base}/health", timeout=10).json()
    auth = sign_in(session, base, lead)
    now = datetime.fromisoformat(health["time"])
    zone = ZoneInfo(str(health.get("timezone") or "Europe/London"))
    today = now.astimezone(zone).date().isoformat()
    got = session.get(f"{base}/agent/reports", params={"from": today, "to": today}, headers=auth, timeout=60)
    got.raise_for_status()
    report = got.json()
    console.rule(f"Report {report['from']} to {report['to']} by {report['by']} ({report['timezone']}), "
                 f"read by {lead} at {now:%H:%M:%S} UTC on the app's clock", align="left")
    for table in report["tables"]:
        _print_report_table(table)


if __name__ == "__main__":
    typer.run(main)
