"""Every branch of processing, acknowledgement, delivery, incidents, closing time and SLA watch, on the in-memory
twins of the stores and queues (held to the same contract as DynamoDB and SQS by tests/contract). The wiring of
the same use cases to the real routes, handlers, boto3 and moto is tested in tests/integration."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from chalicelib.channels.base import SendError, SendResult
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import OutboundMessage, OutboxItem
from chalicelib.sqs_batch import Record, RetryLater
from chalicelib.usecases import incidents
from chalicelib.usecases.acknowledge import acknowledge
from chalicelib.usecases.admin import change_incident
from chalicelib.usecases.closing_time import closing_time
from chalicelib.usecases.deliver import deliver, deliver_record
from chalicelib.usecases.errors import Conflict, Invalid, NotFound
from chalicelib.usecases.process import process_envelope, process_mention
from chalicelib.usecases.sla_watch import sla_watch
from chalicelib.usecases.waiting import dispatch
from tests.conftest import run_memory_pipeline, utc
from tests.helpers import queued, ticket_of, to_customers

COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful"


def tweet(external_id: str, text: str = COMPLAINT, *, at, author: str = "555", conversation: str = "",
          reply_to: str = "") -> Mention:
    return Mention(channel="x", external_id=external_id, conversation_id=conversation or external_id,
                   author_id=author, text=text, created_at=at, author_handle=f"user{author}",
                   author_name=f"User {author}", reply_to=reply_to)


def outbox_of(mem) -> list[dict]:
    """Messages for customers, sent (a new ticket's acknowledgement is sent by the attempt that saved it) or queued."""
    return to_customers(mem)


def desk_messages(mem) -> list[dict]:
    return [m for name, msgs in mem.queues.messages.items() if name.startswith("responder-desk-") for m in msgs]


# ------------------------------------------------------------------------------------------------ process
def test_a_new_out_of_hours_complaint_creates_a_ticket_routes_it_and_sends_one_ack(mem, clock):
    outcome = process_mention(mem, tweet("1", at=clock.now()))
    assert outcome.result == "created"
    ticket = mem.tickets.get(outcome.ticket_id)
    assert ticket.desk == "complaints" and ticket.intent == "complaint" and ticket.acked
    assert [m["ticket_id"] for m in desk_messages(mem)] == [ticket.ticket_id]
    [ack] = outbox_of(mem)
    assert ack["idempotency_key"] == f"ack#{ticket.ticket_id}" and ack["in_reply_to"] == "1"
    # a public X reply carries no URL (links.no_url_in_public): the reference, and how to follow it
    assert ticket.ticket_id in ack["text"] and "http" not in ack["text"] and "status page" in ack["text"]
    assert ticket_of(mem, "x#1") == ticket.ticket_id
    assert [e.kind for e in ticket.timeline] == ["received", "queued", "ack_queued", "acknowledged"]
    assert ticket.sent_keys == [ack["idempotency_key"]] and ticket.ack_lease is None  # sent now, lease released


def test_the_same_mention_again_is_a_duplicate_and_changes_nothing(mem, clock):
    first = process_mention(mem, tweet("1", at=clock.now()))
    again = process_mention(mem, tweet("1", at=clock.now()))
    assert again.result == "duplicate" and again.ticket_id == first.ticket_id
    assert len(outbox_of(mem)) == 1 and len(desk_messages(mem)) == 1


def test_a_reply_in_the_conversation_threads_into_the_ticket_without_a_second_ack(mem, clock):
    first = process_mention(mem, tweet("1", at=clock.now()))
    clock.advance(minutes=2)
    chase = process_mention(mem, tweet("2", "@MeridianRail hello??", at=clock.now(), conversation="1",
                                       reply_to="1"))
    assert chase.result == "threaded" and chase.ticket_id == first.ticket_id
    ticket = mem.tickets.get(first.ticket_id)
    assert ticket.mention_keys == ["x#1", "x#2"] and ticket.first_contact_at == utc(2026, 11, 29, 3, 0)
    assert len(outbox_of(mem)) == 1


def test_a_reply_to_our_own_sent_message_threads_into_its_ticket(mem, clock):
    first = process_mention(mem, tweet("1", at=clock.now()))
    mem.threads.remember_sent_message("x", "900", first.ticket_id)
    answer = process_mention(mem, tweet("3", "@MeridianRail thanks, any news?", at=clock.now(), conversation="77",
                                        reply_to="900"))
    assert answer.result == "threaded" and answer.ticket_id == first.ticket_id


def test_a_reply_to_a_stored_mention_of_another_conversation_threads_through_the_parent(mem, clock):
    first = process_mention(mem, tweet("1", at=clock.now()))
    child = process_mention(mem, tweet("5", "@MeridianRail and another thing", at=clock.now(), conversation="other",
                                       reply_to="1"))
    assert child.result == "threaded" and child.ticket_id == first.ticket_id


def test_a_half_finished_attempt_is_resumed_under_the_ticket_id_it_claimed(mem, clock):
    mention = tweet("1", at=clock.now())
    mem.mentions.add_if_new(mention, clock.now())  # stored, then the attempt died ...
    customer = mem.customers.resolve("x#555", "C1", channel="x", at=clock.now())
    mem.customers.point_open_ticket(customer, "R0000ABCD", expected=None)  # ... after pointing the customer at it
    outcome = process_mention(mem, mention)
    assert outcome.result == "created" and outcome.ticket_id == "R0000ABCD"
    assert mem.tickets.get("R0000ABCD") is not None and len(outbox_of(mem)) == 1


def test_a_redelivery_after_a_failed_desk_send_resumes_the_desk_send_and_the_ack(mem, clock):
    """Issue reproducer: the first SendMessage to the desk queue fails once; SQS redelivers the message."""
    send_desk, failures = mem.queues.send_desk, []

    def flaky(desk, message):
        if not failures:
            failures.append(desk)
            raise ConnectionError("SendMessage failed")
        return send_desk(desk, message)

    mem.queues.send_desk = flaky
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    with pytest.raises(ConnectionError):
        process_envelope(mem, env)
    assert desk_messages(mem) == [] and len(outbox_of(mem)) == 1  # the customer first: acknowledged already
    [outcome] = process_envelope(mem, env, attempt=2)
    assert outcome.result == "created"
    assert [m["event"] for m in desk_messages(mem)] == ["ticket.created"] and len(outbox_of(mem)) == 1
    # delivered once more after it finished (SQS delivers at least once): every step again, none of them twice
    assert process_envelope(mem, env, attempt=3)[0].result == "created"
    announcements = {(m["ticket_id"], m["event"], m["at"]) for m in desk_messages(mem)}
    assert len(announcements) == 1  # the same announcement again: the desk's consumers dedupe on these three
    run_memory_pipeline(mem)
    assert len(mem.sandbox.recent()) == 1  # one acknowledgement


def _desk_send_failing(mem) -> list[str]:
    """Every SendMessage to a desk queue fails until the returned list is given an item."""
    send_desk, fixed = mem.queues.send_desk, []

    def flaky(desk, message):
        if not fixed:
            raise ConnectionError("SendMessage failed")
        return send_desk(desk, message)

    mem.queues.send_desk = flaky
    return fixed


def test_a_message_redriven_from_the_dead_letter_queue_finishes_the_ticket_it_created(mem, clock):
    """Reliability scenario reproducer: every attempt saved the ticket and failed at the desk send, so the message
    went to the dead-letter queue; a redrive sends it again as a new message (receive count 1). It must still finish
    what the first attempt started: the desk hears of the ticket and the customer is acknowledged."""
    fixed = _desk_send_failing(mem)
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    for attempt in range(1, 6):
        with pytest.raises(ConnectionError):
            process_envelope(mem, env, attempt=attempt)
    fixed.append("the operator fixed the cause")
    clock.advance(hours=1)
    [outcome] = process_envelope(mem, env, attempt=1)  # redriven
    assert outcome.result == "created"
    assert [m["event"] for m in desk_messages(mem)] == ["ticket.created"] and len(outbox_of(mem)) == 1
    assert ticket_of(mem, "x#1") == outcome.ticket_id


def test_a_duplicate_during_an_unfinished_first_attempt_leaves_the_finishing_to_that_attempt(mem, clock):
    """Reliability scenario reproducer: the first attempt saved the ticket and failed at the desk send; a second
    copy of the tweet (a webhook retry, its own SQS message) arrives meanwhile. It changes nothing, and in particular
    does not mark the mention processed: the first message's redelivery then finishes the desk send and the ack."""
    fixed = _desk_send_failing(mem)
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    with pytest.raises(ConnectionError):
        process_envelope(mem, env)
    fixed.append("SQS is back")
    [duplicate] = process_envelope(mem, {**env, "id": "a-webhook-retry"})
    assert duplicate.result == "duplicate" and desk_messages(mem) == [] and len(outbox_of(mem)) == 1
    clock.advance(minutes=3)
    [outcome] = process_envelope(mem, env, attempt=2)
    assert outcome.result == "created"
    assert [m["event"] for m in desk_messages(mem)] == ["ticket.created"] and len(outbox_of(mem)) == 1


def test_a_redelivered_reply_that_created_its_ticket_finishes_it_after_its_parent_joined(mem, clock):
    """Reliability scenario reproducer (twcs tweets 3891 and 3890): a customer's reply to their own earlier tweet is
    processed first, creates the ticket and fails at the desk send; the earlier tweet then joins that ticket. The
    reply's redelivery now finds its parent's ticket, and must still finish what it started there."""
    fixed = _desk_send_failing(mem)
    reply = tweet("11", "@MeridianRail still no answer about my refund", at=clock.now(), conversation="10",
                  reply_to="10")
    env = queued(reply, received_at=clock.now())
    with pytest.raises(ConnectionError):
        process_envelope(mem, env)
    fixed.append("SQS is back")
    parent = process_mention(mem, tweet("10", at=clock.now() - timedelta(minutes=1)))
    assert parent.result == "threaded"
    clock.advance(minutes=3)
    [outcome] = process_envelope(mem, env, attempt=2)
    assert outcome.result == "created" and outcome.ticket_id == parent.ticket_id
    assert sorted(m["event"] for m in desk_messages(mem)) == ["ticket.created", "ticket.updated"]
    assert ticket_of(mem, "x#11") == outcome.ticket_id and len(outbox_of(mem)) == 1


def test_losing_the_race_for_the_customers_pointer_joins_the_winners_ticket(mem, clock):
    winner = process_mention(mem, tweet("1", at=clock.now()))
    # the loser looked before the winner pointed the customer at its ticket: hide the pointer for one read
    real = mem.customers.open_ticket
    calls = []
    mem.customers.open_ticket = lambda cid: (calls.append(cid) or None) if len(calls) < 2 else real(cid)
    outcome = process_mention(mem, tweet("2", "@MeridianRail me too, still waiting", at=clock.now()))
    assert outcome.result == "threaded" and outcome.ticket_id == winner.ticket_id
    assert mem.tickets.get(winner.ticket_id).mention_keys == ["x#1", "x#2"] and len(outbox_of(mem)) == 1


def test_a_ticket_already_created_by_a_concurrent_attempt_of_the_same_message_makes_this_one_a_duplicate(mem, clock):
    mention = tweet("1", at=clock.now())
    add = mem.tickets.add

    def add_then_lose(ticket):
        add(replace(ticket))  # somebody else created it a moment earlier
        add(ticket)

    mem.tickets.add = add_then_lose
    outcome = process_mention(mem, mention)
    assert outcome.result == "duplicate" and mem.tickets.get(outcome.ticket_id).mention_keys == ["x#1"]
    assert outbox_of(mem) == []  # the attempt that created it acknowledges, not this one


def test_praise_gets_the_thank_you_and_an_open_desk_no_ack(mem, clock):
    process_mention(mem, tweet("1", "@MeridianRail huge thanks to the lovely conductor, brilliant!", at=clock.now()))
    thanked = outbox_of(mem)
    assert len(thanked) == 1, thanked
    text = thanked[0].get("text") or json.dumps(thanked[0])
    assert "Thank you" in text and "back" not in text and "sorry" not in text.lower(), text
    clock.set(utc(2026, 11, 30, 10, 0))  # Monday morning: complaints open
    process_mention(mem, tweet("2", at=clock.now(), author="9"))
    assert outbox_of(mem) == thanked and len(desk_messages(mem)) == 2


def test_an_old_mention_is_routed_but_not_acknowledged(mem, clock):
    process_mention(mem, tweet("1", at=clock.now() - timedelta(hours=13)))
    assert outbox_of(mem) == [] and len(desk_messages(mem)) == 1


def test_concurrent_first_messages_of_one_conversation_give_one_ticket(mem, clock):
    mentions = [tweet(str(n), at=clock.now(), conversation="1") for n in range(1, 9)]
    outcomes = []
    threads = [threading.Thread(target=lambda m=m: outcomes.append(process_mention(mem, m))) for m in mentions]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({o.ticket_id for o in outcomes}) == 1
    assert [o.result for o in outcomes].count("created") == 1
    assert len(outbox_of(mem)) == 1


def test_an_envelope_of_another_version_or_kind_is_refused(mem):
    with pytest.raises(ValueError):
        process_envelope(mem, {"v": 2, "kind": "x", "payload": {}})
    with pytest.raises(ValueError):
        process_envelope(mem, {"v": 1, "kind": "carrier-pigeon", "payload": {}})


def test_a_normalized_envelope_is_processed_with_its_raw_reference(mem, clock):
    env = queued(tweet("1", at=clock.now()), received_at=clock.now(), source="poll")
    [outcome] = process_envelope(mem, env, raw_ref="inbound#abc")
    assert outcome.result == "created" and mem.mentions.get("x#1").mention.raw_ref == "inbound#abc"


# ------------------------------------------------------------------------------------------------ acknowledge
def test_acknowledge_is_once_per_ticket_whatever_the_kind(mem, clock):
    ticket = mem.tickets.get(process_mention(mem, tweet("1", at=clock.now())).ticket_id)
    assert acknowledge(mem, ticket, back_at=clock.now() + timedelta(hours=6), kind="closing") is False
    assert len(outbox_of(mem)) == 1


def test_an_ack_begun_but_not_queued_is_queued_by_the_next_attempt(mem, clock):
    process_mention(mem, tweet("1", "@MeridianRail hi", at=clock.now() - timedelta(hours=20)))  # too old: no ack
    ticket = next(iter(mem.tickets.open_tickets()))
    mem.acks.begin(ticket.ticket_id, "ack")  # an attempt died after marking
    assert acknowledge(mem, ticket, back_at=clock.now() + timedelta(hours=6)) is True
    assert len(outbox_of(mem)) == 1 and mem.acks.is_queued(ticket.ticket_id)


def test_an_active_incident_is_named_in_the_ack_and_linked_to_the_ticket(mem, clock):
    incident = incidents.declare(mem, {"title": "No trains from Leeds", "keywords": ["leeds"],
                                       "url": "https://status.example.test/1"})
    outcome = process_mention(mem, tweet("1", "@MeridianRail no trains from leeds tonight, awful service",
                                         at=clock.now()))
    ticket = mem.tickets.get(outcome.ticket_id)
    assert ticket.incident_id == incident.incident_id
    assert "No trains from Leeds" in outbox_of(mem)[0]["text"]


# ------------------------------------------------------------------------------------------------ deliver
class Recorder:
    def __init__(self, *errors: SendError):
        self.sent: list[OutboundMessage] = []
        self.errors = list(errors)

    def send(self, message: OutboundMessage) -> SendResult:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return SendResult(external_id=f"out-{len(self.sent)}")


def queued_ack(mem, clock) -> OutboxItem:
    """A new ticket's acknowledgement handed to the outbox: the platform was unavailable when the attempt that saved
    the ticket tried to send it (``deliver.send_now``)."""
    sender = mem._senders.get("x")
    mem._senders["x"] = Recorder(SendError("503 Service Unavailable", retryable=True))
    process_mention(mem, tweet("1", at=clock.now()))
    if sender is not None:
        mem._senders["x"] = sender
    else:
        mem._senders.pop("x")
    [message] = mem.queues.take(mem.settings.outbox_queue)
    return OutboxItem.from_dict(message)


def with_sender(mem, sender):
    mem._senders["x"] = sender
    return sender


def test_delivery_sends_once_and_records_it_on_the_ticket(mem, clock):
    sender = with_sender(mem, Recorder())
    item = queued_ack(mem, clock)
    assert deliver(mem, item) == "sent"
    assert deliver(mem, item) == "duplicate"
    assert len(sender.sent) == 1 and sender.sent[0].in_reply_to == "1"
    ticket = mem.tickets.get(item.ticket_id)
    assert ticket.sent_keys == [item.idempotency_key] and ticket.timeline[-1].kind == "acknowledged"
    # an acknowledgement needs no index of our message: its customer's open-ticket pointer finds the ticket
    assert mem.threads.sent_message_ticket("x", "out-1") is None
    reply = replace(item, idempotency_key="reply#1", kind="reply")
    assert deliver(mem, reply) == "sent"
    assert mem.threads.sent_message_ticket("x", "out-2") == item.ticket_id  # an agent's reply is indexed


def test_an_ack_past_its_expiry_is_not_sent(mem, clock):
    sender = with_sender(mem, Recorder())
    item = queued_ack(mem, clock)
    clock.set(item.expires_at)
    assert deliver(mem, item) == "expired" and sender.sent == []
    assert mem.tickets.get(item.ticket_id).timeline[-1].kind == "ack_expired"


def test_a_throttled_message_waits_for_its_slot_and_is_sent_then_without_spending_a_receive(mem, clock):
    sender = with_sender(mem, Recorder())
    item = replace(queued_ack(mem, clock), expires_at=None)
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 1})
    other = replace(item, idempotency_key="other")
    clock.advance(minutes=1)  # the token the first try took is back
    assert deliver(mem, other) == "sent"
    assert deliver(mem, item) == "waiting"  # no RetryLater: the SQS record succeeds, its receive is not spent
    [waiting] = mem.waiting.first("x", 10)
    assert waiting.message["idempotency_key"] == item.idempotency_key
    assert mem.tickets.get(item.ticket_id).timeline[-1].kind == "waiting"
    assert dispatch(mem) == {"x": {"scheduled": 1, "expired": 0, "failed": 0, "waiting": 0}}
    outbox = mem.queues.messages[mem.settings.outbox_queue]
    [queued] = [m for m in outbox if m["idempotency_key"] == item.idempotency_key]
    slot = datetime.fromisoformat(queued["slot"])
    assert slot == clock.now() + timedelta(minutes=1)  # the next token of a bucket of one a minute
    assert mem.tickets.get(item.ticket_id).timeline[-1].detail == f"ack: {slot.isoformat()}"
    clock.set(slot)
    assert deliver(mem, OutboxItem.from_dict(queued)) == "sent"  # its token was reserved: none taken again
    assert [m.idempotency_key for m in sender.sent][-1] == item.idempotency_key
    assert deliver(mem, replace(item, idempotency_key="third")) == "waiting"  # the slot's token was the last one


