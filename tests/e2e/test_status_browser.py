"""The status page in a real headless Chromium, served by the real local stack (`make run`).

A customer tweets at 03:00 on a Sunday with markup in their words and their display name; the status link
from their acknowledgement is opened in a phone-sized browser. The page must show the reference and the
opening time, carry no script and none of the customer's text, and render styled under its own strict
Content-Security-Policy (checked on a pixel of the screenshot, which is kept in artifacts/status-page.png).

Chromium comes from ``tools.browser.ensure_chromium()`` (installed with apt-get on a clean machine run as
root). Without it this test fails; set ``RESPONDER_SKIP_BROWSER=1`` to skip it deliberately.
"""
from __future__ import annotations

import re
import struct
import zlib
from datetime import datetime, timedelta

import pytest
import requests

from chalicelib.domain import history as h
from tests.e2e.conftest import PROJECT
from tests.helpers import tweet_event, x_body, x_headers

ARTIFACT = PROJECT / "artifacts" / "status-page.png"
INJECTED_TEXT = "<img src=x onerror=alert(1)> my train was cancelled <script>alert('pwned')</script> refund please"
INJECTED_NAME = "<script>alert(2)</script><img src=x onerror=alert(3)> Mallory"
INCIDENT_TITLE = "Disruption between Ashford and Dover"
INCIDENT_TEXT = "Rail replacement buses run every 20 minutes. <script>alert(4)</script>"
#: pieces of what the customer wrote and of their name: none may reach the page, escaped or not
CUSTOMER_NEEDLES = ("mallory", "pwned", "alert(1)", "alert(2)", "alert(3)", "my train was cancelled", "refund please")
MASTHEAD_RGB = (0x0B, 0x4F, 0x8A)  # --accent in chalicelib/web/status.css


def _app_now(stack) -> datetime:
    return datetime.fromisoformat(stack.get("/health").json()["time"])


def _link_from_acknowledgement(stack, tweet_id: str, timeout: float = 15.0) -> str | None:
    """Through the whole pipeline: signed webhook -> inbound queue -> triage -> ack in the local outbox."""
    event = tweet_event(tweet_id, "@MeridianRail " + INJECTED_TEXT, user_id="9091", handle="mallory_tester",
                        at=_app_now(stack))
    event["tweet_create_events"][0]["user"]["name"] = INJECTED_NAME
    body = x_body(event)
    response = stack.post("/webhooks/x", data=body, headers=x_headers(body))
    assert response.status_code == 200, response.text

    def link():
        # a public X reply carries no URL (links.no_url_in_public): its reference is looked up at /status
        for message in stack.get("/local/outbox").json().get("messages", []):
            if message.get("in_reply_to") == tweet_id:
                found = re.search(r"\b(R[0-9A-Z]{8})\b", message.get("text", ""))
                if found:
                    answer = stack.post("/status", data={"reference": found.group(1), "who": "@mallory_tester"},
                                        allow_redirects=False)
                    if answer.status_code == 303:
                        return answer.headers["Location"]
        return None

    return stack.wait_for(link, timeout=timeout, interval=0.2)


def _link_from_stored_ticket(stack) -> str:
    """Without the pipeline: the ticket written straight into the stack's DynamoDB, the link signed here."""
    from chalicelib import bootstrap
    from chalicelib.settings import Secrets, Settings
    from chalicelib.store.models import bind_models
    from tests.conftest import LOCAL_ENV

    env = {**LOCAL_ENV, "AWS_ENDPOINT_URL": stack.endpoint, "AWS_REGION": "eu-west-2", "PUBLIC_BASE_URL": stack.base}
    settings = Settings.from_env(env)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "local")
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        try:
            return _store_ticket(stack, bootstrap.build(settings, secrets=Secrets(settings, env=env)))
        finally:
            bind_models(region="eu-west-2", endpoint_url=None, tables={})  # drop the connection to the stack


def _store_ticket(stack, svc) -> str:
    from chalicelib.domain.outbound import ReplyTarget
    from chalicelib.domain.status_link import make_token
    from chalicelib.domain.ticket import Ticket, new_reference

    at = _app_now(stack)
    ticket = Ticket(ticket_id=new_reference(), desk="complaints", priority="normal", intent="complaint",
                    channel="x", conversation_key="x#e2e", customer_id="C000000000e2e", first_contact_at=at,
                    last_customer_at=at, reasons=[INJECTED_TEXT], first_response_due=at + timedelta(hours=7),
                    reply_target=ReplyTarget(channel="x", recipient="mallory_tester", in_reply_to="1",
                                             name=INJECTED_NAME, subject=INJECTED_TEXT))
    ticket.record(h.Received(at, "x"))
    ticket.record(h.Queued(at, "complaints"))
    svc.tickets.add(ticket)
    return f"{stack.base}/s/{make_token(svc.secrets.get('STATUS_LINK_KEY'), ticket.ticket_id)}"


@pytest.fixture(scope="module")
def status_link(sunday_night_stack):
    stack = sunday_night_stack
    declared = stack.post("/admin/incidents", headers={"Authorization": "Bearer local-admin-token"}, json={
        "title": INCIDENT_TITLE, "text": INCIDENT_TEXT, "url": "https://status.example.test/ashford"})
    assert declared.status_code == 201, declared.text
    link = _link_from_acknowledgement(stack, "700001")
    if link is None:
        print("no acknowledgement reached the local outbox; using a ticket stored directly in the stack")
        link = _link_from_stored_ticket(stack)
    return link


def _png_pixel(data: bytes, x: int, y: int) -> tuple[int, int, int]:
    """One RGB pixel of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes), decoded with zlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, _height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        previous = line
    return tuple(previous[x * channels:x * channels + 3])


def test_status_page_over_http_has_strict_headers_and_no_customer_text(sunday_night_stack, status_link):
    response = requests.get(status_link, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    for needle in CUSTOMER_NEEDLES + ("onerror",):
        assert needle not in response.text.lower()
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in response.text  # the incident's text, escaped
    data = requests.get(status_link + ".json", timeout=10).json()
    assert data["reference"] == status_link.rsplit("/", 1)[1].split("-")[0]
    assert data["desk_open"] is False and data["opens_at"]


def test_chromium_renders_the_page_without_script_or_customer_markup(chromium, status_link):
    from tools.browser import dump_dom

    reference = status_link.rsplit("/", 1)[1].split("-")[0]
    dom = dump_dom(status_link, browser=chromium)
    assert reference in dom
    assert "opens at" in dom and re.search(r"\b09:00 GMT\b", dom)
    assert "We received your message" in dom
    assert INCIDENT_TITLE in dom and "Rail replacement buses run every 20 minutes." in dom
    assert 'href="https://status.example.test/ashford"' in dom
    lowered = dom.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered and "onerror" not in lowered
    for needle in CUSTOMER_NEEDLES:
        assert needle not in lowered
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in dom  # the incident's text, shown as text


def test_mobile_screenshot_is_styled_under_the_content_security_policy(chromium, status_link):
    from tools.browser import screenshot

    path = screenshot(status_link, ARTIFACT, width=390, height=844, browser=chromium)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000
    # the masthead is painted in the brand colour only if the inline stylesheet was allowed by the CSP hash
    pixel = _png_pixel(data, 5, 5)
    assert all(abs(a - b) <= 8 for a, b in zip(pixel, MASTHEAD_RGB, strict=False)), pixel
