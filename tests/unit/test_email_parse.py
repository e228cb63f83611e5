"""SES inbound mail delivered by SNS: signature verification and MIME parsing."""
from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import email as em
from chalicelib.domain.mention import Mention
from tests.helpers import SNS_CERT_URL as CERT_URL
from tests.helpers import sns_certificate, sns_signed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:inbound-mail"


# --------------------------------------------------------------------------------------------------
# test PKI
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def cert_pem(key) -> bytes:
    return sns_certificate(key)


@pytest.fixture(scope="module")
def other_cert_pem() -> bytes:
    return sns_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))


class Fetcher:
    def __init__(self, pem: bytes):
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.pem


sign = sns_signed


def notification(message: str = "{}", subject: str | None = "Amazon SES Email Receipt Notification") -> dict:
    body = {
        "Type": "Notification",
        "MessageId": "6bb1bf6e-7c1d-5d3e-9b0a-2d1f3c5a7e11",
        "TopicArn": TOPIC,
        "Message": message,
        "Timestamp": "2024-06-01T22:40:13.123Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }
    if subject is not None:
        body["Subject"] = subject
    return body


def confirmation(kind: str = "SubscriptionConfirmation") -> dict:
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": (
            "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad"
            "02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c"
            "03b0879594eeac82c01f235d0e717736"
        ),
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\n"
                   "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37",
        "Timestamp": "2024-06-01T20:00:00.000Z",
    }


# --------------------------------------------------------------------------------------------------
# string_to_sign
# --------------------------------------------------------------------------------------------------


def test_string_to_sign_notification_order_and_format():
    msg = notification("hello", subject="Subj")
    assert em.string_to_sign(msg) == (
        "Message\nhello\n"
        "MessageId\n6bb1bf6e-7c1d-5d3e-9b0a-2d1f3c5a7e11\n"
        "Subject\nSubj\n"
        "Timestamp\n2024-06-01T22:40:13.123Z\n"
        f"TopicArn\n{TOPIC}\n"
        "Type\nNotification\n"
    ).encode()


def test_string_to_sign_notification_without_subject():
    assert b"Subject" not in em.string_to_sign(notification("hello", subject=None))


def test_string_to_sign_subscription():
    msg = confirmation()
    keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    assert em.string_to_sign(msg) == "".join(f"{k}\n{msg[k]}\n" for k in keys).encode()


def test_string_to_sign_unsubscribe_uses_subscription_fields():
    assert b"Token\n" in em.string_to_sign(confirmation("UnsubscribeConfirmation"))


def test_string_to_sign_ignores_unsigned_fields():
    msg = notification("hi")
    extra = dict(msg, UnsubscribeURL="https://elsewhere", Signature="x", SignatureVersion="1")
    assert em.string_to_sign(msg) == em.string_to_sign(extra)


def test_string_to_sign_unicode():
    assert "Zoë 🚆".encode() in em.string_to_sign(notification("Zoë 🚆"))


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: m.update(Type="Other"), "unknown SNS message Type"),
        (lambda m: m.pop("Type"), "unknown SNS message Type"),
        (lambda m: m.pop("MessageId"), "MessageId"),
        (lambda m: m.update(Message=None), "Message"),
        (lambda m: m.update(Timestamp=123), "Timestamp"),
    ],
)
def test_string_to_sign_rejects_bad_messages(mutate, match):
    msg = notification("hi")
    mutate(msg)
    with pytest.raises(ValueError, match=match):
        em.string_to_sign(msg)


def test_string_to_sign_subscription_requires_token():
    msg = confirmation()
    del msg["Token"]
    with pytest.raises(ValueError, match="Token"):
        em.string_to_sign(msg)


# --------------------------------------------------------------------------------------------------
# verify_sns_message
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_valid_notification(key, cert_pem, version):
    fetch = Fetcher(cert_pem)
    assert em.verify_sns_message(sign(notification("hello"), key, version), fetch) is True
    assert fetch.urls == [CERT_URL]


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_valid_confirmations(key, cert_pem, version, kind):
    assert em.verify_sns_message(sign(confirmation(kind), key, version), Fetcher(cert_pem)) is True


