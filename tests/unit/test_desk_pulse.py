"""What a page that stays open learns without reloading: desks' depth, and what the agent's held tickets need."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.usecases.desk import actions
from chalicelib.usecases.desk.commands import Reply
from chalicelib.usecases.desk.pulse import pulse
from chalicelib.usecases.process import process_mention
from tests.unit.test_inbox import AMIRA, BEN, complaint, ingest, next_id
from tests.unit.test_inbox import day as day  # noqa: F401  (the fixture: a Wednesday, agents registered)
from tests.unit.test_usecases import tweet


def depth(view, desk: str = "complaints") -> int:
    return next(d.depth for d in view.desks if d.desk == desk)


def test_another_agent_taking_a_ticket_changes_the_desk_and_the_version(day):  # noqa: F811
    ingest(day, complaint(1, 30), complaint(2, 20))
    before = pulse(day, AMIRA)
    assert depth(before) == 2 and before.held == () and before.news == ()
    assert pulse(day, AMIRA).version == before.version  # nothing changed: the page redraws nothing
    next_id(day, BEN)
    after = pulse(day, AMIRA)
    assert depth(after) == 1 and after.version != before.version


def test_a_held_ticket_says_when_the_customer_wrote_again_and_when_its_answer_falls_due(day, clock):  # noqa: F811
    ingest(day, complaint(1, 30, author="71111"))
    ticket_id = next_id(day, AMIRA)
    held = pulse(day, AMIRA).held[0]
    assert held.ticket_id == ticket_id and held.customer_answered is False and held.due_in_minutes is not None
    actions.reply(day, AMIRA, ticket_id, Reply("Which train was it?"))
    assert pulse(day, AMIRA).held[0].due_in_minutes is None  # answered: nothing falls due
    quiet = pulse(day, AMIRA)
    clock.advance(minutes=2)
    process_mention(day, tweet("900777", "@MeridianRail the 07:12 to Leeds", at=clock.now(), author="71111"))
    now = pulse(day, AMIRA)
    assert now.held[0].customer_answered is True and now.version != quiet.version
    assert now.news == (f"{ticket_id}: the customer wrote again",)
    assert now.to_json()["news"] == list(now.news) and now.to_json()["held"][0]["customer_answered"] is True


def test_a_first_response_due_soon_is_news(day, clock):  # noqa: F811
    ingest(day, complaint(1, 0, author="72222"))
    [waiting] = day.tickets.backlog("complaints", limit=5)
    clock.set(waiting.first_response_due - timedelta(minutes=5))
    ticket_id = next_id(day, AMIRA)
    assert pulse(day, AMIRA).news == (f"{ticket_id}: first response due in 5 min",)
    clock.advance(minutes=6)
    assert pulse(day, AMIRA).news == (f"{ticket_id}: first response is overdue",)


def test_urgent_tickets_waiting_on_a_desk_are_named_so_a_page_can_notify_of_each(day, clock):  # noqa: F811
    ingest(day, complaint(1, 30))
    quiet = pulse(day, AMIRA)
    assert all(d.urgent == () for d in quiet.desks)
    process_mention(day, tweet("900888", "@MeridianRail stranded at Didcot Parkway with two kids, no trains, no "
                                         "staff, please help", at=clock.now(), author="73333"))
    [urgent] = day.tickets.queue_page("complaints", "waiting", urgent=True, limit=5).tickets
    now = pulse(day, AMIRA)
    desk = next(d for d in now.desks if d.desk == "complaints")
    assert desk.urgent == (urgent.ticket_id,) and now.version != quiet.version
    assert f"complaints: urgent ticket {urgent.ticket_id} waiting" in now.news
    assert {"complaints": [urgent.ticket_id]}.items() <= {d["desk"]: d["urgent"]
                                                          for d in now.to_json()["desks"]}.items()
