"""The outbox message: versioned, read back whole, and a message of another shape refused with why."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.domain.outbound import OUTBOX_VERSION, OutboxItem, ReplyTarget

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
ITEM = OutboxItem(idempotency_key="ack#R1", kind="ack", ticket_id="R1",
                  target=ReplyTarget(channel="x", recipient="555", in_reply_to="1", name="Pat",
                                     extra={"conversation_id": "1"}),
                  text="Got your message", queued_at=T0, expires_at=T0, customer_wrote_at=T0, priority="urgent",
                  slot=T0)


def test_an_outbox_message_carries_its_version_and_reads_back_the_same():
    message = ITEM.to_dict()
    assert message["v"] == OUTBOX_VERSION
    assert OutboxItem.from_dict(message) == ITEM


def test_a_message_queued_before_messages_carried_a_version_still_reads():
    message = {k: v for k, v in ITEM.to_dict().items() if k != "v"}
    assert OutboxItem.from_dict(message) == ITEM


@pytest.mark.parametrize(("message", "said"), [
    ({**ITEM.to_dict(), "v": 2}, "version 2"),
    ([ITEM.to_dict()], "JSON object"),
    ({k: v for k, v in ITEM.to_dict().items() if k != "ticket_id"}, "ticket_id"),
    ({**ITEM.to_dict(), "queued_at": 12}, "ISO 8601"),
])
def test_another_shape_is_refused_with_why(message, said):
    with pytest.raises(ValueError, match=said):
        OutboxItem.from_dict(message)
