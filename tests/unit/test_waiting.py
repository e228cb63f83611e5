"""Waiting is not failing: acknowledgements the channel's rate cannot send now wait in the waiting room, get a slot
each in priority order (urgent first, then first contacts oldest first), and end sent, expired or parked with a
reason — never retried onto a dead-letter queue, never sent twice. On the in-memory twins (the same contract as
DynamoDB, tests/contract); the outbox is driven as Lambda drives it, its messages delivered once their delay is
over."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest

from chalicelib.channels.base import SendError, SendResult
from chalicelib.domain import history as h
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import OutboundMessage, OutboxItem, ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.sqs_batch import Record
from chalicelib.usecases.admin import acknowledgements
from chalicelib.usecases.closing_time import closing_time
from chalicelib.usecases.deliver import deliver, deliver_record
from chalicelib.usecases.process import process_envelope, process_mention
from chalicelib.usecases.waiting import dispatch
from tests.conftest import utc
from tests.helpers import queued

COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful #{n}"
URGENT = "@MeridianRail we are stranded at Didcot with a toddler, no trains and no staff #{n}"


class Platform:
    """The channel's API: records what it was sent, and when (the app's clock)."""

    def __init__(self, clock, *errors: BaseException):
        self.clock, self.errors = clock, list(errors)
        self.sent: list[tuple[datetime, OutboundMessage]] = []

    def send(self, message: OutboundMessage) -> SendResult:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((self.clock.now(), message))
        return SendResult(external_id=f"out-{len(self.sent)}")


def tweet(n: int, text: str, at: datetime) -> Mention:
    return Mention(channel="x", external_id=str(1000 + n), conversation_id=str(1000 + n), author_id=str(500 + n),
                   text=text.format(n=n), created_at=at, author_handle=f"user{n}", author_name=f"User {n}")


@pytest.fixture
def platform(mem, clock):
    mem._senders["x"] = Platform(clock)
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 6})  # a token every 10 seconds
    return mem._senders["x"]


def run_outbox(mem, clock, *, minutes: int) -> list[str]:
    """Lambda's side for ``minutes``: the dispatcher every minute, and each outbox message delivered (on its first
    receive) once its delay is over; what each delivery answered."""
    pending: list[tuple[datetime, dict]] = []
    outcomes = []
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        if clock.now().second == 0:
            dispatch(mem)
        for message in mem.queues.take(mem.settings.outbox_queue):
            slot = message.get("slot")
            pending.append((datetime.fromisoformat(slot) if slot else clock.now(), message))
        due = [p for p in pending if p[0] <= clock.now()]
        pending = [p for p in pending if p[0] > clock.now()]
        for n, (_, message) in enumerate(due):
            outcomes.append(deliver_record(mem, Record(f"m{n}", f"r{n}", json.dumps(message), 1)))
        clock.advance(seconds=1)
    return outcomes


def dead_letters(mem) -> list[dict]:
    return mem.queues.messages.get(f"{mem.settings.outbox_queue}-dlq", [])


def test_a_storm_is_sent_at_the_rate_in_priority_order_each_once_and_none_on_a_dead_letter_queue(mem, clock,
                                                                                              platform):
    start = clock.now()
    for n in range(30):  # thirty customers within three seconds
        clock.set(start + timedelta(milliseconds=100 * n))
        process_mention(mem, tweet(n, COMPLAINT, clock.now()))
    assert len(platform.sent) == 6  # the bucket's burst went out at once
    assert acknowledgements(mem)["waiting"] == 24
    clock.set(start + timedelta(minutes=1))
    run_outbox(mem, clock, minutes=6)
    recipients = [m.recipient for _, m in platform.sent]
    assert len(recipients) == 30 == len(set(recipients))  # every customer once
    assert recipients == sorted(recipients, key=int)  # first contacts oldest first
    times = [at for at, _ in platform.sent]
    for i in range(30):  # a bucket of 6, one token back each 10 s
        for j in range(i, 30):
            assert j - i + 1 <= 6 + (times[j] - times[i]).total_seconds() / 10
    # the rate's floor: the bucket full again at 03:01 (6 at once), then 18 slots 10 s apart, none left idle
    assert times[-1] - times[6] == timedelta(seconds=180)
    assert dead_letters(mem) == []
    account = acknowledgements(mem)
    assert (account["decided"], account["sent"], account["waiting"], account["parked"]) == (30, 30, 0, 0)


def test_an_acknowledgement_whose_slot_comes_after_the_team_is_back_expires_without_spending_a_token(mem, clock,
                                                                                                    platform):
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 1})
    first = process_mention(mem, tweet(0, COMPLAINT, clock.now()))
    opening = mem.calendar.next_opening(mem.tickets.get(first.ticket_id).desk, clock.now())
    clock.set(opening - timedelta(minutes=3, seconds=30))
    tickets = []
    for n in range(1, 11):
        clock.advance(seconds=1)
        tickets.append(process_mention(mem, tweet(n, COMPLAINT, clock.now())).ticket_id)
    assert len(platform.sent) == 2  # the first customer's at 03:00, then one token back by now
    clock.set(clock.now().replace(second=0) + timedelta(minutes=1))
    outcomes = run_outbox(mem, clock, minutes=6)
    states = [mem.tickets.get(t).ack_state()[0] for t in tickets]
    assert states.count("sent") == 4 and states.count("expired") == 6  # 1 at once + 3 slots before the opening
    assert [s for s in states if s == "sent"] == states[:4]  # the oldest went out
    assert "expired" in mem.tickets.get(tickets[-1]).ack_state()[0]
    assert outcomes == ["sent"] * 3 and dead_letters(mem) == []  # no slot reserved after the opening
    account = acknowledgements(mem)
    assert account["decided"] == account["sent"] + account["expired"] == 11 and account["parked"] == 0


def test_waiting_messages_go_urgent_first_then_acknowledgements_oldest_first_then_the_rest(mem, clock, platform):
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 1})
    t0 = clock.now()
    assert mem.allowance.take("x", t0, 1).allowed  # the bucket is empty: everything below waits
    made = [("reply", "normal", 1, "agent reply to the first customer"), ("ack", "normal", 3, "third"),
            ("ack", "normal", 2, "second"), ("ack", "urgent", 9, "stranded, wrote last"),
            ("incident_update", "normal", 0, "incident notice")]
    for kind, priority, minute, text in made:
        item = OutboxItem(idempotency_key=f"{kind}#{text}", kind=kind, ticket_id="R1", target=ReplyTarget("x", "9"),
                          text=text, queued_at=t0, customer_wrote_at=t0 - timedelta(minutes=10 - minute),
                          priority=priority)
        assert deliver(mem, item) == "waiting"
    order = []
    for minute in range(1, 7):
        clock.set(t0 + timedelta(minutes=minute))
        dispatch(mem)
        order += [m["text"] for m in mem.queues.take(mem.settings.outbox_queue)]
    assert order == ["stranded, wrote last", "second", "third", "incident notice", "agent reply to the first customer"]


def test_two_dispatchers_at_once_never_hand_a_message_over_twice(mem, clock, platform):
    for n in range(40):
        process_mention(mem, tweet(n, COMPLAINT, clock.now()))
    assert len(platform.sent) == 6
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        dispatch(mem)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queued = mem.queues.take(mem.settings.outbox_queue)
    keys = [m["idempotency_key"] for m in queued]
    assert len(keys) == len(set(keys)) == 9  # the slots of the next 90 seconds at 6 a minute, once each
    assert len({m["slot"] for m in queued}) == 9  # each its own slot
    assert mem.waiting.count("x") == 34 - 9


def test_an_inline_send_without_a_result_is_never_sent_again_by_a_redrive(mem, clock, platform):
    platform.errors.append(SendError("read timeout", retryable=False, outcome_unknown=True))
    outcome = process_mention(mem, tweet(0, COMPLAINT, clock.now()))
    [parked] = dead_letters(mem)
    assert "without a result" in parked["error"]
    assert mem.tickets.get(outcome.ticket_id).ack_state()[0] == "parked"
    clock.advance(minutes=30)  # the runbook's redrive, long after
    body = {k: v for k, v in parked.items() if k != "error"}
    assert deliver_record(mem, Record("m1", "r1", json.dumps(body), 1)) == "duplicate"
    assert platform.sent == []


def test_a_failed_allowance_and_a_failed_lease_release_still_end_with_the_acknowledgement_sent(mem, clock,
                                                                                              platform):
    take = mem.allowance.take
    mem.allowance.take = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("UpdateItem throttled"))
    mem.tickets.release_ack_lease = lambda ticket_id: (_ for _ in ()).throw(ConnectionError("UpdateItem 500"))
    outcome = process_mention(mem, tweet(0, COMPLAINT, clock.now()))  # the inbound record succeeds
    assert platform.sent == [] and mem.tickets.get(outcome.ticket_id).ack_lease is not None
    mem.allowance.take = take
    [message] = mem.queues.take(mem.settings.outbox_queue)  # handed to the outbox before the release was tried
    assert deliver_record(mem, Record("m1", "r1", json.dumps(message), 1)) == "sent"
    ticket = mem.tickets.get(outcome.ticket_id)
    assert len(platform.sent) == 1 and ticket.ack_lease is None and ticket.ack_state()[0] == "sent"


class CutOff(BaseException):
    """The Lambda's time ran out in the middle of the platform call."""