def test_valid_without_subject(key, cert_pem):
    assert em.verify_sns_message(sign(notification("x", subject=None), key), Fetcher(cert_pem)) is True


def test_china_region_host(key, cert_pem):
    msg = dict(notification("x"), SigningCertURL="https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem")
    assert em.verify_sns_message(sign(msg, key), Fetcher(cert_pem)) is True


@pytest.mark.parametrize(
    "field, value",
    [
        ("Message", "hello!"),
        ("MessageId", "other"),
        ("Subject", "other"),
        ("Timestamp", "2024-06-01T22:40:14.123Z"),
        ("TopicArn", "arn:aws:sns:eu-west-1:999999999999:evil"),
    ],
)
def test_tampered_field(key, cert_pem, field, value):
    msg = sign(notification("hello"), key)
    msg[field] = value
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_adding_subject_after_signing_fails(key, cert_pem):
    msg = sign(notification("hello", subject=None), key)
    msg["Subject"] = "injected"
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_tampered_subscribe_url(key, cert_pem):
    msg = sign(confirmation(), key)
    msg["SubscribeURL"] = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=evil"
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_signed_with_other_key(key, other_cert_pem):
    assert em.verify_sns_message(sign(notification("hello"), key), Fetcher(other_cert_pem)) is False


def test_version_mismatch_fails(key, cert_pem):
    msg = sign(notification("hello"), key, "1")
    msg["SignatureVersion"] = "2"
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


@pytest.mark.parametrize("version", [None, "", "3", "0", 1, 2, "v2"])
def test_unknown_signature_version(key, cert_pem, version):
    msg = sign(notification("hello"), key)
    msg["SignatureVersion"] = version
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
        "https://evil.com/sns.eu-west-1.amazonaws.com/x.pem",
        "https://sns.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sqs.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://xsns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.txt",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1.txt",
        "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
        "https://user:pw@sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://evil.com@sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com:notaport/x.pem",
        "file:///etc/sns.eu-west-1.amazonaws.com.pem",
        "sns.eu-west-1.amazonaws.com/x.pem",
        "",
        None,
        42,
    ],
)
def test_bad_cert_url_is_never_fetched(key, cert_pem, url):
    msg = sign(dict(notification("hello"), SigningCertURL=url), key)
    fetch = Fetcher(cert_pem)
    assert em.verify_sns_message(msg, fetch) is False
    assert fetch.urls == []


def test_uppercase_host_allowed(key, cert_pem):
    url = "https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem"
    assert em.verify_sns_message(sign(dict(notification("x"), SigningCertURL=url), key), Fetcher(cert_pem)) is True


@pytest.mark.parametrize("signature", [None, "", "not base64!!", "QUJD", 123])
def test_bad_signature_value(key, cert_pem, signature):
    msg = sign(notification("hello"), key)
    msg["Signature"] = signature
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_missing_signed_field(key, cert_pem):
    msg = sign(notification("hello"), key)
    del msg["Timestamp"]
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_unknown_type(key, cert_pem):
    msg = sign(notification("hello"), key)
    msg["Type"] = "Surprise"
    assert em.verify_sns_message(msg, Fetcher(cert_pem)) is False


def test_fetch_failure_is_not_verified(key):
    def broken(url: str) -> bytes:
        raise OSError("network down")

    assert em.verify_sns_message(sign(notification("hello"), key), broken) is False


@pytest.mark.parametrize(
    "pem", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
)
def test_garbage_certificate(key, pem):
    assert em.verify_sns_message(sign(notification("hello"), key), Fetcher(pem)) is False


def test_non_rsa_certificate(key):
    fetcher = Fetcher(sns_certificate(ec.generate_private_key(ec.SECP256R1())))
    assert em.verify_sns_message(sign(notification("hello"), key), fetcher) is False


@pytest.mark.parametrize("message", [None, [], "x", {}])
def test_not_a_message(cert_pem, message):
    assert em.verify_sns_message(message, Fetcher(cert_pem)) is False


def test_json_roundtrip_of_signed_message(key, cert_pem):
    """What arrives over HTTP is JSON text; unicode and newlines survive."""
    msg = sign(notification(json.dumps({"content": "Grüße\r\nline two 🚆"})), key)
    assert em.verify_sns_message(json.loads(json.dumps(msg)), Fetcher(cert_pem)) is True


