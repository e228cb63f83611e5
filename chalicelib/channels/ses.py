"""E-mail replies through Amazon SES v2 (raw MIME, so threading headers are ours to set)."""
from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, NotRequired, TypedDict

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from chalicelib.channels.base import OutboundMessage, SendError, SendResult

#: SES error codes that mean "slow down and try again".
THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "ServiceUnavailable",
        "InternalFailure",
    }
)
_TRANSIENT_BOTO_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

class _RawMessage(TypedDict):
    Data: bytes


class _RawContent(TypedDict):
    Raw: _RawMessage


class SendEmailRequest(TypedDict):
    """The arguments of SES v2 ``SendEmail`` for a raw MIME message."""

    FromEmailAddress: str
    Content: _RawContent
    ConfigurationSetName: NotRequired[str]


#: Subject used when the customer's message had none.
DEFAULT_SUBJECT = "your message"


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, without stacking a second ``Re:``."""
    subject = " ".join((subject or "").split()) or DEFAULT_SUBJECT
    if subject.lower().startswith("re:"):
        return subject
    return f"Re: {subject}"


def angle_id(message_id: str) -> str:
    """A Message-ID in its ``<...>`` form."""
    message_id = message_id.strip()
    if not message_id:
        return ""
    return message_id if message_id.startswith("<") and message_id.endswith(">") else f"<{message_id.strip('<>')}>"


class SesSender:
    """``Sender`` for channel ``email``: a plain-text reply in the customer's thread."""

    def __init__(self, from_address: str, *, client: Any = None, configuration_set: str | None = None):
        if not parseaddr(from_address)[1]:
            raise ValueError("a from address is required")
        self.from_address = from_address
        self.configuration_set = configuration_set
        self.client = client if client is not None else boto3.client("sesv2")
        self._domain = parseaddr(from_address)[1].rpartition("@")[2] or None

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The MIME message ``send`` would hand to SES."""
        mime = EmailMessage(policy=SMTP)
        mime["From"] = self.from_address
        mime["To"] = message.recipient
        mime["Subject"] = reply_subject(message.subject)
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = self._message_id(message)
        parent = angle_id(message.in_reply_to)
        if parent:
            mime["In-Reply-To"] = parent
            earlier = str((message.extra or {}).get("references") or "").split()
            chain = [angle_id(ref) for ref in earlier if angle_id(ref) != parent]
            mime["References"] = " ".join([*chain, parent])
        if (message.extra or {}).get("auto_reply"):
            mime["Auto-Submitted"] = "auto-replied"  # RFC 3834: stops auto-responder loops
        mime.set_content(message.text, charset="utf-8", cte="quoted-printable")  # 7-bit safe
        return mime

    def _message_id(self, message: OutboundMessage) -> str:
        if message.idempotency_key:
            # Same key, same Message-ID: a resend after a timeout is recognisable as the same mail.
            digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:40]
            return f"<{digest}@{self._domain or 'localhost'}>"
        return make_msgid(domain=self._domain)

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel not in ("email", "form"):
            raise SendError(f"SesSender cannot send on channel {message.channel!r}", retryable=False)
        if not parseaddr(message.recipient)[1] or "@" not in message.recipient:
            raise SendError("an e-mail reply needs a recipient address", retryable=False)
        request: SendEmailRequest = {
            "FromEmailAddress": self.from_address,
            "Content": {"Raw": {"Data": self.build(message).as_bytes()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = self.client.send_email(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            retryable = code in THROTTLING_CODES or status == 429 or status >= 500
            raise SendError(
                f"SES {code or 'error'} (HTTP {status}): {error.get('Message', '')}".rstrip(": "),
                retryable=retryable,
            ) from exc
        except _TRANSIENT_BOTO_ERRORS as exc:
            raise SendError(f"SES network error: {type(exc).__name__}", retryable=True) from exc
        except BotoCoreError as exc:
            raise SendError(f"SES client error: {type(exc).__name__}", retryable=False) from exc
        return SendResult(external_id=str(response["MessageId"]))
