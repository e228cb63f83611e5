"""Searching the words customers wrote (usecases.desk.search, the word index on the in-memory twins): the processing
path indexes every customer's message, a search intersects the words and ranks, access is the desk's, the bounds
say so, and erasure takes the words with the customer. The same through the real routes on moto:
tests/integration/test_word_search_routes."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.usecases.desk import actions, search
from chalicelib.usecases.desk.commands import Transfer
from chalicelib.usecases.privacy import forget_customer
from tests.unit.test_inbox import AMIRA, CHLOE, OMAR, PRIYA, WEDNESDAY, complaint, ingest, next_id


@pytest.fixture
def day(mem, clock):
    clock.set(WEDNESDAY)
    return mem


def ids(result) -> list[str]:
    return [m.ticket_id for m in result.matches]


def ticket_of(svc, mention_key: str) -> str:
    return next(t.ticket_id for t in svc.tickets.open_tickets() if mention_key in t.mention_keys)


def test_the_tickets_with_every_word_come_first_then_the_newest(day):
    ingest(day, complaint(1, 50, "stranded at Didcot Parkway, I want a refund"),
           complaint(2, 40, "refund for my cancelled train please"),
           complaint(3, 30, "the lift at Didcot is broken"),
           complaint(4, 20, "Delay Repay form keeps crashing"))
    both, refund, didcot = (ticket_of(day, f"x#90000{n}") for n in (1, 2, 3))
    found = search.search(day, AMIRA, "Refund DIDCOT")
    assert found.matched == "words" and found.words == ("refund", "didcot") and found.partial is False
    assert ids(found) == [both, didcot, refund]  # both words; then one word each, the newest first
    assert [(m.matched, m.of) for m in found.matches] == [(2, 2), (1, 2), (1, 2)]
    assert found.to_json()["matches"][0] == {
        "ticket_id": both, "status": "waiting", "desk": "complaints", "channel": "x",
        "first_contact_at": (WEDNESDAY - timedelta(minutes=50)).isoformat(), "matched": 2, "of": 2}
    assert search.search(day, AMIRA, "ABC123 volcano").message == "No customer wrote abc123 and volcano."
    assert search.search(day, AMIRA, "x@nobody_known").matched == "identity"  # a handle is never read as words


def test_a_later_message_of_the_customer_makes_its_words_findable_on_their_ticket(day):
    ingest(day, complaint(1, 30, "my train was cancelled", author="71"))
    ticket_id = ticket_of(day, "x#900001")
    nothing = search.search(day, AMIRA, "Swindon")  # a handle or a word: both tried
    assert ids(nothing) == [] and nothing.message == "No customer is known as x@swindon. No customer wrote swindon."
    ingest(day, complaint(2, 10, "still stuck at Swindon, booking ref XK42PQ9", author="71"))
    assert ids(search.search(day, AMIRA, "swindon")) == [ticket_id]
    assert ids(search.search(day, AMIRA, "xk42pq9 cancelled")) == [ticket_id]


def test_a_ticket_moved_to_another_desk_is_found_by_those_who_may_see_it(day):
    ingest(day, complaint(1, 30, "my train stopped after the Didcot derailment"))
    ticket_id = next_id(day, AMIRA)
    assert ids(search.search(day, AMIRA, "derailment")) == [ticket_id]
    assert ids(search.search(day, PRIYA, "derailment")) == []  # comms covers the press desk only
    actions.transfer(day, AMIRA, ticket_id, Transfer("press"))
    assert ids(search.search(day, PRIYA, "derailment")) == [ticket_id]
    assert ids(search.search(day, AMIRA, "derailment")) == []
    assert ids(search.search(day, CHLOE, "derailment")) == [ticket_id]  # a lead sees every desk
    assert ids(search.search(day, OMAR, "derailment")) == [ticket_id]  # so does the on-call team


def test_the_bounds_are_kept_and_said(day, monkeypatch):
    ingest(day, *(complaint(n, 60 - n, f"train {n} cancelled at Reading") for n in range(1, 6)),
           complaint(6, 1, "cancelled again at Oxford"))
    monkeypatch.setattr(search, "PER_WORD", 3)
    reads: list[tuple[str, int]] = []
    tickets, having = day.words.tickets, day.words.having
    monkeypatch.setattr(day.words, "tickets", lambda w, limit: reads.append((w, limit)) or tickets(w, limit))
    monkeypatch.setattr(day.words, "having", lambda w, hits: reads.append((w, len(hits))) or having(w, hits))
    found = search.search(day, AMIRA, "cancelled oxford")
    # oxford's list is complete (one ticket) and drives; cancelled's, cut at 3, is asked about it by key: no read
    # is needed, it is in cancelled's newest three
    assert reads == [("cancelled", 3), ("oxford", 3)]
    assert [(m.matched, m.of) for m in found.matches] == [(2, 2), (1, 2), (1, 2)] and found.partial is True
    assert "Only the newest tickets" in found.message
    reads.clear()
    reading = search.search(day, AMIRA, "Reading cancelled")
    # both cut short, as long: the first drives; its newest ticket not in reading's three is asked about by key
    assert reads == [("cancelled", 3), ("reading", 3), ("reading", 1)]
    assert reading.partial is True and len(reading.matches) == 4
    monkeypatch.setattr(search, "RESULTS", 2)
    assert len(search.search(day, AMIRA, "oxford reading").matches) == 2


def test_the_rarest_words_tickets_are_checked_against_a_common_word_by_key(day, monkeypatch):
    ingest(day, complaint(1, 50, "refund for Didcot please"),
           *(complaint(n, 40 - n, f"refund number {n}") for n in range(2, 6)))
    monkeypatch.setattr(search, "PER_WORD", 2)
    found = search.search(day, AMIRA, "didcot refund")
    assert ids(found)[0] == ticket_of(day, "x#900001") and found.matches[0].matched == 2  # older than refund's two


def test_erasure_takes_the_words_of_the_customers_messages(day):
    ingest(day, complaint(1, 30, "stranded at Didcot with two kids", author="71"),
           complaint(2, 20, "stranded at Didcot too", author="72"))
    kept = ticket_of(day, "x#900002")
    assert len(search.search(day, AMIRA, "stranded didcot").matches) == 2
    removed = forget_customer(day, "x#71")
    assert removed["words"] == 4 and removed["tickets"] == 1  # stranded, didcot, two, kids
    assert ids(search.search(day, AMIRA, "stranded didcot")) == [kept]
    assert ids(search.search(day, AMIRA, "kids")) == []


def test_a_merged_tickets_words_find_the_ticket_it_carries_on_as(day):
    ingest(day, complaint(1, 30, "lost my bag on the Penzance sleeper", author="71"),
           complaint(2, 20, "Penzance sleeper cabin was freezing", author="72"))
    merged, survivor = ticket_of(day, "x#900001"), ticket_of(day, "x#900002")
    day.tickets.update(merged, lambda t: t.merge_into(survivor, day.now()))
    assert ids(search.search(day, AMIRA, "bag")) == [survivor]
    assert ids(search.search(day, AMIRA, "penzance sleeper")) == [survivor]  # once, with both words