# --------------------------------------------------------------------------------------------------
# subscription handshake
# --------------------------------------------------------------------------------------------------


def test_is_subscription_confirmation():
    assert em.is_subscription_confirmation(confirmation()) is True
    assert em.is_subscription_confirmation(confirmation("UnsubscribeConfirmation")) is False
    assert em.is_subscription_confirmation(notification()) is False
    assert em.is_subscription_confirmation({}) is False
    assert em.is_subscription_confirmation(None) is False  # type: ignore[arg-type]


def test_subscribe_url_valid():
    assert em.subscribe_url(confirmation()).startswith("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription")


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://evil.example.com/?Action=ConfirmSubscription",
        "https://sns.eu-west-1.amazonaws.com.evil.com/?Action=ConfirmSubscription",
        "https://attacker@sns.eu-west-1.amazonaws.com:444/",
        "",
        None,
    ],
)
def test_subscribe_url_rejected(url):
    msg = confirmation()
    msg["SubscribeURL"] = url
    with pytest.raises(ValueError, match="SubscribeURL"):
        em.subscribe_url(msg)


def test_subscribe_url_missing():
    with pytest.raises(ValueError):
        em.subscribe_url({"Type": "SubscriptionConfirmation"})


# --------------------------------------------------------------------------------------------------
# parse_sns_notification
# --------------------------------------------------------------------------------------------------


RECEIVED = "2024-06-03T22:40:12.345Z"
RECEIVED_AT = datetime(2024, 6, 3, 22, 40, 12, 345000, tzinfo=timezone.utc)


def ses(
    raw: bytes,
    *,
    encoding: str = "BASE64",
    spam: str = "PASS",
    virus: str = "PASS",
    received: str = RECEIVED,
    **overrides,
) -> dict:
    content = base64.b64encode(raw).decode() if encoding == "BASE64" else raw.decode("utf-8")
    body = {
        "notificationType": "Received",
        "mail": {
            "timestamp": received,
            "source": "jane.rider@example.org",
            "messageId": "4v1mn5l0gq2ivu4lfkr0sq8bo0thdn5uf4orgq01",
            "destination": ["help@support.example.com"],
            "headersTruncated": False,
            "commonHeaders": {"from": ["Jane Rider <jane.rider@example.org>"], "subject": "x"},
        },
        "receipt": {
            "timestamp": received,
            "processingTimeMillis": 420,
            "recipients": ["Help@Support.example.com"],
            "spamVerdict": {"status": spam},
            "virusVerdict": {"status": virus},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": TOPIC, "encoding": encoding},
        },
        "content": content,
    }
    body.update(overrides)
    return notification(json.dumps(body))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def build(
    body: str = "Hello there",
    *,
    headers: dict[str, str] | None = None,
    subtype: str = "plain",
) -> bytes:
    msg = EmailMessage()
    base = {
        "From": "Jane Rider <jane.rider@example.org>",
        "To": "help@support.example.com",
        "Subject": "Help",
        "Date": "Sat, 01 Jun 2024 23:40:05 +0100",
        "Message-ID": "<abc-123@example.org>",
    }
    base.update(headers or {})
    for name, value in base.items():
        if value is not None:
            msg[name] = value
    msg.set_content(body, subtype=subtype)
    return msg.as_bytes()


def parse_one(raw: bytes, **kwargs) -> Mention:
    mentions = em.parse_sns_notification(ses(raw, **kwargs))
    assert len(mentions) == 1
    return mentions[0]


