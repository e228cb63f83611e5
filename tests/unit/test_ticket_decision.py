"""The triage decision and an agent's reply as typed values on the ticket; the old prose read only by the store's
codec."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.history import Replied, ReplyRecord
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.triage import Triage, explain, policy_acknowledges
from chalicelib.domain.vocabulary import Intent, Tone
from chalicelib.store.codec import decision_from_reasons, reply_from_detail, upgraded

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def a_ticket(**changes) -> Ticket:
    values = dict(ticket_id="R1", desk="complaints", priority="normal", intent="complaint", channel="x",
                  conversation_key="x#c1", customer_id="C1", first_contact_at=T0, last_customer_at=T0)
    values.update(changes)
    return Ticket(**values)


def test_a_triage_gives_its_decision_even_when_made_by_hand():
    made = Triage(desk="complaints", priority="normal", intent="praise", language="en")
    assert made.decision == TriageDecision(intent=Intent.PRAISE, answered=False)  # praise: by intent alone
    answered = Triage(desk="complaints", priority="normal", intent="other", language="en", ack=True,
                      why="asks: 'when'", tone="question", confidence=0.7)
    assert answered.decision == TriageDecision("other", True, "asks: 'when'", Tone.QUESTION, 0.7)


def test_the_ticket_keeps_triages_decision_and_a_label_decides_what_follows():
    decision = TriageDecision(intent="praise", answered=True, why="praise", tone="thanks", confidence=0.91)
    ticket = a_ticket(intent="praise", decision=decision, reasons=["intent praise (score 1): thanks ('thank you')",
                                                                   *decision.lines, "desk complaints: default"])
    assert ticket.triaged_intent == "praise" and ticket.triaged_acknowledge is True
    assert ticket.current_decision == decision and policy_acknowledges(ticket.intent, ticket.current_decision)
    triaged = ticket.label("complaint", True, "ben", T0 + timedelta(minutes=3), acknowledge=False)
    assert triaged == "praise" and ticket.intent == "complaint"
    assert ticket.decision == decision  # triage's, as it decided
    assert ticket.relabel == TriageDecision(intent="complaint", answered=False, why="labelled complaint")
    assert not policy_acknowledges(ticket.intent, ticket.current_decision)
    assert ticket.triaged_intent == "praise" and ticket.triaged_acknowledge is True
    assert len(ticket.reasons) == 4  # the explanation stays triage's; the label is on the timeline
    assert ticket.timeline[-1].detail == "ben: complaint, urgent (triage: praise)"


def test_the_agents_view_of_the_decision_shows_the_signals_without_the_decisions_own_words():
    decision = TriageDecision(intent="complaint", answered=True, why="complaint", tone="apology", confidence=0.8765)
    reasons = ["intent complaint (score 2): delay ('delayed')", *decision.lines, "desk complaints: default"]
    said = explain(decision, reasons)
    assert (said["answered"], said["why"], said["tone"], said["confidence"]) == (True, "complaint", "apology", 0.8765)
    assert said["signals"] == ["intent complaint (score 2): delay ('delayed')", "desk complaints: default"]
    assert explain(None, ["keyword: late"]) == {"answered": None, "why": "", "tone": "", "confidence": None,
                                                "signals": ["keyword: late"]}


def test_a_reply_is_kept_typed_on_its_timeline_entry():
    ticket = a_ticket(status="claimed", claimed_by="ana", claim_expires_at=T0 + timedelta(hours=1))
    ticket.replied("ana", T0 + timedelta(minutes=1), text="Which train?\nThe 07:32?", request_id="r-1")
    ticket.replied("ana", T0 + timedelta(minutes=2))
    assert ticket.timeline[-2] == Replied(T0 + timedelta(minutes=1),
                                          ReplyRecord("ana", "r-1", "Which train?\nThe 07:32?"))
    assert [answer for _, answer in ticket.replies] == [ReplyRecord("ana", "r-1", "Which train?\nThe 07:32?"),
                                                       ReplyRecord("ana")]
    assert ReplyRecord.from_dict(ReplyRecord("ana", "r-1", "x").to_dict()) == ReplyRecord("ana", "r-1", "x")


def test_the_codec_reads_the_old_prose():
    reasons = ["intent other: a retweet, not a customer's request", "sentiment +0.10",
               "acknowledge: no (it asks the brand nothing (passed on, not a request))", "desk complaints: default"]
    assert decision_from_reasons(reasons, "other") == TriageDecision(
        intent="other", answered=False, why="it asks the brand nothing (passed on, not a request)")
    toned = ["intent question (score 1): asks ('when')", "acknowledge: yes (question)",
             "tone question (confidence 0.84)", "labelled complaint by ben", "acknowledge: no (labelled complaint)"]
    assert decision_from_reasons(toned, "complaint") == TriageDecision("question", True, "question", "question", 0.84)
    assert decision_from_reasons(["keyword: late"], "complaint") is None  # from before the policy
    assert reply_from_detail("amira#req-1\nHello\nthere") == ReplyRecord("amira", "req-1", "Hello\nthere")
    assert reply_from_detail("omar") == ReplyRecord("omar")

    old = a_ticket(intent="complaint", reasons=toned)
    read = upgraded(old)
    assert read.reasons == toned[:3] and read.decision is not None and read.decision.intent == "question"
    assert read.relabel == TriageDecision("complaint", False, "labelled complaint")
    assert upgraded(read) == read  # a typed ticket is read as it is
