"""Saved replies through the real Chalice app (Cognito, DynamoDB and SQS on moto): the ticket's entries as JSON, the
leads' own added, edited and deleted, and the web ticket page with its list and the reply box prefilled."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.conftest import run_pipeline
from tests.integration.test_agent_api import WEDNESDAY, post_tweet, sign_in


@pytest.fixture
def day(clock):
    clock.set(WEDNESDAY)
    return clock


def _ticket(client, amira: dict) -> str:
    post_tweet(client, "8101", "@MeridianRail my train was cancelled, no replacement bus, awful", WEDNESDAY)
    run_pipeline()
    taken = client.http.post("/agent/next", body="{}", headers=amira).json_body["ticket"]
    return str(taken["ticket_id"])


def test_the_tickets_saved_replies_rendered_and_counted(client, svc, day):
    amira = sign_in(client, "amira", "Amira-local-1")
    ticket_id = _ticket(client, amira)
    answer = client.http.get(f"/agent/tickets/{ticket_id}/saved-replies", headers=amira)
    assert answer.status_code == 200, answer.body
    data = answer.json_body
    assert (data["ticket_id"], data["desk"], data["channel"], data["private"], data["limit"]) == \
        (ticket_id, "complaints", "x", False, 280)
    repay = next(r for r in data["replies"] if r["id"] == "delay_repay")
    assert repay["source"] == "brand" and repay["fits"] and repay["limit"] == 280
    assert f"Ref {ticket_id}" in repay["text"] and "{{" not in repay["text"]
    private = client.http.get(f"/agent/tickets/{ticket_id}/saved-replies?private=1", headers=amira).json_body
    assert private["private"] and private["limit"] > 280
    assert client.http.get(f"/agent/tickets/{ticket_id}/saved-replies").status_code == 401
    priya = sign_in(client, "priya", "Priya-local-1")  # comms: not customer service's desks
    refused = client.http.get(f"/agent/tickets/{ticket_id}/saved-replies", headers=priya)
    assert refused.status_code == 403 and "do not cover" in refused.json_body["error"]
    assert client.http.get("/agent/tickets/RNOSUCH1/saved-replies", headers=amira).status_code == 404


def test_leads_manage_their_own_saved_replies(client, svc, day):
    chloe = sign_in(client, "chloe", "Chloe-local-1")
    amira = sign_in(client, "amira", "Amira-local-1")
    entry = {"id": "refund_form", "title": "Refund form", "desks": ["complaints"],
             "text": "Sorry{% if name %} {{ name }}{% endif %}: the refund form is on our website. Ref {{ reference }}"}
    refused = client.http.post("/agent/saved-replies", body=json.dumps(entry), headers=amira)
    assert refused.status_code == 403
    added = client.http.post("/agent/saved-replies", body=json.dumps(entry), headers=chloe)
    assert added.status_code == 201, added.body
    assert added.json_body["saved_reply"]["by"] == "chloe"
    edited = client.http.post("/agent/saved-replies/refund_form", headers=chloe,
                              body=json.dumps({**entry, "title": "Refund form (web)"}))
    assert edited.status_code == 200 and edited.json_body["saved_reply"]["title"] == "Refund form (web)"
    bad = client.http.post("/agent/saved-replies", body=json.dumps({**entry, "text": "Hi {{ customer }}"}),
                           headers=chloe)
    assert bad.status_code == 422 and "unknown template variable(s) customer" in bad.json_body["error"]
    clash = client.http.post("/agent/saved-replies", body=json.dumps({**entry, "id": "delay_repay"}), headers=chloe)
    assert clash.status_code == 409 and "brand file" in clash.json_body["error"]
    listed = client.http.get("/agent/saved-replies", headers=amira).json_body
    assert {e["id"]: e["source"] for e in listed["saved_replies"]}["refund_form"] == "lead"

    ticket_id = _ticket(client, amira)
    mine = client.http.get(f"/agent/tickets/{ticket_id}/saved-replies", headers=amira).json_body
    assert any(r["id"] == "refund_form" and r["source"] == "lead" for r in mine["replies"])

    assert client.http.delete("/agent/saved-replies/refund_form", headers=chloe).status_code == 200
    assert client.http.delete("/agent/saved-replies/refund_form", headers=chloe).status_code == 404
    assert client.http.delete("/agent/saved-replies/delay_repay", headers=chloe).status_code == 409


# ------------------------------------------------------------------------------------------------ the web inbox
def test_the_ticket_page_lists_them_and_a_link_without_script_fills_the_reply_box(client, svc, clock):
    from tests.integration.test_web_inbox import Browser, take_next

    clock.set(WEDNESDAY)
    post_tweet(client, "8201", "@MeridianRail my train was cancelled, awful", WEDNESDAY, user_id="8201")
    run_pipeline()
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    path = take_next(browser)
    page = browser.get(path)
    assert page.status_code == 200
    text = html.unescape(browser.text)
    assert '<details class="saved-replies"' in browser.text and "Delay Repay claim" in text
    assert re.search(r'href="[^"]*\?saved=delay_repay#reply-text"', browser.text)
    ticket_id = path.rsplit("/", 1)[1]
    filled = browser.get(f"{path}?saved=delay_repay")
    assert filled.status_code == 200
    box = html.unescape(re.search(r'<textarea id="reply-text"[^>]*>([^<]*)</textarea>', browser.text).group(1))
    assert box.startswith("Sorry for the delay") and box.endswith(f"Ref {ticket_id}")
    assert "is in the reply box: edit it, then send" in html.unescape(browser.text)
    browser.get(f"{path}?saved=no_such_reply")
    assert "There is no saved reply no_such_reply for this ticket." in html.unescape(browser.text)


def test_leads_manage_saved_replies_in_the_web_inbox(client, svc, clock):
    from tests.integration.test_web_inbox import Browser, location

    clock.set(WEDNESDAY)
    chloe = Browser(client)
    assert chloe.sign_in("chloe", "Chloe-local-1").status_code == 303
    page = chloe.get("/inbox/saved-replies")
    assert page.status_code == 200 and "Add or edit a saved reply" in chloe.text and "delay_repay" in chloe.text
    form = {"csrf": chloe.csrf(), "id": "refund_form", "title": "Refund form", "desk_complaints": "1",
            "language": "", "text": "Hi {{ name }}, the refund form is on our website. Ref {{ reference }}"}
    saved = chloe.post("/inbox/saved-replies", form)
    assert saved.status_code == 303 and location(saved).startswith("/inbox/saved-replies")
    assert svc.saved_replies.all()[0].reply.desks == ("complaints",)
    chloe.get("/inbox/saved-replies?edit=refund_form")
    assert 'value="refund_form"' in chloe.text and 'name="desk_complaints" value="1" checked' in chloe.text
    bad = chloe.post("/inbox/saved-replies", {**form, "csrf": chloe.csrf(), "text": "Hi {{ customer }}"})
    assert bad.status_code == 422 and "unknown template variable(s) customer" in html.unescape(chloe.text)
    assert "Hi {{ customer }}" in html.unescape(chloe.text)  # the form as typed
    clash = chloe.post("/inbox/saved-replies", {**form, "csrf": chloe.csrf(), "id": "delay_repay"})
    assert clash.status_code == 409
    deleted = chloe.post("/inbox/saved-replies/refund_form/delete", {"csrf": chloe.csrf()})
    assert deleted.status_code == 303 and svc.saved_replies.all() == []
    forged = chloe.post("/inbox/saved-replies", {**form, "csrf": "forged"})
    assert forged.status_code == 403 and svc.saved_replies.all() == []

    amira = Browser(client)
    assert amira.sign_in("amira", "Amira-local-1").status_code == 303
    amira.get("/inbox/saved-replies")
    assert amira.last.status_code == 200 and "Add or edit a saved reply" not in amira.text
    refused = amira.post("/inbox/saved-replies", {**form, "csrf": amira.csrf()})
    assert refused.status_code == 403 and svc.saved_replies.all() == []
