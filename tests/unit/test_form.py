"""Website contact form: validation, error reporting and the resulting mention."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.channels import form as f
from chalicelib.channels.form import MAX_FORM_BYTES, ContactForm, FormError, is_honeypot_spam, parse_form
from chalicelib.domain.mention import Mention

NOW = datetime(2024, 6, 1, 22, 40, 5, tzinfo=timezone.utc)
VALID = {
    "name": "Jane Rider",
    "email": "Jane.Rider@Example.org",
    "handle": "@jane_rides",
    "message": "My 23:10 train was cancelled. How do I claim a refund?",
    "topic": "Refunds",
}


def body(**changes) -> bytes:
    data = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()


def parse(raw: bytes, **kwargs) -> Mention:
    return parse_form(raw, submission_id="sub-0001", received_at=NOW, **kwargs)


def errors_of(raw: bytes, **kwargs) -> FormError:
    with pytest.raises(FormError) as caught:
        parse(raw, **kwargs)
    return caught.value


def fields(error: FormError) -> dict[str, str]:
    return {e["field"]: e["message"] for e in error.errors}


# --------------------------------------------------------------------------------------------------
# happy path
# --------------------------------------------------------------------------------------------------


def test_valid_submission():
    m = parse(body())
    assert m.channel == "form"
    assert m.visibility == "private"
    assert m.external_id == m.conversation_id == "sub-0001"
    assert m.author_id == "jane.rider@example.org"
    assert m.author_handle == "jane.rider@example.org"
    assert m.author_name == "Jane Rider"
    assert m.text == VALID["message"]
    assert m.subject == "Refunds"
    assert m.created_at == NOW and m.created_at.tzinfo is timezone.utc
    assert m.extra == {"handle": "jane_rides", "honeypot": False}
    assert m.key == "form#sub-0001"


def test_minimal_submission():
    m = parse(body(handle=..., topic=...))
    assert m.subject == ""
    assert m.extra["handle"] == ""


def test_strings_are_stripped():
    m = parse(body(name="  Jane  ", email="  JANE@EXAMPLE.ORG ", message="\n  hello \n", topic="  Refunds "))
    assert (m.author_name, m.author_id, m.text, m.subject) == ("Jane", "jane@example.org", "hello", "Refunds")


def test_multiline_message_kept():
    assert parse(body(message="line one\r\nline two\n\ttabbed")).text == "line one\r\nline two\n\ttabbed"


def test_received_at_is_converted_to_utc():
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    m = parse_form(body(), submission_id="s", received_at=local)
    assert m.created_at == NOW
    assert m.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("handle, expected", [("@jane", "jane"), ("jane", "jane"), ("J_1", "J_1"), ("a" * 30, "a" * 30),
                                              ("", ""), (None, "")])
def test_handles(handle, expected):
    assert parse(body(handle=handle)).extra["handle"] == expected


@pytest.mark.parametrize("topic", ["", None])
def test_empty_topic_is_none(topic):
    assert parse(body(topic=topic)).subject == ""


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x_y-z@xn--bcher-kva.example",
        ("a" * 64) + "@example.com",
        " jane@example.com\n",
        "info@xn--mller-kva.xn--p1ai",
    ],
)
def test_valid_emails(email):
    assert parse(body(email=email)).author_id == email.strip().lower()


def test_unicode_fields():
    m = parse(body(name="Zoë Ørsted 小林 🦊", message="Zug fällt aus 🚆 — 列车取消了 — القطار ألغي",
                   topic="Remboursement — été"))
    assert m.author_name == "Zoë Ørsted 小林 🦊"
    assert m.text == "Zug fällt aus 🚆 — 列车取消了 — القطار ألغي"
    assert m.subject == "Remboursement — été"


def test_message_limits_count_characters_not_bytes():
    message = "é" * 5000  # 10,000 bytes, 5,000 characters
    assert len(parse(body(message=message)).text) == 5000


def test_boundary_lengths_accepted():
    m = parse(body(name="n" * 100, message="m" * 5000, topic="t" * 100))
    assert len(m.author_name) == 100 and len(m.text) == 5000 and len(m.subject) == 100


def test_mention_round_trips():
    m = parse(body())
    assert Mention.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_content_type_with_charset():
    assert parse(body(), content_type="application/json; charset=utf-8").author_name == "Jane Rider"


def test_urlencoded_form():
    raw = urlencode({"name": "Jane", "email": "jane@example.org", "message": "a & b = c", "website": ""}).encode()
    m = parse(raw, content_type="application/x-www-form-urlencoded")
    assert m.text == "a & b = c"
    assert m.extra["honeypot"] is False


def test_urlencoded_repeated_field_rejected():
    raw = b"name=Jane&email=jane%40example.org&message=hi&message=again"
    err = errors_of(raw, content_type="application/x-www-form-urlencoded")
    assert err.kind == "invalid"
    assert fields(err) == {"message": "Must be given only once."}


def test_urlencoded_malformed():
    err = errors_of(b"name", content_type="application/x-www-form-urlencoded")
    assert err.kind == "malformed"


def test_unsupported_content_type():
    err = errors_of(body(), content_type="text/plain")
    assert err.kind == "unsupported"


# --------------------------------------------------------------------------------------------------
# honeypot
# --------------------------------------------------------------------------------------------------


def test_honeypot_filled_is_flagged_not_rejected():
    m = parse(body(website="http://cheap-pills.example"))
    assert m.extra["honeypot"] is True


@pytest.mark.parametrize("website, spam",
                         [(None, False), ("", False), ("   ", False), ("x", True), ("http://a.b", True)])
def test_is_honeypot_spam(website, spam):
    data = dict(VALID, website=website)
    assert is_honeypot_spam(ContactForm.model_validate(data)) is spam


def test_load_form_returns_model():
    model = f.load_form(body(website="spam"))
    assert isinstance(model, ContactForm)
    assert is_honeypot_spam(model)


# --------------------------------------------------------------------------------------------------
# 400 / 413 / 422
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"{", "not valid JSON"),
        (b"{'name': 'x'}", "not valid JSON"),
        (b"nul", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"name": "\xe9"}', "UTF-8"),
    ],
)
def test_malformed_body_is_400(raw, message):
    err = errors_of(raw)
    assert err.kind == "malformed"
    assert isinstance(err, ValueError)
    assert len(err.errors) == 1 and err.errors[0]["field"] == ""
    assert message in err.errors[0]["message"]


def test_deeply_nested_json_is_400():
    raw = b"[" * 8000 + b"]" * 8000
    assert len(raw) <= MAX_FORM_BYTES
    err = errors_of(raw)
    assert err.kind == "malformed"


def test_oversized_is_413_before_parsing():
    raw = b"{" + b" " * MAX_FORM_BYTES + b"}"  # not even valid JSON: size is checked first
    err = errors_of(raw)
    assert err.kind == "too_large"
    assert str(MAX_FORM_BYTES) in err.errors[0]["message"]


def test_exactly_at_limit_is_accepted_by_size_check():
    raw = body(message="x")
    raw = raw[:-1] + b" " * (MAX_FORM_BYTES - len(raw)) + b"}"
    assert len(raw) == MAX_FORM_BYTES
    assert parse(raw).text == "x"
    assert errors_of(raw + b" ").kind == "too_large"


def test_every_failing_field_is_reported():
    raw = json.dumps(
        {"name": "  ", "email": "not-an-email", "handle": "bad handle!", "message": " \n\t ", "topic": "t" * 101,
         "extra": 1}
    ).encode()
    err = errors_of(raw)
    assert err.kind == "invalid"
    assert set(fields(err)) == {"name", "email", "handle", "message", "topic", "extra"}
    assert fields(err)["name"] == "Must not be empty."
    assert fields(err)["message"] == "Must not be empty."
    assert fields(err)["topic"] == "Must be at most 100 characters."
    assert fields(err)["extra"] == "This field is not part of the form."
    assert "e-mail address" in fields(err)["email"]
    assert "handle" in fields(err)["handle"].lower()
    for e in err.errors:
        assert set(e) == {"field", "message"}
        assert e["message"][0].isupper() and e["message"].endswith(".")
        assert "pydantic" not in e["message"].lower() and "Value error" not in e["message"]


def test_missing_required_fields():
    err = errors_of(b"{}")
    assert err.kind == "invalid"
    assert fields(err) == {
        "name": "This field is required.",
        "email": "This field is required.",
        "message": "This field is required.",
    }


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", 123),
        ("name", ["Jane"]),
        ("name", None),
        ("email", {"a": 1}),
        ("message", 5.5),
        ("message", True),
        ("handle", 7),
        ("topic", []),
        ("website", 1),
    ],
)
def test_wrong_types_are_422(field, value):
    err = errors_of(body(**{field: value}))
    assert err.kind == "invalid"
    assert list(fields(err)) == [field]


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "n" * 101),
        ("message", "m" * 5001),
        ("topic", "t" * 101),
        ("email", ("a" * 64) + "@" + ("b" * 63 + ".") * 3 + "c" * 10),  # > 254
        ("email", ("a" * 65) + "@example.com"),  # local part > 64
        ("handle", "a" * 31),
    ],
)
def test_too_long_is_422(field, value):
    err = errors_of(body(**{field: value}))
    assert err.kind == "invalid"
    assert field in fields(err)


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "@example.com",
        "jane@",
        "jane@example",
        "jane@@example.com",
        "jane@exa mple.com",
        "jane example@example.com",
        ".jane@example.com",
        "jane.@example.com",
        "ja..ne@example.com",
        "jane@-example.com",
        "jane@example-.com",
        "jane@example..com",
        "jane@example.c0m1",
        "jöne@example.com",
        "jane@exämple.com",
        "Jane <jane@example.com>",
        "jane@example.com,bob@example.com",
        "",
    ],
)
def test_invalid_emails(email):
    assert "email" in fields(errors_of(body(email=email)))


@pytest.mark.parametrize("handle", ["@", "@@jane", "ja ne", "jane!", "jané", "#jane", "@jane@x"])
def test_invalid_handles(handle):
    assert "handle" in fields(errors_of(body(handle=handle)))


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "Jane\nBcc: victim@example.com"),
        ("name", "Jane\x00"),
        ("name", "Jane\u202eredloh"),
        ("topic", "Refunds\r\nX-Injected: 1"),
        ("message", "hello\x07bell"),
        ("message", "nul\x00byte"),
    ],
)
def test_control_characters_rejected(field, value):
    assert field in fields(errors_of(body(**{field: value})))


def test_message_may_contain_rtl_marks_and_zero_width_joiners():
    text = "\u200fمرحبا\u200f 👨\u200d👩\u200d👧"
    assert parse(body(message=text)).text == text


def test_form_error_is_value_error_with_readable_str():
    err = errors_of(b"{}")
    assert isinstance(err, ValueError)
    assert err.kind == "invalid"
    assert str(err).startswith("name: This field is required.")


def test_model_forbids_extra_fields_directly():
    with pytest.raises(ValidationError):
        ContactForm.model_validate(dict(VALID, admin=True))


def test_model_is_immutable():
    model = ContactForm.model_validate(VALID)
    with pytest.raises(ValidationError):
        model.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# caller errors
# --------------------------------------------------------------------------------------------------


def test_naive_received_at_is_a_programming_error():
    with pytest.raises(ValueError) as caught:
        parse_form(body(), submission_id="s", received_at=datetime(2024, 6, 1))
    assert not isinstance(caught.value, FormError)


def test_empty_submission_id_is_a_programming_error():
    with pytest.raises(ValueError) as caught:
        parse_form(body(), submission_id="", received_at=NOW)
    assert not isinstance(caught.value, FormError)


def test_raw_body_must_be_bytes():
    with pytest.raises(TypeError):
        parse_form(json.dumps(VALID), submission_id="s", received_at=NOW)  # type: ignore[arg-type]


def test_bytearray_accepted():
    assert parse(bytearray(body())).author_name == "Jane Rider"


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------


json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=200))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "email", "handle", "message", "topic", "website", "other"]),
        json_scalars,
        max_size=7,
    )
)
def test_any_json_object_gives_mention_or_form_error(data):
    raw = json.dumps(data).encode()
    try:
        m = parse(raw)
    except FormError as err:
        assert err.kind in ("malformed", "too_large", "invalid")
        assert err.errors and all(e["message"] for e in err.errors)
        return
    assert m.text and m.text == m.text.strip() and len(m.text) <= 5000
    assert m.author_id == m.author_id.lower()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_any_bytes_give_mention_or_form_error(raw):
    try:
        parse(raw)
    except FormError as err:
        assert err.kind in FormError.KINDS


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=300).filter(lambda s: s.strip()))
def test_any_printable_message_is_kept(text):
    try:
        m = parse(body(message=text))
    except FormError as err:
        assert set(fields(err)) == {"message"}  # only control characters are refused
        return
    assert m.text == text.strip()
