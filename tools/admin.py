"""Oversight and operations from the command line.

    python -m tools.admin rota
    python -m tools.admin backlog complaints
    python -m tools.admin incident declare --title "No trains Reading-Oxford" --keyword reading --desk complaints
    python -m tools.admin incident list
    python -m tools.admin incident resolve INC-1A2B3C4D --follow-up
    python -m tools.admin forget x#12345
    python -m tools.admin link x@pat email#pat@example.org      (one customer; their open tickets merge)
    python -m tools.admin unlink x@pat
    python -m tools.admin ticket R7K2M9QPX
    python -m tools.admin dlq responder-inbound        (what waits there: count, kind, key, tries; no text)
    python -m tools.admin redrive responder-inbound

HTTP commands talk to RESPONDER_URL (else http://127.0.0.1:$PORT, else port 8000) with RESPONDER_ADMIN_TOKEN
(default: stage local's dummy). ``dlq`` and ``redrive`` talk to SQS directly: by default the running local stack's
(its local AWS at 127.0.0.1:$LOCAL_AWS_PORT, default 4566, with its dummy credentials); with AWS_ENDPOINT_URL, or
for a deployed stage (RESPONDER_STAGE=dev|prod, or RESPONDER_URL naming its API), your AWS credentials and region
(AWS_REGION).
"""
from __future__ import annotations

import json
import os
from urllib.parse import quote

