"""The terminal inbox (`python -m tools.inbox`) as an agent runs it: subprocesses against the real local stack,
the password given on stdin, in the environment, and once typed at a hidden prompt in a real terminal (tmux)."""
from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import PROJECT, free_port
from tests.e2e.test_local_stack import ADMIN, send_tweet

REPLY = "Sorry Pat, that train was cancelled after a signal failure. Claim with Delay Repay: https://example.org/dr"


@pytest.fixture(scope="module")
def stack(wednesday_stack):
    return wednesday_stack


def inbox(stack, *args: str, tokens: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """One run of the terminal inbox, as a user starts it, with PORT (or RESPONDER_URL when given) and its own
    token file; nothing of the calling environment's responder settings leaks in."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("RESPONDER_", "AWS_")) and k != "PORT"}
    environment.update(PORT=str(stack.http_port), RESPONDER_TOKEN_FILE=str(tokens), HOME=str(tokens.parent),
                       COLUMNS="160", TZ="UTC", PYTHONIOENCODING="utf-8")
    environment.update(env)
    done = subprocess.run([sys.executable, "-m", "tools.inbox", *args], cwd=PROJECT, env=environment, text=True,
                          capture_output=True, timeout=30, **({"input": stdin} if stdin is not None
                                                              else {"stdin": subprocess.DEVNULL}))
    assert "Traceback" not in done.stderr, done.stderr
    return done


def saved_token(stack, tokens: Path) -> str:
    return json.loads(tokens.read_text())["tokens"][stack.base]["token"]


def waiting(stack, desk: str) -> set[str]:
    """Every ticket waiting on ``desk``, page after page (the backlog answers a page at a time)."""
    found: set[str] = set()
    cursor = ""
    while True:
        page = stack.get(f"/admin/backlog/{desk}?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                         headers=ADMIN).json()
        found |= {t["ticket_id"] for t in page["tickets"]}
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return found


def tweet_and_wait(stack, tweet_id: str, text: str, user_id: str, desk: str = "complaints") -> str:
    """Send a signed mention; the id of the ticket it opens, once it waits on ``desk``."""
    before = waiting(stack, desk)
    send_tweet(stack, tweet_id, text, user_id=user_id)
    new = stack.wait_for(lambda: waiting(stack, desk) - before, timeout=10)
    assert len(new) == 1, (new, stack.output()[-3000:])
    return new.pop()


def test_sign_in_take_the_ticket_answer_on_x_and_resolve(stack, tmp_path):
    tokens = tmp_path / "responder" / "token"  # its directory does not exist yet
    opened = tweet_and_wait(stack, "700001", "@ExampleRail my train was cancelled and nobody told us, I want a refund",
                            user_id="7001")

    login = inbox(stack, "login", "--username", "amira", "--password-stdin", tokens=tokens, stdin="Amira-local-1\n")
    assert login.returncode == 0, login.stderr
    assert "Signed in" in login.stdout and "amira" in login.stdout and "On shift: customer_service" in login.stdout
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600 and stat.S_IMODE(tokens.parent.stat().st_mode) == 0o700
    token = saved_token(stack, tokens)
    outputs = [login.stdout + login.stderr]

    desks = inbox(stack, "desks", tokens=tokens)
    outputs.append(desks.stdout + desks.stderr)
    assert desks.returncode == 0, desks.stderr
    assert re.search(r"complaints\W+yes\W+yes\W+1\W", desks.stdout), desks.stdout
    assert "You hold no tickets." in desks.stdout

    taken = inbox(stack, "next", tokens=tokens)
    outputs.append(taken.stdout + taken.stderr)
    assert taken.returncode == 0, taken.stderr
    ticket_id = re.search(r"You now hold ticket (\w+) until \d\d:\d\d", taken.stdout).group(1)
    assert ticket_id == opened
    assert "my train was cancelled and nobody told us" in taken.stdout

    shown = inbox(stack, "show", ticket_id, tokens=tokens)
    outputs.append(shown.stdout + shown.stderr)
    assert shown.returncode == 0, shown.stderr
    for expected in ("claimed by you until", "complaints", "Traveller7001", "x#7001", "traveller7001 · x public",
                     "Wed 25 Nov 10:0", "first response due", "nothing yet", "no notes",
                     "goes to traveller7001 on x (public), up to 280 characters",
                     "answered  yes — complaint", "gave      complaint · normal", "signals   intent complaint",
                     f"to correct it: inbox label {ticket_id} "):
        assert expected in shown.stdout, (expected, shown.stdout)

    replied = inbox(stack, "reply", ticket_id, "-", tokens=tokens, stdin=REPLY + "\n")
    outputs.append(replied.stdout + replied.stderr)
    assert replied.returncode == 0, replied.stderr
    assert "Reply queued for traveller7001 on x (public)" in replied.stdout
    assert "107/280 characters as X counts them" in replied.stdout  # the 22-character link counts as 23

    def sent():
        return [m for m in stack.get("/local/outbox").json()["messages"]
                if m["in_reply_to"] == "700001" and m["idempotency_key"].startswith(f"reply#{ticket_id}#")]

    delivered = stack.wait_for(sent, timeout=10)
    assert len(delivered) == 1, stack.output()[-3000:]
    assert delivered[0]["channel"] == "x" and delivered[0]["recipient"] == "7001"
    assert delivered[0]["text"] == REPLY and delivered[0]["private"] is False

    noted = inbox(stack, "note", ticket_id, "Delay Repay link sent", tokens=tokens)
    assert noted.returncode == 0, noted.stderr
    as_json = inbox(stack, "show", ticket_id, "--json", tokens=tokens)
    outputs.append(as_json.stdout + as_json.stderr)
    view = json.loads(as_json.stdout)
    assert view["ticket_id"] == ticket_id and view["messages"][-1]["ours"] is True
    assert view["triage"]["answered"] is True and view["triage"]["intent"] == "complaint"
    assert view["notes"][-1]["text"].endswith("Delay Repay link sent")
    page = requests.get(view["status_url"], headers={"Accept": "application/json"}, timeout=10).json()
    assert page["reference"] == ticket_id
    assert "replied" in [event["kind"] for event in page["timeline"]], page

    again = inbox(stack, "show", ticket_id, tokens=tokens)
    assert "» amira · our reply" in again.stdout and REPLY[:40] in again.stdout
    assert "agent reply queued by amira" in again.stdout and "amira: Delay Repay link sent" in again.stdout

    resolved = inbox(stack, "resolve", ticket_id, tokens=tokens)
    assert resolved.returncode == 0 and f"Resolved ticket {ticket_id}." in resolved.stdout, resolved.stderr
    refused = inbox(stack, "reply", ticket_id, "One more thing", tokens=tokens)
    outputs.append(refused.stdout + refused.stderr)
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"ticket {ticket_id} is resolved; reopen it first" in refused.stderr
    assert f"inbox reopen {ticket_id}" in refused.stderr
    assert len(sent()) == 1  # nothing more was queued

    assert all(token not in output for output in outputs)  # the token is never printed
    out = inbox(stack, "logout", tokens=tokens)
    assert out.returncode == 0 and not tokens.exists()
    after = inbox(stack, "desks", tokens=tokens)
    assert after.returncode == 1 and "not signed in" in after.stderr and "python -m tools.inbox login" in after.stderr


def test_refusals_say_why_and_exit_non_zero(stack, tmp_path):
    tokens = tmp_path / "token"
    wrong = inbox(stack, "login", "-u", "amira", tokens=tokens, RESPONDER_PASSWORD="Amira-wrong-1")
    assert wrong.returncode == 1 and "wrong username or password" in wrong.stderr and not tokens.exists()
    no_terminal = inbox(stack, "login", "-u", "amira", tokens=tokens)
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr

    signed = inbox(stack, "login", "-u", "amira", tokens=tokens, RESPONDER_PASSWORD="Amira-local-1",
                   RESPONDER_URL=stack.base + "/")
    assert signed.returncode == 0, signed.stderr
    other_desk = inbox(stack, "next", "press", tokens=tokens)
    assert other_desk.returncode == 1
    assert "desk press is covered by comms; your teams: customer_service" in other_desk.stderr
    assert inbox(stack, "oversight", tokens=tokens).stderr.strip() == "oversight is for leads and comms"
    missing = inbox(stack, "show", "R0000000X", tokens=tokens)
    assert missing.returncode == 1 and "not found: ticket R0000000X" in missing.stderr

    forged = inbox(stack, "me", tokens=tokens, RESPONDER_TOKEN="forged.token.value")
    assert forged.returncode == 1 and "sign in again: python -m tools.inbox login" in forged.stderr
    other_stack = inbox(stack, "me", tokens=tokens, RESPONDER_URL=f"http://localhost:{stack.http_port}")
    assert other_stack.returncode == 1 and f"not signed in to http://localhost:{stack.http_port}" in other_stack.stderr
    unreachable = inbox(stack, "me", tokens=tokens, PORT=str(free_port()), RESPONDER_TOKEN="any")
    assert unreachable.returncode == 3 and "cannot reach the responder" in unreachable.stderr
    assert "make run" in unreachable.stderr

    assert inbox(stack, "reply", tokens=tokens).returncode == 2
    empty = inbox(stack, "reply", "R0000000X", "-", tokens=tokens, stdin="  \n")
    assert empty.returncode == 2 and "the reply is empty" in empty.stderr


def test_a_lead_sees_oversight(stack, tmp_path):
    tokens = tmp_path / "token"
    signed = inbox(stack, "login", "-u", "chloe", tokens=tokens, RESPONDER_PASSWORD="Chloe-local-1")
    assert signed.returncode == 0 and "lead" in signed.stdout, signed.stderr
    seen = inbox(stack, "oversight", tokens=tokens)
    assert seen.returncode == 0, seen.stderr
    for expected in ("Teams at", "customer_service", "team_leads", "Desks", "complaints", "escalations",
                     "SLA breaches", "Who holds what"):
        assert expected in seen.stdout, (expected, seen.stdout)


def test_an_agent_labels_a_ticket_and_a_lead_measures_triage_on_the_labels(stack, tmp_path):
    opened = tweet_and_wait(stack, "700301", "@ExampleRail the new trains are lush, well done", user_id="7301",
                            desk="journeys")  # praise names no desk: the brand's default desk
    amira = tmp_path / "amira"
    assert inbox(stack, "login", "-u", "amira", tokens=amira, RESPONDER_PASSWORD="Amira-local-1").returncode == 0
    wrong = inbox(stack, "label", opened, "grumpy", tokens=amira)
    assert wrong.returncode == 1 and "intent must be one of complaint, question, praise" in wrong.stderr
    done = inbox(stack, "label", opened, "praise", "--not-urgent", tokens=amira)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"Labelled ticket {opened} praise(: triage had it right\.|; triage had said \w+\.)",
                     done.stdout), done.stdout
    refused = inbox(stack, "labels", "--out", str(tmp_path / "x.csv"), tokens=amira)
    assert refused.returncode == 1 and "the labels are for leads and comms" in refused.stderr

    chloe = tmp_path / "chloe"
    assert inbox(stack, "login", "-u", "chloe", tokens=chloe, RESPONDER_PASSWORD="Chloe-local-1").returncode == 0
    assert "Triage labels, last 30 days:" in inbox(stack, "oversight", tokens=chloe).stdout
    exported = tmp_path / "labels.csv"
    written = inbox(stack, "labels", "--out", str(exported), tokens=chloe)
    assert written.returncode == 0 and f"written to {exported}" in written.stdout, written.stderr
    rows = [line for line in exported.read_text(encoding="utf-8").splitlines() if line.startswith("700301,")]
    assert len(rows) == 1 and ",praise,no,x," in rows[0] and ",amira," in rows[0]
    # the triage report reads the file as it is (make triage-report LABELLED=...)
    report = subprocess.run([sys.executable, "bench/triage_accuracy.py", "--labelled", str(exported), "--part", "all"],
                            cwd=PROJECT, text=True, capture_output=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert re.search(r"== whole set: \d+ labelled inbound tweets ==", report.stdout), report.stdout


def test_customer_text_cannot_drive_the_terminal(stack, tmp_path):
    tokens = tmp_path / "token"
    opened = tweet_and_wait(stack, "700002", "@ExampleRail [bold red]refund[/] \x1b[2J\x1b]0;owned\x07 my train "
                            "was cancelled", user_id="7002")
    assert inbox(stack, "login", "-u", "ben", tokens=tokens, RESPONDER_PASSWORD="Ben-local-1").returncode == 0
    taken = inbox(stack, "next", "complaints", tokens=tokens)
    assert taken.returncode == 0 and "Traveller7002" in taken.stdout, taken.stderr
    assert "[bold red]refund[/]" in taken.stdout  # shown as written, not read as markup
    assert "\x1b" not in taken.stdout and "\x07" not in taken.stdout
    assert r"\x1b[2J\x1b]0;owned\x07" in taken.stdout
    assert re.search(r"You now hold ticket (\w+)", taken.stdout).group(1) == opened
    released = inbox(stack, "release", opened, tokens=tokens)
    assert released.returncode == 0 and "back in the queue of desk complaints" in released.stdout
    again = inbox(stack, "claim", opened, tokens=tokens)
    assert again.returncode == 0 and f"You now hold ticket {opened}" in again.stdout, again.stderr
    assert inbox(stack, "release", opened, tokens=tokens).returncode == 0


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def in_terminal(stack, home: Path, tokens: Path, *args: str, width: int = 150,
                server: str = "") -> tuple[list[str], Any]:
    """``python -m tools.inbox ARGS`` started in a real terminal (a tmux session named ``inbox``) with a bare
    environment; the tmux command to drive it, and a function reading its screen. Kill the server when done."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "xterm",
           "LANG": "C.UTF-8", "TZ": "UTC", "PORT": str(stack.http_port), "RESPONDER_TOKEN_FILE": str(tokens)}
    command = (f"cd {shlex.quote(str(PROJECT))} && env -i {' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items())}"
               f" {shlex.quote(sys.executable)} -m tools.inbox {shlex.join(args)}; echo EXIT=$?; sleep 60")
    tmux = ["tmux", "-L", f"responder-inbox-test-{os.getpid()}{server}", "-f", "/dev/null"]

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-J", "-t", "inbox"], capture_output=True,
                              text=True).stdout

    subprocess.run([*tmux, "new-session", "-d", "-s", "inbox", "-x", str(width), "-y", "40", command], check=True)
    return tmux, screen


