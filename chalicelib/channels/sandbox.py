"""Stage ``local``: every outbound message is recorded instead of sent, shown at ``GET /local/outbox``."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from aws_lambda_powertools import Logger

from chalicelib.channels.base import OutboundMessage, SendResult
from chalicelib.store.repositories import StateRepository

SANDBOX_PK = "sandbox#outbox"
logger = Logger(child=True)


class SandboxSender:
    def __init__(self, state: StateRepository, now: Callable, channel: str):
        self._state = state
        self._now = now
        self._channel = channel

    def send(self, message: OutboundMessage) -> SendResult:
        at = self._now()
        external_id = f"sandbox-{message.idempotency_key or at.timestamp()}"
        record = {
            "channel": message.channel, "recipient": message.recipient, "in_reply_to": message.in_reply_to,
            "private": message.private, "text": message.text, "subject": message.subject,
            "at": at.isoformat(), "idempotency_key": message.idempotency_key, "external_id": external_id,
        }
        self._state.put(SANDBOX_PK, f"{at.isoformat()}#{message.idempotency_key}", value=record,
                        ttl=timedelta(days=7))
        logger.info("sandbox: message not sent", extra={"outbound": record})
        print(f"[outbox] {message.channel} -> {message.recipient} (in reply to {message.in_reply_to or '-'}): "
              f"{message.text}", flush=True)
        return SendResult(external_id=external_id)


def sandbox_messages(state: StateRepository, limit: int = 200) -> list[dict]:
    return [item.value for item in state.query(SANDBOX_PK, newest_first=True, limit=limit)]