def test_a_message_another_delivery_holds_is_retried_later_and_an_unfinished_attempt_is_never_resent(mem, clock):
    """Issue reproducer: an attempt that sent, then failed before recording it, must not lead to a second send when
    SQS redelivers or an operator redrives the dead-letter queue."""
    sender = with_sender(mem, Recorder())
    item = replace(queued_ack(mem, clock), expires_at=None)
    mem.outbox.acquire_lease(item.idempotency_key, clock.now(), timedelta(minutes=10))
    with pytest.raises(RetryLater):
        deliver(mem, item)
    clock.advance(minutes=10)
    record = Record("m1", "r1", json.dumps(item.to_dict()), 2)
    assert deliver_record(mem, record) == "failed" and sender.sent == []
    [parked] = mem.queues.messages[f"{mem.settings.outbox_queue}-dlq"]
    assert "ended without a result" in parked["error"]
    assert mem.tickets.get(item.ticket_id).timeline[-1].kind == "reply_unconfirmed"
    assert deliver_record(mem, record) == "failed" and sender.sent == []  # a redrive does not send it either


def test_a_send_that_crashes_after_reaching_the_platform_is_sent_once(mem, clock):
    sender = with_sender(mem, Recorder())
    item = replace(queued_ack(mem, clock), expires_at=None)
    append_event = mem.tickets.append_event
    mem.tickets.append_event = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("UpdateItem failed"))
    with pytest.raises(ConnectionError):
        deliver(mem, item)
    mem.tickets.append_event = append_event
    for attempt in (2, 3, 4):
        clock.advance(minutes=11)
        deliver_record(mem, Record("m1", "r1", json.dumps(item.to_dict()), attempt))
    assert len(sender.sent) == 1


