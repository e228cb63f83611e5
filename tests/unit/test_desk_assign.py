"""A lead (or the agent who holds it) gives a ticket to a named agent at work who may take it: it is in their
tickets at once, the timeline says who gave it, and the desk hears of it."""
from __future__ import annotations

import pytest

from chalicelib.domain.history import Claimed
from chalicelib.usecases.desk import access, actions, claims, views
from chalicelib.usecases.desk.assign import assign
from chalicelib.usecases.desk.commands import Assign, Given, Reply, SignIn
from chalicelib.usecases.errors import Forbidden, Invalid
from tests.unit.test_inbox import AMIRA, BEN, CHLOE, OMAR, PRIYA, complaint, ingest
from tests.unit.test_inbox import day as day  # noqa: F401  (the fixture: a Wednesday, agents registered)


def signs_in(svc, agent) -> None:
    access.sign_in(svc, SignIn.from_json({"username": agent.username, "password": f"{agent.username}-password"}))


def waiting_ticket(svc) -> str:
    ingest(svc, complaint(1, 30))
    [ticket] = svc.tickets.backlog("complaints", limit=5)
    return ticket.ticket_id


def test_a_lead_gives_a_waiting_ticket_to_an_agent_at_work(day):  # noqa: F811
    ticket_id = waiting_ticket(day)
    signs_in(day, BEN)
    view = views.ticket_view(day, day.tickets.get(ticket_id), CHLOE)
    assert "ben" in view.assignable and "priya" not in view.assignable  # comms do not take customer service's
    done = assign(day, CHLOE, ticket_id, Assign("ben"))
    assert done.agent == "ben" and done.ticket.claimed_by == "ben" and done.ticket.status == "claimed"
    assert [t.ticket_id for t in claims.held(day, BEN)] == [ticket_id]
    assert done.ticket.timeline[-1] == Claimed(done.ticket.timeline[-1].at, "ben", by="chloe")
    assert any(m["event"] == "ticket.updated" and m.get("change") == "assigned"
               for m in day.queues.take("responder-desk-complaints"))
    actions.reply(day, BEN, ticket_id, Reply("On it: which train was it?"))  # and Ben may act on it


def test_the_holder_hands_over_and_nobody_else_assigns(day):  # noqa: F811
    ticket_id = waiting_ticket(day)
    claims.next_ticket(day, AMIRA)
    signs_in(day, BEN)
    with pytest.raises(Forbidden, match="only a lead, or the agent who holds the ticket"):
        assign(day, BEN, ticket_id, Assign("ben"))
    assert views.ticket_view(day, day.tickets.get(ticket_id), AMIRA).assignable == ("ben",)
    assign(day, AMIRA, ticket_id, Assign("ben"))
    assert claims.held(day, AMIRA) == [] and [t.ticket_id for t in claims.held(day, BEN)] == [ticket_id]


def test_an_agent_not_at_work_or_who_may_not_take_it_is_refused_with_why(day):  # noqa: F811
    ticket_id = waiting_ticket(day)
    with pytest.raises(Invalid, match="ben has not signed in today"):
        assign(day, CHLOE, ticket_id, Assign("ben"))
    signs_in(day, PRIYA)
    with pytest.raises(Invalid, match="priya cannot take ticket .*covered by customer_service; your teams: comms"):
        assign(day, CHLOE, ticket_id, Assign("priya"))
    signs_in(day, OMAR)  # the on-call team may take any desk's ticket
    assert assign(day, CHLOE, ticket_id, Assign("omar")).ticket.claimed_by == "omar"


def test_assign_is_an_action_by_name_from_json_or_a_form(day):  # noqa: F811
    ticket_id = waiting_ticket(day)
    signs_in(day, BEN)
    with pytest.raises(Invalid, match="agent must be the username"):
        actions.act(day, CHLOE, ticket_id, actions.Action.ASSIGN, Given.of_json(lambda: {"agent": ""}))
    done = actions.act(day, CHLOE, ticket_id, actions.Action.ASSIGN, Given.of_form({"agent": "ben"}))
    assert done.ticket.claimed_by == "ben"