import requests
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Responder oversight and operations", no_args_is_help=True)
incident_app = typer.Typer(help="Declare, list and resolve incidents", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
console = Console()


def _call(method: str, path: str, body: dict | None = None) -> dict:
    from tools.stack_url import base_url

    base = base_url()
    token = os.environ.get("RESPONDER_ADMIN_TOKEN", "local-admin-token")
    try:
        response = requests.request(method, base + path, json=body, timeout=30,
                                    headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as exc:
        reason = type(exc).__name__.replace("Error", " error").replace("Timeout", "timeout").lower()
        console.print(f"[red]cannot reach the responder API at {base}[/red] ({reason}): start the local stack with "
                      f"`make run`, or set RESPONDER_URL to the stage's API")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/red] {response.text}")
        raise typer.Exit(1)
    return response.json()


@app.command()
def rota() -> None:
    """Who is on shift now and next, per desk, with the backlog."""
    view = _call("GET", "/admin/rota")
    table = Table(title=f"Rota at {view['at']}")
    for column in ("desk", "open", "on shift", "closes", "next opening", "next team", "backlog"):
        table.add_column(column)
    for desk, info in view["desks"].items():
        table.add_row(desk, "yes" if info["open"] else "no", ", ".join(info["teams_on_shift"]) or "-",
                      info["closes_at"] or "-", info["next_opening"] or "-", info.get("next_team") or "-",
                      str(info.get("backlog", "")))
    console.print(table)


@app.command()
def acks() -> None:
    """Every decided acknowledgement of the open cases: sent, waiting, queued, expired or parked, per channel."""
    data = _call("GET", "/admin/acknowledgements")
    states = ("decided", "sent", "waiting", "queued", "expired", "parked")
    table = Table(title=f"Acknowledgements of open cases at {data['at']}")
    for column in ("channel", *states):
        table.add_column(column)
    for channel, row in sorted(data["per_channel"].items()):
        table.add_row(channel, *(str(row[s]) for s in states))
    table.add_row("all", *(str(data[s]) for s in states))
    console.print(table)
    console.print(f"waiting room: {data['waiting_room'] or 'empty'}; dead-letter queues: {data['dead_letter_queues']}")


@app.command()
def backlog(desk: str) -> None:
    """Waiting tickets of a desk, urgent first then oldest first contact."""
    data = _call("GET", f"/admin/backlog/{desk}")
    table = Table(title=f"{desk} ({'open' if data['open'] else 'closed'})")
    for column in ("ticket", "priority", "intent", "channel", "first contact", "flags"):
        table.add_column(column)
    for t in data["tickets"]:
        table.add_row(t["ticket_id"], t["priority"], t["intent"], t["channel"], t["first_contact_at"],
                      ", ".join(t["flags"]))
    console.print(table)


@incident_app.command("declare")
def declare(title: str = typer.Option(...), text: str = "", url: str = "",
            desk: list[str] = typer.Option([], help="desks it applies to (default: all)"),
            keyword: list[str] = typer.Option([], help="words a mention must contain (default: any)")) -> None:
    console.print_json(json.dumps(_call("POST", "/admin/incidents", {
        "title": title, "text": text, "url": url, "desks": desk, "keywords": keyword})))


@incident_app.command("list")
def list_incidents() -> None:
    console.print_json(json.dumps(_call("GET", "/admin/incidents")))


@incident_app.command("update")
def update(incident_id: str, title: str | None = None, text: str | None = None,
           url: str | None = None,
           follow_up: bool = typer.Option(False, help="send one update to each linked ticket")) -> None:
    body = {k: v for k, v in {"title": title, "text": text, "url": url}.items() if v is not None}
    body["follow_up"] = follow_up
    console.print_json(json.dumps(_call("POST", f"/admin/incidents/{incident_id}", body)))


@incident_app.command("resolve")
def resolve(incident_id: str, follow_up: bool = typer.Option(False, help="send one follow-up to each linked ticket"),
            text: str | None = None) -> None:
    body: dict = {"follow_up": follow_up}
    if text is not None:
        body["text"] = text
    console.print_json(json.dumps(_call("POST", f"/admin/incidents/{incident_id}/resolve", body)))


@app.command()
def link(identity: str, other: str = typer.Argument(..., metavar="WITH")) -> None:
    """IDENTITY and WITH are one customer (x@handle, x#id, email#address, facebook#id ...): their open tickets
    merge into the earlier one."""
    console.print_json(json.dumps(_call("POST", "/admin/customer-links", {"identity": identity, "with": other})))


@app.command()
def unlink(identity: str) -> None:
    """IDENTITY becomes a customer of its own (its tickets stay where they are)."""
    console.print_json(json.dumps(_call("DELETE", f"/admin/customer-links/{quote(identity, safe='')}")))


@app.command()
def ticket(ticket_id: str) -> None:
    """One ticket: customer, linked identities, messages, suggested links, timeline."""
    console.print_json(json.dumps(_call("GET", f"/admin/tickets/{quote(ticket_id, safe='')}")))


@app.command()
def clock(minutes: int = typer.Argument(..., help="whole minutes forward")) -> None:
    """Stage local: move the app's clock forward (e.g. to just after closing time)."""
    console.print_json(json.dumps(_call("POST", "/local/clock", {"minutes": minutes})))


@app.command("run")
def run_schedule(schedule: str = typer.Argument(..., help="closing_time, sla_watch or a poller")) -> None:
    """Stage local: run a schedule now instead of waiting for it."""
    console.print_json(json.dumps(_call("POST", f"/local/schedules/{quote(schedule, safe='')}")))


@app.command()
def forget(identity: str) -> None:
    """Remove everything held about a customer (data-protection request), e.g. x#12345 or email#a@b.org."""
    console.print_json(json.dumps(_call("DELETE", f"/admin/customers/{quote(identity, safe='')}")))


def redrive_queue(sqs, queue: str, *, limit: int = 10_000) -> int:
    """Move messages from ``<queue>-dlq`` back to ``queue`` (sent first, deleted after: nothing is lost)."""
    source = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    target = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            kwargs = {"QueueUrl": target, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def _local_sqs(endpoint: str):
    """The running local stack's SQS, with the dummy credentials its local AWS takes, or one clear sentence."""
    import boto3
    from botocore.exceptions import EndpointConnectionError

    from tools.local_stack import REGION

    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                       aws_secret_access_key="local")
    try:
        sqs.list_queues(MaxResults=1)
    except EndpointConnectionError:
        console.print(f"[red]no local stack answers at {endpoint}[/red]: start it with `make run` (LOCAL_AWS_PORT "
                      f"picks its port), or set RESPONDER_STAGE=dev|prod for a deployed stage's queues")
        raise typer.Exit(2) from None
    return sqs


def _local_stage() -> bool:
    """Whether the commands mean the local stack: RESPONDER_STAGE says so, else RESPONDER_URL (a deployed stage's
    API is not on this machine), else yes."""
    from urllib.parse import urlparse

    stage = os.environ.get("RESPONDER_STAGE")
    if stage:
        return stage == "local"
    url = os.environ.get("RESPONDER_URL")
    return not url or urlparse(url).hostname in ("127.0.0.1", "localhost", "::1")


def _sqs():
    """SQS of the stage: the running local stack's by default; with AWS_ENDPOINT_URL, that endpoint; with
    RESPONDER_STAGE=dev|prod, your AWS credentials and region. Or one clear sentence."""
    from tools.deploy import DeployError, session_for

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint and _local_stage():
        return _local_sqs(f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '4566')}")
    try:
        session = session_for(None)
    except DeployError:
        console.print("[red]no AWS region configured[/red]: export AWS_REGION=eu-west-2 (the stage's region), or set "
                      "`region` in ~/.aws/config")
        raise typer.Exit(2) from None
    return session.client("sqs", endpoint_url=endpoint or None)


