"""The web contact form from a plain browser, through the real Chalice routes against moto: ``POST /contact`` reads
JSON, URL-encoded and multipart bodies alike (the same limit, validation and messages), refuses a file part and any
other content type with the app's JSON error, answers a browser's form post with HTML, and ``GET /contact`` serves
the form under a strict Content-Security-Policy."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from urllib.parse import urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.filepost import encode_multipart_formdata

from chalicelib.channels.form import MAX_FORM_BYTES
from tests.conftest import queue_url, receive_all, run_pipeline
from tests.integration.test_status_lookup import assert_strict_html, header

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ADA = {"name": "Ada Rider", "email": "Ada@Example.org", "handle": "@ada_rides", "topic": "Refund",
       "message": "I was charged twice for my season ticket.\nPlease refund one of them."}
ENCODINGS = ("json", "urlencoded", "multipart")


def encode(fields: dict[str, str], encoding: str) -> tuple[bytes, str]:
    """``fields`` as a body of ``encoding`` and its Content-Type, as a JSON client or a browser sends it."""
    if encoding == "json":
        return json.dumps(fields).encode(), "application/json"
    if encoding == "urlencoded":
        # a browser sends a textarea's line ends as CRLF, in both form encodings
        return urlencode({k: v.replace("\n", "\r\n") for k, v in fields.items()}).encode(), \
            "application/x-www-form-urlencoded"
    body, content_type = encode_multipart_formdata({k: v.replace("\n", "\r\n") for k, v in fields.items()})
    return body, content_type


def submit(client, fields: dict[str, str], encoding: str, headers: dict[str, str] | None = None):
    body, content_type = encode(fields, encoding)
    return client.http.post("/contact", body=body, headers={"Content-Type": content_type, **(headers or {})})


def queued_mentions() -> list[dict]:
    """The mentions on the inbound queue, left there to be processed."""
    sqs = boto3.client("sqs", region_name="eu-west-2")
    messages = receive_all("responder-inbound")
    for message in messages:
        sqs.change_message_visibility(QueueUrl=queue_url("responder-inbound"), ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=0)
    return [mention for message in messages for mention in json.loads(message["Body"])["mentions"]]


def comparable(mention: dict) -> dict:
    """A queued mention without what differs between two submissions (ids, the reserved reference)."""
    extra = {k: v for k, v in mention["extra"].items() if k != "reserved_reference"}
    return {k: v for k, v in mention.items() if k not in ("external_id", "conversation_id")} | {"extra": extra}


# ------------------------------------------------------------------------------------------------ encodings
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_answers_the_same_receipt_and_becomes_the_ticket(client, svc, encoding):
    response = submit(client, ADA, encoding)
    assert response.status_code == 202, response.body
    reference, link = response.json_body["reference"], response.json_body["status_url"]
    assert set(response.json_body) == {"reference", "status_url"}
    assert link.startswith("https://help.example.test/s/" + reference + "-")
    [mention] = queued_mentions()
    assert mention["channel"] == "form" and mention["author_id"] == "ada@example.org"
    # as sent: a browser's CRLF line ends are kept, as a JSON client's LF are
    assert mention["text"] == (ADA["message"] if encoding == "json" else ADA["message"].replace("\n", "\r\n"))
    assert mention["subject"] == "Refund" and mention["extra"]["handle"] == "ada_rides"
    run_pipeline()
    ticket = svc.tickets.get(reference)
    assert ticket is not None and ticket.channel == "form"
    assert ticket.reply_target is not None and ticket.reply_target.recipient == "ada@example.org"
    assert ticket.reply_target.name == "Ada Rider"


def test_a_form_post_makes_the_same_mention_as_json(client):
    """The same customer's words, sent in each encoding, queue the same mention (but for its ids)."""
    fields = {**ADA, "message": "I was charged twice for my season ticket."}  # one line: no CRLF to tell apart
    mentions = []
    for encoding in ENCODINGS:
        assert submit(client, fields, encoding).status_code == 202
        [mention] = queued_mentions()
        mentions.append(comparable(mention))
        run_pipeline()  # the queue drained for the next encoding
    assert mentions[0] == mentions[1] == mentions[2]
    assert mentions[0]["author_name"] == "Ada Rider" and mentions[0]["extra"]["honeypot"] is False