def test_an_inline_send_cut_off_is_parked_with_its_reason_when_the_attempt_resumes_and_never_sent_twice(
        mem, clock, platform):
    platform.errors.append(CutOff())
    env = queued(tweet(0, COMPLAINT, clock.now()), received_at=clock.now())
    with pytest.raises(CutOff):
        process_envelope(mem, env)
    clock.advance(minutes=11)  # SQS delivers the inbound message again once the ticket's sending lease has lapsed
    [outcome] = process_envelope(mem, env, attempt=2)
    [parked] = dead_letters(mem)
    assert "cut off" in parked["error"] and parked["idempotency_key"] == f"ack#{outcome.ticket_id}"
    ticket = mem.tickets.get(outcome.ticket_id)
    assert ticket.ack_state()[0] == "parked" and parked["idempotency_key"] in ticket.sent_keys
    body = {k: v for k, v in parked.items() if k != "error"}
    assert deliver_record(mem, Record("m1", "r1", json.dumps(body), 1)) == "duplicate" and platform.sent == []


def test_a_decided_acknowledgement_is_in_exactly_one_state():
    t0 = datetime(2026, 11, 29, 3, 0)
    ticket = Ticket(ticket_id="R1", customer_id="c", desk="complaints", priority="normal", intent="complaint",
                    channel="x", conversation_key="x#1", first_contact_at=t0, last_customer_at=t0)
    assert ticket.ack_state() is None
    steps = [(h.AckQueued(t0), "queued"), (h.WaitingForRate(t0, "ack", "the channel's rate"), "waiting"),
             (h.Scheduled(t0, "ack", datetime.fromisoformat("2026-11-29T03:05:00+00:00")), "waiting"),
             (h.Sent(t0, "ack"), "sent"), (h.ReplyFailed(t0, "reply", "403"), "sent")]
    for event, state in steps:
        ticket.timeline.append(event)
        assert ticket.ack_state()[0] == state
    assert ticket.ack_state() == ("sent", t0.isoformat())
    for event, state in [(h.AckQueued(t0), "queued"), (h.ReplyFailed(t0, "reply", "403"), "queued"),
                         (h.ReplyUnconfirmed(t0, "ack"), "parked")]:
        ticket.timeline.append(event)  # a reopened case's acknowledgement
        assert ticket.ack_state()[0] == state
    ticket.timeline += [h.AckQueued(t0), h.AckExpired(t0)]
    assert ticket.ack_state()[0] == "expired"


