"""Mastodon through the real ``Mastodon.py``, its HTTP intercepted by ``responses``, with the real app's schedule,
routes, SQS handlers and stores on moto: the since_id cursor walked with min_id, X-RateLimit-* budgets and 429s,
malformed and hostile notifications, a revoked token, HTML content (never on a page unescaped), and the reply
status the SDK sends (in_reply_to_id, visibility, the customer's @mention, Idempotency-Key)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests
import responses

from chalicelib.channels.mastodon_api import MastodonApi, MastodonSender
from tests.conftest import LambdaContext, receive_all, run_pipeline, utc
from tests.helpers import ticket_of
from tests.integration.test_web_inbox import Browser
from tools.local_stack import scheduled_event

INSTANCE = "https://mastodon.example"
NOTIFICATIONS = f"{INSTANCE}/api/v1/notifications"
STATUSES = f"{INSTANCE}/api/v1/statuses"
PAGE_SIZE = 40


def mention(notification_id: int, text_html: str, at: datetime, *, visibility: str = "public",
            acct: str = "pat@fedi.example", account_id: str = "7001", in_reply_to_id: str | None = None) -> dict:
    iso = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    account = {"id": account_id, "username": acct.split("@")[0], "acct": acct, "display_name": "Pat",
               "followers_count": 40, "url": f"https://{acct.split('@')[-1]}/@{acct.split('@')[0]}"}
    return {"id": str(notification_id), "type": "mention", "created_at": iso, "account": account,
            "status": {"id": str(110000 + notification_id), "created_at": iso, "in_reply_to_id": in_reply_to_id,
                       "visibility": visibility, "language": "en", "content": text_html, "spoiler_text": "",
                       "uri": f"https://fedi.example/users/pat/statuses/{110000 + notification_id}",
                       "url": f"https://fedi.example/@pat/{110000 + notification_id}", "account": account,
                       "mentions": [{"id": "1", "acct": "meridianrail", "username": "meridianrail"}]}}


def budget(remaining: int = 299, reset: datetime | None = None) -> dict:
    reset = reset or datetime.now(timezone.utc) + timedelta(minutes=5)
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


@pytest.fixture
def amira(client, clock):
    """An agent's sign-in, made before the instance's HTTP is intercepted (moto serves the pool's signing keys
    through the same HTTP layer; they are cached for the rest of the test)."""
    clock.set(utc(2026, 11, 25, 10, 0))  # Wednesday: customer service on shift
    response = client.http.post("/agent/sign-in", headers={"Content-Type": "application/json"},
                                body=json.dumps({"username": "amira", "password": "Amira-local-1"}))
    return {"Authorization": f"Bearer {response.json_body['token']}", "Content-Type": "application/json"}


@pytest.fixture
def instance(svc):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        svc.mastodon_api_factory = lambda: MastodonApi(INSTANCE, "token-1", own_acct="meridianrail@mastodon.example")
        svc._feeds.clear()
        yield mock


@pytest.fixture
def counted(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("chalicelib.usecases.polling.count", lambda name, value=1, **_: seen.append(name))
    return seen


def poll() -> dict:
    import app as application

    return application.app.handler_map["poll_mastodon"](scheduled_event("poll_mastodon"), LambdaContext())


def query(call) -> dict:
    return parse_qs(call.request.url.split("?", 1)[1]) if "?" in call.request.url else {}


# ------------------------------------------------------------------------------------------------ polling
def test_the_first_poll_reads_the_newest_page_then_walks_forward_from_its_since_id(svc, clock, instance):
    now = clock.now()
    instance.get(NOTIFICATIONS, json=[mention(12, "<p>@meridianrail refund please</p>", now),
                                      mention(11, "<p>@meridianrail from last week</p>", now - timedelta(days=6))],
                 headers=budget())
    result = poll()
    assert result == {"pages": 1, "fetched": 2, "queued": 1, "skipped": 0, "since_id": "12"}
    first = query(instance.calls[0])
    assert first["types[]"] == ["mention"] and "min_id" not in first and first["limit"] == [str(PAGE_SIZE)]
    assert instance.calls[0].request.headers["Authorization"] == "Bearer token-1"
    assert svc.cursors.get("mastodon-mentions") == {"since_id": "12"}

    # a full page means more may follow: the next request asks for what is just newer than its newest
    full = [mention(n, f"<p>@meridianrail message {n}</p>", now) for n in range(13 + PAGE_SIZE - 1, 12, -1)]
    instance.get(NOTIFICATIONS, json=full, headers=budget())
    instance.get(NOTIFICATIONS, json=[mention(13 + PAGE_SIZE, "<p>@meridianrail and one more</p>", now)],
                 headers=budget())
    result = poll()
    assert result["pages"] == 2 and result["queued"] == PAGE_SIZE + 1
    assert query(instance.calls[1])["min_id"] == ["12"]
    assert query(instance.calls[2])["min_id"] == [str(12 + PAGE_SIZE)]
    assert svc.cursors.get("mastodon-mentions") == {"since_id": str(13 + PAGE_SIZE)}
    assert len(receive_all("responder-inbound")) == 3  # one message per page, each before the cursor moved


def test_an_exhausted_budget_pauses_until_the_reset(svc, clock, instance):
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    reset = clock.now() + timedelta(minutes=3)
    full = [mention(n, "<p>@meridianrail hi</p>", clock.now()) for n in range(100 + PAGE_SIZE, 100, -1)]
    instance.get(NOTIFICATIONS, json=full, headers=budget(0, reset))
    result = poll()
    assert result["pages"] == 1 and len(instance.calls) == 1
    assert svc.cursors.get("mastodon-mentions") == {"since_id": str(100 + PAGE_SIZE),
                                                    "resume_after": reset.isoformat()}
    assert poll() == {"skipped": f"rate limited until {reset.isoformat()}"}


def test_429_records_the_reset_and_skips_until_then_without_sleeping(svc, clock, instance, counted):
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    reset = clock.now() + timedelta(minutes=5)
    instance.get(NOTIFICATIONS, status=429, json={"error": "Too many requests"}, headers=budget(0, reset))
    started = time.monotonic()
    result = poll()
    assert time.monotonic() - started < 5 and result["rate_limited_until"] == reset.isoformat()
    assert "skipped" in poll() and len(instance.calls) == 1
    assert counted == ["MastodonPollRateLimited", "MastodonPollSkippedRateLimited"]
    clock.advance(minutes=6)
    instance.get(NOTIFICATIONS, json=[mention(101, "<p>@meridianrail back</p>", clock.now())], headers=budget())
    assert poll()["queued"] == 1
    assert svc.cursors.get("mastodon-mentions") == {"since_id": "101"}


def test_a_malformed_or_hostile_notification_is_skipped_with_a_metric_and_a_log_line(svc, clock, instance,
                                                                                      counted, caplog):
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    now = clock.now()
    no_status = {"id": "103", "type": "mention", "status": None, "account": {"id": "1", "acct": "x"}}
    odd_visibility = mention(104, "<p>hi</p>", now, visibility="everyone")
    bad_acct = mention(105, "<p>hi</p>", now, acct="<b>evil</b>@fedi.example")
    instance.get(NOTIFICATIONS, json=[mention(107, "<p>@meridianrail second good one</p>", now), "junk", 42,
                                      bad_acct, odd_visibility, no_status, {"id": "106"},
                                      mention(102, "<p>@meridianrail first good one</p>", now),
                                      {**mention(108, "<p>liked</p>", now), "type": "favourite"}],
                 headers=budget())
    caplog.set_level("WARNING")
    result = poll()
    assert result["queued"] == 2 and result["skipped"] == 6
    assert counted.count("MastodonNotificationsSkipped") == 6
    assert svc.cursors.get("mastodon-mentions") == {"since_id": "108"}  # the page was read to its end
    logged = [r.getMessage() for r in caplog.records if "Mastodon notification skipped" in r.getMessage()]
    assert len(logged) == 6 and any("visibility" in line for line in logged)
    assert any(getattr(r, "notification", "") == "notification 105" for r in caplog.records)


def test_a_revoked_token_is_one_clear_error_per_run_never_a_crash(svc, instance, counted, caplog):
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    for _ in range(2):
        instance.get(NOTIFICATIONS, status=401, json={"error": "The access token was revoked"})
    caplog.set_level("ERROR")
    for run in (1, 2):
        result = poll()
        assert "mastodon/access-token" in result["error"] and "revoked" in result["error"]
        assert counted.count("MastodonPollAuthFailed") == run
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 2
    assert svc.cursors.get("mastodon-mentions") == {"since_id": "100"}


def test_a_token_without_the_read_scope_is_the_same_clear_error(svc, instance, counted):
    instance.get(NOTIFICATIONS, status=403, json={"error": "This action is outside the authorized scopes"})
    assert "outside the authorized scopes" in poll()["error"] and counted == ["MastodonPollAuthFailed"]


# ------------------------------------------------------------------------------------------------ HTML
def test_html_in_a_status_never_reaches_a_page_unescaped(svc, clock, client, amira, instance):
    hostile = ('<p>@meridianrail my train was cancelled &lt;script&gt;alert("x")&lt;/script&gt; '
               '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">refund</a></p>')
    instance.get(NOTIFICATIONS, json=[mention(200, hostile, clock.now())], headers=budget())
    poll()
    run_pipeline()
    stored = svc.mentions.get("mastodon#110200").mention
    assert stored.text == '@meridianrail my train was cancelled <script>alert("x")</script> refund'
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    ticket_id = ticket_of(svc, "mastodon#110200")
    page = browser.get(f"/inbox/tickets/{ticket_id}")
    assert page.status_code == 200
    html = browser.text
    assert "&lt;script&gt;alert(" in html and "<script>alert" not in html and "onerror" not in html
    assert "javascript:alert" not in html


# ------------------------------------------------------------------------------------------------ replies
def _deliver_with_mastodon_py(svc) -> None:
    svc.sender_factory = lambda channel: MastodonSender(INSTANCE, "token-1")
    svc._senders.clear()
    run_pipeline()


def test_a_direct_mention_is_acknowledged_by_a_direct_reply_naming_the_customer(svc, clock, instance):
    instance.get(NOTIFICATIONS, json=[mention(300, "<p>@meridianrail my train was cancelled, my card ends 1234</p>",
                                              clock.now(), visibility="direct")], headers=budget())
    poll()
    instance.post(STATUSES, json={"id": "900001", "visibility": "direct"}, headers=budget())
    _deliver_with_mastodon_py(svc)
    sent = instance.calls[-1].request
    form = parse_qs(sent.body)
    assert form["in_reply_to_id"] == ["110300"] and form["visibility"] == ["direct"]
    assert form["status"][0].startswith("@pat@fedi.example ") and "/s/R" in form["status"][0]
    ticket_id = ticket_of(svc, "mastodon#110300")
    assert sent.headers["Idempotency-Key"] == f"ack#{ticket_id}"
    assert svc.tickets.get(ticket_id).sent_keys == [f"ack#{ticket_id}"]  # recorded as sent, never sent again


def test_an_unlisted_mention_is_answered_unlisted_and_an_agent_reply_keeps_the_visibility(svc, clock, client, amira,
                                                                                          instance):
    instance.get(NOTIFICATIONS, json=[mention(400, "<p>@meridianrail is the 10:02 to York running?</p>",
                                              clock.now(), visibility="unlisted")], headers=budget())
    poll()
    run_pipeline()
    ticket_id = ticket_of(svc, "mastodon#110400")
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers=amira).json_body
    assert shown["reply"]["channel"] == "mastodon" and shown["reply"]["limit"] == 500
    too_long = client.http.post(f"/agent/tickets/{ticket_id}/claim", body="{}", headers=amira)
    assert too_long.status_code == 200
    refused = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira, body=json.dumps({"text": "x" * 490}))
    assert refused.status_code == 422 and "Mastodon post allows 500" in refused.json_body["error"]
    replied = client.http.post(f"/agent/tickets/{ticket_id}/reply", headers=amira,
                               body=json.dumps({"text": "Yes, it is running on time today.", "request_id": "r1"}))
    assert replied.status_code == 200, replied.body
    instance.post(STATUSES, json={"id": "900002", "visibility": "unlisted"}, headers=budget())
    _deliver_with_mastodon_py(svc)
    form = parse_qs(instance.calls[-1].request.body)
    assert form["visibility"] == ["unlisted"] and form["in_reply_to_id"] == ["110400"]
    assert form["status"] == ["@pat@fedi.example Yes, it is running on time today."]


@pytest.mark.parametrize("status, retryable", [(429, True), (503, True), (422, False), (404, False), (401, False)])
def test_a_refused_reply_status_says_whether_to_retry(status, retryable):
    from chalicelib.channels.base import OutboundMessage, SendError

    with responses.RequestsMock() as mock:
        mock.post(STATUSES, status=status, json={"error": "no"},
                  headers=budget(0, datetime.now(timezone.utc) + timedelta(seconds=50)))
        sender = MastodonSender(INSTANCE, "token-1", session=requests.Session())
        with pytest.raises(SendError) as refused:
            sender.send(OutboundMessage(channel="mastodon", recipient="7001", text="Thanks", in_reply_to="110001",
                                        extra={"acct": "pat@fedi.example", "visibility": "public"}))
    assert refused.value.retryable is retryable
    if status == 429:
        assert 0 < refused.value.retry_after <= 60


def test_stage_local_takes_an_injected_direct_mention(svc, client):
    from chalicelib.channels.sandbox import LocalNotificationSource

    svc.mastodon_api_factory = LocalNotificationSource
    svc._feeds.clear()
    assert poll()["fetched"] == 0
    response = client.http.post("/local/mastodon/mentions", headers={"Content-Type": "application/json"},
                                body=json.dumps({"acct": "pat@fedi.example", "visibility": "direct",
                                                 "text": "@meridianrail my train was cancelled <b>again</b>"}))
    assert response.status_code == 202, response.body
    notification = response.json_body["notification"]
    assert notification["status"]["content"] == ("<p>@meridianrail my train was cancelled &lt;b&gt;again&lt;/b&gt;"
                                                 "</p>")
    run_pipeline()
    [sent] = client.http.get("/local/outbox").json_body["messages"]
    assert sent["channel"] == "mastodon" and sent["private"] is True and "/s/R" in sent["text"]
    assert client.http.post("/local/mastodon/mentions", headers={"Content-Type": "application/json"},
                            body=b"[1, 2").status_code == 400


def test_a_token_replaced_in_ssm_is_used_without_a_new_container(svc, clock, instance):
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    tokens = ["revoked-token"]
    svc.mastodon_api_factory = lambda: MastodonApi(INSTANCE, lambda: tokens[-1])
    svc._feeds.clear()
    instance.get(NOTIFICATIONS, status=401, json={"error": "The access token was revoked"})
    assert "revoked" in poll()["error"]
    tokens.append("new-token")  # ops put the new token in SSM
    instance.get(NOTIFICATIONS, status=401, json={"error": "The access token was revoked"})
    instance.get(NOTIFICATIONS, json=[mention(101, "<p>@meridianrail hello</p>", clock.now())], headers=budget())
    assert poll()["queued"] == 1
    assert [c.request.headers["Authorization"] for c in instance.calls] == [
        "Bearer revoked-token", "Bearer revoked-token", "Bearer new-token"]


def test_desk_messages_of_bluesky_and_mastodon_tickets_follow_the_published_schema(svc, client, clock):
    import jsonschema

    from tests.conftest import PROJECT

    schema = json.loads((PROJECT / "docs" / "desk-message.schema.json").read_text())
    clock.set(utc(2026, 11, 24, 10, 0))
    for channel, body in (("bluesky", {"handle": "pat.bsky.social", "text": "my train was cancelled, refund please"}),
                          ("mastodon", {"acct": "sam@fedi.example", "text": "my train was cancelled, refund please"})):
        assert client.http.post(f"/local/{channel}/mentions", body=json.dumps(body),
                                headers={"Content-Type": "application/json"}).status_code == 202
    run_pipeline()
    messages = [json.loads(m["Body"]) for desk in svc.config.desk_ids
                for m in receive_all(svc.config.queue_name(desk))]
    assert sorted(m["channel"] for m in messages) == ["bluesky", "mastodon"]
    for message in messages:
        jsonschema.validate(message, schema)
        assert message["permalink"].startswith(("https://bsky.app/profile/pat.bsky.social/post/",
                                                "https://fedi.example/@sam/"))


def test_a_notification_whose_status_id_the_store_cannot_hold_is_skipped_and_its_page_queued(svc, clock, instance,
                                                                                             counted):
    """An id longer than a DynamoDB key may be (issue 23): skipped and counted, never a crash of the run nor a
    message retried onto the inbound dead-letter queue."""
    svc.cursors.put("mastodon-mentions", {"since_id": "100"})
    now = clock.now()
    huge = mention(103, "<p>@meridianrail my train is late</p>", now)
    huge["status"]["id"] = "9" * 2000
    instance.get(NOTIFICATIONS, json=[huge, mention(102, "<p>@meridianrail refund please</p>", now)],
                 headers=budget())
    result = poll()
    assert result["queued"] == 1 and result["skipped"] == 1
    assert counted.count("MastodonNotificationsSkipped") == 1
    run_pipeline()
    assert ticket_of(svc, "mastodon#110102") is not None
    assert receive_all("responder-inbound-dlq") == []