def test_interactive_login_in_a_terminal_does_not_echo_the_password(stack, tmp_path):
    tokens = tmp_path / "token"
    tmux, screen = in_terminal(stack, tmp_path, tokens, "login")
    try:
        assert stack.wait_for(lambda: "Username:" in screen(), timeout=15), screen()
        subprocess.run([*tmux, "send-keys", "-t", "inbox", "omar", "Enter"], check=True)
        assert stack.wait_for(lambda: "Password:" in screen(), timeout=10), screen()
        subprocess.run([*tmux, "send-keys", "-t", "inbox", "Omar-local-1", "Enter"], check=True)
        shown = stack.wait_for(lambda: "EXIT=" in screen() and screen(), timeout=15) or screen()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert "EXIT=0" in shown and "Signed in" in shown and "(omar)" in shown, shown
    assert "Omar-local-1" not in shown  # typed at the hidden prompt: never echoed
    me = inbox(stack, "me", tokens=tokens)
    assert me.returncode == 0 and "On shift: oncall" in me.stdout and "oncall" in me.stdout, me.stderr
    assert saved_token(stack, tokens) not in shown + me.stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_labels_written_to_a_terminal_show_customer_text_without_obeying_it(stack, tmp_path):
    opened = tweet_and_wait(stack, "700302", "@ExampleRail \x1b]2;owned\x07\x1b[2J my train was cancelled",
                            user_id="7302")
    amira, chloe = tmp_path / "amira", tmp_path / "chloe"
    assert inbox(stack, "login", "-u", "amira", tokens=amira, RESPONDER_PASSWORD="Amira-local-1").returncode == 0
    assert inbox(stack, "label", opened, "complaint", tokens=amira).returncode == 0
    assert inbox(stack, "login", "-u", "chloe", tokens=chloe, RESPONDER_PASSWORD="Chloe-local-1").returncode == 0
    piped = inbox(stack, "labels", "--out", "-", tokens=chloe)  # to a pipe: the data as it is
    assert piped.returncode == 0 and "\x1b]2;owned\x07" in piped.stdout
    tmux, screen = in_terminal(stack, tmp_path, chloe, "labels", "--out", "-", width=250)
    try:
        shown = stack.wait_for(lambda: "EXIT=" in screen() and screen(), timeout=15) or screen()
        title = subprocess.run([*tmux, "display-message", "-p", "-t", "inbox", "#{pane_title}"],
                               capture_output=True, text=True).stdout.strip()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert "EXIT=0" in shown and shown.lstrip().startswith("tweet_id,author_id"), shown  # nothing cleared the screen
    assert r"\x1b]2;owned\x07\x1b[2J my train was cancelled" in shown, shown
    assert title != "owned"