def test_a_message_handed_over_twice_is_sent_once(mem, clock, platform):
    """A dispatcher that dies after queueing a message and before taking it out of the room (or two dispatchers
    at once): the next run hands it over again; the customer still gets one acknowledgement."""
    start = clock.now()
    while mem.allowance.take("x", start, 6).allowed:  # someone else spent the bucket: all three wait
        pass
    for n in range(3):
        process_mention(mem, tweet(n, COMPLAINT, start))
    waiting = mem.waiting.count("x")
    assert waiting == 3
    room = mem.stores.waiting

    def dies_before_the_take(channel, order):
        raise TimeoutError("the Lambda timed out")

    setattr(room, "take", dies_before_the_take)  # noqa: B010
    clock.advance(seconds=60 - clock.now().second)
    with pytest.raises(TimeoutError):
        dispatch(mem)
    delattr(room, "take")
    assert mem.waiting.count("x") == waiting  # nothing left the room
    run_outbox(mem, clock, minutes=5)
    texts = [m.text for _, m in platform.sent]
    assert len(texts) == 3 and len(set(texts)) == 3, texts  # three customers, one acknowledgement each
    assert mem.waiting.count("x") == 0 and dead_letters(mem) == []


def test_an_acknowledgement_sent_before_the_ticket_records_its_decision_reads_sent(mem, clock, platform):
    """Found by the reliability scenario: closing time queues a customer's acknowledgement, then its run fails
    before the ticket says so (the ack ledger's write throttled); the outbox sends the message meanwhile, and the
    schedule's next run records the decision after the send. The ticket must read sent, not queued for ever."""
    clock.set(utc(2026, 11, 30, 19, 59))  # Monday, just before the complaints desk closes
    ticket_id = process_mention(mem, tweet(1, COMPLAINT, clock.now())).ticket_id
    ledger, mark_queued = mem.stores.acks, mem.stores.acks.mark_queued

    def throttled(*args, **kwargs):
        raise TimeoutError("throttled")

    setattr(ledger, "mark_queued", throttled)  # noqa: B010
    clock.set(utc(2026, 11, 30, 20, 5))
    with pytest.raises(TimeoutError):
        closing_time(mem)  # the message is on the outbox queue; the ticket does not say so yet
    setattr(ledger, "mark_queued", mark_queued)  # noqa: B010
    assert run_outbox(mem, clock, minutes=1) == ["sent"]
    clock.set(utc(2026, 11, 30, 20, 10))
    assert closing_time(mem)["acknowledged"] == 1  # the schedule's next run: queued again, recorded this time
    assert run_outbox(mem, clock, minutes=1) == ["duplicate"]
    ticket = mem.tickets.get(ticket_id)
    assert len(platform.sent) == 1 and ticket.acked
    assert ticket.ack_state() is not None and ticket.ack_state()[0] == "sent", ticket.timeline
    report = acknowledgements(mem)
    assert (report["decided"], report["sent"], report["queued"]) == (1, 1, 0)


