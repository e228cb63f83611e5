"""The customer's status page, GET /s/{token}, through the real Chalice route against moto."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import history as h
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.status_link import make_token
from chalicelib.domain.ticket import Ticket, new_reference
from chalicelib.usecases import incidents
from tests.conftest import utc

# Strings that only exist in the customer's data: none of them may ever reach the page.
CUSTOMER_MARKERS = ("Penelope Quux-Wigglesworth", "pquux_traveller", "pq@example.test", "CUSTOMER-SECRET-TEXT",
                    "AGENT-NAME-MARKER", "4111 1111 1111 1111")


def make_ticket(svc, *, desk="complaints", at=None, **overrides) -> Ticket:
    at = at or svc.now() - timedelta(minutes=4)
    ticket = Ticket(
        ticket_id=new_reference(), desk=desk, priority="normal", intent="complaint", channel="x",
        conversation_key="x#tweet-1", customer_id="C0123456789ab", first_contact_at=at, last_customer_at=at,
        reply_target=ReplyTarget(channel="x", recipient="pquux_traveller", in_reply_to="1999",
                                 name="Penelope Quux-Wigglesworth", handle="@pquux_traveller",
                                 subject="CUSTOMER-SECRET-TEXT", extra={"email": "pq@example.test"}),
        references={"card": ["4111 1111 1111 1111"]}, reasons=["keyword: CUSTOMER-SECRET-TEXT"],
        mention_keys=["x#1999"],
    )
    ticket.record(h.Received(at, "x"))
    ticket.record(h.Queued(at + timedelta(seconds=2), desk))
    for key, value in overrides.items():
        setattr(ticket, key, value)
    svc.tickets.add(ticket)
    return ticket


def token_for(svc, ticket_id: str) -> str:
    return make_token(svc.secrets.get("STATUS_LINK_KEY"), ticket_id)


def get(client, path: str, accept: str = "text/html"):
    return client.http.get(path, headers={"Accept": accept})


def text_of(response) -> str:
    return response.body.decode("utf-8")


def header(response, name: str) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower(), "")


def visible_text(html: str) -> str:
    """The page's text without tags or the inline stylesheet (what a screen reader would read)."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_no_customer_data(body: str) -> None:
    for marker in CUSTOMER_MARKERS:
        assert marker not in body


# ------------------------------------------------------------------------------------------------ HTML
def test_page_shows_brand_reference_state_opening_time_and_timeline(client, svc):
    ticket = make_ticket(svc)
    response = get(client, f"/s/{token_for(svc, ticket.ticket_id)}")
    assert response.status_code == 200
    html = text_of(response)
    text = visible_text(html)
    assert "Meridian Rail" in text
    assert ticket.ticket_id in text
    assert "Waiting for our team" in text
    # Sunday 03:00 GMT: the complaints desk opens at 09:00 the same day, in the brand's zone
    assert "After we open at Sunday 09:00 GMT" in text
    assert "Offline" in text and "opens at Sunday 09:00 GMT" in text
    assert "Delays, refunds and Delay Repay" in text  # the desk's description, not its id
    assert "Sun 29 Nov, 02:56 GMT" in text  # received, shown in the brand's time zone
    assert "We received your message on X" in text
    assert "Queued for: Delays, refunds and Delay Repay, staff, cleanliness, complaints" in text
    assert text.index("We received your message") < text.index("Queued for")


