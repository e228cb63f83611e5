"""Bluesky through the real ``atproto`` SDK, its HTTP answered by a fake PDS on an ``httpx.MockTransport`` (the SDK
speaks httpx, which ``responses`` cannot intercept), with the real app's schedule, SQS handlers and stores on moto:
pagination and the cursor, rate limits, malformed and hostile notifications, sign-in failures, and the reply post
the SDK sends (reply references, link facets)."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.bluesky_api import BlueskyApi, BlueskySender
from chalicelib.domain.textlength import graphemes
from tests.conftest import LambdaContext, receive_all, run_pipeline
from tests.helpers import acknowledging, ticket_of
from tools.local_stack import scheduled_event

BRAND_DID = "did:plc:brand0000000000000000"
PAT_DID = "did:plc:pat00000000000000000000"
SAM_DID = "did:plc:sam00000000000000000000"
HANDLE = "meridianrail.bsky.social"


def jwt(exp: int) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'sub': BRAND_DID, 'exp': exp})}.c2ln"


def post_uri(rkey: str, did: str = PAT_DID) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def notification(rkey: str, text: str, at: datetime, *, reason: str = "mention", did: str = PAT_DID,
                 handle: str = "pat.bsky.social", reply: dict | None = None) -> dict:
    iso = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record: dict = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso, "langs": ["en"]}
    if reply:
        record["reply"] = reply
    return {"uri": post_uri(rkey, did), "cid": f"bafyrei{rkey}cid", "reason": reason, "isRead": False,
            "indexedAt": iso, "record": record, "labels": [],
            "author": {"did": did, "handle": handle, "displayName": "Pat Traveller"}}


class FakePds:
    """Enough of a PDS for the SDK: createSession, listNotifications (pages queued by the test), createRecord."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.pages: list[httpx.Response] = []
        self.session: list[httpx.Response] = []
        self.records: list[httpx.Response] = []
        self.created: list[str] = []  # the uris of the posts made
        self.sign_ins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name = request.url.path.rsplit("/", 1)[-1]
        if name == "com.atproto.server.createSession":
            self.sign_ins += 1
            if self.session:
                return self.session.pop(0)
            return httpx.Response(200, json={"did": BRAND_DID, "handle": HANDLE,
                                             "accessJwt": jwt(int(time.time()) + 7200),
                                             "refreshJwt": jwt(int(time.time()) + 86400)})
        if name == "app.bsky.notification.listNotifications":
            assert request.headers["Authorization"].startswith("Bearer ")
            return self.pages.pop(0) if self.pages else httpx.Response(200, json={"notifications": []})
        if name == "com.atproto.repo.createRecord":
            if self.records:
                return self.records.pop(0)
            self.created.append(post_uri(f"3brandpost{len(self.created)}", BRAND_DID))
            return httpx.Response(200, json={"uri": self.created[-1], "cid": "bafyreibrandpost"})
        return httpx.Response(404, json={"error": "MethodNotImplemented"})

    def page(self, items: list[dict], cursor: str | None = None, *, remaining: int = 2999,
             reset: int | None = None) -> None:
        body: dict = {"notifications": items}
        if cursor:
            body["cursor"] = cursor
        self.pages.append(httpx.Response(200, json=body, headers={
            "ratelimit-limit": "3000", "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset or int(time.time()) + 300), "ratelimit-policy": "3000;w=300"}))

    def calls(self, name: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(name)]


@pytest.fixture
def pds(svc):
    fake = FakePds()
    svc.bluesky_api_factory = lambda: BlueskyApi(HANDLE, "app-pass-word-1234", transport=httpx.MockTransport(fake))
    svc._feeds.clear()
    return fake


@pytest.fixture
def counted(monkeypatch):
    """The metrics the pollers emit (EMF is off in stage local)."""
    seen: list[str] = []
    monkeypatch.setattr("chalicelib.usecases.polling.count", lambda name, value=1, **_: seen.append(name))
    return seen


def poll() -> dict:
    import app as application

    return application.app.handler_map["poll_bluesky"](scheduled_event("poll_bluesky"), LambdaContext())


def inbound_mentions() -> list[dict]:
    return [m for message in receive_all("responder-inbound")
            for m in json.loads(message["Body"])["mentions"]]


# ------------------------------------------------------------------------------------------------ polling
def test_a_sweep_pages_down_to_the_lookback_then_keeps_its_newest_as_the_watermark(svc, clock, pds):
    now = clock.now()
    pds.page([notification("3c", "@meridianrail.bsky.social refund please", now - timedelta(minutes=1)),
              notification("3b", "liked your post", now - timedelta(minutes=2), reason="like")], cursor="PAGE2")
    pds.page([notification("3a", "@meridianrail.bsky.social my train is late", now - timedelta(minutes=3)),
              notification("2z", "an old one, seen in the app", now - timedelta(days=2))], cursor="PAGE3")
    result = poll()
    assert result["pages"] == 2 and result["queued"] == 2 and result["skipped"] == 0
    first, second = pds.calls("listNotifications")
    assert first.url.params.get_list("reasons") == ["mention", "reply", "quote"] and "cursor" not in first.url.params
    assert second.url.params["cursor"] == "PAGE2" and second.url.params["limit"] == "50"
    assert len(receive_all("responder-inbound")) == 2  # one message per page, before the cursor moved
    cursor = svc.cursors.get("bluesky-notifications")
    assert cursor == {"seen_at": (now - timedelta(minutes=1)).isoformat(), "seen_uris": [post_uri("3c")]}
    assert pds.sign_ins == 1

    # the next poll reads the newest page and stops at what the last sweep saw, without asking for older pages
    clock.advance(minutes=2)
    pds.page([notification("3d", "@meridianrail.bsky.social hello?", clock.now() - timedelta(seconds=30)),
              notification("3c", "@meridianrail.bsky.social refund please", now - timedelta(minutes=1))],
             cursor="OLDER")
    assert poll()["queued"] == 1
    assert len(pds.calls("listNotifications")) == 3 and pds.sign_ins == 1  # one sign-in per container


def test_a_sweep_longer_than_a_run_goes_on_from_its_page_cursor(svc, clock, pds, monkeypatch):
    monkeypatch.setattr("chalicelib.usecases.poll_bluesky.MAX_PAGES_PER_RUN", 1)
    now = clock.now()
    pds.page([notification("3c", "@meridianrail.bsky.social one", now - timedelta(minutes=1))], cursor="P2")
    poll()
    assert svc.cursors.get("bluesky-notifications")["page_cursor"] == "P2"
    pds.page([notification("3b", "@meridianrail.bsky.social two", now - timedelta(minutes=2))])
    poll()
    assert pds.calls("listNotifications")[-1].url.params["cursor"] == "P2"
    assert svc.cursors.get("bluesky-notifications")["seen_uris"] == [post_uri("3c")]  # the sweep's newest


def test_429_records_the_reset_and_skips_until_then_without_sleeping(svc, clock, pds, counted):
    reset = int(clock.now().timestamp()) + 600
    pds.pages.append(httpx.Response(429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                    headers={"ratelimit-remaining": "0", "ratelimit-reset": str(reset)}))
    started = time.monotonic()
    result = poll()
    assert time.monotonic() - started < 5
    assert result["rate_limited_until"].startswith("2026-11-29T03:10")
    assert poll() == {"skipped": f"rate limited until {result['rate_limited_until']}"}
    assert len(pds.calls("listNotifications")) == 1 and counted == ["BlueskyPollRateLimited",
                                                                    "BlueskyPollSkippedRateLimited"]
    clock.advance(minutes=11)
    pds.page([notification("3e", "@meridianrail.bsky.social hi", clock.now())])
    assert poll()["queued"] == 1


def test_an_exhausted_budget_pauses_the_sweep_until_the_reset(svc, clock, pds):
    reset = int(clock.now().timestamp()) + 120
    pds.page([notification("3c", "@meridianrail.bsky.social one", clock.now())], cursor="P2", remaining=0,
             reset=reset)
    result = poll()
    assert result["pages"] == 1 and len(pds.calls("listNotifications")) == 1
    cursor = svc.cursors.get("bluesky-notifications")
    assert cursor["page_cursor"] == "P2" and cursor["resume_after"].startswith("2026-11-29T03:02")
    assert "skipped" in poll()


def test_a_malformed_or_hostile_notification_is_skipped_with_a_metric_and_a_log_line(svc, clock, pds, counted,
                                                                                      caplog):
    now = clock.now()
    forged = notification("3f", "pretending to be someone else", now, did=PAT_DID)
    forged["author"]["did"] = "did:plc:someoneelse0000000000"
    broken_reply = notification("3g", "reply without refs", now, reply={"parent": {"uri": "nope"}})
    huge = notification("3h", "@meridianrail.bsky.social " + "x" * 50_000, now)
    pds.page([notification("3k", "@meridianrail.bsky.social first good one", now), "junk", None, 42, forged,
              broken_reply, {"uri": post_uri("3j"), "reason": "mention"}, huge,
              notification("3i", "@meridianrail.bsky.social second good one", now),
              notification("3m", "our own post", now, did=BRAND_DID, handle=HANDLE)])
    caplog.set_level("WARNING")
    result = poll()
    assert result["queued"] == 3 and result["skipped"] == 6
    assert counted.count("BlueskyNotificationsSkipped") == 6
    texts = [m["text"] for m in inbound_mentions()]
    assert texts[0] == "@meridianrail.bsky.social first good one" and len(texts[1]) == 10_000
    logged = [r for r in caplog.records if "Bluesky notification skipped" in r.getMessage()]
    assert len(logged) == 6 and any(getattr(r, "notification", "") == post_uri("3f") for r in logged)


def test_a_revoked_app_password_is_one_clear_error_per_run_never_a_crash(svc, pds, counted, caplog):
    for _ in range(2):
        pds.session.append(httpx.Response(401, json={"error": "AuthenticationRequired",
                                                     "message": "Invalid identifier or password"}))
    caplog.set_level("ERROR")
    for run in (1, 2):
        result = poll()  # returns: a scheduled run that raised would be retried, twice, every time
        assert "bluesky/app-password" in result["error"] and "Invalid identifier or password" in result["error"]
        assert counted.count("BlueskyPollAuthFailed") == run
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and "update the SSM parameter bluesky/app-password" in errors[0].getMessage()
    assert not pds.calls("listNotifications") and receive_all("responder-inbound") == []


def test_an_app_password_replaced_in_ssm_is_used_without_a_new_container(svc, clock, pds):
    passwords = ["revoked-app-password"]
    svc.bluesky_api_factory = lambda: BlueskyApi(HANDLE, lambda: passwords[-1], transport=httpx.MockTransport(pds))
    svc._feeds.clear()
    pds.session.append(httpx.Response(401, json={"error": "AuthenticationRequired"}))
    assert "error" in poll()
    passwords.append("new-app-password")  # ops put the new one in SSM
    pds.page([notification("3p", "@meridianrail.bsky.social hello", clock.now())])
    assert poll()["queued"] == 1
    assert [json.loads(r.content)["password"] for r in pds.calls("createSession")] == [
        "revoked-app-password", "new-app-password"]


def test_an_expired_session_signs_in_again_once(svc, clock, pds):
    pds.pages.append(httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"}))
    pds.page([notification("3n", "@meridianrail.bsky.social after a new session", clock.now())])
    assert poll()["queued"] == 1 and pds.sign_ins == 2


# ------------------------------------------------------------------------------------------------ replies
def test_the_acknowledgement_is_a_reply_post_in_the_thread_with_a_link_facet(svc, clock, pds, client):
    acknowledging(svc, "{bluesky: true}")  # a reply with no mention facet: by default (tagged) not acknowledged
    root = {"uri": post_uri("3root", BRAND_DID), "cid": "bafyreirootcid"}
    parent = {"uri": post_uri("3parent", "did:plc:friend000000000000000"), "cid": "bafyreiparentcid"}
    pds.page([notification("3q", "@meridianrail.bsky.social my train was cancelled and nobody told us ünïcode 🚆",
                           clock.now(), reason="reply", reply={"root": root, "parent": parent})])
    poll()
    svc.sender_factory = lambda channel: BlueskySender(HANDLE, "app-pass-word-1234",
                                                       transport=httpx.MockTransport(pds))
    svc._senders.clear()
    run_pipeline()
    [created] = pds.calls("createRecord")
    body = json.loads(created.content)
    record = body["record"]
    assert body["repo"] == BRAND_DID and body["collection"] == "app.bsky.feed.post"
    assert record["reply"]["root"] == {**root, "$type": "com.atproto.repo.strongRef"}
    assert record["reply"]["parent"] == {"uri": post_uri("3q"), "cid": "bafyrei3qcid",
                                         "$type": "com.atproto.repo.strongRef"}
    assert graphemes(record["text"]) <= 300 and "Ref R" in record["text"]
    [facet] = record["facets"]
    link = facet["features"][0]["uri"]
    assert link.startswith("https://help.example.test/s/R") and facet["features"][0]["$type"].endswith("#link")
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert record["text"].encode()[start:end].decode() == link

    # the customer's answer to our post threads into the same ticket
    ticket_id = ticket_of(svc, f"bluesky#{post_uri('3q')}")
    clock.advance(minutes=3)
    pds.page([notification("3r", "the 10:02 to York", clock.now(), reason="reply",
                           reply={"root": root, "parent": {"uri": pds.created[0], "cid": "bafyreibrandpost"}})])
    poll()
    run_pipeline()
    assert ticket_of(svc, f"bluesky#{post_uri('3r')}") == ticket_id
    assert len(pds.calls("createRecord")) == 1  # joined the case: no second acknowledgement


def test_by_default_a_bluesky_post_that_does_not_tag_the_brand_gets_a_ticket_and_no_automatic_reply(svc, clock,
                                                                                                     pds):
    """Bluesky's guidelines ask automated replies to answer only people who tagged the account: by default a reply
    under the brand's post that does not tag it goes through the real inbound and outbox handlers to its desk, the
    ticket says why nobody was answered, and nothing is posted, neither then nor at closing time; a reply that tags
    the brand (a mention facet) is acknowledged."""
    root = {"uri": post_uri("3root", BRAND_DID), "cid": "bafyreirootcid"}
    pds.page([notification("3s", "my train was cancelled, how do I get home?", clock.now(), reason="reply",
                           reply={"root": root, "parent": root})])
    poll()
    svc.sender_factory = lambda channel: BlueskySender(HANDLE, "app-pass-word-1234",
                                                       transport=httpx.MockTransport(pds))
    svc._senders.clear()
    run_pipeline()
    ticket = svc.tickets.get(ticket_of(svc, f"bluesky#{post_uri('3s')}"))
    assert ticket is not None and not ticket.acked
    assert "acknowledge: no (on bluesky only posts that tag the brand's account are acknowledged)" in ticket.reasons
    assert pds.calls("createRecord") == [] and receive_all("responder-outbox") == []
    import app as application

    ran = application.app.handler_map["closing_time"](scheduled_event("closing_time"), LambdaContext())
    run_pipeline()
    assert ran["acknowledged"] == 0
    assert pds.calls("createRecord") == [] and not svc.tickets.get(ticket.ticket_id).acked
    tagged = notification("3t", "@meridianrail.bsky.social and nobody at the station knows", clock.now(),
                          reason="reply", did=SAM_DID, handle="sam.bsky.social", reply={"root": root, "parent": root})
    tagged["record"]["facets"] = [{"index": {"byteStart": 0, "byteEnd": 25}, "features": [
        {"$type": "app.bsky.richtext.facet#mention", "did": BRAND_DID}]}]
    pds.page([tagged])
    poll()
    run_pipeline()
    assert svc.tickets.get(ticket_of(svc, f"bluesky#{post_uri('3t', SAM_DID)}")).acked
    assert len(pds.calls("createRecord")) == 1


@pytest.mark.parametrize("status, body, retryable", [
    (429, {"error": "RateLimitExceeded"}, True),
    (502, {"error": "UpstreamFailure"}, True),
    (400, {"error": "InvalidRequest", "message": "Record/text must not be longer than 300 graphemes"}, False),
])
def test_a_refused_reply_post_says_whether_to_retry(status, body, retryable):
    pds = FakePds()
    pds.records.append(httpx.Response(status, json=body, headers={"ratelimit-reset": str(int(time.time()) + 60)}))
    sender = BlueskySender(HANDLE, "pw", transport=httpx.MockTransport(pds))
    message = OutboundMessage(channel="bluesky", recipient=PAT_DID, text="Thanks", in_reply_to=post_uri("3q"),
                              extra={"cid": "bafyrei3qcid"})
    with pytest.raises(SendError) as refused:
        sender.send(message)
    assert refused.value.retryable is retryable
    if status == 429:
        assert 0 < refused.value.retry_after <= 60


def test_a_reply_without_the_posts_content_id_is_refused_before_any_call():
    pds = FakePds()
    sender = BlueskySender(HANDLE, "pw", transport=httpx.MockTransport(pds))
    with pytest.raises(SendError, match="uri and cid"):
        sender.send(OutboundMessage(channel="bluesky", recipient=PAT_DID, text="hi", in_reply_to=post_uri("3q")))
    assert pds.requests == []


# ------------------------------------------------------------------------------------------------ stage local
def test_stage_local_polls_a_stand_in_and_takes_injected_mentions(svc, client, clock):
    from chalicelib import bootstrap
    from chalicelib.channels.sandbox import LocalNotificationSource
    from chalicelib.settings import Secrets
    from tests.conftest import LOCAL_ENV

    local = bootstrap.build(svc.settings, secrets=Secrets(svc.settings, env=LOCAL_ENV), memory=True)
    assert isinstance(local.bluesky_api(), LocalNotificationSource)
    assert isinstance(local.mastodon_api(), LocalNotificationSource)

    acknowledging(svc, "{bluesky: true}")
    svc.bluesky_api_factory = LocalNotificationSource
    svc._feeds.clear()
    assert poll()["queued"] == 0
    response = client.http.post("/local/bluesky/mentions", headers={"Content-Type": "application/json"},
                                body=json.dumps({"handle": "pat.bsky.social", "display_name": "Pat",
                                                 "text": "@meridianrail.bsky.social my train was cancelled"}))
    assert response.status_code == 202, response.body
    assert response.json_body["queued"].startswith("bluesky#at://did:plc:")
    bad = client.http.post("/local/bluesky/mentions", headers={"Content-Type": "application/json"},
                           body=json.dumps({"handle": "nope", "text": "hi"}))
    assert bad.status_code == 422 and "handle" in bad.json_body["error"]
    run_pipeline()
    [sent] = client.http.get("/local/outbox").json_body["messages"]
    assert sent["channel"] == "bluesky" and "/s/R" in sent["text"] and sent["in_reply_to"].startswith("at://")


# ------------------------------------------------------------------------------------------------ fuzz
_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(
    ["pat.bsky.social", "pat@fedi.example", "direct", "mention", "did:plc:abc", post_uri("3x"),
     "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-29T03:00:00Z", "\ud800"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["uri", "cid", "author", "did", "handle", "record", "text", "reply", "parent", "root",
                     "indexedAt", "reason", "facets", "acct", "visibility", "type", "status", "account", "id",
                     "content", "created_at", "in_reply_to_id", "display_name"]), inner, max_size=6), max_leaves=25)
_keys = st.sampled_from(["handle", "text", "did", "display_name", "reply_to", "root", "acct", "visibility",
                         "in_reply_to_id", "account_id", "uri", "type"])


@settings(max_examples=int(__import__("os").environ.get("RELIABILITY_EXAMPLES", "60")), deadline=None,
          database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(channel=st.sampled_from(["bluesky", "mastodon"]),
       body=st.one_of(st.binary(max_size=200), st.dictionaries(_keys, _values, max_size=6).map(
           lambda v: json.dumps(v).encode())))
def test_the_local_injection_routes_answer_2xx_or_4xx_never_5xx(client, channel, body):
    response = client.http.post(f"/local/{channel}/mentions", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (response.status_code, body[:300], response.body[:300])
