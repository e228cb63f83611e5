"""The inbound queue's message: mentions already read from the platform's payload, where it arrived.

An entry point (webhook, poller, form, local endpoint) parses once and queues ``InboundEnvelope``; processing
reads it back without knowing any channel::

    {"v": 2, "kind": "mentions", "id": "<hex>", "received_at": "<ISO 8601>", "source": "x",
     "mentions": [<Mention.to_dict()>, ...]}

``id`` owns the mentions the envelope stores (the processor's dedupe); ``source`` names the entry point, for
people reading a dead-letter queue. An envelope of version 1 (a raw platform payload) is read by
``usecases.legacy_envelope`` alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.mention import Mention, Unstorable

ENVELOPE_VERSION = 2
KIND = "mentions"
#: The entry points that queue mentions.
SOURCES = ("x", "meta", "threads", "email", "form", "poll", "local", "listening")


@dataclass(frozen=True)
class InboundEnvelope:
    id: str
    received_at: datetime  # aware
    source: str  # one of SOURCES
    mentions: tuple[Mention, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("an inbound envelope needs an id")
        if not isinstance(self.received_at, datetime) or self.received_at.tzinfo is None:
            raise ValueError("received_at must be a timezone-aware datetime")
        if self.source not in SOURCES:
            raise ValueError(f"unknown inbound source {self.source!r}")
        if not all(isinstance(m, Mention) for m in self.mentions):
            raise ValueError("an inbound envelope carries mentions only")

    def to_dict(self) -> dict[str, object]:
        return {"v": ENVELOPE_VERSION, "kind": KIND, "id": self.id, "received_at": self.received_at.isoformat(),
                "source": self.source, "mentions": [m.to_dict() for m in self.mentions]}

    @classmethod
    def from_dict(cls, data: Any, *, refused: list[str] | None = None) -> InboundEnvelope:
        """Raises ``ValueError`` for anything but a version-2 envelope. A mention the store cannot hold
        (``Unstorable``: refused at the entry points, but perhaps queued before) is left out and described in
        ``refused`` when given; any other bad mention makes the whole envelope unreadable."""
        if not isinstance(data, dict) or data.get("v") != ENVELOPE_VERSION or data.get("kind") != KIND:
            raise ValueError(f"not an inbound envelope of version {ENVELOPE_VERSION}")
        items = data.get("mentions")
        if not isinstance(items, list):
            raise ValueError("the envelope has no list of mentions")
        mentions: list[Mention] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"mentions[{index}] is not an object")
            try:
                mentions.append(Mention.from_dict(item))
            except Unstorable as exc:
                if refused is None:
                    raise
                refused.append(f"mentions[{index}]: {exc}")
            except (TypeError, KeyError) as exc:
                raise ValueError(f"mentions[{index}] is not a mention: {exc}") from None
        received_at = data.get("received_at")
        if not isinstance(received_at, str):
            raise ValueError("the envelope has no received_at")
        return cls(id=str(data.get("id") or ""), received_at=datetime.fromisoformat(received_at),
                   source=str(data.get("source")), mentions=tuple(mentions))
