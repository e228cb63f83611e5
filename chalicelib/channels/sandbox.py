"""Stage ``local``: every outbound message is recorded instead of sent, shown at ``GET /local/outbox``."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from chalicelib.channels.base import MentionsPage, NotificationsPage, OutboundMessage, SendResult
from chalicelib.domain.identity import masked_phone
from chalicelib.store.ports import SandboxOutbox

logger = Logger(child=True)


class SandboxSender:
    def __init__(self, outbox: SandboxOutbox, now: Callable[[], datetime], channel: str):
        self._outbox = outbox
        self._now = now
        self._channel = channel

    def send(self, message: OutboundMessage) -> SendResult:
        at = self._now()
        external_id = f"sandbox-{message.idempotency_key or at.timestamp()}"
        record = {
            "channel": message.channel, "recipient": message.recipient, "in_reply_to": message.in_reply_to,
            "private": message.private, "text": message.text, "subject": message.subject,
            "at": at.isoformat(), "idempotency_key": message.idempotency_key, "external_id": external_id,
            "kind": message.kind,
        }
        if "whatsapp_template" in message.extra:  # an approved template: what the WhatsApp sender would send
            record["whatsapp_template"] = message.extra["whatsapp_template"]
        self._outbox.record(at, message.idempotency_key, record)
        # logs carry no message text: it holds the customer's status link (a bearer credential) and personal data
        logger.info("sandbox: message not sent", extra={"outbound": {
            k: record[k] for k in ("channel", "idempotency_key", "in_reply_to", "private", "at", "external_id")}})
        # a WhatsApp recipient is a phone number: the stack's output is a log, and shows it masked
        recipient = masked_phone(message.recipient) if message.channel == "whatsapp" else message.recipient
        print(f"[outbox] {message.channel} -> {recipient} (in reply to {message.in_reply_to or '-'}): "
              f"{message.text}", flush=True)
        return SendResult(external_id=external_id)


class LocalMentionSource:
    """Stage local's stand-in for the X mentions API: the local stack never calls X (mentions arrive through the
    signed webhook, ``POST /webhooks/x``). Every poll answers an empty page, so the poller runs its real path."""

    def fetch_mentions(self, user_id: str, *, since_id: str | None,
                       pagination_token: str | None = None) -> MentionsPage:
        return MentionsPage(mentions=[], next_token=None, newest_id=None, result_count=0)


class LocalNotificationSource:
    """Stage local's stand-in for the Bluesky and Mastodon notification APIs: the local stack never calls them.
    Every poll answers an empty page, so the pollers run their real path; mentions are injected with
    ``POST /local/bluesky/mentions`` and ``POST /local/mastodon/mentions``, which feed the pollers' own parser and
    the same inbound queue."""

    def own_ids(self) -> frozenset[str]:
        return frozenset()

    def fetch_notifications(self, *, cursor: str | None, limit: int = 50) -> NotificationsPage:
        return NotificationsPage()


class LocalThreadsSource:
    """Stage local's stand-in for the Threads API's reads: the local stack never calls Threads. Every read answers an
    empty page, so the poller runs its real path; posts arrive by the signed webhook (``POST /webhooks/threads``) or
    are injected with ``POST /local/threads/mentions``, through the same parser onto the same inbound queue."""

    def own_ids(self) -> frozenset[str]:
        return frozenset()

    def fetch_mentions(self, *, since: datetime | None, after: str | None, limit: int) -> NotificationsPage:
        return NotificationsPage()

    def fetch_posts(self, *, limit: int) -> NotificationsPage:
        return NotificationsPage()

    def fetch_replies(self, media_id: str, *, after: str | None, limit: int) -> NotificationsPage:
        return NotificationsPage()


class LocalSns:
    """Stage local's stand-in for the two HTTPS calls an SNS subscriber makes: the local stack fetches no signing
    certificate and confirms no subscription, so a signed SNS message cannot be verified locally and is refused
    (401). E-mails are injected with ``POST /local/email/mentions``, which builds the SES notification and takes the
    e-mail channel's own parser onto the same inbound queue."""

    def certificate(self, url: str) -> bytes:
        return b""

    def confirm(self, url: str) -> None:
        return None