def test_saved_replies_are_listed_and_one_is_sent_after_confirmation(stack, tmp_path):
    tokens = tmp_path / "token"
    ticket_id = tweet_and_wait(stack, "700501", "@ExampleRail my train was cancelled and I want my money back",
                               user_id="7501")
    assert inbox(stack, "login", "-u", "ben", "--password-stdin", tokens=tokens, stdin="Ben-local-1\n").returncode == 0
    assert inbox(stack, "claim", ticket_id, "--json", tokens=tokens).returncode == 0

    listed = inbox(stack, "saved", ticket_id, tokens=tokens)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"delay_repay\W+Delay Repay claim\W+\d+/280", listed.stdout), listed.stdout
    assert "lost_property" not in listed.stdout  # the journeys desk's
    assert f"reply {ticket_id} --saved ID" in listed.stdout
    as_json = json.loads(inbox(stack, "saved", ticket_id, "--json", tokens=tokens).stdout)
    assert as_json["channel"] == "x" and {r["id"] for r in as_json["replies"]} >= {"delay_repay", "thanks_praise"}

    declined = inbox(stack, "reply", ticket_id, "--saved", "delay_repay", tokens=tokens, stdin="n\n")
    assert declined.returncode == 1 and "Nothing sent." in declined.stdout
    assert "Sorry for the delay, Traveller7501." in declined.stdout and "Send this to the customer on x?" in \
        declined.stdout
    unknown = inbox(stack, "reply", ticket_id, "--saved", "no_such", "--yes", tokens=tokens)
    assert unknown.returncode == 2 and "no saved reply no_such" in unknown.stderr
    both = inbox(stack, "reply", ticket_id, "some text", "--saved", "delay_repay", tokens=tokens)
    assert both.returncode == 2

    sent = inbox(stack, "reply", ticket_id, "--saved", "delay_repay", tokens=tokens, stdin="y\n")
    assert sent.returncode == 0, sent.stderr
    assert "Reply queued for traveller7501 on x (public)" in sent.stdout

    def delivered():
        return [m for m in stack.get("/local/outbox").json()["messages"]
                if m["in_reply_to"] == "700501" and m["idempotency_key"].startswith(f"reply#{ticket_id}#")]

    messages = stack.wait_for(delivered, timeout=10)
    assert len(messages) == 1, stack.output()[-3000:]
    assert messages[0]["text"].startswith("Sorry for the delay, Traveller7501. You can claim Delay Repay")
    assert messages[0]["text"].endswith(f"Ref {ticket_id}")