def test_plain_fixture():
    m = parse_one(fixture("plain.eml"))
    assert m.channel == "email"
    assert m.visibility == "private"
    assert m.external_id == "CAF=k2Yx0q8d+V1m@mail.example.org"
    assert m.conversation_id == m.external_id
    assert m.reply_to == ""
    assert m.author_id == m.author_handle == "jane.rider@example.org"
    assert m.author_name == "Jane Rider"
    assert m.subject == "Refund for cancelled 23:10 Leeds - York"
    assert m.text == (
        "Hello,\n\nMy train (23:10 Leeds → York, booking ABC123) was cancelled tonight and I had to take a taxi. "
        "How do I claim the fare back?\n\nThanks,\nJane"
    )
    assert "+44 7700" not in m.text  # signature removed
    assert m.created_at == datetime(2024, 6, 1, 22, 40, 5, tzinfo=timezone.utc)
    assert m.created_at.tzinfo is timezone.utc
    assert m.language == "en-GB"
    assert m.extra["ses_message_id"] == "4v1mn5l0gq2ivu4lfkr0sq8bo0thdn5uf4orgq01"
    assert m.extra["recipients"] == ["help@support.example.com"]
    assert m.extra["references"] == []
    assert m.key == "email#CAF=k2Yx0q8d+V1m@mail.example.org"


def test_reply_with_quote_fixture():
    m = parse_one(fixture("reply_with_quote.eml"))
    assert m.text == "Thanks for the quick reply. The taxi receipt is £48.50, I can send a photo."
    assert m.external_id == "CAF=k2Yx9z-reply2@mail.example.org"
    assert m.reply_to == "0102018fd2a1b2c3-ack-0001@eu-west-1.amazonses.com"
    assert m.conversation_id == "CAF=k2Yx0q8d+V1m@mail.example.org"  # first id in References
    assert m.extra["references"] == [
        "CAF=k2Yx0q8d+V1m@mail.example.org",
        "0102018fd2a1b2c3-ack-0001@eu-west-1.amazonses.com",
    ]
    assert m.created_at == datetime(2024, 6, 2, 8, 12, 44, tzinfo=timezone.utc)
    assert m.extra["received_at"] == RECEIVED_AT.isoformat()


def test_reply_date_after_receipt_is_clamped_to_receipt_time():
    # the fixture is dated 2 June 08:12 UTC; here SES received it on 1 June: a future Date cannot jump the queue
    m = parse_one(fixture("reply_with_quote.eml"), received="2024-06-01T22:40:12.345Z")
    assert m.created_at == datetime(2024, 6, 1, 22, 40, 12, 345000, tzinfo=timezone.utc)


def test_html_only_fixture():
    m = parse_one(fixture("html_only.eml"))
    assert m.text == (
        "Bonjour,\n\nMon train de 06:40 avait 2 heures de retard & je voudrais un remboursement.\n\nMerci\nRenée"
    )
    assert "alert" not in m.text and "color" not in m.text and "ancien message" not in m.text
    assert m.author_name == "Renée Dupont"
    assert m.author_id == "renee@exemple.fr"
    assert m.subject == "Retard du train — remboursement"
    assert m.created_at == datetime(2024, 6, 3, 5, 15, tzinfo=timezone.utc)


def test_auto_reply_fixture():
    assert em.parse_sns_notification(ses(fixture("auto_reply.eml"))) == []


def test_utf8_encoded_content():
    m = parse_one(fixture("plain.eml"), encoding="UTF8")
    assert m.external_id == "CAF=k2Yx0q8d+V1m@mail.example.org"
    m = parse_one(fixture("html_only.eml"), encoding="UTF8")
    assert "Renée" in m.text


def test_encoding_defaults_to_utf8_when_action_missing():
    envelope = ses(build("hello"), encoding="UTF8")
    body = json.loads(envelope["Message"])
    del body["receipt"]["action"]
    [m] = em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))
    assert m.text == "hello"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; type=vacation"},
        {"Auto-Submitted": "Auto-Notified"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Vacation"},
        {"Precedence": "bulk"},
        {"Precedence": "JUNK"},
        {"Precedence": "list"},
        {"Precedence": "auto_reply"},
        {"From": "MAILER-DAEMON@mx.example.org"},
        {"From": "Mail Delivery System <postmaster@example.org>"},
        {"From": "no-reply@shop.example"},
        {"From": "Shop <noreply@shop.example>"},
    ],
)
def test_automatic_mail_is_dropped(headers):
    assert em.parse_sns_notification(ses(build("I am away", headers=headers))) == []


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "no"}, {"Auto-Submitted": "No"}, {"Precedence": "normal"},
                                     {"From": "reply@example.org"}])
