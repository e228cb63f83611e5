"""A ticket's history, typed: every kind of entry has its type, is stored as its kind and fields, and reads back the
same from that record and from the prose rows written before the entries were typed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import history as h
from chalicelib.domain.history import EventKind, ReleaseReason, ReplyRecord
from chalicelib.store.codec import event_from_row, event_record

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
LATER = T0 + timedelta(hours=6)

#: One entry of every kind (and of every shape a kind's fields take)
EXAMPLES: list[h.Event] = [
    h.Received(T0, "x"), h.Received(T0, follow_up=True), h.Queued(T0, "complaints"),
    h.Escalated(T0, "complaints", "on_call"), h.AckQueued(T0, LATER), h.AckQueued(T0),
    h.Scheduled(T0, "ack", LATER), h.WaitingForRate(T0, "busy", "the day's budget is spent"),
    *[h.Sent(T0, message, LATER) for message in ("ack", "closing", "busy", "incident_update", "incident_resolved",
                                                  "incident_followup")],
    h.Sent(T0, "reply"), h.ReplyFailed(T0, "reply", "403 Forbidden: you cannot reply"),
    h.ReplyUnconfirmed(T0, "ack", "the send ended without a result (timed out)"), h.ReplyUnconfirmed(T0, "ack"),
    h.AckExpired(T0), h.SlaBreached(T0, LATER, 42), h.Reopened(T0), h.Merged(T0, "RAAAA1111"),
    h.MergedInto(T0, "RBBBB2222"), h.LinkSuggested(T0, "email#pat@example.test"), h.Claimed(T0, "ana"),
    h.Claimed(T0, "ben", by="chloe"),
    h.Released(T0, ReleaseReason.BY_AGENT, "ana"), h.Released(T0, ReleaseReason.EXPIRED),
    h.Released(T0, ReleaseReason.EXPIRED, awaiting_customer=True),
    h.Released(T0, ReleaseReason.BY_AGENT, "ben", awaiting_customer=True),
    h.Replied(T0, ReplyRecord("ana", "req-1", "Which train?\nThe 07:32?")), h.Replied(T0, ReplyRecord("omar")),
    h.Noted(T0, "ana", "called back: she is fine: on the next train"),
    h.Labelled(T0, "ben", "complaint", True, "praise"), h.Labelled(T0, "ben", "question", False, "other"),
    h.Transferred(T0, "journeys"), h.ReopenedByAgent(T0, "ana"), h.Resolved(T0, "ana"),
    h.Dismissed(T0, "ana", "a joke about the name, not about us"), h.Dismissed(T0, "ben"),
    h.Unrecognised(T0, "something_new", "written by a later version"),
]


def test_every_kind_has_a_type_and_an_example():
    kinds = {e.kind for e in EXAMPLES}
    assert set(EventKind) <= kinds, set(EventKind) - kinds


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: f"{e.kind}:{e.detail[:20]}")
def test_an_entry_reads_back_from_its_record(event):
    kind, data = event_record(event)
    assert kind == event.kind
    assert event_from_row(event.at, kind, data) == event


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: f"{e.kind}:{e.detail[:20]}")
def test_an_entry_reads_back_from_the_prose_rows_had(event):
    """Before the entries were typed a row held the kind and the line ``detail`` says (an agent's reply as
    ``agent#request\\ntext``)."""
    if isinstance(event, h.Claimed) and event.by:
        pytest.skip("assignments came after the entries were typed: no prose row has one")
    if isinstance(event, h.Dismissed):
        pytest.skip("dismissals came after the entries were typed: no prose row has one")
    detail = event.detail
    if isinstance(event, h.Replied):
        detail = f"{event.answer.agent}#{event.answer.request_id}\n{event.answer.text}"
    assert event_from_row(event.at, str(event.kind), None, detail) == event


def test_a_record_carries_only_what_the_kind_does_not_say():
    assert event_record(h.Reopened(T0)) == ("reopened", None)
    assert event_record(h.Sent(T0, "ack")) == ("acknowledged", None)
    assert event_record(h.Released(T0, ReleaseReason.EXPIRED, awaiting_customer=True)) == (
        "awaiting_customer", {"reason": "claim expired"})
    assert event_record(h.Claimed(T0, "ana")) == ("claimed", {"agent": "ana"})


def test_the_lines_people_read_are_those_the_timeline_always_showed():
    assert [e.detail for e in (h.Escalated(T0, "complaints", "on_call"), h.Noted(T0, "ana", "hi"),
                               h.Labelled(T0, "ben", "complaint", True, "praise"),
                               h.Released(T0, ReleaseReason.BY_AGENT, "ana"), h.Released(T0, ReleaseReason.EXPIRED),
                               h.SlaBreached(T0, LATER, 42), h.WaitingForRate(T0, "ack", "rate"))] == [
        "complaints closed; on-call desk on_call", "ana: hi", "ben: complaint, urgent (triage: praise)",
        "released by ana", "claim expired", f"response was due {LATER.isoformat()} (42 min late)", "ack: rate"]


def test_a_row_missing_a_field_reads_as_empty_never_fails():
    assert event_from_row(T0, "claimed", {}) == h.Claimed(T0, "")
    assert event_from_row(T0, "labelled", None, "not the usual line") == h.Labelled(T0, "not the usual line", "")