BAD = {
    "no message": ({"name": "A", "email": "a@example.org"}, 422, "message"),
    "empty message": ({"name": "A", "email": "a@example.org", "message": "  "}, 422, "message"),
    "bad e-mail": ({"name": "A", "email": "not-an-address", "message": "hi"}, 422, "email"),
    "empty name": ({"name": "", "email": "a@example.org", "message": "hi"}, 422, "name"),
    "bell in the name": ({"name": "A\u0007", "email": "a@example.org", "message": "hi"}, 422, "name"),
    "bad handle": ({"name": "A", "email": "a@example.org", "handle": "@no way", "message": "hi"}, 422, "handle"),
    "long topic": ({"name": "A", "email": "a@example.org", "topic": "t" * 101, "message": "hi"}, 422, "topic"),
    "unknown field": ({"name": "A", "email": "a@example.org", "message": "hi", "admin": "1"}, 422, "admin"),
    "every field": ({"name": "", "email": "x", "message": ""}, 422, "email"),
    "too large": ({"name": "A", "email": "a@example.org", "message": "x" * MAX_FORM_BYTES}, 413, ""),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gets_the_same_answer_in_every_encoding_and_nothing_is_queued(client, case):
    fields, status, field = BAD[case]
    answers = []
    for encoding in ENCODINGS:
        response = submit(client, fields, encoding)
        assert response.status_code == status, (encoding, response.body)
        assert header(response, "content-type") == "application/json"
        answers.append(response.json_body)
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0]["error"]
    assert field in [item["field"] for item in answers[0]["details"]]
    assert receive_all("responder-inbound") == []


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=abc"])
def test_an_empty_body_is_the_same_400_in_every_encoding(client, content_type):
    response = client.http.post("/contact", body=b"", headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json_body == {"error": "body: The form is empty.",
                                  "details": [{"field": "", "message": "The form is empty."}]}


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_repeated_field_is_refused_in_both_form_encodings(client, encoding):
    fields = [("name", "A"), ("email", "a@example.org"), ("message", "one"), ("message", "two")]
    body, content_type = (urlencode(fields).encode(), "application/x-www-form-urlencoded") if encoding == "urlencoded" \
        else encode_multipart_formdata(fields)
    response = client.http.post("/contact", body=body, headers={"Content-Type": content_type})
    assert response.status_code == 422
    assert response.json_body["details"] == [{"field": "message", "message": "Must be given only once."}]


@pytest.mark.parametrize("body, content_type", [
    (b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nA\r\n--x--\r\n", "multipart/form-data"),
    (b"no boundary in here", "multipart/form-data; boundary=x"),
    (b"--x\r\nContent-Disposition: attachment\r\n\r\nA\r\n--x--\r\n", "multipart/form-data; boundary=x"),
    (b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\xfe\r\n--x--\r\n",
     "multipart/form-data; boundary=x"),
])
def test_an_unreadable_multipart_body_is_a_400(client, body, content_type):
    response = client.http.post("/contact", body=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.body
    assert response.json_body["error"] and response.json_body["details"][0]["field"] == ""
    assert receive_all("responder-inbound") == []


def test_a_file_part_is_refused_with_a_field_error(client):
    body, content_type = encode_multipart_formdata({
        "name": "Ada Rider", "email": "ada@example.org", "message": "Here is my ticket",
        "attachment": ("ticket.pdf", b"%PDF-1.4 \x00\xff binary", "application/pdf")})
    response = client.http.post("/contact", body=body, headers={"Content-Type": content_type})
    assert response.status_code == 422, response.body
    assert response.json_body["details"] == [{"field": "attachment", "message": "Attachments are not accepted here."}]
    assert receive_all("responder-inbound") == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/html; charset=utf-8",
                                          "application/octet-stream"])
def test_another_content_type_is_the_apps_json_415(client, content_type):
    response = client.http.post("/contact", body=json.dumps(ADA).encode(),
                                headers={"Content-Type": content_type, "Accept": BROWSER_ACCEPT})
    assert response.status_code == 415, response.body
    assert header(response, "content-type") == "application/json"
    assert set(response.json_body) == {"error", "details"} and "Code" not in response.json_body
    assert "Unsupported content type" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


def test_json_without_a_content_type_is_still_read(client):
    response = client.http.post("/contact", body=json.dumps(ADA).encode(), headers={})
    assert response.status_code == 202 and response.json_body["reference"].startswith("R")


# ------------------------------------------------------------------------------------------------ the page
def style_sources(page: str) -> list[str]:
    return ["'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
            for css in re.findall(r"<style>(.*?)</style>", page, flags=re.S)]


def test_get_serves_an_accessible_form_under_a_strict_policy(client):
    response = client.http.get("/contact")
    assert response.status_code == 200
    assert_strict_html(response)
    page = response.body.decode()
    csp = header(response, "content-security-policy")
    sources = style_sources(page)
    assert len(sources) == 2 and all(source in csp for source in sources)  # both inline stylesheets, nothing else
    assert '<html lang="en">' in page and "<title>Contact us" in page
    assert re.search(r'<form [^>]*method="post" action="contact"', page)
    for field in ("name", "email", "handle", "topic", "message"):
        assert f'<label for="{field}">' in page and f'id="{field}" name="{field}"' in page
    for field in ("name", "email", "message"):
        assert re.search(rf'<label for="{field}">[^<]*<span class="required">\(required\)</span>', page)
        assert re.search(rf'id="{field}" name="{field}"[^>]*\brequired\b', page)
    for field in ("handle", "topic"):
        assert re.search(rf'<label for="{field}">[^<]*<span class="optional">\(optional\)</span>', page)
    trap = re.search(r'<div class="trap" aria-hidden="true">(.*?)</div>', page, flags=re.S)
    assert trap and 'name="website"' in trap.group(1) and 'tabindex="-1"' in trap.group(1)


def test_a_browser_post_gets_a_thank_you_page_with_the_reference_and_the_status_link(client, svc):
    for encoding in ("urlencoded", "multipart"):
        response = submit(client, {**ADA, "email": f"ada.{encoding}@example.org", "website": ""}, encoding,
                          {"Accept": BROWSER_ACCEPT, "Origin": "null", "Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 202, response.body
        assert_strict_html(response)
        page = response.body.decode()
        reference = re.search(r"<strong>(R[0-9A-Z]{8})</strong>", page).group(1)
        link = re.search(r'follow it here: <a href="([^"]+)"', page).group(1)
        assert link.startswith("https://help.example.test/s/" + reference + "-")
        assert "Thanks for getting in touch, Ada Rider" in page and f"Your reference is {reference}" in page
        run_pipeline()
        assert svc.tickets.get(reference).reply_target.recipient == f"ada.{encoding}@example.org"


def test_a_browser_post_with_errors_gets_the_form_again_with_each_error_and_the_input(client):
    fields = {"name": "Ada <b>Rider</b>", "email": "not-an-address", "handle": "", "topic": "Refund", "message": ""}
    for encoding in ("urlencoded", "multipart"):
        response = submit(client, fields, encoding, {"Accept": BROWSER_ACCEPT})
        assert response.status_code == 422, response.body
        assert_strict_html(response)
        page = response.body.decode()
        assert "<b>" not in page and 'value="Ada &lt;b&gt;Rider&lt;/b&gt;"' in page  # kept, escaped
        assert 'value="not-an-address"' in page and 'value="Refund"' in page
        assert re.search(r'id="message-error">.*Must not be empty\.</span>', page)
        assert re.search(r'id="email-error">.*Must be a valid e-mail address', page)
        assert re.search(r'id="message"[^>]*aria-invalid="true"[^>]*aria-describedby="message-error"', page)
        assert 'id="name-error"' not in page
        assert '<a href="#message">Your message: Must not be empty.</a>' in page
    assert receive_all("responder-inbound") == []


def test_a_browser_post_of_a_file_shows_the_refusal_on_the_form(client):
    body, content_type = encode_multipart_formdata({
        "name": "Ada", "email": "ada@example.org", "message": "See attached",
        "attachment": ("ticket.pdf", b"%PDF", "application/pdf")})
    response = client.http.post("/contact", body=body, headers={"Content-Type": content_type,
                                                                "Accept": BROWSER_ACCEPT})
    assert response.status_code == 422
    page = response.body.decode()
    assert "Attachments are not accepted here." in page and 'value="Ada"' in page and "See attached" in page


def test_json_clients_keep_json_whatever_they_accept(client):
    response = submit(client, ADA, "json", {"Accept": BROWSER_ACCEPT})
    assert response.status_code == 202 and set(response.json_body) == {"reference", "status_url"}
    for accept in ("*/*", "application/json", "application/json, text/html"):
        response = submit(client, {**ADA, "message": ""}, "urlencoded", {"Accept": accept})
        assert response.status_code == 422 and response.json_body["details"][0]["field"] == "message"


def test_a_honeypot_hit_gets_the_thank_you_page_without_a_link_and_nothing_is_queued(client):
    response = submit(client, {**ADA, "website": "http://spam.example"}, "urlencoded", {"Accept": BROWSER_ACCEPT})
    assert response.status_code == 202
    page = response.body.decode()
    assert re.search(r"<strong>R[0-9A-Z]{8}</strong>", page) and "/s/" not in page
    assert receive_all("responder-inbound") == []


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"},
                                     {"Referer": "https://evil.example/contact"}])
def test_a_cross_site_post_is_refused(client, headers):
    page = submit(client, ADA, "urlencoded", {"Accept": BROWSER_ACCEPT, **headers})
    assert page.status_code == 403
    assert_strict_html(page)
    assert "sent from another site" in page.body.decode()
    as_json = submit(client, ADA, "json", headers)
    assert as_json.status_code == 403 and "another site" in as_json.json_body["error"]
    assert receive_all("responder-inbound") == []
    same = {"Origin": "https://help.example.test", "Referer": "https://help.example.test/contact",
            "Sec-Fetch-Site": "same-origin"}
    assert submit(client, ADA, "urlencoded", {"Accept": BROWSER_ACCEPT, **same}).status_code == 202


def test_the_rate_limit_is_shown_on_the_form_with_the_input_kept(svc, client):
    svc.settings = svc.settings.model_copy(update={"form_per_address_per_hour": 1})
    assert submit(client, ADA, "urlencoded", {"Accept": BROWSER_ACCEPT}).status_code == 202
    response = submit(client, ADA, "urlencoded", {"Accept": BROWSER_ACCEPT})
    assert response.status_code == 429
    page = html.unescape(response.body.decode())
    assert "Too many messages from this address; please try again in an hour." in page
    assert "I was charged twice" in page


FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PART = st.builds(lambda name, value, filename: (
    f'--b\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode() + value + b"\r\n"),
    st.sampled_from(["name", "email", "message", "handle", "topic", "website", "", 'x"y']),
    st.binary(max_size=60) | st.text(max_size=60).map(str.encode),
    st.sampled_from(["", '; filename="a.txt"', '; filename=""']))


@FUZZ
@given(body=st.binary(max_size=400) | st.lists(PART, max_size=6).map(lambda parts: b"".join(parts) + b"--b--\r\n"),
       content_type=st.sampled_from(["multipart/form-data; boundary=b", "multipart/form-data",
                                     "multipart/form-data; boundary=\"b\"; charset=utf-8",
                                     "application/x-www-form-urlencoded"]),
       accept=st.sampled_from(["*/*", BROWSER_ACCEPT]))
def test_fuzzed_form_posts_never_fail_with_a_5xx(client, body, content_type, accept):
    response = client.http.post("/contact", body=body, headers={"Content-Type": content_type, "Accept": accept})
    assert response.status_code in (202, 400, 413, 422), response.body