def test_the_sandbox_logs_neither_the_message_text_nor_the_status_link(mem, clock):
    """Reliability scenario finding: at INFO (the level of dev and prod), the sandbox sender logged the whole
    message, status-link token included, where logs promise never message text."""
    import logging

    from chalicelib.channels import sandbox

    item = queued_ack(mem, clock)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    log = sandbox.logger._logger
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        assert deliver(mem, item) == "sent"
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    token = mem.links.url(item.ticket_id).rsplit("/s/", 1)[1]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "sandbox: message not sent" in logged and item.idempotency_key in logged
    assert token not in logged and item.text not in logged


def test_a_retryable_failure_backs_off_and_releases_the_lease(mem, clock):
    sender = with_sender(mem, Recorder(SendError("503", retryable=True)))
    item = queued_ack(mem, clock)
    with pytest.raises(RetryLater) as later:
        deliver(mem, item, attempt=2)
    assert later.value.seconds == 60
    assert deliver(mem, item, attempt=3) == "sent" and len(sender.sent) == 1


def test_a_permanent_failure_goes_to_the_dead_letter_queue_with_a_timeline_entry(mem, clock):
    with_sender(mem, Recorder(SendError("403 duplicate content", retryable=False)))
    item = queued_ack(mem, clock)
    record = Record("m1", "r1", json.dumps(item.to_dict()), 1)
    assert deliver_record(mem, record) == "failed"
    [parked] = mem.queues.messages[f"{mem.settings.outbox_queue}-dlq"]
    assert parked["idempotency_key"] == item.idempotency_key and "duplicate content" in parked["error"]
    assert mem.tickets.get(item.ticket_id).timeline[-1].kind == "reply_failed"