def test_not_automatic(headers):
    assert parse_one(build("real message", headers=headers)).text == "real message"


def test_delivery_status_report_is_dropped():
    msg = EmailMessage()
    msg["From"] = "Mail Delivery Subsystem <bounces@example.org>"
    msg["To"] = "help@support.example.com"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<dsn-1@example.org>"
    msg.set_content("This is the mail system.")
    msg.add_attachment("Reporting-MTA: dns; mx.example.org", subtype="delivery-status")
    msg.replace_header("Content-Type", msg["Content-Type"].replace("multipart/mixed", "multipart/report"))
    assert em.parse_sns_notification(ses(msg.as_bytes())) == []


@pytest.mark.parametrize("kind", ["Bounce", "Complaint", "Delivery", "AmazonSnsSubscriptionSucceeded"])
def test_non_received_notifications_dropped(kind):
    envelope = ses(build())
    body = json.loads(envelope["Message"])
    body["notificationType"] = kind
    assert em.parse_sns_notification(dict(envelope, Message=json.dumps(body))) == []


def test_event_publishing_shape_uses_event_type():
    envelope = notification(json.dumps({"eventType": "Bounce", "bounce": {}, "mail": {}}))
    assert em.parse_sns_notification(envelope) == []


@pytest.mark.parametrize("spam, virus", [("FAIL", "PASS"), ("PASS", "FAIL"), ("fail", "PASS")])
def test_spam_or_virus_fail_dropped(spam, virus):
    assert em.parse_sns_notification(ses(build(), spam=spam, virus=virus)) == []


@pytest.mark.parametrize("status", ["GRAY", "PROCESSING_FAILED", "DISABLED"])
def test_other_verdicts_kept(status):
    assert parse_one(build(), spam=status, virus=status).text == "Hello there"


def test_quoted_lines_and_gmail_header_removed():
    body = (
        "Yes please, refund to the same card.\n"
        "\n"
        "On Sat, 1 Jun 2024 at 23:45, Customer Help <help@support.example.com> wrote:\n"
        "> Would you like a refund?\n"
        ">\n"
        "> Thanks\n"
    )
    assert parse_one(build(body)).text == "Yes please, refund to the same card."


def test_inline_quotes_removed_but_answers_kept():
    body = "> What is your booking reference?\nABC123\n> And the date?\n1 June\n"
    assert parse_one(build(body)).text == "ABC123\n1 June"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----\nFrom: Help\nSent: Saturday",
        "________________________________\nFrom: Customer Help <help@support.example.com>\nSent: 01 June 2024 23:45",
        "Le sam. 1 juin 2024 à 23:45, Service <help@support.example.com> a écrit :\n> old",
        "Am Sa., 1. Juni 2024 um 23:45 Uhr schrieb Service <help@support.example.com>:\n> alt",
        "On Sat, 1 Jun 2024 at 23:45, Customer Help <help@\nsupport.example.com> wrote:\n> old",
    ],
)
def test_reply_history_separators(separator):
    assert parse_one(build(f"New text here.\n\n{separator}\nold history\n")).text == "New text here."


def test_signature_removed():
    assert parse_one(build("Please call me.\n-- \nJane\nACME Ltd\n")).text == "Please call me."


def test_only_quote_falls_back_to_full_text():
    body = "> Would you like a refund?\n"
    assert parse_one(build(body)).text == "> Would you like a refund?"


def test_empty_body_falls_back_to_subject():
    m = parse_one(build("\n\n", headers={"Subject": "Where is my refund?"}))
    assert m.text == "Where is my refund?"


def test_empty_body_and_subject():
    m = parse_one(build("", headers={"Subject": None}))
    assert m.text == "" and m.subject == ""


def test_multipart_prefers_plain():
    msg = EmailMessage()
    msg["From"] = "jane@example.org"
    msg["Message-ID"] = "<alt@example.org>"
    msg["Date"] = "Sat, 01 Jun 2024 20:00:00 +0000"
    msg.set_content("plain version")
    msg.add_alternative("<p>html version</p>", subtype="html")
    assert parse_one(msg.as_bytes()).text == "plain version"


