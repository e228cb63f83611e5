"""The keys that name a message, a conversation or a customer on a channel, as one typed value.

Stored and indexed as text (``x#1234``: a message, conversation or account by the platform's id; ``x@pat``: an
account by its handle), built and read only here: code holds a ``ChannelKey`` and asks it for its channel, never
splits the text.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChannelKey", "InvalidKey", "channel_of"]

_BY_ID, _BY_HANDLE = "#", "@"


class InvalidKey(ValueError):
    """Text that is no channel key (no channel, or no ``#``/``@`` after it)."""


@dataclass(frozen=True)
class ChannelKey:
    """``value`` on ``channel``: the platform's id of a message, conversation or account, or (``by_handle``) an
    account's handle."""

    channel: str
    value: str
    by_handle: bool = False

    def __str__(self) -> str:
        return f"{self.channel}{_BY_HANDLE if self.by_handle else _BY_ID}{self.value}"

    @classmethod
    def by_id(cls, channel: str, value: str) -> ChannelKey:
        return cls(channel, value)

    @classmethod
    def handle(cls, channel: str, handle: str) -> ChannelKey:
        return cls(channel, handle, by_handle=True)

    @classmethod
    def parse(cls, text: str) -> ChannelKey:
        """The key a stored text names: ``channel#id`` or ``channel@handle`` (whichever mark comes first, so a
        Mastodon handle ``mastodon@pat@mastodon.social`` and an e-mail id ``email#ada@example.org`` read right)."""
        at_id, at_handle = text.find(_BY_ID), text.find(_BY_HANDLE)
        marks = [at for at in (at_id, at_handle) if at > 0]
        if not marks:
            raise InvalidKey(f"{text!r} is not a channel key (channel#id or channel@handle)")
        at = min(marks)
        return cls(text[:at], text[at + 1:], by_handle=at == at_handle)


def channel_of(key: str) -> str:
    """The channel a stored key names (empty for text that is no key)."""
    try:
        return ChannelKey.parse(key).channel
    except InvalidKey:
        return ""