def test_a_retryable_failure_on_the_last_attempt_is_permanent(mem, clock):
    with_sender(mem, Recorder(SendError("503", retryable=True)))
    item = queued_ack(mem, clock)
    record = Record("m1", "r1", json.dumps(item.to_dict()), 6)
    assert deliver_record(mem, record) == "failed"


def test_the_whole_pipeline_on_memory_sends_one_ack_to_the_sandbox(mem, clock):
    from chalicelib.usecases.webhooks import receive_x
    from tests.helpers import tweet_event, x_body, x_headers

    body = x_body(tweet_event("7001", COMPLAINT, at=clock.now()))
    headers = x_headers(body)
    for _ in range(3):
        assert receive_x(mem, body, headers["x-twitter-webhooks-signature"]) == {"accepted": 1}
    desks = run_memory_pipeline(mem)
    assert sum(len(m) for m in desks.values()) == 1
    [sent] = mem.sandbox.recent()
    assert sent["in_reply_to"] == "7001" and "09:00" in sent["text"]


# ------------------------------------------------------------------------------------------------ incidents
def test_incident_declare_validate_update_resolve(mem, clock):
    with pytest.raises(Invalid, match="title"):
        incidents.declare(mem, {"title": "x"})
    with pytest.raises(Invalid, match="unknown desk"):
        incidents.declare(mem, {"title": "Signal failure", "desks": ["nowhere"]})
    with pytest.raises(Invalid, match="unknown field"):
        incidents.declare(mem, {"title": "Signal failure", "severity": 3})
    with pytest.raises(NotFound):
        incidents.update(mem, "INC-NONE", {})
    incident = incidents.declare(mem, {"title": "Signal failure", "desks": ["complaints"]})
    clock.advance(minutes=5)
    updated = incidents.update(mem, incident.incident_id, {"text": "Buses from 06:00"})
    assert updated.text == "Buses from 06:00" and updated.updated_at == clock.now() and updated.active
    resolved = incidents.update(mem, incident.incident_id, {}, resolve=True)
    assert not resolved.active and incidents.list_incidents(mem, active_only=True) == []


