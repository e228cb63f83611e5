"""Incident follow-ups say what happened: the update's text or the resolution, sized for the channel, one per ticket
and change; an incident is resolved once; the status page tells an update from a fix. On the in-memory twins."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.configfile import load_config
from chalicelib.domain import followup
from chalicelib.domain import history as h
from chalicelib.domain.ack import X_LIMIT, x_length
from chalicelib.domain.config import TEMPLATE_VARIABLES
from chalicelib.domain.incident import AlreadyResolved, Incident
from chalicelib.domain.mention import Mention
from chalicelib.sqs_batch import Record
from chalicelib.usecases import incidents
from chalicelib.usecases.admin import change_incident
from chalicelib.usecases.deliver import deliver_record
from chalicelib.usecases.errors import Conflict
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.status import view

ROOT = Path(__file__).resolve().parents[2]
URL = "https://rail.example/incidents/leeds"
UPDATE_TEXT = "Buses replace trains between Leeds and York until 10:00."
FIX_TEXT = "Trains are running normally again."
UPDATE_SENT = "We sent you an update about a problem affecting your request"
FIX_SENT = "We let you know the problem affecting your request was fixed"


def tweet(external_id: str, text: str, *, at, author: str) -> Mention:
    return Mention(channel="x", external_id=external_id, conversation_id=external_id, author_id=author, text=text,
                   created_at=at, author_handle=f"user{author}", author_name=f"User {author}")


def email(external_id: str, text: str, *, at, author: str) -> Mention:
    return Mention(channel="email", external_id=external_id, conversation_id=external_id, author_id=author,
                   text=text, created_at=at, visibility="private", author_handle=author, author_name="Pat",
                   subject="Cancelled train")


def outbox_of(mem) -> list[dict]:
    return mem.queues.messages.get(mem.settings.outbox_queue, [])


def deliver_all(mem) -> None:
    for n, message in enumerate(mem.queues.take(mem.settings.outbox_queue)):
        deliver_record(mem, Record(f"o{n}", f"r{n}", json.dumps(message), 1))


@pytest.fixture
def leeds(mem, clock):
    """An incident on Leeds, and two open tickets linked to it (one on X, one by e-mail), acknowledgements sent."""
    incident = incidents.declare(mem, {"title": "No trains from Leeds", "url": URL, "keywords": ["leeds"]})
    x = process_mention(mem, tweet("1", "@MeridianRail no trains at leeds, awful service", at=clock.now(),
                                   author="555"))
    mail = process_mention(mem, email("m1@example.test", "My train from Leeds was cancelled, awful.", at=clock.now(),
                                      author="pat@example.test"))
    for outcome in (x, mail):
        assert mem.tickets.get(outcome.ticket_id).incident_id == incident.incident_id
    deliver_all(mem)
    return incident, x.ticket_id, mail.ticket_id


def follow_ups(mem) -> dict[str, dict]:
    return {m["ticket_id"]: m for m in outbox_of(mem)}


# ------------------------------------------------------------------------------------------------ what they say
def test_an_update_carries_its_text_and_is_queued_as_an_update(mem, clock, leeds):
    incident, x_ticket, mail_ticket = leeds
    clock.advance(minutes=20)
    result = change_incident(mem, incident.incident_id, {"text": UPDATE_TEXT, "follow_up": True}, resolve=False)
    assert result["follow_ups_queued"] == 2 and result["status"] == "active"
    queued = follow_ups(mem)
    assert {m["kind"] for m in queued.values()} == {"incident_update"}
    # a public X reply carries no URL (links.no_url_in_public); the e-mail keeps the incident's link
    # sent without a person: it says so (brand.automated_notice), after a space on X, on a line of its own by e-mail
    assert queued[x_ticket]["text"] == f"Update on No trains from Leeds: {UPDATE_TEXT} (ref {x_ticket}) {NOTICE}"
    assert queued[mail_ticket]["text"] == (f"Update on No trains from Leeds: {UPDATE_TEXT} {URL} (ref {mail_ticket})"
                                           "\n\n(automated reply)")
    assert queued[x_ticket]["channel"] == "x" and queued[mail_ticket]["channel"] == "email"


NOTICE = "(automated reply)"  # brand.automated_notice: sent without a person, it says so


def test_a_resolution_says_it_is_resolved_with_its_text(mem, clock, leeds):
    incident, x_ticket, mail_ticket = leeds
    clock.advance(minutes=40)
    result = change_incident(mem, incident.incident_id, {"text": FIX_TEXT, "follow_up": True}, resolve=True)
    assert result["follow_ups_queued"] == 2 and result["status"] == "resolved"
    queued = follow_ups(mem)
    assert {m["kind"] for m in queued.values()} == {"incident_resolved"}
    assert queued[x_ticket]["text"] == f"Resolved: No trains from Leeds. {FIX_TEXT} (ref {x_ticket}) {NOTICE}"
    assert queued[mail_ticket]["text"].startswith("Resolved: No trains from Leeds. Trains are running normally")


def test_without_text_or_link_the_follow_up_still_reads_well(mem, clock):
    incident = incidents.declare(mem, {"title": "No trains from Leeds", "keywords": ["leeds"]})
    ticket_id = process_mention(mem, tweet("1", "@MeridianRail no trains at leeds, awful", at=clock.now(),
                                           author="555")).ticket_id
    mem.queues.take(mem.settings.outbox_queue)
    change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=False)
    change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=True)
    assert [m["text"] for m in outbox_of(mem)] == [f"Update on No trains from Leeds (ref {ticket_id}) {NOTICE}",
                                                   f"Resolved: No trains from Leeds. (ref {ticket_id}) {NOTICE}"]


def test_each_update_is_its_own_change_and_is_sent_once(mem, clock, leeds):
    incident, x_ticket, _ = leeds
    clock.advance(minutes=10)
    assert change_incident(mem, incident.incident_id, {"text": "Buses ordered", "follow_up": True},
                           resolve=False)["follow_ups_queued"] == 2
    clock.advance(minutes=10)
    assert change_incident(mem, incident.incident_id, {"text": "Buses running", "follow_up": True},
                           resolve=False)["follow_ups_queued"] == 2
    assert change_incident(mem, incident.incident_id, {"follow_up": False}, resolve=True)["follow_ups_queued"] == 0
    texts = [m["text"] for m in outbox_of(mem) if m["ticket_id"] == x_ticket]
    assert texts == [f"Update on No trains from Leeds: Buses ordered (ref {x_ticket}) {NOTICE}",
                     f"Update on No trains from Leeds: Buses running (ref {x_ticket}) {NOTICE}"]
    assert len({m["idempotency_key"] for m in outbox_of(mem)}) == 4


def test_a_long_update_is_cut_at_a_word_on_x_and_sent_whole_by_email(mem, clock, leeds):
    incident, x_ticket, mail_ticket = leeds
    long_text = ("Engineers are repairing overhead wires between Leeds and York after a storm brought a tree down "
                 "on the line at Church Fenton; buses replace trains from Leeds, Garforth and York, tickets are "
                 "accepted on Northern and TransPennine services, and we expect the line to reopen by 14:00.")
    change_incident(mem, incident.incident_id, {"text": long_text, "follow_up": True}, resolve=False)
    queued = follow_ups(mem)
    on_x = queued[x_ticket]["text"]
    assert X_LIMIT - 20 < x_length(on_x) <= X_LIMIT  # as much of the text as fits, cut between words
    assert on_x.startswith("Update on No trains from Leeds: Engineers are repairing overhead wires")
    assert on_x.endswith(f"… (ref {x_ticket}) {NOTICE}") and "http" not in on_x
    kept = on_x.removeprefix("Update on No trains from Leeds: ").split("…")[0]
    assert long_text.startswith(kept) and long_text[len(kept)] in " ,;."  # cut between words
    assert long_text in queued[mail_ticket]["text"]


@pytest.fixture(scope="module")
def sample():
    return load_config(ROOT / "chalicelib" / "brand.yaml")


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(min_size=3, max_size=120).filter(lambda t: 3 <= len(t.strip()) <= 120),
    text=st.text(max_size=1000),
    url=st.sampled_from(["", URL, "https://rail.example/" + "x" * 400]),
    change=st.sampled_from(followup.CHANGES),
    reference=st.from_regex(r"R[0-9A-Z]{8}", fullmatch=True),
)
def test_on_x_a_follow_up_always_fits_and_keeps_its_link_and_reference(sample, title, text, url, change, reference):
    incident = Incident("INC-1", title.strip(), text=text.strip(), url=url)
    out = followup.compose(sample.template("incident_followup", "x", "en"), channel="x", incident=incident,
                           change=change, reference=reference)
    assert x_length(out) <= X_LIMIT
    assert out.endswith(f"(ref {reference})")
    assert url in out
    assert ("Resolved: " if change == "resolved" else "Update on ") in out


@settings(max_examples=100, deadline=None)
@given(title=st.text(min_size=3, max_size=120).filter(lambda t: 3 <= len(t.strip()) <= 120),
       text=st.text(max_size=1000), url=st.sampled_from(["", URL, "https://rail.example/" + "x" * 400]),
       change=st.sampled_from(followup.CHANGES))
def test_on_x_a_follow_up_with_the_automated_notice_fits_and_ends_with_it(sample, title, text, url, change):
    incident = Incident("INC-1", title.strip(), text=text.strip(), url=url)
    out = followup.compose(sample.template("incident_followup", "x", "en"), channel="x", incident=incident,
                           change=change, reference="R1234ABCD", notice="(automated reply)")
    assert x_length(out) <= X_LIMIT and out.endswith("(ref R1234ABCD) (automated reply)") and url in out


def test_the_template_variables_are_declared_for_the_configuration_check(sample):
    assert {"incident_text", "incident_change"} <= TEMPLATE_VARIABLES
    assert "incident_text" in sample.template("incident_followup", "x", "en")
    assert "incident_change" in sample.template("incident_followup", "email", "en")
    header = [line for line in (ROOT / "chalicelib" / "brand.yaml").read_text().splitlines() if line.startswith("#")]
    assert any("incident_text, incident_change" in line for line in header)
    with pytest.raises(ValueError):
        followup.compose("{{ incident_title }}", channel="x", incident=Incident("I", "Title"), change="fixed",
                         reference="R1")


# ------------------------------------------------------------------------------------------------ resolved once
def test_resolving_a_resolved_incident_is_refused_and_sends_nothing(mem, clock, leeds):
    incident, _, _ = leeds
    clock.advance(minutes=30)
    first = change_incident(mem, incident.incident_id, {"text": FIX_TEXT, "follow_up": True}, resolve=True)
    resolved_at = mem.incidents.get(incident.incident_id).resolved_at
    assert first["resolved_at"] == resolved_at.isoformat() == clock.now().isoformat()
    queued = len(outbox_of(mem))
    clock.advance(hours=2)
    with pytest.raises(Conflict, match=re.escape(f"already resolved at {resolved_at.isoformat()}")):
        change_incident(mem, incident.incident_id, {"text": "All clear", "follow_up": True}, resolve=True)
    with pytest.raises(Conflict):
        incidents.update(mem, incident.incident_id, {}, resolve=True)
    assert len(outbox_of(mem)) == queued
    stored = mem.incidents.get(incident.incident_id)
    assert stored.resolved_at == resolved_at and stored.text == FIX_TEXT and stored.updated_at == resolved_at


def test_two_leads_resolving_at_once_one_wins_the_other_is_refused(mem, clock, leeds):
    import threading

    incident, _, _ = leeds
    clock.advance(minutes=30)
    barrier, results = threading.Barrier(2), []
    original_get = mem.incidents.get

    def get_together(incident_id):  # both read the incident active before either writes
        found = original_get(incident_id)
        barrier.wait(timeout=5)
        return found

    mem.incidents.get = get_together

    def resolve():
        try:
            results.append(change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=True))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"]
    assert "already resolved" in str(next(r for r in results if isinstance(r, Conflict)))
    assert sum(1 for m in outbox_of(mem) if m["kind"] == "incident_resolved") == \
        next(r for r in results if isinstance(r, dict))["follow_ups_queued"]


def test_a_resolved_incident_may_still_be_updated_without_moving_its_resolution(mem, clock, leeds):
    incident, x_ticket, _ = leeds
    change_incident(mem, incident.incident_id, {}, resolve=True)
    resolved_at = mem.incidents.get(incident.incident_id).resolved_at
    clock.advance(hours=1)
    result = change_incident(mem, incident.incident_id, {"text": "Delay Repay is open for affected journeys",
                                                         "follow_up": True}, resolve=False)
    assert result["status"] == "resolved" and result["resolved_at"] == resolved_at.isoformat()
    assert result["follow_ups_queued"] == 2
    assert follow_ups(mem)[x_ticket]["kind"] == "incident_update"


def test_the_domain_refuses_a_second_resolution():
    incident = Incident("INC-1", "No trains").resolved(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))
    with pytest.raises(AlreadyResolved, match=r"already resolved at 2026-11-29T03:00:00\+00:00"):
        incident.resolved(incident.resolved_at + timedelta(hours=1))


# ------------------------------------------------------------------------------------------------ status page
def timeline(mem, ticket_id: str) -> list[str]:
    return [event["text"] for event in view(mem, mem.tickets.get(ticket_id), mem.now())["timeline"]]


def test_the_status_page_tells_an_update_from_a_fix(mem, clock, leeds):
    incident, x_ticket, mail_ticket = leeds
    clock.advance(minutes=10)
    change_incident(mem, incident.incident_id, {"text": UPDATE_TEXT, "follow_up": True}, resolve=False)
    deliver_all(mem)
    for ticket_id in (x_ticket, mail_ticket):
        texts = timeline(mem, ticket_id)
        assert UPDATE_SENT in texts and FIX_SENT not in texts
        assert not any("fixed" in t for t in texts)
    page = view(mem, mem.tickets.get(x_ticket), mem.now())
    assert [i["text"] for i in page["incidents"]] == [UPDATE_TEXT]  # still shown: it is not over
    clock.advance(minutes=10)
    change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=True)
    deliver_all(mem)
    texts = timeline(mem, x_ticket)
    assert texts.count(UPDATE_SENT) == 1 and texts.count(FIX_SENT) == 1
    assert texts.index(UPDATE_SENT) < texts.index(FIX_SENT)
    assert view(mem, mem.tickets.get(x_ticket), mem.now())["incidents"] == []


def test_an_older_follow_up_entry_reads_as_a_fix_only_if_it_came_after_the_resolution(mem, clock, leeds):
    incident, x_ticket, _ = leeds
    before = clock.now() + timedelta(minutes=5)
    mem.tickets.update(x_ticket, lambda t: t.record(h.Sent(before, followup.LEGACY_KIND)))
    assert timeline(mem, x_ticket)[-1] == UPDATE_SENT  # the incident is still active
    clock.advance(minutes=10)
    incidents.update(mem, incident.incident_id, {}, resolve=True)
    after = clock.now() + timedelta(seconds=3)
    mem.tickets.update(x_ticket, lambda t: t.record(h.Sent(after, followup.LEGACY_KIND)))
    clock.advance(minutes=1)
    assert timeline(mem, x_ticket)[-2:] == [UPDATE_SENT, FIX_SENT]
