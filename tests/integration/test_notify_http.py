"""The notification adapters with the real HTTP stack (``requests``), HTTP intercepted with ``responses``, and a
signed webhook posted to a receiver listening on 127.0.0.1 that checks the signature with ``verify``."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
import responses

from chalicelib.channels.notify import SLACK_POST_MESSAGE, HttpNotifier, NotifyFailed, delivery_id, verify
from chalicelib.domain.config.notify import Destination
from chalicelib.domain.notice import digest_notice, ticket_notice
from tests.unit.test_notify_render import AT, LINK, desk_message

SLACK_HOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
TEAMS_HOOK = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRETSIG"
SECRETS = {"NOTIFY_CARE_SLACK": SLACK_HOOK, "NOTIFY_CARE_BOT": "xoxb-123-456-secrettoken",
           "NOTIFY_CARE_TEAMS": TEAMS_HOOK, "NOTIFY_HELPDESK": "helpdesk-signing-key"}
SLACK = Destination(name="care-slack", kind="slack", secret="NOTIFY_CARE_SLACK")
BOT = Destination(name="care-bot", kind="slack", secret="NOTIFY_CARE_BOT", channel="C0123ABCD")
TEAMS = Destination(name="care-teams", kind="teams", secret="NOTIFY_CARE_TEAMS")


def webhook(url: str = "https://helpdesk.example/hooks/responder", **changes: object) -> Destination:
    return Destination(name="helpdesk", kind="webhook", secret="NOTIFY_HELPDESK", url=url, **changes)  # type: ignore[arg-type]


def notifier() -> HttpNotifier:
    return HttpNotifier(SECRETS.__getitem__, clock=lambda: AT + timedelta(seconds=5))


def notice(**changes: object):
    return ticket_notice(desk_message(**changes), link=LINK)  # type: ignore[arg-type]


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


def failure(destination: Destination, the_notice=None, **post: object) -> NotifyFailed:
    with pytest.raises(NotifyFailed) as info:
        notifier().post(destination, the_notice or notice(), **post)  # type: ignore[arg-type]
    return info.value


def no_secret_in(failed: NotifyFailed, caplog) -> None:
    said = str(failed) + failed.reason + caplog.text
    for secret in SECRETS.values():
        assert secret not in said


# -- Slack: incoming webhook -----------------------------------------------------------------------------------------


def test_slack_incoming_webhook_posts_the_block_kit_message(http):
    http.post(SLACK_HOOK, body="ok", status=200)
    assert notifier().post(SLACK, notice(priority="urgent")) is None  # an incoming webhook cannot thread
    [call] = http.calls
    sent = json.loads(call.request.body)
    assert call.request.headers["Content-Type"].startswith("application/json")
    assert sent["text"].startswith("URGENT · New ticket R7K2M9QXA on complaints")
    assert sent["blocks"][0]["type"] == "section" and sent["unfurl_links"] is False
    assert "Lovelace" not in call.request.body.decode()


def test_slack_invalid_token_is_not_retried_and_names_no_secret(http, caplog):
    http.post(SLACK_HOOK, body="invalid_token", status=404)
    failed = failure(SLACK)
    assert not failed.retryable and failed.reason == "care-slack: refused: HTTP 404 invalid_token"
    no_secret_in(failed, caplog)


def test_slack_rate_limit_is_retried_after_what_slack_asks(http):
    http.post(SLACK_HOOK, body="rate_limited", status=429, headers={"Retry-After": "30"})
    failed = failure(SLACK)
    assert failed.retryable and failed.retry_after == 30.0 and "429" in failed.reason


def test_a_slack_webhook_secret_that_is_not_an_address_is_refused_before_posting(http):
    broken = Destination(name="care-slack", kind="slack", secret="NOTIFY_CARE_BOT")  # a bot token, no channel
    failed = failure(broken)
    assert not failed.retryable and "NOTIFY_CARE_BOT must hold its incoming-webhook URL" in failed.reason
    assert "xoxb" not in failed.reason and len(http.calls) == 0


# -- Slack: bot token ------------------------------------------------------------------------------------------------


def test_slack_bot_posts_with_chat_post_message_and_returns_the_ts(http):
    http.post(SLACK_POST_MESSAGE, json={"ok": True, "channel": "C0123ABCD", "ts": "1796000000.000100"})
    assert notifier().post(BOT, notice()) == "1796000000.000100"
    [call] = http.calls
    assert call.request.headers["Authorization"] == "Bearer xoxb-123-456-secrettoken"
    sent = json.loads(call.request.body)
    assert sent["channel"] == "C0123ABCD" and "thread_ts" not in sent and sent["blocks"]


def test_slack_bot_threads_a_later_event_under_the_first(http):
    http.post(SLACK_POST_MESSAGE, json={"ok": True, "channel": "C0123ABCD", "ts": "1796000100.000200"})
    chase = notice(event="ticket.updated", change="chase")
    assert notifier().post(BOT, chase, thread="1796000000.000100") == "1796000100.000200"
    sent = json.loads(http.calls[0].request.body)
    assert sent["thread_ts"] == "1796000000.000100" and sent["text"].startswith("Customer wrote again")


@pytest.mark.parametrize(("error", "retryable"), [("invalid_auth", False), ("channel_not_found", False),
                                                  ("not_in_channel", False), ("ratelimited", True),
                                                  ("internal_error", True)])
def test_slack_ok_false_errors(http, caplog, error, retryable):
    http.post(SLACK_POST_MESSAGE, json={"ok": False, "error": error}, status=200)
    failed = failure(BOT)
    assert failed.retryable is retryable and failed.reason == f"care-bot: Slack: {error}"
    no_secret_in(failed, caplog)


def test_slack_bot_rate_limited_over_http(http):
    http.post(SLACK_POST_MESSAGE, json={"ok": False, "error": "ratelimited"}, status=429,
              headers={"Retry-After": "7"})
    failed = failure(BOT)
    assert failed.retryable and failed.retry_after == 7.0


# -- Microsoft Teams -------------------------------------------------------------------------------------------------


def test_teams_workflows_accepts_with_202(http):
    http.post(TEAMS_HOOK, body="", status=202)
    assert notifier().post(TEAMS, notice()) is None
    sent = json.loads(http.calls[0].request.body)
    assert sent["type"] == "message"
    assert sent["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_teams_refusal_is_not_retried_and_the_url_stays_secret(http, caplog):
    http.post(TEAMS_HOOK, json={"error": {"code": "DirectApiAuthorizationRequired"}}, status=401)
    failed = failure(TEAMS)
    assert not failed.retryable and failed.reason.startswith("care-teams: refused: HTTP 401")
    no_secret_in(failed, caplog)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(http, status):
    http.post(TEAMS_HOOK, body="busy", status=status)
    failed = failure(TEAMS)
    assert failed.retryable and failed.reason == f"care-teams: HTTP {status}"


def test_a_time_out_and_a_network_error_are_retried_without_the_url(http, caplog):
    http.post(TEAMS_HOOK, body=requests.ConnectTimeout(f"timed out connecting to {TEAMS_HOOK}"))
    failed = failure(TEAMS)
    assert failed.retryable and failed.reason == "care-teams: no answer in time"
    assert failed.__cause__ is None and failed.__suppress_context__
    http.post(SLACK_HOOK, body=requests.ConnectionError(f"cannot reach {SLACK_HOOK}"))
    failed = failure(SLACK)
    assert failed.retryable and failed.reason == "care-slack: network error (ConnectionError)"
    no_secret_in(failed, caplog)


# -- the signed webhook ----------------------------------------------------------------------------------------------


def test_webhook_headers_carry_event_delivery_timestamp_and_signature(http):
    http.post("https://helpdesk.example/hooks/responder", status=204)
    the_notice = notice()
    assert notifier().post(webhook(), the_notice) is None
    [call] = http.calls
    h = call.request.headers
    sent_at = int((AT + timedelta(seconds=5)).timestamp())
    assert h["Content-Type"] == "application/json" and h["X-Responder-Event"] == "ticket.created"
    assert h["X-Responder-Timestamp"] == str(sent_at)
    assert h["X-Responder-Delivery"] == delivery_id(webhook(), the_notice)
    assert verify("helpdesk-signing-key", dict(h), call.request.body, now=sent_at)
    assert json.loads(call.request.body)["customer_name"] == ""


def test_webhook_delivery_id_is_stable_across_retries_and_differs_per_event(http):
    http.post("https://helpdesk.example/hooks/responder", status=503)
    http.post("https://helpdesk.example/hooks/responder", status=200)
    assert failure(webhook()).retryable
    notifier().post(webhook(), notice())
    first, retried = (c.request.headers["X-Responder-Delivery"] for c in http.calls)
    assert first == retried
    assert delivery_id(webhook(), notice(event="ticket.updated", change="chase")) != first


def test_webhook_4xx_is_not_retried(http):
    http.post("https://helpdesk.example/hooks/responder", status=410)
    assert not failure(webhook()).retryable


def test_a_redirect_is_not_followed(http):
    http.post("https://helpdesk.example/hooks/responder", status=302, headers={"Location": "https://elsewhere/"})
    failed = failure(webhook())
    assert not failed.retryable and len(http.calls) == 1


class Receiver(BaseHTTPRequestHandler):
    """A helpdesk's endpoint: checks the signature as the README shows, answers 202 or 401."""

    key = "helpdesk-signing-key"
    received: list[tuple[bool, dict, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = verify(self.key, dict(self.headers.items()), body, now=int(datetime.now(timezone.utc).timestamp()))
        self.received.append((good, dict(self.headers.items()), body))
        self.send_response(202 if good else 401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver():
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/responder"
    server.shutdown()
    server.server_close()


def test_a_receiver_verifies_the_signature_over_real_http(receiver):
    now = datetime.now(timezone.utc)
    real_clock = HttpNotifier(SECRETS.__getitem__, clock=lambda: now)
    digest = digest_notice(desk="complaints", team="customer_service", at=now, tickets=[notice(priority="urgent")],
                           waiting=3, link="https://help.example.test/inbox/desks/complaints")
    assert real_clock.post(webhook(receiver), notice()) is None
    assert real_clock.post(webhook(receiver), digest) is None
    (ok1, headers1, body1), (ok2, headers2, body2) = Receiver.received
    assert ok1 and ok2
    assert headers1["X-Responder-Event"] == "ticket.created" and json.loads(body1)["reference"] == "R7K2M9QXA"
    assert headers2["X-Responder-Event"] == "desk.digest" and json.loads(body2)["waiting"] == 3


def test_a_receiver_with_another_key_refuses_and_the_sender_does_not_retry(receiver):
    Receiver.key = "another-key"
    try:
        now = datetime.now(timezone.utc)
        with pytest.raises(NotifyFailed) as info:
            HttpNotifier(SECRETS.__getitem__, clock=lambda: now).post(webhook(receiver), notice())
    finally:
        Receiver.key = "helpdesk-signing-key"
    assert not info.value.retryable and "HTTP 401" in info.value.reason
    assert [ok for ok, _, _ in Receiver.received] == [False]


def test_a_stale_request_is_refused_by_the_receiver(receiver):
    stale = datetime.now(timezone.utc) - timedelta(minutes=6)
    with pytest.raises(NotifyFailed):
        HttpNotifier(SECRETS.__getitem__, clock=lambda: stale).post(webhook(receiver), notice())
    assert [ok for ok, _, _ in Receiver.received] == [False]


def test_the_readme_receiver_snippet_accepts_a_real_request_and_refuses_a_tampered_one(http):
    """The verification snippet the README gives receivers, run on what the adapter really sent."""
    import re
    import time

    from tests.conftest import PROJECT

    readme = (PROJECT / "README.md").read_text()
    section = readme[readme.index("### Where the work goes: Slack, Teams, a signed webhook"):]
    [snippet] = re.findall(r"```python\n(.*?)```", section[:section.index("\n## ")], re.S)
    scope: dict = {}
    exec(snippet, scope)  # noqa: S102 - the README's own code
    http.post("https://helpdesk.example/hooks/responder", status=202)
    now = datetime.fromtimestamp(int(time.time()), timezone.utc)
    HttpNotifier(SECRETS.__getitem__, clock=lambda: now).post(webhook(), notice())
    request = http.calls[0].request
    assert scope["verified"]("helpdesk-signing-key", request.headers, request.body)
    assert not scope["verified"]("helpdesk-signing-key", request.headers, request.body + b" ")
    assert not scope["verified"]("another-key", request.headers, request.body)
