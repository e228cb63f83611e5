"""A desk's list, search, the customer's history and the one-step actions through the real Chalice routes on moto:
the JSON API (``/agent/desks/{desk}/tickets``, ``/agent/search``, ``/agent/tickets/{id}/{action}``), the web
inbox (``/inbox/desks/{desk}``, ``/inbox/search``, the ticket page's buttons) and ``/admin/backlog/{desk}``."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.helpers import ticket_of
from tests.integration.test_agent_api import sign_in
from tests.integration.test_web_inbox import WEDNESDAY, Browser, location, path_of, post_tweet
from tests.unit.test_desk_lists import made

ADMIN = {"Authorization": "Bearer local-admin-token"}


@pytest.fixture
def day(svc, clock, client):
    clock.set(WEDNESDAY)
    return svc


@pytest.fixture
def amira(client, day):
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    return browser


def test_the_json_list_pages_through_every_ticket_with_filters(client, day):
    for n in range(60):
        day.tickets.add(made("complaints", n, minutes=n, flags=["abuse"] if n % 10 == 3 else []))
    headers = sign_in(client, "amira", "Amira-local-1")
    seen, cursor = [], ""
    while True:
        answer = client.http.get(f"/agent/desks/complaints/tickets?limit=25{'&cursor=' + cursor if cursor else ''}",
                                 headers=headers)
        assert answer.status_code == 200, answer.body
        page = answer.json_body
        assert page["total"] == 60
        seen += [t["ticket_id"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"R{n:08d}" for n in range(60)]
    flagged = client.http.get("/agent/desks/complaints/tickets?flag=abuse&limit=4", headers=headers).json_body
    assert [t["ticket_id"] for t in flagged["tickets"]] == ["R00000003", "R00000013", "R00000023", "R00000033"]
    assert flagged["total"] is None and flagged["next_cursor"]
    assert set(flagged["tickets"][0]) >= {"ticket_id", "priority", "status", "channel", "flags", "first_contact_at",
                                          "waiting", "sla_due", "claimed_by", "awaiting_customer"}
    bad = client.http.get("/agent/desks/complaints/tickets?state=lost", headers=headers)
    assert bad.status_code == 422 and "state must be one of" in bad.json_body["error"]
    assert client.http.get("/agent/desks/complaints/tickets?cursor=zzz", headers=headers).status_code == 422
    assert client.http.get("/agent/desks/nowhere/tickets", headers=headers).status_code == 404
    assert client.http.get("/agent/desks/complaints/tickets").status_code == 401

    # the admin's backlog pages the same way: its fields as before, and the cursor
    first = client.http.get("/admin/backlog/complaints", headers=ADMIN).json_body
    assert len(first["tickets"]) == 50 and first["next_cursor"] and set(first["tickets"][0]) == {
        "ticket_id", "priority", "intent", "channel", "first_contact_at", "flags", "breached", "acked"}
    rest = client.http.get(f"/admin/backlog/complaints?cursor={first['next_cursor']}", headers=ADMIN).json_body
    assert len(rest["tickets"]) == 10 and rest["next_cursor"] is None
    assert {t["ticket_id"] for t in first["tickets"]}.isdisjoint({t["ticket_id"] for t in rest["tickets"]})


def test_search_history_and_one_step_actions_through_the_api(client, day, clock):
    post_tweet(client, "8201", "@MeridianRail my train was cancelled, awful", user_id="8201", handle="pat_rides")
    from tests.conftest import run_pipeline

    run_pipeline()
    headers = sign_in(client, "amira", "Amira-local-1")
    first = ticket_of(day, "x#8201")
    found = client.http.get("/agent/search?q=@Pat_Rides", headers=headers).json_body
    assert found["matched"] == "identity" and [t["ticket_id"] for t in found["customers"][0]["tickets"]] == [first]
    assert "x@pat_rides" in found["customers"][0]["identities"]
    by_ref = client.http.get(f"/agent/search?q={first}", headers=headers).json_body
    assert by_ref["matched"] == "reference" and by_ref["customers"][0]["tickets"][0]["ticket_id"] == first
    assert client.http.get("/agent/search?q=", headers=headers).status_code == 422

    client.http.post("/agent/next", body="{}", headers=headers)
    too_long = client.http.post(f"/agent/tickets/{first}/reply_resolve", headers=headers,
                                body=json.dumps({"text": "x" * 400}))
    assert too_long.status_code == 422 and day.tickets.get(first).status == "claimed"
    done = client.http.post(f"/agent/tickets/{first}/reply_resolve", headers=headers,
                            body=json.dumps({"text": "Refund on its way."}))
    assert done.status_code == 200, done.body
    assert done.json_body["then"] == "resolved" and done.json_body["ticket"]["status"] == "resolved"
    assert done.json_body["queued"] is True

    clock.advance(days=9)
    post_tweet(client, "8202", "@MeridianRail cancelled again today", user_id="8201", handle="pat_rides")
    run_pipeline()
    taken = client.http.post("/agent/next", body="{}", headers=headers).json_body["ticket"]
    assert taken["ticket_id"] != first
    assert [(h["ticket_id"], h["status"]) for h in taken["history"]] == [(first, "resolved")]
    moved = client.http.post(f"/agent/tickets/{taken['ticket_id']}/resolve_next", headers=headers, body="{}")
    assert moved.status_code == 200, moved.body
    assert moved.json_body["resolved"]["ticket_id"] == taken["ticket_id"] and moved.json_body["ticket"] is None
    assert moved.json_body["message"]
    assert client.http.post(f"/agent/tickets/{first}/nope", headers=headers, body="{}").status_code == 404


def test_the_web_desk_list_filters_pages_and_links_each_ticket(amira, day):
    for n in range(30):
        day.tickets.add(made("complaints", n, minutes=n, priority="urgent" if n % 5 == 0 else "normal"))
    page = amira.get("/inbox/desks/complaints?limit=10")
    assert page.status_code == 200, amira.text
    assert amira.text.count('href="/inbox/tickets/R000000') == 10 and "30 waiting" in amira.text
    link = re.search(r'<a class="next-page" rel="next" href="([^"]+)"', amira.text).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["limit"] == ["10"] and query["cursor"]
    amira.get(link)  # urgent first (0, 5 … 25), then the oldest: the second page goes on from R00000004
    assert 'href="/inbox/tickets/R00000006"' in amira.text and 'href="/inbox/tickets/R00000025"' not in amira.text
    urgent = amira.get("/inbox/desks/complaints?priority=urgent")
    assert urgent.status_code == 200 and amira.text.count('href="/inbox/tickets/R000000') == 6
    assert 'option value="urgent" selected' in amira.text
    assert amira.get("/inbox/desks/complaints?state=lost").status_code == 422
    assert amira.get("/inbox/desks/nowhere").status_code == 404
    assert 'href="/inbox/desks/complaints"' in amira.get("/inbox").body.decode()


def test_the_web_search_ticket_history_and_one_step_buttons(amira, day, client):
    post_tweet(client, "8301", "@MeridianRail my train was cancelled", user_id="8301", handle="pat_rides")
    post_tweet(client, "8302", "@MeridianRail the lift at Leeds is broken", user_id="8302", handle="sam_rides")
    from tests.conftest import run_pipeline

    run_pipeline()
    ticket = ticket_of(day, "x#8301")
    amira.get("/inbox/search?q=x%40pat_rides")
    assert amira.last.status_code == 200 and f'href="/inbox/tickets/{ticket}"' in amira.text
    assert 'role="search"' in amira.text and "x@pat_rides" in amira.text
    amira.get("/inbox/search?q=nobody_at_all")
    assert "No customer is known as x@nobody_at_all." in amira.text

    amira.get("/inbox")
    assert amira.post("/inbox/next", {"csrf": amira.csrf()}).status_code == 303
    where = path_of(amira.last)
    amira.get(where)
    assert "The customer's history" in amira.text and "This is the customer's only ticket." in amira.text
    assert "Send and resolve" in amira.text and "Send and wait for the customer" in amira.text
    assert "Resolve and take next" in amira.text
    held = where.rsplit("/", 1)[1]
    response = amira.post(f"{where}/reply_resolve", {"csrf": amira.csrf(), "text": "y" * 400,
                                                     "request_id": amira.field("request_id")})
    assert response.status_code == 422 and day.tickets.get(held).status == "claimed"
    assert ">" + "y" * 400 + "</textarea>" in amira.text  # the reply kept as typed
    response = amira.post(f"{where}/reply_release", {"csrf": amira.csrf(), "text": "Which station?",
                                                     "request_id": amira.field("request_id")})
    assert response.status_code == 303 and path_of(response) == "/inbox"
    assert day.tickets.get(held).status == "replied"
    amira.get(location(response))
    assert "waits for the customer" in amira.text
    assert amira.post("/inbox/next", {"csrf": amira.csrf()}).status_code == 303
    other = path_of(amira.last)
    amira.get(other)
    response = amira.post(f"{other}/resolve_next", {"csrf": amira.csrf()})
    assert response.status_code == 303 and path_of(response) == "/inbox"
    amira.get(location(response))
    assert "resolved. Nothing is waiting" in amira.text
