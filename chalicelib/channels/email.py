"""Inbound e-mail: SES receives the mail, an SNS action posts it to our HTTPS endpoint.

Pure functions, no network (the signing certificate is fetched by an injected function):

* ``verify_sns_message`` checks the SNS signature (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA)
  against the certificate at ``SigningCertURL``, which must be an ``https://sns.<region>.amazonaws.com``
  ``.pem`` URL.
* ``is_subscription_confirmation`` / ``subscribe_url`` handle the one-time subscription handshake.
* ``parse_sns_notification`` turns the SES "Received" notification carried in the SNS ``Message`` into
  one ``Mention``, or none for bounces, complaints, auto-replies and mail SES marked as spam or virus.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any, NotRequired, TypedDict, TypeGuard
from urllib.parse import urlsplit

from chalicelib.channels.signatures import SHA1, SHA256, rsa_public_key, verify_pkcs1_v15
from chalicelib.domain import jsonvalue as jv
from chalicelib.domain.jsonvalue import JsonObject, is_object
from chalicelib.domain.mention import Mention

#: Longest text kept for one e-mail; the rest is cut (``extra["truncated"]`` says so).
MAX_TEXT_CHARS = 20_000

_SNS_HOST = re.compile(r"^sns\.[a-z]{2}(?:-[a-z]+)+-[0-9]+\.amazonaws\.com(?:\.cn)?$", re.ASCII)
#: Printable ASCII without spaces: what an SNS URL is made of (urlsplit would quietly drop a tab or a line break)
_URL_CHARACTERS = re.compile(r"[!-~]+", re.ASCII)

_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SUBSCRIPTION_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")

_AUTO_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply", "do_not_reply"}
)
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


class EmailExtra(TypedDict):
    """What an e-mail's ``Mention.extra`` carries: SES's id for it, the thread's Message-IDs (``References``), the
    addresses it was sent to, when SES received it, and, when present, a different ``Reply-To`` and whether the
    text was cut at ``MAX_TEXT_CHARS``."""

    ses_message_id: str
    references: list[str]
    recipients: list[str]
    received_at: str
    reply_to_address: NotRequired[str]
    truncated: NotRequired[bool]


# --------------------------------------------------------------------------------------------------
# SNS signature
# --------------------------------------------------------------------------------------------------


def is_valid_sns_url(url: object, *, require_pem: bool = False) -> TypeGuard[str]:
    """True for ``https://sns.<region>.amazonaws.com[.cn]/…`` with no credentials or port in it."""
    if not isinstance(url, str) or not _URL_CHARACTERS.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443):
        return False
    host = (parts.hostname or "").lower()
    if not _SNS_HOST.match(host):
        return False
    if require_pem and (not parts.path.endswith(".pem") or parts.query or parts.fragment):
        return False
    return True


def string_to_sign(message: object) -> bytes:
    """The canonical text SNS signs: ``Key\\nValue\\n`` for each signed key present, in AWS's order.

    Raises ``ValueError`` for an unknown ``Type`` or a missing/non-string required field.
    """
    if not is_object(message):
        raise ValueError("SNS message must be a JSON object")
    kind = message.get("Type")
    fields: tuple[str, ...]
    optional: set[str]
    if kind == "Notification":
        fields, optional = _NOTIFICATION_FIELDS, {"Subject"}
    elif kind in _SUBSCRIPTION_TYPES:
        fields, optional = _SUBSCRIPTION_FIELDS, set()
    else:
        raise ValueError(f"unknown SNS message Type {kind!r}")
    lines: list[str] = []
    for key in fields:
        value = message.get(key)
        if value is None and key in optional:
            continue
        if not isinstance(value, str):
            raise ValueError(f"SNS message field {key!r} is missing or not a string")
        lines.append(f"{key}\n{value}\n")
    return "".join(lines).encode("utf-8")


def verify_sns_message(message: object, fetch_cert: Callable[[str], bytes]) -> bool:
    """True only when ``message`` carries a valid SNS signature from an SNS-hosted certificate.

    False (never an exception) for: a certificate URL that is not https / not an SNS host / not a
    ``.pem``; a SignatureVersion other than "1" or "2"; a missing field; a signature that is not base64;
    a certificate that cannot be fetched or loaded or whose key is not RSA of 2048 to 8192 bits; a signature that
    does not verify, or that was made with another hash than the SignatureVersion names.
    """
    if not is_object(message):
        return False
    version = message.get("SignatureVersion")
    if version == "1":
        hash_name = SHA1
    elif version == "2":
        hash_name = SHA256
    else:
        return False
    cert_url = message.get("SigningCertURL")
    if not is_valid_sns_url(cert_url, require_pem=True):
        return False
    signature_b64 = message.get("Signature")
    if not isinstance(signature_b64, str) or not signature_b64:
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        data = string_to_sign(message)
    except (binascii.Error, ValueError):
        return False
    try:
        pem = fetch_cert(cert_url)
        n, e = certificate_rsa_key(pem if isinstance(pem, bytes) else str(pem).encode())
        public_key = rsa_public_key(n, e)
    except Exception:  # noqa: BLE001 - an unreachable, unreadable or non-RSA certificate is simply "not verified"
        return False
    return verify_pkcs1_v15(data, signature, public_key, hash_name)