def test_a_redriven_acknowledgement_sent_without_a_result_stays_parked_when_it_waits_for_the_rate(mem, clock,
                                                                                                 platform):
    """Found by the reliability scenario: the redrive of an acknowledgement parked after a send without a result
    meets a full rate, waits for a slot, and its delivery then finds the key settled and sends nothing. It never goes
    again, so its ticket must still read parked, not waiting for ever."""
    platform.errors.append(SendError("read timeout", retryable=False, outcome_unknown=True))
    outcome = process_mention(mem, tweet(0, COMPLAINT, clock.now()))
    [parked] = dead_letters(mem)
    clock.advance(minutes=30)  # the runbook's redrive, long after, while the channel's rate is spent
    while mem.allowance.take("x", clock.now(), 6).allowed:
        pass
    body = {k: v for k, v in parked.items() if k != "error"}
    assert deliver_record(mem, Record("m1", "r1", json.dumps(body), 1)) == "waiting"
    clock.advance(seconds=60 - clock.now().second)
    assert run_outbox(mem, clock, minutes=3) == ["duplicate"]
    ticket = mem.tickets.get(outcome.ticket_id)
    assert platform.sent == [] and mem.waiting.count("x") == 0
    assert ticket.ack_state()[0] == "parked", ticket.timeline


