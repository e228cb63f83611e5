"""A desk's tickets as a list (filters, order, a cursor that pages through everything), search by reference and by
identity or handle, the customer's history on the ticket view, and the one-step actions — on the memory twins."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.ticket import Ticket
from chalicelib.usecases.desk import actions, claims, lists, search, views
from chalicelib.usecases.desk.commands import Action, Given, ListFilters, Next
from chalicelib.usecases.errors import Forbidden, Invalid, NotFound
from tests.unit.test_inbox import AMIRA, BEN, CHLOE, OMAR, WEDNESDAY, complaint, ingest, next_id


@pytest.fixture
def day(mem, clock):
    clock.set(WEDNESDAY)
    return mem


def made(desk: str, n: int, *, minutes: int = 0, **changes) -> Ticket:
    at = WEDNESDAY - timedelta(hours=5) + timedelta(minutes=minutes)
    ticket = Ticket(ticket_id=f"R{n:08d}", desk=desk, priority="normal", intent="complaint", channel="x",
                    conversation_key=f"x#c{n}", customer_id=f"C{n}", first_contact_at=at, last_customer_at=at,
                    first_response_due=at + timedelta(hours=6))
    return replace(ticket, **changes)


def every_page(svc, agent, desk, filters=None, limit=25):
    filters = filters or ListFilters()
    rows, cursor, pages = [], None, 0
    while True:
        page = lists.desk_tickets(svc, agent, desk, filters, cursor, limit)
        rows += [r.ticket_id for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return rows, pages


def test_151_waiting_tickets_page_through_completely_in_queue_order(day):
    tickets = [made("complaints", n, minutes=n, priority="urgent" if n % 7 == 0 else "normal") for n in range(151)]
    for t in tickets:
        day.tickets.add(t)
    first = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(), None, 50)
    assert first.total == 151 and len(first.rows) == 50 and first.next_cursor
    rows, pages = every_page(day, AMIRA, "complaints", limit=50)
    assert rows == [t.ticket_id for t in sorted(tickets, key=lambda t: t.backlog_order)]
    assert len(set(rows)) == 151 and pages == 4
    assert first.to_json()["tickets"][0]["sla_due"] and first.to_json()["next_cursor"] == first.next_cursor


def test_filters_apply_to_every_page_and_the_read_cap_says_so(day, monkeypatch):
    for n in range(60):
        day.tickets.add(made("complaints", n, minutes=n, flags=["high_reach"] if n % 20 == 0 else [],
                             channel="email" if n % 2 else "x"))
    rows, _ = every_page(day, AMIRA, "complaints", ListFilters(flag="high_reach"), limit=2)
    assert rows == ["R00000000", "R00000020", "R00000040"]
    assert len(every_page(day, AMIRA, "complaints", ListFilters(channel="email"), limit=7)[0]) == 30
    monkeypatch.setattr(lists, "READ_CAP", 25)
    page = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(flag="high_reach"), None, 5)
    assert page.partial and [r.ticket_id for r in page.rows] == ["R00000000", "R00000020"] and page.next_cursor
    assert page.total is None  # counted only for the plain queue
    rest = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(flag="high_reach"), page.next_cursor, 5)
    assert [r.ticket_id for r in rest.rows] == ["R00000040"]


def test_states_held_by_mine_priority_and_sla(day):
    for n in range(6):
        day.tickets.add(made("complaints", n, minutes=n, priority="urgent" if n == 5 else "normal",
                             first_response_due=WEDNESDAY + timedelta(minutes=90 - n * 10)))
    mine = next_id(day, AMIRA)  # the urgent one
    ben = next_id(day, BEN)
    mine_only = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(held_by="mine", state="claimed"))
    assert [r.ticket_id for r in mine_only.rows] == [mine]
    held = lists.desk_tickets(day, AMIRA, "complaints", ListFilters.from_query({"held_by": "ben"}))
    assert [(r.ticket_id, r.claimed_by) for r in held.rows] == [(ben, "ben")]
    day.tickets.update(ben, lambda t: t.replied("ben", day.now(), text="On it"))
    claims.release(day, BEN, ben)
    replied = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(state="replied"))
    assert [(r.ticket_id, r.awaiting_customer) for r in replied.rows] == [(ben, True)]
    everything = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(state="open"), None, 3)
    rows, _ = every_page(day, AMIRA, "complaints", ListFilters(state="open"), limit=3)
    assert len(rows) == 6 and rows[-2:] == [mine, ben] and everything.next_cursor
    assert [r.priority for r in lists.desk_tickets(day, AMIRA, "complaints", ListFilters(priority="normal")).rows] \
        == ["normal"] * 4
    by_due = [r.ticket_id for r in lists.desk_tickets(day, AMIRA, "complaints", ListFilters(sort="sla"), None, 2).rows]
    assert by_due == ["R00000004", "R00000003"]
    assert every_page(day, AMIRA, "complaints", ListFilters(sort="sla"), limit=3)[0] == \
        ["R00000004", "R00000003", "R00000002", "R00000001"]
    soon = lists.desk_tickets(day, AMIRA, "complaints", ListFilters(due_within=55))
    assert [r.ticket_id for r in soon.rows] == ["R00000004"]


def test_list_refusals(day):
    with pytest.raises(NotFound):
        lists.desk_tickets(day, AMIRA, "nowhere", ListFilters())
    with pytest.raises(Forbidden):
        lists.desk_tickets(day, OMAR, "complaints", ListFilters())
    lists.desk_tickets(day, CHLOE, "complaints", ListFilters())  # a lead sees every desk
    with pytest.raises(Invalid, match="cursor"):
        lists.desk_tickets(day, AMIRA, "complaints", ListFilters(), "not-a-cursor")
    sla_cursor = lists.encode_cursor({"due": "x", "ticket_id": "R1"})
    with pytest.raises(Invalid, match="another sort"):
        lists.desk_tickets(day, AMIRA, "complaints", ListFilters(), sla_cursor)
    for bad in ({"state": "lost"}, {"due_within": "soon"}, {"priority": "high"}, {"flag": "<script>"}):
        with pytest.raises(Invalid):
            ListFilters.from_query(bad)
    assert ListFilters.from_query({"state": "open", "sort": "sla"}).to_query() == {"state": "open", "sort": "sla"}


def test_search_by_reference_identity_and_handle_and_the_history(day):
    ingest(day, complaint(1, 30, author="71111"))
    first = next_id(day, AMIRA)
    actions.resolve(day, AMIRA, first)
    day.clock.advance(days=9)  # past the reopen window: a new ticket
    ingest(day, replace(complaint(2, 0, author="71111"), created_at=day.now()))
    second = next(t for t in day.tickets.for_customer(day.tickets.get(first).customer_id) if t.ticket_id != first)
    by_ref = search.search(day, AMIRA, first.lower())
    assert by_ref.matched == "reference" and {t.ticket_id for t in by_ref.tickets} == {first, second.ticket_id}
    identity = by_ref.customers[0].identities[0]
    by_identity = search.search(day, AMIRA, identity)
    assert by_identity.matched == "identity" and by_identity.customers[0].tickets[0].ticket_id == second.ticket_id
    handle = next(i for i in by_ref.customers[0].identities if i.startswith("x@"))
    assert search.search(day, AMIRA, "@" + handle[2:].upper()).customers == by_identity.customers
    assert search.search(day, AMIRA, "x@nobody_here").message.startswith("No customer")
    by_words = search.search(day, AMIRA, "train cancelled")  # the words customers wrote (tests/unit/test_word_search)
    assert by_words.matched == "words" and {m.ticket_id for m in by_words.matches} == {first, second.ticket_id}
    assert search.candidates("@pat.bsky.social") == ["bluesky@pat.bsky.social"]
    assert search.candidates("@Pat") == ["x@pat"]
    assert search.candidates("ada@example.org") == ["mastodon@ada@example.org", "email#ada@example.org"]
    view = views.show(day, AMIRA, second.ticket_id)
    assert [h.ticket_id for h in view.history] == [first]
    assert view.to_json()["history"][0] == {"ticket_id": first, "status": "resolved", "desk": view.desk,
                                            "channel": "x", "first_contact_at": view.history[0].first_contact_at}


def test_reply_resolve_reply_release_and_resolve_next_are_one_step_each(day):
    ingest(day, complaint(1, 30), complaint(2, 20), complaint(3, 10))
    one = next_id(day, AMIRA)
    done = actions.act(day, AMIRA, one, Action.REPLY_RESOLVE, Given.of_json(lambda: {"text": "Sorted, sorry"}))
    assert done.status == "resolved" and done.reply.queued
    assert views.with_view(day, AMIRA, done)["then"] == "resolved"
    two = next_id(day, AMIRA)
    with pytest.raises(Invalid):  # too long for X: nothing resolved
        actions.act(day, AMIRA, two, Action.REPLY_RESOLVE, Given.of_json(lambda: {"text": "x" * 5000}))
    assert day.tickets.get(two).status == "claimed"
    with pytest.raises(Forbidden):  # not the holder: nothing released
        actions.act(day, BEN, two, Action.REPLY_RELEASE, Given.of_json(lambda: {"text": "Hello"}))
    released = actions.act(day, AMIRA, two, Action.REPLY_RELEASE, Given.of_json(lambda: {"text": "Can you DM?"}))
    assert released.status == "replied" and day.tickets.get(two).claimed_by is None
    three = next_id(day, AMIRA)
    ingest(day, complaint(4, 5))
    moved = actions.act(day, AMIRA, three, Action.RESOLVE_NEXT, Given.of_json(lambda: {}))
    assert day.tickets.get(three).status == "resolved" and moved.next.ticket_id
    answer = views.with_view(day, AMIRA, moved)
    assert answer["resolved"] == {"ticket_id": three, "status": "resolved"}
    assert answer["ticket"]["ticket_id"] == moved.next.ticket_id and answer["ticket"]["held_by_you"]
    last = actions.resolve_next(day, AMIRA, moved.next.ticket_id, Next())
    assert last.next.ticket is None and last.next.message