_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----")


#: DER of the OID 1.2.840.113549.1.1.1 (rsaEncryption, RFC 8017).
_RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d010101")


def _der(data: bytes, at: int = 0) -> tuple[int, bytes, bytes, int]:
    """One DER element at ``at``: (tag, the whole element, its content, the offset after it)."""
    if at + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length, start = data[at], data[at + 1], at + 2
    if length & 0x80:  # long form: the next (length & 0x7f) bytes hold the length
        count = length & 0x7F
        if not 0 < count <= 4 or start + count > len(data):
            raise ValueError("bad DER length")
        length, start = int.from_bytes(data[start:start + count], "big"), start + count
    end = start + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, data[at:end], data[start:end], end


def _children(content: bytes) -> list[tuple[int, bytes, bytes]]:
    found, at = [], 0
    while at < len(content):
        tag, whole, inner, at = _der(content, at)
        found.append((tag, whole, inner))
    return found


def certificate_rsa_key(pem: bytes) -> tuple[int, int]:
    """The RSA public key (modulus, exponent) of the first certificate in ``pem``.

    ``ValueError`` for text holding no PEM certificate, DER that is not an X.509 certificate (RFC 5280: the
    subject's public key is the field after issuer, validity and subject in ``tbsCertificate``), or a certificate
    whose key is not RSA (RFC 8017 ``rsaEncryption``). The certificate is not validated otherwise: it is trusted for
    coming from an SNS host over https (``is_valid_sns_url``). Read by walking the DER: the path to one field needs
    no ASN.1 module collection in the package.
    """
    found = _PEM_CERTIFICATE.search(pem)
    if not found:
        raise ValueError("no PEM certificate")
    try:
        der = base64.b64decode(b"".join(found.group(1).split()), validate=True)
    except binascii.Error:
        raise ValueError("not an X.509 certificate (bad base64)") from None
    tag, _, certificate, end = _der(der)
    if tag != 0x30 or end != len(der):
        raise ValueError("not an X.509 certificate")
    fields = _children(certificate)
    if len(fields) != 3 or fields[0][0] != 0x30:
        raise ValueError("not an X.509 certificate")
    tbs = _children(fields[0][2])
    if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    if len(tbs) < 6 or tbs[0][0] != 0x02 or any(t != 0x30 for t, _, _ in tbs[1:6]):
        raise ValueError("not an X.509 certificate")
    key_info = _children(tbs[5][2])
    if len(key_info) != 2 or key_info[0][0] != 0x30 or key_info[1][0] != 0x03:
        raise ValueError("not an X.509 certificate")
    algorithm = _children(key_info[0][2])
    if not algorithm or algorithm[0][1] != _RSA_ENCRYPTION:
        raise ValueError("the certificate's key is not RSA")
    bits = key_info[1][2]
    if not bits or bits[0] != 0:
        raise ValueError("not an X.509 certificate (bad key bit string)")
    tag, _, key, end = _der(bits[1:])
    numbers = _children(key) if tag == 0x30 and end == len(bits) - 1 else []
    if len(numbers) != 2 or any(t != 0x02 for t, _, _ in numbers):
        raise ValueError("the RSA public key is not (modulus, exponent)")
    return int.from_bytes(numbers[0][2], "big"), int.from_bytes(numbers[1][2], "big")


def is_subscription_confirmation(message: object) -> bool:
    return is_object(message) and message.get("Type") == "SubscriptionConfirmation"


def subscribe_url(message: object) -> str:
    """The ``SubscribeURL`` to GET to confirm the subscription; ``ValueError`` unless it is an SNS https URL."""
    url = message.get("SubscribeURL") if is_object(message) else None
    if not is_valid_sns_url(url):
        raise ValueError(f"SubscribeURL is not an https URL on an SNS host: {url!r}")
    return url


# --------------------------------------------------------------------------------------------------
# SES notification → Mention
# --------------------------------------------------------------------------------------------------