def test_blank_plain_part_falls_back_to_html():
    msg = EmailMessage()
    msg["From"] = "jane@example.org"
    msg["Message-ID"] = "<alt2@example.org>"
    msg.set_content("   \n")
    msg.add_alternative("<div>Only <b>html</b> here&nbsp;&#x1F686;</div>", subtype="html")
    assert parse_one(msg.as_bytes()).text == "Only html here 🚆"


def test_attachments_do_not_become_text():
    msg = EmailMessage()
    msg["From"] = "jane@example.org"
    msg["Message-ID"] = "<att@example.org>"
    msg.set_content("See attached receipt.")
    msg.add_attachment(b"%PDF-1.4 binary", maintype="application", subtype="pdf", filename="receipt.pdf")
    assert parse_one(msg.as_bytes()).text == "See attached receipt."


def test_latin1_and_unknown_charset():
    raw = (
        b"From: jane@example.org\r\nMessage-ID: <l1@example.org>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xfc\xdfe aus K\xf6ln\r\n"
    )
    assert parse_one(raw).text == "Grüße aus Köln"
    weird = raw.replace(b"iso-8859-1", b"x-unknown-charset")
    assert "aus K" in parse_one(weird).text


def test_reply_to_header_noted():
    m = parse_one(build(headers={"Reply-To": "Jane <Jane.Private@Example.net>"}))
    assert m.extra["reply_to_address"] == "jane.private@example.net"
    assert m.author_id == "jane.rider@example.org"


def test_from_encoded_word_and_uppercase():
    m = parse_one(build(headers={"From": "=?UTF-8?B?5bCP5p6X?= <XIAO.LIN@Example.CN>"}))
    assert m.author_name == "小林"
    assert m.author_id == "xiao.lin@example.cn"


def test_missing_from_uses_common_headers_then_source():
    m = parse_one(build(headers={"From": None}))
    assert m.author_id == "jane.rider@example.org"
    assert m.author_name == "Jane Rider"
    envelope = ses(build(headers={"From": None}))
    body = json.loads(envelope["Message"])
    body["mail"]["commonHeaders"] = {}
    body["mail"]["source"] = "Envelope@Example.org"
    [m] = em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))
    assert m.author_id == "envelope@example.org"


def test_no_sender_at_all_raises():
    envelope = ses(build(headers={"From": "undisclosed-recipients:;"}))
    body = json.loads(envelope["Message"])
    body["mail"]["commonHeaders"] = {}
    body["mail"]["source"] = ""
    with pytest.raises(ValueError, match="From address"):
        em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))


def test_message_id_without_brackets_and_missing():
    assert parse_one(build(headers={"Message-ID": "bare-id@example.org"})).external_id == "bare-id@example.org"
    m = parse_one(build(headers={"Message-ID": None}))
    assert m.external_id == "ses-4v1mn5l0gq2ivu4lfkr0sq8bo0thdn5uf4orgq01"
    assert m.conversation_id == m.external_id


def test_in_reply_to_without_references():
    m = parse_one(build(headers={"In-Reply-To": "<parent@example.org>"}))
    assert m.reply_to == "parent@example.org"
    assert m.conversation_id == "parent@example.org"


@pytest.mark.parametrize("date", [None, "not a date", "Sat, 32 Foo 2024 99:99:99 +0000", ""])
def test_bad_or_missing_date_falls_back_to_mail_timestamp(date):
    m = parse_one(build(headers={"Date": date}))
    assert m.created_at == RECEIVED_AT


def test_date_without_zone_is_utc():
    m = parse_one(build(headers={"Date": "Sat, 01 Jun 2024 20:00:00 -0000"}))
    assert m.created_at == datetime(2024, 6, 1, 20, 0, tzinfo=timezone.utc)


def test_no_time_anywhere_raises():
    envelope = ses(build(headers={"Date": None}))
    body = json.loads(envelope["Message"])
    del body["mail"]["timestamp"]
    del body["receipt"]["timestamp"]
    with pytest.raises(ValueError, match="Date"):
        em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))


def test_text_capped():
    m = parse_one(build("x" * 30_000))
    assert len(m.text) == em.MAX_TEXT_CHARS
    assert m.extra["truncated"] is True


