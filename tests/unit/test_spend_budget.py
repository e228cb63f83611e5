"""The paid-API spend budget in the outbox, on the in-memory stores: held (not lost, not sent twice) once the day's
budget is reached, sent the next day, counted with one atomic add, refunded when nothing was sent."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.channels.base import SendError, SendResult
from chalicelib.domain.config import ChannelSpend
from chalicelib.domain.outbound import OutboxItem, ReplyTarget
from chalicelib.sqs_batch import RetryLater
from chalicelib.usecases import deliver as outbox
from chalicelib.usecases.deliver import REQUEUE_HELD_AFTER, deliver, spend_day
from tests.helpers import a_ticket

T0 = datetime(2026, 11, 29, 21, 0, tzinfo=timezone.utc)  # 21:00 in London


class Platform:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.fail: SendError | None = None

    def send(self, message):
        if self.fail is not None:
            raise self.fail
        self.sent.append(message.idempotency_key)
        return SendResult(external_id=f"p{len(self.sent)}")


@pytest.fixture
def platform(mem, clock):
    clock.set(T0)
    mem.tickets.add(a_ticket("RABCDEFGH", T0))
    sender = Platform()
    mem.sender_factory = lambda channel: sender
    # a budget of three plain posts a day on X
    mem.config = mem.config.model_copy(update={"spend": {"x": ChannelSpend(daily_usd=0.045)}})
    return sender


def item(key: str, text: str = "Thanks, we are on it. Ref RABCDEFGH", **changes) -> OutboxItem:
    return OutboxItem(idempotency_key=key, kind="reply", ticket_id="RABCDEFGH",
                      target=ReplyTarget(channel="x", recipient="42", in_reply_to="1"), text=text,
                      queued_at=T0, **changes)


def test_a_send_past_the_days_budget_is_held_until_the_next_day(mem, clock, platform):
    assert [deliver(mem, item(f"k{n}")) for n in range(3)] == ["sent"] * 3
    with pytest.raises(RetryLater) as held:
        deliver(mem, item("k3"))
    midnight = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)  # London is on UTC in November
    assert held.value.seconds == int((midnight - T0).total_seconds()) + 60
    assert platform.sent == ["k0", "k1", "k2"] and "k3" not in mem.tickets.get("RABCDEFGH").sent_keys
    assert mem.outbox.acquire_lease("k3", T0, outbox.LEASE) == "acquired"  # the hold released its lease
    mem.outbox.release_lease("k3")
    clock.set(midnight + timedelta(minutes=1))
    assert deliver(mem, item("k3")) == "sent"
    assert deliver(mem, item("k3")) == "duplicate"  # never twice
    assert platform.sent == ["k0", "k1", "k2", "k3"]
    assert mem.allowance.spent("x", "2026-11-30") == 15_000  # a new day's spend (the last one is over)


def test_a_hold_never_asks_sqs_for_more_than_its_12_hour_maximum(mem, clock, platform):
    early = datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)  # 23 hours before the next day in London
    clock.set(early)
    for n in range(3):
        deliver(mem, item(f"k{n}"))
    with pytest.raises(RetryLater) as held:
        deliver(mem, item("k3"))
    # SQS counts the 12 hours from the receipt, which may be up to 15 minutes (one attempt) earlier
    assert held.value.seconds == outbox.HOLD_STEP <= 43_200 - 900


def test_a_store_error_before_the_send_leaves_no_lease_and_no_charge(mem, platform):
    def unavailable(*args, **kwargs):
        raise RuntimeError("ProvisionedThroughputExceededException")

    mem.outbox.acquire_lease = unavailable
    with pytest.raises(RuntimeError):
        deliver(mem, item("k"))
    # nothing went out: nothing is left "unconfirmed", and the charge is given back
    assert platform.sent == [] and mem.outbox.leases == {} and mem.allowance.spent("x", "2026-11-29") == 0
    del mem.outbox.acquire_lease
    assert deliver(mem, item("k")) == "sent"  # the next attempt sends it, rather than parking it as unknown


def test_a_throttled_attempt_takes_no_lease_so_none_can_lapse(mem, platform):
    mem.config = mem.config.model_copy(update={"spend": {}})
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 1})
    assert deliver(mem, item("first")) == "sent"
    mem.outbox.release_lease = lambda key: None  # a release that fails (throttled) would leave a lease behind
    assert deliver(mem, item("second")) == "waiting"
    assert "second" not in mem.outbox.leases  # later attempts will send it, never park it as "outcome unknown"


def test_a_raised_budget_lets_a_held_message_go_at_its_next_try(mem, platform):
    for n in range(3):
        deliver(mem, item(f"k{n}"))
    with pytest.raises(RetryLater):
        deliver(mem, item("k3"))
    mem.config = mem.config.model_copy(update={"spend": {"x": ChannelSpend(daily_usd=1)}})
    assert deliver(mem, item("k3")) == "sent"


def test_a_post_with_a_link_costs_the_link_price(mem, platform):
    mem.config = mem.config.model_copy(update={"spend": {"x": ChannelSpend(daily_usd=0.25)}})
    assert deliver(mem, item("a", text="See https://example.test/s/abc")) == "sent"
    assert mem.allowance.spent("x", spend_day(mem, T0)[0]) == 200_000
    with pytest.raises(RetryLater):  # 0.20 + 0.20 > 0.25, while a plain post still fits
        deliver(mem, item("b", text="Status: example.com/s/abc"))
    assert deliver(mem, item("c")) == "sent"


def test_a_known_failure_gives_the_spend_back(mem, platform):
    platform.fail = SendError("rate limited", retryable=True)
    with pytest.raises(RetryLater):
        deliver(mem, item("k"))
    assert mem.allowance.spent("x", "2026-11-29") == 0 and platform.sent == []


def test_channels_without_a_budget_are_not_counted(mem, platform):
    facebook = OutboxItem(idempotency_key="f", kind="reply", ticket_id="R1",
                          target=ReplyTarget(channel="facebook", recipient="1"), text="hi", queued_at=T0)
    assert deliver(mem, facebook) == "sent" and mem.allowance.spent("facebook", "2026-11-29") == 0


def test_a_long_hold_is_queued_again_instead_of_reaching_the_dead_letter_queue(mem, platform):
    for n in range(3):
        deliver(mem, item(f"k{n}"))
    assert deliver(mem, item("k3"), attempt=REQUEUE_HELD_AFTER) == "held"
    requeued = mem.queues.take(mem.settings.outbox_queue)
    assert [m["idempotency_key"] for m in requeued] == ["k3"] and platform.sent == ["k0", "k1", "k2"]


def test_the_hold_is_counted_per_channel(mem, platform, capsys, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    for n in range(3):
        deliver(mem, item(f"k{n}"))
    capsys.readouterr()
    with pytest.raises(RetryLater):
        deliver(mem, item("k3"))
    lines = [line for line in capsys.readouterr().out.splitlines() if "SpendBudgetReached" in line]
    assert any('"channel":"x"' in line.replace(" ", "") for line in lines)


def test_a_budget_needs_a_price_where_there_is_no_default():
    from chalicelib.domain.config import BrandConfig

    with pytest.raises(ValueError, match="per_post_usd is required"):
        BrandConfig._spend({"facebook": ChannelSpend(daily_usd=5)})
    assert ChannelSpend(daily_usd=5).price_usd("x", with_url=True) == 0.20
    assert ChannelSpend(daily_usd=5, per_post_usd=0.01).price_usd("bluesky", with_url=True) == 0.01
