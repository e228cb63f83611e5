"""The agents' inbox in a terminal: a client of the JSON API ``/agent/...``.

    python -m tools.inbox login --username amira       (asks for the password; nothing is echoed)
    python -m tools.inbox desks                         (who you are, your shift, your desks, the tickets you hold)
    python -m tools.inbox next [DESK]                   (claim the next waiting ticket and show it)
    python -m tools.inbox claim R7K2M9QPX               (take one named ticket, e.g. one waiting for the customer)
    python -m tools.inbox show R7K2M9QPX
    python -m tools.inbox reply R7K2M9QPX "Sorry about that, we are on it."    (or - to read the text from stdin)
    python -m tools.inbox saved R7K2M9QPX               (its saved replies, rendered for it: id, title, length/limit)
    python -m tools.inbox reply R7K2M9QPX --saved delay_repay    (shows it, asks before sending; --yes does not ask)
    python -m tools.inbox note R7K2M9QPX "Refund form sent by e-mail"
    python -m tools.inbox transfer R7K2M9QPX journeys
    python -m tools.inbox release|resolve|reopen R7K2M9QPX
    python -m tools.inbox dismiss R7K2M9QPX "a joke about the name"   (a post not addressed to us: closed, no reply)
    python -m tools.inbox link x@pat email#pat@example.org
    python -m tools.inbox oversight                     (leads and comms)
    python -m tools.inbox declare-suggested SUG-1A2B3C4D --text "Signal fault: use the buses"   (leads and comms)
    python -m tools.inbox dismiss-suggested SUG-1A2B3C4D   (a burst of posts about one place that is no incident)
    python -m tools.inbox report [--from D --to D --by day|week --channel C --desk D] [--csv TABLE]   (leads, comms)
    python -m tools.inbox list complaints [--state open] [--mine] [--cursor ...]   (a desk's tickets, a page)
    python -m tools.inbox list complaints --listening|--addressed   (only, or none of, the posts not addressed to us)
    python -m tools.inbox next --listening              (a post not addressed to us, before addressed tickets)
    python -m tools.inbox search x@pat                  (a reference, an identity, a handle or words: "refund Didcot")
    python -m tools.inbox reply R7K2M9QPX "Done." --resolve|--release    (one step: reply, then resolve or wait)
    python -m tools.inbox resolve R7K2M9QPX --next      (one step: resolve, then take the next ticket)
    python -m tools.inbox logout

It talks to RESPONDER_URL (a full base URL), else http://127.0.0.1:$PORT, else http://127.0.0.1:8000. The sign-in
token is kept per base URL in $RESPONDER_TOKEN_FILE or ~/.config/responder/token (mode 0600, its directory 0700);
RESPONDER_TOKEN overrides it. ``login`` takes the password from a hidden prompt, RESPONDER_PASSWORD or
``--password-stdin``. Every command but ``login`` and ``logout`` prints the API's JSON with ``--json``.

Exit status: 0 done, 1 refused by the API (the reason is printed), 2 wrong usage, 3 the API cannot be reached.
"""
from __future__ import annotations

import csv
import getpass
import io
import json
import os
import sys
import unicodedata
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import requests
import typer
from rich.console import Console
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from chalicelib.usecases.desk.commands import Action

app = typer.Typer(help="The agents' inbox in a terminal (a client of the /agent JSON API)", no_args_is_help=True)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

REFUSED, USAGE, UNREACHABLE = 1, 2, 3
LOGIN_HINT = "sign in again: python -m tools.inbox login"
JSON_OPTION = typer.Option(False, "--json", help="print the API's JSON answer instead")


# ------------------------------------------------------------------------------------------------ where and who
def base_url() -> str:
    """RESPONDER_URL, else the local stack on $PORT, else the local stack's default port."""
    from tools.stack_url import base_url as configured

    return configured()


def _default_token_file() -> Path:
    return Path.home() / ".config" / "responder" / "token"


def token_file() -> Path:
    named = os.environ.get("RESPONDER_TOKEN_FILE")
    return Path(named).expanduser() if named else _default_token_file()


