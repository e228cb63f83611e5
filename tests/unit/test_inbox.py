"""The agents' inbox use cases on the in-memory twins: claims, shifts, replies and their limits, every action and
its refusals, expiring claims, oversight. The same use cases behind the real routes, Cognito on moto, the web inbox
and the terminal inbox are tested in tests/integration and tests/e2e."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest

from chalicelib.domain.agent import Agent
from chalicelib.domain.textlength import x_length as x_weighted_length
from chalicelib.domain.triage import policy_acknowledges
from chalicelib.domain.vocabulary import Intent
from chalicelib.usecases.desk import access, actions, claims, oversight, views
from chalicelib.usecases.desk.commands import Label, Note, Reply, SignIn, Transfer
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from chalicelib.usecases.privacy import forget_customer
from chalicelib.usecases.process import process_mention
from tests.conftest import run_memory_pipeline, utc
from tests.unit.test_usecases import outbox_of, tweet

AMIRA = Agent("amira", "Amira", ("customer_service",))
BEN = Agent("ben", "Ben", ("customer_service",))
CHLOE = Agent("chloe", "Chloe", ("team_leads",), lead=True)
OMAR = Agent("omar", "Omar", ("oncall",))
PRIYA = Agent("priya", "Priya", ("comms",))
WEDNESDAY = utc(2026, 11, 25, 10, 0)  # customer service on shift (07:00-20:00 London)


@pytest.fixture
def day(mem, clock):
    clock.set(WEDNESDAY)
    for agent in (AMIRA, BEN, CHLOE, OMAR, PRIYA):
        mem.agents.register(agent, f"{agent.username}-password")
    return mem


def ingest(svc, *mentions) -> None:
    """Each mention processed as the inbound handler would, then whatever was queued for the customer delivered."""
    for mention in mentions:
        process_mention(svc, mention)
    run_memory_pipeline(svc)


def taken(svc, agent: Agent, desk: str | None = None) -> views.TicketView | None:
    """``next``, and the ticket it claimed as the agent sees it (None: nothing was waiting)."""
    got = claims.next_ticket(svc, agent, desk)
    return views.ticket_view(svc, got.ticket, agent) if got.ticket is not None else None


def next_id(svc, agent: Agent) -> str:
    got = claims.next_ticket(svc, agent)
    assert got.ticket_id is not None
    return got.ticket_id


def seen(svc, agent: Agent, outcome) -> dict:
    """An action's outcome as the API answers it (with the ticket's view)."""
    return views.with_view(svc, agent, outcome)


def complaint(n: int, minutes_ago: int, text: str = "my train was cancelled, awful", author: str = ""):
    return tweet(f"90{n:04d}", f"@MeridianRail {text}", at=WEDNESDAY - timedelta(minutes=minutes_ago),
                 author=author or f"7{n:04d}")


def test_sign_in_and_token(day):
    signed = access.sign_in(day, SignIn.from_json({"username": "amira", "password": "amira-password"}))
    assert access.authenticate(day, signed.token) == AMIRA
    assert views.signed_in(day, signed).to_json()["agent"]["on_shift"] == ["customer_service"]
    with pytest.raises(NotAuthenticated, match="wrong username or password"):
        access.sign_in(day, SignIn.from_json({"username": "amira", "password": "nope"}))
    with pytest.raises(NotAuthenticated):
        access.authenticate(day, "forged.token.value")
    with pytest.raises(NotAuthenticated, match="sign in first"):
        access.authenticate(day, None)


def test_next_takes_urgent_first_then_oldest_first_contact(day):
    ingest(day, complaint(1, 50), complaint(2, 90), complaint(3, 10))
    first, second = taken(day, AMIRA), taken(day, BEN)
    assert first and second
    assert first.customer_name == "User 70002" and second.customer_name == "User 70001"
    assert first.held_by_you and first.status == "claimed"
    third = taken(day, AMIRA)
    assert third and third.customer_name == "User 70003"
    assert views.with_view(day, BEN, claims.next_ticket(day, BEN)) == \
        {"ticket": None, "message": "Nothing is waiting on complaints, journeys."}
    assert {t.ticket_id for t in claims.held(day, AMIRA)} == {first.ticket_id, third.ticket_id}


def test_off_shift_team_and_uncovered_desk_are_refused_with_the_reason(day, clock):
    clock.set(utc(2026, 11, 29, 3, 0))  # Sunday night: customer service is off shift
    with pytest.raises(Forbidden, match=r"your team customer_service is off shift; its next shift starts .*09:00"):
        claims.next_ticket(day, AMIRA)
    clock.set(WEDNESDAY)
    with pytest.raises(Forbidden, match="desk press is covered by comms; your teams: customer_service"):
        claims.next_ticket(day, AMIRA, "press")


def test_concurrent_next_never_hands_one_ticket_to_two_agents(day):
    ingest(day, *[complaint(n, 200 - n) for n in range(60)])
    held: dict[str, list[str]] = {"amira": [], "ben": []}

    def work(agent: Agent) -> None:
        for _ in range(40):
            got = claims.next_ticket(day, agent).ticket_id
            if got:
                held[agent.username].append(got)

    threads = [threading.Thread(target=work, args=(a,)) for a in (AMIRA, BEN)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    both = held["amira"] + held["ben"]
    assert len(both) == 60 and len(set(both)) == 60


def test_reply_goes_on_the_customers_channel_and_stays_held(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    result = actions.reply(day, AMIRA, ticket_id, Reply("Sorry Amira here: DM us your booking ref."))
    assert result.queued and result.channel == "x" and not result.private
    sent = outbox_of(day)[-1]
    assert sent["kind"] == "reply" and sent["channel"] == "x" and sent["in_reply_to"] == "900001"
    assert sent["text"] == "Sorry Amira here: DM us your booking ref."
    view = views.ticket_view(day, result.ticket, AMIRA)
    assert view.held_by_you and view.sla.first_response_at
    assert view.told[-1].text == "Sorry Amira here: DM us your booking ref."
    assert day.answers.count_since("complaints", WEDNESDAY - timedelta(hours=1), WEDNESDAY) == 1
    private = actions.reply(day, AMIRA, ticket_id, Reply("Following up by DM", private=True))
    assert private.private and outbox_of(day)[-1]["private"] is True


def test_reply_longer_than_the_channel_allows_is_refused_before_anything_is_queued(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    before = len(outbox_of(day))
    text = "x" * 258 + " https://example.com/" + "a" * 200  # 258 + 1 + 23 = 282 as X counts it
    assert x_weighted_length(text) == 282
    with pytest.raises(Invalid, match="282 characters .* an X post allows 280"):
        actions.reply(day, AMIRA, ticket_id, Reply(text))
    assert len(outbox_of(day)) == before
    actions.reply(day, AMIRA, ticket_id, Reply("x" * 256 + " https://example.com/" + "a" * 200))


def test_acting_on_a_ticket_one_does_not_hold(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    with pytest.raises(Forbidden, match=f"ticket {ticket_id} is held by amira until"):
        actions.reply(day, BEN, ticket_id, Reply("hello"))
    with pytest.raises(Forbidden, match=f"ticket {ticket_id} is held by amira until"):
        actions.resolve(day, OMAR, ticket_id)  # the on-call team may take any desk's ticket, not one held
    with pytest.raises(Forbidden, match="is on desk complaints, which your teams do not cover"):
        actions.resolve(day, PRIYA, ticket_id)


def test_resolved_ticket_refuses_a_reply_with_the_way_to_reopen(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    assert actions.resolve(day, AMIRA, ticket_id).status == "resolved"
    with pytest.raises(Conflict, match=f"is resolved; reopen it first .*inbox reopen {ticket_id}"):
        actions.reply(day, AMIRA, ticket_id, Reply("one more thing"))
    reopened = seen(day, BEN, actions.reopen(day, BEN, ticket_id))["ticket"]
    assert reopened["status"] == "claimed" and reopened["claimed_by"] == "ben"
    actions.reply(day, BEN, ticket_id, Reply("one more thing"))


def test_note_transfer_release_and_the_desk_queue_hears(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    noted = actions.note(day, BEN, ticket_id, Note("Known fault on the 07:12"))
    assert seen(day, BEN, noted)["ticket"]["notes"][0]["text"] == "ben: Known fault on the 07:12"
    moved = seen(day, AMIRA, actions.transfer(day, AMIRA, ticket_id, Transfer("journeys")))["ticket"]
    assert moved["desk"] == "journeys" and moved["status"] == "waiting" and moved["claimed_by"] is None
    desk_msg = day.queues.messages["responder-desk-journeys"][-1]
    assert desk_msg["change"] == "transferred" and desk_msg["from_desk"] == "complaints"
    assert next_id(day, BEN) == ticket_id
    released = claims.release(day, BEN, ticket_id)
    assert released.status == "waiting" and released.ticket_id == ticket_id
    with pytest.raises(Invalid, match="desk must be one of"):
        Transfer.from_json({"desk": "nowhere"}, day.config.desk_ids)


def test_release_after_a_reply_waits_for_the_customer_whose_answer_threads_back(day, clock):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    actions.reply(day, AMIRA, ticket_id, Reply("Which train were you on?"))
    assert claims.release(day, AMIRA, ticket_id).status == "replied"
    assert claims.next_ticket(day, BEN).ticket is None  # not in the queue while we wait for the customer
    run_memory_pipeline(day)  # the reply is sent
    sent = day.sandbox.recent()[0]
    assert sent["in_reply_to"] == "900001" and sent["text"] == "Which train were you on?"
    clock.advance(minutes=5)
    answer = tweet("900999", "@MeridianRail the 07:12 to Leeds", at=clock.now(), author="70001",
                   reply_to=sent["external_id"])
    ingest(day, answer)
    back = taken(day, BEN)
    assert back and back.ticket_id == ticket_id
    assert [m.text for m in back.messages][-1] == "@MeridianRail the 07:12 to Leeds"


def test_claims_expire_when_idle_and_return_to_the_desk(day, clock):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    clock.advance(minutes=day.settings.claim_idle_minutes + 1)
    assert claims.expire_claims(day) == 1
    with pytest.raises(Forbidden, match="your claim on ticket .* expired"):
        actions.reply(day, AMIRA, ticket_id, Reply("hello"))
    assert day.queues.messages["responder-desk-complaints"][-1]["change"] == "released"
    assert next_id(day, BEN) == ticket_id


def test_claim_never_outlives_the_shift(day, clock):
    clock.set(utc(2026, 11, 25, 19, 50))
    ingest(day, tweet("900001", "@MeridianRail my train was cancelled", at=clock.now(), author="1"))
    ticket = taken(day, AMIRA)
    assert ticket and ticket.claim_expires_at == "2026-11-25T20:00:00+00:00"


def test_oversight_for_leads_only(day):
    ingest(day, complaint(1, 30), complaint(2, 20, "you idiots, absolute trash"))
    with pytest.raises(Forbidden, match="oversight is for leads and comms"):
        oversight.oversight(day, AMIRA)
    view = oversight.oversight(day, CHLOE)
    complaints = next(d for d in view.desks if d.desk == "complaints")
    assert complaints.depth >= 1 and complaints.oldest_wait_minutes >= 20
    assert {t.team: t.on_shift for t in view.teams}["customer_service"] is True
    assert len(view.abuse) == 1
    assert view.to_json()["desks"][0] == view.desks[0].to_json()


def test_oversight_says_who_holds_what_and_for_how_long(day, clock):
    ingest(day, complaint(1, 30), complaint(2, 20))
    assert oversight.oversight(day, CHLOE).held == ()
    first = next_id(day, AMIRA)
    clock.advance(minutes=7)
    second = next_id(day, BEN)
    clock.advance(minutes=3)
    held = oversight.oversight(day, CHLOE).held
    assert [(h.agent, h.ticket_id, h.held_minutes) for h in held] == [("amira", first, 10), ("ben", second, 3)]
    assert held[0].desk == "complaints" and held[0].until  # the claim's end, in the brand's time
    assert oversight.oversight(day, CHLOE).to_json()["held"][1] == held[1].to_json()
    claims.release(day, AMIRA, first)
    assert [h.agent for h in oversight.oversight(day, CHLOE).held] == ["ben"]


def test_leads_and_the_on_call_team_may_take_any_desks_ticket(day):
    ingest(day, complaint(1, 30), complaint(2, 20))
    first, second = (t.ticket_id for t in day.tickets.backlog("complaints", limit=2))
    assert seen(day, OMAR, claims.claim(day, OMAR, first))["ticket"]["claimed_by"] == "omar"
    assert seen(day, CHLOE, claims.claim(day, CHLOE, second))["ticket"]["claimed_by"] == "chloe"
    actions.reply(day, OMAR, first, Reply("We're on it: the next train is at 10:42."))
    actions.resolve(day, OMAR, first)
    assert day.tickets.get(first).status == "resolved"


def test_claim_a_named_ticket_waiting_for_the_customer(day):
    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    actions.reply(day, AMIRA, ticket_id, Reply("Which train?"))
    claims.release(day, AMIRA, ticket_id)
    with pytest.raises(Forbidden, match="desk complaints is covered by customer_service; your teams: comms"):
        claims.claim(day, PRIYA, ticket_id)  # comms oversee; they do not take customer service's tickets
    claimed = seen(day, BEN, claims.claim(day, BEN, ticket_id))["ticket"]
    assert claimed["claimed_by"] == "ben"
    with pytest.raises(Forbidden, match="is claimed by ben"):
        claims.claim(day, AMIRA, ticket_id)


# ------------------------------------------------------------------------------------------------ labels
def test_an_agent_labels_the_first_message_and_the_ticket_follows(day):
    ingest(day, complaint(1, 30, "luv the new seats, fabulous crew today"))
    ticket = next(iter(day.tickets.open_tickets()))
    assert ticket.intent == "praise" and not ticket.acked
    labelled = seen(day, BEN, actions.label(day, BEN, ticket.ticket_id, Label.from_json({"intent": "complaint",
                                                                                         "urgent": True})))
    assert labelled["triaged"] == "praise"
    view = labelled["ticket"]
    assert view["intent"] == "complaint" and view["labelled"] == "ben: complaint, urgent (triage: praise)"
    assert view["priority"] == "normal"  # routing stays as it was: the label is the truth, not a re-route
    stored = day.tickets.get(ticket.ticket_id)
    assert policy_acknowledges(stored.intent, stored.current_decision)  # a closing-time acknowledgement follows it
    assert stored.relabel is not None and stored.relabel.intent == "complaint" and stored.relabel.answered
    assert stored.decision is not None and stored.decision.intent == "praise"  # triage's decision is kept
    assert not any(r.startswith("labelled ") for r in stored.reasons)  # the explanation stays triage's
    again = actions.label(day, AMIRA, ticket.ticket_id, Label.from_json({"intent": "praise"}))  # replaces the first
    relabelled = day.tickets.get(ticket.ticket_id)
    assert again.triaged == "praise" and not policy_acknowledges("praise", relabelled.current_decision)
    [given] = day.labels.all()
    assert (given.intent, given.urgent, given.triaged, given.agent) == ("praise", False, "praise", "amira")


def test_a_label_is_refused_with_reasons(day):
    ingest(day, complaint(1, 30))
    ticket_id = next(iter(day.tickets.open_tickets())).ticket_id
    with pytest.raises(Invalid, match="intent must be one of complaint, question, praise, spam, abuse, other"):
        Label.from_json({"intent": "angry"})
    with pytest.raises(Invalid, match="urgent must be true or false"):
        Label.from_json({"intent": "complaint", "urgent": "yes"})
    with pytest.raises(Forbidden, match="your teams do not cover"):
        actions.label(day, PRIYA, ticket_id, Label.from_json({"intent": "complaint"}))
    with pytest.raises(NotFound):
        actions.label(day, AMIRA, "R00000000", Label.from_json({"intent": "complaint"}))
    assert day.labels.all() == []


def test_leads_export_the_labels_in_the_reports_format_without_forgotten_customers(day, clock):
    first = complaint(1, 30, "where is my refund? three weeks now", author="71")
    second = tweet("900002", "@MeridianRail thanks Jo, all sorted", at=WEDNESDAY - timedelta(minutes=20),
                   author="72", reply_to="12345")
    ingest(day, first, second)
    by_author = {t.reply_target.handle: t for t in day.tickets.open_tickets()}
    actions.label(day, BEN, by_author["user71"].ticket_id, Label.from_json({"intent": "question"}))
    actions.label(day, CHLOE, by_author["user72"].ticket_id, Label.from_json({"intent": "praise"}))
    with pytest.raises(Forbidden, match="the labels are for leads and comms"):
        oversight.labels(day, AMIRA)
    export = oversight.labels(day, CHLOE).to_json()
    assert export["columns"][:7] == ["tweet_id", "author_id", "created_at", "text", "reply", "intent", "urgent"]
    rows = {row["tweet_id"]: row for row in export["labels"]}
    assert rows["900001"]["text"] == first.text and rows["900001"]["reply"] == "no"
    assert rows["900001"]["author_id"] == by_author["user71"].customer_id  # the internal id, never the platform's
    assert rows["900002"]["reply"] == "yes" and rows["900002"]["intent"] == "praise"
    assert export["count"] == 2 and export["triage_agreed"] == sum(r["intent"] == r["triaged"] for r in rows.values())
    assert oversight.labels(day, CHLOE, since=(WEDNESDAY + timedelta(minutes=1)).isoformat()).count == 0
    with pytest.raises(Invalid, match="since must be an ISO date"):
        oversight.labels(day, CHLOE, since="last tuesday")
    summary = oversight.oversight(day, CHLOE).to_json()["labels"]
    assert summary["count"] == 2 and summary["days"] == oversight.LABEL_SUMMARY_DAYS
    # the refund complaint was acknowledged; the thanks got the thank-you (answered, though it needed no answer)
    assert (rows["900001"]["triage_acknowledged"], rows["900002"]["triage_acknowledged"]) == ("yes", "yes")
    assert summary["acknowledged"] == {"should": 1, "should_acked": 1, "should_not": 1, "should_not_acked": 1}
    forget_customer(day, "x#71")
    assert [row.tweet_id for row in oversight.labels(day, CHLOE).labels] == ["900002"]
    assert [given.customer_id for given in day.labels.all()] == [by_author["user72"].customer_id]


def test_the_view_says_why_triage_answered_as_it_did_and_keeps_it_after_a_label(day):
    ingest(day, complaint(1, 30, "my train was cancelled again, absolutely awful service"))
    ticket = next(iter(day.tickets.open_tickets()))
    said = views.show(day, AMIRA, ticket.ticket_id).to_json()["triage"]
    assert said["answered"] is True and said["why"]
    assert said["tone"] == ticket.tone == "apology"
    assert said["confidence"] is None or 0 < said["confidence"] <= 1  # None: the rules decided alone
    assert (said["intent"], said["priority"], said["relabelled"]) == ("complaint", ticket.priority, False)
    assert said["signals"] and any(s.startswith("intent complaint") for s in said["signals"])
    assert not any(s.startswith(("acknowledge:", "tone ")) for s in said["signals"])  # shown as the decision

    labelled = seen(day, BEN, actions.label(day, BEN, ticket.ticket_id, Label(Intent.PRAISE)))["ticket"]
    assert labelled["intent"] == "praise" and labelled["triage"]["relabelled"] is True
    assert {k: v for k, v in labelled["triage"].items() if k != "relabelled"} == \
        {k: v for k, v in said.items() if k != "relabelled"}  # what triage decided, not what the label says
    assert not any("labelled" in s for s in labelled["triage"]["signals"])


def test_the_terminal_shows_why_triage_answered(day, monkeypatch):
    from rich.console import Console

    from tools import inbox as terminal

    ingest(day, complaint(1, 30, "my train was cancelled again, absolutely awful service"))
    ticket = next(iter(day.tickets.open_tickets()))
    view = views.show(day, AMIRA, ticket.ticket_id).to_json()
    view["triage"].update(tone="apology", confidence=0.87)
    screen = Console(record=True, width=120, color_system=None, file=io.StringIO())
    monkeypatch.setattr(terminal, "console", screen)
    terminal.render_ticket(view)
    shown = screen.export_text()
    assert "Triage" in shown and "answered  yes — complaint (no automatic reply sent so far)" in shown
    assert "tone      Apology and help (confidence 87 %)" in shown
    assert "gave      complaint · normal" in shown and "signals   intent complaint" in shown
    assert f"inbox label {ticket.ticket_id}" in shown
    view["triage"] = {"answered": False, "why": "spam is never answered by a bot", "tone": "", "confidence": None,
                      "signals": [], "intent": "spam", "priority": "normal", "relabelled": True}
    screen = Console(record=True, width=120, color_system=None, file=io.StringIO())
    screen.print(terminal.triage_table(view["triage"]))
    assert [line.rstrip() for line in screen.export_text().split("\n")[:3]] == [
        "answered  no — spam is never answered by a bot", "tone      Not answered",
        "gave      spam · normal (relabelled since)"]


def test_an_action_from_the_web_form_reads_the_ticket_once_and_builds_no_view(day, monkeypatch):
    from chalicelib.usecases.desk.commands import Action, Given
    from chalicelib.usecases.desk.results import ReplyQueued, TicketTransferred

    ingest(day, complaint(1, 30))
    ticket_id = next_id(day, AMIRA)
    reads = []
    get = day.tickets.get
    monkeypatch.setattr(day.tickets, "get", lambda wanted: reads.append(wanted) or get(wanted))

    def no_view(*args, **kwargs):
        raise AssertionError("a view was built")

    monkeypatch.setattr(views, "ticket_view", no_view)
    replied = actions.act(day, AMIRA, ticket_id, Action.REPLY, Given.of_form({"text": "On it", "request_id": "r1"}))
    assert isinstance(replied, ReplyQueued) and replied.queued and replied.ticket_id == ticket_id
    assert reads == [ticket_id]
    reads.clear()
    moved = actions.act(day, AMIRA, ticket_id, Action.TRANSFER, Given.of_form({"desk": "journeys"}))
    assert isinstance(moved, TicketTransferred) and moved.desk == "journeys" and moved.from_desk == "complaints"
    assert reads == [ticket_id]
