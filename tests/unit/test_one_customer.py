"""One customer, one open ticket: threading by customer across conversations and channels, on the in-memory
stores (the same contract as DynamoDB, tests/contract). The local-stack versions are in tests/e2e."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.identity import InvalidIdentity, identities_of, parse_identity, quoted_references
from chalicelib.domain.mention import Mention
from chalicelib.usecases.customers import link, link_request, unlink
from chalicelib.usecases.errors import Invalid, NotFound
from chalicelib.usecases.process import process_envelope, process_mention
from chalicelib.usecases.status import status_view
from chalicelib.usecases.webhooks import receive_form
from tests.conftest import run_memory_pipeline, utc
from tests.helpers import queued, ticket_of, to_customers

COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful"


def msg(external_id: str, text: str = COMPLAINT, *, at, channel: str = "x", author: str = "555",
        conversation: str = "", reply_to: str = "", handle: str | None = None, visibility: str = "public",
        **extra) -> Mention:
    return Mention(channel=channel, external_id=external_id, conversation_id=conversation or external_id,
                   author_id=author, text=text, created_at=at,
                   author_handle=f"user{author}" if handle is None else handle, author_name=f"User {author}",
                   reply_to=reply_to, visibility=visibility, extra=extra)


def acks(mem) -> list[dict]:
    return [m for m in to_customers(mem) if m["kind"] == "ack"]


def desk_events(mem) -> list[dict]:
    return [m for name, msgs in mem.queues.messages.items() if name.startswith("responder-desk-") for m in msgs]


def ticket_holding(mem, key: str):
    return mem.tickets.get(ticket_of(mem, key))


# ------------------------------------------------------------------------------------------------ strangers
def test_two_customers_commenting_on_one_facebook_post_get_two_tickets_and_two_acks(mem, clock):
    a = process_mention(mem, msg("c1", at=clock.now(), channel="facebook", author="ann", conversation="post-1",
                                 handle=""))
    b = process_mention(mem, msg("c2", "@MeridianRail same here, cancelled and stuck", at=clock.now(),
                                 channel="facebook", author="bob", conversation="post-1", handle=""))
    assert a.result == b.result == "created" and a.ticket_id != b.ticket_id
    assert sorted(m["recipient"] for m in acks(mem)) == ["ann", "bob"]
    assert mem.tickets.get(b.ticket_id).conversations == ["facebook#post-1"]


def test_two_customers_replying_in_one_x_thread_get_two_tickets(mem, clock):
    first = process_mention(mem, msg("10", at=clock.now(), author="1"))
    second = process_mention(mem, msg("11", "@MeridianRail @user1 me too, no bus at all", at=clock.now(),
                                      author="2", conversation="10", reply_to="10"))
    assert second.result == "created" and second.ticket_id != first.ticket_id
    assert len(acks(mem)) == 2


# ------------------------------------------------------------------------------------------------ one customer
def test_tweet_new_tweet_and_reply_to_our_ack_make_one_ticket_and_one_ack(mem, clock):
    first = process_mention(mem, msg("20", at=clock.now()))
    clock.advance(seconds=10)
    second = process_mention(mem, msg("21", "@MeridianRail hello?? anyone there", at=clock.now()))
    run_memory_pipeline(mem)  # the ack is sent: our message id is remembered
    [sent] = mem.sandbox.recent()
    clock.advance(minutes=3)
    third = process_mention(mem, msg("22", "@MeridianRail thanks, still waiting", at=clock.now(), conversation="20",
                                     reply_to=sent["external_id"]))
    assert first.ticket_id == second.ticket_id == third.ticket_id
    ticket = mem.tickets.get(first.ticket_id)
    assert ticket.mention_keys == ["x#20", "x#21", "x#22"]
    assert [e.kind for e in ticket.timeline].count("received") == 3
    assert len(mem.sandbox.recent()) == 1
    assert ticket.first_contact_at == clock.now() - timedelta(minutes=3, seconds=10)
    updates = [e for e in desk_events(mem) if e["event"] == "ticket.updated"]
    assert [u["change"] for u in updates] == ["chase", "chase"] and updates[-1]["messages"] == 3


def test_concurrent_first_messages_of_one_customer_give_one_ticket(mem, clock):
    messages = [msg(str(100 + n), f"@MeridianRail problem number {n}, cancelled train", at=clock.now())
                for n in range(8)]
    outcomes = []
    threads = [threading.Thread(target=lambda m=m: outcomes.append(process_mention(mem, m))) for m in messages]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({o.ticket_id for o in outcomes}) == 1
    assert sorted(mem.tickets.get(outcomes[0].ticket_id).mention_keys) == sorted(m.key for m in messages)
    assert len(acks(mem)) == 1


def test_a_form_with_a_handle_then_a_tweet_from_it_is_one_ticket_that_keeps_its_place(mem, clock):
    earlier = process_mention(mem, msg("30", at=clock.now() - timedelta(minutes=5), author="900"))
    answer = receive_form(mem, b'{"name": "Ada", "email": "ada@example.org", "handle": "@ada_rides", '
                               b'"message": "My refund for booking ABC123 never arrived"}', client_key="k")
    run_memory_pipeline(mem)
    clock.advance(minutes=20)
    tweet = process_mention(mem, msg("31", "@MeridianRail still no refund!!", at=clock.now(), author="77",
                                     handle="Ada_Rides"))
    assert tweet.ticket_id == answer["reference"]
    ticket = mem.tickets.get(answer["reference"])
    assert ticket.channels == ["form", "x"] and ticket.first_contact_at == clock.now() - timedelta(minutes=20)
    backlog = [t.ticket_id for t in mem.tickets.backlog(ticket.desk)]
    if ticket.desk == ticket_holding(mem, "x#30").desk:
        assert backlog.index(earlier.ticket_id) < backlog.index(ticket.ticket_id)  # shouting does not jump ahead
    recipients = [m["recipient"] for m in mem.sandbox.recent()]
    assert recipients.count("ada@example.org") == 1 and "77" not in recipients  # one ack, on the form's channel
    assert mem.customers.lookup("x#77") == mem.customers.lookup("email#ada@example.org")


def test_a_tweet_then_a_form_naming_its_handle_joins_and_the_forms_reference_still_works(mem, clock):
    tweet = process_mention(mem, msg("40", at=clock.now(), author="78", handle="bo"))
    answer = receive_form(mem, b'{"name": "Bo", "email": "bo@example.org", "handle": "bo", '
                               b'"message": "About my cancelled train earlier"}', client_key="k")
    run_memory_pipeline(mem)
    assert answer["reference"] != tweet.ticket_id
    page = status_view(mem, answer["status_url"].rsplit("/", 1)[1])
    assert page["reference"] == tweet.ticket_id and page["merged_from"] == answer["reference"]
    # the tweet's acknowledgement, and the form's receipt, e-mailed, with the case's reference (not the form's own)
    assert len(acks(mem)) == 2 and len(mem.sandbox.recent()) == 2
    [receipt] = [m for m in mem.sandbox.recent() if m["channel"] == "form"]
    assert tweet.ticket_id in receipt["text"] and answer["reference"] not in receipt["text"]


def test_an_address_written_in_a_dm_links_the_customer_but_our_own_handle_never_does(mem, clock):
    process_mention(mem, msg("e1", "My booking was cancelled", at=clock.now(), channel="email",
                             author="cy@example.org", handle="cy@example.org", visibility="private"))
    dm = process_mention(mem, msg("d1", "Hi @MeridianRail, I emailed you as cy@example.org", at=clock.now(),
                                  author="79", visibility="private"))
    assert dm.result == "threaded"
    other = process_mention(mem, msg("d2", "Hi @MeridianRail my ticket machine ate my card", at=clock.now(),
                                     author="80", visibility="private"))
    assert other.result == "created"  # naming @MeridianRail links nobody to the brand's handle
    assert mem.customers.lookup("x@meridianrail") is None


# ------------------------------------------------------------------------------------------------ reopen
def test_writing_again_after_resolution_reopens_within_the_window_and_acks_once_more(mem, clock):
    first = process_mention(mem, msg("50", at=clock.now()))
    mem.tickets.update(first.ticket_id, lambda t: t.resolve("ana", clock.now()))
    clock.advance(days=2)
    again = process_mention(mem, msg("51", "@MeridianRail it happened again tonight, cancelled", at=clock.now()))
    assert again.ticket_id == first.ticket_id
    ticket = mem.tickets.get(first.ticket_id)
    assert ticket.status == "waiting" and ticket.reopened == 1
    assert [a["idempotency_key"] for a in acks(mem)] == [f"ack#{first.ticket_id}", f"ack#{first.ticket_id}#r1"]
    process_mention(mem, msg("52", "@MeridianRail hello?", at=clock.now()))
    assert len(acks(mem)) == 2
    assert [e["change"] for e in desk_events(mem) if e["event"] == "ticket.updated"] == ["reopened", "chase"]
    mem.tickets.update(first.ticket_id, lambda t: t.resolve("ana", clock.now()))
    clock.advance(days=8)
    later = process_mention(mem, msg("53", "@MeridianRail new problem: lost property", at=clock.now()))
    assert later.result == "created" and later.ticket_id != first.ticket_id


# ------------------------------------------------------------------------------------------------ first acknowledgeable
@pytest.mark.parametrize("first_text", ["@MeridianRail", "RT @railfan: new trains at Leeds today @MeridianRail"])
def test_a_complaint_joining_a_case_nobody_acknowledged_gets_the_one_acknowledgement(mem, clock, first_text):
    """Issue 23 reproducer: a first message out of hours that is not acknowledged (a bare tag, a retweet), then the real
    complaint before the team is back: it joins the open case and is acknowledged, once; a chase after it is not."""
    first = process_mention(mem, msg("60", first_text, at=clock.now(), author="60"))
    assert first.result == "created" and acks(mem) == []
    clock.advance(minutes=2)
    complaint = process_mention(mem, msg("61", at=clock.now(), author="60"))
    assert complaint.result == "threaded" and complaint.ticket_id == first.ticket_id
    assert [a["idempotency_key"] for a in acks(mem)] == [f"ack#{first.ticket_id}"]
    ticket = mem.tickets.get(first.ticket_id)
    assert ticket.acked and [e.kind for e in ticket.timeline].count("ack_queued") == 1
    clock.advance(minutes=5)
    process_mention(mem, msg("62", "@MeridianRail hello?? anyone there", at=clock.now(), author="60"))
    run_memory_pipeline(mem)
    [sent] = mem.sandbox.recent()
    assert sent["kind"] == "ack" and first.ticket_id in sent["text"] and "09:00" in sent["text"]


def test_a_complaint_joining_while_the_desk_is_open_gets_no_out_of_hours_acknowledgement(mem, clock):
    clock.set(utc(2026, 11, 24, 10, 0))  # Tuesday 10:00 London: the desks are open
    first = process_mention(mem, msg("63", "@MeridianRail hi", at=clock.now(), author="63"))
    clock.advance(minutes=2)
    process_mention(mem, msg("64", at=clock.now(), author="63"))
    assert acks(mem) == [] and not mem.tickets.get(first.ticket_id).acked


def test_concurrent_complaints_joining_an_unacknowledged_case_give_one_acknowledgement(mem, clock):
    first = process_mention(mem, msg("65", "@MeridianRail hi", at=clock.now(), author="65"))
    clock.advance(minutes=1)
    complaints = [msg(str(660 + n), f"@MeridianRail train {n} cancelled, stuck at the station", at=clock.now(),
                      author="65") for n in range(6)]
    threads = [threading.Thread(target=process_mention, args=(mem, m)) for m in complaints]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(mem.tickets.get(first.ticket_id).mention_keys) == sorted(["x#65", *(m.key for m in complaints)])
    run_memory_pipeline(mem)
    assert [s["idempotency_key"] for s in mem.sandbox.recent()] == [f"ack#{first.ticket_id}"]


def test_a_joining_complaint_whose_attempt_failed_before_its_acknowledgement_gets_it_on_redelivery(mem, clock):
    first = process_mention(mem, msg("67", "@MeridianRail", at=clock.now(), author="67"))
    start, failures = mem.acks.start, []

    def flaky(ack_ref, kind):
        if not failures:
            failures.append(ack_ref)
            raise ConnectionError("PutItem failed")
        return start(ack_ref, kind)

    mem.acks.start = flaky
    env = queued(msg("68", at=clock.now(), author="67"), received_at=clock.now())
    with pytest.raises(ConnectionError):
        process_envelope(mem, env)
    assert "x#68" in mem.tickets.get(first.ticket_id).mention_keys and acks(mem) == []
    clock.advance(seconds=40)
    process_envelope(mem, env, attempt=2)  # SQS delivers it again: the acknowledgement it owed
    assert [a["idempotency_key"] for a in acks(mem)] == [f"ack#{first.ticket_id}"]
    process_envelope(mem, env, attempt=3)  # and again, after it finished: nothing twice
    run_memory_pipeline(mem)
    assert len(mem.sandbox.recent()) == 1 and mem.tickets.get(first.ticket_id).acked


# ------------------------------------------------------------------------------------------------ links
def test_an_agent_links_two_customers_and_their_open_tickets_merge_into_the_earlier(mem, clock):
    older = process_mention(mem, msg("60", at=clock.now(), author="81", handle="dee"))
    clock.advance(minutes=30)
    newer = process_mention(mem, msg("e2", "Urgent: I am stranded at Reading with my kids", at=clock.now(),
                                     channel="email", author="dee@example.org", handle="dee@example.org",
                                     visibility="private"))
    result = link(mem, *link_request({"identity": "email#dee@example.org", "with": "x@dee"}))
    assert result.changed and result.ticket_id == older.ticket_id
    assert result.merged_ticket_id == newer.ticket_id
    kept, merged = mem.tickets.get(older.ticket_id), mem.tickets.get(newer.ticket_id)
    assert merged.status == "merged" and merged.merged_into == kept.ticket_id
    assert kept.mention_keys == ["x#60", "email#e2"] and kept.priority == "urgent"  # urgent if either was
    assert kept.first_contact_at == clock.now() - timedelta(minutes=30)
    assert status_view(mem, mem.links.url(newer.ticket_id).rsplit("/", 1)[1])["reference"] == kept.ticket_id
    assert any(e["event"] == "ticket.updated" and e["change"] == "merged" for e in desk_events(mem))
    # a later message from either identity joins the kept ticket
    assert process_mention(mem, msg("61", "@MeridianRail any news?", at=clock.now(), author="81",
                                    handle="dee")).ticket_id == kept.ticket_id
    again = link(mem, "x@dee", "email#dee@example.org")
    assert again.changed is False and "already" in again.message


def test_link_and_unlink_refuse_what_they_cannot_do(mem, clock):
    process_mention(mem, msg("70", at=clock.now(), author="82", handle="eve"))
    with pytest.raises(NotFound, match="email#nobody@example.org"):
        link(mem, *link_request({"identity": "x@eve", "with": "email#nobody@example.org"}))
    for bad in ("x#", "email#not-an-address", "pigeon#1", "x@way-too-long-handle-here", 5):
        with pytest.raises(Invalid):
            link_request({"identity": "x@eve", "with": bad})
    with pytest.raises(Invalid, match="JSON object"):
        link_request(["x@eve", "x@dee"])
    with pytest.raises(NotFound):
        unlink(mem, "x@ghost")
    assert unlink(mem, "x@eve")["changed"] is True
    assert mem.customers.lookup("x@eve") != mem.customers.lookup("x#82")
    assert unlink(mem, "x@eve")["changed"] is False


def test_a_quoted_reference_from_another_identity_is_a_suggestion_never_a_merge(mem, clock):
    first = process_mention(mem, msg("80", at=clock.now(), author="83"))
    other = process_mention(mem, msg("81", f"@MeridianRail about my form, ref {first.ticket_id}, any news?",
                                     at=clock.now(), author="84"))
    assert other.ticket_id != first.ticket_id
    quoted = mem.tickets.get(first.ticket_id)
    assert quoted.suggested_links == ["x#84"] and quoted.timeline[-1].kind == "link_suggested"
    assert mem.tickets.get(other.ticket_id).mention_keys == ["x#81"]


def test_the_desk_message_lets_a_team_recognise_the_case(mem, clock):
    process_mention(mem, msg("90", at=clock.now(), author="85"))
    [created] = desk_events(mem)
    assert created["schema"] == "responder.desk-message/2" and created["customer_name"] == "User 85"
    assert created["channels"] == ["x"] and created["excerpt"].startswith("@MeridianRail my train")
    assert created["permalink"] == "https://x.com/i/web/status/90" and "/s/" in created["status_url"]
    assert created["reference"] == created["ticket_id"]


# ------------------------------------------------------------------------------------------------ identities
def test_identities_are_parsed_and_normalised():
    assert parse_identity("x@Ada_Rides") == "x@ada_rides"
    assert parse_identity("email#Ada@Example.org") == "email#ada@example.org"
    assert parse_identity("x#1234") == "x#1234"
    for bad in ("", "x#", "x@", "email#nope", "sms#1", "x@a-b"):
        with pytest.raises(InvalidIdentity):
            parse_identity(bad)


def test_public_text_never_links_but_private_text_does(clock):
    public = Mention(channel="x", external_id="1", conversation_id="1", author_id="5", author_handle="pat",
                     text="mail me at pat@example.org, or @pat_alt", created_at=clock.now())
    assert identities_of(public) == ["x#5", "x@pat"]
    private = replace(public, visibility="private")
    assert identities_of(private, brand={"x@pat_alt"}) == ["x#5", "x@pat", "email#pat@example.org"]
    assert quoted_references("ref RK7T0DWJ6 and R00000000, not RI0000000") == ["RK7T0DWJ6", "R00000000"]