def parse_sns_notification(message: object) -> list[Mention]:
    """The customer e-mail in one SNS notification, or ``[]`` when it is not something to answer.

    ``[]`` for: SES notification types other than ``Received`` (Bounce, Complaint, Delivery, the SES
    subscription test…); SES spam or virus verdict ``FAIL``; automatic mail (``Auto-Submitted`` other than
    ``no``, ``X-Autoreply``/``X-Autorespond``, ``Precedence: bulk|junk|list|auto_reply``, delivery reports,
    mailer-daemon / postmaster / no-reply senders).

    ``ValueError`` for: an envelope that is not an SNS Notification, a ``Message`` that is not JSON, a
    notification without ``mail`` or ``content`` (e.g. a receipt rule using an S3 action), content that is
    not valid base64, or a mail with no usable sender address.
    """
    if not is_object(message):
        raise ValueError("SNS message must be a JSON object")
    kind = message.get("Type", "Notification")
    if kind != "Notification":
        raise ValueError(f"expected an SNS Notification, got Type {kind!r}")
    body = message.get("Message")
    if not isinstance(body, str):
        raise ValueError("SNS notification has no 'Message' string")
    try:
        notification = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"SNS 'Message' is not JSON: {exc}") from None
    if not is_object(notification):
        raise ValueError("SES notification must be a JSON object")

    notification_type = notification.get("notificationType", notification.get("eventType"))
    if not isinstance(notification_type, str):
        raise ValueError("SES notification has no 'notificationType'")
    if notification_type != "Received":
        return []

    mail = notification.get("mail")
    if not is_object(mail):
        raise ValueError("SES notification has no 'mail' object")
    receipt = jv.obj(notification, "receipt")
    if _verdict_failed(receipt, "spamVerdict") or _verdict_failed(receipt, "virusVerdict"):
        return []

    raw = _raw_content(notification, receipt)
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always builds EmailMessage
        raise ValueError("could not parse the e-mail")

    sender_name, sender = _sender(msg, mail)
    if _is_automatic(msg, sender):
        return []

    received_at = _iso_time(mail.get("timestamp")) or _iso_time(receipt.get("timestamp"))
    created_at = _header_date(msg)
    if created_at is None or (received_at is not None and created_at > received_at):
        created_at = received_at  # no/invalid Date, or one in the future: the time SES received it
    if created_at is None:
        raise ValueError("e-mail has no usable Date header and the notification has no mail.timestamp")

    ses_id = jv.text(mail, "messageId")
    message_id = _first_msg_id(_header(msg, "Message-ID"))
    if not message_id:
        if not ses_id:
            raise ValueError("e-mail has no Message-ID and the notification has no mail.messageId")
        message_id = f"ses-{ses_id}"
    in_reply_to = _first_msg_id(_header(msg, "In-Reply-To"))
    references = _msg_ids(_header(msg, "References"))
    conversation_id = references[0] if references else (in_reply_to or message_id)

    subject = " ".join(_header(msg, "Subject").split())
    text = body_text(msg) or subject
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS].strip()

    extra: EmailExtra = {
        "ses_message_id": ses_id,
        "references": references,
        "recipients": _recipients(receipt, mail),
        "received_at": received_at.isoformat() if received_at else "",
    }
    reply_addresses = _addresses(_header(msg, "Reply-To"))
    if reply_addresses and reply_addresses[0][1] != sender:
        extra["reply_to_address"] = reply_addresses[0][1]
    if truncated:
        extra["truncated"] = True

    return [
        Mention(
            channel="email",
            external_id=message_id,
            conversation_id=conversation_id,
            author_id=sender,
            author_handle=sender,
            author_name=sender_name,
            text=text,
            created_at=created_at,
            visibility="private",
            language=_language(_header(msg, "Content-Language")),
            reply_to=in_reply_to,
            subject=subject,
            extra=dict(extra),
        )
    ]


def body_text(msg: EmailMessage) -> str:
    """The new text the sender wrote: text/plain preferred, else HTML without tags; quotes and signature cut."""
    text = ""
    try:
        part = msg.get_body(preferencelist=("plain",))
    except Exception:  # noqa: BLE001 - a broken MIME tree falls through to the HTML attempt
        part = None
    if part is not None:
        text = _part_text(part)
    if not text.strip():
        try:
            html_part = msg.get_body(preferencelist=("html",))
        except Exception:  # noqa: BLE001
            html_part = None
        if html_part is not None:
            text = html_to_text(_part_text(html_part))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    new_text = strip_quoted(text).strip()
    return new_text or text.strip()


def strip_quoted(text: str) -> str:
    """Drop the signature (below ``-- ``), quoted history (from ``On … wrote:`` or an Outlook header on),
    and every line starting with ``>``."""
    lines = text.split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        bare = line.strip()
        if line in ("-- ", "--"):
            break
        if _is_reply_header(bare, lines[index + 1].strip() if index + 1 < len(lines) else ""):
            break
        if _ORIGINAL_MESSAGE.match(bare):
            break
        if _UNDERSCORES.match(bare) and index + 1 < len(lines) and _OUTLOOK_FROM.match(lines[index + 1].strip()):
            break
        if bare.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


