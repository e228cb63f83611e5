"""Fuzzing every route through the real Chalice app on moto: whatever arrives — random bytes, arbitrary JSON,
arbitrary JSON that is correctly signed so it reaches the parsers — the answer is 2xx or 4xx, never 5xx.

`make test` runs a small number of examples per route; `make reliability` runs RELIABILITY_EXAMPLES (10,000) each.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import x_headers

EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=20)
keys = st.sampled_from(["tweet_create_events", "direct_message_events", "for_user_id", "users", "object", "entry",
                        "Type", "Message", "SubscribeURL", "title", "text", "desks", "keywords", "url", "name",
                        "email", "message", "handle", "identity", "with", "follow_up"])
shaped = st.dictionaries(keys, json_values, max_size=5)  # objects with the keys the parsers look for
bodies = st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                   shaped.map(lambda v: json.dumps(v).encode()))


@pytest.fixture
def agent_authorization(client, clock) -> str:
    """A signed-in agent on shift (Wednesday 10:00, customer service): the fuzz reaches the use cases."""
    from tests.conftest import utc

    clock.set(utc(2026, 11, 25, 10, 0))
    response = client.http.post("/agent/sign-in", headers={"Content-Type": "application/json"},
                                body=json.dumps({"username": "amira", "password": "Amira-local-1"}))
    return f"Bearer {response.json_body['token']}"


def meta_headers(body: bytes) -> dict:
    digest = hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def assert_no_5xx(response, body) -> None:
    assert response.status_code < 500, (response.status_code, body[:300], response.body[:300])


@FUZZ
@given(body=bodies)
def test_signed_x_webhook(client, body):
    assert_no_5xx(client.http.post("/webhooks/x", body=body, headers=x_headers(body)), body)


@FUZZ
@given(body=bodies)
def test_signed_meta_webhook(client, body):
    assert_no_5xx(client.http.post("/webhooks/meta", body=body, headers=meta_headers(body)), body)


@FUZZ
@given(body=bodies)
def test_email_webhook(client, body):
    assert_no_5xx(client.http.post("/webhooks/email", body=body, headers={"Content-Type": "text/plain"}), body)


@FUZZ
@given(body=bodies)
def test_contact_form(client, body):
    assert_no_5xx(client.http.post("/contact", body=body, headers={"Content-Type": "application/json"}), body)


@FUZZ
@given(body=bodies, path=st.sampled_from(["/admin/incidents", "/admin/incidents/INC-00000000",
                                          "/admin/incidents/INC-00000000/resolve", "/admin/customer-links"]))
def test_admin_posts(client, body, path):
    assert_no_5xx(client.http.post(path, body=body, headers=ADMIN), body)


@FUZZ
@given(token=st.text(max_size=60), accept=st.sampled_from(["", "application/json", "text/html"]),
       crc=st.text(max_size=40), identity=st.text(max_size=40))
def test_gets_and_deletes(client, token, accept, crc, identity):
    from urllib.parse import quote

    for method, path in (("GET", f"/s/{quote(token, safe='')}"), ("GET", f"/webhooks/x?crc_token={quote(crc)}"),
                         ("GET", f"/admin/tickets/{quote(token, safe='')}"),
                         ("DELETE", f"/admin/customer-links/{quote(identity, safe='')}")):
        if not path.rstrip("/").split("?")[0].split("/")[-1]:
            continue  # an empty path segment is another route, not this one
        response = client.http.request(method, path, headers={**ADMIN, "Accept": accept})
        assert response.status_code < 500, (method, path, response.status_code, response.body[:300])


agent_keys = st.sampled_from(["username", "password", "desk", "text", "private", "request_id", "identity", "with",
                              "intent", "urgent"])
agent_bodies = st.one_of(bodies, st.dictionaries(agent_keys, json_values, max_size=4).map(
    lambda v: json.dumps(v).encode()))


@FUZZ
@given(body=agent_bodies, path=st.sampled_from(["/agent/sign-in", "/agent/next", "/agent/customer-links",
                                                "/agent/tickets/RAAAAAAAA/reply", "/agent/tickets/RAAAAAAAA/note",
                                                "/agent/tickets/RAAAAAAAA/transfer", "/agent/tickets/x/resolve",
                                                "/agent/tickets/RAAAAAAAA/claim", "/agent/tickets/RAAAAAAAA/label"]),
       authorization=st.sampled_from(["agent", "", "Bearer ", "Bearer a.b.c"]) | st.text(max_size=40))
def test_agent_posts(client, agent_authorization, body, path, authorization):
    headers = {"Content-Type": "application/json"}
    if authorization == "agent":
        headers["Authorization"] = agent_authorization
    elif authorization.isascii():
        headers["Authorization"] = authorization
    assert_no_5xx(client.http.post(path, body=body, headers=headers), body)


@FUZZ
@given(ticket=st.text(max_size=40))
def test_agent_gets(client, agent_authorization, ticket):
    from urllib.parse import quote

    if not quote(ticket, safe=""):
        return
    for path in (f"/agent/tickets/{quote(ticket, safe='')}", "/agent/me", "/agent/oversight",
                 f"/agent/labels?since={quote(ticket, safe='')}"):
        response = client.http.get(path, headers={"Authorization": agent_authorization})
        assert response.status_code < 500, (path, response.status_code, response.body[:300])