def test_an_acknowledgement_settled_without_a_result_is_never_sent_by_a_redrive_when_the_ledger_failed(
        mem, clock, platform):
    """Found by the reliability scenario: an inline send ends without a result and the outbox ledger refuses the
    write that settles its key (throttled). Parking it anyway left a message that the runbook's redrive sent a
    second time, the outbox finding no lease and so never reading the ticket."""
    platform.errors.append(SendError("read timeout", retryable=False, outcome_unknown=True))
    ledger, acquire = mem.stores.outbox, mem.stores.outbox.acquire_lease
    calls = []

    def refused_once(*args, **kwargs):
        if not calls:
            calls.append(args)
            raise ConnectionError("PutItem throttled")
        return acquire(*args, **kwargs)

    setattr(ledger, "acquire_lease", refused_once)  # noqa: B010
    env = queued(tweet(0, COMPLAINT, clock.now()), received_at=clock.now())
    with pytest.raises(ConnectionError):  # the attempt fails: its inbound message comes back
        process_envelope(mem, env)
    clock.advance(minutes=11)  # once the ticket's sending lease has lapsed
    [outcome] = process_envelope(mem, env, attempt=2)
    setattr(ledger, "acquire_lease", acquire)  # noqa: B010
    clock.advance(minutes=30)  # the runbook's redrive of everything parked, long after
    for n, message in enumerate(dead_letters(mem)):
        body = {k: v for k, v in message.items() if k != "error"}
        deliver_record(mem, Record(f"m{n}", f"r{n}", json.dumps(body), 1))
    ticket = mem.tickets.get(outcome.ticket_id)
    assert platform.sent == [], "the acknowledgement went a second time"
    assert ticket.ack_state()[0] == "parked" and f"ack#{outcome.ticket_id}" in ticket.sent_keys


def test_one_failed_hand_over_holds_none_of_the_others_back(mem, clock, platform):
    """A throttled queue call for one waiting message: the dispatcher logs it, leaves it in its place and hands the
    others over in the same run; the next run sends it. Every customer gets one acknowledgement."""
    start = clock.now()
    while mem.allowance.take("x", start, 6).allowed:  # the bucket is spent: all five wait
        pass
    for n in range(5):
        process_mention(mem, tweet(n, COMPLAINT, start))
    assert mem.waiting.count("x") == 5
    send, calls = mem.queues.send_outbox, []

    def throttled_once(body, delay=0):
        calls.append(body)
        if len(calls) == 2:
            raise ConnectionError("SendMessage: ThrottlingException")
        return send(body, delay=delay)

    mem.queues.send_outbox = throttled_once
    clock.advance(seconds=60 - clock.now().second)
    outcome = dispatch(mem)["x"]
    del mem.queues.send_outbox
    assert outcome["failed"] == 1 and outcome["scheduled"] >= 2 and mem.waiting.count("x") >= 1
    run_outbox(mem, clock, minutes=5)
    texts = [m.text for _, m in platform.sent]
    assert len(texts) == 5 and len(set(texts)) == 5 and mem.waiting.count("x") == 0 and dead_letters(mem) == []
