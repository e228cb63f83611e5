"""The one protocol every outbound channel implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    channel: str  # Mention.channel of the conversation being answered
    recipient: str  # author id (X user id, PSID, e-mail address)
    text: str
    in_reply_to: str = ""  # external id being answered (tweet id, comment id, Message-ID)
    private: bool = False  # True: DM / private reply / e-mail; False: public reply
    idempotency_key: str = ""  # one key per message: the sender never sends the same key twice
    subject: str = ""  # e-mail only
    extra: dict[str, Any] = field(default_factory=dict)  # channel specifics copied from Mention.extra


@dataclass(frozen=True)
class SendResult:
    external_id: str  # id the platform gave the sent message


class SendError(Exception):
    """A send failed. ``retryable`` is True for 429 / 5xx / network errors; ``retry_after`` in seconds if known."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...