_REPLY_OPENERS = r"(?:On|Le|Am|El|Il|Op|Em|Den|På)"
_REPLY_VERBS = r"(?:wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev)"
# "On <date>, <name> wrote:" / "Am <date> schrieb <name>:" - a date (digit) and a verb before the final colon
_REPLY_HEADER = re.compile(
    rf"^{_REPLY_OPENERS}\s(?=.*\d).*\b{_REPLY_VERBS}(?:\s*:|\s.{{0,160}}:)\s*$", re.IGNORECASE
)
_REPLY_HEADER_START = re.compile(rf"^{_REPLY_OPENERS}\s.{{6,}}", re.IGNORECASE)
_REPLY_HEADER_END = re.compile(rf"\b{_REPLY_VERBS}(?:\s*:|\s.{{0,160}}:)\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*(?:Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^_{10,}$")
_OUTLOOK_FROM = re.compile(r"^\*?(?:From|De|Von|Van):\*?\s", re.IGNORECASE)


def _is_reply_header(line: str, next_line: str) -> bool:
    if _REPLY_HEADER.match(line):
        return True
    # Clients wrap long headers: "On Mon, 3 Jun 2024 at 09:12, Jane <jane@\nexample.com> wrote:"
    return bool(_REPLY_HEADER_START.match(line) and _REPLY_HEADER_END.search(next_line) and len(next_line) < 120)


class _HtmlText(HTMLParser):
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "pre"}
    )
    _SKIP = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML mail body: tags, scripts, styles and quoted blocks removed, entities decoded."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - fall back to a crude tag strip for pathological markup
        return unescape(re.sub(r"<[^>]*>", " ", html))
    lines = [" ".join(line.split()) for line in "".join(parser.chunks).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _verdict_failed(receipt: JsonObject, key: str) -> bool:
    verdict = receipt.get(key)
    return is_object(verdict) and str(verdict.get("status", "")).upper() == "FAIL"


def _raw_content(notification: JsonObject, receipt: JsonObject) -> bytes:
    content = notification.get("content")
    if not isinstance(content, str) or not content:
        raise ValueError(
            "SES notification has no 'content' (the receipt rule must use an SNS action, not S3)"
        )
    action = jv.obj(receipt, "action")
    if str(action.get("encoding", "UTF8")).upper() == "BASE64":
        try:
            return base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("SES notification 'content' is not valid base64") from None
    return content.encode("utf-8", errors="replace")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the parser chokes on is treated as absent
        return ""
    return str(value).strip() if value is not None else ""


def _addresses(value: str) -> list[tuple[str, str]]:
    if not value:
        return []
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        return []
    return [(name.strip(), addr.strip().lower()) for name, addr in pairs if _looks_like_address(addr)]


def _looks_like_address(addr: str) -> bool:
    addr = addr.strip()
    local, _, domain = addr.rpartition("@")
    return bool(local) and bool(domain) and " " not in addr


def _sender(msg: EmailMessage, mail: JsonObject) -> tuple[str, str]:
    found = _addresses(_header(msg, "From"))
    if found:
        return found[0]
    for candidate in jv.elements(jv.obj(mail, "commonHeaders").get("from") or []):
        if isinstance(candidate, str):
            found = _addresses(candidate)
            if found:
                return found[0]
    source = mail.get("source")
    if isinstance(source, str) and _looks_like_address(source):
        return "", source.strip().lower()
    raise ValueError("e-mail has no usable From address")


def _is_automatic(msg: EmailMessage, sender: str) -> bool:
    auto_submitted = _header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if name in msg:
            return True
    if _header(msg, "Precedence").lower() in _AUTO_PRECEDENCE:
        return True
    if msg.get_content_type() == "multipart/report":
        return True  # delivery status / disposition notifications
    return sender.split("@", 1)[0] in _AUTO_SENDERS


def _header_date(msg: EmailMessage) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _iso_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_MSG_ID = re.compile(r"<([^<>\s]+)>")


def _msg_ids(value: str) -> list[str]:
    return _MSG_ID.findall(value) if value else []


def _first_msg_id(value: str) -> str:
    if not value:
        return ""
    ids = _msg_ids(value)
    if ids:
        return ids[0]
    bare = value.split()[0].strip("<>") if value.split() else ""
    return bare if "@" in bare else ""


def _recipients(receipt: JsonObject, mail: JsonObject) -> list[str]:
    for source in (receipt.get("recipients"), mail.get("destination")):
        if isinstance(source, list):
            return [r.strip().lower() for r in source if isinstance(r, str) and r.strip()]
    return []


def _language(value: str) -> str:
    tag = value.split(",")[0].strip() if value else ""
    return tag if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", tag) else ""


def _part_text(part: Any) -> str:
    try:
        content = part.get_content()
    except Exception:  # noqa: BLE001 - unknown charset or broken transfer encoding
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""
