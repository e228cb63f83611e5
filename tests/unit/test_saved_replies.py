"""Saved replies on the in-memory twins: rendered for one ticket (name, reference, link policy, the desk's next
opening, the incident), counted for its reply channel, filtered by desk and language, read-only for agents who may
see the ticket; leads' own entries checked as the brand file's are. The route, the web inbox and the terminal are
tested in tests/integration/test_saved_replies_routes.py and tests/e2e."""
from __future__ import annotations

import pytest

from chalicelib.domain.incident import Incident
from chalicelib.usecases.desk import saved_replies as saved
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotFound
from tests.conftest import utc
from tests.unit.test_inbox import AMIRA, CHLOE, PRIYA, WEDNESDAY, complaint, ingest, next_id


@pytest.fixture
def day(mem, clock):
    clock.set(WEDNESDAY)
    for agent in (AMIRA, CHLOE, PRIYA):
        mem.agents.register(agent, f"{agent.username}-password")
    return mem


def _ticket(svc, text: str = "my train was cancelled, awful", n: int = 1) -> str:
    ingest(svc, complaint(n, 5, text))
    return next_id(svc, AMIRA)


def _set_language(svc, ticket_id: str, language: str) -> None:
    svc.tickets.update(ticket_id, lambda t: setattr(t, "language", language))


def test_the_entries_of_the_tickets_desk_rendered_for_it(day):
    ticket_id = _ticket(day)
    view = saved.saved_replies(day, AMIRA, ticket_id)
    assert view.desk == "complaints" and view.channel == "x" and not view.private and view.limit == 280
    ids = [r.id for r in view.replies]
    assert "delay_repay" in ids and "thanks_praise" in ids and "passing_to_oncall" in ids
    assert "lost_property" not in ids  # journeys only
    assert "merci_remerciements" not in ids  # French
    repay = view.get("delay_repay")
    assert repay is not None and repay.source == "brand"
    assert repay.text.startswith("Sorry for the delay, User 70001. You can claim Delay Repay")
    assert repay.text.endswith(f"Ref {ticket_id}") and repay.fits and repay.length <= 280
    oncall = view.get("passing_to_oncall")
    assert oncall is not None and "http" not in oncall.text  # a public X reply carries no link
    assert "is back" not in oncall.text  # the desk is open: no eta
    assert view.to_json()["replies"][0].keys() >= {"id", "title", "text", "length", "limit", "fits", "problem"}


def test_without_an_incident_the_cancellation_says_the_ticket_is_valid(day):
    view = saved.saved_replies(day, AMIRA, _ticket(day))
    cancellation = view.get("cancellation_incident")
    assert cancellation is not None
    assert "Your ticket is valid on the next service." in cancellation.text


def test_with_an_active_incident_its_text_is_in_and_its_link_only_where_links_are_allowed(day):
    day.incidents.put(Incident("inc1", "Signal failure at Reading", text="Trains are delayed by up to 40 minutes",
                               url="https://meridian.example/incidents/1", desks=("complaints",),
                               declared_at=WEDNESDAY))
    ticket_id = _ticket(day)
    public = saved.saved_replies(day, AMIRA, ticket_id).get("cancellation_incident")
    assert public is not None
    assert "Trains are delayed by up to 40 minutes." in public.text and "https://" not in public.text
    assert "valid on the next service" not in public.text
    private = saved.saved_replies(day, AMIRA, ticket_id, private=True)
    assert private.private and private.limit > 280
    dm = private.get("cancellation_incident")
    assert dm is not None and "https://meridian.example/incidents/1" in dm.text
    oncall = private.get("passing_to_oncall")
    assert oncall is not None and "http" in oncall.text  # a private reply keeps the status link


def test_a_resolved_incident_is_not_given(day):
    day.incidents.put(Incident("inc2", "Power fault", text="Lines blocked", desks=("complaints",), status="resolved"))
    cancellation = saved.saved_replies(day, AMIRA, _ticket(day)).get("cancellation_incident")
    assert cancellation is not None and "Lines blocked" not in cancellation.text


