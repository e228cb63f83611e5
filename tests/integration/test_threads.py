"""Threads through the real Chalice routes, SQS handlers and stores on moto, and the real ``ThreadsApi`` with its
HTTP intercepted by ``responses``: the signed webhook (accepted, forged and fuzzed signatures refused, never a 5xx),
the subscribe handshake, the two-step reply (container, then publish) with ``reply_to_id`` and the token never in a
URL, the error mapping, and the poller's sweep (mentions, the brand's posts, their replies) on the shared cursor."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.threads_api import BASE_URL, ThreadsApi, ThreadsSender
from tests.conftest import LambdaContext, receive_all, run_pipeline
from tools.local_stack import scheduled_event

SECRET = b"local-threads-app-secret"
USER = "5000000001"
BRAND_POST = "18040000000000001"


def reply(post_id: str, text: str, at: datetime, *, username: str = "pat.rides", replied_to: str = BRAND_POST,
          root: str = BRAND_POST) -> dict:
    return {"id": post_id, "username": username, "text": text, "media_type": "TEXT_POST",
            "permalink": f"https://www.threads.net/@{username}/post/Pp{post_id[-4:]}", "shortcode": "Pp",
            "timestamp": at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "replied_to": {"id": replied_to}, "root_post": {"id": root, "owner_id": USER, "username": "meridianrail"}}


def signed(body: dict | bytes) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def hook(*values: dict) -> dict:
    return {"app_id": "1", "topic": "moderate", "target_id": USER, "time": 1733450000, "subscription_id": "2",
            "has_uid_field": False, "values": [{"field": "replies", "value": v} for v in values]}


# ------------------------------------------------------------------------------------------------ the webhook
def test_the_subscribe_handshake_echoes_the_challenge_only_for_our_verify_token(client):
    ok = client.http.get("/webhooks/threads?hub.mode=subscribe&hub.verify_token=local-threads-verify-token"
                         "&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.body == b"1158201444"
    wrong = client.http.get("/webhooks/threads?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
    assert wrong.status_code == 403 and "verify_token" in wrong.json_body["error"]


def test_a_signed_reply_is_queued_stored_and_acknowledged_once_on_threads(client, clock, svc):
    raw, headers = signed(hook(reply("18050000000000001", "@meridianrail my train was cancelled, no bus",
                                     clock.now())))
    response = client.http.post("/webhooks/threads", body=raw, headers=headers)
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": 1}
    again = client.http.post("/webhooks/threads", body=raw, headers=headers)  # Meta retries: the same post again
    assert again.status_code == 200
    run_pipeline()
    stored = svc.mentions.get("threads#18050000000000001")
    assert stored is not None and stored.mention.reply_to == BRAND_POST
    [sent] = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["channel"] == "threads"]
    assert sent["in_reply_to"] == "18050000000000001" and sent["idempotency_key"].startswith("ack#")
    assert len(sent["text"].encode("utf-8")) <= 500 * 4 and len(sent["text"]) <= 500


def test_forged_unsigned_and_other_apps_signatures_are_refused_and_nothing_is_queued(client, clock):
    raw, headers = signed(hook(reply("18050000000000002", "hi", clock.now())))
    meta_signed = "sha256=" + hmac.new(b"local-meta-app-secret", raw, hashlib.sha256).hexdigest()
    for signature in (None, "", "sha256=" + "0" * 64, meta_signed, headers["X-Hub-Signature-256"][:-1]):
        forged = {"Content-Type": "application/json", **({"X-Hub-Signature-256": signature} if signature is not None
                                                         else {})}
        response = client.http.post("/webhooks/threads", body=raw, headers=forged)
        assert response.status_code == 401, (signature, response.body)
        assert "X-Hub-Signature-256" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(signature=st.one_of(st.text(max_size=80), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
                           .map(lambda h: "sha256=" + h), st.binary(max_size=40).map(lambda b: b.hex())),
       body=st.binary(max_size=200))
def test_fuzzed_signatures_are_never_accepted_and_never_a_5xx(client, signature, body):
    response = client.http.post("/webhooks/threads", body=body,
                                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    assert response.status_code == 401, (signature, response.status_code, response.body[:200])


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["values", "value", "field", "entry", "changes", "id", "username", "timestamp", "text"]),
        inner, max_size=4), max_leaves=15).map(lambda v: json.dumps(v).encode())))
def test_signed_nonsense_gets_a_4xx_never_a_5xx(client, body):
    raw, headers = signed(body)
    response = client.http.post("/webhooks/threads", body=raw, headers=headers)
    assert response.status_code < 500, (body[:200], response.body[:200])


def test_a_delivery_with_one_unreadable_reply_keeps_its_neighbour(client, clock):
    broken = {**reply("18050000000000003", "hi", clock.now()), "timestamp": "soon"}
    raw, headers = signed(hook(broken, reply("18050000000000004", "@meridianrail refund?", clock.now())))
    response = client.http.post("/webhooks/threads", body=raw, headers=headers)
    assert response.status_code == 200
    assert response.json_body == {"accepted": 1, "refused": ["values[0]: timestamp is not a time"]}
    nothing, headers = signed(hook(broken))
    refused = client.http.post("/webhooks/threads", body=nothing, headers=headers)
    assert refused.status_code == 422 and "timestamp is not a time" in refused.json_body["error"]


# ------------------------------------------------------------------------------------------------ replies
def test_a_reply_is_a_container_then_its_publication_with_the_token_only_in_the_form():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(f"{BASE_URL}/{USER}/threads", json={"id": "17890000000000001"})
        mock.post(f"{BASE_URL}/{USER}/threads_publish", json={"id": "18060000000000001"})
        sender = ThreadsSender(USER, "secret-token-1", session=requests.Session())
        result = sender.send(OutboundMessage(channel="threads", recipient="pat.rides", text="Sorry 🚆 we are on it",
                                             in_reply_to="18050000000000001"))
        calls = list(mock.calls)  # the mock forgets its calls when it stops
    assert result.external_id == "18060000000000001"
    create, publish = (parse_qs(call.request.body) for call in calls)
    assert create == {"media_type": ["TEXT"], "text": ["Sorry 🚆 we are on it"],
                      "reply_to_id": ["18050000000000001"], "access_token": ["secret-token-1"]}
    assert publish == {"creation_id": ["17890000000000001"], "access_token": ["secret-token-1"]}
    assert all("secret-token-1" not in call.request.url for call in calls)


@pytest.mark.parametrize(("status", "error", "retryable"), [
    (429, {"message": "Application request limit reached", "code": 4}, True),
    (400, {"message": "User request limit reached", "code": 17}, True),
    (400, {"message": "Error validating access token", "code": 190}, False),
    (403, {"message": "Requires threads_manage_replies", "code": 10}, False),
    (400, {"message": "The post you are replying to was deleted", "code": 100}, False),
    (500, {"message": "An unknown error occurred", "code": 1}, True)])
def test_refusals_are_mapped_and_never_carry_the_token(status, error, retryable):
    with responses.RequestsMock() as mock:
        mock.post(f"{BASE_URL}/{USER}/threads", status=status,
                  json={"error": {**error, "message": error["message"] + " for secret-token-1"}},
                  headers={"X-App-Usage": json.dumps({"call_count": 100, "estimated_time_to_regain_access": 3})})
        sender = ThreadsSender(USER, "secret-token-1", session=requests.Session())
        with pytest.raises(SendError) as refused:
            sender.send(OutboundMessage(channel="threads", recipient="pat.rides", text="Thanks",
                                        in_reply_to="18050000000000001"))
        calls = list(mock.calls)
    assert refused.value.retryable is retryable and "secret-token-1" not in str(refused.value)
    if error["code"] in (4, 17):
        assert 170 <= (refused.value.retry_after or 0) <= 181  # Meta's estimated 3 minutes
    assert len(calls) == 1  # nothing is published after a refused container


def test_a_private_reply_or_one_without_the_post_is_refused_before_any_call():
    sender = ThreadsSender(USER, "t", session=requests.Session())
    for message in (OutboundMessage(channel="threads", recipient="p", text="x", in_reply_to="1", private=True),
                    OutboundMessage(channel="threads", recipient="p", text="x")):
        with responses.RequestsMock(), pytest.raises(SendError) as refused:
            sender.send(message)
        assert refused.value.retryable is False


# ------------------------------------------------------------------------------------------------ polling
@pytest.fixture
def threads_api(svc):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        svc.threads_api_factory = lambda: ThreadsApi(USER, "token-1", username="meridianrail",
                                                     session=requests.Session())
        svc.__dict__.pop("_threads_api", None)
        yield mock


def poll() -> dict:
    import app as application

    return application.app.handler_map["poll_threads"](scheduled_event("poll_threads"), LambdaContext())


def page(items: list[dict], after: str | None = None) -> dict:
    body: dict = {"data": items}
    if after:
        body["paging"] = {"cursors": {"before": "b", "after": after}, "next": f"{BASE_URL}/next?after={after}"}
    return body


def query(call) -> dict:
    return parse_qs(call.request.url.split("?", 1)[1])


def test_a_sweep_reads_mentions_the_brands_posts_and_their_replies_then_moves_the_cursor(svc, client, clock,
                                                                                           threads_api):
    now = clock.now()
    mentions_url, posts_url = f"{BASE_URL}/{USER}/mentions", f"{BASE_URL}/{USER}/threads"
    mention = {**reply("18050000000000010", "Is @meridianrail running?", now - timedelta(minutes=5),
                       username="sam.travels"),
               "replied_to": None, "root_post": None}
    threads_api.get(mentions_url, json=page([mention], after="M1"))
    threads_api.get(mentions_url, json=page([]))
    threads_api.get(posts_url, json=page([{"id": BRAND_POST, "timestamp": "2026-11-28T09:00:00+0000"},
                                          {"id": "18040000000000000", "timestamp": "2026-10-01T09:00:00+0000"}]))
    replies = [reply("18050000000000012", "@meridianrail still no train", now - timedelta(minutes=2)),
               reply("18050000000000011", "thanks", now - timedelta(minutes=3), username="meridianrail"),
               reply("18050000000000009", "from last week", now - timedelta(days=3))]
    threads_api.get(f"{BASE_URL}/{BRAND_POST}/conversation", json=page(replies, after="R1"))
    result = poll()
    assert result == {"pages": 4, "fetched": 4, "queued": 2, "skipped": 0,
                      "seen_at": (now - timedelta(minutes=1)).isoformat()}
    first = query(threads_api.calls[0])
    assert first["since"] == [str(int((now - timedelta(hours=24)).timestamp()))] and "after" not in first
    assert query(threads_api.calls[1])["after"] == ["M1"]
    # the replies page reached back before the sweep's start: no further page of that post was asked for
    assert query(threads_api.calls[3])["reverse"] == ["true"]
    assert all(call.request.headers["Authorization"] == "Bearer token-1" and "token-1" not in call.request.url
               for call in threads_api.calls)
    assert svc.cursors.get("threads-mentions") == {"since": (now - timedelta(minutes=1)).isoformat()}

    # the same reply by the webhook too: one mention; two customers, two tickets, two acknowledgements
    raw, headers = signed(hook(replies[0]))
    assert client.http.post("/webhooks/threads", body=raw, headers=headers).json_body == {"accepted": 1}
    run_pipeline()
    stored = {key for key in ("threads#18050000000000010", "threads#18050000000000012", "threads#18050000000000011",
                              "threads#18050000000000009") if svc.mentions.get(key) is not None}
    assert stored == {"threads#18050000000000010", "threads#18050000000000012"}
    sent = [m for m in client.http.get("/local/outbox").json_body["messages"] if m["channel"] == "threads"]
    assert sorted(m["in_reply_to"] for m in sent) == ["18050000000000010", "18050000000000012"]


def test_a_rate_limit_mid_sweep_keeps_the_cursor_and_pauses_until_the_reset(svc, clock, threads_api):
    now = clock.now()
    threads_api.get(f"{BASE_URL}/{USER}/mentions", json=page([]))
    threads_api.get(f"{BASE_URL}/{USER}/threads", status=429,
                    json={"error": {"message": "Application request limit reached", "code": 4}},
                    headers={"Retry-After": "120"})
    result = poll()
    assert result["pages"] == 1 and "rate_limited_until" in result
    row = svc.cursors.get("threads-mentions")
    assert row["sources"] == "posts" and "resume_after" in row  # the mentions were read; the posts are next
    assert poll()["skipped"].startswith("rate limited until")
    assert len(threads_api.calls) == 2 and now == clock.now()


def test_a_refused_token_is_one_clear_error_and_the_cursor_stays(svc, threads_api):
    threads_api.get(f"{BASE_URL}/{USER}/mentions", status=400,
                    json={"error": {"message": "Error validating access token: session expired", "code": 190}})
    result = poll()
    assert "threads/access-token" in result["error"] and svc.cursors.get("threads-mentions") == {}


def test_the_poller_is_off_for_a_webhook_brand(svc):
    svc.settings = svc.settings.model_copy(update={"threads_ingest": "webhook"})
    assert poll() == {"skipped": "THREADS_INGEST is webhook: Threads posts arrive at POST /webhooks/threads"}


def test_stage_local_takes_an_injected_reply_through_the_same_parser(client, svc):
    response = client.http.post("/local/threads/mentions", headers={"Content-Type": "application/json"},
                                body=json.dumps({"username": "pat.rides", "text": "@meridianrail no train",
                                                 "reply_to": BRAND_POST}))
    assert response.status_code == 202, response.body
    assert response.json_body["queued"].startswith("threads#")
    bad = client.http.post("/local/threads/mentions", headers={"Content-Type": "application/json"},
                           body=json.dumps({"username": "pat rides!", "text": "x"}))
    assert bad.status_code == 422 and "username" in bad.json_body["error"]


# ------------------------------------------------------------------------------------------------ the daily cap
def slots_of_a_dispatcher(allowance, start: datetime, hours: int) -> list[float]:
    """What the dispatcher (every minute, reserving up to its horizon) is given on Threads' rate: the slots' times
    (epoch seconds), with a backlog that never runs dry."""
    from chalicelib.domain.config import DEFAULT_OUTBOUND_PER_MINUTE
    from chalicelib.usecases.waiting import HORIZON

    rate, slots = DEFAULT_OUTBOUND_PER_MINUTE["threads"], []
    for minute in range(hours * 60):
        now = start + timedelta(minutes=minute)
        while (taken := allowance.take("threads", now, rate, within=HORIZON)).allowed:
            slots.append(now.timestamp() + taken.slot_in)
    return slots


def test_the_threads_rate_never_lets_more_than_1000_replies_into_any_24_hours():
    from chalicelib.store.memory import MemoryAllowance

    slots = slots_of_a_dispatcher(MemoryAllowance(), datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc), 50)
    busiest = max(sum(1 for s in slots[i:i + 1001] if s < first + 86400) for i, first in enumerate(slots))
    assert busiest == 1000  # the cap, reached and never passed
    assert min(b - a for a, b in zip(slots, slots[1:], strict=False)) == pytest.approx(86400 / 999)
    assert 2075 <= len(slots) <= 2082  # 50 hours at one every 86.5 s: the whole allowance is used


def test_on_dynamodb_a_burst_of_threads_acknowledgements_waits_for_its_slots(svc, clock):
    """The real store on moto: the first send goes at once, the next waits 86.5 s, and the dispatcher's
    reservations are 86.5 s apart — a wait, never a refusal that would fail the send."""
    from chalicelib.domain.config import DEFAULT_OUTBOUND_PER_MINUTE

    now, rate = clock.now(), DEFAULT_OUTBOUND_PER_MINUTE["threads"]
    assert svc.rate_per_minute("threads") in (rate, svc.settings.outbound_per_minute)
    assert svc.allowance.take("threads", now, rate).allowed
    assert svc.allowance.take("threads", now, rate).wait == pytest.approx(86400 / 999)
    slots = slots_of_a_dispatcher(svc.allowance, now, 2)
    gaps = [round(b - a, 3) for a, b in zip(slots, slots[1:], strict=False)]
    assert gaps == [round(86400 / 999, 3)] * (len(slots) - 1)
    assert len(slots) in (83, 84)  # two hours


def test_a_burst_of_threads_sends_waits_in_the_room_and_goes_out_one_slot_at_a_time(mem, clock):
    from chalicelib.domain.outbound import OutboxItem, ReplyTarget
    from chalicelib.usecases.deliver import deliver
    from chalicelib.usecases.waiting import dispatch
    from tests.helpers import a_ticket

    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": None})  # Threads' own rate
    now = clock.now()
    mem.tickets.add(a_ticket("RABCDEFGH", now))
    sent: list[str] = []

    class Recorder:
        def send(self, message: OutboundMessage):
            sent.append(message.idempotency_key)
            from chalicelib.channels.base import SendResult

            return SendResult(external_id=str(len(sent)))

    mem.sender_factory = lambda channel: Recorder()

    outcomes = [deliver(mem, OutboxItem(idempotency_key=f"ack#{k}", kind="reply", ticket_id="RABCDEFGH",
                                        target=ReplyTarget(channel="threads", recipient="pat.rides",
                                                           in_reply_to=str(18050000000000100 + k)),
                                        text=f"Thanks, we are on it ({k})", queued_at=now)) for k in range(12)]
    assert outcomes == ["sent"] + ["waiting"] * 11 and mem.waiting.count("threads") == 11
    scheduled = []
    for minute in range(1, 21):
        clock.set(now + timedelta(minutes=minute))
        scheduled.append(dispatch(mem).get("threads", {}).get("scheduled", 0))
    # every one handed over, at most two slots per minute's dispatch, the last about 11 x 86.5 s after the first
    assert sum(scheduled) == 11 and max(scheduled) <= 2 and mem.waiting.count("threads") == 0
    assert 14 <= max(i for i, n in enumerate(scheduled, 1) if n) <= 16, scheduled


def test_a_post_deleted_since_is_skipped_by_name_and_the_sweep_goes_on(svc, clock, threads_api, caplog):
    now = clock.now()
    threads_api.get(f"{BASE_URL}/{USER}/mentions", json=page([]))
    threads_api.get(f"{BASE_URL}/{USER}/threads", json=page([{"id": "18040000000000002"}, {"id": BRAND_POST}]))
    threads_api.get(f"{BASE_URL}/18040000000000002/conversation", status=400,
                    json={"error": {"message": "Unsupported get request: the object does not exist", "code": 100}})
    threads_api.get(f"{BASE_URL}/{BRAND_POST}/conversation",
                    json=page([reply("18050000000000020", "@meridianrail any news?", now - timedelta(minutes=1))]))
    result = poll()
    assert result["queued"] == 1 and result["pages"] == 4 and "error" not in result
    [skipped] = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert "does not exist" in skipped.getMessage() and "18040000000000002" in skipped.notification  # type: ignore
    assert svc.cursors.get("threads-mentions") == {"since": (now - timedelta(minutes=1)).isoformat()}


def test_a_stored_cursor_with_a_source_that_is_no_post_is_not_held_up_by_it(svc, clock, threads_api):
    since = (clock.now() - timedelta(minutes=10)).isoformat()
    svc.cursors.put("threads-mentions", {"since": since, "started": clock.now().isoformat(),
                                         "sources": "../../me/threads_publish,18040000000000001"})
    threads_api.get(f"{BASE_URL}/{BRAND_POST}/conversation", json=page([]))
    assert poll()["pages"] == 1 and len(threads_api.calls) == 1


def test_a_stage_without_a_threads_profile_has_no_threads_webhook(client, svc):
    svc.settings = svc.settings.model_copy(update={"threads_user_id": ""})
    raw, headers = signed(hook())
    for response in (client.http.post("/webhooks/threads", body=raw, headers=headers),
                     client.http.get("/webhooks/threads?hub.mode=subscribe&hub.verify_token=local-threads-verify-token"
                                     "&hub.challenge=1")):
        assert response.status_code == 404 and "THREADS_USER_ID" in response.json_body["error"]
