"""Storage first: what a verified entry point read from its platform becomes inbound-queue messages, each an
``InboundEnvelope`` (version 2) of normalized mentions; processing happens behind it and never parses a platform's
payload again (docs/adr/0020-parse-once.md). Envelopes of version 1 are read by ``usecases.legacy_envelope``."""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.inbound import InboundEnvelope
from chalicelib.domain.mention import Mention
from chalicelib.services import Services
from chalicelib.store.queues import MAX_SQS_BYTES

#: The most one inbound-queue message's body may take: SQS's limit, less a margin.
MAX_ENVELOPE_BYTES = MAX_SQS_BYTES - 4096


class TooLargeToQueue(ValueError):
    """One mention alone is larger than an inbound-queue message holds: nothing of the delivery is queued."""


def _size(data: object) -> int:
    """The bytes ``data`` takes in a queue message, encoded as ``store.queues`` encodes it."""
    return len(json.dumps(data, separators=(",", ":"), default=str).encode())


def pack(mentions: Sequence[Mention], *, source: str, received_at: datetime) -> list[InboundEnvelope]:
    """The envelopes carrying ``mentions``, in order, as few as fit ``MAX_ENVELOPE_BYTES`` each (one, for nearly
    every delivery). Raises ``TooLargeToQueue`` before anything is sent when a single mention cannot fit."""
    def envelope(batch: list[Mention]) -> InboundEnvelope:
        return InboundEnvelope(id=uuid.uuid4().hex, received_at=received_at, source=source, mentions=tuple(batch))

    room = MAX_ENVELOPE_BYTES - _size(envelope([]).to_dict())
    envelopes: list[InboundEnvelope] = []
    batch: list[Mention] = []
    used = 0
    for mention in mentions:
        size = _size(mention.to_dict()) + 1  # and the comma between two
        if size > room:
            raise TooLargeToQueue(f"{mention.key} takes {size} bytes; an inbound-queue message holds "
                                  f"{MAX_ENVELOPE_BYTES}")
        if batch and used + size > room:
            envelopes.append(envelope(batch))
            batch, used = [], 0
        batch.append(mention)
        used += size
    if batch:
        envelopes.append(envelope(batch))
    return envelopes


def send(svc: Services, envelopes: Sequence[InboundEnvelope]) -> list[str]:
    """One SendMessage per envelope and nothing else, so a webhook answers fast and never loses what it accepted."""
    return [svc.queues.send_inbound(e.to_dict()) for e in envelopes]


def enqueue_mentions(svc: Services, mentions: Sequence[Mention], *, source: str) -> list[str]:
    """Queue ``mentions`` (``pack`` then ``send``): the ids of the messages sent."""
    return send(svc, pack(mentions, source=source, received_at=svc.now()))