def test_a_closed_desk_gives_its_next_opening_as_acknowledgements_word_it(day, clock):
    ticket_id = _ticket(day)
    clock.set(utc(2026, 11, 25, 21, 0))  # customer service went off shift at 20:00
    oncall = saved.saved_replies(day, AMIRA, ticket_id).get("passing_to_oncall")
    assert oncall is not None
    assert "(the rest of the team is back at 07:00 tomorrow GMT)" in oncall.text


def test_a_text_too_long_for_x_is_flagged_with_the_reason(day):
    saved.save(day, CHLOE, {"id": "long_apology", "title": "Long apology", "desks": ["complaints"],
                            "text": "We are very sorry. " * 20 + "Ref {{ reference }}"})
    view = saved.saved_replies(day, AMIRA, _ticket(day))
    long = view.get("long_apology")
    assert long is not None and long.source == "lead"
    assert not long.fits and long.length > 280 and long.limit == 280
    assert long.problem.startswith(f"the reply is {long.length} characters") and "allows 280" in long.problem
    assert view.get("delay_repay") is not None and view.get("delay_repay").fits


def test_entries_follow_the_tickets_language_and_fall_back_to_the_brands(day):
    ticket_id = _ticket(day)
    _set_language(day, ticket_id, "fr")
    french = saved.saved_replies(day, AMIRA, ticket_id)
    assert french.language == "fr" and [r.id for r in french.replies] == ["merci_remerciements"]
    _set_language(day, ticket_id, "de")  # no German entry: the brand's language
    german = saved.saved_replies(day, AMIRA, ticket_id)
    assert german.language == "en" and "delay_repay" in [r.id for r in german.replies]


def test_the_name_is_never_an_address(day):
    ticket_id = _ticket(day)
    target = day.tickets.get(ticket_id).reply_target
    from dataclasses import replace

    assert saved._greeting_name(replace(target, name="pat@example.org")) == ""
    assert saved._greeting_name(replace(target, name="Pat Lee")) == "Pat Lee"


def test_only_agents_who_may_see_the_ticket_see_them(day):
    ticket_id = _ticket(day)
    with pytest.raises(Forbidden, match="which your teams do not cover"):
        saved.saved_replies(day, PRIYA, ticket_id)
    assert saved.saved_replies(day, CHLOE, ticket_id).replies  # a lead sees every desk
    with pytest.raises(NotFound):
        saved.saved_replies(day, AMIRA, "RNOSUCH")


def test_leads_add_edit_and_delete_their_own_checked_as_the_brand_files(day):
    entry = {"id": "refund_form", "title": "Refund form", "desks": ["journeys"],
             "text": "Hi {{ name }}, ref {{ reference }}"}
    with pytest.raises(Forbidden, match="only leads"):
        saved.save(day, AMIRA, entry)
    added = saved.save(day, CHLOE, entry)
    assert added.source == "lead" and added.by == "chloe"
    saved.save(day, CHLOE, {**entry, "title": "Refund form (edited)"})
    listed = saved.listing(day, CHLOE)
    assert listed.may_manage and listed.get("refund_form").reply.title == "Refund form (edited)"
    assert listed.get("delay_repay").source == "brand"
    with pytest.raises(Conflict, match="brand file"):
        saved.save(day, CHLOE, {**entry, "id": "delay_repay"})
    with pytest.raises(Invalid, match=r"unknown template variable\(s\) customer"):
        saved.save(day, CHLOE, {**entry, "text": "Hi {{ customer }}"})
    with pytest.raises(Invalid, match="template does not parse"):
        saved.save(day, CHLOE, {**entry, "text": "Hi {{ name }"})
    with pytest.raises(Invalid, match="unknown desk parcels"):
        saved.save(day, CHLOE, {**entry, "desks": ["parcels"]})
    with pytest.raises(Invalid, match="id"):
        saved.save(day, CHLOE, {**entry, "id": "Refund Form"})
    with pytest.raises(Conflict):
        saved.delete(day, CHLOE, "delay_repay")
    assert saved.delete(day, CHLOE, "refund_form").reply.id == "refund_form"
    with pytest.raises(NotFound):
        saved.delete(day, CHLOE, "refund_form")