def test_a_desk_list_search_history_and_one_step_actions_in_the_terminal(stack, tmp_path):
    tokens = tmp_path / "token"
    first = tweet_and_wait(stack, "700601", "@ExampleRail my train was cancelled again, refund please", user_id="7601")
    second = tweet_and_wait(stack, "700602", "@ExampleRail no seats and no heating on the 08:10", user_id="7602")
    signed = inbox(stack, "login", "-u", "amira", tokens=tokens, RESPONDER_PASSWORD="Amira-local-1")
    assert signed.returncode == 0, signed.stderr

    listed = inbox(stack, "list", "complaints", "--limit", "100", tokens=tokens)
    assert listed.returncode == 0, listed.stderr
    assert "Desk complaints" in listed.stdout and first in listed.stdout and second in listed.stdout
    paged = inbox(stack, "list", "complaints", "--limit", "1", tokens=tokens)
    cursor = re.search(r"--cursor (\S+)", paged.stdout).group(1)
    following = inbox(stack, "list", "complaints", "--limit", "1", "--cursor", cursor, "--json", tokens=tokens)
    page = json.loads(following.stdout)
    assert len(page["tickets"]) == 1 and page["tickets"][0]["ticket_id"] not in paged.stdout
    bad = inbox(stack, "list", "complaints", "--state", "lost", tokens=tokens)
    assert bad.returncode == 1 and "state must be one of" in bad.stderr

    assert inbox(stack, "claim", first, tokens=tokens).returncode == 0
    mine = inbox(stack, "list", "complaints", "--mine", tokens=tokens)
    assert mine.returncode == 0 and first in mine.stdout and second not in mine.stdout
    too_long = inbox(stack, "reply", first, "x" * 400, "--resolve", tokens=tokens)
    assert too_long.returncode == 1
    done = inbox(stack, "reply", first, "Refund is on its way.", "--resolve", tokens=tokens)
    assert done.returncode == 0, done.stderr
    assert f"Ticket {first} resolved." in done.stdout
    assert inbox(stack, "reply", first, "x", "--resolve", "--release", tokens=tokens).returncode == 2

    linked = inbox(stack, "link", "x#7601", "x#7602", tokens=tokens)
    assert linked.returncode == 0, linked.stderr
    found = inbox(stack, "search", "@traveller7602", tokens=tokens)
    assert found.returncode == 0, found.stderr
    assert first in found.stdout and second in found.stdout and "x#7601" in found.stdout
    nobody = inbox(stack, "search", "x@nobody_known", tokens=tokens)
    assert nobody.returncode == 0 and "No customer is known as x@nobody_known." in nobody.stdout

    assert inbox(stack, "claim", second, tokens=tokens).returncode == 0
    shown = inbox(stack, "show", second, tokens=tokens)
    assert "The customer's other tickets" in shown.stdout and first in shown.stdout and "resolved" in shown.stdout
    moved = inbox(stack, "resolve", second, "--next", "--json", tokens=tokens)
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["resolved"] == {"ticket_id": second, "status": "resolved"}


