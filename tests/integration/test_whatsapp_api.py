"""WhatsAppSender against a fake Cloud API (``responses``): URL, headers and JSON body of text replies, template
messages and read receipts; every error code's mapping; the token only ever in the Authorization header."""
from __future__ import annotations

import json

import pytest
import requests
import responses

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.whatsapp_api import WhatsAppSender
from chalicelib.domain.outbound import READ_RECEIPT

TOKEN = "EAAG-system-user-token-secret"
GRAPH = "https://graph.facebook.com/v21.0"
DEFAULT_NUMBER = "106540352242922"
OTHER_NUMBER = "106540352242999"
WA_ID = "447700900123"
WAMID_IN = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQ0FGRTg5RjM2"
WAMID_OUT = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSQjk5RDQ0QjY3"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sender() -> WhatsAppSender:
    return WhatsAppSender(TOKEN, phone_number_id=DEFAULT_NUMBER)


def reply(text: str = "Sorry about the delay. Ref T-1", **extra: object) -> OutboundMessage:
    return OutboundMessage(channel="whatsapp", recipient=WA_ID, text=text, in_reply_to=WAMID_IN, private=True,
                           idempotency_key="reply#T-1#1", extra=dict(extra), kind="reply")


def accepted() -> dict:
    return {"messaging_product": "whatsapp", "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
            "messages": [{"id": WAMID_OUT}]}


def cloud_error(code: int, message: str = "error", *, details: str = "", status: int = 400) -> dict:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def sent_body(call) -> dict:
    return json.loads(call.request.body)


def assert_token_only_in_header(call) -> None:
    assert TOKEN not in call.request.url
    body = call.request.body.decode() if isinstance(call.request.body, bytes) else call.request.body
    assert TOKEN not in body
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- what is sent ------------------------------------------------------------------------------------------------


def test_text_reply_answers_the_customers_message_in_context(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json=accepted())

    result = sender.send(reply())

    assert result.external_id == WAMID_OUT
    call = rsps.calls[0]
    assert call.request.url == f"{GRAPH}/{DEFAULT_NUMBER}/messages"
    assert call.request.headers["Content-Type"] == "application/json"
    assert_token_only_in_header(call)
    assert sent_body(call) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "text",
        "text": {"body": "Sorry about the delay. Ref T-1", "preview_url": False},
        "context": {"message_id": WAMID_IN}}


def test_a_message_without_a_customer_message_to_answer_has_no_context(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json=accepted())

    sender.send(OutboundMessage(channel="whatsapp", recipient=WA_ID, text="Hello", kind="reply"))

    assert "context" not in sent_body(rsps.calls[0])


def test_the_number_the_customer_wrote_to_sends_the_answer(rsps, sender):
    rsps.post(f"{GRAPH}/{OTHER_NUMBER}/messages", json=accepted())

    sender.send(reply(phone_number_id=OTHER_NUMBER))

    assert rsps.calls[0].request.url == f"{GRAPH}/{OTHER_NUMBER}/messages"


def test_template_message_sends_the_approved_template_with_its_parameters(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json=accepted())
    template = {"name": "case_update", "language": "en_GB", "category": "utility",
                "parameters": ["Sam", "T-1", "your refund was approved"]}

    result = sender.send(reply("Hello Sam, about your case T-1: your refund was approved.",
                               whatsapp_template=template))

    assert result.external_id == WAMID_OUT
    body = sent_body(rsps.calls[0])
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
        "template": {"name": "case_update", "language": {"code": "en_GB"},
                     "components": [{"type": "body", "parameters": [
                         {"type": "text", "text": "Sam"}, {"type": "text", "text": "T-1"},
                         {"type": "text", "text": "your refund was approved"}]}]},
        "context": {"message_id": WAMID_IN}}
    assert "text" not in body  # the rendered preview is for the records, never sent