def test_page_is_accessible_static_html(client, svc):
    ticket = make_ticket(svc)
    html = text_of(get(client, f"/s/{token_for(svc, ticket.ticket_id)}"))
    assert html.startswith("<!doctype html>")
    assert re.search(r'<html lang="en">', html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for landmark in ("<header", "<main", "<footer"):
        assert landmark in html
    assert len(re.findall(r"<h1[ >]", html)) == 1 and "<h2" in html
    assert "<ol class=\"timeline\">" in html
    assert "<script" not in html.lower()
    assert not re.search(r"<link|@import|url\(|src=", html)  # no external assets of any kind
    assert re.search(r"<time datetime=\"2026-11-29T09:00:00\+00:00\">Sunday 09:00 GMT</time>", html)


def test_html_headers_are_strict(client, svc):
    ticket = make_ticket(svc)
    response = get(client, f"/s/{token_for(svc, ticket.ticket_id)}")
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert header(response, "Cache-Control") == "no-store"
    assert "noindex" in header(response, "X-Robots-Tag")
    assert header(response, "Referrer-Policy") == "no-referrer"
    csp = header(response, "Content-Security-Policy")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    assert "script-src" not in directives  # falls back to 'none'
    # the style source is the hash of exactly the inline stylesheet served
    import base64
    import hashlib

    style = re.search(r"<style>(.*?)</style>", text_of(response), flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"


# ------------------------------------------------------------------------------------------------ JSON
def test_json_variant_by_suffix_and_by_accept_header(client, svc):
    ticket = make_ticket(svc, first_response_due=utc(2026, 11, 29, 9, 30))
    token = token_for(svc, ticket.ticket_id)
    by_suffix = get(client, f"/s/{token}.json")
    by_accept = get(client, f"/s/{token}", accept="application/json")
    for response in (by_suffix, by_accept):
        assert response.status_code == 200
        assert header(response, "Content-Type").startswith("application/json")
        assert header(response, "Cache-Control") == "no-store"
    data = json.loads(by_suffix.body)
    assert data == json.loads(by_accept.body)
    assert data["reference"] == ticket.ticket_id
    assert data["status"] == "waiting"
    assert data["status_text"] == "Waiting for our team"
    assert data["desk"] == "complaints"
    assert data["desk_open"] is False
    assert data["opens_at"] == "2026-11-29T09:00:00+00:00"
    assert data["expected_response"] == "After we open at Sunday 09:00 GMT"
    assert [e["kind"] for e in data["timeline"]] == ["received", "queued"]
    assert data["timeline"][1]["text"].endswith("(team offline, opens at Sunday 09:00 GMT)")
    assert all(set(e) == {"at", "kind", "text"} for e in data["timeline"])
    assert data["incidents"] == []
    assert_no_customer_data(json.dumps(data))


def test_a_browser_accept_header_gets_html(client, svc):
    ticket = make_ticket(svc)
    response = get(client, f"/s/{token_for(svc, ticket.ticket_id)}",
                   accept="text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8")
    assert header(response, "Content-Type") == "text/html; charset=utf-8"


# ------------------------------------------------------------------------------------------------ 404s
def test_invalid_tokens_all_get_the_same_plain_404(client, svc, clock):
    good = make_ticket(svc)
    token = token_for(svc, good.ticket_id)
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    other_reference = token_for(svc, "R00000000")  # genuine signature, but no such ticket
    swapped = new_reference() + token[len(good.ticket_id):]  # someone else's reference, this signature
    resolved = make_ticket(svc, status="resolved", resolved_at=clock.now() - timedelta(days=31))
    expired = token_for(svc, resolved.ticket_id)
    responses = [get(client, f"/s/{t}", accept=a) for t in
                 (tampered, other_reference, swapped, "garbage", "R12345678-", "%3Cscript%3E", expired,
                  f"{tampered}.json", f"{expired}.json")
                 for a in ("text/html", "application/json")]
    bodies = {r.body for r in responses}
    assert {r.status_code for r in responses} == {404}
    assert len(bodies) == 1 and bodies.pop().strip() == b"Not found"
    assert {header(r, "Content-Type") for r in responses} == {"text/plain; charset=utf-8"}
    assert {header(r, "Cache-Control") for r in responses} == {"no-store"}
    assert get(client, f"/s/{token}").status_code == 200  # the untouched token still works


def test_resolved_ticket_stays_visible_for_30_days(client, svc, clock):
    resolved_at = clock.now() - timedelta(days=30) + timedelta(minutes=1)
    ticket = make_ticket(svc, at=resolved_at - timedelta(hours=3))
    ticket = svc.tickets.get(ticket.ticket_id)
    ticket.claim("AGENT-NAME-MARKER", until=resolved_at, now=resolved_at - timedelta(hours=1))
    ticket.replied("AGENT-NAME-MARKER", now=resolved_at - timedelta(minutes=30))
    ticket.resolve("AGENT-NAME-MARKER", now=resolved_at)
    svc.tickets.save(ticket)
    response = get(client, f"/s/{token_for(svc, ticket.ticket_id)}")
    assert response.status_code == 200
    text = visible_text(text_of(response))
    assert "Resolved" in text
    for line in ("Picked up by an agent", "We replied to you", "Marked as resolved"):
        assert line in text
    assert text.index("Picked up") < text.index("We replied") < text.index("Marked as resolved")
    assert_no_customer_data(text_of(response))
    clock.advance(minutes=2)  # now 30 days and a minute after resolution
    assert get(client, f"/s/{token_for(svc, ticket.ticket_id)}").status_code == 404


# ------------------------------------------------------------------------------------------------ incidents
def test_active_incident_for_the_desk_is_shown_and_escaped(client, svc):
    declared = incidents.declare(svc, {
        "title": "No trains between Ashford & Dover <script>alert(1)</script>",
        "text": "Buses replace trains. <script>alert(1)</script><img src=x onerror=alert(1)>",
        "url": "https://status.example.test/incidents/1?a=1&b=2", "desks": ["complaints"]})
    incidents.declare(svc, {"title": "Press office closed today", "desks": ["press"]})
    ticket = make_ticket(svc)
    html = text_of(get(client, f"/s/{token_for(svc, ticket.ticket_id)}"))
    assert "Known problems right now" in html
    assert "No trains between Ashford &amp; Dover &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Buses replace trains. &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="https://status.example.test/incidents/1?a=1&amp;b=2"' in html
    assert "<script" not in html and "<img" not in html
    assert "Press office closed today" not in html  # another desk's incident
    data = get(client, f"/s/{token_for(svc, ticket.ticket_id)}.json").json_body
    assert [i["incident_id"] for i in data["incidents"]] == [declared.incident_id]
    assert data["incidents"][0]["text"].startswith("Buses replace trains.")
    assert data["incidents"][0]["url"] == "https://status.example.test/incidents/1?a=1&b=2"


def test_resolved_incident_disappears(client, svc):
    declared = incidents.declare(svc, {"title": "Signal failure at Reading", "desks": []})
    ticket = make_ticket(svc)
    path = f"/s/{token_for(svc, ticket.ticket_id)}"
    assert "Signal failure at Reading" in text_of(get(client, path))  # no desks: it applies to every desk
    incidents.update(svc, declared.incident_id, {}, resolve=True)
    assert "Signal failure at Reading" not in text_of(get(client, path))


# ------------------------------------------------------------------------------------------------ privacy
def test_no_customer_name_handle_or_words_ever_appear(client, svc, clock):
    ticket = make_ticket(svc)
    ticket = svc.tickets.get(ticket.ticket_id)
    ticket.flags.append("personal_data_in_public")
    ticket.record(h.AckQueued(clock.now(), datetime.fromisoformat("2026-11-29T09:00:00+00:00")))
    ticket.record(h.Sent(clock.now(), "ack"))
    ticket.record(h.ReplyFailed(clock.now(), "reply", "403 from X for pquux_traveller: CUSTOMER-SECRET-TEXT"))
    ticket.record(h.Claimed(clock.now(), "AGENT-NAME-MARKER"))
    ticket.record(h.Noted(clock.now(), "AGENT-NAME-MARKER", "CUSTOMER-SECRET-TEXT"))
    ticket.record(h.Unrecognised(clock.now(), "something_new", "CUSTOMER-SECRET-TEXT"))
    svc.tickets.save(ticket)
    token = token_for(svc, ticket.ticket_id)
    html = text_of(get(client, f"/s/{token}"))
    body = text_of(get(client, f"/s/{token}.json"))
    for page in (html, body):
        assert_no_customer_data(page)
        assert "C0123456789ab" not in page  # not even the internal customer id
        assert "something_new" not in page  # unknown event kinds are not shown
    assert "We sent you an acknowledgement" in html
    assert "could not be delivered" in html


# ------------------------------------------------------------------------------------------------ open desk
def test_open_desk_promises_a_response_time_from_the_sla(client, svc, clock):
    clock.set(utc(2026, 11, 24, 10, 0))  # Tuesday 10:00 GMT: customer service is on shift
    ticket = make_ticket(svc, first_response_due=utc(2026, 11, 24, 10, 22))
    data = get(client, f"/s/{token_for(svc, ticket.ticket_id)}.json").json_body
    assert data["desk_open"] is True and data["opens_at"] is None
    assert data["expected_response"] == "Within about 25 minutes"
    html = text_of(get(client, f"/s/{token_for(svc, ticket.ticket_id)}"))
    assert "Online now" in html and "Within about 25 minutes" in html
    clock.set(utc(2026, 11, 24, 12, 0))
    assert "taking longer than we aim for" in get(client, f"/s/{token_for(svc, ticket.ticket_id)}.json").json_body[
        "expected_response"]


@pytest.mark.parametrize("minutes, expected", [(1, "about a minute"), (7, "about 7 minutes"),
                                               (42, "about 45 minutes"), (58, "about an hour"),
                                               (61, "about 2 hours"), (47 * 60, "about 47 hours"),
                                               (80 * 60, "about 4 days")])
def test_duration_wording(minutes, expected):
    from chalicelib.domain.wording import wait

    assert wait(timedelta(minutes=minutes)) == expected


def test_opening_more_than_a_week_away_names_the_date():
    from zoneinfo import ZoneInfo

    from chalicelib.domain.wording import opening

    london = ZoneInfo("Europe/London")
    assert opening(utc(2026, 11, 30, 7, 0), utc(2026, 11, 29, 3, 0), london) == "Monday 07:00 GMT"
    assert opening(utc(2026, 12, 29, 7, 0), utc(2026, 12, 20, 3, 0), london) == "Tuesday 29 December 07:00 GMT"
    assert opening(utc(2026, 7, 6, 6, 0), utc(2026, 7, 5, 3, 0), london) == "Monday 07:00 BST"