def test_follow_ups_reach_each_linked_open_ticket_once_per_change(mem, clock):
    incident = incidents.declare(mem, {"title": "No trains from Leeds", "keywords": ["leeds"]})
    process_mention(mem, tweet("1", "@MeridianRail no trains at leeds, awful service", at=clock.now()))
    process_mention(mem, tweet("2", "@MeridianRail leeds again, nothing running", at=clock.now(), author="9"))
    assert change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=True)["follow_ups_queued"] == 2
    with pytest.raises(Conflict):
        change_incident(mem, incident.incident_id, {"follow_up": True}, resolve=True)
    queued = mem.queues.messages[mem.settings.outbox_queue]
    assert {m["kind"] for m in queued} == {"incident_resolved"} and len(queued) == 2


# ------------------------------------------------------------------------------------------------ schedules
def test_closing_time_acks_waiting_customers_of_a_closed_desk_once(mem, clock):
    clock.set(utc(2026, 11, 30, 19, 59))  # Monday, just before the complaints desk closes
    process_mention(mem, tweet("1", at=clock.now()))
    assert outbox_of(mem) == []
    clock.set(utc(2026, 11, 30, 20, 5))
    assert closing_time(mem) == {"acknowledged": 1, "claims_released": 0}
    assert closing_time(mem) == {"acknowledged": 0, "claims_released": 0}
    [ack] = outbox_of(mem)
    assert ack["kind"] == "closing"


