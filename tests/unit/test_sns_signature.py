"""SNS message signatures checked in pure Python: the signing certificate's RSA key read from its DER (RFC 5280,
RFC 8017), the signature with ``rsa``, and the hash the SignatureVersion names (1 = SHA-1, 2 = SHA-256) insisted on.
Certificates and signatures are made here with cryptography (a test dependency)."""
from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, padding, rsa

from chalicelib.channels import email as em
from tests.helpers import SNS_CERT_URL as CERT_URL
from tests.helpers import sns_certificate, sns_signed

TOPIC = "arn:aws:sns:eu-west-2:123456789012:inbound-mail"
certificate = sns_certificate


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(key) -> bytes:
    return certificate(key)


def notification(text: str = '{"notificationType": "Received"}') -> dict:
    return {"Type": "Notification", "MessageId": "6bb1bf6e-7c1d-5d3e-9b0a-2d1f3c5a7e11", "TopicArn": TOPIC,
            "Subject": "Amazon SES Email Receipt Notification", "Message": text,
            "Timestamp": "2026-11-25T10:00:00.000Z",
            "UnsubscribeURL": "https://sns.eu-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"}


def confirmation() -> dict:
    return {"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a9886", "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": f"https://sns.eu-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}",
            "Timestamp": "2026-11-25T09:00:00.000Z"}


sign = sns_signed


def fetch(pem: bytes):
    return lambda url: pem


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("make", [notification, confirmation])
def test_signed_messages_verify_with_either_signature_version(key, pem, version, make):
    assert em.verify_sns_message(sign(make(), key, version), fetch(pem)) is True


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("field, value", [("Message", '{"notificationType": "Bounce"}'), ("TopicArn", TOPIC + "x"),
                                          ("Timestamp", "2026-11-25T10:00:00.001Z"), ("MessageId", "x"),
                                          ("Subject", "Re: hello"), ("Type", "UnsubscribeConfirmation")])
def test_tampered_messages_do_not_verify(key, pem, version, field, value):
    message = sign(notification(), key, version)
    message[field] = value
    assert em.verify_sns_message(message, fetch(pem)) is False


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_tampered_signature_does_not_verify(key, pem, version):
    message = sign(notification(), key, version)
    raw = bytearray(base64.b64decode(message["Signature"]))
    raw[100] ^= 0x40
    assert em.verify_sns_message(dict(message, Signature=base64.b64encode(bytes(raw)).decode()), fetch(pem)) is False
    longer = base64.b64encode(bytes(1) + base64.b64decode(message["Signature"])).decode()
    assert em.verify_sns_message(dict(message, Signature=longer), fetch(pem)) is False


def test_sha1_signature_where_version_2_requires_sha256_is_rejected(key, pem):
    assert em.verify_sns_message(sign(notification(), key, "2", hashes.SHA1()), fetch(pem)) is False


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA512(), hashes.SHA384()])
def test_another_hash_where_version_1_requires_sha1_is_rejected(key, pem, algorithm):
    assert em.verify_sns_message(sign(notification(), key, "1", algorithm), fetch(pem)) is False


def test_pss_signature_is_rejected(key, pem):
    message = dict(notification(), SignatureVersion="2", SigningCertURL=CERT_URL)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    message["Signature"] = base64.b64encode(key.sign(em.string_to_sign(message), pss, hashes.SHA256())).decode()
    assert em.verify_sns_message(message, fetch(pem)) is False


def test_certificate_key_is_read_from_the_pem(key, pem):
    numbers = key.public_key().public_numbers()
    assert em.certificate_rsa_key(pem) == (numbers.n, numbers.e)


def test_pem_with_crlf_text_around_and_a_chain_uses_the_first_certificate(key, pem):
    other = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    bundle = b"Subject: sns\r\n" + pem.replace(b"\n", b"\r\n") + other
    assert em.certificate_rsa_key(bundle) == em.certificate_rsa_key(pem)
    assert em.verify_sns_message(sign(notification(), key, "2"), fetch(bundle)) is True
    assert em.verify_sns_message(sign(notification(), key, "2"), fetch(pem.decode())) is True  # type: ignore[arg-type]


def test_a_certificate_signed_by_an_ec_issuer_still_yields_its_rsa_key(key):
    """Only the subject's key matters; the issuer's signature algorithm is not read."""
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = certificate(key, signer=ec.generate_private_key(ec.SECP256R1()))
    assert em.verify_sns_message(sign(notification(), key, "1"), fetch(pem)) is True


@pytest.mark.parametrize("make_key", [lambda: ed25519.Ed25519PrivateKey.generate(),
                                      lambda: dsa.generate_private_key(key_size=2048)])
def test_certificates_without_an_rsa_key_are_rejected(key, make_key):
    other = make_key()
    pem = certificate(other, signer=key)
    with pytest.raises(ValueError, match="not RSA"):
        em.certificate_rsa_key(pem)
    assert em.verify_sns_message(sign(notification(), key, "2"), fetch(pem)) is False


def test_a_certificate_with_a_1024_bit_key_is_rejected():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert em.verify_sns_message(sign(notification(), small, "2"), fetch(certificate(small))) is False


@pytest.mark.parametrize("mangle", [
    lambda pem: pem[:60] + b"!" + pem[61:],
    lambda pem: pem.replace(b"-----END CERTIFICATE-----", b""),
    lambda pem: pem.replace(b"CERTIFICATE", b"PUBLIC KEY"),
    lambda pem: pem[:200] + pem[240:],
    lambda pem: b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b"\x30\x03\x02\x01\x01")
    + b"-----END CERTIFICATE-----\n",
    lambda pem: b"\x00" * 64,
])
def test_garbled_certificates_are_rejected(key, pem, mangle):
    with pytest.raises(ValueError):
        em.certificate_rsa_key(mangle(pem))
    assert em.verify_sns_message(sign(notification(), key, "2"), fetch(mangle(pem))) is False


def test_der_with_trailing_bytes_is_rejected(key, pem):
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER) + b"\x00\x00"
    body = base64.encodebytes(der)
    with pytest.raises(ValueError):
        em.certificate_rsa_key(b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n")


def test_any_cut_or_flipped_byte_is_read_or_refused_never_an_error_of_another_kind(key, pem):
    """The DER walk over every truncation and a flipped byte at every offset of a real certificate: its key, or
    ValueError (a verification that is "not verified", never a crash)."""
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    expected = em.certificate_rsa_key(pem)

    def read(data: bytes) -> tuple[int, int] | None:
        wrapped = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(data) + b"-----END CERTIFICATE-----\n"
        try:
            return em.certificate_rsa_key(wrapped)
        except ValueError:
            return None

    assert all(read(der[:cut]) is None for cut in range(len(der)))
    readings = [read(der[:at] + bytes([der[at] ^ 0xFF]) + der[at + 1:]) for at in range(len(der))]
    assert expected in readings and all(r is None or isinstance(r, tuple) for r in readings)


@pytest.mark.parametrize("url", [
    "https://sns.eu-west-\u0662.amazonaws.com/SimpleNotificationService-abc.pem",  # an Arabic-Indic digit
    "https://sns.eu-west-2.amazonaws.com/Simple\tNotificationService-abc.pem",  # urlsplit drops the tab
    "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-abc.pem\n",
    "https://sns.eu-west-2.amazonaws.com/Simple NotificationService.pem",
])
def test_a_certificate_url_is_exactly_the_ascii_sns_pattern(url):
    assert em.is_valid_sns_url(CERT_URL, require_pem=True)
    assert not em.is_valid_sns_url(url, require_pem=True)
