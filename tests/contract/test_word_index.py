"""The word index's contract (store.ports.WordIndex), in memory and on DynamoDB (moto, the template's tables): the
same fixtures as every other store's contract (tests/contract/test_stores)."""
from __future__ import annotations

from datetime import timedelta

from bench.run import counting_aws_calls
from chalicelib.store.ports import WordHit
from tests.contract.test_stores import T0, dynamo_stores, stores, uid  # noqa: F401  # the fixtures, shared


def order(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_words_tickets_come_newest_first_bounded_and_say_when_they_are_all(stores):  # noqa: F811
    word, other = uid("refund"), uid("didcot")
    tickets = [uid("R") for _ in range(3)]
    for n, ticket_id in enumerate(tickets):
        stores.words.add(ticket_id, T0 + timedelta(minutes=n), f"x#{ticket_id}", [word, other] if n else [word])
    stores.words.add(tickets[1], T0 + timedelta(minutes=1), f"x#{tickets[1]}-2", [word])  # the same word again
    everything = stores.words.tickets(word, 10)
    assert everything.complete is True
    assert everything.hits == [WordHit(tickets[2], order(T0 + timedelta(minutes=2))),
                               WordHit(tickets[1], order(T0 + timedelta(minutes=1))),
                               WordHit(tickets[0], order(T0))]
    newest = stores.words.tickets(word, 2)
    assert [h.ticket_id for h in newest.hits] == tickets[:0:-1] and newest.complete is False
    assert stores.words.tickets(word, 3).complete is False  # as many as the limit: more may follow
    assert stores.words.tickets(uid("never"), 5).hits == [] and stores.words.tickets(uid("never"), 5).complete
    assert stores.words.having(other, everything.hits) == {tickets[1], tickets[2]}
    assert stores.words.having(other, []) == set()


def test_forget_deletes_exactly_the_words_written_for_the_ticket(stores):  # noqa: F811
    word, kept = uid("stranded"), uid("parkway")
    gone, stays = uid("R"), uid("R")
    stores.words.add(gone, T0, f"x#{gone}-1", [word, kept])
    stores.words.add(gone, T0, f"x#{gone}-2", [word, uid("kids")])
    stores.words.add(stays, T0 + timedelta(hours=1), f"x#{stays}", [word])
    assert stores.words.forget(gone) == 3  # stranded, parkway and kids, each written for it once
    assert [h.ticket_id for h in stores.words.tickets(word, 10).hits] == [stays]
    assert stores.words.tickets(kept, 10).hits == []
    assert stores.words.forget(gone) == 0
    stores.words.add(uid("R"), T0, uid("x#"), [])  # a message with no words writes nothing
    assert stores.words.forget(uid("R")) == 0


def test_a_messages_words_cost_one_batch_write(dynamo_stores):  # noqa: F811
    words = [uid("w") for _ in range(24)]
    calls: list = []
    with counting_aws_calls(record=calls):
        dynamo_stores.words.add(uid("R"), T0, uid("x#"), words)
    assert [(service, op) for service, op, _ in calls] == [("dynamodb", "BatchWriteItem")]
    calls.clear()
    with counting_aws_calls(record=calls):
        page = dynamo_stores.words.tickets(words[0], 100)
        dynamo_stores.words.having(words[1], page.hits)
    assert [op for _, op, _ in calls] == ["Query", "BatchGetItem"]
