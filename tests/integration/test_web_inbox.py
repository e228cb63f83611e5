"""The web inbox (/inbox) through the real Chalice app on moto: Cognito sign-in (the local agents' pool), the
session cookie and its flags, CSRF tokens, the Content-Security-Policy, and every page and action over the real
inbox use cases, down to the outbox and the sandbox."""
from __future__ import annotations

import csv
import html
import io
import json
import re
from urllib.parse import urlencode, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.web.inbox_page import csrf_token
from tests.conftest import receive_all, run_pipeline, utc
from tests.helpers import ticket_of, tweet_event, x_body, x_headers

WEDNESDAY = utc(2026, 11, 25, 10, 0)  # customer service on shift (07:00-20:00 London)
FORM = "application/x-www-form-urlencoded"
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
MARKUP = "<script>alert('x')</script>"


class Browser:
    """A browser's share of the work: it keeps cookies (name=value) and posts forms with their hidden fields."""

    def __init__(self, client):
        self.client = client
        self.cookies: dict[str, str] = {}
        self.last = None
        self.token = ""  # the CSRF token of the last page that had a form

    def _remember(self, response) -> None:
        value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
        for cookie in [value] if isinstance(value, str) else value:
            name, _, rest = cookie.partition("=")
            content = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = content

    def request(self, method: str, path: str, form: dict | None = None, body: bytes | None = None,
                headers: dict | None = None):
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if form is not None or body is not None:
            sent["Content-Type"] = FORM
            body = body if body is not None else urlencode(form).encode()
        sent.update(headers or {})
        response = self.client.http.request(method, path, headers=sent, body=body or b"")
        self._remember(response)
        self.last = response
        found = re.search(r'name="csrf" value="([^"]+)"', response.body.decode(errors="replace"))
        if found:
            self.token = found.group(1)
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict | None = None, **kwargs):
        return self.request("POST", path, form=form if form is not None else {}, **kwargs)

    @property
    def text(self) -> str:
        return self.last.body.decode()

    def csrf(self) -> str:
        return self.token

    def field(self, name: str) -> str:
        return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', self.text).group(1))

    def sign_in(self, username: str, password: str):
        page = self.get("/inbox/sign-in")
        assert page.status_code == 200
        return self.post("/inbox/sign-in", {"username": username, "password": password, "csrf": self.csrf()})


def location(response) -> str:
    return response.headers["Location"]


def path_of(response) -> str:
    return urlparse(location(response)).path


def post_tweet(client, tweet_id: str, text: str, **kwargs) -> None:
    body = x_body(tweet_event(tweet_id, text, at=WEDNESDAY, **kwargs))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200


def outbox(client) -> list[dict]:
    return client.http.get("/local/outbox").json_body["messages"]


@pytest.fixture
def day(svc, clock, client):
    clock.set(WEDNESDAY)
    post_tweet(client, "8101", f"@MeridianRail my train was cancelled {MARKUP} and I want a refund", user_id="8101",
               handle="pat_rides")
    run_pipeline()
    return svc


@pytest.fixture
def amira(client, day):
    browser = Browser(client)
    assert browser.sign_in("amira", "Amira-local-1").status_code == 303
    return browser


def the_ticket(svc):
    return svc.tickets.get(ticket_of(svc, "x#8101"))


def take_next(browser):
    browser.get("/inbox")
    response = browser.post("/inbox/next", {"csrf": browser.csrf()})
    assert response.status_code == 303, browser.text
    return path_of(response)