def test_unicode_body():
    text = "Zug fällt aus 🚆\n列车取消了\nالقطار ألغي"
    assert parse_one(build(text)).text == text


def test_subject_whitespace_collapsed():
    raw = build().replace(b"Subject: Help", b"Subject: Refund\r\n please   now")
    m = parse_one(raw)
    assert m.subject == "Refund please now"


def test_mention_round_trips():
    m = parse_one(fixture("reply_with_quote.eml"))
    assert Mention.from_dict(json.loads(json.dumps(m.to_dict()))) == m


# malformed ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "envelope, match",
    [
        (None, "JSON object"),
        ([], "JSON object"),
        ({"Type": "SubscriptionConfirmation", "Message": "{}"}, "expected an SNS Notification"),
        ({"Type": "Notification"}, "'Message'"),
        ({"Type": "Notification", "Message": 5}, "'Message'"),
        ({"Type": "Notification", "Message": "not json"}, "not JSON"),
        ({"Type": "Notification", "Message": "[1]"}, "JSON object"),
        ({"Type": "Notification", "Message": "{}"}, "notificationType"),
        ({"Type": "Notification", "Message": '{"notificationType": 3}'}, "notificationType"),
        ({"Type": "Notification", "Message": '{"notificationType": "Received"}'}, "'mail'"),
        ({"Type": "Notification", "Message": '{"notificationType": "Received", "mail": []}'}, "'mail'"),
        ({"Type": "Notification", "Message": '{"notificationType": "Received", "mail": {}}'}, "'content'"),
        ({"Type": "Notification", "Message": '{"notificationType": "Received", "mail": {}, "content": 7}'},
         "'content'"),
        ({"Type": "Notification", "Message": "[" * 100_000}, "not JSON"),
    ],
)
def test_malformed_notifications(envelope, match):
    with pytest.raises(ValueError, match=match):
        em.parse_sns_notification(envelope)


def test_s3_action_without_content_has_clear_message():
    envelope = ses(build())
    body = json.loads(envelope["Message"])
    del body["content"]
    body["receipt"]["action"] = {"type": "S3", "bucketName": "mail", "objectKey": "abc"}
    with pytest.raises(ValueError, match="SNS action, not S3"):
        em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))


def test_invalid_base64_content():
    envelope = ses(build())
    body = json.loads(envelope["Message"])
    body["content"] = "%%% not base64 %%%"
    with pytest.raises(ValueError, match="base64"):
        em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))


def test_base64_with_line_breaks_accepted():
    raw = base64.encodebytes(build("wrapped")).decode()  # 76-char lines
    envelope = ses(build())
    body = json.loads(envelope["Message"])
    body["content"] = raw
    [m] = em.parse_sns_notification(dict(envelope, Message=json.dumps(body)))
    assert m.text == "wrapped"


def test_garbage_mime_still_parses_or_raises_value_error():
    for raw in [b"", b"\x00\x01\x02", b"From: \r\n\r\n", b"Subject: only\r\n\r\nbody",
                b"From: a@b.c\r\nContent-Type: multipart/mixed\r\n\r\nno boundary"]:
        try:
            mentions = em.parse_sns_notification(ses(raw))
        except ValueError:
            continue
        for m in mentions:
            assert isinstance(m, Mention)


def test_parse_does_not_mutate_input():
    envelope = ses(fixture("plain.eml"))
    before = copy.deepcopy(envelope)
    em.parse_sns_notification(envelope)
    assert envelope == before


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(raw):
    try:
        mentions = em.parse_sns_notification(ses(raw))
    except ValueError:
        return
    for m in mentions:
        assert m.created_at.utcoffset().total_seconds() == 0
        assert len(m.text) <= em.MAX_TEXT_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_strip_quoted_removes_quote_lines(text):
    stripped = em.strip_quoted(text)
    assert all(not line.strip().startswith(">") for line in stripped.split("\n"))
    assert stripped == stripped.strip()


def test_html_to_text_handles_broken_markup():
    assert em.html_to_text("<p>Hello <b>there</p><div>unclosed") == "Hello there\n\nunclosed"
    assert em.html_to_text("") == ""
    assert isinstance(em.html_to_text("<<<>>>&&&<script>never closed"), str)