def _read_tokens(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        errors.print(Text(f"ignoring the unreadable token file {path}: {exc}", style="yellow"))
        return {}
    tokens = data.get("tokens") if isinstance(data, dict) else None
    return {k: v for k, v in tokens.items() if isinstance(v, dict)} if isinstance(tokens, dict) else {}


def _write_tokens(path: Path, tokens: dict[str, dict[str, Any]]) -> None:
    """Replace the file atomically; readable by its owner only, in a directory only its owner can enter when this
    creates it (or it is the default one)."""
    if not tokens:
        path.unlink(missing_ok=True)
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
        path.parent.chmod(0o700)
    elif path == _default_token_file():
        path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            json.dump({"tokens": tokens}, out, indent=1)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _token() -> str:
    if os.environ.get("RESPONDER_TOKEN"):
        return os.environ["RESPONDER_TOKEN"]
    saved = _read_tokens(token_file()).get(base_url(), {}).get("token")
    if not isinstance(saved, str) or not saved:
        fail(f"you are not signed in to {base_url()}: python -m tools.inbox login")
    return saved


# ------------------------------------------------------------------------------------------------ HTTP
def fail(message: str, details: Any = None, *, code: int = REFUSED, hint: str = "") -> NoReturn:
    errors.print(Text(clean(message), style="bold red"))
    if isinstance(details, dict) and isinstance(details.get("templates"), list):  # WhatsApp after 24 hours
        window = details.get("service_window")
        if isinstance(window, dict) and window.get("summary"):
            errors.print(Text(f"  {clean(str(window['summary']))}", style="red"))
        _print_templates(details["templates"])
        details = {key: value for key, value in details.items() if key not in ("templates", "service_window")}
    if isinstance(details, dict):
        for key, value in details.items():
            if value != message:
                errors.print(Text(f"  {key}: {clean(str(value))}", style="red"))
    elif details:
        errors.print(Text(f"  {clean(str(details))}", style="red"))
    if hint:
        errors.print(Text(hint, style="yellow"))
    raise typer.Exit(code)


def call(method: str, path: str, body: dict[str, Any] | None = None, *, signed_in: bool = True) -> dict[str, Any]:
    """One request to the API: its JSON answer, or the refusal printed and the process ended."""
    base = base_url()
    headers = {"Accept": "application/json"}
    if signed_in:
        headers["Authorization"] = f"Bearer {_token()}"
    try:
        response = requests.request(method, base + path, json=body if method != "GET" else None, headers=headers,
                                    timeout=30)
    except requests.RequestException as exc:
        reason = "no answer within 30 s" if isinstance(exc, requests.Timeout) else (
            "could not connect" if isinstance(exc, requests.ConnectionError) else type(exc).__name__)
        fail(f"cannot reach the responder at {base} ({reason})", code=UNREACHABLE,
             hint="Is it running? Start it with: make run (or set RESPONDER_URL or PORT)")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400:
        message = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(message, str):
            message = f"{response.status_code} from {base}{path}: {response.text[:300].strip() or response.reason}"
        elif response.status_code == 404 and not message.lower().startswith(("no ", "not ")):
            message = f"not found: {message}"
        details = answer.get("details") if isinstance(answer, dict) else None
        hint = LOGIN_HINT if response.status_code == 401 and signed_in else ""
        fail(message, details, hint=hint)
    if not isinstance(answer, dict):
        fail(f"{base}{path} did not answer with JSON ({response.status_code}): {response.text[:200]}")
    return answer


def _ticket_path(ticket_id: str, action: Action | None = None) -> str:
    return f"/agent/tickets/{quote(ticket_id.strip(), safe='')}" + (f"/{action.value}" if action else "")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------------ text for a terminal
def clean(text: str) -> str:
    """Customers' and agents' text, safe for a terminal: control characters (escape sequences, bells, carriage
    returns) and bidirectional overrides are shown as escapes, never obeyed."""
    out = []
    for ch in str(text):
        kind = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(ch)
        elif kind == "Cc":
            out.append(f"\\x{ord(ch):02x}")
        elif kind == "Cf" and ("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def txt(value: Any, style: str = "") -> Text:
    """A table cell or line from the API's data: plain text, never read as markup."""
    return Text(clean("" if value is None else str(value)), style=style)


def when(iso: str | None, fmt: str = "%a %d %b %H:%M") -> str:
    """An instant from the API in this terminal's time zone."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime(fmt)
    except ValueError:
        return iso


STATUS_STYLE = {"waiting": "yellow", "claimed": "cyan", "replied": "blue", "resolved": "green", "merged": "dim"}


# ------------------------------------------------------------------------------------------------ sign in
@app.command()
def login(username: str = typer.Option(None, "--username", "-u", help="your agent username"),
          password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin")) -> None:
    """Sign in: the password is asked for without echo (or RESPONDER_PASSWORD, or --password-stdin)."""
    interactive = sys.stdin.isatty()
    if not username:
        if not interactive or password_stdin:
            fail("give --username when the password does not come from a terminal", code=USAGE)
        username = typer.prompt("Username").strip()
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    elif os.environ.get("RESPONDER_PASSWORD"):
        password = os.environ["RESPONDER_PASSWORD"]
    elif interactive:
        # getpass turns echo off before it shows the prompt (click's hidden prompt shows it first, so keys typed
        # at once could be echoed, and then flushed)
        password = getpass.getpass("Password: ")
    else:
        fail("no terminal to ask for the password: use --password-stdin or RESPONDER_PASSWORD", code=USAGE)
    if not password:
        fail("the password is empty", code=USAGE)
    signed = call("POST", "/agent/sign-in", {"username": username, "password": password}, signed_in=False)
    token = signed.get("token")
    if not isinstance(token, str) or not token:
        fail("the sign-in answer carried no token")
    agent = signed.get("agent") or {}
    path = token_file()
    tokens = _read_tokens(path)
    tokens[base_url()] = {"token": token, "username": agent.get("username", username),
                          "signed_in_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                          "expires_in": signed.get("expires_in")}
    _write_tokens(path, tokens)
    line = Text(f"Signed in to {base_url()} as ", style="green")
    line.append(txt(_who(agent), "bold green"))
    console.print(line)
    _print_shift(agent)
    if os.environ.get("RESPONDER_TOKEN"):
        errors.print(Text("RESPONDER_TOKEN is set: it is used instead of this sign-in", style="yellow"))


@app.command()
def logout() -> None:
    """Forget the sign-in for this API (the token file's entry; the file goes when it is empty)."""
    path = token_file()
    tokens = _read_tokens(path)
    if tokens.pop(base_url(), None) is None:
        console.print(f"Not signed in to {base_url()}.")
        return
    _write_tokens(path, tokens)
    console.print(f"Signed out of {base_url()}.")


def _who(agent: dict[str, Any]) -> str:
    name, username = agent.get("name") or "", agent.get("username") or ""
    return f"{name} ({username})" if name and name != username else username


def _print_shift(agent: dict[str, Any]) -> None:
    teams = ", ".join(agent.get("teams") or []) or "none"
    line = Text(f"Teams: {clean(teams)}" + (" · lead" if agent.get("lead") else ""))
    console.print(line)
    if agent.get("on_shift"):
        console.print(txt(f"On shift: {', '.join(agent['on_shift'])}", "green"))
    else:
        console.print(txt(f"Off shift: {agent.get('off_shift_reason') or 'no team of yours is on shift'}",
                          "yellow"))


# ------------------------------------------------------------------------------------------------ desks
def me(as_json: bool = JSON_OPTION) -> None:
    """Who you are, your shift, your desks (waiting, oldest wait) and the tickets you hold."""
    data = call("GET", "/agent/me")
    if as_json:
        _print_json(data)
        return
    agent = data.get("agent") or {}
    console.print(txt(_who(agent), "bold"))
    _print_shift(agent)
    table = Table(title="Your desks", title_justify="left")
    for column, justify in (("desk", "left"), ("open", "left"), ("your team on shift", "left"),
                            ("waiting", "right"), ("oldest wait", "left"), ("what", "left")):
        table.add_column(column, justify=justify)
    for row in data.get("desks") or []:
        table.add_row(txt(row.get("desk"), "bold"), "yes" if row.get("open") else txt("closed", "yellow"),
                      "yes" if row.get("yours_on_shift") else txt("no", "yellow"), txt(row.get("depth", 0)),
                      txt(row.get("oldest_wait") or "-"), txt(row.get("description"), "dim"))
    console.print(table)
    _print_held(data.get("held") or [])


app.command("me")(me)
app.command("desks", help="Same as me: your desks, waiting and oldest wait, and the tickets you hold.")(me)


def _print_held(held: list[dict[str, Any]]) -> None:
    if not held:
        console.print("You hold no tickets.")
        return
    table = Table(title="You hold", title_justify="left")
    for column in ("ticket", "desk", "status", "priority", "customer", "channel", "first contact", "claim until",
                   "flags"):
        table.add_column(column)
    for t in held:
        table.add_row(txt(t.get("ticket_id"), "bold"), txt(t.get("desk")), _status_cell(t), _priority_cell(t),
                      txt(t.get("customer_name")), txt(t.get("channel")),
                      txt(f"{when(t.get('first_contact_at'))} ({t.get('waiting')})"),
                      txt(when(t.get("claim_expires_at"), "%H:%M")), txt(", ".join(t.get("flags") or []) or "-"))
    console.print(table)


def _status_cell(t: dict[str, Any]) -> Text:
    status = str(t.get("status") or "")
    return txt(status, STATUS_STYLE.get(status, ""))


def _priority_cell(t: dict[str, Any]) -> Text:
    priority = str(t.get("priority") or "")
    return txt(priority, "bold red" if priority == "urgent" else "")


# ------------------------------------------------------------------------------------------------ tickets
@app.command("next")
def next_ticket(desk: str = typer.Argument(None, help="one of your desks (default: every desk you cover)"),
                listening: bool = typer.Option(False, "--listening",
                                               help="a post not addressed to us first (else those come last)"),
                as_json: bool = JSON_OPTION) -> None:
    """Claim the next waiting ticket (addressed to us before not, urgent first, then the oldest first contact) and
    show it."""
    asked: dict[str, Any] = {"desk": desk} if desk else {}
    data = call("POST", "/agent/next", {**asked, "listening": True} if listening else asked)
    if as_json:
        _print_json(data)
        return
    ticket = data.get("ticket")
    if not ticket:
        console.print(txt(data.get("message") or "Nothing is waiting.", "yellow"))
        return
    console.print(txt(f"You now hold ticket {ticket.get('ticket_id')} until "
                      f"{when(ticket.get('claim_expires_at'), '%H:%M')}.", "green"))
    render_ticket(ticket)


@app.command()
def claim(ticket_id: str = typer.Argument(..., metavar="TICKET"), as_json: bool = JSON_OPTION) -> None:
    """Take one named ticket (waiting in its queue, or waiting for the customer's answer) and show it."""
    data = call("POST", _ticket_path(ticket_id, Action.CLAIM), {})
    if as_json:
        _print_json(data)
        return
    ticket = data.get("ticket") or {}
    console.print(txt(f"You now hold ticket {ticket.get('ticket_id')} until "
                      f"{when(ticket.get('claim_expires_at'), '%H:%M')}.", "green"))
    render_ticket(ticket)


@app.command()
def show(ticket_id: str = typer.Argument(..., metavar="TICKET"), as_json: bool = JSON_OPTION) -> None:
    """The whole story of a ticket: header, conversation, what the customer was told, notes, why triage answered as
    it did, where a reply goes."""
    data = call("GET", _ticket_path(ticket_id))
    if as_json:
        _print_json(data)
        return
    render_ticket(data)


def _status_line(t: dict[str, Any]) -> Text:
    status = str(t.get("status") or "")
    line = txt(status, "bold " + STATUS_STYLE.get(status, ""))
    if status == "claimed":
        holder = "you" if t.get("held_by_you") else t.get("claimed_by") or "?"
        line.append(txt(f" by {holder} until {when(t.get('claim_expires_at'), '%H:%M')}"))
    if t.get("merged_into"):
        line.append(txt(f" into {t['merged_into']}: act on that one"))
    if t.get("reopened"):
        line.append(txt(f" · reopened {t['reopened']}×"))
    return line


def _sla_line(sla: dict[str, Any]) -> Text:
    if sla.get("first_response_at"):
        line = txt(f"first response {when(sla['first_response_at'])}")
    elif sla.get("first_response_due"):
        left = f" ({sla['time_left']} left)" if sla.get("time_left") else ""
        line = txt(f"first response due {when(sla['first_response_due'])}{left}")
    else:
        line = txt("-")
    if sla.get("breached"):
        line.append(txt("  BREACHED", "bold red"))
    return line


def render_ticket(t: dict[str, Any]) -> None:
    console.print(Rule(txt(f"Ticket {t.get('ticket_id')}", "bold"), align="left"))
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    head.add_row("status", _status_line(t))
    head.add_row("desk", txt(t.get("desk")))
    priority = _priority_cell(t)
    priority.append(txt(f" · {t.get('intent')}"))
    head.add_row("priority", priority)
    customer = txt(t.get("customer_name") or "-", "bold")
    if t.get("identities"):
        customer.append(txt(f" · {', '.join(t['identities'])}", "dim"))
    head.add_row("customer", customer)
    channels = txt(", ".join(t.get("channels") or []) or "-")
    if t.get("conversations"):
        channels.append(txt(f" · conversations {', '.join(t['conversations'])}", "dim"))
    head.add_row("channels", channels)
    head.add_row("first contact", txt(f"{when(t.get('first_contact_at'))} ({t.get('waiting')} ago)"))
    head.add_row("flags", txt(", ".join(t.get("flags") or []) or "-", "bold magenta" if t.get("flags") else ""))
    if t.get("listening"):
        head.add_row("listening", txt(f"{t['listening']} (nothing automatic was sent: reply, link or dismiss)",
                                      "bold yellow"))
    head.add_row("SLA", _sla_line(t.get("sla") or {}))
    if t.get("references"):
        head.add_row("references", txt("; ".join(f"{kind} {', '.join(map(str, values))}" if isinstance(values, list)
                                                  else f"{kind} {values}" for kind, values in t["references"].items())))
    if t.get("incident"):
        incident = t["incident"]
        head.add_row("incident", txt(f"{incident.get('incident_id')} {incident.get('title')}"
                                     f" ({'active' if incident.get('active') else 'resolved'})", "yellow"))
    if t.get("suggested_links"):
        head.add_row("suggested links", txt(", ".join(map(str, t["suggested_links"])), "yellow"))
    head.add_row("status page", txt(t.get("status_url")))
    console.print(head)

    _print_history(t.get("history") or [])

    console.print(Rule("Conversation", align="left", style="dim"))
    messages = t.get("messages") or []
    if not messages:
        console.print(txt("no messages", "dim"))
    for m in messages:
        line = txt(f"{when(m.get('at'))}  ", "dim")
        if m.get("ours"):
            line.append(txt(f"» {m.get('author')}", "bold green"))
            line.append(txt(" · our reply", "green"))
        else:
            line.append(txt(m.get("author") or "?", "bold"))
            where = " ".join(str(p) for p in (m.get("channel"), m.get("visibility")) if p)
            followers = f" · {m['followers']:,} followers" if m.get("followers") else ""
            line.append(txt(f" · {where}{followers}", "dim"))
        console.print(line)
        console.print(Padding(txt(m.get("text") or "", "green" if m.get("ours") else ""), (0, 0, 0, 4)))
        carried = m.get("attached") or []
        for a in (a for a in carried if a.get("kind") == "link"):
            console.print(txt(f"    {a.get('short') or 'link'} -> {a.get('url')}", "cyan"))
        for n, a in enumerate((a for a in carried if a.get("kind") != "link"), start=1):
            console.print(txt(f"    {str(a.get('kind') or 'file').replace('_', ' ')} {n}: {a.get('url')}", "cyan"))
        if m.get("link"):
            console.print(txt(f"  {m['link']}", "dim"))

    console.print(Rule("Told the customer", align="left", style="dim"))
    told = t.get("told") or []
    if not told:
        console.print(txt("nothing yet", "dim"))
    for item in told:
        line = txt(f"{when(item.get('at'))}  {item.get('what')}")
        if item.get("by"):
            line.append(txt(f" by {item['by']}"))
        console.print(line)

    console.print(Rule("Notes", align="left", style="dim"))
    notes = t.get("notes") or []
    if not notes:
        console.print(txt("no notes", "dim"))
    for item in notes:
        console.print(txt(f"{when(item.get('at'))}  {item.get('text')}"))

    console.print(Rule("Triage", align="left", style="dim"))
    console.print(triage_table(t.get("triage") or {}, acked=bool(t.get("acked"))))
    console.print(txt(f"to correct it: inbox label {t.get('ticket_id')} complaint|question|praise|spam|abuse|other",
                      "dim"))

    console.print(Rule("Reply", align="left", style="dim"))
    console.print(_reply_line(t))
    window = _window_line(t)
    if window is not None:
        console.print(window)


#: The tones of an automatic reply, as the inbox words them (as the web inbox does).
TONE_LABELS = {"apology": "Apology and help", "question": "Question received", "thanks": "Thank-you",
               "neutral": "Neutral holding reply"}


def tone_label(tone: str, answered: bool | None) -> str:
    if tone:
        return TONE_LABELS.get(tone, tone.replace("_", " ").capitalize())
    return "Plain acknowledgement" if answered else "Not answered"


def triage_table(triage: dict[str, Any], *, acked: bool = True) -> Table:
    """Why triage did what it did: answered automatically or not and why (``acked``: an automatic reply went out),
    the tone and how sure, what it gave, and the signals that decided."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    answered = triage.get("answered")
    line = txt("not recorded" if answered is None else "yes" if answered else "no",
               "" if answered is None else "bold green" if answered else "bold yellow")
    if answered is not None and triage.get("why"):
        line.append(txt(f" — {triage['why']}"))
    if answered and not acked:
        line.append(txt(" (no automatic reply sent so far)", "dim"))
    grid.add_row("answered", line)
    tone = txt(tone_label(str(triage.get("tone") or ""), answered))
    if isinstance(triage.get("confidence"), int | float):
        tone.append(txt(f" (confidence {round(triage['confidence'] * 100)} %)"))
    grid.add_row("tone", tone)
    gave = txt(f"{triage.get('intent') or '-'} · {triage.get('priority') or '-'}")
    if triage.get("relabelled"):
        gave.append(txt(" (relabelled since)", "dim"))
    grid.add_row("gave", gave)
    for index, signal in enumerate(triage.get("signals") or []):
        grid.add_row("signals" if index == 0 else "", txt(signal))
    return grid


def _reply_line(t: dict[str, Any]) -> Text:
    reply = t.get("reply") or {}
    if not reply.get("channel"):
        return txt("there is no customer message to answer", "yellow")
    line = txt(f"goes to {reply.get('to') or 'the customer'} on {reply['channel']} "
               f"({'public' if reply.get('public') else 'private'}), up to {reply.get('limit')} characters")
    if reply.get("counting"):
        line.append(txt(f"; {reply['counting']}", "dim"))
    if reply.get("public") and reply.get("private_possible"):
        line.append(txt("; --private answers privately", "dim"))
    if reply.get("note"):
        line.append(txt(f"\n{reply['note']}", "yellow"))
    return line


def _window_line(t: dict[str, Any]) -> Text | None:
    """WhatsApp's customer-service window: "WhatsApp window open for 3 h 12 min" / "… closed 1 h ago"."""
    window = t.get("service_window")
    if not isinstance(window, dict):
        return None
    if window.get("open"):
        return txt(str(window.get("summary") or ""), "green")
    return txt(f"{window.get('summary')}: only an approved template now (python -m tools.inbox template "
               f"{t.get('ticket_id')} NAME VALUE...)", "yellow")


def _print_templates(templates: list[Any]) -> None:
    """The approved templates an agent may send instead, each with what it reads and the values it needs."""
    if not templates:
        return
    errors.print(Text("Approved templates (python -m tools.inbox template TICKET NAME [VALUE...]):", style="yellow"))
    for template in templates:
        if not isinstance(template, dict):
            continue
        needs = ", ".join("{{" + str(n) + "}}" for n in template.get("agent_types") or []) or "nothing"
        errors.print(Text(f"  {clean(str(template.get('name')))} ({clean(str(template.get('category')))}, "
                          f"{clean(str(template.get('language')))}): {clean(str(template.get('body')))} "
                          f"[you type: {needs}]"))


def _text_argument(text: str, what: str) -> str:
    """TEXT as given, or everything on stdin when TEXT is ``-``."""
    if text == "-":
        if sys.stdin.isatty():
            errors.print(f"Type the {what}, then Ctrl-D on a line of its own:")
        text = sys.stdin.read()
    if not text.strip():
        fail(f"the {what} is empty", code=USAGE)
    return text.strip()


def _counted(channel: str, private: bool, text: str) -> str:
    from chalicelib.domain.agent import reply_length, reply_limit  # the platforms' counting, pure Python
    from chalicelib.domain.channel_profiles import profile
    from chalicelib.domain.vocabulary import Counting

    form = found.reply(private) if (found := profile(channel)) is not None else None
    unit = form.unit if form is not None else "characters"
    as_x = " as X counts them" if form is not None and form.counting is Counting.X_WEIGHTED else ""
    return f"{reply_length(channel, private, text)}/{reply_limit(channel, private)} {unit}{as_x}"


@app.command()
def reply(ticket_id: str = typer.Argument(..., metavar="TICKET"),
          text: str = typer.Argument(None, help="the reply, or - to read it from stdin (none with --saved)"),
          private: bool = typer.Option(False, "--private", help="answer privately (X DM, Facebook/Instagram)"),
          request_id: str = typer.Option(None, "--request-id",
                                         help="make a retry safe: the same id never sends twice (default: random)"),
          then_resolve: bool = typer.Option(False, "--resolve", help="then resolve the ticket (one request)"),
          then_release: bool = typer.Option(False, "--release",
                                            help="then release it to wait for the customer (one request)"),
          saved: str = typer.Option(None, "--saved", metavar="ID",
                                    help="send this saved reply, rendered for the ticket (see: saved TICKET)"),
          yes: bool = typer.Option(False, "--yes", "-y", help="with --saved: send without asking"),
          as_json: bool = JSON_OPTION) -> None:
    """Answer the customer on their own channel (where they last wrote), through the outbox."""
    if then_resolve and then_release:
        fail("give --resolve or --release, not both", code=USAGE)
    text = _saved_text(ticket_id, saved, private, yes, text) if saved else _text_argument(text or "", "reply")
    action = Action.REPLY_RESOLVE if then_resolve else Action.REPLY_RELEASE if then_release else Action.REPLY
    data = call("POST", _ticket_path(ticket_id, action),
                {"text": text, "private": private, "request_id": request_id or uuid.uuid4().hex})
    if as_json:
        _print_json(data)
        return
    if data.get("duplicate"):
        console.print(txt("Already queued with this request id: nothing is sent twice.", "yellow"))
        return
    ticket = data.get("ticket") or {}
    channel, is_private = str(data.get("channel") or ""), bool(data.get("private"))
    to = (ticket.get("reply") or {}).get("to") or "the customer"
    console.print(txt(f"Reply queued for {to} on {channel} ({'private' if is_private else 'public'}): "
                      f"{_counted(channel, is_private, text)}.", "green"))
    if data.get("then"):
        done = "resolved" if data["then"] == "resolved" else f"released: waiting for the customer on desk " \
            f"{ticket.get('desk')}"
        console.print(txt(f"Ticket {ticket.get('ticket_id')} {done}.", "green"))
        return
    console.print(txt(f"Ticket {ticket.get('ticket_id')} is {ticket.get('status')}; "
                      f"resolve it with: python -m tools.inbox resolve {ticket.get('ticket_id')}", "dim"))


@app.command()
def template(ticket_id: str = typer.Argument(..., metavar="TICKET"),
             name: str = typer.Argument(None, help="the approved template's name (none: list them)"),
             values: list[str] = typer.Argument(None, metavar="VALUE...",
                                                help="the values you type, in order ({{3}} …)"),
             request_id: str = typer.Option(None, "--request-id",
                                            help="make a retry safe: the same id never sends twice (default: random)"),
             as_json: bool = JSON_OPTION) -> None:
    """Send an approved WhatsApp template (the only message WhatsApp allows 24 hours after the customer's last
    message), filled for the ticket; without NAME, list the templates and the window."""
    ticket = call("GET", _ticket_path(ticket_id))
    window = ticket.get("service_window")
    if not isinstance(window, dict):
        fail(f"ticket {ticket_id} is not a WhatsApp conversation: send a reply", code=USAGE)
    choices = {str(t.get("name")): t for t in window.get("templates") or [] if isinstance(t, dict)}
    if not name:
        console.print(_window_line(ticket) or "")
        _print_templates(list(choices.values()))
        return
    if name not in choices:
        fail(f"no approved template {name} (choose one of: {', '.join(sorted(choices)) or 'none'})", code=USAGE)
    typed = [str(n) for n in choices[name].get("agent_types") or []]
    given = list(values or [])
    if len(given) != len(typed):
        fail(f"template {name} needs {len(typed)} value(s) you type ({', '.join('{{' + n + '}}' for n in typed)}); "
             f"{len(given)} given", code=USAGE)
    data = call("POST", _ticket_path(ticket_id, Action.TEMPLATE),
                {"name": name, "values": dict(zip(typed, given, strict=True)),
                 "request_id": request_id or uuid.uuid4().hex})
    if as_json:
        _print_json(data)
        return
    if data.get("duplicate"):
        console.print(txt("Already queued with this request id: nothing is sent twice.", "yellow"))
        return
    console.print(txt(f"Template {name} queued for the customer on WhatsApp.", "green"))


@app.command()
def note(ticket_id: str = typer.Argument(..., metavar="TICKET"),
         text: str = typer.Argument(..., help="the note, or - to read it from stdin"),
         as_json: bool = JSON_OPTION) -> None:
    """An internal note on the ticket (never sent to the customer)."""
    data = call("POST", _ticket_path(ticket_id, Action.NOTE), {"text": _text_argument(text, "note")})
    if as_json:
        _print_json(data)
        return
    console.print(txt(f"Note added to ticket {(data.get('ticket') or {}).get('ticket_id', ticket_id)}.", "green"))


@app.command()
def transfer(ticket_id: str = typer.Argument(..., metavar="TICKET"), desk: str = typer.Argument(...),
             as_json: bool = JSON_OPTION) -> None:
    """Move the ticket to another desk's queue (the holder, or a lead)."""
    data = call("POST", _ticket_path(ticket_id, Action.TRANSFER), {"desk": desk})
    if as_json:
        _print_json(data)
        return
    ticket = data.get("ticket") or {}
    console.print(txt(f"Ticket {ticket.get('ticket_id')} is now on desk {ticket.get('desk')} "
                      f"({ticket.get('status')}).", "green"))


@app.command()
def assign(ticket_id: str = typer.Argument(..., metavar="TICKET"),
           agent: str = typer.Argument(..., metavar="AGENT", help="the username of an agent at work"),
           as_json: bool = JSON_OPTION) -> None:
    """Give the ticket to a named agent at work who may take it (a lead, or the agent who holds it)."""
    data = call("POST", _ticket_path(ticket_id, Action.ASSIGN), {"agent": agent})
    if as_json:
        _print_json(data)
        return
    ticket = data.get("ticket") or {}
    console.print(txt(f"Ticket {ticket.get('ticket_id')} is {ticket.get('claimed_by')}'s now.", "green"))


def _simple(action: Action, ticket_id: str, as_json: bool, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = call("POST", _ticket_path(ticket_id, action), body or {})
    if as_json:
        _print_json(data)
    return data.get("ticket") or {}


@app.command()
def release(ticket_id: str = typer.Argument(..., metavar="TICKET"), as_json: bool = JSON_OPTION) -> None:
    """Give the ticket back: to its desk's queue, or, once answered, to wait for the customer."""
    ticket = _simple(Action.RELEASE, ticket_id, as_json)
    if not as_json:
        where = "back in the queue of desk" if ticket.get("status") == "waiting" else "waiting for the customer on desk"
        console.print(txt(f"Released ticket {ticket.get('ticket_id')}: {where} {ticket.get('desk')}.", "green"))


@app.command()
def resolve(ticket_id: str = typer.Argument(..., metavar="TICKET"),
            take_next: bool = typer.Option(False, "--next", help="then take the next ticket and show it (one request)"),
            as_json: bool = JSON_OPTION) -> None:
    """Resolve the ticket (the customer writing again within the reopen window reopens it)."""
    if take_next:
        data = call("POST", _ticket_path(ticket_id, Action.RESOLVE_NEXT), {})
        if as_json:
            _print_json(data)
            return
        console.print(txt(f"Resolved ticket {(data.get('resolved') or {}).get('ticket_id', ticket_id)}.", "green"))
        ticket = data.get("ticket")
        if not ticket:
            console.print(txt(data.get("message") or "Nothing is waiting.", "yellow"))
            return
        console.print(txt(f"You now hold ticket {ticket.get('ticket_id')} until "
                          f"{when(ticket.get('claim_expires_at'), '%H:%M')}.", "green"))
        render_ticket(ticket)
        return
    ticket = _simple(Action.RESOLVE, ticket_id, as_json)
    if not as_json:
        console.print(txt(f"Resolved ticket {ticket.get('ticket_id')}.", "green"))


@app.command()
def dismiss(ticket_id: str = typer.Argument(..., metavar="TICKET"),
            reason: str = typer.Argument("", metavar="[REASON]", help="why nobody answers it (kept on the timeline)"),
            as_json: bool = JSON_OPTION) -> None:
    """Close a post not addressed to us with no reply (a ticket addressed to us is refused: resolve it)."""
    ticket = _simple(Action.DISMISS, ticket_id, as_json, {"reason": reason} if reason else None)
    if not as_json:
        console.print(txt(f"Dismissed ticket {ticket.get('ticket_id', ticket_id)}: closed with no reply.", "green"))


@app.command()
def reopen(ticket_id: str = typer.Argument(..., metavar="TICKET"), as_json: bool = JSON_OPTION) -> None:
    """Put a resolved ticket back in play, held by you (to answer again)."""
    ticket = _simple(Action.REOPEN, ticket_id, as_json)
    if not as_json:
        console.print(txt(f"Reopened ticket {ticket.get('ticket_id')}; you hold it until "
                          f"{when(ticket.get('claim_expires_at'), '%H:%M')}.", "green"))


@app.command()
def link(identity: str, other: str = typer.Argument(..., metavar="WITH"), as_json: bool = JSON_OPTION) -> None:
    """IDENTITY and WITH are one customer (x@handle, x#id, email#address, facebook#id ...): their open tickets
    merge into the earlier one."""
    data = call("POST", "/agent/customer-links", {"identity": identity, "with": other})
    if as_json:
        _print_json(data)
        return
    if not data.get("changed"):
        console.print(txt(data.get("message") or "Already linked: nothing changed.", "yellow"))
        return
    console.print(txt(f"Linked: one customer with {', '.join(data.get('identities') or [])}.", "green"))
    if data.get("merged_ticket_id"):
        console.print(txt(f"Ticket {data['merged_ticket_id']} was merged into {data.get('ticket_id')}.", "green"))
    elif data.get("ticket_id"):
        console.print(txt(f"Their open ticket: {data['ticket_id']}.", "green"))


@app.command()
def label(ticket_id: str = typer.Argument(..., metavar="TICKET"),
          intent: str = typer.Argument(..., help="complaint, question, praise, spam, abuse or other"),
          urgent: bool = typer.Option(None, "--urgent/--not-urgent", help="default: as triage decided"),
          as_json: bool = JSON_OPTION) -> None:
    """Say what the ticket's first message really was: the ticket follows the label, and leads export the labels
    to measure triage (labels)."""
    body: dict[str, Any] = {"intent": intent}
    if urgent is not None:
        body["urgent"] = urgent
    data = call("POST", _ticket_path(ticket_id, Action.LABEL), body)
    if as_json:
        _print_json(data)
        return
    ticket = data.get("ticket") or {}
    triaged = data.get("triaged")
    is_urgent = urgent if urgent is not None else ticket.get("priority") == "urgent"
    said = f"{intent}{', urgent' if is_urgent else ''}"
    console.print(txt(f"Labelled ticket {ticket.get('ticket_id', ticket_id)} {said}" +
                      (": triage had it right." if triaged == intent else f"; triage had said {triaged}."), "green"))


@app.command()
def labels(out: Path = typer.Option(..., "--out", "-o", help="the CSV file to write (- for standard output)",
                                    allow_dash=True),
           since: str = typer.Option(None, "--since", help="only labels given from this date or time (ISO)"),
           as_json: bool = JSON_OPTION) -> None:
    """Leads and comms: every ticket agents labelled, as a CSV that `make triage-report LABELLED=FILE` measures."""
    data = call("GET", "/agent/labels" + (f"?{urlencode({'since': since})}" if since else ""))
    if as_json:
        _print_json(data)
        return
    columns, rows = data.get("columns") or [], data.get("labels") or []
    if str(out) == "-" and sys.stdout.isatty():  # customers' words on a terminal: shown, never obeyed
        rows = [{key: clean(str(value)) for key, value in row.items()} for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if str(out) == "-":
        sys.stdout.write(buffer.getvalue())
        return
    out.write_text(buffer.getvalue(), encoding="utf-8")
    console.print(txt(f"{len(rows)} label{'s' if len(rows) != 1 else ''} written to {out}; triage had said the same "
                      f"for {data.get('triage_agreed', 0)}. Measure: make triage-report LABELLED={out}", "green"))


# ------------------------------------------------------------------------------------------------ oversight
def _suggested_incidents(found: list[dict[str, Any]]) -> None:
    """Bursts of posts naming one place, each with its posts and the commands that decide it."""
    if not found:
        console.print(txt("Suggested incidents: no burst of posts naming one place", "dim"))
        return
    for s in found:
        posts = Table(title=f"Suggested incident {clean(str(s.get('suggestion_id')))}: {clean(str(s.get('place')))}, "
                            f"{s.get('count', 0)} posts in {s.get('minutes', 0)} "
                            f"minute{'' if s.get('minutes') == 1 else 's'}, since "
                            f"{clean(str(s.get('since_time')))}", title_justify="left", title_style="bold yellow")
        for column in ("time", "channel", "author", "ticket", "post"):
            posts.add_column(column, overflow="fold")
        for p in s.get("posts") or []:
            posts.add_row(txt(p.get("time")), txt(p.get("channel")), txt(p.get("author")), txt(p.get("ticket_id")),
                          txt(p.get("text")))
        console.print(posts)
        declare = s.get("declare") or {}
        console.print(txt(f"  declare: python -m tools.inbox declare-suggested {s.get('suggestion_id')} "
                          f"(title \"{declare.get('title', '')}\", keywords {', '.join(declare.get('keywords') or [])},"
                          " every desk; --text to explain)  ·  dismiss: python -m tools.inbox dismiss-suggested "
                          f"{s.get('suggestion_id')}", "dim"))


@app.command("declare-suggested")
def declare_suggested(suggestion_id: str = typer.Argument(..., metavar="SUGGESTION"),
                      title: str = typer.Option(None, "--title", help='default "Disruption at <place>"'),
                      text: str = typer.Option(None, "--text", help="the explanation every matching "
                                               "acknowledgement carries (default: a short holding text)"),
                      url: str = typer.Option(None, "--url", help="an https:// page with updates"),
                      keyword: list[str] = typer.Option(None, "--keyword", help="a word acknowledgements match "
                                                        "(repeat; default: the place)"),
                      desk: list[str] = typer.Option(None, "--desk", help="a desk it concerns (repeat; default all)"),
                      as_json: bool = JSON_OPTION) -> None:
    """Leads and comms: declare a suggested incident; matching acknowledgements carry its explanation from now."""
    body: dict[str, Any] = {k: v for k, v in {"title": title, "text": text, "url": url,
                                              "keywords": keyword or None, "desks": desk or None}.items() if v}
    data = call("POST", f"/agent/suggested-incidents/{quote(suggestion_id, safe='')}/declare", body)
    if as_json:
        _print_json(data)
        return
    incident = data.get("incident") or {}
    console.print(txt(f"Declared incident {incident.get('incident_id')}: {incident.get('title')} (keywords "
                      f"{', '.join(incident.get('keywords') or [])}).", "green"))


@app.command("dismiss-suggested")
def dismiss_suggested(suggestion_id: str = typer.Argument(..., metavar="SUGGESTION"),
                      as_json: bool = JSON_OPTION) -> None:
    """Leads and comms: dismiss a suggested incident (nobody is told; the place stays quiet until an hour without
    posts naming it)."""
    data = call("POST", f"/agent/suggested-incidents/{quote(suggestion_id, safe='')}/dismiss", {})
    if as_json:
        _print_json(data)
        return
    console.print(txt(f"Dismissed the suggested incident at {data.get('place')}: nobody was told anything.", "green"))


@app.command()
def oversight(as_json: bool = JSON_OPTION) -> None:
    """Leads and comms: teams on shift, each desk's queue and SLA breaches, high-reach and abuse tickets,
    tickets first answered per hour."""
    data = call("GET", "/agent/oversight")
    if as_json:
        _print_json(data)
        return
    teams = Table(title=f"Teams at {when(data.get('at'))}", title_justify="left")
    for column in ("team", "on shift", "until", "next shift"):
        teams.add_column(column)
    for row in data.get("teams") or []:
        teams.add_row(txt(row.get("team"), "bold"), "yes" if row.get("on_shift") else txt("no", "yellow"),
                      txt(row.get("until") or "-"), txt(row.get("next_shift") or "-"))
    console.print(teams)
    _suggested_incidents(data.get("suggested_incidents") or [])
    desks = Table(title="Desks", title_justify="left")
    for column in ("desk", "open", "waiting", "claimed", "oldest wait", "SLA breaches", "first answers, last hour"):
        desks.add_column(column, justify="left" if column in ("desk", "open", "oldest wait") else "right")
    for row in data.get("desks") or []:
        breaches = int(row.get("sla_breaches") or 0)
        desks.add_row(txt(row.get("desk"), "bold"), "yes" if row.get("open") else txt("closed", "yellow"),
                      txt(row.get("depth", 0)), txt(row.get("claimed", 0)), txt(row.get("oldest_wait") or "-"),
                      txt(breaches, "bold red" if breaches else ""), txt(row.get("answered_last_hour", 0)))
    console.print(desks)
    held = data.get("held") or []
    if held:
        holds = Table(title="Who holds what", title_justify="left")
        for column in ("agent", "ticket", "desk", "priority", "held for", "until"):
            holds.add_column(column, justify="right" if column == "held for" else "left")
        for row in held:
            holds.add_row(txt(row.get("agent"), "bold"), txt(row.get("ticket_id")), txt(row.get("desk")),
                          txt(row.get("priority"), "bold red" if row.get("priority") == "urgent" else ""),
                          txt(f"{row.get('held_minutes', 0)} min"), txt(row.get("until") or "-"))
        console.print(holds)
    else:
        console.print(txt("Who holds what: nobody holds a ticket", "dim"))
    acks = data.get("acknowledgements") or {}
    if acks.get("decided"):
        states = ("decided", "sent", "waiting", "queued", "expired", "parked")
        table = Table(title="Acknowledgements of open cases", title_justify="left")
        for column in ("channel", *states):
            table.add_column(column, justify="left" if column == "channel" else "right")
        for channel, row in sorted((acks.get("per_channel") or {}).items()):
            table.add_row(txt(channel, "bold"), *(txt(row.get(state, 0), "bold red" if state == "parked" and
                                                      row.get(state) else "") for state in states))
        console.print(table)
    for queue, depth in sorted((acks.get("dead_letter_queues") or {}).items()):
        if depth:
            command = f"python -m tools.admin dlq {queue.removesuffix('-dlq')}"
            console.print(txt(f"{depth} on {queue}: {command}", "bold red"))
    for key, title in (("high_reach", "High reach"), ("abuse", "Abuse (for a person to look at)")):
        rows = data.get(key) or []
        if not rows:
            console.print(txt(f"{title}: none", "dim"))
            continue
        table = Table(title=title, title_justify="left")
        for column in ("ticket", "desk", "status", "priority", "customer", "channel", "waiting", "held by"):
            table.add_column(column)
        for t in rows:
            table.add_row(txt(t.get("ticket_id"), "bold"), txt(t.get("desk")), _status_cell(t), _priority_cell(t),
                          txt(t.get("customer_name")), txt(t.get("channel")), txt(t.get("waiting")),
                          txt(t.get("claimed_by") or "-"))
        console.print(table)
    hours = data.get("first_answered_per_hour") or []
    if hours:
        table = Table(title="Tickets first answered per hour", title_justify="left")
        for column in ("hour", "team", "tickets"):
            table.add_column(column, justify="right" if column == "tickets" else "left")
        for row in hours:
            table.add_row(txt(row.get("hour")), txt(row.get("team")), txt(row.get("tickets")))
        console.print(table)
    else:
        console.print(txt("Tickets first answered per hour: none in the last eight hours", "dim"))
    given = data.get("labels") or {}
    if given.get("count"):
        corrected = ", ".join(f"{change} {n}" for change, n in given.get("corrected") or [])
        console.print(txt(f"Triage labels, last {given.get('days')} days: {given['count']} tickets, triage had said "
                          f"the same for {given.get('triage_agreed', 0)}" + (f"; corrected: {corrected}" if corrected
                                                                              else "") + ". Export: labels --out FILE"))
        a = given.get("acknowledged") or {}
        if a.get("should") or a.get("should_not"):
            console.print(txt(f"  acknowledged by triage: {a.get('should_acked', 0)} of {a.get('should', 0)} "
                              f"complaints and questions, {a.get('should_not_acked', 0)} of {a.get('should_not', 0)} "
                              "praise and other"))
    else:
        console.print(txt(f"Triage labels: none in the last {given.get('days', 30)} days", "dim"))


# ------------------------------------------------------------------------------------------------ reports
def _report_query(start: str | None, end: str | None, by: str | None, channel: str | None, desk: str | None,
                  **more: str) -> str:
    given = {"from": start, "to": end, "by": by, "channel": channel, "desk": desk, **more}
    return urlencode({key: value for key, value in given.items() if value})


def _report_cell(value: Any, unit: str | None) -> Text:
    if value is None:
        return txt("-", "dim")
    if unit == "share" and isinstance(value, int | float):
        return txt(f"{value * 100:.0f}%")
    if isinstance(value, float):
        return txt(f"{value:.1f}" if unit in ("min", "h", "s") else f"{value:g}")
    return txt(value)


def _print_report_table(table: dict[str, Any]) -> None:
    columns, rows = table.get("columns") or [], table.get("rows") or []
    title = str(table.get("title") or table.get("name"))
    if not rows:
        console.print(txt(f"{title}: nothing in the range", "dim"))
        return
    if table.get("name") == "backlog":  # one line per hour, a column per desk
        desks = sorted({str(r.get("desk")) for r in rows})
        hours: dict[str, dict[str, Any]] = {}
        for r in rows:
            hours.setdefault(str(r.get("hour")), {})[str(r.get("desk"))] = r.get("waiting")
        pivot = Table(title=f"{title} (waiting)", title_justify="left")
        for column in ("hour", *desks):
            pivot.add_column(column, justify="left" if column == "hour" else "right")
        for hour, waiting in hours.items():
            if any(waiting.values()):
                pivot.add_row(txt(hour), *(txt(waiting.get(d, 0)) for d in desks))
        console.print(pivot)
        return
    out = Table(title=title, title_justify="left")
    for c in columns:
        unit = c.get("unit")
        label = f"{c.get('label')} ({'%' if unit == 'share' else unit})" if unit and unit != "count" else c.get("label")
        out.add_column(clean(str(label)), justify="right" if unit else "left")
    for r in rows:
        out.add_row(*(_report_cell(r.get(c.get("key")), c.get("unit")) for c in columns))
    console.print(out)
    if table.get("note"):
        console.print(txt(str(table["note"]), "dim"), soft_wrap=True)


@app.command()
def report(start: str = typer.Option(None, "--from", help="first day, YYYY-MM-DD (default: 6 days before --to)"),
           end: str = typer.Option(None, "--to", help="last day, YYYY-MM-DD (default: today)"),
           by: str = typer.Option(None, "--by", help="day or week"),
           channel: str = typer.Option(None, "--channel", help="one channel only"),
           desk: str = typer.Option(None, "--desk", help="one desk only"),
           csv_table: str = typer.Option(None, "--csv", metavar="TABLE",
                                         help="print one table as CSV: response, parity, acknowledgements, volume, "
                                              "backlog, busy or triage"),
           as_json: bool = JSON_OPTION) -> None:
    """Leads and comms: first response and resolution times, channel parity, acknowledgements, volume, backlog,
    busy estimates and triage agreement over a range of days, in the brand's time zone."""
    if csv_table:
        base = base_url()
        path = f"/agent/reports.csv?{_report_query(start, end, by, channel, desk, table=csv_table)}"
        try:
            response = requests.get(base + path, headers={"Authorization": f"Bearer {_token()}"}, timeout=30)
        except requests.RequestException:
            fail(f"cannot reach the responder at {base}", code=UNREACHABLE,
                 hint="Is it running? Start it with: make run (or set RESPONDER_URL or PORT)")
        if response.status_code >= 400:
            try:
                refusal = response.json()
            except ValueError:
                refusal = {}
            fail(str(refusal.get("error") or f"{response.status_code} from {base}{path}"), refusal.get("details"),
                 hint=LOGIN_HINT if response.status_code == 401 else "")
        sys.stdout.write(response.text)
        return
    query = _report_query(start, end, by, channel, desk)
    data = call("GET", "/agent/reports" + (f"?{query}" if query else ""))
    if as_json:
        _print_json(data)
        return
    filters = data.get("filters") or {}
    scope = ", ".join(f"{key} {value}" for key, value in filters.items() if value) or "every channel and desk"
    console.print(Rule(txt(f"Report {data.get('from')} to {data.get('to')} by {data.get('by')} "
                           f"({data.get('timezone')}; {scope})", "bold"), align="left"))
    for table in data.get("tables") or []:
        _print_report_table(table)


# ------------------------------------------------------------------------------------------------ saved replies
def _saved_replies(ticket_id: str, private: bool) -> dict[str, Any]:
    return call("GET", _ticket_path(ticket_id) + "/saved-replies" + ("?private=1" if private else ""))


@app.command()
def saved(ticket_id: str = typer.Argument(..., metavar="TICKET"),
          private: bool = typer.Option(False, "--private", help="rendered and counted for a private reply"),
          as_json: bool = JSON_OPTION) -> None:
    """The saved replies for the ticket's desk and language, rendered for it: id, title, length/limit."""
    data = _saved_replies(ticket_id, private)
    if as_json:
        _print_json(data)
        return
    replies = data.get("replies") or []
    if not replies:
        console.print(txt(f"No saved replies for ticket {data.get('ticket_id')} (desk {data.get('desk')}, "
                          f"language {data.get('language')}).", "yellow"))
        return
    table = Table(title=f"Saved replies for {data.get('ticket_id')} on {data.get('channel')} "
                        f"({'private' if data.get('private') else 'public'})", title_justify="left")
    for column in ("id", "title", "length", "from"):
        table.add_column(column, justify="right" if column == "length" else "left")
    for r in replies:
        fits = bool(r.get("fits"))
        table.add_row(txt(r.get("id"), "bold"), txt(r.get("title")),
                      txt(f"{r.get('length')}/{r.get('limit')}" + ("" if fits else " too long"),
                          "" if fits else "bold red"),
                      txt("lead" if r.get("source") == "lead" else "brand file", "dim"))
    console.print(table)
    console.print(txt(f"send one: python -m tools.inbox reply {data.get('ticket_id')} --saved ID", "dim"))


def _saved_text(ticket_id: str, reply_id: str, private: bool, yes: bool, text: str | None) -> str:
    """The saved reply ``reply_id`` rendered for the ticket, shown, and confirmed (unless ``yes``)."""
    if text:
        fail("give the reply's text or --saved, not both", code=USAGE)
    data = _saved_replies(ticket_id, private)
    found = next((r for r in data.get("replies") or [] if r.get("id") == reply_id), None)
    if found is None:
        known = ", ".join(str(r.get("id")) for r in data.get("replies") or []) or "none"
        fail(f"no saved reply {reply_id} for ticket {ticket_id} (its saved replies: {known})", code=USAGE)
    if not found.get("fits"):
        fail(f"saved reply {reply_id} does not fit: {found.get('problem')}",
             hint=f"edit it and send it as text: python -m tools.inbox reply {ticket_id} -")
    console.print(Rule(txt(f"{found.get('title')} ({found.get('length')}/{found.get('limit')})", "bold"),
                       align="left"))
    console.print(txt(found.get("text")))
    console.print(Rule())
    if not yes and not typer.confirm(f"Send this to the customer on {data.get('channel')}?", default=False):
        console.print(txt("Nothing sent.", "yellow"))
        raise typer.Exit(REFUSED)
    return str(found.get("text") or "")


# ------------------------------------------------------------------------------------------------ lists and search
def _print_history(history: list[dict[str, Any]], title: str = "The customer's other tickets") -> None:
    if not history:
        return
    table = Table(title=title, title_justify="left")
    for column in ("ticket", "status", "first contact", "desk", "channel"):
        table.add_column(column)
    for h in history:
        table.add_row(txt(h.get("ticket_id"), "bold"), _status_cell(h), txt(when(h.get("first_contact_at"))),
                      txt(h.get("desk")), txt(h.get("channel")))
    console.print(table)


@app.command()
def views(as_json: bool = JSON_OPTION) -> None:
    """Your saved views: each desk list you keep under a name (save one with: list DESK ... --save-as NAME)."""
    data = call("GET", "/agent/views")
    if as_json:
        _print_json(data)
        return
    saved = data.get("views") or []
    if not saved:
        console.print(txt("No saved views yet: list DESK [filters] --save-as NAME keeps one.", "dim"))
        return
    table = Table(title="Your views", title_justify="left")
    for column in ("name", "desk", "filters", "to run it"):
        table.add_column(column)
    for v in saved:
        filters = v.get("filters") or {}
        flags = " ".join(("--listening" if value == "only" else "--addressed") if k == "listening"
                         else f"--{k.replace('_', '-')} {value}" if k != "held_by" or value != "mine" else "--mine"
                         for k, value in filters.items())
        table.add_row(txt(v.get("name"), "bold"), txt(v.get("desk")),
                      txt(", ".join(f"{k} {value}" for k, value in filters.items()) or "-"),
                      txt(f"list {v.get('desk')} {flags}".strip()))
    console.print(table)


@app.command("list")
def list_desk(desk: str = typer.Argument(..., help="a desk your teams cover"),
              state: str = typer.Option(None, "--state", help="waiting (default), claimed, replied or open"),
              priority: str = typer.Option(None, "--priority", help="urgent or normal"),
              flag: str = typer.Option(None, "--flag", help="abuse, high_reach, personal_data_in_public …"),
              channel: str = typer.Option(None, "--channel", help="x, email, bluesky …"),
              held_by: str = typer.Option(None, "--held-by", help="an agent's username"),
              mine: bool = typer.Option(False, "--mine", help="the tickets you hold"),
              due_within: int = typer.Option(None, "--due-within", help="SLA due within this many minutes"),
              sort: str = typer.Option(None, "--sort", help="queue (default) or sla"),
              listening: bool = typer.Option(False, "--listening", help="only the posts not addressed to us"),
              addressed: bool = typer.Option(False, "--addressed", help="none of the posts not addressed to us"),
              cursor: str = typer.Option(None, "--cursor", help="the next page (printed under each page)"),
              limit: int = typer.Option(25, "--limit", help="tickets a page (1 to 100)"),
              save_as: str = typer.Option(None, "--save-as", metavar="NAME",
                                          help="also keep these filters as a view of yours (see: views)"),
              as_json: bool = JSON_OPTION) -> None:
    """A desk's tickets, a page at a time: filtered, in queue order (urgent first, then oldest) or by SLA due."""
    if mine and held_by:
        fail("give --mine or --held-by, not both", code=USAGE)
    if listening and addressed:
        fail("give --listening or --addressed, not both", code=USAGE)
    given = {"state": state, "priority": priority, "flag": flag, "channel": channel,
             "held_by": "mine" if mine else held_by, "due_within": due_within, "sort": sort, "cursor": cursor,
             "limit": limit, "listening": "only" if listening else "exclude" if addressed else None}
    if save_as:
        filters = {k: v for k, v in given.items() if k not in ("cursor", "limit") and v not in (None, "")}
        call("POST", "/agent/views", {"name": save_as, "desk": desk.strip(), **filters})
        console.print(txt(f"View “{save_as}” saved: python -m tools.inbox views", "green"))
    query = urlencode({name: value for name, value in given.items() if value not in (None, "")})
    data = call("GET", f"/agent/desks/{quote(desk.strip(), safe='')}/tickets?{query}")
    if as_json:
        _print_json(data)
        return
    rows = data.get("tickets") or []
    total = f" · {data['total']} waiting" if data.get("total") is not None else ""
    table = Table(title=f"Desk {data.get('desk')}{total}", title_justify="left")
    for column in ("ticket", "priority", "status", "channel", "flags", "waiting since", "SLA due", "held by"):
        table.add_column(column)
    for t in rows:
        status = "waiting for the customer" if t.get("status") == "replied" else str(t.get("status") or "")
        due = txt("breached", "bold red") if t.get("breached") else txt(when(t.get("sla_due")) or "-")
        table.add_row(txt(t.get("ticket_id"), "bold"), _priority_cell(t),
                      txt(status, STATUS_STYLE.get(str(t.get("status")), "")), txt(t.get("channel")),
                      txt(", ".join(t.get("flags") or []) or "-"),
                      txt(f"{when(t.get('first_contact_at'))} ({t.get('waiting')})"), due,
                      txt(t.get("claimed_by") or "-"))
    if rows:
        console.print(table)
    else:
        console.print(txt("No ticket matches.", "yellow"))
    if data.get("partial"):
        console.print(txt(f"Read {data.get('read')} tickets without filling the page; the next page reads on.",
                          "yellow"))
    if data.get("next_cursor"):
        console.print(txt(f"next page: python -m tools.inbox list {desk} --cursor {data['next_cursor']}"
                          f"{' (with the same filters)' if query.count('=') > 2 else ''}", "dim"), soft_wrap=True)


@app.command()
def search(query: str = typer.Argument(..., metavar="Q", help="R…, x@pat, @pat, email#ada@example.org, words …"),
           as_json: bool = JSON_OPTION) -> None:
    """Find a ticket by its reference, a customer by an identity or handle (their identities and tickets), or the
    tickets whose customers wrote some words (the most words first, then the newest)."""
    data = call("GET", f"/agent/search?{urlencode({'q': query})}")
    if as_json:
        _print_json(data)
        return
    customers = data.get("customers") or []
    matches = data.get("matches") or []
    if matches:
        table = Table(title=f"Tickets whose customers wrote {', '.join(data.get('words') or [])}", title_justify="left")
        for column in ("ticket", "words", "status", "first contact", "desk", "channel"):
            table.add_column(column)
        for m in matches:
            table.add_row(txt(m.get("ticket_id"), "bold"), txt(f"{m.get('matched')} of {m.get('of')}"), _status_cell(m),
                          txt(when(m.get("first_contact_at"))), txt(m.get("desk")), txt(m.get("channel")))
        console.print(table)
    if data.get("message") and (matches or not customers):
        console.print(txt(data["message"], "yellow"), soft_wrap=True)
    if not customers:
        return
    for customer in customers:
        console.print(Rule(txt(f"Customer {customer.get('customer_id')}", "bold"), align="left"))
        console.print(txt(f"known as: {', '.join(customer.get('identities') or []) or '-'}"))
        _print_history(customer.get("tickets") or [], title="Tickets")


if __name__ == "__main__":
    app()
