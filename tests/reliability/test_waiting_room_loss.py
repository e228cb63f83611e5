"""Found by the reliability scenario's burst (faults and deaths on, the dispatcher run every minute): a waiting
acknowledgement the dispatcher has taken out of the waiting room is lost when the run fails after the take and
before the message is on the outbox queue or back in its place — the take's answer lost after the delete took
effect (a read timeout), or the Lambda dying (timeout, out of memory) between the two. The ticket then says
"waiting" for ever: neither sent, expired nor parked, and nothing is left anywhere to send it.

Reproduced on the in-memory twins (the same contract as DynamoDB). The dispatcher now takes a message out of the
room only after it is on the outbox queue (the outbox sends a key once, so a second hand-over costs a slot, never a
second send)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.domain.mention import Mention
from chalicelib.usecases.process import process_mention
from chalicelib.usecases.waiting import dispatch

COMPLAINT = "@MeridianRail my train was cancelled and there is no replacement bus, awful #{n}"


class AnswerLost(Exception):
    """The store did it; its answer never came (a read timeout after the call took effect)."""


def tweet(n: int, at: datetime) -> Mention:
    return Mention(channel="x", external_id=str(7000 + n), conversation_id=str(7000 + n), author_id=str(900 + n),
                   text=COMPLAINT.format(n=n), created_at=at, author_handle=f"user{n}", author_name=f"User {n}")


def test_a_dispatch_that_fails_after_taking_a_message_does_not_lose_it(mem: Any, clock: Any) -> None:
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 1})
    assert mem.allowance.take("x", clock.now(), 1).allowed  # the bucket is empty: the acknowledgement waits
    ticket_id = process_mention(mem, tweet(1, clock.now())).ticket_id
    assert mem.tickets.get(ticket_id).ack_state()[0] == "waiting" and mem.waiting.count("x") == 1
    room, take = mem.stores.waiting, mem.stores.waiting.take

    def take_then_lose_the_answer(channel: str, order: str) -> dict[str, Any] | None:
        take(channel, order)
        raise AnswerLost("read timeout after the delete took effect")

    setattr(room, "take", take_then_lose_the_answer)  # noqa: B010
    clock.set(datetime(2026, 11, 29, 3, 1, tzinfo=timezone.utc))
    with pytest.raises(AnswerLost):
        dispatch(mem)  # the schedule's run fails; the next one runs a minute later
    delattr(room, "take")
    clock.set(datetime(2026, 11, 29, 3, 2, tzinfo=timezone.utc))
    dispatch(mem)
    queued = mem.queues.take(mem.settings.outbox_queue)
    # the acknowledgement is still somewhere it will be sent from: in the room, or on the outbox queue
    assert mem.waiting.count("x") + len(queued) >= 1, (
        f"lost: the ticket says {mem.tickets.get(ticket_id).ack_state()}, the room and the outbox queue are empty")
