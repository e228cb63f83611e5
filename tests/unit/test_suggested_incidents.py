"""Suggested incidents on the in-memory stores (the same contract as DynamoDB: tests/contract/
test_place_sightings): the burst rule (5 posts naming one place within 10 minutes, by the brand file), one per place
while it is live, a redelivered message counted once, nothing suggested where an incident is already active, and a
lead's declaration or dismissal, once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.agent import Agent
from chalicelib.domain.mention import Mention
from chalicelib.usecases import incidents, suggested_incidents
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotFound
from tests.conftest import utc
from tests.helpers import a_ticket

T0 = utc(2026, 11, 29, 3, 0)
LEAD = Agent("chloe", "Chloe Martin", ("team_leads",), lead=True)
AGENT = Agent("amira", "Amira", ("customer_service",))


def post(svc, n: int, minute: float, text: str = "Signal failure at Reading, nothing moving", channel: str = "x"):
    """Message ``n``, written ``minute`` minutes after 03:00, on ticket R-<n>, as processing records it."""
    mention = Mention(channel=channel, external_id=str(9000 + n), conversation_id=str(9000 + n),
                      author_id=str(500 + n), author_handle=f"traveller{n}", text=text,
                      created_at=T0 + timedelta(minutes=minute))
    suggested_incidents.note_places(svc, mention, a_ticket(f"R-{n}", mention.created_at))
    return mention


def shown(svc, minutes_later: float = 12):
    return suggested_incidents.live(svc, T0 + timedelta(minutes=minutes_later))


def test_four_posts_are_no_burst_and_the_fifth_within_ten_minutes_is(mem):
    for n, minute in enumerate((0, 2, 4, 6)):
        post(mem, n, minute)
    assert shown(mem) == () and mem.sightings.suggestion("Reading") is None
    post(mem, 4, 9.5)
    [suggestion] = shown(mem)
    assert (suggestion.place, suggestion.count, suggestion.minutes) == ("Reading", 5, 10)
    assert suggestion.since == T0.isoformat() and suggestion.since_time == "03:00"  # London is on UTC in November
    assert [p.ticket_id for p in suggestion.posts] == ["R-0", "R-1", "R-2", "R-3", "R-4"]
    first = suggestion.posts[0]
    assert (first.channel, first.author, first.time, first.link) == ("x", "traveller0", "03:00",
                                                                     "https://x.com/i/web/status/9000")
    assert first.text == "Signal failure at Reading, nothing moving"
    assert suggestion.declare == {"title": "Disruption at Reading", "keywords": ["reading"], "desks": [], "url": "",
                                  "text": suggested_incidents.prefilled("Reading")["text"]}


def test_five_posts_over_eleven_minutes_are_no_burst(mem):
    for n, minute in enumerate((0, 2.75, 5.5, 8.25, 11)):
        post(mem, n, minute)
    assert shown(mem, 13) == () and mem.sightings.suggestion("Reading") is None


def test_the_same_message_twice_counts_once(mem):
    for n, minute in enumerate((0, 1, 2, 3)):
        post(mem, n, minute)
    post(mem, 3, 3)  # redelivered
    post(mem, 3, 3)
    assert mem.sightings.suggestion("Reading") is None
    post(mem, 4, 4)
    assert [s.count for s in shown(mem)] == [5]


def test_a_message_naming_no_place_costs_nothing(mem):
    calls = []
    mem.stores = type(mem.stores)(**{**mem.stores.__dict__, "sightings": Recording(mem.sightings, calls)})
    post(mem, 1, 0, "@MeridianRail my train was cancelled and nobody told us")
    post(mem, 3, 1, "Stuck outside Didcot again")  # the place is "Didcot Parkway"
    assert calls == []
    post(mem, 2, 2, "Stuck outside Didcot Parkway and Reading")  # two places: one write and one query each
    assert calls == ["add", "between", "add", "between"]


class Recording:
    """The store, recording which of its methods are called."""

    def __init__(self, store, calls):
        self.store, self.calls = store, calls

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.store, name)


def test_one_suggestion_per_place_while_it_is_live_and_more_posts_add_to_it(mem):
    for n in range(5):
        post(mem, n, n)
    first = mem.sightings.suggestion("Reading")
    for n in range(5, 9):
        post(mem, n, n + 20)  # a second burst, still within the quiet hour
    post(mem, 9, 29)  # five within ten minutes again: the same suggestion, its latest burst post moved on
    again = mem.sightings.suggestion("Reading")
    assert again.suggestion_id == first.suggestion_id and again.last_at == T0 + timedelta(minutes=29)
    [view] = shown(mem, 30)
    assert view.count == 10 and view.minutes == 29
    # another place has its own
    for n in range(10, 15):
        post(mem, n, n, "Swindon: the 03:10 is cancelled")
    assert [s.place for s in shown(mem, 30)] == ["Reading", "Swindon"]


def test_after_an_hour_of_quiet_a_new_burst_is_a_new_suggestion(mem):
    for n in range(5):
        post(mem, n, n)
    first = mem.sightings.suggestion("Reading")
    assert shown(mem, 4 + 60) != () and shown(mem, 4 + 61) == ()  # over, unseen, after six windows of quiet
    for n in range(5, 10):
        post(mem, n, n + 70)
    second = mem.sightings.suggestion("Reading")
    assert second.suggestion_id != first.suggestion_id and second.since == T0 + timedelta(minutes=75)


def test_a_place_an_active_incident_names_is_not_suggested(mem):
    incidents.declare(mem, {"title": "Flooding at Reading", "keywords": ["reading"]})
    for n in range(6):
        post(mem, n, n)
    assert mem.sightings.suggestion("Reading") is None and shown(mem) == ()


def test_a_lead_declares_it_once_with_the_prefilled_form_for_what_they_left_out(mem):
    for n in range(5):
        post(mem, n, n)
    [view] = shown(mem)
    with pytest.raises(Forbidden):
        suggested_incidents.declare(mem, AGENT, view.suggestion_id, {})
    with pytest.raises(NotFound):
        suggested_incidents.declare(mem, LEAD, "SUG-NOPE", {})
    with pytest.raises(Invalid):  # refused: the suggestion stays to decide
        suggested_incidents.declare(mem, LEAD, view.suggestion_id, {"title": "x"})
    incident = suggested_incidents.declare(mem, LEAD, view.suggestion_id,
                                           {"text": "Signalling fault: trains may be cancelled."})
    assert (incident.title, incident.text, incident.keywords, incident.desks, incident.declared_by) == (
        "Disruption at Reading", "Signalling fault: trains may be cancelled.", ("reading",), (), "chloe")
    assert mem.incidents.active() == [incident] and shown(mem) == ()
    with pytest.raises(Conflict, match=incident.incident_id):
        suggested_incidents.declare(mem, LEAD, view.suggestion_id, {})
    with pytest.raises(Conflict):
        suggested_incidents.dismiss(mem, LEAD, view.suggestion_id)
    post(mem, 7, 8)  # more posts: the incident covers them
    assert mem.sightings.suggestion("Reading").status == "declared" and len(mem.incidents.all()) == 1


def test_a_dismissed_place_stays_quiet_until_an_hour_without_posts(mem):
    for n in range(5):
        post(mem, n, n)
    [view] = shown(mem)
    assert suggested_incidents.dismiss(mem, LEAD, view.suggestion_id) == {"dismissed": view.suggestion_id,
                                                                           "place": "Reading"}
    with pytest.raises(Conflict):
        suggested_incidents.dismiss(mem, LEAD, view.suggestion_id)
    for n in range(5, 10):
        post(mem, n, n + 30)  # the posts go on: still dismissed
    assert shown(mem, 40) == () and mem.sightings.suggestion("Reading").suggestion_id == view.suggestion_id
    for n in range(10, 15):
        post(mem, n, n + 120)  # quiet for more than an hour, then a new burst
    assert [s.place for s in shown(mem, 140)] == ["Reading"]
    assert shown(mem, 140)[0].suggestion_id != view.suggestion_id


def test_a_suggestion_quiet_for_an_hour_stays_over_when_a_post_trickles_in_later(mem):
    for n in range(5):
        post(mem, n, n)
    post(mem, 5, 90)  # one post, an hour and a half later: no burst, and the old suggestion is not brought back
    assert shown(mem, 91) == ()


def test_erasing_a_customer_forgets_their_sightings(mem):
    """A sighting keeps the customer's words and handle for two days: a data-protection request removes it with the
    rest of what is held about them; other customers' sightings stay."""
    from chalicelib.usecases.privacy import forget_customer
    from chalicelib.usecases.process import process_mention

    mem.clock.set(T0 + timedelta(minutes=5))
    for n in (1, 2):
        process_mention(mem, Mention(channel="x", external_id=str(9100 + n), conversation_id=str(9100 + n),
                                     author_id=str(700 + n), author_handle=f"traveller{n}", created_at=T0,
                                     text="@MeridianRail stuck at Reading and Didcot Parkway"))
    window = (T0 - timedelta(minutes=1), T0 + timedelta(minutes=1))
    assert [s.author for s in mem.sightings.between("Reading", *window)] == ["traveller1", "traveller2"]
    removed = forget_customer(mem, "x#701")
    assert removed["sightings"] == 2  # Reading and Didcot Parkway
    assert [s.author for s in mem.sightings.between("Reading", *window)] == ["traveller2"]
    assert [s.author for s in mem.sightings.between("Didcot Parkway", *window)] == ["traveller2"]