def test_a_lead_assigns_a_ticket_to_an_agent_from_the_terminal(stack, tmp_path):
    ticket_id = tweet_and_wait(stack, "700401", "@ExampleRail my train was cancelled, stuck at Didcot", user_id="7401")
    chloe, ben = tmp_path / "chloe", tmp_path / "ben"
    assert inbox(stack, "login", "-u", "chloe", tokens=chloe, RESPONDER_PASSWORD="Chloe-local-1").returncode == 0
    refused = inbox(stack, "assign", ticket_id, "priya", tokens=chloe)  # comms do not take customer service's
    assert refused.returncode == 1 and "priya" in refused.stderr, refused.stderr
    assert inbox(stack, "login", "-u", "ben", tokens=ben, RESPONDER_PASSWORD="Ben-local-1").returncode == 0
    done = inbox(stack, "assign", ticket_id, "ben", tokens=chloe)
    assert done.returncode == 0 and f"Ticket {ticket_id} is ben's now." in done.stdout, done.stdout + done.stderr
    assert ticket_id in inbox(stack, "me", tokens=ben).stdout


def on_screen(stack, home: Path, tokens: Path, *args: str, answer: str = "") -> str:
    """One command in a real terminal (tmux); ``answer`` typed at its prompt; the screen once it has exited."""
    tmux, screen = in_terminal(stack, home, tokens, *args, width=160, server=f"-{next(_SERVERS)}")
    try:
        if answer:
            assert stack.wait_for(lambda: "?" in screen(), timeout=15), screen()
            subprocess.run([*tmux, "send-keys", "-t", "inbox", answer, "Enter"], check=True)
        return stack.wait_for(lambda: "EXIT=" in screen() and screen(), timeout=20) or screen()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


