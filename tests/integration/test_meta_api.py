"""MetaSender against a fake Graph API (``responses``): URL, form body and error mapping."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests
import responses

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.meta_api import MetaSender

TOKEN = "EAAB-page-token-secret"
GRAPH = "https://graph.facebook.com/v21.0"
PAGE_ID = "104000000000001"
IG_ID = "17841400000000001"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sender() -> MetaSender:
    return MetaSender(TOKEN)


def form(call) -> dict[str, str]:
    parsed = parse_qs(call.request.body if isinstance(call.request.body, str) else call.request.body.decode())
    return {key: values[0] for key, values in parsed.items()}


def assert_token_only_in_body(call) -> None:
    assert TOKEN not in call.request.url
    assert form(call)["access_token"] == TOKEN


def graph_error(code: int, message: str = "error", *, subcode: int | None = None, transient: bool = False) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf",
             "is_transient": transient}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# -- routing --------------------------------------------------------------------------------


def test_facebook_public_reply_comments_on_the_comment(rsps, sender):
    rsps.post(f"{GRAPH}/{PAGE_ID}_555/comments", json={"id": f"{PAGE_ID}_777"})

    result = sender.send(
        OutboundMessage(
            channel="facebook",
            recipient="6100000001",
            text="Sorry about this. Ref T-1",
            in_reply_to=f"{PAGE_ID}_555",
            extra={"page_id": PAGE_ID},
        )
    )

    assert result.external_id == f"{PAGE_ID}_777"
    call = rsps.calls[0]
    assert call.request.url == f"{GRAPH}/{PAGE_ID}_555/comments"
    assert form(call)["message"] == "Sorry about this. Ref T-1"
    assert_token_only_in_body(call)


def test_facebook_private_reply_messages_the_comment_author(rsps, sender):
    rsps.post(f"{GRAPH}/{PAGE_ID}/messages", json={"recipient_id": "6100000001", "message_id": "m_abc"})

    result = sender.send(
        OutboundMessage(
            channel="facebook",
            recipient="6100000001",
            text="Could you send us your booking reference?",
            in_reply_to=f"{PAGE_ID}_555",
            private=True,
            extra={"page_id": PAGE_ID, "comment_id": f"{PAGE_ID}_555"},
        )
    )

    assert result.external_id == "m_abc"
    call = rsps.calls[0]
    body = form(call)
    assert json.loads(body["recipient"]) == {"comment_id": f"{PAGE_ID}_555"}
    assert json.loads(body["message"]) == {"text": "Could you send us your booking reference?"}
    assert_token_only_in_body(call)


def test_messenger_reply_uses_psid_and_response_type(rsps, sender):
    rsps.post(f"{GRAPH}/{PAGE_ID}/messages", json={"recipient_id": "2400000001", "message_id": "m_def"})

    result = sender.send(
        OutboundMessage(
            channel="messenger", recipient="2400000001", text="We're back at 07:00.", private=True,
            extra={"page_id": PAGE_ID},
        )
    )

    assert result.external_id == "m_def"
    body = form(rsps.calls[0])
    assert json.loads(body["recipient"]) == {"id": "2400000001"}
    assert body["messaging_type"] == "RESPONSE"
    assert json.loads(body["message"]) == {"text": "We're back at 07:00."}
    assert_token_only_in_body(rsps.calls[0])


def test_messenger_without_page_id_uses_me(rsps, sender):
    rsps.post(f"{GRAPH}/me/messages", json={"recipient_id": "2400000001", "message_id": "m_x"})

    sender.send(OutboundMessage(channel="messenger", recipient="2400000001", text="hi"))

    assert rsps.calls[0].request.url == f"{GRAPH}/me/messages"


def test_instagram_public_reply_replies_to_comment(rsps, sender):
    rsps.post(f"{GRAPH}/17900000000000001/replies", json={"id": "17900000000000002"})

    result = sender.send(
        OutboundMessage(
            channel="instagram", recipient="9000001", text="Thanks, we're on it.",
            in_reply_to="17900000000000001", extra={"ig_id": IG_ID},
        )
    )

    assert result.external_id == "17900000000000002"
    assert form(rsps.calls[0])["message"] == "Thanks, we're on it."
    assert_token_only_in_body(rsps.calls[0])


def test_instagram_private_message_goes_to_the_account(rsps, sender):
    rsps.post(f"{GRAPH}/{IG_ID}/messages", json={"recipient_id": "9000001", "message_id": "aWdf"})

    result = sender.send(
        OutboundMessage(
            channel="instagram", recipient="9000001", text="Please DM us details.", private=True,
            extra={"ig_id": IG_ID, "page_id": PAGE_ID},
        )
    )

    assert result.external_id == "aWdf"
    body = form(rsps.calls[0])
    assert json.loads(body["recipient"]) == {"id": "9000001"}
    assert json.loads(body["message"]) == {"text": "Please DM us details."}


def test_custom_version_base_url_and_session():
    session = requests.Session()
    sender = MetaSender(TOKEN, graph_version="v19.0", session=session, base_url="http://graph.local:9000/")
    with responses.RequestsMock() as rsps:
        rsps.post("http://graph.local:9000/v19.0/c1/comments", json={"id": "r1"})
        message = OutboundMessage(channel="facebook", recipient="u", text="t", in_reply_to="c1")
        assert sender.send(message).external_id == "r1"


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage(channel="facebook", recipient="u", text="t"),  # no comment id
        OutboundMessage(channel="instagram", recipient="u", text="t"),  # no comment id
        OutboundMessage(channel="messenger", recipient="", text="t"),  # no PSID
        OutboundMessage(channel="email", recipient="a@example.com", text="t"),  # wrong channel
    ],
)
def test_missing_ids_fail_without_a_call(rsps, sender, message):
    with pytest.raises(SendError) as info:
        sender.send(message)
    assert info.value.retryable is False
    assert len(rsps.calls) == 0


# -- errors ---------------------------------------------------------------------------------

REPLY = OutboundMessage(channel="facebook", recipient="u", text="private text", in_reply_to="c1")


@pytest.mark.parametrize(
    "status, body, retryable",
    [
        (429, {}, True),
        (400, graph_error(4, "Application request limit reached"), True),
        (400, graph_error(17, "User request limit reached"), True),
        (400, graph_error(32, "Page request limit reached"), True),
        (400, graph_error(613, "Calls to this api have exceeded the rate limit."), True),
        (400, graph_error(80001, "There have been too many calls to this Page account."), True),
        (500, graph_error(2, "An unexpected error has occurred. Please retry your request later.", transient=True),
         True),
        (502, {}, True),
        (503, "Service Unavailable", True),
        (400, graph_error(100, "Invalid parameter"), False),
        (400, graph_error(10, "This message is sent outside of allowed window.", subcode=2018278), False),
        (403, graph_error(200, "Permissions error"), False),
        (404, graph_error(803, "Some of the aliases you requested do not exist"), False),
    ],
)
def test_error_mapping(rsps, sender, status, body, retryable):
    if isinstance(body, dict):
        rsps.post(f"{GRAPH}/c1/comments", status=status, json=body)
    else:
        rsps.post(f"{GRAPH}/c1/comments", status=status, body=body)

    with pytest.raises(SendError) as info:
        sender.send(REPLY)

    assert info.value.retryable is retryable
    assert TOKEN not in str(info.value)
    assert "private text" not in str(info.value)


def test_expired_token_is_not_retryable_and_never_echoes_the_token(rsps, sender):
    rsps.post(
        f"{GRAPH}/c1/comments",
        status=400,
        json=graph_error(190, f"Error validating access token: the token {TOKEN} has expired", subcode=463),
    )

    with pytest.raises(SendError) as info:
        sender.send(REPLY)

    assert info.value.retryable is False
    assert TOKEN not in str(info.value)
    assert "190/463" in str(info.value)


def test_rate_limit_retry_after_from_business_usage_header(rsps, sender):
    usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 10, "total_time": 10,
                        "estimated_time_to_regain_access": 7}]}
    rsps.post(
        f"{GRAPH}/c1/comments",
        status=400,
        json=graph_error(80001, "There have been too many calls to this Page account."),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(SendError) as info:
        sender.send(REPLY)

    assert info.value.retryable is True
    assert info.value.retry_after == 420.0


def test_retry_after_header(rsps, sender):
    rsps.post(f"{GRAPH}/c1/comments", status=429, body="", headers={"Retry-After": "30"})
    with pytest.raises(SendError) as info:
        sender.send(REPLY)
    assert info.value.retry_after == 30.0


def test_error_in_a_200_body_is_an_error(rsps, sender):
    rsps.post(f"{GRAPH}/c1/comments", status=200, json=graph_error(100, "Invalid parameter"))
    with pytest.raises(SendError) as info:
        sender.send(REPLY)
    assert info.value.retryable is False


@pytest.mark.parametrize("exc", [requests.ConnectionError("reset"), requests.Timeout("slow")])
def test_network_errors_are_retryable(rsps, sender, exc):
    rsps.post(f"{GRAPH}/c1/comments", body=exc)
    with pytest.raises(SendError) as info:
        sender.send(REPLY)
    assert info.value.retryable is True
    assert TOKEN not in str(info.value)


def test_repr_hides_the_token(sender):
    assert TOKEN not in repr(sender)


def test_empty_token_is_refused():
    with pytest.raises(ValueError):
        MetaSender("")
