"""One word for one thing on a ticket's timeline: an agent's answer is ``replied``, its delivery ``reply_sent`` (as
an acknowledgement's is ``acknowledged``), never ``replied`` and ``reply`` side by side; rows written with the old
word still read, and are written back with the new one."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain import history as h
from chalicelib.store.codec import event_from_row, event_record

T0 = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)


def test_an_answer_and_its_delivery_are_named_apart():
    answered = h.Replied(T0, h.ReplyRecord("ana", "r-1", "Which train?"))
    delivered = h.Sent(T0, "reply")
    assert [answered.kind, delivered.kind] == ["replied", "reply_sent"]
    assert h.sent_kind("reply") == h.EventKind.REPLY == "reply_sent"
    assert len({str(kind) for kind in h.EventKind}) == len(h.EventKind)
    assert "reply" not in {str(kind) for kind in h.EventKind}


def test_a_delivery_is_stored_under_the_new_word_and_reads_back_as_it_was():
    delivered = h.Sent(T0, "reply")
    kind, data = event_record(delivered)
    assert kind == "reply_sent" and data is None  # the kind says which message it was
    assert event_from_row(T0, kind, data) == delivered


def test_a_row_written_with_the_old_word_still_reads():
    old = event_from_row(T0, "reply", None)
    assert old == h.Sent(T0, "reply") and old.kind == "reply_sent"
    assert event_from_row(T0, "reply", {"expires_at": None}) == h.Sent(T0, "reply")
    acknowledged = event_from_row(T0, "acknowledged", None)
    assert acknowledged == h.Sent(T0, "ack")
