"""Version-1 inbound envelopes, read into mentions: the one place behind the queue that knows a platform's payload.

Before version 2 (docs/adr/0020-parse-once.md) a webhook queued the platform's raw payload and processing parsed it
again::

    {"v": 1, "kind": "x" | "meta" | "email", "id": "<hex>", "received_at": "<ISO 8601>", "payload": <raw payload>}
    {"v": 1, "kind": "mentions", "id": ..., "received_at": ..., "payload": {"source": ..., "mentions": [...]}}

Such messages can still be on the inbound queue when version 2 deploys, and on its dead-letter queue for its
retention (14 days) or until redriven; this adapter turns each into the mentions it carries, with the parsers and
settings the webhooks use. It can go once no version-1 message can be left anywhere.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from chalicelib.channels import email as email_channel
from chalicelib.channels import meta as meta_channel
from chalicelib.channels import x as x_channel
from chalicelib.domain.mention import Mention, Unstorable
from chalicelib.services import Services

LEGACY_VERSION = 1
#: Version-1 kinds: a raw platform payload, or mentions normalized already (form, pollers, local endpoints).
LEGACY_KINDS = ("x", "meta", "email", "mentions")


def is_legacy(envelope: Any) -> bool:
    return isinstance(envelope, dict) and envelope.get("v") == LEGACY_VERSION


def legacy_envelope(kind: str, payload: Any, *, received_at: datetime) -> dict[str, Any]:
    """A version-1 envelope as the entry points wrote it (for tests and drills of what old queues hold)."""
    return {"v": LEGACY_VERSION, "kind": kind, "id": uuid.uuid4().hex, "received_at": received_at.isoformat(),
            "payload": payload}


def legacy_mentions(svc: Services, envelope: dict[str, Any], *, refused: list[str]) -> list[Mention]:
    """The mentions a version-1 envelope carries; one the store cannot hold is left out and described in
    ``refused``. Raises ``ValueError`` for anything else."""
    if not is_legacy(envelope):
        raise ValueError(f"not an inbound envelope of version {LEGACY_VERSION}")
    kind, payload = envelope.get("kind"), envelope.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("the envelope has no payload object")
    if kind == "x":
        return x_channel.parse(payload, brand_id=svc.settings.x_account_id, refused=refused)
    if kind == "meta":
        return meta_channel.parse(payload, page_ids=set(svc.settings.meta_page_ids),
                                  ig_ids=set(svc.settings.instagram_account_ids), refused=refused)
    if kind == "email":
        try:
            return email_channel.parse_sns_notification(payload)
        except Unstorable as exc:
            refused.append(f"e-mail: {exc}")
            return []
    if kind == "mentions":
        mentions: list[Mention] = []
        for index, data in enumerate(payload["mentions"]):
            try:
                mentions.append(Mention.from_dict(data))
            except Unstorable as exc:
                refused.append(f"mentions[{index}]: {exc}")
        return mentions
    raise ValueError(f"unknown envelope kind {kind!r}")
