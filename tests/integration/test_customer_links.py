"""Linking customers through the real admin routes (chalice.test.Client) on moto: one ticket per customer across
channels, merges into the earlier ticket, clear refusals."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.conftest import run_pipeline
from tests.helpers import ticket_of, tweet_event, x_body, x_headers

ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}


def post_tweet(client, tweet_id, text, at, **kwargs):
    body = x_body(tweet_event(tweet_id, text, at=at, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def link(client, identity, other):
    return client.http.post("/admin/customer-links", headers=ADMIN,
                            body=json.dumps({"identity": identity, "with": other}))


def test_linking_two_customers_merges_their_tickets_and_both_links_show_the_kept_one(client, clock, svc):
    post_tweet(client, "5001", "@ExampleRail my train was cancelled, no bus", clock.now() - timedelta(minutes=40),
               user_id="11", handle="ann")
    form = client.http.post("/contact", headers={"Content-Type": "application/json"}, body=json.dumps(
        {"name": "Ann", "email": "ann@example.org", "message": "Cancelled train this evening, want a refund"}))
    assert form.status_code == 202
    run_pipeline()
    tweet_ticket = ticket_of(svc, "x#5001")
    form_ref = form.json_body["reference"]
    assert form_ref != tweet_ticket  # not linked yet: two customers as far as we know

    response = link(client, "x@ann", "email#ann@example.org")
    assert response.status_code == 200, response.body
    assert response.json_body["ticket_id"] == tweet_ticket and response.json_body["merged_ticket_id"] == form_ref
    shown = client.http.get(f"/admin/tickets/{tweet_ticket}", headers=ADMIN).json_body
    assert shown["channels"] == ["x", "form"] and {"x@ann", "email#ann@example.org"} <= set(shown["identities"])
    page = client.http.get("/s/" + form.json_body["status_url"].split("/s/")[1] + ".json").json_body
    assert page["reference"] == tweet_ticket and page["merged_from"] == form_ref

    again = link(client, "email#ann@example.org", "x@ann")
    assert again.status_code == 200 and again.json_body["changed"] is False


def test_link_refusals_are_clear(client, clock, svc):
    post_tweet(client, "5002", "@ExampleRail lost my bag", clock.now(), user_id="12", handle="bob")
    run_pipeline()
    unknown = link(client, "x@bob", "email#nobody@example.org")
    assert unknown.status_code == 404 and "email#nobody@example.org" in unknown.json_body["error"]
    for bad in ("x#", "email#not-an-address", "pigeon#1"):
        response = link(client, "x@bob", bad)
        assert response.status_code == 422 and "with" in response.json_body["error"], bad
    assert client.http.post("/admin/customer-links", headers=ADMIN, body="[1]").status_code == 400
    assert client.http.post("/admin/customer-links", body="{}",
                            headers={"Content-Type": "application/json"}).status_code == 401
    assert client.http.delete("/admin/customer-links/x%40ghost", headers=ADMIN).status_code == 404
    assert client.http.delete("/admin/customer-links/x%40bob", headers=ADMIN).json_body["changed"] is True
    assert client.http.get("/admin/tickets/R00000000", headers=ADMIN).status_code == 404
