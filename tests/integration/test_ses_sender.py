"""SesSender against moto's SES v2: the raw MIME message lands with the right threading headers."""
from __future__ import annotations

import email
from email.policy import default as default_policy
from unittest.mock import MagicMock

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.channels.base import OutboundMessage, SendError
from chalicelib.channels.ses import SesSender, reply_subject

REGION = "us-east-1"
FROM = "Brand Care <care@brand.example>"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SESV2", raising=False)
    with mock_aws():
        yield boto3.client("sesv2", region_name=REGION)


@pytest.fixture
def verified(aws):
    aws.create_email_identity(EmailIdentity="care@brand.example")
    return aws


def sent_messages():
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def parse(raw: str):
    return email.message_from_string(raw, policy=default_policy)


def test_reply_lands_in_ses_with_threading_headers(verified):
    sender = SesSender(FROM, client=verified)

    result = sender.send(
        OutboundMessage(
            channel="email",
            recipient="carla@example.org",
            text="Hello Carla,\nwe're offline until 07:00 (Europe/London). Ref T-42.\n",
            in_reply_to="CAF=abc123@mail.example.org",
            subject="Refund for cancelled train",
        )
    )

    messages = sent_messages()
    assert len(messages) == 1
    stored = messages[0]
    assert result.external_id == stored.id
    assert stored.source == FROM
    assert "carla@example.org" in stored.destinations

    mime = parse(stored.raw_data)
    assert mime["From"] == FROM
    assert mime["To"] == "carla@example.org"
    assert mime["Subject"] == "Re: Refund for cancelled train"
    assert mime["In-Reply-To"] == "<CAF=abc123@mail.example.org>"
    assert mime["References"] == "<CAF=abc123@mail.example.org>"
    assert mime["Message-ID"].endswith("@brand.example>")
    assert mime["Date"]
    assert mime.get_content_type() == "text/plain"
    assert "offline until 07:00" in mime.get_content()


def test_no_second_re_and_no_threading_without_parent(verified):
    SesSender(FROM, client=verified).send(
        OutboundMessage(channel="email", recipient="a@example.org", text="Thanks!", subject="RE: booking 123")
    )

    mime = parse(sent_messages()[0].raw_data)
    assert mime["Subject"] == "RE: booking 123"
    assert mime["In-Reply-To"] is None
    assert mime["References"] is None


def test_references_chain_and_non_ascii_body(verified):
    SesSender(FROM, client=verified).send(
        OutboundMessage(
            channel="email",
            recipient="jose@example.org",
            text="Hola José, volvemos a las 07:00 — gracias.",
            in_reply_to="<m2@example.org>",
            subject="Señal",
            extra={"references": "<m0@example.org> <m1@example.org>", "auto_reply": True},
        )
    )

    mime = parse(sent_messages()[0].raw_data)
    assert mime["References"] == "<m0@example.org> <m1@example.org> <m2@example.org>"
    assert mime["In-Reply-To"] == "<m2@example.org>"
    assert mime["Subject"] == "Re: Señal"
    assert mime["Auto-Submitted"] == "auto-replied"
    assert mime.get_content().strip() == "Hola José, volvemos a las 07:00 — gracias."


def test_idempotency_key_gives_a_stable_message_id():
    sender = SesSender(FROM, client=MagicMock())
    message = OutboundMessage(channel="email", recipient="a@example.org", text="t", idempotency_key="ack#email#1")
    assert sender.build(message)["Message-ID"] == sender.build(message)["Message-ID"]
    other = OutboundMessage(channel="email", recipient="a@example.org", text="t", idempotency_key="ack#email#2")
    assert sender.build(message)["Message-ID"] != sender.build(other)["Message-ID"]


def test_default_client_and_configuration_set(verified):
    verified.create_configuration_set(ConfigurationSetName="replies")
    sender = SesSender("care@brand.example", configuration_set="replies")  # builds its own sesv2 client

    result = sender.send(OutboundMessage(channel="email", recipient="b@example.org", text="hi", subject="Q"))

    assert result.external_id == sent_messages()[0].id


def test_unverified_sender_is_not_retryable(aws):
    sender = SesSender("nobody@unverified.example", client=aws)

    with pytest.raises(SendError) as info:
        sender.send(OutboundMessage(channel="email", recipient="a@example.org", text="secret body", subject="s"))

    assert info.value.retryable is False
    assert "secret body" not in str(info.value)
    assert sent_messages() == []


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "nope"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail"
    )


@pytest.mark.parametrize(
    "error, retryable",
    [
        (_client_error("TooManyRequestsException", 429), True),
        (_client_error("Throttling", 400), True),
        (_client_error("InternalFailure", 500), True),
        (_client_error("ServiceUnavailable", 503), True),
        (_client_error("MessageRejected", 400), False),
        (_client_error("AccountSuspendedException", 400), False),
        (_client_error("SendingPausedException", 400), False),
        (EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"), True),
    ],
)
def test_error_mapping(error, retryable):
    client = MagicMock()
    client.send_email.side_effect = error

    with pytest.raises(SendError) as info:
        SesSender(FROM, client=client).send(OutboundMessage(channel="email", recipient="a@example.org", text="t"))

    assert info.value.retryable is retryable


def test_configuration_set_is_passed_and_raw_bytes_sent():
    client = MagicMock()
    client.send_email.return_value = {"MessageId": "0100-abc"}

    result = SesSender(FROM, client=client, configuration_set="replies").send(
        OutboundMessage(channel="email", recipient="a@example.org", text="t", subject="")
    )

    assert result.external_id == "0100-abc"
    kwargs = client.send_email.call_args.kwargs
    assert kwargs["ConfigurationSetName"] == "replies"
    assert kwargs["FromEmailAddress"] == FROM
    assert isinstance(kwargs["Content"]["Raw"]["Data"], bytes)
    assert b"Subject: Re: your message" in kwargs["Content"]["Raw"]["Data"]


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage(channel="x", recipient="a@example.org", text="t"),
        OutboundMessage(channel="email", recipient="", text="t"),
        OutboundMessage(channel="email", recipient="not-an-address", text="t"),
    ],
)
def test_bad_messages_fail_without_a_call(message):
    client = MagicMock()
    with pytest.raises(SendError) as info:
        SesSender(FROM, client=client).send(message)
    assert info.value.retryable is False
    client.send_email.assert_not_called()


@pytest.mark.parametrize(
    "subject, expected",
    [("Hello", "Re: Hello"), ("Re: Hello", "Re: Hello"), ("re:Hello", "re:Hello"), ("", "Re: your message"),
     ("  multi\n line ", "Re: multi line")],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject) == expected