def test_closing_time_releases_expired_claims(mem, clock):
    ticket = mem.tickets.get(process_mention(mem, tweet("1", at=clock.now())).ticket_id)
    mem.tickets.update(ticket.ticket_id, lambda t: t.claim("ana", clock.now() + timedelta(minutes=30), clock.now()))
    assert closing_time(mem)["claims_released"] == 0
    clock.advance(minutes=31)
    assert closing_time(mem)["claims_released"] == 1
    assert mem.tickets.get(ticket.ticket_id).status == "waiting"


def test_sla_watch_marks_escalates_and_counts_a_breach_once(mem, clock):
    clock.set(utc(2026, 11, 30, 10, 0))  # Monday, desks open
    ticket = mem.tickets.get(process_mention(mem, tweet("1", at=clock.now())).ticket_id)
    clock.set(ticket.first_response_due - timedelta(minutes=1))
    assert sla_watch(mem) == {"breached": 0}
    clock.set(ticket.first_response_due + timedelta(minutes=1))
    assert sla_watch(mem) == {"breached": 1}
    assert sla_watch(mem) == {"breached": 0}
    [escalated] = mem.queues.messages["responder-desk-escalations"]
    assert escalated["event"] == "ticket.sla_breached" and escalated["ticket_id"] == ticket.ticket_id
    assert mem.tickets.get(ticket.ticket_id).breached


