"""One contract, two implementations: every store runs the same tests in memory and on DynamoDB (moto, tables
from infra/template.yaml). A use case that passes on the memory twins therefore behaves the same on DynamoDB."""
from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import history as h
from chalicelib.domain.incident import Incident
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Stores
from chalicelib.store.ports import AlreadyExists, Charge, ConcurrentUpdate, StoredMention, TriageLabel
from tests.conftest import LOCAL_ENV, PROJECT

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def dynamo_stores():
    """moto once per module, the real template's tables, the DynamoDB stores bound to them."""
    from moto import mock_aws

    from chalicelib.bootstrap import dynamo_stores as build
    from chalicelib.settings import Settings
    from tools.local_aws import atomic_dynamodb_writes, partition_queries

    # DynamoDB checks a condition and writes atomically; moto does not across threads (the concurrency contracts
    # below race threads), so its writes take one lock, as the local stack's do
    atomic_dynamodb_writes()
    partition_queries()  # each query reads its partition, as DynamoDB does (moto reads the whole table)
    with pytest.MonkeyPatch.context() as env:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2"}.items():
            env.setenv(key, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            import boto3

            boto3.client("cloudformation", region_name="eu-west-2").create_stack(
                StackName="contract", TemplateBody=(PROJECT / "infra" / "template.yaml").read_text(),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": "local"}])
            yield build(Settings.from_env(LOCAL_ENV))


@pytest.fixture(params=["memory", "sqs"])
def queues(request):
    if request.param == "memory":
        from chalicelib.store.memory import MemoryQueues

        return MemoryQueues()
    request.getfixturevalue("dynamo_stores")  # the module's moto, with the template's queues
    import boto3

    from chalicelib.domain.config import BrandConfig
    from chalicelib.store.queues import SqsQueues

    return SqsQueues(boto3.client("sqs", region_name="eu-west-2"), inbound="responder-inbound",
                     outbox="responder-outbox", desk_queue_name=BrandConfig.queue_name)


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request) -> Stores:
    if request.param == "memory":
        from chalicelib.bootstrap import memory_stores

        return memory_stores()
    return request.getfixturevalue("dynamo_stores")


def uid(prefix: str = "") -> str:
    """Keys unique per test: the DynamoDB tables are shared by the module's tests."""
    return prefix + uuid.uuid4().hex[:10]


def mention(external_id: str | None = None, *, author: str = "555", **changes) -> Mention:
    base = Mention(channel="x", external_id=external_id or uid("9"), conversation_id=uid("c"), author_id=author,
                   text="My train was cancelled", created_at=T0, author_handle="traveller", author_name="T",
                   extra={"page_id": "1"})
    return replace(base, **changes)


def ticket(**changes) -> Ticket:
    base = Ticket(ticket_id="R" + uuid.uuid4().hex[:8].upper(), desk="complaints", priority="normal",
                  intent="complaint", channel="x", conversation_key=uid("x#"), customer_id=uid("C"),
                  first_contact_at=T0, last_customer_at=T0, mention_keys=["x#1"],
                  reply_target=ReplyTarget(channel="x", recipient="555", in_reply_to="1", name="T",
                                           extra={"conversation_id": "1"}),
                  flags=["high_reach"], references={"booking": ["ABC123"]}, reasons=["keyword: cancelled"],
                  first_response_due=T0 + timedelta(hours=5))
    base.record(h.Received(T0, "x"))
    return replace(base, **changes)


# ------------------------------------------------------------------------------------------------ mentions
def test_a_second_add_returns_the_stored_mention(stores):
    m = mention()
    assert stores.mentions.add_or_existing(m, T0, owner="envelope-1") is None
    assert stores.mentions.add_or_existing(replace(m, text="changed"), T0 + timedelta(minutes=1),
                                           owner="envelope-2") == StoredMention(m, T0, "envelope-1")
    other = mention()
    assert stores.mentions.add_or_existing(other, T0) is None  # no owner known
    assert stores.mentions.add_or_existing(other, T0, owner="envelope-3").owner == ""


def test_an_identity_is_registered_once_with_its_handle(stores):
    identity = uid("x#")
    first = stores.customers.register(identity, "C1", channel="x", handle="pat", at=T0)
    assert (first.customer_id, first.created, first.handle) == ("C1", True, "pat")
    again = stores.customers.register(identity, "C2", channel="x", handle="pat2", at=T0)
    assert (again.customer_id, again.created, again.handle) == ("C1", False, "pat")


def test_a_timeline_entry_is_appended_without_a_read_and_moves_the_version(stores):
    t = ticket()
    stores.tickets.add(t)
    stale = stores.tickets.get(t.ticket_id)
    assert stores.tickets.append_event(t.ticket_id, h.Sent(T0, "ack", T0)) is True
    saved = stores.tickets.get(t.ticket_id)
    assert saved.timeline[-1] == h.Sent(T0, "ack", T0) and saved.version == stale.version + 1
    with pytest.raises(ConcurrentUpdate):  # a save from before the entry never overwrites it
        stores.tickets.save(stale)
    assert stores.tickets.append_event(uid("R"), h.Noted(T0, "ana", "")) is False


def test_an_appended_entry_never_changes_a_ticket_while_it_is_read():
    """The in-memory twin's ``get`` copies the stored ticket without the lock: an append stores a new one (as a save
    does), so a copy is never half old and half new (the new version without the entry, which a save would drop)."""
    from chalicelib.store.memory import MemoryTickets

    store = MemoryTickets()
    t = ticket()
    store.add(t)
    being_read = store.items[t.ticket_id]
    assert store.append_event(t.ticket_id, h.Sent(T0, "ack")) is True
    assert (being_read.version, len(being_read.timeline)) == (1, 1)
    assert [e.kind for e in store.get(t.ticket_id).timeline] == ["received", "acknowledged"]


def test_a_mention_is_stored_once_and_read_back_whole(stores):
    m = mention()
    assert stores.mentions.add_if_new(m, T0) is True
    assert stores.mentions.add_if_new(m, T0 + timedelta(seconds=1)) is False
    stored = stores.mentions.get(m.key)
    assert stored is not None and stored.mention == m and stored.owner == "" and stored.received_at == T0
    assert stores.mentions.get("x#nothing") is None


def test_mentions_are_found_by_author_and_deleted(stores):
    author = uid("a")
    a, b, other = mention(author=author), mention(author=author), mention()
    for m in (a, b, other):
        stores.mentions.add_if_new(m, T0)
    assert sorted(stores.mentions.keys_for_author(f"x#{author}")) == sorted([a.key, b.key])
    stores.mentions.delete(a.key)
    stores.mentions.delete(a.key)  # deleting twice is not an error
    assert stores.mentions.get(a.key) is None and stores.mentions.keys_for_author(f"x#{author}") == [b.key]


def test_an_authors_mentions_are_queried_page_by_page_on_the_index_never_scanned(dynamo_stores, monkeypatch):
    from bench.run import counting_aws_calls

    author = uid("a")
    mine = [mention(author=author) for _ in range(5)]
    for m in [*mine, mention()]:
        dynamo_stores.mentions.add_if_new(m, T0)
    monkeypatch.setattr(dynamo_stores.mentions, "author_page_size", 2)
    calls: list = []
    with counting_aws_calls(record=calls) as counted:
        found = dynamo_stores.mentions.keys_for_author(f"x#{author}")
    assert sorted(found) == sorted(m.key for m in mine)
    assert set(counted) == {"dynamodb.Query"} and counted["dynamodb.Query"] >= 3  # 5 keys, 2 a page
    assert {params["IndexName"] for _, _, params in calls} == {"by_author"}


# ------------------------------------------------------------------------------------------------ tickets
def test_a_ticket_round_trips_every_field(stores):
    t = ticket(claimed_by="ana", claim_expires_at=T0 + timedelta(hours=1), status="claimed", acked=True,
               breached=True, incident_id="INC-1", first_response_at=T0 + timedelta(minutes=5),
               language="en", resolved_at=None)
    t.record(h.Claimed(T0 + timedelta(minutes=1), "ana"))
    stores.tickets.add(t)
    assert t.version == 1
    assert stores.tickets.get(t.ticket_id) == t
    assert stores.tickets.get("R00000000") is None


def test_adding_an_existing_ticket_fails(stores):
    t = ticket()
    stores.tickets.add(t)
    with pytest.raises(AlreadyExists):
        stores.tickets.add(replace(t, version=0))


def test_a_stale_save_is_refused_and_the_version_kept(stores):
    t = ticket()
    stores.tickets.add(t)
    first, second = stores.tickets.get(t.ticket_id), stores.tickets.get(t.ticket_id)
    first.record(h.Noted(T0, "ana", "one"))
    stores.tickets.save(first)
    assert first.version == 2
    second.record(h.Noted(T0, "ana", "two"))
    with pytest.raises(ConcurrentUpdate):
        stores.tickets.save(second)
    assert second.version == 1
    assert [e.detail for e in stores.tickets.get(t.ticket_id).timeline][-1] == "ana: one"


def test_saving_a_ticket_that_was_never_added_is_refused(stores):
    with pytest.raises(ConcurrentUpdate):
        stores.tickets.save(ticket(version=0))


def test_update_reapplies_a_change_after_losing_a_race(stores):
    t = ticket()
    stores.tickets.add(t)
    stale = stores.tickets.get(t.ticket_id)
    stores.tickets.update(t.ticket_id, lambda x: x.record(h.Claimed(T0, "ana")))  # somebody else saves first
    calls = []
    updated = stores.tickets.update(t.ticket_id, lambda x: calls.append(x.version) or x.record(h.Noted(T0, "ana", "")),
                                    current=stale)
    assert calls == [1, 2] and updated is not None and updated.ticket.version == 3
    assert [e.kind for e in stores.tickets.get(t.ticket_id).timeline][-2:] == ["claimed", "note"]
    assert stores.tickets.update("R00000000", lambda x: None) is None
    with pytest.raises(ConcurrentUpdate):
        stores.tickets.update(t.ticket_id, lambda x: stores.tickets.update(t.ticket_id, lambda y: None), attempts=2)


def test_update_returns_what_the_change_returned_on_the_attempt_saved(stores):
    t = ticket()
    stores.tickets.add(t)
    stale = stores.tickets.get(t.ticket_id)
    stores.tickets.update(t.ticket_id, lambda x: x.record(h.Claimed(T0, "ana")))  # somebody else saves first

    def count_events(x: Ticket) -> tuple[int, int]:
        x.record(h.Noted(T0, "ana", ""))
        return x.version, len(x.timeline)

    updated = stores.tickets.update(t.ticket_id, count_events, current=stale)
    assert updated is not None
    assert updated.result == (2, 3)  # the re-read copy's answer (received, claimed, note), not the stale one's
    assert updated.ticket.version == 3 and stores.tickets.get(t.ticket_id).version == 3
    assert [e.kind for e in updated.ticket.timeline] == [e.kind for e in stores.tickets.get(t.ticket_id).timeline]
    assert stores.tickets.update(t.ticket_id, lambda x: None).result is None
    assert stores.tickets.update("R00000000", lambda x: "never applied") is None


def test_concurrent_updates_all_land(stores):
    t = ticket()
    stores.tickets.add(t)

    def note(n: int) -> None:
        stores.tickets.update(t.ticket_id, lambda x: x.record(h.Noted(T0, "ana", str(n))), attempts=50)

    threads = [threading.Thread(target=note, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    notes = sorted(e.text for e in stores.tickets.get(t.ticket_id).timeline if isinstance(e, h.Noted))
    assert notes == [str(n) for n in range(6)]


def test_a_chase_joins_an_open_ticket_of_its_customer_without_a_read(stores):
    t = ticket(customer_id="C1", mention_keys=["x#1"], conversations=["x#c1"], last_customer_at=T0)
    stores.tickets.add(t)
    later = T0 + timedelta(minutes=5)
    joined = stores.tickets.join_open(t.ticket_id, "C1", "x#2", later, "x#c2")
    assert joined is not None and joined.mention_keys == ["x#1", "x#2"] and joined.last_customer_at == later
    assert joined.conversations == ["x#c1", "x#c2"] and joined.timeline[-1] == h.Received(later, "x", follow_up=True)
    assert joined.version == 2 and stores.tickets.get(t.ticket_id) == joined
    again = stores.tickets.join_open(t.ticket_id, "C1", "x#3", later, "x#c1")  # a conversation it has: once
    assert again is not None and again.conversations == ["x#c1", "x#c2"]
    # refused, changing nothing: a message it has, another customer, an earlier message, no such ticket
    assert stores.tickets.join_open(t.ticket_id, "C1", "x#2", later) is None
    assert stores.tickets.join_open(t.ticket_id, "C2", "x#4", later) is None
    assert stores.tickets.join_open(t.ticket_id, "C1", "x#5", T0) is None
    assert stores.tickets.join_open(uid("R"), "C1", "x#6", later) is None
    assert stores.tickets.get(t.ticket_id).mention_keys == ["x#1", "x#2", "x#3"]


def test_a_chase_does_not_join_a_ticket_that_must_change_state(stores):
    for status in ("replied", "resolved", "merged"):
        t = ticket(customer_id="C1", status=status)
        stores.tickets.add(t)
        assert stores.tickets.join_open(t.ticket_id, "C1", "x#9", T0 + timedelta(minutes=1)) is None


def test_backlog_is_urgent_first_then_oldest_first_contact(stores):
    desk = uid("d")
    old = ticket(desk=desk, first_contact_at=T0 - timedelta(hours=2))
    new = ticket(desk=desk, first_contact_at=T0)
    urgent = ticket(desk=desk, first_contact_at=T0 + timedelta(hours=1), priority="urgent")
    done = ticket(desk=desk, first_contact_at=T0 - timedelta(hours=5), status="resolved", resolved_at=T0)
    held = ticket(desk=desk, first_contact_at=T0 - timedelta(hours=6), status="claimed", claimed_by="ana")
    for t in (new, done, urgent, old, held):
        stores.tickets.add(t)
    assert [t.ticket_id for t in stores.tickets.backlog(desk)] == [urgent.ticket_id, old.ticket_id, new.ticket_id]
    assert [t.ticket_id for t in stores.tickets.backlog(desk, limit=1)] == [urgent.ticket_id]
    assert stores.tickets.backlog_count(desk) == 3
    open_ids = {t.ticket_id for t in stores.tickets.open_tickets()}
    assert {new.ticket_id, urgent.ticket_id, old.ticket_id, held.ticket_id} <= open_ids
    assert done.ticket_id not in open_ids
    assert held.ticket_id in {t.ticket_id for t in stores.tickets.claimed()}
    assert new.ticket_id not in {t.ticket_id for t in stores.tickets.claimed()}


def test_a_claimed_ticket_leaves_the_backlog_and_comes_back(stores):
    desk = uid("d")
    t = ticket(desk=desk)
    stores.tickets.add(t)
    stores.tickets.update(t.ticket_id, lambda x: x.claim("ana", T0 + timedelta(hours=1), T0))
    assert stores.tickets.backlog(desk) == [] and stores.tickets.backlog_count(desk) == 0
    stores.tickets.update(t.ticket_id, lambda x: x.release(T0, "shift ended"))
    assert [x.ticket_id for x in stores.tickets.backlog(desk)] == [t.ticket_id]


def test_a_desk_of_151_waiting_tickets_pages_through_completely_in_queue_order(stores):
    desk = uid("d")
    made = [ticket(desk=desk, first_contact_at=T0 + timedelta(minutes=i), priority="urgent" if i % 10 == 0 else
                   "normal") for i in range(151)]
    for t in made:
        stores.tickets.add(t)
    expected = [t.ticket_id for t in sorted(made, key=lambda t: t.backlog_order)]
    seen, after, pages = [], None, 0
    while True:
        page = stores.tickets.queue_page(desk, "waiting", after=after, limit=40)
        seen += [t.ticket_id for t in page.tickets]
        pages += 1
        if page.after is None:
            break
        after = page.after
    assert seen == expected and len(set(seen)) == 151 and pages == 4
    urgent = stores.tickets.queue_page(desk, "waiting", urgent=True, limit=100)
    assert [t.ticket_id for t in urgent.tickets] == expected[:16] and urgent.after is None
    normal = stores.tickets.queue_page(desk, "waiting", urgent=False, limit=5)
    assert [t.ticket_id for t in normal.tickets] == expected[16:21] and normal.after is not None


def test_the_backlog_index_holds_each_open_status_and_lets_go_when_resolved(stores):
    desk = uid("d")
    waiting, held, replied = ticket(desk=desk), ticket(desk=desk, status="claimed", claimed_by="ana"), \
        ticket(desk=desk, status="replied")
    for t in (waiting, held, replied):
        stores.tickets.add(t)
    assert [t.ticket_id for t in stores.tickets.queue_page(desk, "claimed").tickets] == [held.ticket_id]
    assert [t.ticket_id for t in stores.tickets.queue_page(desk, "replied").tickets] == [replied.ticket_id]
    assert [t.ticket_id for t in stores.tickets.backlog(desk)] == [waiting.ticket_id]
    stores.tickets.update(held.ticket_id, lambda t: t.resolve("ana", T0))
    assert stores.tickets.queue_page(desk, "claimed").tickets == []
    assert stores.tickets.queue_page(desk, "resolved") == stores.tickets.queue_page(desk, "merged")


def test_tickets_of_a_customer_and_delete(stores):
    customer = uid("C")
    a, b = ticket(customer_id=customer), ticket(customer_id=customer, first_contact_at=T0 + timedelta(minutes=1))
    for t in (a, b, ticket()):
        stores.tickets.add(t)
    assert sorted(t.ticket_id for t in stores.tickets.for_customer(customer)) == sorted([a.ticket_id, b.ticket_id])
    stores.tickets.delete(a.ticket_id)
    stores.tickets.delete(a.ticket_id)
    assert [t.ticket_id for t in stores.tickets.for_customer(customer)] == [b.ticket_id]


# ------------------------------------------------------------------------------------------------ customers
def test_the_first_customer_id_of_an_identity_wins(stores):
    identity = uid("x#")
    assert stores.customers.lookup(identity) is None
    assert stores.customers.resolve(identity, "C1", channel="x", handle="h", at=T0) == "C1"
    assert stores.customers.resolve(identity, "C2", channel="x", at=T0) == "C1"
    assert stores.customers.lookup(identity) == "C1"
    customer = uid("C")
    other = uid("email#")
    stores.customers.resolve(other, customer, channel="email", at=T0)
    assert stores.customers.identities(customer) == [other]
    stores.customers.delete(other)
    assert stores.customers.lookup(other) is None and stores.customers.identities(customer) == []


def test_identities_move_between_customers(stores):
    identity, first, second = uid("x#"), uid("C"), uid("C")
    stores.customers.resolve(identity, first, channel="x", at=T0)
    stores.customers.relink(identity, second)
    assert stores.customers.lookup(identity) == second
    assert stores.customers.identities(first) == [] and stores.customers.identities(second) == [identity]
    with pytest.raises(KeyError):
        stores.customers.relink(uid("x#"), second)


def test_the_open_ticket_pointer_is_compare_and_set(stores):
    customer = uid("C")
    assert stores.customers.open_ticket(customer) is None
    assert stores.customers.point_open_ticket(customer, "R1", expected=None) is True
    assert stores.customers.point_open_ticket(customer, "R2", expected=None) is False  # a concurrent first message
    assert stores.customers.point_open_ticket(customer, "R3", expected="R9") is False  # stale expectation
    assert stores.customers.point_open_ticket(customer, "R2", expected="R1") is True
    assert stores.customers.open_ticket(customer) == "R2"
    stores.customers.forget_open_ticket(customer)
    assert stores.customers.open_ticket(customer) is None


def test_merged_and_resolved_tickets_are_not_open(stores):
    a, b, c = ticket(), ticket(), ticket()
    for t in (a, b, c):
        stores.tickets.add(t)
    stores.tickets.update(b.ticket_id, lambda x: x.merge_into(a.ticket_id, T0))
    stores.tickets.update(c.ticket_id, lambda x: x.resolve("ana", T0))
    open_ids = {t.ticket_id for t in stores.tickets.open_tickets()}
    assert a.ticket_id in open_ids and b.ticket_id not in open_ids and c.ticket_id not in open_ids
    merged = stores.tickets.get(b.ticket_id)
    assert merged.merged_into == a.ticket_id and merged.status == "merged"


# ------------------------------------------------------------------------------------------------ ledgers
def test_our_sent_messages_point_at_their_ticket(stores):
    sent = uid()
    assert stores.threads.sent_message_ticket("x", sent) is None
    stores.threads.remember_sent_message("x", sent, "R3")
    assert stores.threads.sent_message_ticket("x", sent) == "R3"
    assert stores.threads.sent_message_ticket("facebook", sent) is None


def test_an_acknowledgement_is_started_in_one_call(stores):
    ticket_id = uid("R")
    assert stores.acks.start(ticket_id, "ack") is True
    assert stores.acks.start(ticket_id, "closing") is True  # marked, never queued: an attempt that died may go on
    stores.acks.mark_queued(ticket_id, "ack", T0)
    assert stores.acks.start(ticket_id, "closing") is False


def test_an_acknowledgement_is_begun_once(stores):
    ticket_id = uid("R")
    assert stores.acks.begin(ticket_id, "ack") is True
    assert stores.acks.begin(ticket_id, "closing") is False
    assert stores.acks.is_queued(ticket_id) is False
    stores.acks.mark_queued(ticket_id, "ack", T0)
    assert stores.acks.is_queued(ticket_id) is True
    stores.acks.forget(ticket_id)
    assert stores.acks.is_queued(ticket_id) is False and stores.acks.begin(ticket_id, "ack") is True


def test_the_sending_lease(stores):
    lease = uid("lease#")
    assert stores.outbox.acquire_lease(lease, T0, timedelta(minutes=10)) == "acquired"
    assert stores.outbox.acquire_lease(lease, T0 + timedelta(minutes=9, seconds=59), timedelta(minutes=10)) == "held"
    # a lease lapses by its time, whatever TTL deletion does, and is then reported, not taken over
    assert stores.outbox.acquire_lease(lease, T0 + timedelta(minutes=10), timedelta(minutes=10)) == "lapsed"
    assert stores.outbox.acquire_lease(lease, T0 + timedelta(days=1), timedelta(minutes=10)) == "lapsed"
    stores.outbox.release_lease(lease)
    assert stores.outbox.acquire_lease(lease, T0, timedelta(minutes=10)) == "acquired"


def test_a_sent_key_is_recorded_on_the_ticket_with_its_timeline_entry(stores):
    saved = ticket()
    stores.tickets.add(saved)
    assert stores.tickets.append_event(saved.ticket_id, h.Sent(T0, "ack"), sent_key="ack#1") is True
    assert stores.tickets.append_event(saved.ticket_id, h.Sent(T0, "reply"), sent_key="reply#2") is True
    stored = stores.tickets.get(saved.ticket_id)
    assert stored.sent_keys == ["ack#1", "reply#2"] and [e.kind for e in stored.timeline][-2:] == [
        "acknowledged", "reply_sent"]
    assert stores.tickets.append_event(uid("missing"), h.Sent(T0, "ack"), sent_key="ack#3") is False


def test_the_rate_is_a_token_bucket_of_per_minute_tokens(stores):
    channel = uid("ch")
    assert [stores.allowance.take(channel, T0, 3).wait for _ in range(3)] == [0, 0, 0]  # a full bucket: a burst of 3
    assert stores.allowance.take(channel, T0, 3).wait == pytest.approx(20.0)  # one token every 20 seconds
    assert stores.allowance.take(channel, T0 + timedelta(seconds=19), 3).wait == pytest.approx(1.0)
    assert stores.allowance.take(channel, T0 + timedelta(seconds=20), 3).allowed
    assert stores.allowance.take(channel, T0 + timedelta(seconds=20), 3).wait > 0
    later = T0 + timedelta(hours=1)  # idle long enough: full again, never more than full
    assert [stores.allowance.take(channel, later, 3).wait for _ in range(4)][:3] == [0, 0, 0]
    assert stores.allowance.take(channel, later, 3).wait > 0


def test_reservations_within_a_horizon_get_one_slot_each_in_order(stores):
    channel = uid("ch")
    assert [stores.allowance.take(channel, T0, 3).slot_in for _ in range(3)] == [0, 0, 0]  # the burst: now
    reserved = [stores.allowance.take(channel, T0, 3, within=60) for _ in range(4)]
    assert [r.slot_in for r in reserved[:3]] == pytest.approx([20.0, 40.0, 60.0])  # N reservations, N slots
    assert reserved[3].wait == pytest.approx(20.0) and not reserved[3].allowed  # past the horizon: refused
    assert stores.allowance.take(channel, T0 + timedelta(seconds=59), 3).wait > 0  # a plain take finds no token
    later = stores.allowance.take(channel, T0 + timedelta(seconds=50), 3, within=60)
    assert later.slot_in == pytest.approx(30.0)  # the slot after the last reserved one (T0 + 80 s)


def test_concurrent_reservations_never_share_a_slot(stores):
    channel, slots = uid("ch"), []

    def reserve() -> None:
        allowance = stores.allowance.take(channel, T0, 6, within=120)
        if allowance.allowed:
            slots.append(round(allowance.slot_in, 3))

    threads = [threading.Thread(target=reserve) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slots) == [0, 0, 0, 0, 0, 0, 10, 20, 30, 40, 50, 60]  # the burst of 6, then one each 10 s


def test_the_waiting_room_keeps_messages_in_order_and_gives_each_once(stores):
    channel = uid("ch")
    for order in ("1#2026-11-29T03:00:02#b", "0#2026-11-29T03:00:09#u", "1#2026-11-29T03:00:01#a"):
        stores.waiting.add(channel, order, {"idempotency_key": order[-1], "text": "é " + order})
    again = "1#2026-11-29T03:00:01#a"
    stores.waiting.add(channel, again, {"idempotency_key": "a", "text": "é " + again})  # the same place: no-op
    assert stores.waiting.count(channel) == 3 and stores.waiting.count(uid("other")) == 0
    first = stores.waiting.first(channel, 2)
    assert [(w.channel, w.message["idempotency_key"]) for w in first] == [(channel, "u"), (channel, "a")]
    assert stores.waiting.take(channel, first[0].order) == {"idempotency_key": "u", "text": "é " + first[0].order}
    assert stores.waiting.take(channel, first[0].order) is None  # taken once
    assert [w.message["idempotency_key"] for w in stores.waiting.first(channel, 10)] == ["a", "b"]


def test_concurrent_takes_never_exceed_the_bucket(stores):
    channel, taken = uid("ch"), []

    def take() -> None:
        taken.append(stores.allowance.take(channel, T0, 5).allowed)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count(True) == 5


def _charge(stores, channel: str, day: str, micros: int, limit: int, at: datetime = T0) -> bool:
    allowance = stores.allowance.take(channel, at, 10_000, Charge(day, micros, limit))
    assert not allowance.wait
    return not allowance.over_budget


def test_spend_is_added_with_the_token_and_refused_past_the_budget(stores):
    channel, day = uid("ch"), "2026-11-29"
    assert stores.allowance.spent(channel, day) == 0
    assert _charge(stores, channel, day, 200_000, 500_000) is True
    assert _charge(stores, channel, day, 300_000, 500_000) is True  # exactly the budget
    assert _charge(stores, channel, day, 15_000, 500_000) is False
    assert stores.allowance.spent(channel, day) == 500_000
    stores.allowance.refund(channel, day, 300_000)
    assert stores.allowance.spent(channel, day) == 200_000
    assert _charge(stores, channel, day, 600_000, 500_000) is False  # more than a whole day's budget
    assert _charge(stores, channel, "2026-11-30", 15_000, 500_000) is True  # a new day starts from nothing
    assert stores.allowance.spent(channel, "2026-11-30") == 15_000
    stores.allowance.refund(channel, day, 200_000)  # a day that is over is not changed
    assert stores.allowance.spent(channel, "2026-11-30") == 15_000 and stores.allowance.spent(channel, day) == 0


def test_a_refund_without_a_charge_changes_nothing(stores):
    channel = uid("ch")
    stores.allowance.refund(channel, "2026-11-29", 15_000)
    assert stores.allowance.spent(channel, "2026-11-29") == 0
    assert _charge(stores, channel, "2026-11-29", 20_000, 20_000) is True  # the whole budget is still there


def test_a_sent_record_of_the_earlier_format_answers_sent(dynamo_stores):
    """Before sends were recorded on tickets, ``sent/<key>`` became a sent record (``value`` with the platform's
    id): such a key is a duplicate, never an outcome to check."""
    from chalicelib.store.models import StateModel

    key = uid("ack#")
    StateModel("sent", key, value={"external_id": "999", "at": T0.isoformat()}, ref="R1").save()
    assert dynamo_stores.outbox.acquire_lease(key, T0, timedelta(minutes=10)) == "sent"


def test_a_refused_charge_takes_no_token_and_a_refused_token_charges_nothing(stores):
    channel, day = uid("ch"), "2026-11-29"
    assert stores.allowance.take(channel, T0, 1, Charge(day, 15_000, 20_000)).allowed
    assert stores.allowance.take(channel, T0, 1, Charge(day, 5_000, 20_000)).wait > 0  # no token left
    assert stores.allowance.spent(channel, day) == 15_000
    later = T0 + timedelta(minutes=5)
    assert stores.allowance.take(channel, later, 1, Charge(day, 15_000, 20_000)).over_budget
    assert stores.allowance.take(channel, later, 1, Charge(day, 5_000, 20_000)).allowed  # the token was not spent


def test_concurrent_charges_stay_within_the_budget(stores):
    channel, results = uid("ch"), []

    def charge() -> None:
        results.append(_charge(stores, channel, "d", 15_000, 100_000))

    threads = [threading.Thread(target=charge) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 6 and stores.allowance.spent(channel, "d") == 90_000


def test_incidents_round_trip_and_follow_ups_are_claimed_once(stores):
    incident = Incident(uid("INC-"), "No trains from Leeds", text="Signal failure", url="https://x.test/i",
                        desks=("complaints",), keywords=("leeds",), declared_at=T0, declared_by="lead")
    stores.incidents.put(incident)
    assert stores.incidents.get(incident.incident_id) == incident
    assert incident in stores.incidents.all()
    resolved = incident.resolved(T0 + timedelta(hours=1))
    stores.incidents.put(resolved)
    assert stores.incidents.get(incident.incident_id) == resolved
    assert incident.incident_id not in {i.incident_id for i in stores.incidents.active()}
    assert stores.incidents.get("INC-NONE") is None
    assert stores.incidents.claim_follow_up(incident.incident_id, "resolved", "R1") is True
    assert stores.incidents.claim_follow_up(incident.incident_id, "resolved", "R1") is False
    assert stores.incidents.claim_follow_up(incident.incident_id, "resolved", "R2") is True
    assert stores.incidents.claim_resolution(incident.incident_id) is True
    assert stores.incidents.claim_resolution(incident.incident_id) is False


def test_cursors(stores):
    name = uid("poll-")
    assert stores.cursors.get(name) == {}
    stores.cursors.put(name, {"since_id": "503", "pagination_token": None})
    assert stores.cursors.get(name) == {"since_id": "503", "pagination_token": None}


def test_the_form_limit_counts_per_client_and_window(stores):
    client = uid()
    assert [stores.form_limit.try_take(client, "2026112903", 3) for _ in range(4)] == [True, True, True, False]
    assert stores.form_limit.try_take(client, "2026112904", 3) is True
    assert stores.form_limit.try_take(uid(), "2026112903", 3) is True


def test_answers_are_counted_per_desk_in_whole_hours(stores):
    desk, other = uid("d"), uid("d")
    nine = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    for minutes in (0, 15, 59):  # three answers in the 09:00 hour
        stores.answers.record(desk, nine + timedelta(minutes=minutes))
    for minutes in (60, 61):  # two in the 10:00 hour
        stores.answers.record(desk, nine + timedelta(minutes=minutes))
    stores.answers.record(desk, nine + timedelta(hours=2, minutes=5))  # one in the 11:00 hour
    stores.answers.record(desk, nine - timedelta(minutes=1))  # one in the 08:00 hour
    stores.answers.record(other, nine + timedelta(minutes=30))
    now = nine + timedelta(hours=2, minutes=20)  # 11:20
    assert stores.answers.count_since(desk, nine, now) == 6  # since on the hour: 09:00 to 11:59
    assert stores.answers.count_since(desk, nine - timedelta(hours=1), now) == 7
    # an hour that began before ``since`` is left out whole: from 09:01 the count starts at 10:00
    assert stores.answers.count_since(desk, nine + timedelta(minutes=1), now) == 3
    assert stores.answers.count_since(desk, nine, nine + timedelta(minutes=59)) == 3  # up to now's hour
    assert stores.answers.count_since(desk, now, now) == 0  # 11:20: the next whole hour is after now
    assert stores.answers.count_since(other, nine, now) == 1
    assert stores.answers.count_since(uid("d"), nine, now) == 0
    # any time zone: the hours are UTC hours
    london_summer = timezone(timedelta(hours=1))
    assert stores.answers.count_since(desk, nine.astimezone(london_summer), now.astimezone(london_summer)) == 6


def test_concurrent_answers_all_count(stores):
    desk = uid("d")
    at = datetime(2026, 11, 30, 10, 30, tzinfo=timezone.utc)

    def answer() -> None:
        for _ in range(5):
            stores.answers.record(desk, at)

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert stores.answers.count_since(desk, at - timedelta(hours=1), at) == 20


def test_the_sandbox_lists_newest_first(stores):
    # the sandbox is one list for the whole stage: count only what this test recorded
    key = uid()
    for n in range(3):
        stores.sandbox.record(T0 + timedelta(days=3000, seconds=n), f"{key}-{n}", {"n": n, "key": key})
    mine = [m["n"] for m in stores.sandbox.recent() if m.get("key") == key]
    assert mine == [2, 1, 0]
    assert len(stores.sandbox.recent(limit=2)) == 2


def test_health_ping(stores):
    assert stores.health.ping() is None


def test_the_ticket_item_has_an_attribute_for_every_field():
    """The ticket ↔ item mapping is derived from the dataclass: the model must declare every field."""
    from dataclasses import fields

    from chalicelib.store.models import TicketModel

    attributes = set(TicketModel.get_attributes())
    assert {f.name for f in fields(Ticket)} <= attributes


def test_every_kind_of_timeline_entry_round_trips(stores):
    from tests.unit.test_history import EXAMPLES

    t = ticket()
    t.timeline += EXAMPLES
    stores.tickets.add(t)
    assert stores.tickets.get(t.ticket_id).timeline == t.timeline


def _triaged(text: str):
    from chalicelib.configfile import load_config
    from chalicelib.domain.triage import triage

    return triage(text, channel="x", config=load_config(PROJECT / "chalicelib" / "brand.yaml"))


def test_the_triage_decision_a_label_and_a_reply_round_trip(stores):
    from chalicelib.domain.decision import TriageDecision
    from chalicelib.domain.ticket import ReplyRecord

    result = _triaged("@MeridianRail my train was cancelled again, absolutely awful service")
    t = ticket(intent=result.intent, reasons=list(result.reasons), decision=result.decision, tone=result.tone,
               status="claimed", claimed_by="ana", claim_expires_at=T0 + timedelta(hours=1))
    t.replied("ana", T0 + timedelta(minutes=5), text="Sorry!\nWhich train was it?", request_id="req-1")
    t.label("praise", False, "ben", T0 + timedelta(minutes=6), acknowledge=False)
    stores.tickets.add(t)
    read = stores.tickets.get(t.ticket_id)
    assert read == t
    assert read.decision == result.decision and isinstance(read.decision, TriageDecision)
    assert read.relabel == TriageDecision(intent="praise", answered=False, why="labelled praise")
    assert read.triaged_intent == result.intent and read.triaged_acknowledge is result.acknowledge
    assert read.current_decision == read.relabel and read.reasons == result.reasons
    assert read.replies == [(T0 + timedelta(minutes=5), ReplyRecord("ana", "req-1", "Sorry!\nWhich train was it?"))]


def test_an_old_row_reads_the_decision_its_reasons_worded(stores):
    """A row written before the decision was typed: the decision only as prose in the reasons (with an agent's label
    after them)."""
    from chalicelib.domain.triage import policy_acknowledges

    result = _triaged("@MeridianRail thank you, lovely staff at Leeds today")
    old = ticket(intent="complaint", reasons=[*result.reasons, "labelled complaint, urgent by ben",
                                               "acknowledge: yes (labelled complaint)"], tone=result.tone)
    stores.tickets.add(old)
    from chalicelib.store.repositories import DynamoTickets

    if isinstance(stores.tickets, DynamoTickets):
        from chalicelib.store.models import TicketModel

        raw = TicketModel.get(old.ticket_id, consistent_read=True)  # the item as written: no typed attributes
        assert raw.decision is None and raw.relabel is None
    read = stores.tickets.get(old.ticket_id)
    confidence = round(result.confidence, 2) if result.confidence is not None else None
    assert read.decision == replace(result.decision, confidence=confidence)  # as the prose said it
    assert read.triaged_intent == "praise" and read.triaged_acknowledge is result.acknowledge
    assert read.relabel is not None and (read.relabel.intent, read.relabel.answered) == ("complaint", True)
    assert policy_acknowledges(read.intent, read.current_decision) is True
    assert read.reasons == result.reasons  # triage's explanation; the label is the typed relabel now
    stores.tickets.save(read)  # saved again, it carries the typed attributes
    assert stores.tickets.get(old.ticket_id) == read
    before_policy = ticket(intent="praise", reasons=["keyword: thanks"])
    stores.tickets.add(before_policy)
    unknown = stores.tickets.get(before_policy.ticket_id)
    assert unknown.decision is None and unknown.triaged_acknowledge is None
    assert policy_acknowledges(unknown.intent, unknown.current_decision) is False  # by intent, as before


def test_every_ledger_item_expires_with_retention(dynamo_stores):
    """On DynamoDB, what the ledgers write carries a TTL, so nothing outlives the tickets it belongs to."""
    from chalicelib.store.models import StateModel

    ticket_id, customer, key = uid("R"), uid("C"), uid("ack#")
    dynamo_stores.customers.point_open_ticket(customer, ticket_id, expected=None)
    dynamo_stores.threads.remember_sent_message("x", key, ticket_id)
    dynamo_stores.acks.begin(ticket_id, "ack")
    leased, channel = uid("ack#"), uid("ch")
    dynamo_stores.outbox.acquire_lease(key, T0, timedelta(minutes=10))
    dynamo_stores.outbox.acquire_lease(leased, T0, timedelta(minutes=10))
    dynamo_stores.incidents.claim_follow_up("INC-1", "resolved", ticket_id)
    dynamo_stores.form_limit.try_take(key, "w", 5)
    dynamo_stores.allowance.take(channel, T0, 60, Charge("2026-11-29", 15_000, 50_000_000))
    items = [StateModel.get(f"open#{customer}", "ticket"), StateModel.get(f"msg#x#{key}", "ticket"),
             StateModel.get(f"ack#{ticket_id}", "once"), StateModel.get("sent", key), StateModel.get("sent", leased),
             StateModel.get("followup#INC-1#resolved", ticket_id), StateModel.get("form-rate", f"{key}#w"),
             StateModel.get("rate", channel)]
    assert all(item.expires_at is not None for item in items)
    desk = uid("d")
    dynamo_stores.answers.record(desk, T0 + timedelta(minutes=30))
    hour = StateModel.get(f"answers#{desk}", "2026-11-29T03")
    assert hour.count == 1 and hour.expires_at == T0 + timedelta(days=3)  # kept a few days after its hour
    far = datetime.now(timezone.utc) + timedelta(days=80)
    assert all(item.expires_at > far for item in items[:4] + items[5:6])  # retention: 90 days in stage local


def test_queues_take_messages_and_refuse_what_sqs_would(queues):
    before = queues.approximate_depth("responder-desk-press")
    assert queues.send_desk("press", {"schema": "responder.desk-message/1", "ticket_id": "R1", "priority": "urgent"})
    assert queues.approximate_depth("responder-desk-press") == before + 1
    assert queues.send_outbox({"idempotency_key": "k"}) and queues.send_inbound({"v": 1})
    assert queues.url("responder-outbox")
    with pytest.raises(ValueError, match="exceeds the SQS limit"):
        queues.send_outbox({"text": "x" * (256 * 1024)})


def test_triage_labels_keep_one_label_per_ticket_oldest_first(stores):
    start = datetime(2031, 1, 1, tzinfo=timezone.utc) + timedelta(days=uuid.uuid4().int % 1000)  # apart per run
    first, second = uid("R"), uid("R")

    def given(ticket_id: str, minutes: int, intent: str, urgent: bool = False) -> TriageLabel:
        return TriageLabel(ticket_id=ticket_id, customer_id="C" + ticket_id, mention_key=f"x#{ticket_id}",
                           intent=intent, urgent=urgent, triaged="complaint", triaged_acknowledge=minutes > 3,
                           agent="amira",
                           at=start + timedelta(minutes=minutes))

    stores.labels.record(given(first, 5, "praise"))
    stores.labels.record(given(second, 1, "question", urgent=True))
    stores.labels.record(given(first, 9, "other"))  # relabelled: replaces the first label
    found = [x for x in stores.labels.all(start) if x.ticket_id in (first, second)]
    assert found == [given(second, 1, "question", urgent=True), given(first, 9, "other")]
    assert [x for x in stores.labels.all(start + timedelta(minutes=2)) if x.ticket_id in (first, second)] == \
        [given(first, 9, "other")]
    assert {first, second} <= {x.ticket_id for x in stores.labels.all()}
    stores.labels.forget(first)
    stores.labels.forget(uid("R"))  # nothing there: no error
    assert [x.ticket_id for x in stores.labels.all(start) if x.ticket_id in (first, second)] == [second]


def test_an_old_rows_timeline_prose_reads_typed(dynamo_stores):
    """Timeline entries written before they were typed (a kind and a line of prose; an agent's reply as
    ``agent#request\ntext``, later in a ``reply`` map) read as the typed entries they were, and are saved typed."""
    from chalicelib.domain.history import ReplyRecord
    from chalicelib.store.models import TicketModel, TimelineEvent
    from tests.unit.test_history import EXAMPLES

    t = ticket()
    dynamo_stores.tickets.add(t)
    before_typed = [e for e in EXAMPLES if not isinstance(e, h.Replied | h.Dismissed)  # (these and assignments
                    and not (isinstance(e, h.Claimed) and e.by)]                         # came after the typing)
    old_rows = [TimelineEvent(at=e.at, kind=str(e.kind), detail=e.detail or None) for e in before_typed]
    old_rows += [TimelineEvent(at=T0, kind="replied", detail="amira#req-7\nThanks!\nSee you soon"),
                 TimelineEvent(at=T0, kind="replied", detail="omar", reply={"agent": "omar", "request_id": "r",
                                                                             "text": "Hi"})]
    TicketModel(t.ticket_id).update(actions=[TicketModel.timeline.set(old_rows)])
    read = dynamo_stores.tickets.get(t.ticket_id)
    assert read.timeline[:-2] == before_typed
    assert read.replies == [(T0, ReplyRecord("amira", "req-7", "Thanks!\nSee you soon")),
                            (T0, ReplyRecord("omar", "r", "Hi"))]
    dynamo_stores.tickets.save(read)
    assert dynamo_stores.tickets.get(t.ticket_id).timeline == read.timeline
    assert TicketModel.get(t.ticket_id, consistent_read=True).timeline[-1].data == {
        "answer": {"agent": "omar", "request_id": "r", "text": "Hi"}}


def test_leads_saved_replies_are_kept_by_id_replaced_and_deleted(stores):
    from chalicelib.domain.config import SavedReply
    from chalicelib.store.ports import StoredSavedReply

    first, second = uid("a_"), uid("b_")
    reply = SavedReply(id=first, title="Refund form", desks=("journeys",), language="fr", text="Hi {{ name }}")
    stores.saved_replies.put(StoredSavedReply(reply=reply, by="chloe", at=T0))
    stores.saved_replies.put(StoredSavedReply(reply=SavedReply(id=second, title="Other", text="Hi"), by="chloe",
                                              at=T0))
    edited = reply.model_copy(update={"title": "Refund form (edited)"})
    stores.saved_replies.put(StoredSavedReply(reply=edited, by="dan", at=T0 + timedelta(minutes=1)))
    mine = [s for s in stores.saved_replies.all() if s.reply.id in (first, second)]
    assert [s.reply.id for s in mine] == [first, second]
    assert mine[0] == StoredSavedReply(reply=edited, by="dan", at=T0 + timedelta(minutes=1))
    assert stores.saved_replies.delete(first) is True
    assert stores.saved_replies.delete(first) is False
    assert first not in [s.reply.id for s in stores.saved_replies.all()]


def test_agents_seen_are_listed_by_username_with_their_teams_and_the_latest_time(stores):
    from chalicelib.domain.agent import Agent
    from chalicelib.store.ports import SeenAgent

    ben, chloe = uid("ben"), uid("chloe")
    stores.presence.seen(Agent(ben, "Ben", ("customer_service",)), T0)
    stores.presence.seen(Agent(chloe, "Chloe", ("team_leads",), lead=True), T0)
    stores.presence.seen(Agent(ben, "Ben", ("customer_service", "oncall")), T0 + timedelta(hours=1))
    seen = {s.username: s for s in stores.presence.all() if s.username in (ben, chloe)}
    assert seen[ben] == SeenAgent(ben, "Ben", ("customer_service", "oncall"), False, T0 + timedelta(hours=1))
    assert seen[chloe].lead is True and seen[chloe].teams == ("team_leads",)


def test_a_rate_counter_says_how_many_it_counted(stores):
    client = uid("client")
    assert stores.form_limit.used(client, "2026112903") == 0
    assert stores.form_limit.try_take(client, "2026112903", 2) and stores.form_limit.try_take(client, "2026112903", 2)
    assert not stores.form_limit.try_take(client, "2026112903", 2)
    assert stores.form_limit.used(client, "2026112903") == 2 and stores.form_limit.used(client, "2026112904") == 0


def test_an_agents_saved_views_are_theirs_by_name(stores):
    from chalicelib.store.ports import SavedView

    amira, ben = uid("amira"), uid("ben")
    stores.views.put(amira, SavedView("urgent", "complaints", {"priority": "urgent"}, T0))
    stores.views.put(amira, SavedView("due", "journeys", {"due_within": "30", "sort": "sla"}, T0))
    stores.views.put(amira, SavedView("urgent", "complaints", {"flag": "abuse"}, T0 + timedelta(minutes=1)))
    stores.views.put(ben, SavedView("mine", "complaints", {"held_by": "mine"}, T0))
    assert stores.views.of(amira) == [SavedView("due", "journeys", {"due_within": "30", "sort": "sla"}, T0),
                                      SavedView("urgent", "complaints", {"flag": "abuse"}, T0 + timedelta(minutes=1))]
    assert stores.views.delete(amira, "urgent") is True and stores.views.delete(amira, "urgent") is False
    assert [v.name for v in stores.views.of(amira)] == ["due"] and [v.name for v in stores.views.of(ben)] == ["mine"]


# ------------------------------------------------------------------------------------------------ team feed (ADR 0024)
@pytest.fixture(params=["memory", "dynamodb"])
def consumers(request):
    """The desk consumers' switch where no Lambda mapping exists: in memory, and in the state table (the local
    stack's runner reads it as Lambda's pollers read a mapping's state)."""
    if request.param == "memory":
        from chalicelib.store.memory import MemoryDeskConsumers

        return MemoryDeskConsumers()
    request.getfixturevalue("dynamo_stores")
    from chalicelib.store.repositories import DynamoDeskConsumers

    return DynamoDeskConsumers(timedelta(days=1))


def test_a_desk_consumer_is_off_until_switched_and_says_when_a_switch_changed_it(consumers):
    desk = uid("desk-")
    assert consumers.enabled(desk) is False
    assert consumers.switch(desk, True) is True and consumers.enabled(desk) is True
    assert consumers.switch(desk, True) is False
    assert consumers.switch(desk, False) is True and consumers.enabled(desk) is False
    assert consumers.switch(desk, False) is False


def test_the_feed_remembers_each_tickets_thread_per_destination_and_each_desks_last_digest(stores):
    ticket_id, desk = uid("R"), uid("desk-")
    assert stores.feed.thread("care-slack", ticket_id) is None
    stores.feed.remember_thread("care-slack", ticket_id, "1796000000.000123")
    assert stores.feed.thread("care-slack", ticket_id) == "1796000000.000123"
    assert stores.feed.thread("other", ticket_id) is None
    from chalicelib.store.ports import DigestMark

    assert stores.feed.digest(desk) is None
    stores.feed.mark_digest(desk, DigestMark(at=T0))
    stores.feed.mark_digest(desk, DigestMark(at=T0 + timedelta(hours=4), listed=("R1", "R2"), more=3))
    assert stores.feed.digest(desk) == DigestMark(at=T0 + timedelta(hours=4), listed=("R1", "R2"), more=3)
    event = f"{ticket_id}#ticket.created##{T0.isoformat()}"
    assert stores.feed.handed_over(desk, event) is False
    stores.feed.mark_handed_over(desk, event)
    assert stores.feed.handed_over(desk, event) is True and stores.feed.handed_over("other", event) is False


def test_notices_are_queued_in_batches_of_ten_and_read_back_whole(queues):
    import json as _json

    messages = [{"schema": "responder.notice/1", "id": f"n{i}", "destination": "care-slack"} for i in range(12)]
    queues.send_notices(messages)
    if hasattr(queues, "take"):
        got = queues.take("responder-notify")
    else:
        import boto3

        sqs, got = boto3.client("sqs", region_name="eu-west-2"), []
        url = sqs.get_queue_url(QueueName="responder-notify")["QueueUrl"]
        while len(got) < 12:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                break
            got += [_json.loads(m["Body"]) for m in batch]
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(batch)])
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in messages)
