"""Storage first: a verified inbound payload becomes one inbound-queue message; processing happens behind it."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from chalicelib.domain.mention import Mention
from chalicelib.services import Services

ENVELOPE_VERSION = 1
#: Envelope kinds the processor understands: a raw platform payload, or already-normalized mentions.
RAW_KINDS = ("x", "meta", "email")


def envelope(kind: str, payload: Any, *, received_at: datetime) -> dict[str, Any]:
    return {"v": ENVELOPE_VERSION, "kind": kind, "id": uuid.uuid4().hex,
            "received_at": received_at.isoformat(), "payload": payload}


def enqueue_raw(svc: Services, kind: str, payload: Any) -> str:
    """One SendMessage and nothing else, so the webhook answers fast and never loses what it accepted."""
    if kind not in RAW_KINDS:
        raise ValueError(f"unknown inbound kind {kind!r}")
    return svc.queues.send_inbound(envelope(kind, payload, received_at=svc.now()))


def enqueue_mentions(svc: Services, mentions: list[Mention], *, source: str) -> str:
    payload = {"source": source, "mentions": [m.to_dict() for m in mentions]}
    return svc.queues.send_inbound(envelope("mentions", payload, received_at=svc.now()))