# ------------------------------------------------------------------------------------------------ sent at once
class Exploding:
    """A sender that reaches the platform and then fails in a way no sender expects (a reply it cannot read)."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        raise KeyError("data")


def test_an_unexpected_error_from_the_send_is_an_unknown_outcome_never_a_second_send(mem, clock):
    exploding = with_sender(mem, Exploding())
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    [outcome] = process_envelope(mem, env)
    ticket = mem.tickets.get(outcome.ticket_id)
    assert ticket.timeline[-1].kind == "reply_unconfirmed" and ticket.sent_keys == [f"ack#{ticket.ticket_id}"]
    [parked] = mem.queues.messages[f"{mem.settings.outbox_queue}-dlq"]
    assert "without a result" in parked["error"]
    assert mem.queues.messages.get(mem.settings.outbox_queue, []) == []  # not handed to the outbox
    recorder = with_sender(mem, Recorder())
    process_envelope(mem, env, attempt=2)  # delivered again: the key is settled, nothing is sent
    run_memory_pipeline(mem)
    assert exploding.calls == 1 and recorder.sent == []


def test_a_send_without_an_answer_through_the_outbox_is_parked_with_its_lease(mem, clock):
    with_sender(mem, Recorder(SendError("no answer from X in time", retryable=True, outcome_unknown=True)))
    item = queued_ack(mem, clock)
    record = Record("m1", "r1", json.dumps(item.to_dict()), 1)
    assert deliver_record(mem, record) == "failed"
    [parked] = mem.queues.messages[f"{mem.settings.outbox_queue}-dlq"]
    assert "without a result" in parked["error"] and item.idempotency_key in mem.outbox.leases
    ticket = mem.tickets.get(item.ticket_id)
    assert ticket.timeline[-1].kind == "reply_unconfirmed" and item.idempotency_key in ticket.sent_keys
    assert deliver_record(mem, record) == "duplicate"  # a redrive sends nothing


def test_past_the_invocations_sending_time_the_acknowledgement_goes_to_the_outbox(mem, clock):
    import time

    from chalicelib.usecases.deliver import SendDeadline

    recorder = with_sender(mem, Recorder())
    outcome = process_mention(mem, tweet("1", at=clock.now()), deadline=SendDeadline(time.monotonic() - 1))
    assert recorder.sent == []
    [queued] = mem.queues.messages[mem.settings.outbox_queue]
    assert queued["idempotency_key"] == f"ack#{outcome.ticket_id}"
    assert mem.tickets.get(outcome.ticket_id).ack_lease is None  # released: the outbox sends it once
    run_memory_pipeline(mem)
    assert len(recorder.sent) == 1


def test_a_refused_allowance_charges_nothing_and_hands_over(mem, clock):
    from chalicelib.domain.config import ChannelSpend

    recorder = with_sender(mem, Recorder())
    mem.config = mem.config.model_copy(update={"spend": {"x": ChannelSpend(daily_usd=0.01)}})  # not one post
    process_mention(mem, tweet("1", at=clock.now()))
    assert recorder.sent == [] and len(mem.queues.messages[mem.settings.outbox_queue]) == 1
    assert mem.allowance.spent("x", "2026-11-29") == 0  # nothing charged, nothing refunded below zero


def test_a_redrive_after_its_ticket_closed_opens_no_second_ticket(mem, clock):
    env = queued(tweet("1", at=clock.now()), received_at=clock.now())
    [first] = process_envelope(mem, env)
    mem.tickets.update(first.ticket_id, lambda t: t.resolve("ana", clock.now()))
    clock.advance(days=10)  # past the reopen window; then the envelope is redriven from the dead-letter queue
    [again] = process_envelope(mem, env)
    assert again.result == "duplicate" and again.ticket_id == first.ticket_id
    assert len(mem.tickets.for_customer(mem.tickets.get(first.ticket_id).customer_id)) == 1


def test_an_agent_cannot_reopen_an_old_ticket_while_the_first_one_is_open(mem, clock):
    """The customer's open case is their first ticket, which no pointer names (a ticket of theirs from before, e.g.
    brought by a merge, is resolved): reopening the old one would give them two open cases."""
    from chalicelib.domain.agent import Agent
    from chalicelib.usecases.desk.actions import reopen
    from tests.helpers import a_ticket

    first = process_mention(mem, tweet("1", at=clock.now()))
    customer = mem.tickets.get(first.ticket_id).customer_id
    assert mem.customers.open_ticket(customer) is None  # the first ticket needs no pointer
    old = a_ticket("ROLDTICKT", clock.now() - timedelta(days=30), customer_id=customer, status="resolved",
                   resolved_at=clock.now() - timedelta(days=20))
    mem.tickets.add(old)
    lead = Agent(username="chloe", teams=("customer_service",), lead=True)
    clock.set(utc(2026, 11, 30, 10, 0))  # Monday morning: on shift
    with pytest.raises(Conflict, match=first.ticket_id):
        reopen(mem, lead, old.ticket_id)