def _guard_aws(action):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (ClientError, BotoCoreError) as exc:
        console.print(f"[red]AWS refused:[/red] {exc}")
        raise typer.Exit(2) from None


def describe_dead_letters(sqs, queue: str, *, show: int = 10) -> dict:
    """What waits in ``<queue>-dlq``: how many, and for up to ``show`` of them what they are (kind, key, tries,
    when first sent) — never the customer's text. Peeking leaves them in place."""
    url = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(show, 10), VisibilityTimeout=0,
                                   AttributeNames=["ApproximateReceiveCount", "SentTimestamp"]).get("Messages", [])
    listed = []
    for message in messages:
        try:
            body = json.loads(message["Body"])
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        # an inbound envelope names its entry point (``source``, version 2) or its platform (``kind``, version 1)
        kind = body.get("source") if body.get("v") == 2 else body.get("kind")
        if isinstance(body.get("delivery"), dict):  # a team-feed notice parked with its reason (ADR 0024)
            kind = f"notice:{body['delivery'].get('destination')}"
            body = {**body["delivery"], "reason": body.get("reason")}
        listed.append({"reason": str(body.get("reason") or "")[:160], "message_id": message["MessageId"],
                       "kind": kind or body.get("channel") or "?",
                       "key": str(body.get("key") or body.get("idempotency_key") or body.get("ticket_id")
                                  or body.get("id") or ""),
                       "tries": int(message["Attributes"].get("ApproximateReceiveCount", "0")),
                       "sent_at": int(message["Attributes"].get("SentTimestamp", "0")) // 1000})
    return {"queue": f"{queue}-dlq", "waiting": int(attributes["Attributes"]["ApproximateNumberOfMessages"]),
            "messages": listed}


DLQ_QUEUES = "responder-inbound, responder-outbox, responder-notify or responder-desk-<desk>"


@app.command()
def dlq(queue: str = typer.Argument(..., help=DLQ_QUEUES)) -> None:
    """What waits in the queue's dead-letter queue (count, kind, key, tries; never message text)."""
    sqs = _sqs()
    found = _guard_aws(lambda: describe_dead_letters(sqs, queue))
    console.print(f"{found['waiting']} message(s) in {found['queue']}")
    for message in found["messages"]:
        console.print(f"  {message['message_id']}  {message['kind']:<10} {message['key']:<40} "
                      f"tries {message['tries']}" + (f"  {message['reason']}" if message["reason"] else ""))


@app.command()
def redrive(queue: str = typer.Argument(..., help=DLQ_QUEUES)) -> None:
    """Send what waits in the queue's dead-letter queue back for another try (after fixing the cause)."""
    sqs = _sqs()
    moved = _guard_aws(lambda: redrive_queue(sqs, queue))
    console.print(f"moved {moved} message(s) from {queue}-dlq to {queue}")


if __name__ == "__main__":
    app()