def test_declaring_with_no_keywords_keeps_the_place_as_the_keyword(mem):
    """An incident without keywords would match every message on every desk."""
    for n in range(5):
        post(mem, n, n)
    [view] = shown(mem)
    incident = suggested_incidents.declare(mem, LEAD, view.suggestion_id, {"keywords": [], "text": "Signal fault."})
    assert incident.keywords == ("reading",)


def test_a_place_an_incident_declared_another_way_names_is_no_longer_shown_nor_declared_twice(mem):
    for n in range(5):
        post(mem, n, n)
    [view] = shown(mem)
    declared = incidents.declare(mem, {"title": "Signal failure", "keywords": ["reading"]}, by="ops")
    assert shown(mem) == ()
    with pytest.raises(Conflict, match=declared.incident_id):
        suggested_incidents.declare(mem, LEAD, view.suggestion_id, {})
    assert len(mem.incidents.all()) == 1


def test_no_new_suggestion_while_a_lead_is_declaring_the_place(mem):
    """Between the lead's claim and the incident being stored, a post completing another burst must not suggest the
    place again; once the incident is resolved, a new burst is a new suggestion."""
    from dataclasses import replace

    for n in range(5):
        post(mem, n, n)
    current = mem.sightings.suggestion("Reading")
    declaring = replace(current, status="declared", decided_by="chloe", decided_at=T0 + timedelta(minutes=5))
    assert mem.sightings.put_suggestion(declaring, expected=current.version)
    post(mem, 6, 5.5)  # mid-declaration: no incident stored yet
    assert mem.sightings.suggestion("Reading").status == "declared" and shown(mem) == ()
    incident = incidents.declare(mem, {"title": "Disruption at Reading", "keywords": ["reading"]}, by="chloe")
    stored = mem.sightings.suggestion("Reading")
    assert mem.sightings.put_suggestion(replace(stored, incident_id=incident.incident_id), expected=stored.version)
    mem.clock.set(T0 + timedelta(hours=3))
    incidents.update(mem, incident.incident_id, {}, resolve=True)
    for n in range(10, 15):
        post(mem, n, 180 + n - 10)
    assert [s.place for s in shown(mem, 186)] == ["Reading"]
