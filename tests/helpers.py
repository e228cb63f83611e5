"""Builders for platform-shaped payloads, signed as the platforms sign them."""
from __future__ import annotations

import json
from datetime import datetime, timezone

X_SECRET = "local-x-consumer-secret"
BRAND_X_ID = "1000000001"


def tweet_event(tweet_id: str, text: str, *, user_id: str = "555", handle: str = "", at: datetime,
                reply_to: str | None = None, followers: int = 120, extended: bool = False,
                for_user_id: str = BRAND_X_ID) -> dict:
    handle = handle or f"traveller{user_id}"  # one handle per account, as on X
    tweet = {
        "created_at": at.astimezone(timezone.utc).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": int(tweet_id), "id_str": tweet_id, "text": text[:140] if extended else text,
        "truncated": extended, "in_reply_to_status_id_str": reply_to, "lang": "en",
        "user": {"id": int(user_id), "id_str": user_id, "name": handle.title(), "screen_name": handle,
                 "followers_count": followers},
    }
    if extended:
        tweet["extended_tweet"] = {"full_text": text}
    return {"for_user_id": for_user_id, "tweet_create_events": [tweet]}


def x_body(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def x_headers(body: bytes, secret: str = X_SECRET) -> dict:
    from chalicelib.channels.x import sign

    return {"Content-Type": "application/json", "x-twitter-webhooks-signature": sign(secret, body)}


def a_ticket(ticket_id: str, at: datetime, **changes):
    """A waiting complaint on X of customer C1, for tests that need a ticket to exist (the outbox records sends on
    it)."""
    from chalicelib.domain.ticket import Ticket

    return Ticket(**{"ticket_id": ticket_id, "desk": "complaints", "priority": "normal", "intent": "complaint",
                     "channel": "x", "conversation_key": "x#1", "customer_id": "C1", "first_contact_at": at,
                     "last_customer_at": at, **changes})


def ticket_of(svc, mention_key: str) -> str | None:
    """The id of the ticket that holds a stored mention (following merges), found as an agent would: through its
    author's customer and their tickets."""
    stored = svc.mentions.get(mention_key)
    customer_id = svc.customers.lookup(stored.mention.identity_key) if stored is not None else None
    if customer_id is None:
        return None
    for ticket in svc.tickets.for_customer(customer_id):
        if mention_key in ticket.mention_keys:
            while ticket.merged_into:
                ticket = svc.tickets.get(ticket.merged_into)
            return ticket.ticket_id
    return None


def to_customers(svc) -> list[dict]:
    """Every message for customers: those sent (through the sandbox sender, oldest first) and those waiting on the
    outbox queue (in-memory queues)."""
    return [*reversed(svc.sandbox.recent()), *svc.queues.messages.get(svc.settings.outbox_queue, [])]


#: An SNS signing-certificate URL (the host and path shape SNS uses; the certificate itself is made by the tests).
SNS_CERT_URL = "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-6209c161c6221fdf56ec1eb5c821d112.pem"


def sns_certificate(key, signer=None) -> bytes:
    """A PEM certificate for ``key``'s public key, as SNS's signing certificate, signed by ``signer`` (``key``
    itself by default: self-signed)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(timezone.utc)
    signer = signer or key
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def sns_signed(message: dict, key, version: str = "2", algorithm=None) -> dict:
    """``message`` signed as SNS signs it (SignatureVersion 1: SHA-1, 2: SHA-256, unless ``algorithm``), its
    ``SigningCertURL`` kept if it has one."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from chalicelib.channels.email import string_to_sign

    signed = dict(message, SignatureVersion=version)
    signed.setdefault("SigningCertURL", SNS_CERT_URL)
    algorithm = algorithm or (hashes.SHA1() if version == "1" else hashes.SHA256())
    signed["Signature"] = base64.b64encode(key.sign(string_to_sign(signed), padding.PKCS1v15(), algorithm)).decode()
    return signed


def acknowledging(svc, channels: str) -> None:
    """Give ``svc`` the brand file it was built with, its ``triage.acknowledge.channels`` set to ``channels`` (YAML,
    e.g. ``"{bluesky: true}"``): parsed anew, so nothing derived from the old configuration (the compiled triage
    rules) is kept."""
    from pathlib import Path

    from chalicelib.configfile import parse_config

    text = Path(svc.settings.config_path).read_text(encoding="utf-8")
    changed = text.replace("\n  acknowledge:\n", f"\n  acknowledge:\n    channels: {channels}\n", 1)
    assert changed != text, "the brand file has no triage.acknowledge section"
    svc.config = parse_config(changed, source=svc.settings.config_path)


def queued(*mentions, received_at, source: str = "x") -> dict:
    """The inbound-queue message (envelope version 2) an entry point sends for ``mentions``."""
    from chalicelib.usecases.ingest import pack

    [envelope] = pack(list(mentions), source=source, received_at=received_at)
    return envelope.to_dict()