_SERVERS = itertools.count(1)  # a tmux server of its own for each command: never one still shutting down


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_lead_and_an_agent_work_a_ticket_in_the_terminal(stack, tmp_path):
    """In a real terminal: Chloe lists the complaints desk, finds the customer by handle and gives the ticket to
    Ben; Ben lists the saved replies, sends one and resolves in one step, and takes the next ticket."""
    ticket_id = tweet_and_wait(stack, "709901", "@ExampleRail my train was cancelled and I want a refund",
                               user_id="79901")
    handle = "traveller79901"  # tests.helpers: one handle per account
    chloe, ben = tmp_path / "chloe" / "token", tmp_path / "ben" / "token"
    for who, tokens, password in (("chloe", chloe, "Chloe-local-1"), ("ben", ben, "Ben-local-1")):
        tokens.parent.mkdir()
        assert inbox(stack, "login", "-u", who, tokens=tokens, RESPONDER_PASSWORD=password).returncode == 0
    listed = on_screen(stack, chloe.parent, chloe, "list", "complaints", "--state", "waiting")
    assert "EXIT=0" in listed and ticket_id in listed, listed
    found = on_screen(stack, chloe.parent, chloe, "search", f"@{handle}")
    assert "EXIT=0" in found and ticket_id in found, found
    given = on_screen(stack, chloe.parent, chloe, "assign", ticket_id, "ben")
    assert "EXIT=0" in given and f"Ticket {ticket_id} is ben's now." in given, given
    saved = on_screen(stack, ben.parent, ben, "saved", ticket_id)
    assert "EXIT=0" in saved and "delay_repay" in saved, saved
    sent = on_screen(stack, ben.parent, ben, "reply", ticket_id, "--saved", "delay_repay", "--resolve", answer="y")
    assert "EXIT=0" in sent and "resolved" in sent.lower(), sent
    replied = [m for m in stack.get("/local/outbox").json()["messages"] if m.get("in_reply_to") == "709901"
               and "Delay Repay" in m.get("text", "")]
    assert len(replied) == 1 or stack.wait_for(
        lambda: [m for m in stack.get("/local/outbox").json()["messages"] if m.get("in_reply_to") == "709901"
                 and "Delay Repay" in m.get("text", "")], timeout=15)
    taken = on_screen(stack, ben.parent, ben, "next")
    assert "EXIT=0" in taken, taken


def test_an_agent_keeps_a_list_as_a_view_and_lists_their_views(stack, tmp_path):
    tokens = tmp_path / "token"
    assert inbox(stack, "login", "-u", "amira", tokens=tokens, RESPONDER_PASSWORD="Amira-local-1").returncode == 0
    assert "No saved views yet" in inbox(stack, "views", tokens=tokens).stdout
    kept = inbox(stack, "list", "complaints", "--priority", "urgent", "--sort", "sla", "--save-as", "urgent by SLA",
                 tokens=tokens)
    assert kept.returncode == 0 and "View “urgent by SLA” saved" in kept.stdout, kept.stdout + kept.stderr
    listed = inbox(stack, "views", tokens=tokens)
    assert listed.returncode == 0 and "urgent by SLA" in listed.stdout
    assert "list complaints --priority urgent --sort sla" in listed.stdout, listed.stdout
