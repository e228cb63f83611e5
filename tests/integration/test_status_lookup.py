"""The status lookup, GET and POST /status, through the real Chalice route against moto: a public X reply carries
no link (links.no_url_in_public), so the customer finds their status page with their reference and handle."""
from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_pipeline
from tests.helpers import ticket_of, tweet_event, x_body, x_headers

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOT_FOUND_TEXT = "We could not find a request with that reference and handle or e-mail address"


def header(response, name: str) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower(), "")


def tweeted(client, svc, clock, tweet_id="7001", handle="pat_rail", user_id="555") -> str:
    """A complaint tweeted on Sunday night: the ticket's reference (its acknowledgement carries no link)."""
    body = x_body(tweet_event(tweet_id, "@MeridianRail my train was cancelled and there is no replacement bus, awful",
                              at=clock.now(), user_id=user_id, handle=handle))
    assert client.http.post("/webhooks/x", body=body, headers=x_headers(body)).status_code == 200
    run_pipeline()
    return ticket_of(svc, f"x#{tweet_id}")


def post(client, body, headers=None):
    data = body if isinstance(body, bytes | str) else urlencode(body)
    return client.http.post("/status", body=data, headers={**FORM, **(headers or {})})


def assert_strict_html(response) -> None:
    assert header(response, "content-type").startswith("text/html")
    csp = header(response, "content-security-policy")
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    assert header(response, "cache-control") == "no-store"
    assert header(response, "referrer-policy") == "no-referrer"
    assert "noindex" in header(response, "x-robots-tag")
    assert header(response, "x-content-type-options") == "nosniff"
    assert "<script" not in response.body.decode()


def test_the_ack_has_no_link_and_the_lookup_leads_to_the_status_page(client, svc, clock):
    ticket_id = tweeted(client, svc, clock)
    [ack] = client.http.get("/local/outbox").json_body["messages"]
    assert ticket_id in ack["text"] and "http" not in ack["text"] and "status page of our website" in ack["text"]

    form = client.http.get("/status")
    assert form.status_code == 200
    assert_strict_html(form)
    assert 'name="reference"' in form.body.decode() and 'name="who"' in form.body.decode()

    response = post(client, {"reference": ticket_id, "who": "@pat_rail"})
    assert response.status_code == 303
    location = header(response, "location")
    assert location == svc.links.url(ticket_id) and f"/s/{ticket_id}-" in location
    assert header(response, "cache-control") == "no-store" and header(response, "referrer-policy") == "no-referrer"
    page = client.http.get(location.removeprefix("https://help.example.test"))
    assert page.status_code == 200 and ticket_id in page.body.decode()


def test_wrong_handle_unknown_reference_and_malformed_input_get_the_same_404(client, svc, clock):
    ticket_id = tweeted(client, svc, clock)
    tweeted(client, svc, clock, tweet_id="7002", handle="someone_else", user_id="556")
    bodies = [{"reference": ticket_id, "who": "@someone_else"}, {"reference": "R00000000", "who": "@pat_rail"},
              {"reference": ticket_id}, {"who": "@pat_rail"}, {"reference": "<script>", "who": "<b>x</b>"},
              b"", b"%%%\xff\xfe", b"reference=" + b"R" * 5000, "reference=" + ticket_id + "&who=%00pat_rail"]
    answers = [post(client, body) for body in bodies]
    assert {a.status_code for a in answers} == {404}
    assert len({a.body for a in answers}) == 1  # the same page whatever was wrong
    assert NOT_FOUND_TEXT in answers[0].body.decode() and ticket_id not in answers[0].body.decode()
    assert "<script>" not in answers[4].body.decode() and "<b>x</b>" not in answers[4].body.decode()
    assert_strict_html(answers[0])


def test_lookups_that_find_nothing_are_rate_limited_per_client(client, svc, clock):
    ticket_id = tweeted(client, svc, clock)
    for _ in range(12):  # finding one's own request never counts
        assert post(client, {"reference": ticket_id, "who": "@pat_rail"}).status_code == 303
    for _ in range(svc.settings.status_lookup_misses_per_hour):
        assert post(client, {"reference": ticket_id, "who": "@nobody"}).status_code == 404
    refused = post(client, {"reference": ticket_id, "who": "@pat_rail"})
    assert refused.status_code == 429 and "try again in an hour" in refused.body.decode()
    assert_strict_html(refused)
    clock.advance(minutes=60)
    assert post(client, {"reference": ticket_id, "who": "@pat_rail"}).status_code == 303


def test_a_cross_site_post_is_refused(client, svc, clock):
    ticket_id = tweeted(client, svc, clock)
    form = {"reference": ticket_id, "who": "@pat_rail"}
    assert post(client, form, {"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post(client, form, {"Origin": "https://evil.example"}).status_code == 403
    same = {"Origin": "https://help.example.test", "Sec-Fetch-Site": "same-origin"}
    assert post(client, form, same).status_code == 303


FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(body=st.one_of(st.binary(max_size=600),
                      st.dictionaries(st.sampled_from(["reference", "who", "x", "reference[]"]),
                                      st.text(max_size=80), max_size=4).map(urlencode)),
       content_type=st.sampled_from(["application/x-www-form-urlencoded",
                                     "application/x-www-form-urlencoded; charset=utf-8"]))
def test_fuzzed_lookups_never_fail_with_a_5xx(client, body, content_type):
    response = client.http.post("/status", body=body, headers={"Content-Type": content_type})
    assert response.status_code in (303, 404, 429), response.body