def test_template_without_parameters_has_no_components(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json=accepted())

    sender.send(reply(whatsapp_template={"name": "hello_world", "language": "en_US", "category": "utility",
                                         "parameters": []}))

    assert sent_body(rsps.calls[0])["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


def test_read_receipt_marks_the_customers_message_read(rsps, sender):
    rsps.post(f"{GRAPH}/{OTHER_NUMBER}/messages", json={"success": True})
    receipt = OutboundMessage(channel="whatsapp", recipient=WA_ID, text="", in_reply_to=WAMID_IN,
                              idempotency_key=f"read#whatsapp#{WAMID_IN}", extra={"phone_number_id": OTHER_NUMBER},
                              kind=READ_RECEIPT)

    result = sender.send(receipt)

    assert result.external_id == WAMID_IN
    call = rsps.calls[0]
    assert call.request.url == f"{GRAPH}/{OTHER_NUMBER}/messages"
    assert_token_only_in_header(call)
    assert sent_body(call) == {"messaging_product": "whatsapp", "status": "read", "message_id": WAMID_IN}


@pytest.mark.parametrize("message, reason", [
    (OutboundMessage(channel="whatsapp", recipient="", text="hi"), "wa_id"),
    (OutboundMessage(channel="whatsapp", recipient=WA_ID, text="   "), "needs text"),
    (OutboundMessage(channel="whatsapp", recipient=WA_ID, text="", kind=READ_RECEIPT), "id of the customer's"),
    (OutboundMessage(channel="whatsapp", recipient=WA_ID, text="x", extra={"whatsapp_template": {"name": "a"}}),
     "language"),
    (OutboundMessage(channel="whatsapp", recipient=WA_ID, text="x",
                     extra={"whatsapp_template": {"name": "a", "language": "en", "parameters": "Sam"}}),
     "list of texts"),
    (OutboundMessage(channel="whatsapp", recipient=WA_ID, text="x", extra={"phone_number_id": "12/../34"}),
     "digits"),
    (OutboundMessage(channel="messenger", recipient=WA_ID, text="x"), "cannot send on channel"),
])
def test_a_message_that_cannot_be_sent_is_refused_before_any_request(rsps, sender, message, reason):
    with pytest.raises(SendError) as raised:
        sender.send(message)

    assert reason in str(raised.value)
    assert raised.value.retryable is False
    assert len(rsps.calls) == 0


def test_no_phone_number_id_anywhere_is_a_clear_refusal(rsps):
    with pytest.raises(SendError, match="WHATSAPP_PHONE_NUMBER_IDS"):
        WhatsAppSender(TOKEN).send(reply())
    assert len(rsps.calls) == 0


def test_a_sender_needs_a_token():
    with pytest.raises(ValueError):
        WhatsAppSender("")


def test_the_token_is_not_in_the_senders_repr(sender):
    assert TOKEN not in repr(sender)


# -- error mapping ---------------------------------------------------------------------------------------------


def test_reengagement_131047_is_final_with_a_reason_a_person_understands(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400, json=cloud_error(
        131047, "Re-engagement message", details="Message failed to send because more than 24 hours have passed "
                                                  "since the customer last replied to this number."))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is False
    assert "more than 24 hours have passed since the customer's last WhatsApp message" in str(raised.value)
    assert "approved template" in str(raised.value)


@pytest.mark.parametrize("code", [130429, 131048, 131056, 80007, 4])
def test_rate_limits_are_retried_later(rsps, sender, code):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400, json=cloud_error(code, "Rate limit hit"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is True
    assert raised.value.retry_after is not None and raised.value.retry_after > 0
    assert "rate limited" in str(raised.value)


def test_the_pair_rate_waits_six_seconds(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400, json=cloud_error(131056, "Pair rate limit hit"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retry_after == 6.0


def test_retry_after_header_is_honoured(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=429, json=cloud_error(130429),
              headers={"Retry-After": "17"})

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is True and raised.value.retry_after == 17.0


@pytest.mark.parametrize("status, code", [(500, None), (503, None), (500, 1), (500, 2), (400, 1), (400, 2),
                                          (500, 131000), (400, 131000)])
def test_meta_side_failures_are_retried(rsps, sender, status, code):
    payload = cloud_error(code, "Something went wrong") if code is not None else {}
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=status, json=payload)

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is True
    assert raised.value.outcome_unknown is False


@pytest.mark.parametrize("code, words", [
    (131026, "could not deliver"), (131051, "does not accept"), (100, "parameter"),
    (190, "access token is invalid or expired"),
    (132000, "template"), (132001, "template"), (132007, "template"), (132012, "template"), (132015, "template"),
])
def test_permanent_refusals_are_not_retried(rsps, sender, code, words):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400 if code != 190 else 401,
              json=cloud_error(code, "refused"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is False
    assert words in str(raised.value)


def test_a_permanent_code_is_final_even_with_a_5xx(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=500, json=cloud_error(131026, "Message undeliverable"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is False


def test_read_timeout_is_an_unknown_outcome(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.outcome_unknown is True
    assert raised.value.retryable is False


def test_connection_error_is_retried(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", body=requests.exceptions.ConnectionError("refused"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is True
    assert raised.value.outcome_unknown is False


def test_a_body_that_is_not_json_is_an_http_error(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=502, body="<html>Bad gateway</html>")

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert raised.value.retryable is True
    assert "HTTP 502" in str(raised.value)


@pytest.mark.parametrize("code", [190, 131047, 130429, 131000, 132001])
def test_the_token_never_appears_in_an_error_text(rsps, sender, code):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400, json=cloud_error(
        code, f"Invalid OAuth access token - Cannot parse access token {TOKEN}", details=f"token {TOKEN} rejected"))

    with pytest.raises(SendError) as raised:
        sender.send(reply())

    assert TOKEN not in str(raised.value)
    assert all(TOKEN not in call.request.url for call in rsps.calls)


# -- customers known by a username ------------------------------------------------------------------------------


def test_a_customer_known_only_by_a_business_scoped_user_id_is_addressed_by_recipient(rsps, sender):
    bsuid = "GB.1349120865"
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json={
        "messaging_product": "whatsapp", "contacts": [{"input": bsuid, "user_id": bsuid}],
        "messages": [{"id": WAMID_OUT}]})

    sender.send(OutboundMessage(channel="whatsapp", recipient="GB.1349120865", text="Thanks", in_reply_to=WAMID_IN,
                                extra={"user_id": "GB.1349120865"}, kind="reply"))

    body = sent_body(rsps.calls[0])
    assert body["recipient"] == "GB.1349120865" and "to" not in body


def test_the_phone_number_is_preferred_when_the_webhook_gave_one(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", json=accepted())

    sender.send(OutboundMessage(channel="whatsapp", recipient="GB.1349120865", text="Thanks",
                                extra={"wa_id": WA_ID, "user_id": "GB.1349120865"}, kind="reply"))

    body = sent_body(rsps.calls[0])
    assert body["to"] == WA_ID and "recipient" not in body


def test_a_message_a_username_customer_cannot_receive_is_final(rsps, sender):
    rsps.post(f"{GRAPH}/{DEFAULT_NUMBER}/messages", status=400, json=cloud_error(
        131062, "Business-scoped User ID recipients are not supported for this message"))

    with pytest.raises(SendError) as raised:
        sender.send(OutboundMessage(channel="whatsapp", recipient="GB.1349120865", text="x", kind="reply"))

    assert raised.value.retryable is False and "username" in str(raised.value)