# ------------------------------------------------------------------------------------------------ sign-in
def test_sign_in_sets_a_strict_session_cookie_and_redirects_to_the_inbox(client, day):
    browser = Browser(client)
    form = browser.get("/inbox/sign-in")
    assert form.headers["Content-Security-Policy"] == CSP
    nonce_cookie = form.headers["Set-Cookie"]
    assert "inbox_sign_in=" in nonce_cookie and "HttpOnly" in nonce_cookie and "SameSite=Strict" in nonce_cookie
    response = browser.post("/inbox/sign-in", {"username": "amira", "password": "Amira-local-1",
                                               "csrf": browser.csrf()})
    assert response.status_code == 303 and location(response) == "/inbox"
    cookies = response.headers["Set-Cookie"]
    session = next(c for c in cookies if c.startswith("inbox_session="))
    flags = [part.strip() for part in session.split(";")]
    token = flags[0].split("=", 1)[1]
    assert token.count(".") == 2  # the Cognito ID token, kept in the cookie only
    assert {"HttpOnly", "SameSite=Strict", "Path=/inbox", "Secure"} <= set(flags)  # PUBLIC_BASE_URL is https
    assert "Max-Age=3600" in flags  # the token's lifetime
    assert any(c.startswith("inbox_sign_in=;") and "Max-Age=0" in c for c in cookies)
    page = browser.get("/inbox")
    assert page.status_code == 200
    assert re.search(r"Signed in as (Amira Shah|amira)", browser.text) and token not in browser.text
    for name, value in {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}.items():
        assert page.headers[name] == value
    scripts = re.findall(r"<script[^>]*>", browser.text)  # no inline script or style: the CSP would refuse them
    assert [re.sub(r"\?v=\w+", "", tag) for tag in scripts] == [
        '<script src="/inbox/assets/inbox.js" defer>', '<script src="/inbox/assets/inbox-live.js" defer>']
    assert "<style" not in browser.text and " style=" not in browser.text
    assert browser.get("/inbox/sign-in").status_code == 303  # signed in already: to the inbox


