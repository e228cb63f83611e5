"""Outbound rates per channel, on the in-memory stores: each channel sends at its own rate (the brand file's, each
platform's documented limit by default), and ``OUTBOUND_PER_MINUTE``, when set, overrides every channel."""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.channels.base import SendResult
from chalicelib.configfile import parse_config
from chalicelib.domain.config import DEFAULT_OUTBOUND_PER_MINUTE
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.outbound import OutboxItem, ReplyTarget
from chalicelib.sqs_batch import RetryLater
from chalicelib.usecases.deliver import deliver
from tests.helpers import a_ticket

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


class Platform:
    """Every channel's platform: what was sent, per channel, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, message):
        self.sent.append((message.channel, message.idempotency_key))
        return SendResult(external_id=f"p{len(self.sent)}")

    def on(self, channel: str) -> list[str]:
        return [key for sent_on, key in self.sent if sent_on == channel]


@pytest.fixture
def platform(mem, clock):
    """The in-memory services without the stage's OUTBOUND_PER_MINUTE (the brand file decides), one ticket."""
    clock.set(T0)
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": None})
    mem.config = mem.config.model_copy(update={"spend": {}})
    mem.tickets.add(a_ticket("RABCDEFGH", T0))
    sender = Platform()
    mem.sender_factory = lambda channel: sender
    return sender


def item(channel: str, key: str) -> OutboxItem:
    return OutboxItem(idempotency_key=f"{channel}-{key}", kind="reply", ticket_id="RABCDEFGH",
                      target=ReplyTarget(channel=channel, recipient="42", in_reply_to="1"),
                      text=f"Thanks, we are on it. Ref RABCDEFGH ({key})", queued_at=T0)


def burst(mem, channel: str, n: int) -> None:
    """``n`` sends on ``channel`` at the same instant; those the rate refuses wait (however the outbox says so)."""
    for k in range(n):
        with contextlib.suppress(RetryLater):
            deliver(mem, item(channel, str(k)))


def test_without_the_override_every_channel_has_the_platforms_documented_rate(mem, platform):
    assert {channel: mem.rate_per_minute(channel) for channel in CHANNELS} == DEFAULT_OUTBOUND_PER_MINUTE


def test_a_send_on_a_channel_takes_its_own_rate_not_another_channels(mem, clock, platform):
    burst(mem, "mastodon", 3)  # 300 statuses per 3 hours: one a minute
    burst(mem, "x", 8)  # 100 posts per 15 minutes: six a minute
    burst(mem, "bluesky", 10)  # 11,666 posts a day: eight a minute
    assert platform.on("mastodon") == ["mastodon-0"]
    assert platform.on("x") == [f"x-{k}" for k in range(6)]
    assert platform.on("bluesky") == [f"bluesky-{k}" for k in range(8)]
    clock.set(T0 + timedelta(minutes=1))  # a minute on, one more token on Mastodon
    with contextlib.suppress(RetryLater):
        deliver(mem, item("mastodon", "1"))
    assert platform.on("mastodon") == ["mastodon-0", "mastodon-1"]


def test_the_brand_file_sets_a_channels_rate(mem, platform):
    text = Path(mem.settings.config_path).read_text(encoding="utf-8")
    mem.config = parse_config(text + "\noutbound:\n  per_minute: {mastodon: 3}\n", source="brand.yaml")
    assert mem.rate_per_minute("mastodon") == 3 and mem.rate_per_minute("x") == 6
    burst(mem, "mastodon", 5)
    assert platform.on("mastodon") == ["mastodon-0", "mastodon-1", "mastodon-2"]


def test_outbound_per_minute_in_the_environment_overrides_every_channel(mem, platform):
    mem.settings = mem.settings.model_copy(update={"outbound_per_minute": 2})
    assert {mem.rate_per_minute(channel) for channel in CHANNELS} == {2}
    burst(mem, "x", 4)
    burst(mem, "mastodon", 4)
    assert platform.on("x") == ["x-0", "x-1"] and platform.on("mastodon") == ["mastodon-0", "mastodon-1"]


def test_outbound_per_minute_is_unset_unless_the_environment_sets_it():
    from chalicelib.settings import Settings, SettingsError

    assert Settings.from_env({"STAGE": "test"}).outbound_per_minute is None
    assert Settings.from_env({"STAGE": "test", "OUTBOUND_PER_MINUTE": "1"}).outbound_per_minute == 1
    with pytest.raises(SettingsError, match="outbound_per_minute"):
        Settings.from_env({"STAGE": "test", "OUTBOUND_PER_MINUTE": "0"})