def test_wrong_password_shows_the_form_again_with_401(client, day):
    browser = Browser(client)
    response = browser.sign_in("amira", "not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password." in browser.text
    assert 'value="amira"' in browser.text and "not-the-password" not in browser.text
    assert "inbox_session" not in browser.cookies
    assert response.headers["Content-Security-Policy"] == CSP


def test_sign_in_without_its_form_token_is_refused(client, day):
    browser = Browser(client)
    browser.get("/inbox/sign-in")
    response = browser.post("/inbox/sign-in", {"username": "amira", "password": "Amira-local-1", "csrf": "forged"})
    assert response.status_code == 403 and "inbox_session" not in browser.cookies
    stranger = Browser(client)  # never saw the form: no nonce cookie
    response = stranger.post("/inbox/sign-in", {"username": "amira", "password": "Amira-local-1",
                                                "csrf": browser.csrf()})
    assert response.status_code == 403 and "inbox_session" not in stranger.cookies


def test_a_forged_or_missing_session_goes_to_sign_in_or_401(client, day):
    browser = Browser(client)
    response = browser.get("/inbox")
    assert response.status_code == 303 and location(response) == "/inbox/sign-in?why=required"
    browser.cookies["inbox_session"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbWlyYSJ9.Zm9yZ2Vk"
    response = browser.get("/inbox/tickets/ANYTHING")
    assert response.status_code == 303 and location(response) == "/inbox/sign-in?why=expired"
    assert "inbox_session" not in browser.cookies  # cleared
    browser.get("/inbox/sign-in?why=expired")
    assert "Your sign-in has ended or is not valid any more: sign in again." in browser.text
    browser.cookies["inbox_session"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbWlyYSJ9.Zm9yZ2Vk"
    response = browser.post("/inbox/next", {"csrf": "whatever"})
    assert response.status_code == 401
    assert "sign in again" in browser.text
    assert the_ticket(day).status == "waiting"


def test_sign_out_clears_the_cookie(amira):
    amira.get("/inbox")
    response = amira.post("/inbox/sign-out", {"csrf": amira.csrf()})
    assert response.status_code == 303 and location(response) == "/inbox/sign-in?why=signed-out"
    assert "inbox_session" not in amira.cookies
    assert amira.get("/inbox").status_code == 303


# ------------------------------------------------------------------------------------------------ CSRF
def test_a_post_without_or_with_a_wrong_csrf_token_is_403_and_changes_nothing(amira, day):
    amira.get("/inbox")
    good = amira.csrf()
    for form in ({}, {"csrf": ""}, {"csrf": good[:-2] + "xx"}, {"csrf": "é" * 10}):
        response = amira.post("/inbox/next", form)
        assert response.status_code == 403, form
        assert "security token" in amira.text
        assert response.headers["Content-Security-Policy"] == CSP
    assert the_ticket(day).status == "waiting" and the_ticket(day).claimed_by is None
    ticket_id = the_ticket(day).ticket_id
    assert amira.post(f"/inbox/tickets/{ticket_id}/resolve", {}).status_code == 403
    assert the_ticket(day).status == "waiting"
    # another agent's token does not fit this agent's session
    ben = Browser(amira.client)
    ben.sign_in("ben", "Ben-local-1")
    ben.get("/inbox")
    assert ben.csrf() != good
    assert amira.post("/inbox/next", {"csrf": ben.csrf()}).status_code == 403
    # a form sent from another site is refused whatever it carries
    response = amira.post("/inbox/next", {"csrf": good}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    response = amira.post("/inbox/next", {"csrf": good}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert the_ticket(day).status == "waiting"


def test_unreadable_forms_get_a_400_page_never_a_5xx(amira, day):
    amira.get("/inbox")
    for body in (b"csrf=%ff%fe", b"a=1&a=2", b"&".join(b"f%d=1" % n for n in range(40)), b"\xff\xfe=\x00"):
        response = amira.request("POST", "/inbox/next", body=body)
        assert response.status_code == 400, body
        assert "<h1" in amira.text and "Content-Security-Policy" in response.headers
    response = amira.request("POST", "/inbox/next", body=b"csrf=" + b"a" * (600 * 1024))
    assert response.status_code == 413
    response = amira.post("/inbox/tickets/X/frobnicate", {"csrf": "x"})
    assert response.status_code == 404
    assert the_ticket(day).status == "waiting"


# ------------------------------------------------------------------------------------------------ pages
def test_inbox_page_shows_the_agent_desks_and_nothing_held(amira):
    amira.get("/inbox")
    text = amira.text
    assert "customer_service" in text and "On shift" in text
    assert re.search(r"<h3>complaints</h3>", text) and re.search(r"<h3>journeys</h3>", text)
    assert 'class="depth">1<' in text
    assert "Take next (any desk)" in text and 'name="desk" value="complaints"' in text
    assert "You hold no tickets." in text
    assert "/inbox/oversight" not in text  # not a lead, not comms
    assert amira.get("/inbox/oversight").status_code == 403


def test_next_opens_the_ticket_with_the_customer_text_escaped(amira, day):
    where = take_next(amira)
    ticket = the_ticket(day)
    assert where == f"/inbox/tickets/{ticket.ticket_id}"
    assert ticket.status == "claimed" and ticket.claimed_by == "amira"
    page = amira.get(location(amira.last))
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    text = amira.text
    assert f"You hold ticket {ticket.ticket_id} now." in text  # the message after the redirect
    assert MARKUP not in text and html.escape(MARKUP, quote=False).replace("'", "&#39;") in text
    assert "pat_rides" in text and "held by you" in text
    assert 'data-limit="280"' in text and "X counts links as 23 characters and emoji as 2" in text
    assert 'name="private"' in text and "Reply privately" in text
    assert f'href="https://help.example.test/s/{ticket.ticket_id}-' in text  # the customer's status page
    amira.get("/inbox")
    assert ticket.ticket_id in amira.text  # under "Tickets you hold"
    # a message in the query is shown only with its session-bound signature
    amira.get(f"/inbox?m={MARKUP}&k=forged")
    assert "alert(" not in amira.text


def test_nothing_waiting_goes_back_to_the_inbox_with_the_message(amira, day):
    take_next(amira)
    amira.get("/inbox")
    response = amira.post("/inbox/next", {"csrf": amira.csrf(), "desk": "journeys"})
    assert response.status_code == 303 and path_of(response) == "/inbox"
    amira.get(location(response))
    assert "Nothing is waiting on journeys." in amira.text


def test_reply_goes_to_the_outbox_once_and_the_sandbox_records_it(amira, day, client):
    where = take_next(amira)
    amira.get(where)
    form = {"csrf": amira.csrf(), "request_id": amira.field("request_id"),
            "text": "Sorry about that, Pat.\r\nClaim at https://example.com/delay-repay-and-a-very-long-path"}
    response = amira.post(f"{where}/reply", form)
    assert response.status_code == 303 and path_of(response) == where
    assert amira.post(f"{where}/reply", form).status_code == 303  # a double submit
    amira.get(location(amira.last))
    assert "That reply had been sent already; it was not sent twice." in amira.text
    run_pipeline()
    sent = [m for m in outbox(client) if m["channel"] == "x" and m.get("in_reply_to") == "8101"]
    assert len(sent) == 1
    assert sent[0]["text"] == "Sorry about that, Pat.\nClaim at https://example.com/delay-repay-and-a-very-long-path"
    assert sent[0]["private"] is False
    amira.get(where)
    assert "Our reply" in amira.text and "agent reply queued" in amira.text
    ticket = the_ticket(day)
    assert ticket.first_response_at is not None and ticket.held_by("amira", WEDNESDAY)


def test_a_too_long_x_reply_is_refused_with_422_keeps_the_text_and_queues_nothing(amira, day, client):
    where = take_next(amira)
    amira.get(where)
    text = "Sorry " + "🚆" * 140  # 6 + 280 as X counts it
    response = amira.post(f"{where}/reply", {"csrf": amira.csrf(), "request_id": amira.field("request_id"),
                                             "text": text})
    assert response.status_code == 422
    assert "The reply is 286 characters (links count as 23, emoji as 2); an X post allows 280." in amira.text
    assert f">{text}</textarea>" in amira.text  # the agent's text kept in the box
    assert response.headers["Content-Security-Policy"] == CSP
    assert receive_all("responder-outbox") == []
    run_pipeline()
    assert [m for m in outbox(client) if m.get("in_reply_to") == "8101"] == []
    # the same text privately (an X direct message) fits
    response = amira.post(f"{where}/reply", {"csrf": amira.csrf(), "request_id": amira.field("request_id"),
                                             "text": text, "private": "1"})
    assert response.status_code == 303
    run_pipeline()
    assert [m["text"] for m in outbox(client) if m["channel"] == "x"] == [text]


def test_note_transfer_release_resolve_and_reopen(amira, day):
    where = take_next(amira)
    amira.get(where)
    response = amira.post(f"{where}/note", {"csrf": amira.csrf(), "text": f"called back {MARKUP}"})
    assert response.status_code == 303
    amira.get(location(response))
    assert "Note added." in amira.text and "called back &lt;script&gt;" in amira.text
    response = amira.post(f"{where}/resolve", {"csrf": amira.csrf()})
    assert response.status_code == 303 and path_of(response) == where
    assert the_ticket(day).status == "resolved"
    amira.get(location(response))
    assert "resolved." in amira.text and 'action="' + where + '/reopen"' in amira.text
    response = amira.post(f"{where}/resolve", {"csrf": amira.csrf()})
    assert response.status_code == 409 and "is resolved; reopen it first" in amira.text
    assert amira.post(f"{where}/reopen", {"csrf": amira.csrf()}).status_code == 303
    assert the_ticket(day).status == "claimed"
    response = amira.post(f"{where}/transfer", {"csrf": amira.csrf(), "desk": "journeys"})
    assert response.status_code == 303 and path_of(response) == "/inbox"
    assert the_ticket(day).desk == "journeys" and the_ticket(day).status == "waiting"
    response = amira.post(f"{where}/release", {"csrf": amira.csrf()})
    assert response.status_code == 403 and "take it with next first" in amira.text
    assert amira.post(f"{where}/claim", {"csrf": amira.csrf()}).status_code == 303
    response = amira.post(f"{where}/release", {"csrf": amira.csrf()})
    assert response.status_code == 303 and path_of(response) == "/inbox"
    amira.get(location(response))
    assert "released: back in the queue of desk journeys." in amira.text


def test_link_two_identities_from_the_ticket_page(amira, day, client):
    post_tweet(client, "8102", "@MeridianRail it's me again from my other account", user_id="8102",
               handle="pat_other")
    run_pipeline()
    where = take_next(amira)
    amira.get(where)
    response = amira.post(f"{where}/link", {"csrf": amira.csrf(), "identity": "x@pat_rides", "with": "x@pat_other"})
    assert response.status_code == 303, amira.text
    amira.get(location(response))
    assert "are one customer" in amira.text
    response = amira.post(f"{where}/link", {"csrf": amira.csrf(), "identity": "x@pat_rides", "with": "x@nobody"})
    assert response.status_code == 404 and "No customer has identity x@nobody." in amira.text


def test_off_shift_agent_sees_the_reason(client, day, clock):
    clock.set(utc(2026, 11, 29, 3, 0))  # Sunday 03:00: customer service is off shift
    browser = Browser(client)
    browser.sign_in("amira", "Amira-local-1")
    browser.get("/inbox")
    assert "Off shift" in browser.text
    assert "your team customer_service is off shift; its next shift starts" in browser.text
    response = browser.post("/inbox/next", {"csrf": browser.csrf()})
    assert response.status_code == 403
    assert re.search(r"Your team customer_service is off shift; its next shift starts .*09:00", browser.text)
    assert the_ticket(day).status == "waiting"


def test_leads_see_oversight(client, day):
    chloe = Browser(client)
    chloe.sign_in("chloe", "Chloe-local-1")
    chloe.get("/inbox")
    assert 'href="/inbox/oversight"' in chloe.text
    page = chloe.get("/inbox/oversight")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    for heading in ("Teams on shift now and next", "Desks", "Who holds what", "High reach", "Abuse",
                    "Tickets first answered per hour"):
        assert heading in chloe.text
    assert "Nobody holds a ticket right now." in chloe.text
    # the on-call team works around the clock: it says so, never "until around the clock"
    assert re.search(r"<th scope=\"row\">oncall</th>\s*<td><span class=\"badge badge-open\">On shift</span> around "
                     r"the clock</td>", chloe.text) and "until around the clock" not in chloe.text
    assert re.search(r"<th scope=\"row\">complaints</th>\s*<td>Open</td>\s*<td class=\"num\">1</td>", chloe.text)
    priya = Browser(client)
    priya.sign_in("priya", "Priya-local-1")
    assert priya.get("/inbox/oversight").status_code == 200


def test_an_agent_labels_from_the_ticket_page_and_a_lead_downloads_the_labels(amira, day, client):
    where = take_next(amira)
    amira.get(where)
    assert 'action="' + where + '/label"' in amira.text and '<option value="complaint" selected>' in amira.text
    response = amira.post(f"{where}/label", {"csrf": amira.csrf(), "intent": "question", "urgent": "1"})
    assert response.status_code == 303
    amira.get(location(response))
    assert "Labelled question, urgent; triage had said complaint." in amira.text
    assert the_ticket(day).intent == "question" and the_ticket(day).priority == "normal"
    response = amira.post(f"{where}/label", {"csrf": amira.csrf(), "intent": "furious"})
    assert response.status_code == 422 and "Intent must be one of" in amira.text
    assert amira.get("/inbox/labels.csv").status_code == 403  # leads and comms only
    chloe = Browser(client)
    chloe.sign_in("chloe", "Chloe-local-1")
    chloe.get("/inbox/oversight")
    assert "agents labelled 1 ticket; triage had said the same for 0." in chloe.text
    assert "1 of 1 labelled a complaint or question acknowledged; 0 of 0 labelled praise or other" in chloe.text
    download = chloe.get("/inbox/labels.csv")
    assert download.status_code == 200 and download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == 'attachment; filename="triage-labels.csv"'
    rows = list(csv.DictReader(io.StringIO(download.body.decode())))
    assert [(r["intent"], r["urgent"], r["triaged"], r["agent"]) for r in rows] == [
        ("question", "yes", "complaint", "amira")]
    assert chloe.get("/inbox/labels.csv?since=2999-01-01").body.decode().count("\n") == 1  # the header alone
    assert chloe.get("/inbox/labels.csv?since=soon").status_code == 422


def triage_block(page: str) -> str:
    """The explanation between the Triage heading and the label form."""
    found = re.search(r'<h3 id="triage-heading">Triage</h3>(.*?)<form method="post" action="[^"]*/label"', page,
                      re.S)
    assert found, page
    return found.group(1)


def test_the_ticket_page_says_why_triage_answered_beside_the_label_control(amira, day, monkeypatch):
    where = take_next(amira)
    page = amira.get(where)
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    ticket = the_ticket(day)
    block = triage_block(amira.text)
    assert "<dt>Triage answered automatically</dt>" in block and "<dd>yes — " in block
    assert not ticket.acked and "(no automatic reply sent so far)" in block  # the desk is staffed: agents answer
    assert ticket.tone in ("apology", "neutral")  # a complaint: an apology when sure, else the holding reply
    tone = {"apology": "Apology and help", "neutral": "Neutral holding reply"}[ticket.tone]
    assert f"<dt>Tone</dt>\n        <dd>{tone}" in block
    assert "<dt>Triage gave</dt>" in block and "<dd>complaint · normal</dd>" in block
    assert '<details class="signals">' in block and "<summary>The " in block and "<li>intent complaint" in block
    assert "style=" not in block and "<script" not in block and "alert(" not in block  # no message text

    # how sure, in per cent; a signal is text, never markup; a label since is said, not mixed in
    monkeypatch.setattr("chalicelib.usecases.desk.views.explain", lambda decision, reasons: {
        "answered": True, "why": "complaint", "tone": "apology", "confidence": 0.87,
        "signals": [f"intent complaint (score 2): {MARKUP}"]})
    amira.post(f"{where}/label", {"csrf": amira.csrf(), "intent": "praise"})
    block = triage_block(amira.get(where).body.decode())
    assert f"<dd>{tone} (confidence 87&nbsp;%)</dd>" in block  # the tone the ticket stored comes first
    assert "<summary>The 1 signal that decided</summary>" in block and MARKUP not in block
    assert "(relabelled since)" in block and "<dd>complaint · normal " in block


def test_tone_labels_read_as_words():
    from chalicelib.web.inbox_page import tone_label

    assert [tone_label(t, True) for t in ("apology", "question", "thanks", "neutral")] == [
        "Apology and help", "Question received", "Thank-you", "Neutral holding reply"]
    assert tone_label("", False) == "Not answered" and tone_label("", None) == "Not answered"
    assert tone_label("", True) == "Plain acknowledgement"  # a ticket from before tones


def test_assets_are_served_with_their_types(client):
    css = client.http.get("/inbox/assets/inbox.css")
    js = client.http.get("/inbox/assets/inbox.js")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
    assert js.headers["X-Content-Type-Options"] == "nosniff"
    assert client.http.get("/inbox/assets/app.py").status_code == 404


# ------------------------------------------------------------------------------------------------ hostile input
FORM_FIELDS = st.sampled_from(["csrf", "text", "private", "request_id", "desk", "identity", "with", "username",
                               "password", "m", "k", "intent", "urgent"])
forms = st.dictionaries(FORM_FIELDS, st.text(max_size=40), max_size=5)
ACTIONS = ("reply", "note", "transfer", "release", "resolve", "reopen", "claim", "link", "label", "unknown")


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=200), form=forms, signed=st.booleans(), target=st.sampled_from(("next", "sign-in",
                                                                                             *ACTIONS)))
def test_inbox_posts_answer_4xx_or_3xx_never_5xx(amira, day, raw, form, signed, target):
    ticket_id = the_ticket(day).ticket_id
    path = {"next": "/inbox/next", "sign-in": "/inbox/sign-in"}.get(target, f"/inbox/tickets/{ticket_id}/{target}")
    token = csrf_token(day, amira.cookies["inbox_session"])
    # signed: a well-formed form with the right token, so the fuzz reaches the use cases; else raw bytes
    response = amira.post(path, {**form, "csrf": token}) if signed else amira.request("POST", path, body=raw)
    assert response.status_code < 500, (path, response.status_code, response.body[:300])
    assert response.headers["Content-Security-Policy"] == CSP


def test_the_pulse_tells_a_page_what_changed_without_a_reload(client, day, amira):
    """GET /inbox/pulse (the session's agent) and GET /agent/pulse answer the same: the desks' depth, what the
    held tickets need, and a version that moves only when something shown does."""
    first = amira.get("/inbox/pulse")
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/json"
    pulse = json.loads(first.body)
    complaints = next(d for d in pulse["desks"] if d["desk"] == "complaints")
    assert complaints["depth"] == 1 and pulse["held"] == [] and pulse["news"] == []
    assert json.loads(amira.get("/inbox/pulse").body)["version"] == pulse["version"]
    ben = Browser(client)
    ben.sign_in("ben", "Ben-local-1")
    take_next(ben)
    moved = json.loads(amira.get("/inbox/pulse").body)
    assert next(d for d in moved["desks"] if d["desk"] == "complaints")["depth"] == 0
    assert moved["version"] != pulse["version"]
    assert json.loads(ben.get("/inbox/pulse").body)["held"][0]["customer_answered"] is False
    assert Browser(client).get("/inbox/pulse").status_code == 401  # no session: the script stops asking


def test_a_lead_assigns_a_ticket_from_its_page_and_it_is_in_the_agents_inbox(client, day):
    ticket_id = ticket_of(day, "x#8101")
    ben = Browser(client)
    ben.sign_in("ben", "Ben-local-1")
    chloe = Browser(client)
    chloe.sign_in("chloe", "Chloe-local-1")
    chloe.get(f"/inbox/tickets/{ticket_id}")
    assert '<label for="assign-agent">Give it to</label>' in chloe.text and '<option value="ben">' in chloe.text
    done = chloe.post(f"/inbox/tickets/{ticket_id}/assign", {"csrf": chloe.csrf(), "agent": "ben"})
    assert done.status_code == 303
    chloe.get(location(done))
    assert f"Ticket {ticket_id} assigned to ben: it is in their tickets now." in chloe.text
    ben.get("/inbox")
    assert f"<strong class=\"ref\">{ticket_id}</strong>" in ben.text  # in "Tickets you hold"


def test_a_tweets_links_and_photos_are_listed_for_the_agent_to_open_never_loaded(client, svc, clock, amira):
    """X shortens links (t.co) and carries photos by address: the ticket page says where each link goes and links
    each photo, without loading any (the page's CSP allows no outside image), and the API gives the same."""
    event = tweet_event("8199", "@MeridianRail look at this https://t.co/abc123 https://t.co/pic99", user_id="8199",
                        at=clock.now(), handle="sam_rides")
    tweet = event["tweet_create_events"][0]
    tweet["entities"] = {"urls": [{"url": "https://t.co/abc123", "expanded_url": "https://www.example.org/delays"},
                                  {"url": "https://t.co/bad", "expanded_url": "javascript:alert(1)"}]}
    tweet["extended_entities"] = {"media": [{"type": "photo", "url": "https://t.co/pic99",
                                             "media_url_https": "https://pbs.twimg.com/media/platform.jpg"}]}
    body = x_body(event)
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()
    ticket_id = ticket_of(svc, "x#8199")
    amira.get(f"/inbox/tickets/{ticket_id}")
    claimed = amira.post(f"/inbox/tickets/{ticket_id}/claim", {"csrf": amira.csrf()})
    assert claimed.status_code == 303
    amira.get(f"/inbox/tickets/{ticket_id}")
    assert 'https://t.co/abc123</span> goes to <a href="https://www.example.org/delays"' in amira.text
    listed = re.search(r'<ul class="attached.*?</ul>', amira.text, re.S)
    assert listed and re.search(r'<a href="https://pbs.twimg.com/media/platform.jpg" rel="noopener noreferrer '
                                r'nofollow">\s*Photo 1</a>', listed.group(0)), listed
    assert "javascript:" not in amira.text and "<img" not in amira.text.split("<main", 1)[1]
    token = client.http.post("/agent/sign-in", body=json.dumps({"username": "amira", "password": "Amira-local-1"}),
                             headers={"Content-Type": "application/json"}).json_body["token"]
    shown = client.http.get(f"/agent/tickets/{ticket_id}", headers={"Authorization": f"Bearer {token}"}).json_body
    [message] = [m for m in shown["messages"] if m["key"] == "x#8199"]
    assert message["attached"] == [
        {"kind": "link", "url": "https://www.example.org/delays", "short": "https://t.co/abc123"},
        {"kind": "photo", "url": "https://pbs.twimg.com/media/platform.jpg", "short": ""}]


def test_an_agent_saves_a_filtered_desk_list_and_finds_it_on_the_inbox_page(client, amira):
    amira.get("/inbox/desks/complaints?priority=normal&sort=sla")
    assert '<label for="view-name">Save this list as</label>' in amira.text
    saved = amira.post("/inbox/views", {"csrf": amira.csrf(), "desk": "complaints", "priority": "normal",
                                        "sort": "sla", "name": "Normal by SLA"})
    assert saved.status_code == 303
    assert location(saved).startswith("/inbox/desks/complaints?priority=normal&sort=sla&m=")
    back = amira.get(location(saved))
    assert back.status_code == 200 and "View “Normal by SLA” saved: it is on your inbox page." in amira.text
    amira.get("/inbox")
    assert "Your views" in amira.text and 'href="/inbox/desks/complaints?priority=normal&amp;sort=sla">Normal by SLA' \
        in amira.text
    bad = amira.post("/inbox/views", {"csrf": amira.csrf(), "desk": "complaints", "name": "<b>"})
    assert bad.status_code == 422
    amira.get("/inbox")
    gone = amira.post("/inbox/views/Normal%20by%20SLA/delete", {"csrf": amira.csrf()})
    assert gone.status_code == 303
    amira.get("/inbox")
    assert "Your views" not in amira.text
    token = client.http.post("/agent/sign-in", body=json.dumps({"username": "amira", "password": "Amira-local-1"}),
                             headers={"Content-Type": "application/json"}).json_body["token"]
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    made = client.http.post("/agent/views", headers=api, body=json.dumps({"name": "mine", "desk": "complaints",
                                                                          "held_by": "mine"}))
    assert made.status_code == 200 and made.json_body["filters"] == {"state": "claimed", "held_by": "mine"}
    assert [v["name"] for v in client.http.get("/agent/views", headers=api).json_body["views"]] == ["mine"]
    assert client.http.delete("/agent/views/mine", headers=api).json_body == {"deleted": "mine"}
    assert client.http.delete("/agent/views/mine", headers=api).status_code == 404
